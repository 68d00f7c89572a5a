//! Elementwise int8 addition: TFLite's reference int8 `Add`, which brings
//! both inputs to a common scale with 20 bits of headroom before summing.

use super::fixed::{multiply_by_quantized_multiplier, quantize_multiplier};
use super::requantize::clamp;

/// The headroom TFLite gives int8 inputs before rescaling them.
const LEFT_SHIFT: i32 = 20;

/// Parameters of an int8 addition, computed from the scales as TFLite's
/// `Prepare` for `ADD` computes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddParams {
    /// The two inputs' zero points.
    pub input_zero_point: [i32; 2],
    /// Q31 multiplier of each input (`scale_i / (2 · max scale)`).
    pub input_multiplier: [i32; 2],
    /// Shift of each input's multiplier (never positive).
    pub input_shift: [i32; 2],
    /// Q31 multiplier of the sum (`2 · max scale / (2^20 · output_scale)`).
    pub output_multiplier: i32,
    /// Shift of the sum's multiplier.
    pub output_shift: i32,
    /// The output's zero point.
    pub output_zero_point: i32,
    /// Lowest output (the activation's clamp, or `i8::MIN`).
    pub min: i8,
    /// Highest output.
    pub max: i8,
}

impl AddParams {
    /// From float32 scales and zero points. The real multipliers are the
    /// `f64` quotients TFLite forms: both inputs are divided by twice the
    /// larger input scale (so each lands in `(0, 0.5]`), and the sum is
    /// scaled back by that over `2^20` times the output scale.
    pub fn new(
        input_scale: [f32; 2],
        input_zero_point: [i8; 2],
        output_scale: f32,
        output_zero_point: i8,
        (min, max): (i8, i8),
    ) -> Self {
        let twice_max = 2.0 * f64::from(input_scale[0].max(input_scale[1]));
        let input = input_scale.map(|s| quantize_multiplier(f64::from(s) / twice_max));
        let (output_multiplier, output_shift) = quantize_multiplier(
            twice_max / (f64::from(1u32 << LEFT_SHIFT) * f64::from(output_scale)),
        );
        Self {
            input_zero_point: input_zero_point.map(i32::from),
            input_multiplier: input.map(|(m, _)| m),
            input_shift: input.map(|(_, s)| s),
            output_multiplier,
            output_shift,
            output_zero_point: i32::from(output_zero_point),
            min,
            max,
        }
    }

    /// The words a quantized network keeps for an add: each input's
    /// multiplier and shift, then the sum's.
    pub fn words(&self) -> [i32; 6] {
        [
            self.input_multiplier[0],
            self.input_shift[0],
            self.input_multiplier[1],
            self.input_shift[1],
            self.output_multiplier,
            self.output_shift,
        ]
    }

    /// The multipliers and shifts of an add of inputs of scales `a` and
    /// `b` into an output of scale `out`, as [`AddParams::words`] lays
    /// them out.
    pub fn words_of(a: f32, b: f32, out: f32) -> [i32; 6] {
        Self::new([a, b], [0, 0], out, 0, (i8::MIN, i8::MAX)).words()
    }

    /// One output from one element of each input.
    #[inline(always)]
    pub fn add(&self, a: i8, b: i8) -> i8 {
        let scaled = |i: usize, v: i8| {
            let shifted = (i32::from(v) - self.input_zero_point[i]) << LEFT_SHIFT;
            multiply_by_quantized_multiplier(shifted, self.input_multiplier[i], self.input_shift[i])
        };
        // Each scaled input is at most 255 · 2^20 · 0.5 in magnitude, so the sum fits.
        let sum = scaled(0, a) + scaled(1, b);
        let raw = multiply_by_quantized_multiplier(sum, self.output_multiplier, self.output_shift)
            .wrapping_add(self.output_zero_point);
        clamp(raw, (self.min, self.max))
    }
}

/// `y[i] = a[i] + b[i]` in the output's quantization.
///
/// # Panics
/// If the three slices differ in length.
pub fn forward(params: &AddParams, a: &[i8], b: &[i8], y: &mut [i8]) {
    assert!(
        a.len() == b.len() && b.len() == y.len(),
        "add: lengths {}, {} and {} differ",
        a.len(),
        b.len(),
        y.len()
    );
    for ((y, &a), &b) in y.iter_mut().zip(a).zip(b) {
        *y = params.add(a, b);
    }
}
