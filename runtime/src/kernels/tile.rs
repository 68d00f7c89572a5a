//! Register tiles that stay fast at every optimization level.
//!
//! A kernel's inner loop keeps a tile of accumulators (`FB` filters × `T`
//! columns, `MR` rows × `NR` columns) in registers. At `opt-level = 3` LLVM
//! gets there alone: it unrolls the small constant loops over the tile and
//! vectorizes the unrolled lanes (SLP). At 2 it unrolls but does not run
//! SLP, and at `"s"` and `"z"` it does neither, so the same source became
//! 5 to 18 times slower in a user's build (`benches/opt-levels`). The
//! helpers here take neither decision from LLVM:
//!
//! - [`unroll!`] writes a loop's copies out at compile time, so each
//!   accumulator has a constant index and lives in a register;
//! - [`axpy`] and [`fma`] add a product to a whole tile as 256-bit vectors
//!   (`core::arch`) in the wide build, and lane by lane, unrolled, in the
//!   portable one. Both round every lane exactly as `M::madd` does, so the
//!   results are those of the scalar loops they replace.

use super::dispatch::MulAdd;
use crate::Scalar;

/// Runs `$body` for each `$i` in `0..$n`, its copies written out: `$i` is a
/// literal in each, so a tile indexed by it is held in registers whether or
/// not LLVM would unroll the loop at the user's optimization level. `$n` is
/// a constant expression; up to 16 the copies past it are removed as dead
/// code, beyond 16 (no register tile is that large) it is a plain loop.
///
/// `$i < $n, at most 4` writes 4 copies, and fails to compile for a larger
/// `$n`: in nested tiles it keeps the copies that rustc and LLVM build only
/// to delete from multiplying by 16 at each level.
macro_rules! unroll {
    ($i:ident < $n:expr => $body:expr) => {{
        if $n <= 16 {
            $crate::kernels::tile::unroll!(@ $i, $n, $body; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
        } else {
            for $i in 0..$n {
                $body;
            }
        }
    }};
    ($i:ident < $n:expr, at most 4 => $body:expr) => {{
        const { assert!($n <= 4, "a tile of at most 4") };
        $crate::kernels::tile::unroll!(@ $i, $n, $body; 0 1 2 3)
    }};
    (@ $i:ident, $n:expr, $body:expr; $($k:literal)*) => {{
        $(
            if $k < $n {
                let $i: usize = $k;
                $body;
            }
        )*
    }};
}

pub(crate) use unroll;

/// Runs `$body` for each lane `$i` of a tile of `$t` lanes, one by one:
/// all copies written out up to 16 lanes, beyond in a loop over groups of 8
/// written out (a scalar core pays its loop's counter and branch once per 8
/// multiply-adds instead of once per one).
macro_rules! lanes {
    ($i:ident < $t:expr => $body:expr) => {{
        if $t <= 16 {
            unroll!($i < $t => $body);
        } else {
            for group in 0..$t / 8 {
                unroll!(lane < 8 => {
                    let $i = group * 8 + lane;
                    $body
                });
            }
            unroll!(lane < $t % 8 => {
                let $i = $t - $t % 8 + lane;
                $body
            });
        }
    }};
}

/// `acc[i] = w · x[i] + acc[i]` for every lane, rounded as `M::madd` rounds.
#[inline(always)]
pub(crate) fn axpy<M: MulAdd, E: Scalar, const T: usize>(acc: &mut [E; T], w: E, x: &[E; T]) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if M::WIDE {
        let n = avx::lanes::<E>();
        unroll!(v < T / avx::lanes::<E>() => {
            // SAFETY: `M::WIDE` runs only inside the AVX2 + FMA build,
            // and lanes `v · n .. v · n + n` lie in both tiles.
            #[expect(unsafe_code, reason = "core::arch vectors; see SAFETY")]
            unsafe {
                avx::axpy(acc.as_mut_ptr().add(v * n), w, x.as_ptr().add(v * n));
            }
        });
        let body = T - T % n;
        unroll!(i < T % avx::lanes::<E>() => {
            acc[body + i] = M::madd(w, x[body + i], acc[body + i]);
        });
        return;
    }
    lanes!(i < T => acc[i] = M::madd(w, x[i], acc[i]));
}

