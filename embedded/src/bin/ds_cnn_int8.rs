//! MLPerf Tiny's DS-CNN in int8 on the 8 inputs of `ds_cnn`, quantized on
//! the host (`embedded_assets int8`: calibrated on those inputs, which it
//! also writes quantized).
//!
//! The int8 network (`assets/ds_cnn.q8`) is decoded and checked at compile
//! time; per input the firmware prints the twelve dequantized int8 logits
//! as `f32` bit patterns, compares them bit for bit with the host's and
//! prints `identical n/8`; any difference makes the QEMU session exit with
//! a failure.
//!
//! Run: `cargo run --release --bin ds_cnn_int8` in `embedded/`.

#![no_std]
#![no_main]

use constnet::Tensor;
use constnet::persist::int8;
use constnet::quant::QNet;
use constnet_embedded::classify::{self, Check, Sizes};
use constnet_embedded::inputs::f32s;
use constnet_embedded::nets::MLPERF_SAMPLES;
use constnet_embedded::nets::mlperf::DsCnn;
use cortex_m_rt::entry;

/// The int8 network, decoded and checked at compile time.
static NET: QNet<DsCnn> = int8::decode(include_bytes!("../../assets/ds_cnn.q8"));

/// Input length.
const N: usize = DsCnn::<f32>::INPUT_LEN;

/// The quantized test inputs, one after the other.
static INPUTS: [[i8; N]; MLPERF_SAMPLES] = {
    let bytes = include_bytes!("../../assets/ds_cnn.int8.inputs.i8");
    assert!(bytes.len() == MLPERF_SAMPLES * N, "ds_cnn.int8.inputs.i8: run `embedded_assets int8`");
    let mut out = [[0i8; N]; MLPERF_SAMPLES];
    let mut i = 0;
    while i < MLPERF_SAMPLES * N {
        out[i / N][i % N] = bytes[i] as i8;
        i += 1;
    }
    out
};

/// The host's dequantized int8 logits for the inputs, one after the other.
static EXPECTED: [f32; MLPERF_SAMPLES * 12] =
    f32s(include_bytes!("../../assets/ds_cnn.int8.expected.f32"));

#[entry]
fn main() -> ! {
    classify::run(
        &INPUTS,
        Check::Bits(<[f32; 12] as Tensor>::batch_of(&EXPECTED)),
        |x| NET.dequantize(&NET.predict_int8(x)),
        const { Sizes::int8::<DsCnn>() },
    )
}
