//! Forward passes of generated networks against hand-computed values.

use constnet::network;

network! {
    /// The classic 3-layer example network.
    struct ThreeLayer: [2] => affine(3) -> sigmoid -> affine(2) -> sigmoid -> affine(2) -> identity
}

network! {
    pub struct SimpleConvNet: [1, 28, 28] =>
        conv(30, 5) -> relu -> pool(2) -> affine(100) -> relu -> affine(10) -> softmax
}

#[test]
fn three_layer_example_reproduces() {
    let mut net = ThreeLayer::<f64>::zeroed();
    // The classic example writes W as [in, out]; constnet stores [out, in].
    net.set_tensor("affine1.weight", &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
        .unwrap();
    net.set_tensor("affine1.bias", &[0.1, 0.2, 0.3]).unwrap();
    net.set_tensor("affine2.weight", &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
        .unwrap();
    net.set_tensor("affine2.bias", &[0.1, 0.2]).unwrap();
    net.set_tensor("affine3.weight", &[0.1, 0.2, 0.3, 0.4])
        .unwrap();
    net.set_tensor("affine3.bias", &[0.1, 0.2]).unwrap();
    let y = net.predict(&[1.0, 0.5]);
    assert!((y[0] - 0.316_827_08).abs() < 1e-6, "{y:?}");
    assert!((y[1] - 0.696_279_09).abs() < 1e-6, "{y:?}");
}

#[test]
fn simple_conv_net_summary() {
    let net = SimpleConvNet::<f32>::seeded(0);
    let s = net.summary().to_string();
    println!("{s}");
    assert_eq!(SimpleConvNet::<f32>::PARAM_COUNT, 433_890);
    let x = [[[0.5f32; 28]; 28]; 1];
    let y = net.predict(&x);
    let sum: f32 = y.iter().sum();
    assert!((sum - 1.0).abs() < 1e-5);
}

#[test]
fn batch_predictions_match_single_ones() {
    let net = SimpleConvNet::<f64>::seeded(5);
    let xs: Vec<[[[f64; 28]; 28]; 1]> = (0..300)
        .map(|i| {
            let mut x = [[[0.0; 28]; 28]; 1];
            for (k, v) in x[0].as_flattened_mut().iter_mut().enumerate() {
                *v = ((i * 31 + k * 7) % 97) as f64 / 97.0;
            }
            x
        })
        .collect();
    let mut ys = vec![[0.0; 10]; xs.len()];
    net.predict_batch(&xs, &mut ys);
    for (x, y) in xs.iter().zip(&ys) {
        let single = net.predict(x);
        for (a, b) in y.iter().zip(&single) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }
}

#[test]
fn logits_are_the_inputs_of_the_final_softmax() {
    let net = SimpleConvNet::<f64>::seeded(9);
    let x = [[[0.3; 28]; 28]; 1];
    let (z, y) = (net.logits(&x), net.predict(&x));
    let sum: f64 = z.iter().map(|v| v.exp()).sum();
    for (zk, yk) in z.iter().zip(&y) {
        assert!((zk.exp() / sum - yk).abs() < 1e-12);
    }
}

network! {
    struct Mlp: [784] => affine(100) -> relu -> affine(10) -> softmax
}

#[test]
fn predictions_split_across_a_team_are_bit_identical() {
    let cnn = SimpleConvNet::<f32>::seeded(3);
    let mlp = Mlp::<f32>::seeded(4);
    let mut image = [[[0.0f32; 28]; 28]; 1];
    for (k, v) in image[0].as_flattened_mut().iter_mut().enumerate() {
        *v = ((k * 37) % 101) as f32 / 101.0 - 0.4;
    }
    let flat: [f32; 784] = *image[0].as_flattened().first_chunk().unwrap();
    let (c1, m1) = (cnn.predict(&image), mlp.predict(&flat));
    for threads in [2, 3] {
        let team = constnet::threads::team(threads).unwrap();
        let (c2, m2) = team.install(|| (cnn.predict(&image), mlp.predict(&flat)));
        assert_eq!(
            c1.map(f32::to_bits),
            c2.map(f32::to_bits),
            "{threads} threads"
        );
        assert_eq!(
            m1.map(f32::to_bits),
            m2.map(f32::to_bits),
            "{threads} threads"
        );
    }
}
