//! Shapes the macro infers, seen through the public API: the associated
//! consts, `Network::LAYERS` and `TENSORS`, `summary()`, and `predict` on a
//! seeded instance. Each network exercises one feature of the DSL.
//!
//! `deny(warnings)` makes this file the check that generated code is
//! warning-free under a user's strictest setting.
#![deny(warnings)]

use constnet::{Network, Role, network};

network! {
    /// The classic network of the acceptance criteria.
    pub struct SimpleConvNet: [1, 28, 28] =>
        conv(30, 5) -> relu -> pool(2) -> affine(100) -> relu -> affine(10) -> softmax
}

network! {
    /// Stride 2 with padding: `(28 + 2*1 - 4) / 2 + 1 = 14`.
    struct Strided: [1, 28, 28] => conv(8, 4, stride = 2, pad = 1) -> relu -> pool(2) -> affine(10) -> softmax
}

network! {
    /// Non-square input, kernels, stride, padding and pool window.
    struct NonSquare: [1, 10, 6] =>
        conv(3, (3, 1)) -> tanh
        -> conv(2, (2, 3), stride = (2, 1), pad = (0, 1)) -> avgpool((2, 3)) -> flatten -> affine(2), loss = mse
}

network! {
    /// Three input channels and three convolution blocks, the last average-pooled.
    struct Rgb: [3, 32, 32] =>
        conv(16, 3, pad = 1) -> relu -> pool(2)
        -> conv(32, 3, pad = 1) -> relu -> pool(2)
        -> conv(64, 3) -> relu -> avgpool(2)
        -> flatten -> affine(10) -> softmax
}

network! {
    /// Batch norm after an image and after a vector, dropout in between.
    struct NormDrop: [1, 8, 8] =>
        conv(4, 3) -> batchnorm -> relu -> dropout(0.25) -> flatten
        -> affine(8) -> batchnorm(momentum = 0.5, eps = 1e-3) -> affine(2) -> softmax
}

// Parameter-free networks: their outputs are known exactly.
network! {
    struct MaxPool: [1, 4, 4] => pool(2) -> flatten
    struct AvgPool: [1, 4, 4] => avgpool(2) -> flatten
    struct StridedPool: [1, 5, 5] => pool(3, stride = 2) -> flatten
    struct Inference: [3] => batchnorm(eps = 0.25) -> dropout(0.5)
    struct View: [2, 2, 2] => flatten -> identity
}

network! {
    struct Prelu: [3] => affine(2) -> prelu
    struct ImagePrelu: [2, 3, 3] => prelu -> flatten -> affine(1)
}

network! {
    /// The `dense` and `linear` aliases, in `f64`.
    struct Aliases: [4] => dense(3) -> tanh -> linear(2), loss = mse
}

network! {
    struct Flat: [2, 3, 3] => flatten -> affine(4), loss = mse
}

/// Several networks in one invocation, with attributes and restricted
/// visibility, used from outside their module.
mod zoo {
    constnet::network! {
        /// A one-unit logistic regression.
        pub(crate) struct Tiny: [2] => affine(1) -> sigmoid;
        #[doc = "Attributes other than doc comments pass through too."]
        #[repr(align(64))]
        pub(crate) struct Aligned: [2] => affine(16) -> relu -> affine(2) -> softmax
        pub(crate) struct Deep: [2] =>
            affine(4) -> elu -> affine(4) -> leaky_relu(alpha = 0.2) -> affine(1), loss = mse
    }
}

// `#[cfg]` on one network removes all its items, impls included; the name
// is then free for another item.
network! {
    #[cfg(any())]
    struct ConfiguredAway: [2] => affine(1)
    #[cfg(all())]
    struct ConfiguredIn: [2] => affine(1)
}

struct ConfiguredAway;

/// `(name, text, output, params)` of every layer.
fn layers<N: Network>() -> Vec<(&'static str, &'static str, &'static [usize], usize)> {
    N::LAYERS
        .iter()
        .map(|l| (l.name, l.text, l.output, l.params))
        .collect()
}

