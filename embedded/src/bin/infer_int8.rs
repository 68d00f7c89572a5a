//! The int8 inference demo: the trained `Digits` CNN, quantized with
//! TensorFlow Lite's integer arithmetic, classifies the 100 MNIST test
//! images of `infer`.
//!
//! The int8 network is a `static` decoded at compile time from
//! `assets/digits.q8` (`embedded_assets int8`): a file quantized for any
//! other network fails the build. Each `f32` image is standardized and
//! quantized at the door, runs in int8 in an arena of
//! `QNet::<Digits>::ARENA_BYTES` on the stack, and its int8 logits are
//! dequantized for the line of `constnet_embedded::report`, which the host
//! tool prints too (`outputs digits-int8`), so `diff` checks that the
//! outputs are bit-identical.
//!
//! Run: `cargo run --release --bin infer_int8` in `embedded/`.

#![no_std]
#![no_main]

use constnet::persist::int8;
use constnet::quant::QNet;
use constnet_embedded::classify::{self, Check, Sizes};
use constnet_embedded::mnist::{IMAGES, LABELS};
use constnet_embedded::nets::Digits;
use cortex_m_rt::entry;

/// The int8 network, decoded and checked at compile time.
static NET: QNet<Digits> = int8::decode(include_bytes!("../../assets/digits.q8"));

#[entry]
fn main() -> ! {
    classify::run(
        &IMAGES,
        Check::Labels(&LABELS),
        |x| NET.logits(x),
        const { Sizes::int8::<Digits>() },
    )
}
