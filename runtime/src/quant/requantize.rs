//! The output stage of the int8 kernels with weights: an int32 accumulator
//! becomes an int8 output through a per-channel scale, the output zero
//! point and the activation's clamp.
//!
//! TFLite does this in two ways. Its reference convolution kernels and
//! TFLite Micro's kernels scale with a Q31 multiplier and shift, rounding
//! twice ([`Requantize`]); TensorFlow's reference fully connected kernel
//! for int8 multiplies in `f64` and rounds once ([`RequantizeF64`]). The
//! two differ by one where the second rounding meets a half.

use super::exact_f64::ExactF64;
use super::fixed::{Multiplier, quantize_multiplier};

/// The Q31 multiplier and shift of one channel, as TFLite's
/// `PopulateConvolutionQuantizationParams` computes them: the real
/// multiplier `input_scale · weight_scale / output_scale` formed in `f64`
/// from the float32 scales, split by [`quantize_multiplier`].
pub fn multiplier(input_scale: f32, weight_scale: f32, output_scale: f32) -> (i32, i32) {
    quantize_multiplier(f64::from(input_scale) * f64::from(weight_scale) / f64::from(output_scale))
}

/// The int8 range, the clamp of a layer without activation.
pub const FULL_RANGE: (i8, i8) = (i8::MIN, i8::MAX);

/// The clamp of a fused ReLU, as TFLite's `CalculateActivationRangeQuantized`
/// gives it: from the output's quantized zero (its zero point) to 127.
pub const fn relu_range(output_zero_point: i8) -> (i8, i8) {
    (output_zero_point, i8::MAX)
}

/// How a kernel turns channel `c`'s int32 accumulator into its int8 output.
pub trait OutputStage {
    /// Channel `c`'s int8 output for accumulator `acc`.
    fn output(&self, c: usize, acc: i32) -> i8;

    /// [`OutputStage::output`] of channel `c`, its constants read once:
    /// for a kernel that writes a run of one channel's outputs.
    #[inline(always)]
    fn channel(&self, c: usize) -> impl Fn(i32) -> i8 {
        move |acc| self.output(c, acc)
    }

    /// Channel `c`'s outputs `out` of accumulators plus `bias`, read in
    /// pairs: output `i` from `acc[(i / 2) · step + i % 2]` (`step` 2 for
    /// accumulators one after the other). For a kernel that writes a run
    /// of one channel's outputs.
    ///
    /// # Panics
    /// If `acc` is shorter than `out` needs, or `step` is below 2.
    #[inline(always)]
    fn run(&self, c: usize, bias: i32, acc: &[i32], step: usize, out: &mut [i8]) {
        each(self.channel(c), bias, step, acc, out, 0);
    }

    /// Whether channel `c`'s output never decreases as its accumulator
    /// grows, so that the largest of a pool window's outputs is that of
    /// its largest accumulator. `false` unless the stage shows it.
    fn monotonic(&self, c: usize) -> bool {
        let _ = c;
        false
    }
}

/// Per-output-channel requantization of `F` channels: TFLite's
/// `output_multiplier`, `output_shift`, `output_offset` and
/// `quantized_activation_min`/`max`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requantize<const F: usize> {
    /// Q31 multiplier per channel (see [`quantize_multiplier`]).
    pub multiplier: [i32; F],
    /// Power-of-two shift per channel, positive to the left.
    pub shift: [i32; F],
    /// The output's zero point, added after scaling.
    pub output_zero_point: i32,
    /// Lowest output (the activation's clamp, or `i8::MIN`).
    pub min: i8,
    /// Highest output.
    pub max: i8,
}

impl<const F: usize> Requantize<F> {
    /// From float32 scales, as TFLite's `PopulateConvolutionQuantizationParams`
    /// computes them: channel `c`'s real multiplier is
    /// `input_scale · weight_scales[c] / output_scale` in `f64`, split by
    /// [`quantize_multiplier`]. A per-tensor weight scale is the same value
    /// in every channel.
    pub fn per_channel(
        input_scale: f32,
        weight_scales: &[f32; F],
        output_scale: f32,
        output_zero_point: i8,
        (min, max): (i8, i8),
    ) -> Self {
        let mut multiplier = [0; F];
        let mut shift = [0; F];
        for ((m, s), &w) in multiplier.iter_mut().zip(&mut shift).zip(weight_scales) {
            (*m, *s) = self::multiplier(input_scale, w, output_scale);
        }
        Self {
            multiplier,
            shift,
            output_zero_point: i32::from(output_zero_point),
            min,
            max,
        }
    }
}