/// `(name, shape, offset, len)` of every tensor.
fn tensors<N: Network>() -> Vec<(&'static str, &'static [usize], usize, usize)> {
    N::TENSORS
        .iter()
        .map(|t| (t.name, t.shape, t.offset, t.len))
        .collect()
}

/// Checks the consts that every network must keep consistent with its
/// layers and tensors.
fn assert_consistent<N: Network>() {
    let last = N::LAYERS.last().expect("a network has a layer");
    assert_eq!(
        N::OUTPUT_LEN,
        last.output.iter().product::<usize>(),
        "{}",
        N::NAME
    );
    assert_eq!(
        N::INPUT_LEN,
        N::INPUT_SHAPE.iter().product::<usize>(),
        "{}",
        N::NAME
    );
    let trainable: usize = N::LAYERS.iter().map(|l| l.params).sum();
    assert_eq!(N::PARAM_COUNT, trainable, "{}", N::NAME);
    let mut offset = 0;
    for t in N::TENSORS {
        assert_eq!(t.offset, offset, "{}: {} is not packed", N::NAME, t.name);
        assert_eq!(
            t.len,
            t.shape.iter().product::<usize>(),
            "{}: {}",
            N::NAME,
            t.name
        );
        offset += t.len;
    }
    assert_eq!(N::STORE_LEN, offset, "{}", N::NAME);
}

fn assert_probabilities(y: &[f32]) {
    assert!(y.iter().all(|p| p.is_finite() && *p >= 0.0), "{y:?}");
    let sum: f32 = y.iter().sum();
    assert!((sum - 1.0).abs() < 1e-5, "{y:?} sums to {sum}");
}

/// Collapses the summary's column padding, so lines compare as text.
fn summary_lines(table: &str) -> Vec<String> {
    table
        .lines()
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect()
}

#[test]
fn simple_conv_net_summary_and_layers() {
    let net = SimpleConvNet::<f32>::seeded(0);
    let lines = summary_lines(&net.summary().to_string());
    for expected in [
        "input | [1, 28, 28]",
        "conv1 (conv(30, 5)) | [30, 24, 24] | 780",
        "relu | [30, 24, 24] | 0",
        "pool(2) | [30, 12, 12] | 0",
        "affine1 (affine(100)) | [100] | 432,100",
        "affine2 (affine(10)) | [10] | 1,010",
        "softmax | [10] | 0",
        "Total params: 433,890",
        "Trainable params: 433,890",
        "Non-trainable params: 0",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "no line {expected:?} in\n{lines:#?}"
        );
    }
    assert_eq!(
        layers::<SimpleConvNet>(),
        [
            ("conv1", "conv(30, 5)", &[30, 24, 24][..], 780),
            ("relu", "relu", &[30, 24, 24][..], 0),
            ("pool(2)", "pool(2)", &[30, 12, 12][..], 0),
            ("affine1", "affine(100)", &[100][..], 432_100),
            ("relu", "relu", &[100][..], 0),
            ("affine2", "affine(10)", &[10][..], 1_010),
            ("softmax", "softmax", &[10][..], 0),
        ]
    );
    assert_eq!(
        tensors::<SimpleConvNet>(),
        [
            ("conv1.weight", &[30, 1, 5, 5][..], 0, 750),
            ("conv1.bias", &[30][..], 750, 30),
            ("affine1.weight", &[100, 4320][..], 780, 432_000),
            ("affine1.bias", &[100][..], 432_780, 100),
            ("affine2.weight", &[10, 100][..], 432_880, 1_000),
            ("affine2.bias", &[10][..], 433_880, 10),
        ]
    );
    assert_eq!(SimpleConvNet::<f32>::INPUT_SHAPE, [1, 28, 28]);
    assert_eq!(<SimpleConvNet as Network>::INPUT_SHAPE, [1, 28, 28]);
    assert_eq!(SimpleConvNet::<f32>::INPUT_LEN, 784);
    assert_eq!(SimpleConvNet::<f32>::OUTPUT_LEN, 10);
    assert_eq!(SimpleConvNet::<f32>::PARAM_COUNT, 433_890);
    assert_eq!(SimpleConvNet::<f32>::STORE_LEN, 433_890);
    // conv1 with its pool folded in writes [30, 12, 12]; affine1 writes [100].
    assert_eq!(SimpleConvNet::<f32>::ARENA_LEN, 4_320 + 100);
    assert_consistent::<SimpleConvNet>();
    assert_probabilities(&net.predict(&[[[0.5; 28]; 28]; 1]));
}

