//! The architecture signature weight files carry covers what a network
//! computes, not only its tensor shapes.

use constnet::{Network, network};

network! {
    struct Simple: [1, 28, 28] => conv(30, 5) -> relu -> pool(2) -> affine(100) -> relu -> affine(10) -> softmax
    struct TanhAvg: [1, 28, 28] => conv(30, 5) -> tanh -> avgpool(2) -> affine(100) -> relu -> affine(10) -> softmax
    struct Strided: [1, 28, 28] => conv(30, 5, pad = 2, stride = 2, round = floor) -> relu -> pool(2) -> affine(100) -> relu -> affine(10) -> softmax
    struct SameRounded: [1, 28, 28] => conv(30, 5, pad = same, stride = 2) -> relu -> pool(2) -> affine(100) -> relu -> affine(10) -> softmax
    struct Eps: [4] => affine(4) -> batchnorm(eps = 1e-3) -> affine(2), loss = mse
    struct EpsDefault: [4] => affine(4) -> batchnorm -> affine(2), loss = mse
    struct Leaky: [4] => affine(4) -> leaky_relu(alpha = 0.2) -> affine(2), loss = mse
    struct LeakyDefault: [4] => affine(4) -> leaky_relu -> affine(2), loss = mse
    struct Dropped: [1, 28, 28] => conv(30, 5) -> relu -> pool(2) -> dropout(0.5) -> affine(100, init = he_uniform) -> relu -> affine(10) -> softmax, init = xavier_uniform
    struct DroppedLess: [1, 28, 28] => conv(30, 5) -> relu -> pool(2) -> dropout(0.1) -> affine(100) -> relu -> affine(10) -> softmax
    struct Identity: [8] => residual(affine(8) -> relu -> affine(8)) -> affine(2), loss = mse
    struct Chain: [8] => affine(8) -> relu -> affine(8) -> affine(2), loss = mse
}

#[test]
fn layer_kinds_and_settings_change_the_signature() {
    let sig = |s: u64| s;
    assert_ne!(sig(Simple::<f32>::SIGNATURE), TanhAvg::<f32>::SIGNATURE);
    assert_ne!(
        sig(Strided::<f32>::SIGNATURE),
        SameRounded::<f32>::SIGNATURE
    );
    assert_ne!(sig(Eps::<f32>::SIGNATURE), EpsDefault::<f32>::SIGNATURE);
    assert_ne!(sig(Leaky::<f32>::SIGNATURE), LeakyDefault::<f32>::SIGNATURE);
    assert_ne!(sig(Identity::<f32>::SIGNATURE), Chain::<f32>::SIGNATURE);
}

#[test]
fn dropout_rate_and_initializers_keep_the_signature() {
    assert_eq!(Dropped::<f32>::SIGNATURE, DroppedLess::<f32>::SIGNATURE);
    assert_ne!(Dropped::<f32>::SIGNATURE, Simple::<f32>::SIGNATURE);
    assert_eq!(Dropped::<f64>::SIGNATURE, Dropped::<f32>::SIGNATURE);
}

#[test]
fn a_file_of_another_architecture_is_refused_in_both_formats() {
    use constnet::persist::{self, PersistError};
    // Same tensor names and shapes as SimpleConvNet, another function.
    let other = TanhAvg::<f32>::seeded(1);
    let mut net = Simple::<f32>::seeded(2);
    let before = net.params().to_vec();
    let bytes = persist::to_bytes(&other).unwrap();
    let err = persist::from_bytes(&mut net, &bytes).unwrap_err();
    assert!(
        matches!(err.root(), PersistError::SignatureMismatch { .. }),
        "{err}"
    );
    let tensors = persist::to_safetensors(&other).unwrap();
    let err = persist::from_safetensors(&mut net, &tensors).unwrap_err();
    assert!(
        matches!(err.root(), PersistError::SignatureMismatch { .. }),
        "{err}"
    );
    assert_eq!(net.params(), &before[..], "a refused file changes nothing");
    // The same network's files load.
    persist::from_bytes(
        &mut net,
        &persist::to_bytes(&Simple::<f32>::seeded(3)).unwrap(),
    )
    .unwrap();
}