impl<const F: usize> OutputStage for Requantize<F> {
    #[inline(always)]
    fn output(&self, c: usize, acc: i32) -> i8 {
        let scale = Multiplier::new(self.multiplier[c], self.shift[c]);
        q31(acc, scale, self.output_zero_point, (self.min, self.max))
    }

    fn monotonic(&self, c: usize) -> bool {
        Multiplier::new(self.multiplier[c], self.shift[c]).is_monotonic()
    }
}

/// [`Requantize`] over borrowed multipliers and shifts, as a quantized
/// network's words hold them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Channels<'a> {
    /// Q31 multiplier per channel.
    pub multiplier: &'a [i32],
    /// Power-of-two shift per channel, positive to the left.
    pub shift: &'a [i32],
    /// The output's zero point, added after scaling.
    pub output_zero_point: i32,
    /// Lowest and highest output.
    pub range: (i8, i8),
}

impl OutputStage for Channels<'_> {
    #[inline(always)]
    fn output(&self, c: usize, acc: i32) -> i8 {
        self.channel(c)(acc)
    }

    #[inline(always)]
    fn channel(&self, c: usize) -> impl Fn(i32) -> i8 {
        let scale = Multiplier::new(self.multiplier[c], self.shift[c]);
        let (zero_point, range) = (self.output_zero_point, self.range);
        move |acc| q31(acc, scale, zero_point, range)
    }

    /// On a DSP core, a loop in hand-written code that holds the
    /// channel's constants in registers, for a multiplier that is not
    /// `i32::MIN` and a shift to the right (TFLite's for a real multiplier
    /// below one): the same integers as the one-output stage, in about 22
    /// instructions per output where the compiler's loop reloaded its
    /// constants. Not inlined: a kernel calls it once per run of outputs.
    #[inline(never)]
    fn run(&self, c: usize, bias: i32, acc: &[i32], step: usize, out: &mut [i8]) {
        #[cfg(constnet_dsp)]
        let done = {
            let (multiplier, shift) = (self.multiplier[c], self.shift[c]);
            let pairs = out.len() / 2;
            let fits = |pairs: usize| {
                let last = (pairs - 1).checked_mul(step)?.checked_add(2)?;
                Some(last <= acc.len())
            };
            // A step the loop's register cannot carry takes the loop below.
            let carried = (2..1 << 20).contains(&step);
            if multiplier != i32::MIN && (-31..=0).contains(&shift) && pairs > 0 && carried {
                assert!(
                    fits(pairs) == Some(true),
                    "OutputStage::run: fewer sums than outputs"
                );
                let right = -shift;
                let constants = dsp::Constants {
                    bias,
                    multiplier,
                    right: right | ((4 * step as i32) << 8),
                    mask: ((1i64 << right) - 1) as i32,
                    zero_point: self.output_zero_point,
                    min: i32::from(self.range.0),
                    max: i32::from(self.range.1),
                };
                dsp::run(&constants, acc, &mut out[..2 * pairs]);
                2 * pairs
            } else {
                0
            }
        };
        #[cfg(not(constnet_dsp))]
        let done = 0;
        each(|a| self.one(c, a), bias, step, acc, out, done);
    }

    fn monotonic(&self, c: usize) -> bool {
        Multiplier::new(self.multiplier[c], self.shift[c]).is_monotonic()
    }
}

impl Channels<'_> {
    /// Channel `c`'s output of `acc`, not inlined: [`Channels::run`]'s odd
    /// last output and rare stages, where the compiler's unrolled loop
    /// would take a kilobyte of a firmware's flash.
    #[inline(never)]
    fn one(&self, c: usize, acc: i32) -> i8 {
        self.channel(c)(acc)
    }
}

/// [`OutputStage::run`] one output at a time through `stage`, from output
/// `from` on.
#[inline(always)]
fn each(
    stage: impl Fn(i32) -> i8,
    bias: i32,
    step: usize,
    acc: &[i32],
    out: &mut [i8],
    from: usize,
) {
    assert!(step >= 2, "OutputStage::run: overlapping pairs");
    for (i, o) in out.iter_mut().enumerate().skip(from) {
        *o = stage(acc[i / 2 * step + i % 2].wrapping_add(bias));
    }
}