/// `acc[i] = v` for every lane.
#[inline(always)]
pub(crate) fn fill<M: MulAdd, E: Scalar, const T: usize>(acc: &mut [E; T], v: E) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if M::WIDE {
        let n = avx::lanes::<E>();
        unroll!(k < T / avx::lanes::<E>() => {
            // SAFETY: as in `axpy`.
            #[expect(unsafe_code, reason = "core::arch vectors; see SAFETY")]
            unsafe {
                avx::fill(acc.as_mut_ptr().add(k * n), v);
            }
        });
        acc[T - T % n..].fill(v);
        return;
    }
    *acc = [v; T];
}

/// `t[i] = max(t[i], 0)` for every lane, NaN kept and `-0` left as it is,
/// as [`Relu`](super::activation::Relu)'s `forward` does.
#[inline(always)]
pub(crate) fn relu<M: MulAdd, E: Scalar, const T: usize>(t: &mut [E; T]) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if M::WIDE {
        let n = avx::lanes::<E>();
        unroll!(k < T / avx::lanes::<E>() => {
            // SAFETY: as in `axpy`.
            #[expect(unsafe_code, reason = "core::arch vectors; see SAFETY")]
            unsafe {
                avx::relu(t.as_mut_ptr().add(k * n));
            }
        });
        for v in &mut t[T - T % n..] {
            *v = if *v < E::ZERO { E::ZERO } else { *v };
        }
        return;
    }
    lanes!(i < T => t[i] = if t[i] < E::ZERO { E::ZERO } else { t[i] });
}

/// `acc[i] += x[i] − x[i]` for every lane: NaN from the first non-finite
/// `x` on (the finiteness scan of [`all_finite`](crate::scalar::all_finite)).
/// `WIDE` selects the AVX vectors, which only code running because
/// [`dispatch::fma`](super::dispatch::fma) said yes may ask for.
#[inline(always)]
#[expect(
    clippy::eq_op,
    reason = "`x - x` is the test: NaN exactly when `x` is not finite"
)]
pub(crate) fn add_self_difference<const WIDE: bool, E: Scalar, const T: usize>(
    acc: &mut [E; T],
    x: &[E; T],
) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if WIDE {
        let n = avx::lanes::<E>();
        unroll!(k < T / avx::lanes::<E>() => {
            // SAFETY: `WIDE` only when the CPU has AVX2 (the caller's
            // contract), and lanes `k · n .. k · n + n` lie in both tiles.
            #[expect(unsafe_code, reason = "core::arch vectors; see SAFETY")]
            unsafe {
                avx::add_self_difference(acc.as_mut_ptr().add(k * n), x.as_ptr().add(k * n));
            }
        });
        for (a, &v) in acc[T - T % n..].iter_mut().zip(&x[T - T % n..]) {
            *a += v - v;
        }
        return;
    }
    lanes!(i < T => acc[i] += x[i] - x[i]);
}

/// `acc[i] = a[i] · b[i] + acc[i]` for every lane, rounded as `M::madd`
/// rounds.
#[inline(always)]
pub(crate) fn fma<M: MulAdd, E: Scalar, const T: usize>(acc: &mut [E; T], a: &[E; T], b: &[E; T]) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if M::WIDE {
        let n = avx::lanes::<E>();
        unroll!(v < T / avx::lanes::<E>() => {
            // SAFETY: as in `axpy`.
            #[expect(unsafe_code, reason = "core::arch vectors; see SAFETY")]
            unsafe {
                avx::fma(acc.as_mut_ptr().add(v * n), a.as_ptr().add(v * n), b.as_ptr().add(v * n));
            }
        });
        let body = T - T % n;
        unroll!(i < T % avx::lanes::<E>() => {
            acc[body + i] = M::madd(a[body + i], b[body + i], acc[body + i]);
        });
        return;
    }
    lanes!(i < T => acc[i] = M::madd(a[i], b[i], acc[i]));
}

