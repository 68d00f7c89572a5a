//! Stochastic gradient descent.

use super::{Optimizer, Rule, UpdateFault, check0, update0};
use crate::{Scalar, TensorInfo};

/// Plain stochastic gradient descent: `θ ← θ − η∇`.
///
/// Stateless, so it needs no buffer. Default `η = 0.01`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sgd {
    /// Learning rate `η`.
    pub lr: f64,
}

impl Sgd {
    /// SGD with learning rate `lr`.
    pub const fn new(lr: f64) -> Self {
        Sgd { lr }
    }
}

impl Default for Sgd {
    fn default() -> Self {
        Sgd::new(0.01)
    }
}

impl<E: Scalar> Optimizer<E> for Sgd {
    fn begin_step(&mut self) {}

    fn update(&mut self, _tensor: &TensorInfo, param: &mut [E], grad: &mut [E]) {
        update0(Descent(E::from_f64(self.lr)), param, grad);
    }

    fn check_update(
        &mut self,
        _tensor: &TensorInfo,
        param: &[E],
        grad: &[E],
    ) -> Result<(), UpdateFault> {
        check0(Descent(E::from_f64(self.lr)), param, grad)
    }

    fn cancel_step(&mut self) {}

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn reset(&mut self) {}

    fn step_count(&self) -> u64 {
        0
    }

    fn set_step_count(&mut self, _t: u64) {}

    fn state(&self, _f: &mut dyn FnMut(&'static str, &[E])) {}

    fn state_mut(&mut self, _len: usize, _f: &mut dyn FnMut(&'static str, &mut [E])) {}
}

/// `θ' = θ − η∇`, with `η` in the element type.
#[derive(Clone, Copy)]
struct Descent<E>(E);

impl<E: Scalar> Rule<E, 0> for Descent<E> {
    #[inline(always)]
    fn apply(self, p: E, g: E, _: [E; 0]) -> (E, [E; 0]) {
        (p - self.0 * g, [])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_util::{assert_close, weight};

    #[test]
    fn sgd_step_matches_hand_computed() {
        let mut p = [1.0, -2.0, 0.5];
        let mut g = [0.1, -0.3, 2.0];
        Sgd::default().update(&weight(3), &mut p, &mut g);
        assert_close(&p, &[0.999, -1.997, 0.48]);
    }

    #[test]
    fn sgd_check_finds_an_overflowing_update() {
        let mut opt = Sgd::new(f64::INFINITY);
        let w = weight(2);
        assert_eq!(
            opt.check_update(&w, &[1.0, 2.0], &[0.0, 1.0]),
            Err(UpdateFault::Parameter)
        );
        opt.lr = 1e300;
        assert!(opt.check_update(&w, &[1.0, 2.0], &[0.0, 1.0]).is_ok());
        assert!(opt.check_update(&w, &[1.0, 2.0], &[0.0, 1e10]).is_err());
    }
}