/// [`Channels::run`]'s loop, which stable Rust only writes in `asm!`
/// (the compiler's kept too few of its values in registers).
#[cfg(constnet_dsp)]
#[expect(
    unsafe_code,
    reason = "the asm block reads and writes only the slices it is given and restores the stack"
)]
mod dsp {
    use core::arch::asm;

    /// One channel's output stage: [`super::q31`]'s constants, with a
    /// shift to the right and the accumulators' bias.
    pub(super) struct Constants {
        pub(super) bias: i32,
        pub(super) multiplier: i32,
        /// The shift to the right in the low byte (all a register shift
        /// reads), the bytes from one pair of accumulators to the next
        /// above it.
        pub(super) right: i32,
        /// `2^right − 1`.
        pub(super) mask: i32,
        pub(super) zero_point: i32,
        pub(super) min: i32,
        pub(super) max: i32,
    }

    /// The stage of the accumulator in `{x}`, `{t}` a scratch register:
    /// the bias; `SaturatingRoundingDoublingHighMul` as the high word of
    /// `x · m + 2^30` shifted left by one (a multiplier other than
    /// `i32::MIN` cannot saturate); `RoundingDivideByPOT` (the remainder
    /// against half the divisor, less one for a negative value); the
    /// zero point and the clamp, the lower bound first as [`super::clamp`].
    macro_rules! stage {
        ($x:literal, $t:literal) => {
            concat!(
                "add ",
                $x,
                ", ",
                $x,
                ", {bias}\n",
                "smull ",
                $t,
                ", ",
                $x,
                ", ",
                $x,
                ", {m}\n",
                "adds ",
                $t,
                ", ",
                $t,
                ", #0x40000000\n",
                "adc ",
                $x,
                ", ",
                $x,
                ", #0\n",
                "lsr ",
                $t,
                ", ",
                $t,
                ", #31\n",
                "orr ",
                $x,
                ", ",
                $t,
                ", ",
                $x,
                ", lsl #1\n",
                "and ",
                $t,
                ", ",
                $x,
                ", {mask}\n",
                "sub ",
                $t,
                ", ",
                $t,
                ", ",
                $x,
                ", lsr #31\n",
                "cmp ",
                $t,
                ", {mask}, lsr #1\n",
                "asr ",
                $x,
                ", ",
                $x,
                ", {right}\n",
                "it gt\n",
                "addgt ",
                $x,
                ", ",
                $x,
                ", #1\n",
                "add ",
                $x,
                ", ",
                $x,
                ", {zp}\n",
                "cmp ",
                $x,
                ", {min}\n",
                "it lt\n",
                "movlt ",
                $x,
                ", {min}\n",
                "cmp ",
                $x,
                ", {max}\n",
                "it gt\n",
                "movgt ",
                $x,
                ", {max}\n",
            )
        };
    }

    /// The outputs of `out` (an even, positive count) from `acc` in pairs
    /// as far apart as `k.right` says, the caller having checked `acc`'s
    /// length.
    #[inline(always)]
    pub(super) fn run(k: &Constants, acc: &[i32], out: &mut [i8]) {
        let o = out.as_mut_ptr();
        // SAFETY: the caller checked that `acc` holds `(n − 1) · step + 2`
        // words for the `n` pairs of `out`, `n > 0`: pair `j` reads
        // `acc[j · step]` and the word after it, and writes `out[2j]` and
        // `out[2j + 1]`. The loop pushes one word and pops it.
        unsafe {
            asm!(
                "str {t}, [sp, #-4]!",
                "2:",
                "ldrd {a}, {b}, [{s}]",
                "add {s}, {s}, {right}, lsr #8",
                stage!("{a}", "{t}"),
                "strb {a}, [{o}], #1",
                stage!("{b}", "{t}"),
                "strb {b}, [{o}], #1",
                "ldr {t}, [sp]",
                "cmp {o}, {t}",
                "bne 2b",
                "add sp, sp, #4",
                s = inout(reg) acc.as_ptr() => _,
                o = inout(reg) o => _,
                t = inout(reg) o.add(out.len()) => _,
                bias = in(reg) k.bias,
                m = in(reg) k.multiplier,
                right = in(reg) k.right,
                mask = in(reg) k.mask,
                zp = in(reg) k.zero_point,
                min = in(reg) k.min,
                max = in(reg) k.max,
                a = out(reg) _,
                b = out(reg) _,
            );
        }
    }
}

