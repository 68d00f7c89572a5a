//! Run-time selection between kernel builds.
//!
//! Every hot kernel has one generic body, compiled twice: once with AVX2 and
//! FMA enabled (used when the CPU has them, detected once), and once for the
//! portable baseline. The multiply-add policy is a type parameter: [`Fused`]
//! rounds once (`vfmadd`), [`Unfused`] rounds twice (`a * b + c`).
//!
//! The portable build sums in the same order as the same code on any other
//! target, which is what makes a desktop and a Cortex-M agree bit for bit.
//! [`set_portable`] forces it on a desktop for such comparisons.

use core::sync::atomic::{AtomicU8, Ordering};

use crate::Scalar;

/// How `a * b + c` is computed inside a kernel body.
pub trait MulAdd: Copy {
    /// Whether this is the wide (AVX2 + FMA) build, which splits sums into
    /// vector lanes.
    const WIDE: bool;
    /// `a * b + c`.
    fn madd<E: Scalar>(a: E, b: E, c: E) -> E;
}

/// Two roundings: `a * b + c`. Portable and reproducible everywhere.
#[derive(Debug, Clone, Copy)]
pub struct Unfused;

impl MulAdd for Unfused {
    const WIDE: bool = false;
    #[inline(always)]
    fn madd<E: Scalar>(a: E, b: E, c: E) -> E {
        a * b + c
    }
}

/// One rounding, through the FMA instruction. Only used inside functions
/// compiled with the `fma` target feature.
#[cfg(feature = "std")]
#[derive(Debug, Clone, Copy)]
pub struct Fused;

#[cfg(feature = "std")]
impl MulAdd for Fused {
    const WIDE: bool = true;
    #[inline(always)]
    fn madd<E: Scalar>(a: E, b: E, c: E) -> E {
        a.fused_mul_add(b, c)
    }
}

const UNKNOWN: u8 = 0;
const PORTABLE: u8 = 1;
const FMA: u8 = 2;

static MODE: AtomicU8 = AtomicU8::new(UNKNOWN);

/// Forces the portable kernels (`true`) or returns to automatic selection
/// (`false`).
///
/// The portable kernels give bit-identical results on every target, which a
/// comparison with a microcontroller needs; the AVX2/FMA kernels are faster
/// and round differently.
pub fn set_portable(portable: bool) {
    MODE.store(if portable { PORTABLE } else { UNKNOWN }, Ordering::Relaxed);
}

