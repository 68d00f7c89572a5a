//! TensorFlow Lite's fixed-point arithmetic, computed as its reference
//! kernels compute it (`QuantizeMultiplier` in `quantization_util.cc`,
//! `MultiplyByQuantizedMultiplier` in `common.cc`, and gemmlowp's
//! `SaturatingRoundingDoublingHighMul` and `RoundingDivideByPOT`), in the
//! double-rounding form TensorFlow's own builds use.
//!
//! A real multiplier `m` is held as a Q31 `multiplier` in `[2^30, 2^31)`
//! and a power-of-two `shift`: `m ≈ multiplier · 2^(shift − 31)`.

/// Splits a real multiplier into TFLite's Q31 multiplier and shift, as
/// `QuantizeMultiplier` does: `frexp` gives `m = q · 2^shift` with `|q|` in
/// `[0.5, 1)`, and `q · 2^31` is rounded half away from zero.
///
/// A `q` that rounds up to `2^31` becomes `2^30` with the shift one higher;
/// multipliers below about `2^-31` (a shift under −31) flush to `(0, 0)`,
/// as does zero.
///
/// # Panics
/// If `m` is not finite (TFLite aborts on those too).
pub fn quantize_multiplier(m: f64) -> (i32, i32) {
    assert!(m.is_finite(), "quantize_multiplier: {m} is not finite");
    if m == 0.0 {
        return (0, 0);
    }
    let (q, mut shift) = libm::frexp(m);
    // Exact: `q` has 53 significant bits and the product only moves its exponent.
    let mut q_fixed = libm::round(q * (1i64 << 31) as f64) as i64;
    if q_fixed == 1 << 31 {
        q_fixed /= 2;
        shift += 1;
    }
    if shift < -31 {
        return (0, 0);
    }
    // |q| < 1 and the case above make |q_fixed| ≤ 2^31 − 1, or exactly
    // −2^31 for q = −1, which fits.
    (q_fixed as i32, shift)
}

/// gemmlowp's `SaturatingRoundingDoublingHighMul`: the high 32 bits of
/// `2·a·b`, rounded to nearest. Ties round up (toward +∞): the nudge added
/// before the truncating division is one half for a positive product but
/// one unit less than a half for a negative one. The one product that does
/// not fit, `i32::MIN · i32::MIN`, saturates to `i32::MAX`.
pub const fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let ab = a as i64 * b as i64;
    // gemmlowp adds 2^30 to a positive product and 1 − 2^30 to a negative
    // one, then divides truncating toward zero. For a negative product
    // truncation is flooring after adding 2^31 − 1, which brings its nudge
    // to 2^30 as well: both are the floor of (ab + 2^30) / 2^31, a shift.
    // Only MIN·MIN (handled) leaves i32.
    ((ab + (1 << 30)) >> 31) as i32
}

/// gemmlowp's `RoundingDivideByPOT`: `x / 2^exponent` rounded to nearest,
/// ties away from zero (`-5 / 2` is −3, `5 / 2` is 3).
///
/// # Panics
/// If `exponent` is above 31 (gemmlowp asserts the same).
pub const fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    assert!(
        0 <= exponent && exponent <= 31,
        "rounding_divide_by_pot: exponent outside 0..=31"
    );
    divide_by_pot(x, exponent as u32, pot_mask(exponent as u32))
}

/// `2^exponent − 1`, [`divide_by_pot`]'s mask, built in i64 so that
/// exponent 31 gives `0x7fff_ffff`, as gemmlowp's `1ll << exponent`.
const fn pot_mask(exponent: u32) -> i32 {
    ((1i64 << exponent) - 1) as i32
}

/// [`rounding_divide_by_pot`] of a checked `exponent`, whose mask
/// ([`pot_mask`]) the caller formed.
#[inline(always)]
const fn divide_by_pot(x: i32, exponent: u32, mask: i32) -> i32 {
    let remainder = x & mask;
    let threshold = (mask >> 1) + (x < 0) as i32;
    (x >> exponent) + (remainder > threshold) as i32
}

