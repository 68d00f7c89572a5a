//! The `f64` arithmetic of TensorFlow's fully connected requantization,
//! `round(acc · (input_scale · weight_scale / output_scale)) as i32`, done
//! exactly in integers.
//!
//! A Cortex-M4 has no double-precision unit: the same expression in `f64`
//! links about 3 KiB of soft float (multiply, add, divide, comparisons,
//! conversions) into every int8 firmware with a fully connected layer. Each
//! IEEE operation is one rounding of the exact result to nearest, ties to
//! even, so integers that compute the exact result and round it the same
//! way give the same bits, on every target.

/// An `f64` value as an integer mantissa and a power of two:
/// `(−1)^negative · m · 2^e`, or a NaN or an infinity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExactF64 {
    /// Not a number.
    Nan,
    /// An infinity.
    Inf {
        /// Its sign.
        negative: bool,
    },
    /// A finite value (zero when `m` is 0).
    Finite {
        /// Its sign.
        negative: bool,
        /// The mantissa, at most `2^53`.
        m: u64,
        /// The power of two.
        e: i32,
    },
}

/// Significant bits of an `f64`.
const BITS: u32 = 53;

impl ExactF64 {
    /// The value of the `f64` `x`.
    pub const fn new(x: f64) -> Self {
        let bits = x.to_bits();
        let negative = bits >> 63 == 1;
        let exponent = ((bits >> 52) & 0x7ff) as i32;
        let fraction = bits & ((1 << 52) - 1);
        match exponent {
            0x7ff if fraction != 0 => Self::Nan,
            0x7ff => Self::Inf { negative },
            0 => Self::Finite {
                negative,
                m: fraction,
                e: -1074,
            },
            _ => Self::Finite {
                negative,
                m: fraction | 1 << 52,
                e: exponent - 1075,
            },
        }
    }

    /// `f64::from(a) · f64::from(b) / f64::from(c)`, rounded as `f64`
    /// rounds it: the product of two `f32` is exact in `f64` (48 bits), so
    /// only the quotient rounds. Finite nonzero operands give a normal
    /// `f64` (between `2^−426` and `2^405`), so rounding to 53 bits is all
    /// the rounding there is.
    pub fn scale(a: f32, b: f32, c: f32) -> Self {
        let negative = a.is_sign_negative() ^ b.is_sign_negative() ^ c.is_sign_negative();
        let product_inf = a.is_infinite() || b.is_infinite();
        let product_zero = a == 0.0 || b == 0.0;
        let nan = a.is_nan()
            || b.is_nan()
            || c.is_nan()
            || (product_inf && (product_zero || c.is_infinite()))
            || (product_zero && c == 0.0);
        if nan {
            Self::Nan
        } else if product_inf || c == 0.0 {
            Self::Inf { negative }
        } else if product_zero || c.is_infinite() {
            Self::Finite {
                negative,
                m: 0,
                e: 0,
            }
        } else {
            let ((ma, ea), (mb, eb), (mc, ec)) = (parts(a), parts(b), parts(c));
            let (q, k, sticky) = divide(ma * mb, mc);
            let (m, drop) = round_to_bits(q, sticky);
            Self::Finite {
                negative,
                m,
                e: ea + eb - ec - k + drop,
            }
        }
    }

    /// `round(f64::from(acc) · self) as i32`: the product rounded as `f64`
    /// rounds it, then to the nearest integer (half away from zero), then
    /// saturated to `i32` (NaN gives 0), as Rust's `as` converts.
    pub fn round_mul(self, acc: i32) -> i32 {
        let (negative, m, e) = match self {
            Self::Nan => return 0,
            Self::Inf { .. } if acc == 0 => return 0,
            Self::Inf { negative } => return saturate(negative != (acc < 0), u64::MAX),
            Self::Finite { negative, m, e } => (negative != (acc < 0), m, e),
        };
        // |acc| · m < 2^85 as hi · 2^32 + lo, each part in a u64.
        let a = u64::from(acc.unsigned_abs());
        let low = a * (m & 0xffff_ffff);
        let hi = a * (m >> 32) + (low >> 32);
        let lo = low & 0xffff_ffff;
        // The top 64 bits, and whether any bit below them is set; a
        // product beyond the largest `f64` would round to infinity and one
        // below the smallest normal to fewer bits, but the first saturates
        // and the second rounds to 0 here all the same.
        let over = bit_len(hi).saturating_sub(32);
        let (top, sticky) = if over == 0 {
            (hi << 32 | lo, false)
        } else {
            (hi << (32 - over) | lo >> over, lo & ((1 << over) - 1) != 0)
        };
        let (m, drop) = round_to_bits(top, sticky);
        let e = e + over as i32 + drop;
        let magnitude = if m == 0 {
            0
        } else if e >= 0 {
            // 2^31 or more saturates; below it the shift loses no bit.
            if e >= 31 || m >> (31 - e) != 0 {
                u64::MAX
            } else {
                m << e
            }
        } else if e <= -56 {
            // Below 2^53 · 2^−56: rounds to 0.
            0
        } else {
            let s = e.unsigned_abs();
            (m + (1 << (s - 1))) >> s
        };
        saturate(negative, magnitude)
    }
}

