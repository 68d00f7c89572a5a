//! MLPerf Tiny's four reference networks, as `network!` declares them.
//!
//! Shared by the `mlperf_tiny` and `bench_peers` examples and the facade's
//! integration tests (`#[path]`), so all check the very same declarations.

constnet::network! {
    /// DS-CNN for keyword spotting: 49 MFCC frames of 10 coefficients, a
    /// strided convolution, four depthwise-separable blocks, 12 keywords.
    /// 23,756 trainable parameters.
    pub struct DsCnn: [1, 49, 10] =>
        conv(64, (10, 4), stride = 2, pad = same) -> batchnorm -> relu -> dropout(0.2)
        -> dwconv(3, pad = same) -> batchnorm -> relu -> conv(64, 1) -> batchnorm -> relu
        -> dwconv(3, pad = same) -> batchnorm -> relu -> conv(64, 1) -> batchnorm -> relu
        -> dwconv(3, pad = same) -> batchnorm -> relu -> conv(64, 1) -> batchnorm -> relu
        -> dwconv(3, pad = same) -> batchnorm -> relu -> conv(64, 1) -> batchnorm -> relu
        -> dropout(0.4) -> global_avgpool -> affine(12) -> softmax

    /// ResNet-8 for CIFAR-10: three residual stacks of 16, 32 and 64
    /// filters, downsampling with PyTorch's floor rounding. 78,186
    /// trainable parameters.
    pub struct ResNet8: [3, 32, 32] =>
        conv(16, 3, pad = 1) -> batchnorm -> relu
        -> residual(conv(16, 3, pad = 1) -> batchnorm -> relu -> conv(16, 3, pad = 1) -> batchnorm)
        -> relu
        -> residual(
            conv(32, 3, stride = 2, pad = 1, round = floor) -> batchnorm -> relu
                -> conv(32, 3, pad = 1) -> batchnorm,
            shortcut = conv(32, 1, stride = 2, round = floor))
        -> relu
        -> residual(
            conv(64, 3, stride = 2, pad = 1, round = floor) -> batchnorm -> relu
                -> conv(64, 3, pad = 1) -> batchnorm,
            shortcut = conv(64, 1, stride = 2, round = floor))
        -> relu
        -> global_avgpool -> affine(10) -> softmax

    /// MobileNetV1 at width 0.25 for visual wake words: 13
    /// depthwise-separable blocks, convolutions without bias, each followed
    /// by batch norm. 213,586 trainable parameters.
    pub struct MobileNetV1: [3, 96, 96] =>
        conv(8, 3, stride = 2, pad = 1, round = floor, bias = false) -> batchnorm -> relu
        -> dwconv(3, pad = 1, bias = false) -> batchnorm -> relu -> conv(16, 1, bias = false) -> batchnorm -> relu
        -> dwconv(3, stride = 2, pad = 1, round = floor, bias = false) -> batchnorm -> relu
            -> conv(32, 1, bias = false) -> batchnorm -> relu
        -> dwconv(3, pad = 1, bias = false) -> batchnorm -> relu -> conv(32, 1, bias = false) -> batchnorm -> relu
        -> dwconv(3, stride = 2, pad = 1, round = floor, bias = false) -> batchnorm -> relu
            -> conv(64, 1, bias = false) -> batchnorm -> relu
        -> dwconv(3, pad = 1, bias = false) -> batchnorm -> relu -> conv(64, 1, bias = false) -> batchnorm -> relu
        -> dwconv(3, stride = 2, pad = 1, round = floor, bias = false) -> batchnorm -> relu
            -> conv(128, 1, bias = false) -> batchnorm -> relu
        -> dwconv(3, pad = 1, bias = false) -> batchnorm -> relu -> conv(128, 1, bias = false) -> batchnorm -> relu
        -> dwconv(3, pad = 1, bias = false) -> batchnorm -> relu -> conv(128, 1, bias = false) -> batchnorm -> relu
        -> dwconv(3, pad = 1, bias = false) -> batchnorm -> relu -> conv(128, 1, bias = false) -> batchnorm -> relu
        -> dwconv(3, pad = 1, bias = false) -> batchnorm -> relu -> conv(128, 1, bias = false) -> batchnorm -> relu
        -> dwconv(3, pad = 1, bias = false) -> batchnorm -> relu -> conv(128, 1, bias = false) -> batchnorm -> relu
        -> dwconv(3, stride = 2, pad = 1, round = floor, bias = false) -> batchnorm -> relu
            -> conv(256, 1, bias = false) -> batchnorm -> relu
        -> dwconv(3, pad = 1, bias = false) -> batchnorm -> relu -> conv(256, 1, bias = false) -> batchnorm -> relu
        -> global_avgpool -> affine(2) -> softmax

    /// The dense autoencoder for anomaly detection on machine sounds: 640
    /// features squeezed to 8 and back, trained to reproduce its input.
    /// 267,928 trainable parameters.
    pub struct AutoEncoder: [640] =>
        affine(128) -> batchnorm -> relu -> affine(128) -> batchnorm -> relu
        -> affine(128) -> batchnorm -> relu -> affine(128) -> batchnorm -> relu
        -> affine(8) -> batchnorm -> relu
        -> affine(128) -> batchnorm -> relu -> affine(128) -> batchnorm -> relu
        -> affine(128) -> batchnorm -> relu -> affine(128) -> batchnorm -> relu
        -> affine(640), loss = mse
}