/// TFLite's reference `MultiplyByQuantizedMultiplier`: `x · multiplier ·
/// 2^(shift − 31)` in three steps, each rounded as TFLite rounds: a left
/// shift by `max(shift, 0)`, [`saturating_rounding_doubling_high_mul`],
/// then [`rounding_divide_by_pot`] by `max(−shift, 0)`.
///
/// The left shift wraps on overflow, which is what TFLite's compiled code
/// does (the C++ is marked as expecting it); calibrated scales never reach
/// it.
///
/// # Panics
/// If `shift` is outside `-31..=31`; [`quantize_multiplier`] never gives
/// one below −31, and one above 31 means a multiplier over `2^31`.
pub const fn multiply_by_quantized_multiplier(x: i32, multiplier: i32, shift: i32) -> i32 {
    Multiplier::new(multiplier, shift).apply(x)
}

/// A Q31 multiplier and shift, checked and split once, for applying
/// [`multiply_by_quantized_multiplier`] to many values (a channel's
/// outputs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Multiplier {
    multiplier: i32,
    left: u32,
    right: u32,
    /// `2^right − 1`: [`divide_by_pot`]'s mask, formed once.
    mask: i32,
}

impl Multiplier {
    /// Checks `shift` and splits it into the left and right shifts.
    ///
    /// # Panics
    /// As [`multiply_by_quantized_multiplier`].
    #[inline(always)]
    pub const fn new(multiplier: i32, shift: i32) -> Self {
        assert!(
            -31 <= shift && shift <= 31,
            "multiply_by_quantized_multiplier: shift outside -31..=31"
        );
        let right = if shift > 0 { 0 } else { -shift as u32 };
        Self {
            multiplier,
            left: if shift > 0 { shift as u32 } else { 0 },
            right,
            mask: pot_mask(right),
        }
    }

    /// Whether [`Multiplier::apply`], plus an int8 zero point, never
    /// decreases as `x` grows: so for a non-negative multiplier with a
    /// right shift of at least one, where the result stays within ±2^30
    /// and no wrapping add follows (a left shift can wrap).
    pub const fn is_monotonic(self) -> bool {
        self.multiplier >= 0 && self.right > 0
    }

