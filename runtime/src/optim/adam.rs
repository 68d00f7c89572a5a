//! Adam and AdamW.

use super::{EPSILON, Optimizer, StateBuf};
use crate::{Scalar, TensorInfo};

/// Adam, in the form of the classic material:
/// `m ← β1·m + (1 − β1)∇`, `v ← β2·v + (1 − β2)∇²`,
/// `η_t = η·√(1 − β2^t) / (1 − β1^t)`, `θ ← θ − η_t·m / (√v + ε)`.
///
/// `t` counts steps from 1 ([`Optimizer::begin_step`] advances it; an update
/// before any `begin_step` counts as step 1). `m` and `v` start at zero; the
/// `η_t` factor corrects their bias toward zero in early steps. This is the
/// "more efficient" ordering at the end of section 2 of Kingma & Ba,
/// [Adam: A Method for Stochastic Optimization](https://arxiv.org/abs/1412.6980)
/// (ICLR 2015): `ε` is added to `√v` before bias correction.
///
/// Defaults: `η = 0.001`, `β1 = 0.9`, `β2 = 0.999`, `ε = 1e-7` ([`EPSILON`]).
#[derive(Debug, Clone)]
pub struct Adam<S> {
    /// Learning rate `η`.
    pub lr: f64,
    /// Decay rate `β1` of the first moment.
    pub beta1: f64,
    /// Decay rate `β2` of the second moment.
    pub beta2: f64,
    /// `ε`, added to `√v`.
    pub eps: f64,
    t: u64,
    m: S,
    v: S,
}

#[cfg(feature = "alloc")]
impl<E: Scalar> Adam<alloc::vec::Vec<E>> {
    /// With learning rate `lr` and the default betas; the moments live in
    /// `Vec`s that grow on first use.
    pub fn new(lr: f64) -> Self {
        Self::with_state(lr, alloc::vec::Vec::new(), alloc::vec::Vec::new())
    }
}

#[cfg(feature = "alloc")]
impl<E: Scalar> Default for Adam<alloc::vec::Vec<E>> {
    /// `η = 0.001`, `β1 = 0.9`, `β2 = 0.999`.
    fn default() -> Self {
        Self::new(0.001)
    }
}

impl<S> Adam<S> {
    /// With learning rate `lr` and the default betas; the moments live in `m`
    /// and `v`, zeroed buffers of at least `STORE_LEN` elements each.
    pub const fn with_state(lr: f64, m: S, v: S) -> Self {
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: EPSILON,
            t: 0,
            m,
            v,
        }
    }

    /// Steps begun so far: `t` of the bias correction.
    pub const fn step_count(&self) -> u64 {
        self.t
    }

    /// `η_t = η·√(1 − β2^t) / (1 − β1^t)`, with `t ≥ 1`.
    fn corrected_lr(&self) -> f64 {
        let t = self.t.max(1) as f64;
        self.lr * libm::sqrt(1.0 - libm::pow(self.beta2, t)) / (1.0 - libm::pow(self.beta1, t))
    }
}

impl<E: Scalar, S: StateBuf<E>> Optimizer<E> for Adam<S> {
    fn begin_step(&mut self) {
        self.t = self.t.saturating_add(1);
    }

    fn update(&mut self, tensor: &TensorInfo, param: &mut [E], grad: &mut [E]) {
        let lr_t = E::from_f64(self.corrected_lr());
        let (b1, b2) = (E::from_f64(1.0 - self.beta1), E::from_f64(1.0 - self.beta2));
        let eps = E::from_f64(self.eps);
        let (m, v) = (self.m.slots(tensor), self.v.slots(tensor));
        for (((p, &g), m), v) in param.iter_mut().zip(grad.iter()).zip(m).zip(v) {
            *m += b1 * (g - *m);
            *v += b2 * (g * g - *v);
            *p -= lr_t * *m / (v.sqrt() + eps);
        }
    }

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn reset(&mut self) {
        self.t = 0;
        self.m.reset();
        self.v.reset();
    }
}

/// AdamW: Adam with decoupled weight decay, `θ ← θ − ηλθ − η_t·m / (√v + ε)`.
///
/// The decay uses the parameters before this step's Adam update and applies
/// to tensors whose role [`is_decayed`](crate::Role::is_decayed) (weights, not
/// biases). It does not pass through the moments, which is the point of
/// Loshchilov & Hutter, [Decoupled Weight Decay
/// Regularization](https://arxiv.org/abs/1711.05101) (ICLR 2019), Algorithm 2.
/// `η` is the current learning rate, so under a [`Scheduled`](super::Scheduled)
/// wrapper the decay follows the schedule as the paper's `η_t` does.
#[derive(Debug, Clone)]
pub struct AdamW<S> {
    /// The Adam update (its hyperparameters are public).
    pub adam: Adam<S>,
    /// Decoupled decay rate `λ`.
    pub weight_decay: f64,
}

