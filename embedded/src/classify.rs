//! The body of the inference demos: classify the test images in flash with
//! one network, print a line per image, then the measurements.

use crate::mnist::{IMAGES, LABELS};
use crate::nets::Image;
use crate::probe::{self, Out, Timer};
use crate::report;

/// Sizes of the network that [`run`] reports.
pub struct Sizes {
    /// `Net::ARENA_BYTES`.
    pub arena_bytes: usize,
    /// `Net::PARAM_BYTES`.
    pub param_bytes: usize,
}

/// Classifies the 100 test images with `predict`, prints one
/// [`report::prediction`] line each and the accuracy, then `#` lines with
/// the stack high-water mark, `sizes` and the SysTick ticks per inference,
/// and ends the QEMU session.
///
/// Paints the stack first, so the caller's frame (where the arena lives)
/// counts as used.
pub fn run(predict: impl FnMut(&Image) -> [f32; 10], sizes: Sizes) -> ! {
    let mut predict = predict;
    let mut out = Out::open();
    let Some(peripherals) = cortex_m::Peripherals::take() else {
        probe::exit(false)
    };
    let timer = Timer::start(peripherals.SYST);
    probe::paint_stack();

    let (mut correct, mut total_ticks, mut min_ticks, mut max_ticks) = (0, 0u32, u32::MAX, 0);
    for (k, (x, &label)) in IMAGES.iter().zip(&LABELS).enumerate() {
        let (y, ticks) = timer.time(|| predict(x));
        total_ticks = total_ticks.saturating_add(ticks);
        min_ticks = min_ticks.min(ticks);
        max_ticks = max_ticks.max(ticks);
        correct += usize::from(report::argmax(&y) == usize::from(label));
        out.write(report::prediction(k, label, &y).finish());
    }
    out.write(report::accuracy(correct, IMAGES.len()).finish());

    let stack = probe::stack_high_water();
    out.measure("stack_high_water_bytes", stack as u32);
    out.measure("arena_bytes", sizes.arena_bytes as u32);
    out.measure("param_bytes", sizes.param_bytes as u32);
    out.measure("ticks_min", min_ticks);
    out.measure("ticks_mean", total_ticks / IMAGES.len() as u32);
    out.measure("ticks_max", max_ticks);
    out.measure("instructions_per_tick", probe::INSTRUCTIONS_PER_TICK);
    probe::exit(true)
}
