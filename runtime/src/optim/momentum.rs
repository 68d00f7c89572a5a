//! Momentum and Nesterov's accelerated gradient.

use super::{Optimizer, Rule, StateBuf, UpdateFault, check1, update1};
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

/// Everything but the update rule, which is the same for both types.
macro_rules! velocity_optimizer {
    ($ty:ident) => {
        impl<E: Scalar, S: StateBuf<E>> Optimizer<E> for $ty<S> {
            fn begin_step(&mut self) {}

            fn update(&mut self, tensor: &TensorInfo, param: &mut [E], grad: &mut [E]) {
                let rule = self.coefficients();
                update1(rule, param, grad, self.velocity.slots(tensor));
            }

            fn check_update(
                &mut self,
                tensor: &TensorInfo,
                param: &[E],
                grad: &[E],
            ) -> Result<(), UpdateFault> {
                let rule = self.coefficients();
                check1(rule, param, grad, self.velocity.slots(tensor))
            }

            fn cancel_step(&mut self) {}

            fn learning_rate(&self) -> f64 {
                self.lr
            }

            fn set_learning_rate(&mut self, lr: f64) {
                self.lr = lr;
            }

            fn reset(&mut self) {
                self.velocity.reset();
            }

            fn step_count(&self) -> u64 {
                0
            }

            fn set_step_count(&mut self, _t: u64) {}

            fn state(&self, f: &mut dyn FnMut(&'static str, &[E])) {
                f("velocity", self.velocity.values());
            }

            fn state_mut(&mut self, len: usize, f: &mut dyn FnMut(&'static str, &mut [E])) {
                f("velocity", self.velocity.values_mut(len));
            }
        }
    };
}

velocity_optimizer!(Momentum);
velocity_optimizer!(Nesterov);

/// The hyperparameters of one step in the element type; its [`Rule`] is
/// the update of one element, which the update and its check share.
#[derive(Clone, Copy)]
struct MomentumRule<E> {
    lr: E,
    alpha: E,
}

/// Nesterov's, with its two products precomputed.
#[derive(Clone, Copy)]
struct NesterovRule<E> {
    lr: E,
    alpha: E,
    alpha2: E,
    lr_g: E,
}

impl<S> Momentum<S> {
    fn coefficients<E: Scalar>(&self) -> MomentumRule<E> {
        MomentumRule {
            lr: E::from_f64(self.lr),
            alpha: E::from_f64(self.momentum),
        }
    }
}

impl<S> Nesterov<S> {
    fn coefficients<E: Scalar>(&self) -> NesterovRule<E> {
        let (lr, alpha) = (E::from_f64(self.lr), E::from_f64(self.momentum));
        NesterovRule {
            lr,
            alpha,
            alpha2: alpha * alpha,
            lr_g: (E::ONE + alpha) * lr,
        }
    }
}

impl<E: Scalar> Rule<E, 1> for MomentumRule<E> {
    /// `v' = αv − η∇`, `θ' = θ + v'`.
    #[inline(always)]
    fn apply(self, p: E, g: E, [v]: [E; 1]) -> (E, [E; 1]) {
        let v = self.alpha * v - self.lr * g;
        (p + v, [v])
    }
}

impl<E: Scalar> Rule<E, 1> for NesterovRule<E> {
    /// `v' = αv − η∇`, `θ' = θ + α²v' − (1 + α)η∇`.
    #[inline(always)]
    fn apply(self, p: E, g: E, [v]: [E; 1]) -> (E, [E; 1]) {
        let v = self.alpha * v - self.lr * g;
        (p + (self.alpha2 * v - self.lr_g * g), [v])
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

    #[test]
    fn velocity_is_named_state_and_checked() {
        let mut opt = Nesterov::with_state(0.01, 0.9, [0.0f64; 3]);
        let mut p = [1.0, -2.0, 0.5];
        Optimizer::<f64>::update(&mut opt, &weight(3), &mut p, &mut G1.clone());
        let mut seen = std::vec::Vec::new();
        Optimizer::<f64>::state(&opt, &mut |name, v| seen.push((name, v.to_vec())));
        assert_eq!(seen, [("velocity", std::vec![-0.001, 0.003, -0.02])]);
        // `αv − η∇` overflows: 0.9·MAX + 1·MAX.
        Optimizer::<f64>::state_mut(&mut opt, 3, &mut |_, v| v[1] = f64::MAX);
        opt.lr = 1.0;
        let before = p;
        assert_eq!(
            opt.check_update(&weight(3), &p, &[0.0, -f64::MAX, 0.0]),
            Err(UpdateFault::Parameter)
        );
        assert_eq!(p, before);
        let mut momentum = Momentum::default();
        assert!(momentum.check_update(&weight(3), &p, &G1).is_ok());
        Optimizer::<f64>::state(&momentum, &mut |_, v| assert_eq!(v, [0.0; 3]));
    }
}