#[cfg(feature = "alloc")]
impl<E: Scalar> AdamW<alloc::vec::Vec<E>> {
    /// With learning rate `lr` and decay rate `weight_decay`; the moments live
    /// in `Vec`s that grow on first use.
    pub fn new(lr: f64, weight_decay: f64) -> Self {
        AdamW {
            adam: Adam::new(lr),
            weight_decay,
        }
    }
}

impl<S> AdamW<S> {
    /// With learning rate `lr` and decay rate `weight_decay`; the moments live
    /// in `m` and `v`, zeroed buffers of at least `STORE_LEN` elements each.
    pub const fn with_state(lr: f64, weight_decay: f64, m: S, v: S) -> Self {
        AdamW {
            adam: Adam::with_state(lr, m, v),
            weight_decay,
        }
    }
}

impl<E: Scalar, S: StateBuf<E>> Optimizer<E> for AdamW<S> {
    fn begin_step(&mut self) {
        Optimizer::<E>::begin_step(&mut self.adam);
    }

    fn update(&mut self, tensor: &TensorInfo, param: &mut [E], grad: &mut [E]) {
        if tensor.role.is_decayed() {
            // NOTE: `1 − ηλ` scales θ before the Adam update; the Adam update
            // does not read θ, so this equals subtracting ηλθ_{t−1} after it.
            let keep = E::from_f64(1.0 - self.adam.lr * self.weight_decay);
            for p in param.iter_mut() {
                *p *= keep;
            }
        }
        self.adam.update(tensor, param, grad);
    }

    fn learning_rate(&self) -> f64 {
        self.adam.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.adam.lr = lr;
    }

    fn reset(&mut self) {
        Optimizer::<E>::reset(&mut self.adam);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_util::{assert_close, bias, weight};

    const G1: [f64; 3] = [0.1, -0.3, 2.0];
    const G2: [f64; 3] = [-0.2, 0.4, 1.0];

    fn two_steps<O: Optimizer<f64>>(opt: &mut O, tensor: &TensorInfo) -> ([f64; 3], [f64; 3]) {
        let mut p = [1.0, -2.0, 0.5];
        opt.begin_step();
        opt.update(tensor, &mut p, &mut G1.clone());
        let first = p;
        opt.begin_step();
        opt.update(tensor, &mut p, &mut G2.clone());
        (first, p)
    }

    #[test]
    fn adam_two_steps_match_hand_computed() {
        let mut opt = Adam::default();
        let (first, second) = two_steps(&mut opt, &weight(3));
        assert_close(
            &first,
            &[0.9990000316217766, -1.9990000105408143, 0.49900000158113633],
        );
        assert_close(
            &second,
            &[0.9993661299708821, -1.999193519725871, 0.4980678232611518],
        );
        assert_eq!(opt.step_count(), 2);
    }

    #[test]
    fn adam_update_before_begin_step_counts_as_step_one() {
        let mut opt = Adam::with_state(0.001, [0.0; 3], [0.0; 3]);
        let mut p = [1.0, -2.0, 0.5];
        opt.update(&weight(3), &mut p, &mut G1.clone());
        assert_close(
            &p,
            &[0.9990000316217766, -1.9990000105408143, 0.49900000158113633],
        );
    }

    #[test]
    fn adam_reset_restarts_the_bias_correction() {
        let mut opt = Adam::default();
        two_steps(&mut opt, &weight(3));
        Optimizer::<f64>::reset(&mut opt);
        assert_eq!(opt.step_count(), 0);
        let (first, _) = two_steps(&mut opt, &weight(3));
        assert_close(
            &first,
            &[0.9990000316217766, -1.9990000105408143, 0.49900000158113633],
        );
    }

    #[test]
    fn adamw_two_steps_decay_weights_match_hand_computed() {
        let mut opt = AdamW::new(0.1, 0.5);
        let (first, second) = two_steps(&mut opt, &weight(3));
        assert_close(
            &first,
            &[0.8500031621776634, -1.8000010540814424, 0.37500015811363296],
        );
        assert_close(
            &second,
            &[0.8441128389793321, -1.7293519198830296, 0.26303231820949696],
        );
    }

    #[test]
    fn adamw_leaves_biases_to_adam() {
        let (first, second) = two_steps(&mut AdamW::new(0.001, 0.5), &bias(3));
        let (adam_first, adam_second) = two_steps(&mut Adam::new(0.001), &bias(3));
        assert_eq!((first, second), (adam_first, adam_second));
    }
}
