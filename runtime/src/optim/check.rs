//! The check of an update before it is written: what it reports, and the
//! helpers every optimizer's `check_update` shares.

use crate::Scalar;
use crate::kernels::dispatch::{Loop, wide};

/// What an update would have made NaN or infinite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateFault {
    /// A parameter.
    Parameter,
    /// A value of the optimizer's state (a velocity, a moment).
    State,
}

/// Why [`step`](super::step) refused a step: updating `tensor` would have written a NaN
/// or an infinity. Nothing was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// The name of the first tensor whose update failed the check.
    pub tensor: &'static str,
    /// What would have become NaN or infinite.
    pub fault: UpdateFault,
}

impl core::fmt::Display for Refused {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let what = match self.fault {
            UpdateFault::Parameter => "the parameters",
            UpdateFault::State => "the optimizer state",
        };
        write!(
            f,
            "the update would make {what} of `{}` NaN or infinite; nothing was changed",
            self.tensor
        )
    }
}

impl core::error::Error for Refused {}

/// One element's update `(θ, ∇, s) → (θ', s')`, with `N` values of state
/// per element; an optimizer's update and its check both run it, so the
/// check computes exactly what the update writes.
pub(crate) trait Rule<E: Scalar, const N: usize>: Copy {
    /// The new parameter and state.
    fn apply(self, p: E, g: E, s: [E; N]) -> (E, [E; N]);

    /// The new state, and whether the new parameter is finite for sure
    /// (`false`: maybe not). By default the parameter is computed; rules
    /// whose parameter costs a root and a division prove it finite with a
    /// [`RatioBound`] instead.
    #[inline(always)]
    fn screen(self, p: E, g: E, s: [E; N]) -> ([E; N], bool) {
        let (p, s) = self.apply(p, g, s);
        (s, p.is_finite())
    }
}

/// Finiteness of the values an update would write, accumulated without
/// branches (an `|=` of integers is an associative reduction), so the check
/// loops vectorize as the updates do.
#[derive(Clone, Copy)]
struct Written {
    /// Non-zero once a parameter is (maybe) not finite.
    param: u32,
    /// Non-zero once a state value is not finite.
    state: u32,
}

impl Written {
    const fn new() -> Self {
        Written { param: 0, state: 0 }
    }

    #[inline(always)]
    fn param(&mut self, finite: bool) {
        self.param |= u32::from(!finite);
    }

    #[inline(always)]
    fn state<E: Scalar, const N: usize>(&mut self, values: [E; N]) {
        for v in values {
            self.state |= u32::from(!v.is_finite());
        }
    }

    /// The parameters' fault first: it is the one users act on.
    fn result(self) -> Result<(), UpdateFault> {
        match (self.param, self.state) {
            (0, 0) => Ok(()),
            (0, _) => Err(UpdateFault::State),
            _ => Err(UpdateFault::Parameter),
        }
    }
}

/// The update and the check of one tensor, for rules with 0, 1 and 2 state
/// values per element (SGD; momentum, AdaGrad, RMSProp; Adam). Slices are
/// zipped: they are as long as the parameter slice, or the loop stops at
/// the shortest.
macro_rules! loops {
    (
        $update:ident, $check:ident, $Update:ident, $Check:ident, $n:literal,
        [$($s:ident),*], [$($new:ident),*]
    ) => {
        struct $Update<'a, E, R> {
            rule: R,
            param: &'a mut [E],
            grad: &'a [E],
            $($s: &'a mut [E],)*
        }

        impl<E: Scalar, R: Rule<E, $n>> Loop for $Update<'_, E, R> {
            type Out = ();
            #[inline(always)]
            fn run(self) {
                let rule = self.rule;
                let it = self.param.iter_mut().zip(self.grad);
                $(let it = it.zip(self.$s.iter_mut());)*
                for loops!(@pat p, g; $($s),*) in it {
                    let (new, [$($new),*]) = rule.apply(*p, *g, [$(*$s),*]);
                    *p = new;
                    $(*$s = $new;)*
                }
            }
        }

        struct $Check<'a, E, R> {
            rule: R,
            param: &'a [E],
            grad: &'a [E],
            $($s: &'a [E],)*
        }

        impl<E: Scalar, R: Rule<E, $n>> Loop for $Check<'_, E, R> {
            type Out = Result<(), UpdateFault>;
            #[inline(always)]
            fn run(self) -> Self::Out {
                let rule = self.rule;
                let mut screen = Written::new();
                let it = self.param.iter().zip(self.grad);
                $(let it = it.zip(self.$s);)*
                for loops!(@pat p, g; $($s),*) in it.clone() {
                    let (state, sure) = rule.screen(*p, *g, [$(*$s),*]);
                    screen.param(sure);
                    screen.state(state);
                }
                if screen.result().is_ok() {
                    return Ok(());
                }
                // Maybe not finite: the exact update decides, and says what.
                let mut written = Written::new();
                for loops!(@pat p, g; $($s),*) in it {
                    let (p, state) = rule.apply(*p, *g, [$(*$s),*]);
                    written.param(p.is_finite());
                    written.state(state);
                }
                written.result()
            }
        }

        /// Updates one tensor by `rule`, in the AVX2 build when available.
        pub(crate) fn $update<E: Scalar, R: Rule<E, $n>>(
            rule: R,
            param: &mut [E],
            grad: &[E],
            $($s: &mut [E],)*
        ) {
            wide($Update { rule, param, grad, $($s,)* });
        }

        /// Checks what [`$update`] would write, without writing it.
        pub(crate) fn $check<E: Scalar, R: Rule<E, $n>>(
            rule: R,
            param: &[E],
            grad: &[E],
            $($s: &[E],)*
        ) -> Result<(), UpdateFault> {
            wide($Check { rule, param, grad, $($s,)* })
        }
    };
    (@pat $p:ident, $g:ident;) => { ($p, $g) };
    (@pat $p:ident, $g:ident; $a:ident) => { (($p, $g), $a) };
    (@pat $p:ident, $g:ident; $a:ident, $b:ident) => { ((($p, $g), $a), $b) };
}