#[test]
fn stride_and_padding() {
    assert_eq!(
        layers::<Strided>(),
        [
            (
                "conv1",
                "conv(8, 4, stride = 2, pad = 1)",
                &[8, 14, 14][..],
                8 * 16 + 8
            ),
            ("relu", "relu", &[8, 14, 14][..], 0),
            ("pool(2)", "pool(2)", &[8, 7, 7][..], 0),
            ("affine1", "affine(10)", &[10][..], 392 * 10 + 10),
            ("softmax", "softmax", &[10][..], 0),
        ]
    );
    assert_eq!(Strided::<f32>::PARAM_COUNT, 136 + 3_930);
    assert_consistent::<Strided>();
    let x: [[[f32; 28]; 28]; 1] = [core::array::from_fn(|i| {
        core::array::from_fn(|j| ((i * 28 + j) % 7) as f32 / 7.0)
    })];
    assert_probabilities(&Strided::<f32>::seeded(1).predict(&x));
}

#[test]
fn non_square_kernels_strides_padding_and_inputs() {
    assert_eq!(NonSquare::<f32>::INPUT_SHAPE, [1, 10, 6]);
    assert_eq!(
        layers::<NonSquare>(),
        [
            ("conv1", "conv(3, (3, 1))", &[3, 8, 6][..], 3 * 3 + 3),
            ("tanh", "tanh", &[3, 8, 6][..], 0),
            (
                "conv2",
                "conv(2, (2, 3), stride = (2, 1), pad = (0, 1))",
                &[2, 4, 6][..],
                2 * 3 * 2 * 3 + 2
            ),
            ("avgpool((2, 3))", "avgpool((2, 3))", &[2, 2, 2][..], 0),
            ("flatten", "flatten", &[8][..], 0),
            ("affine1", "affine(2)", &[2][..], 8 * 2 + 2),
        ]
    );
    assert_eq!(
        tensors::<NonSquare>(),
        [
            ("conv1.weight", &[3, 1, 3, 1][..], 0, 9),
            ("conv1.bias", &[3][..], 9, 3),
            ("conv2.weight", &[2, 3, 2, 3][..], 12, 36),
            ("conv2.bias", &[2][..], 48, 2),
            ("affine1.weight", &[2, 8][..], 50, 16),
            ("affine1.bias", &[2][..], 66, 2),
        ]
    );
    assert_consistent::<NonSquare>();
    let y = NonSquare::<f32>::seeded(2).predict(&[[[0.25; 6]; 10]; 1]);
    assert!(y.iter().all(|v| v.is_finite()), "{y:?}");
}

