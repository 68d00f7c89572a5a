//! RMSProp: per-element learning rates from a moving average of squared gradients.

use super::{EPSILON, Optimizer, RatioBound, Rule, StateBuf, UpdateFault, check1, update1};
use crate::{Scalar, TensorInfo};

/// RMSProp: `h ← ρh + (1 − ρ)∇²`, `θ ← θ − η∇ / (√h + ε)`.
///
/// `h` starts at zero, `ε = 1e-7` ([`EPSILON`]). Defaults: `η = 0.01`,
/// `ρ = 0.99`. See Hinton, Srivastava & Swersky, [Neural Networks for Machine
/// Learning, lecture 6e](https://www.cs.toronto.edu/~tijmen/csc321/slides/lecture_slides_lec6.pdf)
/// (2012).
#[derive(Debug, Clone)]
pub struct RmsProp<S> {
    /// Learning rate `η`.
    pub lr: f64,
    /// Decay rate `ρ` of the moving average.
    pub decay: f64,
    /// `ε`, added to `√h`.
    pub eps: f64,
    h: S,
}

#[cfg(feature = "alloc")]
impl<E: Scalar> RmsProp<alloc::vec::Vec<E>> {
    /// With learning rate `lr` and decay rate `decay`; `h` lives in a `Vec`
    /// that grows on first use.
    pub fn new(lr: f64, decay: f64) -> Self {
        Self::with_state(lr, decay, alloc::vec::Vec::new())
    }
}

#[cfg(feature = "alloc")]
impl<E: Scalar> Default for RmsProp<alloc::vec::Vec<E>> {
    /// `η = 0.01`, `ρ = 0.99`.
    fn default() -> Self {
        Self::new(0.01, 0.99)
    }
}

impl<S> RmsProp<S> {
    /// With learning rate `lr` and decay rate `decay`; `h` lives in `h`, a
    /// zeroed buffer of at least `STORE_LEN` elements.
    pub const fn with_state(lr: f64, decay: f64, h: S) -> Self {
        RmsProp {
            lr,
            decay,
            eps: EPSILON,
            h,
        }
    }
}

impl<E: Scalar, S: StateBuf<E>> Optimizer<E> for RmsProp<S> {
    fn begin_step(&mut self) {}

    fn update(&mut self, tensor: &TensorInfo, param: &mut [E], grad: &mut [E]) {
        let rule = self.coefficients();
        update1(rule, param, grad, self.h.slots(tensor));
    }

    fn check_update(
        &mut self,
        tensor: &TensorInfo,
        param: &[E],
        grad: &[E],
    ) -> Result<(), UpdateFault> {
        let rule = self.coefficients();
        check1(rule, param, grad, self.h.slots(tensor))
    }

    fn cancel_step(&mut self) {}

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn reset(&mut self) {
        self.h.reset();
    }

    fn step_count(&self) -> u64 {
        0
    }

    fn set_step_count(&mut self, _t: u64) {}

    fn state(&self, f: &mut dyn FnMut(&'static str, &[E])) {
        f("square_avg", self.h.values());
    }

    fn state_mut(&mut self, len: usize, f: &mut dyn FnMut(&'static str, &mut [E])) {
        f("square_avg", self.h.values_mut(len));
    }
}

impl<S> RmsProp<S> {
    fn coefficients<E: Scalar>(&self) -> AverageRule<E> {
        let eps = E::from_f64(self.eps);
        AverageRule {
            lr: E::from_f64(self.lr),
            eps,
            rho: E::from_f64(self.decay),
            one_minus_rho: E::from_f64(1.0 - self.decay),
            bound: RatioBound::new(eps),
        }
    }
}

/// The hyperparameters of one step in the element type; its [`Rule`] is
/// the update of one element, which the update and its check share.
#[derive(Clone, Copy)]
struct AverageRule<E> {
    lr: E,
    eps: E,
    rho: E,
    one_minus_rho: E,
    bound: RatioBound<E>,
}

impl<E: Scalar> AverageRule<E> {
    /// `h' = ρh + (1 − ρ)∇²`, and the step's numerator `η∇`.
    #[inline(always)]
    fn average(self, g: E, h: E) -> (E, E) {
        (self.rho * h + self.one_minus_rho * g * g, self.lr * g)
    }
}

impl<E: Scalar> Rule<E, 1> for AverageRule<E> {
    /// `θ' = θ − η∇ / (√h' + ε)`.
    #[inline(always)]
    fn apply(self, p: E, g: E, [h]: [E; 1]) -> (E, [E; 1]) {
        let (h, step) = self.average(g, h);
        (p - step / (h.sqrt() + self.eps), [h])
    }

    #[inline(always)]
    fn screen(self, p: E, g: E, [h]: [E; 1]) -> ([E; 1], bool) {
        let (h, step) = self.average(g, h);
        ([h], self.bound.holds(p, step, h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_util::{assert_close, weight};

    #[test]
    fn rmsprop_two_steps_match_hand_computed() {
        let mut opt = RmsProp::default();
        let mut p = [1.0, -2.0, 0.5];
        opt.update(&weight(3), &mut p, &mut [0.1, -0.3, 2.0]);
        assert_close(
            &p,
            &[0.9000009999900002, -1.9000003333322222, 0.40000004999997507],
        );
        opt.update(&weight(3), &mut p, &mut [-0.2, 0.4, 1.0]);
        assert_close(
            &p,
            &[0.9895328953973602, -1.9801445627245489, 0.35509874465456265],
        );
    }
}
