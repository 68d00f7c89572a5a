//! MLPerf Tiny's DS-CNN (keyword spotting, 23,756 parameters, 2.66 M MACs)
//! on 8 inputs of 49 × 10 MFCC-shaped features.
//!
//! The weights and inputs are those of the PyTorch fixture
//! (`tests/fixtures/pytorch/ds_cnn*.safetensors`: PyTorch's initialization
//! with calibrated batch-norm statistics, standard normal inputs; not
//! trained), which `embedded_assets mlperf` converts; it also writes the
//! logits the host's portable build computes for them. Weights, inputs and
//! those logits are `static`s in flash, the arena is on the stack. Per input
//! it prints the twelve logits as `f32` bit patterns, compares them bit for bit
//! with the host's and prints `identical n/8`; any difference makes the
//! QEMU session exit with a failure.
//!
//! Run: `cargo run --release --bin ds_cnn` in `embedded/`; `footprint.sh`
//! adds `-icount` for exact instruction counts.

#![no_std]
#![no_main]

use constnet::{Inline, Network, Tensor};
use constnet_embedded::classify::{self, Check, Sizes};
use constnet_embedded::inputs::f32s;
use constnet_embedded::nets::MLPERF_SAMPLES;
use constnet_embedded::nets::mlperf::DsCnn;
use cortex_m_rt::entry;

type Net = DsCnn<f32, Inline>;

/// The weights, decoded, signature- and checksum-checked at compile time.
static NET: Net = Net::from_le_bytes(include_bytes!("../../assets/ds_cnn.cnet"));

/// The test inputs, one after the other.
static INPUTS: [f32; MLPERF_SAMPLES * Net::INPUT_LEN] =
    f32s(include_bytes!("../../assets/ds_cnn.inputs.f32"));

/// The logits of the host's portable build for the inputs, one after the other.
static EXPECTED: [f32; MLPERF_SAMPLES * Net::OUTPUT_LEN] =
    f32s(include_bytes!("../../assets/ds_cnn.expected.f32"));

#[entry]
fn main() -> ! {
    // The arena lives in this frame; `logits_in` rejects a smaller one at
    // compile time.
    let mut arena = [0.0f32; Net::ARENA_LEN];
    classify::run(
        <<Net as Network>::Input as Tensor>::batch_of(&INPUTS),
        Check::Bits(<<Net as Network>::Output as Tensor>::batch_of(&EXPECTED)),
        |x| NET.logits_in(x, &mut arena),
        const { Sizes::of::<Net>() },
    )
}
