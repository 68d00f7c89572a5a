//! Backward of every layer and loss against central differences in f64.
//!
//! Inputs are uniform in [-1, 1) and parameters He/Xavier-initialized from
//! fixed seeds; with these seeds no ReLU pre-activation lies within `h` of
//! zero and no max-pool window has a tie, so the function is smooth where it
//! is probed.

use constnet::network;

use crate::common::{assert_gradients, inputs, labels};

network! {
    struct Mlp: [6] => affine(5) -> relu -> affine(4) -> softmax
    struct SoftTargets: [4] => affine(3) -> tanh -> affine(3) -> softmax
    struct StridedPadded: [2, 7, 7] => conv(3, 3, stride = 2, pad = 1) -> relu -> affine(4) -> softmax
    struct NonSquare: [1, 6, 5] => conv(2, (3, 2)) -> tanh -> conv(2, (2, 3), pad = (1, 0)) -> affine(3) -> softmax
    struct FusedPool: [1, 8, 8] => conv(2, 3) -> relu -> pool(2) -> conv(3, 2) -> sigmoid -> affine(3) -> softmax
    struct StridedPool: [2, 7, 7] => conv(2, 3) -> pool(3, stride = 2) -> elu -> affine(3) -> softmax
    struct AvgPool: [2, 6, 6] => conv(3, 3) -> leaky_relu(alpha = 0.1) -> avgpool(2) -> affine(3) -> softmax
    struct BatchNormNet: [2, 5, 5] => conv(3, 2) -> batchnorm -> relu -> flatten -> affine(4) -> batchnorm(momentum = 0.5) -> tanh -> affine(3) -> softmax
    struct DropoutNet: [6] => affine(8) -> relu -> dropout(0.5) -> affine(3) -> softmax
    struct PreluNet: [1, 5, 5] => conv(2, 2) -> prelu -> affine(4) -> prelu -> affine(3) -> softmax
    struct Activations: [5] => affine(4) -> elu(alpha = 0.7) -> affine(4) -> leaky_relu -> affine(4) -> sigmoid -> affine(3) -> tanh -> affine(2) -> identity -> affine(3) -> softmax
    struct Bce: [4] => affine(3) -> relu -> affine(2) -> sigmoid
    struct Regression: [3] => affine(4) -> tanh -> affine(2), loss = mse
    struct SoftmaxMse: [3] => affine(3) -> softmax, loss = mse
    struct Relu6Net: [4] => affine(6) -> relu6 -> affine(4) -> prelu -> relu6 -> affine(3) -> softmax
    struct DepthwiseSeparable: [2, 6, 6] => dwconv(3, pad = same) -> relu -> conv(4, 1) -> relu -> flatten -> affine(3) -> softmax
    struct GroupedDilated: [4, 7, 7] => conv(6, 3, groups = 2, dilation = 2, pad = 2) -> tanh -> global_avgpool -> affine(3) -> softmax
    struct FloorSameNoBias: [2, 8, 8] => conv(3, 3, stride = 2, pad = 1, round = floor, bias = false) -> batchnorm -> relu -> conv(2, 2, stride = 2, pad = same) -> elu -> flatten -> affine(3, bias = false) -> softmax
    struct PaddedPools: [2, 7, 8] => conv(3, 1) -> pool(3, stride = 2, pad = same) -> avgpool(3, stride = 2, pad = 1, round = floor) -> flatten -> affine(3) -> softmax
    struct GlobalMax: [3, 5, 5] => conv(4, 3) -> global_maxpool -> affine(3) -> softmax
    struct OneDimensional: [2, 20] => conv1d(4, 5, stride = 2, pad = same) -> relu -> pool1d(2) -> conv1d(3, 3, pad = 1) -> gelu -> avgpool1d(2, round = floor) -> global_avgpool -> affine(3) -> softmax
    struct InputActivations: [4] => affine(5) -> silu -> affine(5) -> gelu -> affine(5) -> hard_swish -> affine(4) -> hard_sigmoid -> affine(3) -> softmax
    struct Residual: [2, 6, 6] => conv(3, 3, pad = 1) -> relu
        -> residual(conv(3, 3, pad = 1) -> batchnorm -> relu -> conv(3, 3, pad = 1)) -> relu
        -> residual(conv(4, 3, stride = 2, pad = 1, round = floor) -> tanh, shortcut = conv(4, 1, stride = 2, round = floor))
        -> flatten -> affine(3) -> softmax
    struct NestedResidual: [3, 5, 5] => residual(conv(3, 3, pad = 1) -> tanh)
        -> residual(conv(3, 1) -> residual(conv(3, 3, pad = same) -> sigmoid), shortcut = conv(3, 1))
        -> flatten -> affine(2) -> softmax
    struct FlatResidual: [6] => residual(affine(6) -> tanh -> affine(6)) -> relu -> affine(3) -> softmax
    struct Preprocessed: [2, 4, 4] => conv(2, 3) -> tanh -> normalize -> rescale(0.5, offset = 0.25) -> affine(3) -> softmax
    struct Standalone: [2, 4, 4] => pool(2) -> relu -> flatten -> affine(3) -> sigmoid -> affine(2) -> softmax
}

