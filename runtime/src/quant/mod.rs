//! int8 inference with the same integers as TensorFlow Lite.
//!
//! A network `network!` declared has an int8 form, [`QNet<Net>`](QNet),
//! when all its layers have int8 kernels: the macro lays out its int8
//! [`program`] and implements [`Quantizable`]; [`quantize`] calibrates and
//! quantizes a trained network, [`import`] takes parameters TFLite chose,
//! `persist::int8` reads and writes them (at compile time for statics).
//! One interpreter (`run.rs`) runs every program with the kernels below;
//! it is generic over the network, so code holds only the kernels the
//! network's program calls.
//!
//! Each kernel computes what TFLite's *reference* kernel for the operator
//! computes (`tensorflow/lite/kernels/internal/reference/integer_ops/`),
//! so a model quantized by TFLite's converter gives bit-identical int8
//! outputs here; `tests.rs` checks that against outputs TFLite itself
//! wrote (`scripts/tflite_int8_ops.py`, fixtures in
//! `tests/fixtures/tflite/`).
//!
//! The scheme is TFLite's int8 one: activations are asymmetric
//! (`real = scale · (q − zero_point)`), weights symmetric per output
//! channel (zero point 0), biases int32 at scale `input_scale ·
//! weight_scale`. A layer with weights accumulates `w · (x − zero_point)`
//! in int32, adds the bias, and [`requantize::Requantize`] scales the sum
//! to the output through a Q31 multiplier and shift per channel, computed
//! from the float32 scales in `f64` exactly as TFLite's `Prepare` computes
//! them ([`fixed::quantize_multiplier`]), adds the output zero point and
//! clamps to the fused activation's range.
//!
//! What matches TFLite and how:
//! - [`fixed`]: `QuantizeMultiplier` (frexp, round half away from zero,
//!   tiny multipliers flushed), gemmlowp's `SaturatingRoundingDoublingHighMul`
//!   and `RoundingDivideByPOT`, and the reference
//!   `MultiplyByQuantizedMultiplier` with its two roundings. TensorFlow's
//!   own builds use this double-rounding form, not the single-rounding
//!   one some microcontroller builds select (`TFLITE_SINGLE_ROUNDING`).
//! - [`fully_connected`]: `FullyConnected` (int8, per-channel or, with one
//!   scale repeated, per-tensor weights). TensorFlow's reference kernel
//!   for it requantizes in `f64` with one rounding
//!   ([`requantize::RequantizeF64`], computed in integers by
//!   `exact_f64.rs` to the same bits, so no soft float is linked on a
//!   microcontroller), TFLite Micro's with the Q31 stage; the kernel takes
//!   either.
//! - [`conv2d`]: `ConvPerChannel` and `DepthwiseConvPerChannel`, as one
//!   grouped convolution in constnet's channels-first layout (the integers
//!   summed are the same; only the memory order differs from TFLite's NHWC).
//! - [`columns`] and [`depthwise`]: the same convolutions on a Cortex-M4
//!   or M7 (`cfg(constnet_dsp)`, which the interpreter picks them for),
//!   through im2col columns and padded planes with the DSP extension's
//!   dual multiply-accumulate: the same integers.
//! - [`pool`]: `MaxPool` and `AveragePool`, whose average rounds half away
//!   from zero over the cells inside the input.
//! - [`add`]: `Add` for int8: both inputs shifted left by 20 bits, brought
//!   to twice the larger input scale, summed and rescaled.
//!
//! Where TFLite's int32 arithmetic could overflow (undefined in C++, never
//! reached with calibrated scales), these kernels wrap, as TFLite's
//! compiled code does. Dilation, broadcasting adds and other activations
//! than ReLU and ReLU6 are not here yet.

pub mod add;
#[cfg(feature = "std")]
pub mod calibrate;
pub mod columns;
pub mod conv2d;
pub mod depthwise;
mod dot;
pub(crate) mod exact_f64;
pub mod fixed;
pub mod fully_connected;
#[cfg(feature = "std")]
pub mod import;
pub mod net;
pub mod pool;
pub mod program;
pub mod requantize;
mod rows;
mod run;

#[cfg(feature = "std")]
pub use calibrate::{Method, QuantizeError, quantize};
pub use net::{QNet, Quantizable};

#[cfg(all(test, feature = "serde"))]
mod tests;

/// Reproducible draws for the int8 kernels' tests (xorshift32: tests need
/// the same values on every run, not statistical quality).
#[cfg(test)]
fn xorshift(mut seed: u32) -> impl FnMut() -> u32 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    }
}