loops!(update0, check0, Update0, Check0, 0, [], []);
loops!(update1, check1, Update1, Check1, 1, [s0], [n0]);
loops!(update2, check2, Update2, Check2, 2, [s0, s1], [n0, n1]);

/// A bound that proves `θ' = θ − a / (√s + ε)` finite without the root and
/// the division, which cost the check of AdaGrad, RMSProp and Adam as much
/// as their update.
///
/// `√s + ε ≥ ε` when `s ≥ 0` (rounding is monotone and `ε` exact), so with
/// `|a| ≤ ε·MAX/4` (and `|a|` finite) the quotient is at most `MAX/4` before
/// and `MAX/2` after rounding, and with `|θ| ≤ MAX/4` the difference is at
/// most `3·MAX/4`: finite. Where the bound fails (a huge step, a parameter
/// near the range's end, a non-positive `ε`), the check computes the update
/// exactly instead.
#[derive(Clone, Copy)]
pub(crate) struct RatioBound<E> {
    /// `min(ε·MAX/4, MAX)`, or −1 (nothing passes) when `ε ≤ 0` or NaN.
    step: E,
    /// `MAX/4`.
    param: E,
}

impl<E: Scalar> RatioBound<E> {
    pub(crate) fn new(eps: E) -> Self {
        let max = E::MAX.to_f64();
        let eps = eps.to_f64();
        let step = if eps > 0.0 {
            (eps * (max / 4.0)).min(max)
        } else {
            -1.0
        };
        RatioBound {
            step: E::from_f64(step),
            param: E::from_f64(max / 4.0),
        }
    }

    /// Whether `θ − a / (√s + ε)` is finite for sure; `false` means "maybe
    /// not". NaN anywhere fails the comparisons.
    #[inline(always)]
    pub(crate) fn holds(self, p: E, a: E, s: E) -> bool {
        (p.abs() <= self.param) & (a.abs() <= self.step) & (s >= E::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adam's arithmetic with fixed coefficients: a root and a division,
    /// which the wide build computes eight lanes at a time.
    #[derive(Clone, Copy)]
    struct Mix(f32);

    impl Rule<f32, 2> for Mix {
        fn apply(self, p: f32, g: f32, [m, v]: [f32; 2]) -> (f32, [f32; 2]) {
            let m = m + self.0 * (g - m);
            let v = v + self.0 * (g * g - v);
            (p - 1e-3 * m / (v.sqrt() + 1e-7), [m, v])
        }
    }

    #[test]
    fn the_wide_build_writes_the_portable_bits() {
        let n = 1003;
        let wave = |k: f32| (0..n).map(move |i| (i as f32 * k).sin() * 3.0);
        let (p0, g): (std::vec::Vec<f32>, std::vec::Vec<f32>) =
            (wave(0.37).collect(), wave(1.9).collect());
        let (m0, v0): (std::vec::Vec<f32>, std::vec::Vec<f32>) =
            (wave(0.11).collect(), wave(0.5).map(f32::abs).collect());
        let (mut p1, mut m1, mut v1) = (p0.clone(), m0.clone(), v0.clone());
        let (mut p2, mut m2, mut v2) = (p0.clone(), m0.clone(), v0.clone());
        update2(Mix(0.1), &mut p1, &g, &mut m1, &mut v1);
        Update2 {
            rule: Mix(0.1),
            param: &mut p2,
            grad: &g,
            s0: &mut m2,
            s1: &mut v2,
        }
        .run();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<std::vec::Vec<_>>();
        assert_eq!(bits(&p1), bits(&p2));
        assert_eq!((bits(&m1), bits(&v1)), (bits(&m2), bits(&v2)));
        assert_ne!(bits(&p1), bits(&p0));
        assert_eq!(check2(Mix(0.1), &p0, &g, &m0, &v0), Ok(()));
    }

    #[test]
    fn ratio_bound_holds_only_where_the_quotient_is_finite() {
        let b = RatioBound::new(1e-7f32);
        assert!(b.holds(1.0, 1e30, 0.0));
        // The extreme that passes: a = ε·MAX/4 over ε, plus θ = MAX/4.
        let (a, p) = (1e-7f32 * (f32::MAX / 4.0) * 0.999, -f32::MAX / 4.0);
        assert!(b.holds(p, a, 0.0));
        assert!((p - a / (0.0f32.sqrt() + 1e-7)).is_finite());
        for (p, a, s) in [
            (f32::MAX, 1.0, 1.0),
            (1.0, f32::INFINITY, 1.0),
            (1.0, f32::NAN, 1.0),
            (1.0, 1.0, -1e-30),
            (1.0, 1.0, f32::NAN),
            (1.0, 1e32, 0.0),
        ] {
            assert!(!b.holds(p, a, s), "({p}, {a}, {s})");
        }
        assert!(!RatioBound::new(0.0f32).holds(1.0, 0.0, 0.0));
        assert!(!RatioBound::new(f64::NAN).holds(1.0, 0.0, 0.0));
        // A large ε caps the bound at MAX: an infinite step still fails.
        let big = RatioBound::new(1e10f32);
        assert!(big.holds(1.0, f32::MAX, 0.0) && !big.holds(1.0, f32::INFINITY, 0.0));
    }
}