/// [`RequantizeF64`] over a quantized network's words: each channel's
/// scale formed from the float32 scales when it is needed (a fully
/// connected layer has a few outputs; the firmware keeps no `f64` table).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScalesF64<'a> {
    /// The input's scale.
    pub input_scale: f32,
    /// Each channel's weight scale, as `f32` bits.
    pub weight_scales: &'a [i32],
    /// The output's scale.
    pub output_scale: f32,
    /// The output's zero point.
    pub output_zero_point: i32,
    /// Lowest and highest output.
    pub range: (i8, i8),
}

impl OutputStage for ScalesF64<'_> {
    /// Not inlined: it runs once per output of a fully connected layer,
    /// and its callers need one call, not the scale's and the stage's.
    #[inline(never)]
    fn output(&self, c: usize, acc: i32) -> i8 {
        let w = f32::from_bits(self.weight_scales[c] as u32);
        let scale = ExactF64::scale(self.input_scale, w, self.output_scale);
        f64_stage(acc, scale, self.output_zero_point, self.range)
    }
}

/// The `f64` output stage of one accumulator, `round(acc · scale)` plus the
/// zero point, clamped; in integers ([`ExactF64`]), which give the bits
/// `f64` gives without linking soft float on a microcontroller. Not
/// inlined: it runs once per output of a fully connected layer.
#[inline(never)]
fn f64_stage(acc: i32, scale: ExactF64, zero_point: i32, range: (i8, i8)) -> i8 {
    // Saturates where TFLite's conversion would be undefined.
    let scaled = scale.round_mul(acc);
    clamp(scaled.wrapping_add(zero_point), range)
}

/// The Q31 output stage of one accumulator, inlined: it runs once per
/// output, where a call's overhead would be a third of its cost.
#[inline(always)]
fn q31(acc: i32, scale: Multiplier, zero_point: i32, range: (i8, i8)) -> i8 {
    let scaled = scale.apply(acc);
    // Wraps where TFLite's int32 addition would overflow (undefined in
    // C++, wrapping in its compiled code); the clamp then applies, the
    // lower bound first as TFLite's `std::max` then `std::min`.
    clamp(scaled.wrapping_add(zero_point), range)
}

/// `v` within an activation's range, as TFLite clamps: `std::max` with
/// the lower bound, then `std::min` with the upper. Unlike `Ord::clamp` it
/// has no panic path, whose message formatting would cost a firmware
/// about a kilobyte of flash; the plans' ranges are never inverted.
#[inline(always)]
pub const fn clamp(v: i32, (min, max): (i8, i8)) -> i8 {
    let low = if v > min as i32 { v } else { min as i32 };
    (if low < max as i32 { low } else { max as i32 }) as i8
}

/// Requantization in `f64`, as TensorFlow's reference int8 fully connected
/// kernel does it: `round(acc · scale[c])` (half away from zero) plus the
/// output zero point, clamped. One rounding instead of [`Requantize`]'s two.
#[derive(Clone, Debug, PartialEq)]
pub struct RequantizeF64<const F: usize> {
    /// `input_scale · weight_scale[c] / output_scale` per channel.
    pub scale: [f64; F],
    /// The output's zero point, added after scaling.
    pub output_zero_point: i32,
    /// Lowest output (the activation's clamp, or `i8::MIN`).
    pub min: i8,
    /// Highest output.
    pub max: i8,
}

impl<const F: usize> RequantizeF64<F> {
    /// From float32 scales, each channel's scale formed in `f64` in the
    /// order TFLite forms it.
    pub fn per_channel(
        input_scale: f32,
        weight_scales: &[f32; F],
        output_scale: f32,
        output_zero_point: i8,
        (min, max): (i8, i8),
    ) -> Self {
        Self {
            scale: weight_scales
                .map(|w| f64::from(input_scale) * f64::from(w) / f64::from(output_scale)),
            output_zero_point: i32::from(output_zero_point),
            min,
            max,
        }
    }
}

