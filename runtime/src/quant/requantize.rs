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
    /// channel's constants in registers and computes TFLite's two
    /// roundings as one (`Fused`), for the shifts calibrated layers have
    /// (a multiplier of at most 2^−2): the same integers as the one-output
    /// stage, in about 13 instructions per output. Not inlined: a kernel
    /// calls it once per run of outputs.
    #[inline(never)]
    fn run(&self, c: usize, bias: i32, acc: &[i32], step: usize, out: &mut [i8]) {
        #[cfg(constnet_dsp)]
        let done = {
            // The sums output `n − 1` reads up to.
            let n = out.len();
            let read = n
                .checked_sub(1)
                .and_then(|i| (i / 2).checked_mul(step)?.checked_add(i % 2 + 1));
            match Fused::new(self, c, bias, step) {
                Some(k) if n > 0 => {
                    assert!(
                        read.is_some_and(|len| len <= acc.len()),
                        "OutputStage::run: fewer sums than outputs"
                    );
                    dsp::run(&k, acc, out);
                    n
                }
                _ => 0,
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
    /// Channel `c`'s output of `acc`, not inlined: [`Channels::run`]'s
    /// outputs off a DSP core, and there the stages its loop does not
    /// take, where the compiler's unrolled loop would take a kilobyte of a
    /// firmware's flash.
    #[inline(never)]
    fn one(&self, c: usize, acc: i32) -> i8 {
        self.channel(c)(acc)
    }
}

/// One channel's Q31 stage as [`Channels::run`]'s DSP loop computes it,
/// with the accumulators' bias, for a right shift `r` in `2..=23`, a
/// non-negative multiplier and an int8 zero point.
///
/// TFLite rounds twice: `R = ⌊(a·m + 2^30) / 2^31⌋`, then `R / 2^r` half
/// away from zero, `⌊(R + 2^(r−1) − s) / 2^r⌋` with `s = 1` for a negative
/// `R`. Both floors merge into one of the 64-bit `a·m + 2^30 + (2^(r−1) −
/// s)·2^31`, whose shift by `31 + r ≥ 32` is the high word shifted by
/// `r − 1`; adding `zp·2^(31+r)` adds the zero point. `s` may be taken
/// as the sign of `a`: they differ only where `a < 0` and `a·m ≥ −2^30`,
/// so `R = 0`, and both sides round 0 to 0. The constant `2^30 + 2^(30+r)
/// − s·2^31 + zp·2^(31+r)` has the low word `2^30`, or `3·2^30` for a
/// negative `a`, and the high word [`Fused::high`] less `s`; `SMLAL` adds
/// the product. With `r ≤ 23` no step can leave its word.
#[cfg(any(test, constnet_dsp))]
struct Fused {
    bias: i32,
    multiplier: i32,
    /// `2^(r−2) + zp·2^(r−1)`: the high word of the constant for `a ≥ 0`.
    high: i32,
    /// `r − 1` in the low byte (all a register shift reads), and above it
    /// the bytes from one pair of accumulators to the next (`4 · step`).
    shift_step: i32,
    /// The lowest output in every byte, for a byte-wise clamp.
    min: i32,
    /// The highest output in every byte.
    max: i32,
}

#[cfg(any(test, constnet_dsp))]
impl Fused {
    /// Channel `c` of `stage` with `bias`, its accumulators in pairs
    /// `step` apart, or `None` if the loop cannot compute it: a left or
    /// small right shift, a negative multiplier, a zero point outside
    /// int8, or a step below 2 or too far for the register.
    fn new(stage: &Channels, c: usize, bias: i32, step: usize) -> Option<Self> {
        let (multiplier, shift) = (stage.multiplier[c], stage.shift[c]);
        let zero_point = i8::try_from(stage.output_zero_point).ok()?;
        let r = -shift;
        let step = i32::try_from(step)
            .ok()
            .filter(|s| (2..1 << 20).contains(s))?;
        if multiplier < 0 || !(2..=23).contains(&r) {
            return None;
        }
        Some(Self {
            bias,
            multiplier,
            high: (1 << (r - 2)) + (i32::from(zero_point) << (r - 1)),
            shift_step: (r - 1) | (4 * step) << 8,
            min: (u32::from(stage.range.0 as u8) * 0x0101_0101) as i32,
            max: (u32::from(stage.range.1 as u8) * 0x0101_0101) as i32,
        })
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
/// (the compiler's kept too few of its values in registers, and has no
/// `SSUB8`/`SEL` for the clamp).
#[cfg(constnet_dsp)]
#[expect(
    unsafe_code,
    reason = "the asm block reads and writes only the slices it is given"
)]
mod dsp {
    use core::arch::asm;

    /// The stage of the accumulator at `[{s}, #offset]` into `$out`, as
    /// [`super::Fused`] derives it: the bias; the constant's low word from
    /// the sum's sign and its high word less the sign; `SMLAL` of the
    /// product; the high word shifted by `r − 1`; `SSAT` to int8.
    macro_rules! stage {
        ($offset:literal, $out:literal) => {
            concat!(
                "ldr {x}, [{s}, #",
                $offset,
                "]\n",
                "add {x}, {x}, {bias}\n",
                "and {t}, {x}, #0x80000000\n",
                "orr {t}, {t}, #0x40000000\n",
                "add {h}, {high}, {x}, asr #31\n",
                "smlal {t}, {h}, {x}, {m}\n",
                "asr {h}, {h}, {shift_step}\n",
                "ssat ",
                $out,
                ", #8, {h}\n",
            )
        };
    }

    /// The clamp of the bytes of `{a}`, each as [`super::clamp`]: `SSUB8`
    /// sets a byte's flag where it is at least the lower bound, `SEL`
    /// keeps it there and takes the bound elsewhere; then the same against
    /// the upper bound.
    macro_rules! clamp {
        () => {
            concat!(
                "ssub8 {t}, {a}, {min}\n",
                "sel {a}, {a}, {min}\n",
                "ssub8 {t}, {max}, {a}\n",
                "sel {a}, {a}, {max}\n",
            )
        };
    }

    /// The outputs of `out` (a positive count) from `acc` in pairs as far
    /// apart as `k.shift_step` says, the caller having checked `acc`'s length.
    /// A pair's two bytes are clamped at once, `SSUB8` and `SEL` against
    /// the lower bound and then the upper, as [`super::clamp`], and stored
    /// as one halfword; an odd last output alone.
    ///
    /// The loop needs twelve registers, every one `asm!` may allocate on
    /// Thumb-2: a target that reserves r9 (`rwpi`) would not build it.
    #[inline(always)]
    pub(super) fn run(k: &super::Fused, acc: &[i32], out: &mut [i8]) {
        let o = out.as_mut_ptr();
        // SAFETY: the caller checked that `acc` holds the sums of the `n`
        // outputs: pair `j` reads `acc[j · step]` and the word after it and
        // writes `out[2j]` and `out[2j + 1]`; an odd last output reads
        // `acc[(n / 2) · step]` and writes `out[n − 1]`. The loop pushes two
        // words and pops them.
        unsafe {
            asm!(
                "strd {t}, {x}, [sp, #-8]!",
                "cmp {o}, {t}",
                "beq 3f",
                "2:",
                stage!("0", "{a}"),
                stage!("4", "{h}"),
                "bfi {a}, {h}, #8, #8",
                clamp!(),
                "strh {a}, [{o}], #2",
                "add {s}, {s}, {shift_step}, lsr #8",
                "ldr {t}, [sp]",
                "cmp {o}, {t}",
                "bne 2b",
                "3:",
                "ldr {t}, [sp, #4]",
                "cmp {t}, #0",
                "beq 4f",
                stage!("0", "{a}"),
                clamp!(),
                "strb {a}, [{o}]",
                "4:",
                "add sp, sp, #8",
                s = inout(reg) acc.as_ptr() => _,
                o = inout(reg) o => _,
                t = inout(reg) o.add(out.len() & !1) => _,
                x = inout(reg) out.len() % 2 => _,
                bias = in(reg) k.bias,
                m = in(reg) k.multiplier,
                high = in(reg) k.high,
                shift_step = in(reg) k.shift_step,
                min = in(reg) k.min,
                max = in(reg) k.max,
                a = out(reg) _,
                h = out(reg) _,
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

    /// What [`Channels::run`]'s DSP loop computes from `k` for a pair of
    /// accumulators, step by step: the `SMLAL` into the constant, the high
    /// word's shift, `SSAT`, the two outputs as the bytes of one word and
    /// their clamp by `SSUB8`/`SEL`.
    fn fused(k: &Fused, acc: [i32; 2]) -> [i8; 2] {
        let saturated = acc.map(|acc| {
            let a = acc.wrapping_add(k.bias);
            let low = (a as u32 & 0x8000_0000) | 0x4000_0000;
            let high = k.high.wrapping_add(a >> 31);
            let constant = (i64::from(high) << 32) | i64::from(low);
            let sum = constant.wrapping_add(i64::from(a) * i64::from(k.multiplier));
            let shifted = ((sum >> 32) as i32) >> (k.shift_step & 0xff);
            shifted.clamp(-128, 127) as i8
        });
        // `SEL` keeps a byte of the first operand where `SSUB8` found the
        // difference non-negative.
        let select = |x: [i8; 2], y: [i8; 2], keep: [bool; 2]| {
            [0, 1].map(|i| if keep[i] { x[i] } else { y[i] })
        };
        let bound = |word: i32| [word as i8; 2];
        let (min, max) = (bound(k.min), bound(k.max));
        let low = select(saturated, min, [0, 1].map(|i| saturated[i] >= min[i]));
        select(low, max, [0, 1].map(|i| max[i] >= low[i]))
    }

    #[test]
    fn the_fused_stage_rounds_twice_as_tflite() {
        let mut next = crate::quant::xorshift(0x1234_5679);
        let mut accs = [0i32; 64];
        accs[..10].copy_from_slice(&[
            i32::MIN,
            i32::MIN + 1,
            -65536,
            -2,
            -1,
            0,
            1,
            2,
            65535,
            i32::MAX,
        ]);
        for shift in -23..=-2 {
            let multipliers = [0, 1 << 30, i32::MAX, (next() >> 1 | 1 << 30) as i32];
            for (multiplier, zero_point) in multipliers
                .into_iter()
                .flat_map(|m| [-128, -3, 0, 127].map(|z| (m, z)))
            {
                for range in [FULL_RANGE, relu_range(zero_point as i8), (-5, 60), (9, -9)] {
                    let stage = Channels {
                        multiplier: &[multiplier],
                        shift: &[shift],
                        output_zero_point: zero_point,
                        range,
                    };
                    for bias in [0, next() as i32 >> (next() % 32)] {
                        let Some(k) = Fused::new(&stage, 0, bias, 2) else {
                            panic!("shift {shift}: the loop's case");
                        };
                        accs[10..]
                            .iter_mut()
                            .for_each(|a| *a = next() as i32 >> (next() % 32));
                        for pair in accs.chunks_exact(2) {
                            let pair = [pair[0], pair[1]];
                            let want = pair.map(|acc| stage.output(0, acc.wrapping_add(bias)));
                            assert_eq!(
                                fused(&k, pair),
                                want,
                                "{multiplier} {shift} {zero_point} {pair:?}"
                            );
                        }
                    }
                }
            }
        }
        // A shift left or short of 2, or past 23; a negative multiplier; a
        // zero point outside int8; a step below 2.
        let refused = [
            (1 << 30, -1, 0, 2),
            (1 << 30, 0, 0, 2),
            (1 << 30, 3, 0, 2),
            (1 << 30, -24, 0, 2),
            (-1, -5, 0, 2),
            (1 << 30, -5, 128, 2),
            (1 << 30, -5, 0, 1),
        ];
        for (m, shift, output_zero_point, step) in refused {
            let stage = Channels {
                multiplier: &[m],
                shift: &[shift],
                output_zero_point,
                range: FULL_RANGE,
            };
            let k = Fused::new(&stage, 0, 0, step);
            assert!(k.is_none(), "{m} {shift} {output_zero_point} {step}");
        }
    }

    #[test]
    fn relu_range_starts_at_the_zero_point() {
        let r = Requantize::<1>::per_channel(1.0, &[1.0], 1.0, -5, relu_range(-5));
        assert_eq!(r.output(0, -20), -5);
        assert_eq!(r.output(0, 3), -2);
    }
}
