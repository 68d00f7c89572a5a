//! AdaGrad: per-element learning rates from the sum of squared gradients.

use super::{EPSILON, Optimizer, RatioBound, Rule, StateBuf, UpdateFault, check1, update1};
use crate::{Scalar, TensorInfo};

/// AdaGrad: `h ← h + ∇²`, `θ ← θ − η∇ / (√h + ε)`.
///
/// `h` starts at zero, `ε = 1e-7` ([`EPSILON`]). Default `η = 0.01`. See Duchi,
/// Hazan & Singer, [Adaptive Subgradient Methods for Online Learning and
/// Stochastic Optimization](https://jmlr.org/papers/v12/duchi11a.html) (JMLR 2011).
#[derive(Debug, Clone)]
pub struct AdaGrad<S> {
    /// Learning rate `η`.
    pub lr: f64,
    /// `ε`, added to `√h`.
    pub eps: f64,
    h: S,
}

#[cfg(feature = "alloc")]
impl<E: Scalar> AdaGrad<alloc::vec::Vec<E>> {
    /// With learning rate `lr`; `h` lives in a `Vec` that grows on first use.
    pub fn new(lr: f64) -> Self {
        Self::with_state(lr, alloc::vec::Vec::new())
    }
}

#[cfg(feature = "alloc")]
impl<E: Scalar> Default for AdaGrad<alloc::vec::Vec<E>> {
    /// `η = 0.01`.
    fn default() -> Self {
        Self::new(0.01)
    }
}

impl<S> AdaGrad<S> {
    /// With learning rate `lr`; `h` lives in `h`, a zeroed buffer of at least
    /// `STORE_LEN` elements.
    pub const fn with_state(lr: f64, h: S) -> Self {
        AdaGrad {
            lr,
            eps: EPSILON,
            h,
        }
    }
}

impl<E: Scalar, S: StateBuf<E>> Optimizer<E> for AdaGrad<S> {
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
        f("sum", self.h.values());
    }

    fn state_mut(&mut self, len: usize, f: &mut dyn FnMut(&'static str, &mut [E])) {
        f("sum", self.h.values_mut(len));
    }
}

impl<S> AdaGrad<S> {
    fn coefficients<E: Scalar>(&self) -> SumRule<E> {
        let eps = E::from_f64(self.eps);
        SumRule {
            lr: E::from_f64(self.lr),
            eps,
            bound: RatioBound::new(eps),
        }
    }
}

/// The hyperparameters of one step in the element type; its [`Rule`] is
/// the update of one element, which the update and its check share.
#[derive(Clone, Copy)]
struct SumRule<E> {
    lr: E,
    eps: E,
    bound: RatioBound<E>,
}

impl<E: Scalar> SumRule<E> {
    /// `h' = h + ∇²`, and the step's numerator `η∇`.
    #[inline(always)]
    fn sum(self, g: E, h: E) -> (E, E) {
        (h + g * g, self.lr * g)
    }
}

impl<E: Scalar> Rule<E, 1> for SumRule<E> {
    /// `θ' = θ − η∇ / (√h' + ε)`.
    #[inline(always)]
    fn apply(self, p: E, g: E, [h]: [E; 1]) -> (E, [E; 1]) {
        let (h, step) = self.sum(g, h);
        (p - step / (h.sqrt() + self.eps), [h])
    }

    #[inline(always)]
    fn screen(self, p: E, g: E, [h]: [E; 1]) -> ([E; 1], bool) {
        let (h, step) = self.sum(g, h);
        ([h], self.bound.holds(p, step, h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_util::{assert_close, weight};

    #[test]
    fn adagrad_two_steps_match_hand_computed() {
        let mut opt = AdaGrad::default();
        let mut p = [1.0, -2.0, 0.5];
        opt.update(&weight(3), &mut p, &mut [0.1, -0.3, 2.0]);
        assert_close(&p, &[0.99000000999999, -1.9900000033333323, 0.4900000005]);
        opt.update(&weight(3), &mut p, &mut [-0.2, 0.4, 1.0]);
        assert_close(
            &p,
            &[0.998944277909991, -1.9980000017333326, 0.48552786474500037],
        );
    }
}
