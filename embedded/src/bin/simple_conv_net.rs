//! Footprint demo: the seed's SimpleConvNet (433,890 parameters, 1.74 MB of
//! f32) classifies the same 100 images, with the 4 MiB memory map.
//!
//! It is the inference demo with another network: weights and images in
//! flash, the arena on the stack, the same output lines. The weights are a
//! seeded, untrained initialization (`embedded_assets simple` writes them),
//! so the accuracy is chance; the outputs still match the host bit for bit.
//!
//! Run: `cargo run --release --bin simple_conv_net` in `embedded/`; `footprint.sh`
//! adds `-icount` for exact instruction counts.

#![no_std]
#![no_main]

use constnet::Inline;
use constnet_embedded::classify::{self, Check, Sizes};
use constnet_embedded::mnist::{IMAGES, LABELS};
use constnet_embedded::nets::SimpleConvNet;
use cortex_m_rt::entry;

type Net = SimpleConvNet<f32, Inline>;

/// The weights, decoded and checksum-verified at compile time.
///
/// NOTE: rustc's deny-by-default `long_running_const_eval` lint stops a
/// constant after 2 million loop iterations and calls. The decoder takes
/// about two per parameter (and the checksum one per 16 bytes), so the
/// 433,890 parameters fit; a network of more than about 900,000 `f32`
/// parameters needs `#[allow(long_running_const_eval)]` here. The decoding
/// adds about 10 s to a build.
static NET: Net = Net::from_le_bytes(include_bytes!("../../assets/simple_conv_net.cnet"));

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
