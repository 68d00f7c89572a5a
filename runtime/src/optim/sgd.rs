//! Stochastic gradient descent.

use super::Optimizer;
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
        let lr = E::from_f64(self.lr);
        for (p, &g) in param.iter_mut().zip(grad.iter()) {
            *p -= lr * g;
        }
    }

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn reset(&mut self) {}
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
}
