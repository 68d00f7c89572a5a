//! Declarations as users write them: attributes pass through once, and a
//! network may take any name, including those of the generated type's own
//! generic parameters and of prelude types.

#[deny(unused_attributes)]
mod attributes {
    constnet::network! {
        /// Passes its attributes through exactly once.
        #[must_use]
        #[deprecated(note = "declared deprecated to check the attribute appears once")]
        pub struct Old: [2] => affine(1)
    }

    #[test]
    #[expect(deprecated, reason = "the network is deprecated on purpose")]
    fn attributes_that_may_appear_once_pass_through_once() {
        let net = Old::<f32>::seeded(1);
        assert!(net.predict(&[1.0, 2.0])[0].is_finite());
    }
}

/// `#[derive(Debug, Clone)]` names what every network implements: accepted,
/// not derived a second time; `Debug` is a summary, not the parameters.
mod derives {
    use constnet::Network;

    constnet::network! {
        #[derive(Debug, Clone)]
        pub struct Tiny: [4] => affine(3) -> relu -> affine(2) -> softmax
    }

    #[test]
    fn derive_debug_and_clone_are_accepted_and_debug_summarizes() {
        let net = Tiny::<f32>::seeded(1);
        let copy = net.clone();
        assert_eq!(copy.params(), net.params());
        assert_eq!(format!("{net:?}"), "Tiny { params: 23, .. }");
    }

    #[test]
    fn predict_class_and_top_k_read_the_prediction() {
        let net = Tiny::<f32>::seeded(3);
        for x in [[1.0, -2.0, 0.5, 3.0], [0.0; 4], [-4.0, 1.0, 1.0, 2.0]] {
            let p = net.predict(&x);
            let argmax = if p[1] > p[0] { 1 } else { 0 };
            assert_eq!(net.predict_class(&x), argmax);
            let top = net.top_k::<2>(&x);
            assert_eq!(top[0], (argmax, p[argmax]));
            assert_eq!(top[1], (1 - argmax, p[1 - argmax]));
        }
        assert_eq!(
            net.predict_class(&[f32::NAN; 4]),
            0,
            "NaN wins, first first"
        );
    }
}

/// Each network's name shadows a type the generated code could have used.
mod names {
    constnet::network! {
        pub struct E: [2] => affine(3) -> relu -> affine(2) -> softmax
        pub struct S: [2] => affine(2), loss = mse
        pub struct Scalar: [2] => affine(2) -> sigmoid
        pub struct Storage: [1, 4, 4] => conv(2, 3) -> relu -> pool(2) -> affine(2), loss = mse
        pub struct Vec: [2] => affine(4) -> batchnorm -> dropout(0.5) -> affine(1)
        pub struct Box: [2] => prelu -> affine(2) -> softmax
        pub struct Option: [2] => affine(2) -> tanh
        pub struct Result: [2] => affine(2) -> elu
    }

    fn finite<const N: usize>(y: [f32; N]) -> bool {
        y.iter().all(|v| v.is_finite())
    }

    #[test]
    fn networks_named_like_generated_or_prelude_types_compile_and_predict() {
        let x = [0.5f32, -1.0];
        assert!(finite(E::<f32>::seeded(1).predict(&x)));
        assert!(finite(S::<f32>::seeded(1).predict(&x)));
        assert!(finite(Scalar::<f32>::seeded(1).predict(&x)));
        assert!(finite(
            Storage::<f32>::seeded(1).predict(&[[[0.5f32; 4]; 4]])
        ));
        assert!(finite(Vec::<f32>::seeded(1).predict(&x)));
        assert!(finite(Box::<f32>::seeded(1).predict(&x)));
        assert!(finite(Option::<f32>::seeded(1).predict(&x)));
        assert!(finite(Result::<f32>::seeded(1).predict(&x)));
        assert_eq!(E::<f64>::PARAM_COUNT, 3 * 2 + 3 + 2 * 3 + 2);
    }
}

/// `init = pytorch` reproduces `nn.Linear` and `nn.Conv2d`: weights and
/// biases uniform in ±1/√fan_in, per network or per layer.
mod pytorch_init {
    use constnet::network::params::tensor;

    constnet::network! {
        pub struct Torch: [1, 6, 6] =>
            conv(4, 3, init = pytorch) -> relu -> affine(10) -> relu -> affine(3), init = pytorch, loss = mse
        pub struct Mixed: [64] => affine(32, init = pytorch) -> relu -> affine(10), loss = mse
    }

    #[track_caller]
    fn uniform_within(values: &[f32], fan_in: usize) {
        let a = 1.0 / (fan_in as f32).sqrt();
        assert!(values.iter().all(|v| v.abs() <= a), "a value exceeds {a}");
        let max = values.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(max > 0.5 * a, "values hug zero: largest {max} of bound {a}");
    }

    #[test]
    fn pytorch_init_draws_weights_and_biases_in_one_over_root_fan_in() {
        let net = Torch::<f32>::seeded(3);
        for (name, fan_in) in [
            ("conv1.weight", 9),
            ("conv1.bias", 9),
            ("affine1.weight", 64),
            ("affine1.bias", 64),
            ("affine2.weight", 10),
            ("affine2.bias", 10),
        ] {
            uniform_within(tensor(&net, name).unwrap(), fan_in);
        }
        let mixed = Mixed::<f32>::seeded(3);
        uniform_within(tensor(&mixed, "affine1.bias").unwrap(), 64);
        assert!(
            tensor(&mixed, "affine2.bias")
                .unwrap()
                .iter()
                .all(|v| *v == 0.0)
        );
    }
}