/// A finite `f32` as `(m, e)`, `m · 2^e`, `m` below `2^24`.
fn parts(x: f32) -> (u64, i32) {
    let bits = x.to_bits();
    let exponent = ((bits >> 23) & 0xff) as i32;
    let fraction = u64::from(bits & ((1 << 23) - 1));
    if exponent == 0 {
        (fraction, -149)
    } else {
        (fraction | 1 << 23, exponent - 150)
    }
}

/// `n · 2^k / d` for nonzero `n < 2^48` and `d < 2^24`, by long division:
/// the integer quotient `q`, in `[2^54, 2^56)` (enough bits to round to
/// 53), `k`, and whether a remainder is left.
fn divide(n: u64, d: u64) -> (u64, i32, bool) {
    let (n_bits, d_bits) = (bit_len(n), bit_len(d));
    // n · 2^k / d > 2^(n_bits − 1 + k − d_bits) = 2^54.
    let k = 55 + d_bits - n_bits;
    // In base 256 from the top of n · 2^k (at most 79 bits): the remainder
    // stays below d < 2^24, so each digit takes one 32-bit division.
    let d = d as u32;
    let (mut q, mut r) = (0u64, 0u32);
    let mut lo = (n_bits + k).next_multiple_of(8);
    while lo > 0 {
        lo -= 8;
        let digit = if lo >= k {
            (n >> (lo - k)) as u32 & 0xff
        } else if lo + 8 > k {
            (n << (k - lo)) as u32 & 0xff
        } else {
            0
        };
        let at = r << 8 | digit;
        q = q << 8 | u64::from(at / d);
        r = at % d;
    }
    (q, k as i32, r != 0)
}

/// `x` rounded to 53 significant bits, ties to even, `sticky` saying that
/// the true value lies a little above `x`: `(m, drop)` with the result
/// `m · 2^drop`, `m ≤ 2^53`. Not inlined: both operations call it.
#[inline(never)]
fn round_to_bits(x: u64, sticky: bool) -> (u64, i32) {
    let len = bit_len(x);
    if len <= BITS {
        return (x, 0);
    }
    let drop = len - BITS;
    let (m, low, half) = (x >> drop, x & ((1 << drop) - 1), 1 << (drop - 1));
    let up = low > half || (low == half && (sticky || m & 1 == 1));
    (m + u64::from(up), drop as i32)
}

/// Bits of `x` up to its highest one.
fn bit_len(x: u64) -> u32 {
    64 - x.leading_zeros()
}