#[test]
fn multi_channel_input_and_several_conv_blocks() {
    assert_eq!(Rgb::<f32>::INPUT_SHAPE, [3, 32, 32]);
    assert_eq!(Rgb::<f32>::INPUT_LEN, 3 * 32 * 32);
    let outputs: Vec<&[usize]> = <Rgb>::LAYERS.iter().map(|l| l.output).collect();
    assert_eq!(
        outputs,
        [
            &[16, 32, 32][..],
            &[16, 32, 32],
            &[16, 16, 16],
            &[32, 16, 16],
            &[32, 16, 16],
            &[32, 8, 8],
            &[64, 6, 6],
            &[64, 6, 6],
            &[64, 3, 3],
            &[576],
            &[10],
            &[10],
        ]
    );
    let params: Vec<(&str, usize)> = <Rgb>::LAYERS
        .iter()
        .filter(|l| l.params > 0)
        .map(|l| (l.name, l.params))
        .collect();
    assert_eq!(
        params,
        [
            ("conv1", 16 * 27 + 16),
            ("conv2", 32 * 16 * 9 + 32),
            ("conv3", 64 * 32 * 9 + 64),
            ("affine1", 5_770)
        ]
    );
    assert_eq!(Rgb::<f32>::PARAM_COUNT, 29_354);
    assert_eq!(<Rgb>::TENSORS[4].shape, [64, 32, 3, 3]);
    assert_consistent::<Rgb>();
    let x: [[[f32; 32]; 32]; 3] = core::array::from_fn(|c| {
        core::array::from_fn(|i| core::array::from_fn(|j| ((c + i * j) % 5) as f32 * 0.2))
    });
    assert_probabilities(&Rgb::<f32>::seeded(3).predict(&x));
}

#[test]
fn batchnorm_and_dropout() {
    assert_eq!(
        layers::<NormDrop>(),
        [
            ("conv1", "conv(4, 3)", &[4, 6, 6][..], 40),
            ("batchnorm1", "batchnorm", &[4, 6, 6][..], 8),
            ("relu", "relu", &[4, 6, 6][..], 0),
            ("dropout(0.25)", "dropout(0.25)", &[4, 6, 6][..], 0),
            ("flatten", "flatten", &[144][..], 0),
            ("affine1", "affine(8)", &[8][..], 1_160),
            (
                "batchnorm2",
                "batchnorm(momentum = 0.5, eps = 1e-3)",
                &[8][..],
                16
            ),
            ("affine2", "affine(2)", &[2][..], 18),
            ("softmax", "softmax", &[2][..], 0),
        ]
    );
    assert_eq!(
        tensors::<NormDrop>(),
        [
            ("conv1.weight", &[4, 1, 3, 3][..], 0, 36),
            ("conv1.bias", &[4][..], 36, 4),
            ("batchnorm1.weight", &[4][..], 40, 4),
            ("batchnorm1.bias", &[4][..], 44, 4),
            ("batchnorm1.running_mean", &[4][..], 48, 4),
            ("batchnorm1.running_var", &[4][..], 52, 4),
            ("affine1.weight", &[8, 144][..], 56, 1_152),
            ("affine1.bias", &[8][..], 1_208, 8),
            ("batchnorm2.weight", &[8][..], 1_216, 8),
            ("batchnorm2.bias", &[8][..], 1_224, 8),
            ("batchnorm2.running_mean", &[8][..], 1_232, 8),
            ("batchnorm2.running_var", &[8][..], 1_240, 8),
            ("affine2.weight", &[2, 8][..], 1_248, 16),
            ("affine2.bias", &[2][..], 1_264, 2),
        ]
    );
    let roles: Vec<Role> = <NormDrop>::TENSORS[2..6].iter().map(|t| t.role).collect();
    assert_eq!(
        roles,
        [
            Role::Scale,
            Role::Shift,
            Role::RunningMean,
            Role::RunningVar
        ]
    );
    // Running statistics are stored but not trained.
    assert_eq!(NormDrop::<f32>::PARAM_COUNT, 1_242);
    assert_eq!(NormDrop::<f32>::STORE_LEN, 1_242 + 8 + 16);
    let lines = summary_lines(&NormDrop::<f32>::zeroed().summary().to_string());
    assert!(
        lines.iter().any(|l| l == "Non-trainable params: 24"),
        "{lines:#?}"
    );
    assert_consistent::<NormDrop>();
    assert_probabilities(&NormDrop::<f32>::seeded(4).predict(&[[[0.5; 8]; 8]; 1]));
}