    /// [`multiply_by_quantized_multiplier`] of `x`.
    #[inline(always)]
    pub const fn apply(self, x: i32) -> i32 {
        let x = saturating_rounding_doubling_high_mul(x.wrapping_shl(self.left), self.multiplier);
        divide_by_pot(x, self.right, self.mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// gemmlowp's `SaturatingRoundingDoublingHighMul` as written: the
    /// nudge by the product's sign, then C++'s truncating division.
    fn gemmlowp_doubling_high_mul(a: i32, b: i32) -> i32 {
        if a == i32::MIN && b == i32::MIN {
            return i32::MAX;
        }
        let ab = i64::from(a) * i64::from(b);
        let nudge = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
        ((ab + nudge) / (1i64 << 31)) as i32
    }

    #[test]
    fn the_doubling_high_mul_shift_is_gemmlowps_division() {
        let mut draw = crate::quant::xorshift(0x9e37_79b9);
        let mut next = || draw() as i32;
        let edges = [0, 1, -1, 2, -2, 1 << 30, -(1 << 30), i32::MAX, i32::MIN];
        for &a in &edges {
            for &b in &edges {
                let want = gemmlowp_doubling_high_mul(a, b);
                assert_eq!(saturating_rounding_doubling_high_mul(a, b), want, "{a} {b}");
            }
        }
        for _ in 0..100_000 {
            // Small and large magnitudes.
            let (a, b) = (next() >> (next() as u32 % 31), next());
            let want = gemmlowp_doubling_high_mul(a, b);
            assert_eq!(saturating_rounding_doubling_high_mul(a, b), want, "{a} {b}");
            // An odd `a` times 2^30: exactly half way, either sign.
            let odd = a | 1;
            let want = gemmlowp_doubling_high_mul(odd, 1 << 30);
            assert_eq!(
                saturating_rounding_doubling_high_mul(odd, 1 << 30),
                want,
                "{odd}"
            );
        }
    }

    /// The real value a (multiplier, shift) pair stands for.
    fn real(multiplier: i32, shift: i32) -> f64 {
        f64::from(multiplier) * libm::pow(2.0, f64::from(shift - 31))
    }

    #[test]
    fn quantize_multiplier_matches_frexp_and_rounds_half_away() {
        assert_eq!(quantize_multiplier(0.0), (0, 0));
        assert_eq!(quantize_multiplier(0.5), (1 << 30, 0));
        assert_eq!(quantize_multiplier(1.0), (1 << 30, 1));
        assert_eq!(quantize_multiplier(0.25), (1 << 30, -1));
        assert_eq!(quantize_multiplier(3.0), (3 << 29, 2));
        assert_eq!(quantize_multiplier(-0.5), (-(1 << 30), 0));
        // q = 0.75 + 2^-33: q·2^31 = 1610612736.25, rounded down.
        let m = 0.75 + libm::pow(2.0, -33.0);
        assert_eq!(quantize_multiplier(m), (1_610_612_736, 0));
        // q·2^31 = ….5 exactly: half rounds away from zero, both signs.
        let m = 0.75 + libm::pow(2.0, -32.0);
        assert_eq!(quantize_multiplier(m), (1_610_612_737, 0));
        assert_eq!(quantize_multiplier(-m), (-1_610_612_737, 0));
        // Just under 1: q·2^31 rounds to 2^31, which becomes 2^30 at shift + 1.
        let m = 1.0 - libm::pow(2.0, -40.0);
        assert_eq!(quantize_multiplier(m), (1 << 30, 1));
        for m in [0.1, 0.003_921_568_627, 1.7e-4, 12.5, 0.999] {
            let (q, s) = quantize_multiplier(m);
            assert!((1 << 30..i32::MAX).contains(&q), "{m}: {q}");
            assert!((real(q, s) - m).abs() <= m * libm::pow(2.0, -30.0), "{m}");
        }
    }

    #[test]
    fn quantize_multiplier_flushes_tiny_multipliers_to_zero() {
        // 2^-31 = 0.5 · 2^-30: shift −30, kept; 2^-33 = 0.5 · 2^-32 is flushed.
        assert_eq!(quantize_multiplier(libm::pow(2.0, -31.0)), (1 << 30, -30));
        assert_eq!(quantize_multiplier(libm::pow(2.0, -32.0)), (1 << 30, -31));
        assert_eq!(quantize_multiplier(libm::pow(2.0, -33.0)), (0, 0));
        assert_eq!(quantize_multiplier(1e-300), (0, 0));
    }

    #[test]
    #[should_panic(expected = "not finite")]
    fn quantize_multiplier_refuses_nan() {
        quantize_multiplier(f64::NAN);
    }

    #[test]
    fn high_mul_saturates_and_rounds_ties_up() {
        assert_eq!(
            saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN),
            i32::MAX
        );
        assert_eq!(
            saturating_rounding_doubling_high_mul(i32::MIN, i32::MAX),
            i32::MIN + 1
        );
        assert_eq!(
            saturating_rounding_doubling_high_mul(i32::MAX, i32::MAX),
            i32::MAX - 1
        );
        // 2·x·2^30 / 2^32 = x/2: ties go up, on both sides of zero.
        assert_eq!(saturating_rounding_doubling_high_mul(5, 1 << 30), 3);
        assert_eq!(saturating_rounding_doubling_high_mul(-5, 1 << 30), -2);
        assert_eq!(saturating_rounding_doubling_high_mul(4, 1 << 30), 2);
        assert_eq!(saturating_rounding_doubling_high_mul(-4, 1 << 30), -2);
        assert_eq!(saturating_rounding_doubling_high_mul(1, 1 << 30), 1);
        assert_eq!(saturating_rounding_doubling_high_mul(-1, 1 << 30), 0);
        // −1.5 is a tie and goes up to −1; just below it, to −2.
        assert_eq!(saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);
        assert_eq!(saturating_rounding_doubling_high_mul(-3, (1 << 30) + 1), -2);
        assert_eq!(saturating_rounding_doubling_high_mul(0, i32::MIN), 0);
    }

    #[test]
    fn divide_by_pot_rounds_half_away_from_zero() {
        assert_eq!(rounding_divide_by_pot(5, 1), 3);
        assert_eq!(rounding_divide_by_pot(-5, 1), -3);
        assert_eq!(rounding_divide_by_pot(-6, 2), -2);
        assert_eq!(rounding_divide_by_pot(-7, 2), -2);
        assert_eq!(rounding_divide_by_pot(-9, 2), -2);
        assert_eq!(rounding_divide_by_pot(-10, 2), -3);
        assert_eq!(rounding_divide_by_pot(10, 2), 3);
        assert_eq!(rounding_divide_by_pot(9, 2), 2);
        // Exponent 0 is the identity; 31 leaves the sign's rounding.
        assert_eq!(rounding_divide_by_pot(i32::MIN, 0), i32::MIN);
        assert_eq!(rounding_divide_by_pot(i32::MAX, 0), i32::MAX);
        assert_eq!(rounding_divide_by_pot(i32::MAX, 31), 1);
        assert_eq!(rounding_divide_by_pot(1 << 30, 31), 1);
        assert_eq!(rounding_divide_by_pot((1 << 30) - 1, 31), 0);
        assert_eq!(rounding_divide_by_pot(-(1 << 30), 31), -1);
        assert_eq!(rounding_divide_by_pot(-(1 << 30) + 1, 31), 0);
        assert_eq!(rounding_divide_by_pot(i32::MIN, 31), -1);
    }

    #[test]
    #[should_panic(expected = "exponent outside")]
    fn divide_by_pot_refuses_exponent_32() {
        rounding_divide_by_pot(1, 32);
    }

    #[test]
    fn multiply_by_quantized_multiplier_follows_its_three_steps() {
        // Shift 0, 0.5 · x: only SRDHM rounds, ties up.
        assert_eq!(multiply_by_quantized_multiplier(7, 1 << 30, 0), 4);
        assert_eq!(multiply_by_quantized_multiplier(-7, 1 << 30, 0), -3);
        // 2 · x: left shift 2, then SRDHM by 0.5 loses nothing.
        assert_eq!(multiply_by_quantized_multiplier(7, 1 << 30, 2), 14);
        // Shift −31: SRDHM gives 2^30 for MAX · 0.5, the right shift by 31
        // rounds that half away from zero, so 0.49999… becomes 1.
        assert_eq!(multiply_by_quantized_multiplier(i32::MAX, 1 << 30, -31), 1);
        assert_eq!(multiply_by_quantized_multiplier(i32::MIN, 1 << 30, -30), -1);
        // 0.375 = 0.75 · 2^-1: SRDHM by 0.75, then a rounded halving.
        let (m, s) = quantize_multiplier(0.375);
        assert_eq!((m, s), (3 << 29, -1));
        // 2.25 → 2 → 1; 3.75 → 4 → 2; 5.25 → 5 → 2.5 → 3.
        assert_eq!(multiply_by_quantized_multiplier(3, m, s), 1);
        assert_eq!(multiply_by_quantized_multiplier(5, m, s), 2);
        assert_eq!(multiply_by_quantized_multiplier(7, m, s), 3);
        assert_eq!(multiply_by_quantized_multiplier(-7, m, s), -3);
        // Two roundings, not one: 0.375 · 9 = 3.375 would round to 3, but
        // SRDHM gives 6.75 → 7 and 7 / 2 = 3.5 → 4.
        assert_eq!(multiply_by_quantized_multiplier(9, m, s), 4);
        assert_eq!(multiply_by_quantized_multiplier(-9, m, s), -4);
    }

    #[test]
    fn a_multiplier_formed_once_is_the_three_steps() {
        let mut draw = crate::quant::xorshift(0x2545_f491);
        let mut next = move || draw() as i32;
        let edges = [0, 1, -1, i32::MAX, i32::MIN, 1 << 30, -(1 << 30)];
        for shift in -31..=31 {
            for i in 0..2000 {
                let x = if i < edges.len() { edges[i] } else { next() };
                let multiplier = if i % 3 == 0 {
                    edges[i % edges.len()]
                } else {
                    next()
                };
                let steps = rounding_divide_by_pot(
                    saturating_rounding_doubling_high_mul(
                        x.wrapping_shl(shift.max(0) as u32),
                        multiplier,
                    ),
                    (-shift).max(0),
                );
                assert_eq!(
                    Multiplier::new(multiplier, shift).apply(x),
                    steps,
                    "{x} {multiplier} {shift}"
                );
            }
        }
    }

    #[test]
    #[should_panic(expected = "shift outside")]
    fn multiply_by_quantized_multiplier_refuses_shift_32() {
        multiply_by_quantized_multiplier(1, 1 << 30, 32);
    }
}
