//! Inference demo: the trained `Digits` CNN classifies 100 MNIST test images.
//!
//! Weights and images are `static`s in flash; the only RAM is the stack,
//! whose largest item is the arena of `Digits::ARENA_BYTES`. Per image it
//! prints the line of `constnet_embedded::report` (true label, arg-max and
//! the ten softmax outputs as `f32` bit patterns), then the accuracy, then
//! `#` lines with measurements. The host tool prints the same lines, so
//! `diff` checks that the outputs are bit-identical.
//!
//! Run: `cargo run --release --bin infer` in `embedded/`; `footprint.sh`
//! adds `-icount` for exact instruction counts.

#![no_std]
#![no_main]

use constnet::Inline;
use constnet_embedded::classify::{self, Check, Sizes};
use constnet_embedded::mnist::{IMAGES, LABELS};
use constnet_embedded::nets::Digits;
use cortex_m_rt::entry;

type Net = Digits<f32, Inline>;

/// The trained weights, decoded at compile time: a file written for any
/// other architecture fails the build here.
static NET: Net = Net::from_le_bytes(include_bytes!("../../assets/digits.cnet"));

#[entry]
fn main() -> ! {
    // The arena lives in this frame; `logits_in` rejects a smaller one at
    // compile time.
    let mut arena = [0.0f32; Net::ARENA_LEN];
    classify::run(
        &IMAGES,
        Check::Labels(&LABELS),
        |x| NET.logits_in(x, &mut arena),
        const { Sizes::of::<Net>() },
    )
}