/// Whether kernels use their AVX2 + FMA build.
#[inline]
pub fn fma() -> bool {
    match MODE.load(Ordering::Relaxed) {
        PORTABLE => false,
        FMA => true,
        _ => {
            let found = detect();
            MODE.store(if found { FMA } else { PORTABLE }, Ordering::Relaxed);
            found
        }
    }
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
fn detect() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

#[cfg(not(all(feature = "std", target_arch = "x86_64")))]
fn detect() -> bool {
    false
}

/// Defines a kernel entry point that dispatches to an AVX2/FMA or a
/// portable monomorphization of a generic body.
///
/// Work split across threads must call entry points, not bodies, on each
/// part: a closure run by another thread does not inherit the caller's
/// target features, so a body inlined there would lose its vector build.
///
/// `$body` is the name of a function generic over `M: MulAdd` followed by the
/// entry point's own generics. Lint expectations written after the doc
/// comment (`#[expect(clippy::too_many_arguments, reason = "…")]`) apply to
/// the entry point and to its AVX2/FMA twin, which share its parameter list.
/// They belong at the call site, where the parameters are visible: a fixed
/// `expect` here would be unfulfilled for the entry points the lint spares.
///
/// `=> $body, portable $call` names, for a body whose sizes can be given at
/// run time, the call of its portable build with those sizes: where the
/// AVX2/FMA twin exists (x86-64 with `std`), the portable build is the
/// fallback of older CPUs and of bit-exact comparisons, and one build per
/// scalar serves every shape instead of one per shape. The entry point
/// must return `()`. Elsewhere the portable build is the only one and keeps
/// its shape.
macro_rules! entry {
    (
        $(#[doc = $doc:expr])*
        $(#[expect($($lint:tt)*)])*
        $vis:vis fn $name:ident < $($g:ident $(: $b:path)?),* ; $(const $c:ident : usize),* >
            ( $($arg:ident : $ty:ty),* $(,)? ) => $body:ident;
    ) => {
        $(#[doc = $doc])*
        $(#[expect($($lint)*)])*
        $vis fn $name<$($g $(: $b)?,)* $(const $c: usize),*>($($arg: $ty),*) {
            $crate::kernels::dispatch::entry!(@fast $body [$($g $(: $b)?),*] [$($c),*] ($($arg: $ty),*) $([$($lint)*])*);
            $body::<$crate::kernels::dispatch::Unfused, $($g,)* $($c),*>($($arg),*)
        }
    };
    (
        $(#[doc = $doc:expr])*
        $(#[expect($($lint:tt)*)])*
        $vis:vis fn $name:ident < $($g:ident $(: $b:path)?),* ; $(const $c:ident : usize),* >
            ( $($arg:ident : $ty:ty),* $(,)? ) => $body:ident, portable $portable:expr;
    ) => {
        $(#[doc = $doc])*
        $(#[expect($($lint)*)])*
        $vis fn $name<$($g $(: $b)?,)* $(const $c: usize),*>($($arg: $ty),*) {
            $crate::kernels::dispatch::entry!(@fast $body [$($g $(: $b)?),*] [$($c),*] ($($arg: $ty),*) $([$($lint)*])*);
            #[cfg(all(feature = "std", target_arch = "x86_64"))]
            $portable;
            #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
            $body::<$crate::kernels::dispatch::Unfused, $($g,)* $($c),*>($($arg),*);
        }
    };
    // Returns the AVX2/FMA twin's result when the CPU has those features.
    (
        @fast $body:ident [$($g:ident $(: $b:path)?),*] [$($c:ident),*]
            ( $($arg:ident : $ty:ty),* ) $([$($lint:tt)*])*
    ) => {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if $crate::kernels::dispatch::fma() {
            #[target_feature(enable = "avx2,fma")]
            $(#[expect($($lint)*)])*
            fn fast<$($g $(: $b)?,)* $(const $c: usize),*>($($arg: $ty),*) {
                $body::<$crate::kernels::dispatch::Fused, $($g,)* $($c),*>($($arg),*)
            }
            // SAFETY: `fma()` is true only when the running CPU supports
            // AVX2 and FMA, the features `fast` is compiled with.
            #[expect(
                unsafe_code,
                reason = "calling a `#[target_feature]` function is unsafe; `fma()` checked the CPU"
            )]
            unsafe {
                return fast::<$($g,)* $($c),*>($($arg),*);
            }
        }
    };
}

pub(crate) use entry;

/// A loop that [`wide`] runs: elementwise work outside the kernels (the
/// optimizers' updates and their checks, the sum of the shards' gradients,
/// the finiteness scans).
pub(crate) trait Loop {
    type Out;
    /// The loop; `#[inline(always)]` in every impl, so that it compiles
    /// inside the AVX2 build of `wide` (a closure there would not be
    /// inlined reliably, and would lose the build).
    fn run(self) -> Self::Out;
}

/// Runs a loop compiled for AVX2 when the CPU has it (the kernels'
/// detection, [`fma`]), else in the portable build.
///
/// For loops that only add, subtract, multiply, divide and take square
/// roots element by element, which IEEE 754 rounds the same at every vector
/// width: without FMA, the AVX2 build writes the portable build's bits, so
/// results do not depend on the CPU. It halves the cost of Adam's update
/// and of its check, and of the gradient sum of a data-parallel step.
#[inline(always)]
pub(crate) fn wide<L: Loop>(body: L) -> L::Out {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if fma() {
        #[target_feature(enable = "avx2")]
        fn avx2<L: Loop>(body: L) -> L::Out {
            body.run()
        }
        // SAFETY: `fma()` is true only when the running CPU supports AVX2
        // and FMA; `avx2` needs the first.
        #[expect(
            unsafe_code,
            reason = "calling a `#[target_feature]` function is unsafe; `fma()` checked the CPU"
        )]
        return unsafe { avx2(body) };
    }
    body.run()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portable_can_be_forced_and_released() {
        set_portable(true);
        assert!(!fma());
        set_portable(false);
        let _ = fma();
    }
}