#[test]
fn affine_relu_softmax_cross_entropy() {
    let mut net = Mlp::<f64>::seeded(1);
    assert_gradients(&mut net, &inputs(5, 2), &labels(5, 4, 3));
}

#[test]
fn softmax_cross_entropy_with_soft_targets() {
    let mut net = SoftTargets::<f64>::seeded(4);
    let targets = [[0.2, 0.5, 0.3], [1.0, 0.0, 0.0], [0.1, 0.1, 0.8]];
    assert_gradients(&mut net, &inputs(3, 5), &targets);
}

#[test]
fn conv_with_stride_two_and_padding() {
    let mut net = StridedPadded::<f64>::seeded(6);
    assert_gradients(&mut net, &inputs(3, 7), &labels(3, 4, 8));
}

#[test]
fn conv_with_non_square_kernels_and_input_gradient() {
    let mut net = NonSquare::<f64>::seeded(9);
    assert_gradients(&mut net, &inputs(3, 10), &labels(3, 3, 11));
}

#[test]
fn conv_relu_max_pool_fused() {
    let mut net = FusedPool::<f64>::seeded(12);
    assert_gradients(&mut net, &inputs(3, 13), &labels(3, 3, 14));
}

#[test]
fn max_pool_with_stride_and_standalone_elu() {
    let mut net = StridedPool::<f64>::seeded(15);
    assert_gradients(&mut net, &inputs(3, 16), &labels(3, 3, 17));
}

#[test]
fn average_pool_and_leaky_relu() {
    let mut net = AvgPool::<f64>::seeded(18);
    assert_gradients(&mut net, &inputs(3, 19), &labels(3, 3, 20));
}

#[test]
fn batch_norm_in_training_mode() {
    let mut net = BatchNormNet::<f64>::seeded(21);
    assert_gradients(&mut net, &inputs(4, 22), &labels(4, 3, 23));
}

#[test]
fn normalize_and_rescale_scale_the_gradient() {
    let mut net = Preprocessed::<f64>::seeded(40);
    net.set_tensor("normalize1.mean", &[0.3, -0.2]).unwrap();
    net.set_tensor("normalize1.std", &[0.5, 2.0]).unwrap();
    assert_gradients(&mut net, &inputs(4, 41), &labels(4, 3, 42));
}

#[test]
fn dropout_with_a_fixed_mask() {
    let mut net = DropoutNet::<f64>::seeded(24);
    assert_gradients(&mut net, &inputs(4, 25), &labels(4, 3, 26));
}

#[test]
fn prelu_per_channel_and_per_feature() {
    let mut net = PreluNet::<f64>::seeded(27);
    // Push some slopes away from 0.25 so their gradient matters.
    net.set_tensor("prelu2.weight", &[0.1, -0.2, 0.3, 0.05])
        .unwrap();
    assert_gradients(&mut net, &inputs(3, 28), &labels(3, 3, 29));
}

#[test]
fn every_folded_activation() {
    let mut net = Activations::<f64>::seeded(30);
    assert_gradients(&mut net, &inputs(4, 31), &labels(4, 3, 32));
}

#[test]
fn sigmoid_binary_cross_entropy() {
    let mut net = Bce::<f64>::seeded(33);
    let targets = [[1.0, 0.0], [0.0, 1.0], [0.3, 0.9]];
    assert_gradients(&mut net, &inputs(3, 34), &targets);
}

#[test]
fn mean_squared_error() {
    let mut net = Regression::<f64>::seeded(35);
    let targets = [[0.5, -1.0], [2.0, 0.0], [-0.3, 0.7]];
    assert_gradients(&mut net, &inputs(3, 36), &targets);
}

#[test]
fn softmax_backward_under_mse() {
    let mut net = SoftmaxMse::<f64>::seeded(37);
    let targets = [[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]];
    assert_gradients(&mut net, &inputs(2, 38), &targets);
}

