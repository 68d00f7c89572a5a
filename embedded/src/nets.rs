//! The networks of the demos, declared once.
//!
//! The firmware compiles this file as its `nets` module and the host tool
//! (`examples/embedded_assets.rs` at the repository root) includes the same
//! file with `#[path]`, so both sides run the very same generated code. A
//! parameter file written for any other declaration fails the firmware build
//! (`from_le_bytes` checks `Network::SIGNATURE` at compile time).

constnet::network! {
    /// The inference demo: a 5,994-parameter MNIST CNN (plus the 2
    /// statistics of its `normalize`: 23,984 bytes of f32) that takes raw
    /// pixel values, 0 to 255: the standardization fitted on the training
    /// set is part of the network and of its parameter file.
    pub struct Digits: [1, 28, 28] => normalize -> conv(8, 5) -> relu -> pool(2)
        -> conv(16, 5) -> relu -> pool(2) -> affine(10) -> softmax

    /// The seed's SimpleConvNet: 433,890 parameters (1.74 MB of f32), for the
    /// footprint numbers of a network that only fits the 4 MiB memory map.
    pub struct SimpleConvNet: [1, 28, 28] => conv(30, 5) -> relu -> pool(2)
        -> affine(100) -> relu -> affine(10) -> softmax

    /// The on-device training demo: XOR with one hidden layer of four.
    pub struct Xor: [2] => affine(4) -> tanh -> affine(1) -> sigmoid
}

/// MLPerf Tiny's reference networks (`DsCnn`, `ResNet8`, …), declared once
/// for the `mlperf_tiny` example, the PyTorch tests and the firmware.
#[path = "../../examples/mlperf_tiny/models.rs"]
pub mod mlperf;

/// Inputs of the MLPerf Tiny demos: the PyTorch fixtures' samples.
pub const MLPERF_SAMPLES: usize = 8;

/// Test images in the inference demos.
pub const TEST_IMAGES: usize = 100;

/// One MNIST image as the networks take it: `[channels, height, width]`.
pub type Image = [[[f32; 28]; 28]; 1];

/// XOR's four inputs.
pub const XOR_X: [[f32; 2]; 4] = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
/// XOR's four targets.
pub const XOR_T: [[f32; 1]; 4] = [[0.0], [1.0], [1.0], [0.0]];