/// The 256-bit operations of the wide build, for either scalar type: a
/// kernel is generic over `E`, and `E::BYTES` tells `f32` (8 lanes) from
/// `f64` (4 lanes), the only two `Scalar` types.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod avx {
    use core::arch::x86_64::{
        _mm256_add_pd, _mm256_add_ps, _mm256_fmadd_pd, _mm256_fmadd_ps, _mm256_loadu_pd,
        _mm256_loadu_ps, _mm256_max_pd, _mm256_max_ps, _mm256_set1_pd, _mm256_set1_ps,
        _mm256_setzero_pd, _mm256_setzero_ps, _mm256_storeu_pd, _mm256_storeu_ps, _mm256_sub_pd,
        _mm256_sub_ps,
    };

    use crate::Scalar;

    /// Lanes of `E` in one 256-bit vector.
    #[inline(always)]
    pub(super) const fn lanes<E: Scalar>() -> usize {
        32 / E::BYTES
    }

    /// One vector of `acc = w · x + acc`, rounded once per lane.
    ///
    /// # Safety
    /// The CPU has AVX and FMA; `acc` and `x` point to [`lanes`] values.
    #[inline(always)]
    #[expect(unsafe_code, reason = "core::arch loads, stores and FMA")]
    pub(super) unsafe fn axpy<E: Scalar>(acc: *mut E, w: E, x: *const E) {
        // SAFETY: the caller's contract; `E` is `f32` or `f64` as its size says.
        unsafe {
            if E::BYTES == 4 {
                let (acc, x) = (acc.cast::<f32>(), x.cast::<f32>());
                let w = _mm256_set1_ps(w.to_f64() as f32);
                _mm256_storeu_ps(
                    acc,
                    _mm256_fmadd_ps(w, _mm256_loadu_ps(x), _mm256_loadu_ps(acc)),
                );
            } else {
                let (acc, x) = (acc.cast::<f64>(), x.cast::<f64>());
                let w = _mm256_set1_pd(w.to_f64());
                _mm256_storeu_pd(
                    acc,
                    _mm256_fmadd_pd(w, _mm256_loadu_pd(x), _mm256_loadu_pd(acc)),
                );
            }
        }
    }

    /// One vector of `v`s at `acc`.
    ///
    /// # Safety
    /// As for [`axpy`].
    #[inline(always)]
    #[expect(unsafe_code, reason = "core::arch stores")]
    pub(super) unsafe fn fill<E: Scalar>(acc: *mut E, v: E) {
        // SAFETY: the caller's contract; `E` is `f32` or `f64` as its size says.
        unsafe {
            if E::BYTES == 4 {
                _mm256_storeu_ps(acc.cast::<f32>(), _mm256_set1_ps(v.to_f64() as f32));
            } else {
                _mm256_storeu_pd(acc.cast::<f64>(), _mm256_set1_pd(v.to_f64()));
            }
        }
    }

    /// One vector of `t = max(t, 0)`: `maxps(0, t)` returns its second
    /// operand unless the first is greater, so NaN and `-0` stay.
    ///
    /// # Safety
    /// As for [`axpy`].
    #[inline(always)]
    #[expect(unsafe_code, reason = "core::arch loads, stores and max")]
    pub(super) unsafe fn relu<E: Scalar>(t: *mut E) {
        // SAFETY: the caller's contract; `E` is `f32` or `f64` as its size says.
        unsafe {
            if E::BYTES == 4 {
                let t = t.cast::<f32>();
                _mm256_storeu_ps(t, _mm256_max_ps(_mm256_setzero_ps(), _mm256_loadu_ps(t)));
            } else {
                let t = t.cast::<f64>();
                _mm256_storeu_pd(t, _mm256_max_pd(_mm256_setzero_pd(), _mm256_loadu_pd(t)));
            }
        }
    }

    /// One vector of `acc = acc + (x − x)`.
    ///
    /// # Safety
    /// The CPU has AVX; `acc` and `x` point to [`lanes`] values.
    #[inline(always)]
    #[expect(unsafe_code, reason = "core::arch loads, stores, adds and subtracts")]
    pub(super) unsafe fn add_self_difference<E: Scalar>(acc: *mut E, x: *const E) {
        // SAFETY: the caller's contract; `E` is `f32` or `f64` as its size says.
        unsafe {
            if E::BYTES == 4 {
                let (acc, x) = (acc.cast::<f32>(), _mm256_loadu_ps(x.cast::<f32>()));
                _mm256_storeu_ps(
                    acc,
                    _mm256_add_ps(_mm256_loadu_ps(acc), _mm256_sub_ps(x, x)),
                );
            } else {
                let (acc, x) = (acc.cast::<f64>(), _mm256_loadu_pd(x.cast::<f64>()));
                _mm256_storeu_pd(
                    acc,
                    _mm256_add_pd(_mm256_loadu_pd(acc), _mm256_sub_pd(x, x)),
                );
            }
        }
    }

    /// One vector of `acc = a · b + acc`, rounded once per lane.
    ///
    /// # Safety
    /// As for [`axpy`], with `a` and `b` in place of `x`.
    #[inline(always)]
    #[expect(unsafe_code, reason = "core::arch loads, stores and FMA")]
    pub(super) unsafe fn fma<E: Scalar>(acc: *mut E, a: *const E, b: *const E) {
        // SAFETY: the caller's contract; `E` is `f32` or `f64` as its size says.
        unsafe {
            if E::BYTES == 4 {
                let (acc, a, b) = (acc.cast::<f32>(), a.cast::<f32>(), b.cast::<f32>());
                let p =
                    _mm256_fmadd_ps(_mm256_loadu_ps(a), _mm256_loadu_ps(b), _mm256_loadu_ps(acc));
                _mm256_storeu_ps(acc, p);
            } else {
                let (acc, a, b) = (acc.cast::<f64>(), a.cast::<f64>(), b.cast::<f64>());
                let p =
                    _mm256_fmadd_pd(_mm256_loadu_pd(a), _mm256_loadu_pd(b), _mm256_loadu_pd(acc));
                _mm256_storeu_pd(acc, p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::dispatch::{self, Unfused};
    use super::super::test_util::random;
    use super::*;

    /// Each helper against its one-lane-at-a-time definition, bit for bit,
    /// over tiles shorter than a vector, a whole vector, and vectors with a
    /// tail, with the special values the activation must keep.
    fn check<M: MulAdd, E: Scalar, const T: usize>() {
        let tile = |seed| -> [E; T] {
            let mut t: [E; T] = core::array::from_fn(|i| random::<E>(T, seed)[i]);
            if T > 2 {
                t[1] = E::from_f64(f64::NAN);
                t[2] = E::from_f64(-0.0);
            }
            t
        };
        let bits = |t: &[E; T]| t.map(|v| v.to_f64().to_bits());
        let (acc, a, b, w) = (tile(1), tile(2), tile(3), E::from_f64(0.375));

        let (mut got, mut want) = (acc, acc);
        axpy::<M, E, T>(&mut got, w, &a);
        want.iter_mut()
            .zip(&a)
            .for_each(|(s, &x)| *s = M::madd(w, x, *s));
        assert_eq!(bits(&got), bits(&want), "axpy {T}");

        let (mut got, mut want) = (acc, acc);
        fma::<M, E, T>(&mut got, &a, &b);
        want.iter_mut()
            .zip(a.iter().zip(&b))
            .for_each(|(s, (&x, &y))| *s = M::madd(x, y, *s));
        assert_eq!(bits(&got), bits(&want), "fma {T}");

        let mut got = acc;
        fill::<M, E, T>(&mut got, w);
        assert_eq!(bits(&got), bits(&[w; T]), "fill {T}");

        let (mut got, want) = (a, a.map(|v| if v < E::ZERO { E::ZERO } else { v }));
        relu::<M, E, T>(&mut got);
        assert_eq!(bits(&got), bits(&want), "relu {T}");
    }

    fn check_all<M: MulAdd, E: Scalar>() {
        check::<M, E, 1>();
        check::<M, E, 3>();
        check::<M, E, 4>();
        check::<M, E, 8>();
        check::<M, E, 13>();
        check::<M, E, 16>();
        check::<M, E, 24>();
        check::<M, E, 37>();
    }

    #[test]
    fn portable_helpers_equal_their_lane_by_lane_definitions() {
        check_all::<Unfused, f32>();
        check_all::<Unfused, f64>();
    }

    #[test]
    fn wide_helpers_equal_their_lane_by_lane_definitions() {
        if dispatch::fma() {
            check_all::<dispatch::Fused, f32>();
            check_all::<dispatch::Fused, f64>();
        }
    }

    #[test]
    fn unroll_visits_each_index_once_in_order() {
        let mut seen = std::vec::Vec::new();
        unroll!(i < 5 => seen.push(i));
        assert_eq!(seen, [0, 1, 2, 3, 4]);
        seen.clear();
        unroll!(i < 3, at most 4 => seen.push(i));
        assert_eq!(seen, [0, 1, 2]);
        seen.clear();
        unroll!(i < 20 => seen.push(i));
        assert_eq!(seen, (0..20).collect::<std::vec::Vec<_>>());
        seen.clear();
        lanes!(i < 21 => seen.push(i));
        assert_eq!(seen, (0..21).collect::<std::vec::Vec<_>>());
    }
}
