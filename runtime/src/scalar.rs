//! The element types networks compute in: `f32` and `f64`.
//!
//! All transcendental functions go through [`libm`], with or without `std`. That
//! keeps results bit-identical between a desktop and a microcontroller: the
//! platform `libm` of a desktop and the soft routines of a Cortex-M would
//! otherwise round `exp` differently. The square root, which IEEE 754 rounds
//! exactly everywhere, uses the hardware instruction when `std` is there.

use core::fmt::{Debug, Display};
use core::iter::Sum;
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point element type: `f32` or `f64`.
///
/// Sealed: kernels rely on IEEE semantics and on the exact list of types.
pub trait Scalar:
    sealed::Sealed
    + Copy
    + Default
    + PartialEq
    + PartialOrd
    + Debug
    + Display
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
{
    /// Additive identity.
    const ZERO: Self;
    /// Multiplicative identity.
    const ONE: Self;
    /// The largest finite value.
    const MAX: Self;
    /// Size of one element in bytes.
    const BYTES: usize;
    /// The Rust name of the type, as used in file headers and messages.
    const NAME: &'static str;

    /// Converts from `f64`, rounding to nearest.
    fn from_f64(v: f64) -> Self;
    /// Converts to `f64` exactly.
    fn to_f64(self) -> f64;
    /// Converts a count, rounding to nearest.
    fn from_usize(n: usize) -> Self;
    /// `e^self`.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// `ln(1 + self)`, accurate near zero.
    fn ln_1p(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// The error function (GELU's exact form uses it).
    fn erf(self) -> Self;
    /// Absolute value.
    fn abs(self) -> Self;
    /// The larger of two values; NaN if either is NaN.
    ///
    /// NaN propagates as in IEEE 754-2019 `maximum` and PyTorch's
    /// `torch.maximum`, unlike `f32::max`, which returns the other operand:
    /// a NaN that reaches a clamp, a softmax's shift or a variance floor
    /// stays visible instead of turning into a plausible number. Of `-0.0`
    /// and `0.0`, either may be returned.
    fn max(self, other: Self) -> Self;
    /// The smaller of two values; NaN if either is NaN (as [`Scalar::max`]).
    fn min(self, other: Self) -> Self;
    /// Whether the value is neither infinite nor NaN.
    fn is_finite(self) -> bool;
    /// Whether the value is NaN.
    fn is_nan(self) -> bool;
    /// Writes the little-endian bytes of the value into `out[..Self::BYTES]`.
    fn write_le(self, out: &mut [u8]);
    /// Reads a value from the little-endian bytes `bytes[..Self::BYTES]`.
    fn read_le(bytes: &[u8]) -> Self;

    /// `self * a + b` with one rounding, through `llvm.fma`: a single
    /// instruction inside code compiled with the `fma` target feature.
    #[cfg(feature = "std")]
    #[doc(hidden)]
    fn fused_mul_add(self, a: Self, b: Self) -> Self;

    /// Runs `f` with this thread's reusable scratch buffers of this type.
    #[cfg(feature = "std")]
    #[doc(hidden)]
    fn with_scratch<R>(f: impl FnOnce(&mut std::vec::Vec<Self>, &mut std::vec::Vec<u32>) -> R)
    -> R;
}

macro_rules! impl_scalar {
    ($t:ident, $scratch:ident, $bytes:literal, $exp:path, $ln:path, $ln1p:path, $sqrt:path, $tanh:path, $erf:path) => {
        impl Scalar for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const MAX: Self = <$t>::MAX;
            const BYTES: usize = $bytes;
            const NAME: &'static str = stringify!($t);

            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self.into()
            }
            #[inline(always)]
            fn from_usize(n: usize) -> Self {
                n as $t
            }
            #[inline(always)]
            fn exp(self) -> Self {
                $exp(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                $ln(self)
            }
            #[inline(always)]
            fn ln_1p(self) -> Self {
                $ln1p(self)
            }
            // NOTE: IEEE 754 rounds a square root exactly, so the hardware's
            // (through `std`) and libm's agree bit for bit. The hardware's
            // vectorizes (`sqrtps`); libm's is an opaque `sqrtss` per
            // element, which made Adam's update and its check several times
            // slower.
            #[cfg(feature = "std")]
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[cfg(not(feature = "std"))]
            #[inline(always)]
            fn sqrt(self) -> Self {
                $sqrt(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                $tanh(self)
            }
            #[inline(always)]
            fn erf(self) -> Self {
                $erf(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn max(self, other: Self) -> Self {
                // Both comparisons are false exactly when one side is NaN;
                // the sum is then NaN.
                if self >= other {
                    self
                } else if self < other {
                    other
                } else {
                    self + other
                }
            }
            #[inline(always)]
            fn min(self, other: Self) -> Self {
                if self <= other {
                    self
                } else if self > other {
                    other
                } else {
                    self + other
                }
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            #[inline(always)]
            fn write_le(self, out: &mut [u8]) {
                out[..$bytes].copy_from_slice(&self.to_le_bytes());
            }
            #[inline(always)]
            fn read_le(bytes: &[u8]) -> Self {
                let mut raw = [0u8; $bytes];
                raw.copy_from_slice(&bytes[..$bytes]);
                <$t>::from_le_bytes(raw)
            }

            #[cfg(feature = "std")]
            #[inline(always)]
            fn fused_mul_add(self, a: Self, b: Self) -> Self {
                <$t>::mul_add(self, a, b)
            }

            #[cfg(feature = "std")]
            fn with_scratch<R>(
                f: impl FnOnce(&mut std::vec::Vec<Self>, &mut std::vec::Vec<u32>) -> R,
            ) -> R {
                std::thread_local! {
                    static $scratch: core::cell::RefCell<(std::vec::Vec<$t>, std::vec::Vec<u32>)> =
                        const { core::cell::RefCell::new((std::vec::Vec::new(), std::vec::Vec::new())) };
                }
                $scratch.with(|cell| {
                    let (data, index) = &mut *cell.borrow_mut();
                    f(data, index)
                })
            }
        }
    };
}

impl_scalar!(
    f32,
    SCRATCH_F32,
    4,
    libm::expf,
    libm::logf,
    libm::log1pf,
    libm::sqrtf,
    libm::tanhf,
    libm::erff
);
impl_scalar!(
    f64,
    SCRATCH_F64,
    8,
    libm::exp,
    libm::log,
    libm::log1p,
    libm::sqrt,
    libm::tanh,
    libm::erf
);

/// Whether no element is NaN or infinite.
///
/// `x - x` is NaN exactly for those, and summing it in independent lanes
/// (no early exit, no reduction order) lets the check vectorize. Training
/// runs it on every batch's inputs and gradients: SimpleConvNet's 433,890
/// gradients take about 50 µs (the `guard` group of the runtime's network
/// benchmarks).
///
/// # Examples
/// ```
/// use constnet::scalar::all_finite;
/// assert!(all_finite(&[0.5f32, -1e30]));
/// assert!(!all_finite(&[0.5f32, f32::NAN]));
/// ```
pub fn all_finite<E: Scalar>(values: &[E]) -> bool {
    crate::kernels::dispatch::wide(FiniteScan(values))
}

/// The loop of [`all_finite`], run in the AVX2 build when the CPU has it.
struct FiniteScan<'a, E>(&'a [E]);

impl<E: Scalar> crate::kernels::dispatch::Loop for FiniteScan<'_, E> {
    type Out = bool;
    #[inline(always)]
    #[expect(
        clippy::eq_op,
        reason = "`x - x` is the test: NaN exactly when `x` is not finite"
    )]
    fn run(self) -> bool {
        let mut lanes = [E::ZERO; 16];
        let (chunks, tail) = self.0.as_chunks::<16>();
        // Through the kernels' tiles: vectors in the AVX2 build whatever the
        // optimization level, which alone vectorizes this loop only at 3.
        if crate::kernels::dispatch::fma() {
            for chunk in chunks {
                crate::kernels::tile::add_self_difference::<true, E, 16>(&mut lanes, chunk);
            }
        } else {
            for chunk in chunks {
                crate::kernels::tile::add_self_difference::<false, E, 16>(&mut lanes, chunk);
            }
        }
        lanes.iter().chain(tail).all(|&v| (v - v) == E::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn le_bytes_round_trip() {
        let mut buf = [0u8; 8];
        1.5f32.write_le(&mut buf);
        assert_eq!(f32::read_le(&buf), 1.5);
        (-2.25f64).write_le(&mut buf);
        assert_eq!(f64::read_le(&buf), -2.25);
    }

    #[test]
    fn math_goes_through_libm() {
        assert_eq!(Scalar::exp(1.0f64), libm::exp(1.0));
        assert!((Scalar::ln(core::f32::consts::E) - 1.0).abs() < 1e-6);
        assert_eq!(Scalar::max(1.0f32, 2.0), 2.0);
    }

    #[test]
    fn max_and_min_propagate_nan() {
        for (a, b) in [(f32::NAN, 0.0), (0.0, f32::NAN), (f32::NAN, f32::NAN)] {
            assert!(Scalar::max(a, b).is_nan(), "max({a}, {b})");
            assert!(Scalar::min(a, b).is_nan(), "min({a}, {b})");
        }
        assert!(Scalar::max(f64::NAN, f64::NEG_INFINITY).is_nan());
        assert_eq!(Scalar::max(-1.0f64, f64::NEG_INFINITY), -1.0);
        assert_eq!(Scalar::min(-1.0f64, f64::NEG_INFINITY), f64::NEG_INFINITY);
        assert_eq!(Scalar::min(3.0f32, 2.0), 2.0);
        assert_eq!(Scalar::max(f32::INFINITY, 2.0), f32::INFINITY);
    }

    #[test]
    fn finiteness_check_finds_any_nan_or_infinity() {
        let mut v = std::vec![0.5f32; 100];
        assert!(all_finite(&v));
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            for at in [0, 15, 16, 99] {
                v[at] = bad;
                assert!(!all_finite(&v), "{bad} at {at}");
                v[at] = 0.5;
            }
        }
        assert!(all_finite::<f64>(&[]));
    }
}