/// A magnitude with a sign as `i32`, saturated.
fn saturate(negative: bool, magnitude: u64) -> i32 {
    match (negative, i32::try_from(magnitude)) {
        (false, Ok(v)) => v,
        (false, Err(_)) => i32::MAX,
        (true, _) if magnitude >= 1 << 31 => i32::MIN,
        (true, _) => -(magnitude as i32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the integers stand for.
    fn in_f64(acc: i32, a: f32, b: f32, c: f32) -> i32 {
        let scale = f64::from(a) * f64::from(b) / f64::from(c);
        (f64::from(acc) * scale).round() as i32
    }

    /// One form per value: an odd mantissa, or zero with exponent 0.
    fn canonical(x: ExactF64) -> ExactF64 {
        match x {
            ExactF64::Finite { negative, m: 0, .. } => ExactF64::Finite {
                negative,
                m: 0,
                e: 0,
            },
            ExactF64::Finite { negative, m, e } => ExactF64::Finite {
                negative,
                m: m >> m.trailing_zeros(),
                e: e + m.trailing_zeros() as i32,
            },
            other => other,
        }
    }

    /// Zeros, infinities, NaN, subnormals and the extremes of `f32`, with
    /// a few plain values to meet them.
    const SPECIALS: [f32; 12] = [
        0.0,
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        1e-45,
        1e-40,
        f32::MIN_POSITIVE,
        f32::MAX,
        1.0,
        -2.5,
        3.0,
    ];

    /// xorshift, for reproducible draws.
    fn draws(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }

    #[test]
    fn the_scale_is_the_f64_quotient() {
        let mut next = draws(0x9e37_79b9_7f4a_7c15);
        for i in 0..200_000 {
            let pick = |r: u64| {
                if r.is_multiple_of(16) {
                    SPECIALS[(r >> 4) as usize % SPECIALS.len()]
                } else {
                    f32::from_bits(r as u32)
                }
            };
            let (a, b, c) = if i % 2 == 0 {
                (pick(next()), pick(next()), pick(next()))
            } else {
                // Scales as calibration gives them: small positive normals.
                let s = |r: u64| f32::from_bits(0x3800_0000 + (r as u32 % 0x0800_0000));
                (s(next()), s(next()), s(next()))
            };
            let want = f64::from(a) * f64::from(b) / f64::from(c);
            assert_eq!(
                canonical(ExactF64::scale(a, b, c)),
                canonical(ExactF64::new(want)),
                "{a:e} {b:e} {c:e}"
            );
        }
    }

    #[test]
    fn zeros_infinities_and_nans_combine_as_in_f64() {
        for a in SPECIALS {
            for b in SPECIALS {
                for c in SPECIALS {
                    let want = f64::from(a) * f64::from(b) / f64::from(c);
                    let got = ExactF64::scale(a, b, c);
                    assert_eq!(
                        canonical(got),
                        canonical(ExactF64::new(want)),
                        "{a} {b} {c}"
                    );
                    for acc in [0, 3, -3] {
                        let want = (f64::from(acc) * want).round() as i32;
                        assert_eq!(got.round_mul(acc), want, "{acc} {a} {b} {c}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_product_rounds_as_f64_then_to_an_integer() {
        let mut next = draws(0x2545_f491_4f6c_dd1d);
        let edges = [0, 1, -1, 2, -2, 127, -128, i32::MAX, i32::MIN, 1 << 30];
        for i in 0..400_000 {
            let r = next();
            let acc = if i % 8 == 0 {
                edges[(r % 10) as usize]
            } else {
                (r >> 32) as i32 >> (r % 24)
            };
            let s = |r: u64| f32::from_bits(0x3a00_0000 + (r as u32 % 0x0a00_0000));
            let (a, b, c) = (s(next()), s(next()), s(next()));
            let scale = ExactF64::scale(a, b, c);
            assert_eq!(
                scale.round_mul(acc),
                in_f64(acc, a, b, c),
                "{acc} {a:e} {b:e} {c:e}"
            );
        }
    }

    #[test]
    fn halves_round_away_from_zero_and_ties_in_the_product_to_even() {
        for (acc, scale) in [
            (3, 0.5),
            (-3, 0.5),
            (5, 0.5),
            (1, 0.499_999_999_999_999_94),
            (7, 0.1),
        ] {
            let want = (f64::from(acc) * scale).round() as i32;
            assert_eq!(ExactF64::new(scale).round_mul(acc), want, "{acc} {scale}");
        }
        // A product exactly halfway between two f64, 4M + 2 with M odd, rounds
        // up to the even 4(M + 1); M's low 24 bits make M · 2^−24 fall just
        // short of a half and (M + 1) · 2^−24 reach it, so the integer tells
        // the two apart.
        let mut m = (3u64 << 51) + (1 << 23) - 1;
        while !(2 * m + 1).is_multiple_of(3) {
            m += 1 << 24;
        }
        let scale = ((2 * m + 1) / 3) as f64 * 2f64.powi(-26);
        for acc in [6, -6] {
            let want = (f64::from(acc) * scale).round() as i32;
            assert_eq!(u64::from(want.unsigned_abs()), (m >> 24) + 1);
            assert_eq!(ExactF64::new(scale).round_mul(acc), want);
        }
    }

    #[test]
    fn products_past_the_int32_range_saturate() {
        // m · 2^e from 2^31 up past 2^64: the left shift must not lose the
        // high bits (2^64 shifted out of a u64 would read as 0).
        let mut next = draws(0x6a09_e667_f3bc_c909);
        for k in 20..100 {
            for acc in [1, -1, 3, -38, 73_728, i32::MAX, i32::MIN] {
                let scale = 2f64.powi(k);
                let want = (f64::from(acc) * scale).round() as i32;
                assert_eq!(ExactF64::new(scale).round_mul(acc), want, "{acc} 2^{k}");
                let scale = scale * (1.0 + (next() >> 11) as f64 * 2f64.powi(-53));
                let want = (f64::from(acc) * scale).round() as i32;
                assert_eq!(ExactF64::new(scale).round_mul(acc), want, "{acc} {scale:e}");
            }
        }
        let scale = ExactF64::scale(2f32.powi(32), 2f32.powi(32), 1.0);
        assert_eq!(scale.round_mul(1), i32::MAX);
    }

    #[test]
    fn nan_infinity_and_huge_products_convert_as_rust_does() {
        for scale in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            1e300,
            5e-324,
            f64::MAX,
        ] {
            for acc in [0, 1, -1, 1000, i32::MIN, i32::MAX] {
                let want = (f64::from(acc) * scale).round() as i32;
                assert_eq!(ExactF64::new(scale).round_mul(acc), want, "{acc} {scale:e}");
            }
        }
    }
}
