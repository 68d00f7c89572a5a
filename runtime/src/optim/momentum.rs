//! Momentum and Nesterov's accelerated gradient.

use super::{Optimizer, StateBuf};
use crate::{Scalar, TensorInfo};

/// SGD with momentum: `v ← αv − η∇`, `θ ← θ + v`.
///
/// `v` starts at zero. Defaults: `η = 0.01`, `α = 0.9`. See Sutskever et al.,
/// [On the importance of initialization and momentum in deep learning](https://proceedings.mlr.press/v28/sutskever13.html)
/// (ICML 2013).
#[derive(Debug, Clone)]
pub struct Momentum<S> {
    /// Learning rate `η`.
    pub lr: f64,
    /// Momentum coefficient `α`.
    pub momentum: f64,
    velocity: S,
}

/// Nesterov's accelerated gradient in the form of the classic material:
/// `v ← αv − η∇`, `θ ← θ + α²v − (1 + α)η∇`.
///
/// This is the look-ahead update of Sutskever et al.,
/// [On the importance of initialization and momentum in deep learning](https://proceedings.mlr.press/v28/sutskever13.html)
/// (ICML 2013), rewritten so the gradient is taken at the stored parameters
/// rather than at the look-ahead point. Defaults: `η = 0.01`, `α = 0.9`.
#[derive(Debug, Clone)]
pub struct Nesterov<S> {
    /// Learning rate `η`.
    pub lr: f64,
    /// Momentum coefficient `α`.
    pub momentum: f64,
    velocity: S,
}

macro_rules! constructors {
    ($ty:ident) => {
        #[cfg(feature = "alloc")]
        impl<E: Scalar> $ty<alloc::vec::Vec<E>> {
            /// With learning rate `lr` and momentum `momentum`; the velocity
            /// lives in a `Vec` that grows on first use.
            pub fn new(lr: f64, momentum: f64) -> Self {
                Self::with_state(lr, momentum, alloc::vec::Vec::new())
            }
        }

        #[cfg(feature = "alloc")]
        impl<E: Scalar> Default for $ty<alloc::vec::Vec<E>> {
            /// `η = 0.01`, `α = 0.9`.
            fn default() -> Self {
                Self::new(0.01, 0.9)
            }
        }

        impl<S> $ty<S> {
            /// With learning rate `lr` and momentum `momentum`; the velocity
            /// lives in `velocity`, a zeroed buffer of at least `STORE_LEN`
            /// elements.
            pub const fn with_state(lr: f64, momentum: f64, velocity: S) -> Self {
                $ty {
                    lr,
                    momentum,
                    velocity,
                }
            }
        }
    };
}

constructors!(Momentum);
constructors!(Nesterov);

impl<E: Scalar, S: StateBuf<E>> Optimizer<E> for Momentum<S> {
    fn begin_step(&mut self) {}

    fn update(&mut self, tensor: &TensorInfo, param: &mut [E], grad: &mut [E]) {
        let (lr, alpha) = (E::from_f64(self.lr), E::from_f64(self.momentum));
        let v = self.velocity.slots(tensor);
        for ((p, &g), v) in param.iter_mut().zip(grad.iter()).zip(v) {
            *v = alpha * *v - lr * g;
            *p += *v;
        }
    }

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn reset(&mut self) {
        self.velocity.reset();
    }
}

impl<E: Scalar, S: StateBuf<E>> Optimizer<E> for Nesterov<S> {
    fn begin_step(&mut self) {}

    fn update(&mut self, tensor: &TensorInfo, param: &mut [E], grad: &mut [E]) {
        let (lr, alpha) = (E::from_f64(self.lr), E::from_f64(self.momentum));
        let (alpha2, lr_g) = (alpha * alpha, (E::ONE + alpha) * lr);
        let v = self.velocity.slots(tensor);
        for ((p, &g), v) in param.iter_mut().zip(grad.iter()).zip(v) {
            *v = alpha * *v - lr * g;
            *p += alpha2 * *v - lr_g * g;
        }
    }

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn reset(&mut self) {
        self.velocity.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_util::{assert_close, weight};

    const G1: [f64; 3] = [0.1, -0.3, 2.0];
    const G2: [f64; 3] = [-0.2, 0.4, 1.0];

    fn two_steps<O: Optimizer<f64>>(mut opt: O) -> ([f64; 3], [f64; 3]) {
        let mut p = [1.0, -2.0, 0.5];
        let tensor = weight(3);
        opt.begin_step();
        opt.update(&tensor, &mut p, &mut G1.clone());
        let first = p;
        opt.begin_step();
        opt.update(&tensor, &mut p, &mut G2.clone());
        (first, p)
    }

    #[test]
    fn momentum_two_steps_match_hand_computed() {
        let (first, second) = two_steps(Momentum::default());
        assert_close(&first, &[0.999, -1.997, 0.48]);
        assert_close(&second, &[1.0001, -1.9983, 0.452]);
    }

    #[test]
    fn nesterov_two_steps_match_hand_computed() {
        let (first, second) = two_steps(Nesterov::with_state(0.01, 0.9, [0.0; 3]));
        assert_close(&first, &[0.99729, -1.99187, 0.4458]);
        assert_close(&second, &[1.001981, -2.000523, 0.40412]);
    }

    #[test]
    fn momentum_reset_forgets_the_velocity() {
        let mut opt = Momentum::with_state(0.01, 0.9, [0.0f64; 3]);
        let mut p = [1.0, -2.0, 0.5];
        Optimizer::<f64>::update(&mut opt, &weight(3), &mut p, &mut G1.clone());
        Optimizer::<f64>::reset(&mut opt);
        let mut p = [1.0, -2.0, 0.5];
        Optimizer::<f64>::update(&mut opt, &weight(3), &mut p, &mut G1.clone());
        assert_close(&p, &[0.999, -1.997, 0.48]);
    }
}