#[test]
fn inference_mode_batchnorm_and_dropout_are_exact() {
    // Fresh running statistics (mean 0, variance 1), γ = 1 and β = 0:
    // batch norm divides by sqrt(1 + eps); dropout passes values through.
    let net = Inference::<f64>::seeded(0);
    let y = net.predict(&[1.0, -2.0, 0.5]);
    let scale = 1.0 / 1.25f64.sqrt();
    for (got, want) in y.iter().zip([1.0 * scale, -2.0 * scale, 0.5 * scale]) {
        assert!((got - want).abs() < 1e-12, "{y:?}");
    }
    assert_eq!(Inference::<f64>::PARAM_COUNT, 6);
    assert_eq!(Inference::<f64>::STORE_LEN, 12);
    assert_consistent::<Inference>();
}

#[test]
fn parameter_free_pools_are_exact() {
    let ramp16: [[[f32; 4]; 4]; 1] = [core::array::from_fn(|i| {
        core::array::from_fn(|j| (i * 4 + j) as f32)
    })];
    assert_eq!(MaxPool::<f32>::PARAM_COUNT, 0);
    assert_eq!(MaxPool::<f32>::STORE_LEN, 0);
    assert_eq!(
        MaxPool::<f32>::zeroed().predict(&ramp16),
        [5.0, 7.0, 13.0, 15.0]
    );
    assert_eq!(
        AvgPool::<f32>::zeroed().predict(&ramp16),
        [2.5, 4.5, 10.5, 12.5]
    );
    assert_eq!(<AvgPool>::LAYERS[0].output, [1, 2, 2]);

    // 3×3 windows every 2: (5 - 3) / 2 + 1 = 2 per axis, overlapping.
    let ramp25: [[[f32; 5]; 5]; 1] = [core::array::from_fn(|i| {
        core::array::from_fn(|j| (i * 5 + j) as f32)
    })];
    assert_eq!(<StridedPool>::LAYERS[0].output, [1, 2, 2]);
    assert_eq!(
        StridedPool::<f32>::zeroed().predict(&ramp25),
        [12.0, 14.0, 22.0, 24.0]
    );
    // Views need no arena and copy the input straight to the output.
    assert_eq!(View::<f32>::ARENA_LEN, 0);
    assert_eq!(<View>::LAYERS[1].output, [8]);
    let cube = [[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]];
    assert_eq!(
        View::<f32>::zeroed().predict(&cube),
        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    );
    assert_consistent::<View>();
    assert_consistent::<MaxPool>();
    assert_consistent::<AvgPool>();
    assert_consistent::<StridedPool>();
}

#[test]
fn prelu_has_a_slope_per_feature_or_channel() {
    assert_eq!(tensors::<Prelu>()[2], ("prelu1.weight", &[2][..], 8, 2));
    assert_eq!(<Prelu>::TENSORS[2].role, Role::Slope);
    assert_eq!(Prelu::<f32>::PARAM_COUNT, 10);
    let mut net = Prelu::<f32>::seeded(5);
    net.set_tensor("affine1.weight", &[1.0, 0.0, 0.0, 0.0, -1.0, 0.0])
        .unwrap();
    net.set_tensor("affine1.bias", &[0.0, 0.0]).unwrap();
    // Slopes start at 0.25: [2, -4] becomes [2, -1].
    assert_eq!(net.predict(&[2.0, 4.0, 9.0]), [2.0, -1.0]);

    assert_eq!(
        tensors::<ImagePrelu>()[0],
        ("prelu1.weight", &[2][..], 0, 2)
    );
    assert_eq!(<ImagePrelu>::LAYERS[1].output, [18]);
    assert_consistent::<Prelu>();
    assert_consistent::<ImagePrelu>();
    assert!(ImagePrelu::<f32>::seeded(6).predict(&[[[-0.5; 3]; 3]; 2])[0].is_finite());
}