#[test]
fn the_check_flags_inexact_derivatives() {
    // Negative control: with a step of 0.1 the differences cross ReLU kinks
    // and curvature dominates, so the same check must report a large error.
    use constnet::train::gradcheck::{self, Options};
    let mut net = Mlp::<f64>::seeded(1);
    let coarse = Options {
        h: 0.1,
        ..Options::default()
    };
    let reports = gradcheck::check(
        &mut net,
        &inputs::<[f64; 6]>(5, 2),
        &labels(5, 4, 3),
        coarse,
    );
    assert!(gradcheck::worst(&reports) > 1e-3, "{reports:?}");
}

#[test]
fn parameter_free_first_steps() {
    let mut net = Standalone::<f64>::seeded(39);
    assert_gradients(&mut net, &inputs(3, 40), &labels(3, 2, 41));
}

#[test]
fn relu6_folded_and_standalone_with_both_kinks_in_range() {
    let mut net = Relu6Net::<f64>::seeded(42);
    // Scaled inputs drive some pre-activations of the folded relu6 past 6
    // and others below 0, so both clamps are exercised; none lies within
    // 1e-3 of a kink, where central differences would straddle it.
    let xs: Vec<[f64; 4]> = inputs::<[f64; 4]>(4, 43)
        .iter()
        .map(|x| x.map(|v| v * 8.0))
        .collect();
    let (w, b) = (
        net.tensor("affine1.weight").unwrap().to_vec(),
        net.tensor("affine1.bias").unwrap().to_vec(),
    );
    let pre: Vec<f64> = xs
        .iter()
        .flat_map(|x| (0..6).map(|o| b[o] + (0..4).map(|i| w[o * 4 + i] * x[i]).sum::<f64>()))
        .collect();
    assert!(pre.iter().any(|&z| z > 6.0) && pre.iter().any(|&z| z < 0.0));
    assert!(pre.iter().any(|&z| z > 0.0 && z < 6.0));
    assert!(
        pre.iter()
            .all(|&z| z.abs() > 1e-3 && (z - 6.0).abs() > 1e-3)
    );
    assert_gradients(&mut net, &xs, &labels(4, 3, 44));
}

#[test]
fn depthwise_separable() {
    let mut net = DepthwiseSeparable::<f64>::seeded(45);
    // Where ReLU zeroes every channel, a zero bias would put the pointwise
    // convolution's pre-activation exactly on ReLU's kink.
    net.set_tensor("conv2.bias", &[0.1, -0.2, 0.05, 0.3])
        .unwrap();
    assert_gradients(&mut net, &inputs(3, 46), &labels(3, 3, 47));
}

#[test]
fn grouped_dilated_and_global_average() {
    let mut net = GroupedDilated::<f64>::seeded(48);
    assert_gradients(&mut net, &inputs(3, 49), &labels(3, 3, 50));
}

#[test]
fn floor_rounding_same_padding_and_no_bias() {
    let mut net = FloorSameNoBias::<f64>::seeded(51);
    assert_gradients(&mut net, &inputs(4, 52), &labels(4, 3, 53));
}

#[test]
fn padded_max_and_average_pools() {
    let mut net = PaddedPools::<f64>::seeded(54);
    assert_gradients(&mut net, &inputs(3, 55), &labels(3, 3, 56));
}

#[test]
fn global_max_pool() {
    let mut net = GlobalMax::<f64>::seeded(57);
    assert_gradients(&mut net, &inputs(3, 58), &labels(3, 3, 59));
}

#[test]
fn one_dimensional_convolution_and_pools() {
    let mut net = OneDimensional::<f64>::seeded(60);
    assert_gradients(&mut net, &inputs(3, 61), &labels(3, 3, 62));
}

#[test]
fn activations_that_need_their_input() {
    let mut net = InputActivations::<f64>::seeded(63);
    assert_gradients(&mut net, &inputs(4, 64), &labels(4, 3, 65));
}

#[test]
fn residual_blocks_with_identity_and_convolution_shortcuts() {
    let mut net = Residual::<f64>::seeded(66);
    assert_gradients(&mut net, &inputs(3, 67), &labels(3, 3, 68));
}

#[test]
fn nested_residual_blocks_reading_the_network_input() {
    let mut net = NestedResidual::<f64>::seeded(69);
    assert_gradients(&mut net, &inputs(3, 70), &labels(3, 2, 71));
}

#[test]
fn residual_block_over_a_vector() {
    let mut net = FlatResidual::<f64>::seeded(72);
    assert_gradients(&mut net, &inputs(3, 73), &labels(3, 3, 74));
}