impl<const F: usize> OutputStage for RequantizeF64<F> {
    #[inline(always)]
    fn output(&self, c: usize, acc: i32) -> i8 {
        f64_stage(
            acc,
            ExactF64::new(self.scale[c]),
            self.output_zero_point,
            (self.min, self.max),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_channel_multipliers_come_from_the_scales_in_f64() {
        let r = Requantize::<2>::per_channel(0.5, &[0.25, 1.5], 0.125, -3, FULL_RANGE);
        // 0.5 · 0.25 / 0.125 = 1 = 0.5 · 2^1; 0.5 · 1.5 / 0.125 = 6 = 0.75 · 2^3.
        assert_eq!(r.multiplier, [1 << 30, 3 << 29]);
        assert_eq!(r.shift, [1, 3]);
        assert_eq!(r.output(0, 10), 7);
        assert_eq!(r.output(1, 10), 57);
        assert_eq!(r.output(1, 100), 127);
        assert_eq!(r.output(1, -100), -128);
    }

    #[test]
    fn f64_requantization_rounds_once() {
        // 0.375 · 9 = 3.375: one rounding gives 3, the Q31 path's two give 4.
        let once = RequantizeF64::<1>::per_channel(0.75, &[1.0], 2.0, 0, FULL_RANGE);
        let twice = Requantize::<1>::per_channel(0.75, &[1.0], 2.0, 0, FULL_RANGE);
        assert_eq!((once.output(0, 9), twice.output(0, 9)), (3, 4));
        assert_eq!((once.output(0, -9), twice.output(0, -9)), (-3, -4));
        // 0.375 · 4 = 1.5: both round the tie away from zero.
        assert_eq!((once.output(0, 4), twice.output(0, 4)), (2, 2));
        assert_eq!(once.output(0, 1000), 127);
    }

    #[test]
    fn borrowed_channels_requantize_as_the_owned_stage() {
        let owned = Requantize::<2>::per_channel(0.5, &[0.25, 1.5], 0.125, -3, relu_range(-3));
        let channels = Channels {
            multiplier: &owned.multiplier,
            shift: &owned.shift,
            output_zero_point: -3,
            range: relu_range(-3),
        };
        for c in 0..2 {
            let stage = channels.channel(c);
            for acc in [-1000, -7, 0, 5, 19, 1000, i32::MAX, i32::MIN] {
                assert_eq!(stage(acc), owned.output(c, acc), "{c} {acc}");
            }
        }
        // Channel 0's multiplier is 1 (a left shift), channel 1's 6: neither
        // is known to grow with the sum; 0.004 (a right shift) is.
        assert!(!channels.monotonic(0) && !channels.monotonic(1));
        let small = Requantize::<1>::per_channel(0.02, &[0.01], 0.05, 0, FULL_RANGE);
        assert!(small.monotonic(0));
    }

    #[test]
    fn a_run_of_outputs_reads_its_pairs_of_sums() {
        // A right shift (the DSP loop's case) and a left one (the rare
        // path), a run of 7 outputs read in pairs 2 and 4 words apart.
        let owned = Requantize::<2>::per_channel(0.02, &[0.01, 3.0], 0.05, 4, relu_range(4));
        let channels = Channels {
            multiplier: &owned.multiplier,
            shift: &owned.shift,
            output_zero_point: 4,
            range: relu_range(4),
        };
        let sums: [i32; 16] = core::array::from_fn(|i| (i as i32 - 7) * 997 + i32::MAX / 3);
        for (c, step) in [(0, 2), (0, 4), (1, 2), (1, 4)] {
            let bias = -i32::MAX / 3 + 11;
            let mut got = [0i8; 7];
            channels.run(c, bias, &sums, step, &mut got);
            let want: [i8; 7] = core::array::from_fn(|i| {
                owned.output(c, sums[i / 2 * step + i % 2].wrapping_add(bias))
            });
            assert_eq!(got, want, "channel {c}, step {step}");
            owned.run(c, bias, &sums, step, &mut got);
            assert_eq!(got, want, "channel {c}, step {step}, owned");
        }
    }

    #[test]
    fn relu_range_starts_at_the_zero_point() {
        let r = Requantize::<1>::per_channel(1.0, &[1.0], 1.0, -5, relu_range(-5));
        assert_eq!(r.output(0, -20), -5);
        assert_eq!(r.output(0, 3), -2);
    }
}