#[test]
fn aliases_in_f64() {
    assert_eq!(
        layers::<Aliases>(),
        [
            ("affine1", "dense(3)", &[3][..], 15),
            ("tanh", "tanh", &[3][..], 0),
            ("affine2", "linear(2)", &[2][..], 8),
        ]
    );
    let mut net = Aliases::<f64>::zeroed();
    net.set_tensor(
        "affine1.weight",
        &[1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0],
    )
    .unwrap();
    net.set_tensor("affine1.bias", &[0.0, 0.0, 0.5]).unwrap();
    net.set_tensor("affine2.weight", &[1.0, 1.0, 0.0, 0.0, 0.0, 2.0])
        .unwrap();
    net.set_tensor("affine2.bias", &[0.0, -1.0]).unwrap();
    let x = [0.3, -0.2, 0.1, 0.2];
    let h = [0.3f64.tanh(), (-0.2f64).tanh(), (0.1f64 + 0.2 + 0.5).tanh()];
    let y: [f64; 2] = net.predict(&x);
    assert!((y[0] - (h[0] + h[1])).abs() < 1e-12, "{y:?}");
    assert!((y[1] - (2.0 * h[2] - 1.0)).abs() < 1e-12, "{y:?}");
    assert_consistent::<Aliases>();
}

#[test]
fn flatten_feeds_an_affine_in_channel_height_width_order() {
    assert_eq!(
        layers::<Flat>(),
        [
            ("flatten", "flatten", &[18][..], 0),
            ("affine1", "affine(4)", &[4][..], 76)
        ]
    );
    assert_eq!(<Flat>::TENSORS[0].shape, [4, 18]);
    let mut net = Flat::<f32>::zeroed();
    // Row k picks flat input element 4k; elements are numbered channel,
    // then height, then width, so the values equal their flat index.
    let mut w = [0.0f32; 72];
    for k in 0..4 {
        w[k * 18 + k * 4] = 1.0;
    }
    net.set_tensor("affine1.weight", &w).unwrap();
    let x: [[[f32; 3]; 3]; 2] = core::array::from_fn(|c| {
        core::array::from_fn(|i| core::array::from_fn(|j| (c * 9 + i * 3 + j) as f32))
    });
    assert_eq!(net.predict(&x), [0.0, 4.0, 8.0, 12.0]);
    assert_consistent::<Flat>();
}

#[test]
fn one_invocation_declares_several_networks_with_attributes_and_visibility() {
    use zoo::{Aligned, Deep, Tiny};
    assert_eq!(<Tiny>::NAME, "Tiny");
    assert_eq!(<Aligned>::NAME, "Aligned");
    assert_eq!(<Deep>::NAME, "Deep");
    assert_eq!(core::mem::align_of::<Aligned<f32>>(), 64);
    assert_eq!(Tiny::<f32>::PARAM_COUNT, 3);
    assert_eq!(Aligned::<f32>::PARAM_COUNT, 2 * 16 + 16 + 16 * 2 + 2);
    assert_eq!(Deep::<f32>::PARAM_COUNT, 12 + 20 + 5);
    assert_eq!(<Deep>::LAYERS[3].text, "leaky_relu(alpha = 0.2)");
    assert_consistent::<Tiny>();
    assert_consistent::<Aligned>();
    assert_consistent::<Deep>();
    let p = Tiny::<f32>::seeded(7).predict(&[0.5, -0.5])[0];
    assert!(p > 0.0 && p < 1.0);
    assert_probabilities(&Aligned::<f32>::seeded(8).predict(&[0.5, -0.5]));
    assert!(Deep::<f32>::seeded(9).predict(&[0.5, -0.5])[0].is_finite());
}

#[test]
fn cfg_attributes_apply_to_every_generated_item() {
    let _unit: ConfiguredAway = ConfiguredAway;
    assert_eq!(ConfiguredIn::<f32>::PARAM_COUNT, 3);
    assert_consistent::<ConfiguredIn>();
}
