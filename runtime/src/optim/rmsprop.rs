//! RMSProp: per-element learning rates from a moving average of squared gradients.

use super::{EPSILON, Optimizer, StateBuf};
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
        let (lr, eps) = (E::from_f64(self.lr), E::from_f64(self.eps));
        let (rho, one_minus_rho) = (E::from_f64(self.decay), E::from_f64(1.0 - self.decay));
        let h = self.h.slots(tensor);
        for ((p, &g), h) in param.iter_mut().zip(grad.iter()).zip(h) {
            *h = rho * *h + one_minus_rho * g * g;
            *p -= lr * g / (h.sqrt() + eps);
        }
    }

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn reset(&mut self) {
        self.h.reset();
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
