//! Inference demo: the trained `Digits` CNN classifies 100 MNIST test images.
//!
//! Weights and images are `static`s in flash; the only RAM is the stack,
//! whose largest item is the arena of `Digits::ARENA_BYTES`. Per image it
//! prints the line of `constnet_embedded::report` (true label, arg-max and
//! the ten softmax outputs as `f32` bit patterns), then the accuracy, then
//! `#` lines with measurements. The host tool prints the same lines, so
//! `diff` checks that the outputs are bit-identical.
//!
//! Run: `cargo run --release --bin infer` in `embedded/` (add
//! `-icount shift=0,align=off,sleep=off` to the QEMU command line for exact
//! instruction counts).

#![no_std]
#![no_main]

use constnet::Inline;
use constnet_embedded::mnist::{IMAGES, LABELS};
use constnet_embedded::nets::Digits;
use constnet_embedded::probe::{self, Out, Timer};
use constnet_embedded::report;
use cortex_m_rt::entry;
use panic_semihosting as _;

type Net = Digits<f32, Inline>;

/// The trained weights, decoded at compile time: a file written for any
/// other architecture fails the build here.
static NET: Net = Net::from_le_bytes(include_bytes!("../../assets/digits.cnet"));

#[entry]
fn main() -> ! {
    let mut out = Out::open();
    let Some(peripherals) = cortex_m::Peripherals::take() else {
        probe::exit(false)
    };
    let timer = Timer::start(peripherals.SYST);
    // The arena lives in this frame; `predict_in` rejects a smaller one at
    // compile time.
    let mut arena = [0.0f32; Net::ARENA_LEN];
    probe::paint_stack();

    let (mut correct, mut total_ticks, mut min_ticks, mut max_ticks) = (0, 0u64, u32::MAX, 0);
    for (k, (x, &label)) in IMAGES.iter().zip(&LABELS).enumerate() {
        let (y, ticks) = timer.time(|| NET.predict_in(x, &mut arena));
        total_ticks += u64::from(ticks);
        min_ticks = min_ticks.min(ticks);
        max_ticks = max_ticks.max(ticks);
        correct += usize::from(report::argmax(&y) == usize::from(label));
        out.write(report::prediction(k, label, &y).finish());
    }
    out.write(report::accuracy(correct, IMAGES.len()).finish());

    let stack = probe::stack_high_water();
    out.measure("stack_high_water_bytes", stack as u64);
    out.measure("arena_bytes", Net::ARENA_BYTES as u64);
    out.measure("param_bytes", Net::PARAM_BYTES as u64);
    out.measure("ticks_min", u64::from(min_ticks));
    out.measure("ticks_mean", total_ticks / IMAGES.len() as u64);
    out.measure("ticks_max", u64::from(max_ticks));
    probe::exit(true)
}
