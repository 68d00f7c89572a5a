//! Adam and AdamW.

use super::{EPSILON, Optimizer, RatioBound, Rule, StateBuf, UpdateFault, check2, update2};
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

    /// The hyperparameters of this step in the element type.
    fn coefficients<E: Scalar>(&self) -> MomentRule<E> {
        let eps = E::from_f64(self.eps);
        MomentRule {
            lr_t: E::from_f64(self.corrected_lr()),
            b1: E::from_f64(1.0 - self.beta1),
            b2: E::from_f64(1.0 - self.beta2),
            eps,
            bound: RatioBound::new(eps),
        }
    }

    /// Updates one tensor by `rule` (Adam's, or AdamW's decay around it).
    fn update_by<E: Scalar, R: Rule<E, 2>>(
        &mut self,
        rule: R,
        tensor: &TensorInfo,
        param: &mut [E],
        grad: &[E],
    ) where
        S: StateBuf<E>,
    {
        let (m, v) = (self.m.slots(tensor), self.v.slots(tensor));
        update2(rule, param, grad, m, v);
    }

    /// [`Optimizer::check_update`] of `update_by`.
    fn check_by<E: Scalar, R: Rule<E, 2>>(
        &mut self,
        rule: R,
        tensor: &TensorInfo,
        param: &[E],
        grad: &[E],
    ) -> Result<(), UpdateFault>
    where
        S: StateBuf<E>,
    {
        let (m, v) = (self.m.slots(tensor), self.v.slots(tensor));
        check2(rule, param, grad, m, v)
    }
}

/// The hyperparameters of one Adam step in the element type; its [`Rule`]
/// is the update of one element, which the update and its check share.
#[derive(Clone, Copy)]
struct MomentRule<E> {
    lr_t: E,
    b1: E,
    b2: E,
    eps: E,
    bound: RatioBound<E>,
}

impl<E: Scalar> MomentRule<E> {
    /// `m' = m + (1 − β1)(∇ − m)`, `v' = v + (1 − β2)(∇² − v)`, and the
    /// step's numerator `η_t·m'`.
    #[inline(always)]
    fn moments(self, g: E, m: E, v: E) -> (E, E, E) {
        let m = m + self.b1 * (g - m);
        let v = v + self.b2 * (g * g - v);
        (m, v, self.lr_t * m)
    }
}

impl<E: Scalar> Rule<E, 2> for MomentRule<E> {
    /// `θ' = θ − η_t·m' / (√v' + ε)`.
    #[inline(always)]
    fn apply(self, p: E, g: E, [m, v]: [E; 2]) -> (E, [E; 2]) {
        let (m, v, step) = self.moments(g, m, v);
        (p - step / (v.sqrt() + self.eps), [m, v])
    }

    #[inline(always)]
    fn screen(self, p: E, g: E, [m, v]: [E; 2]) -> ([E; 2], bool) {
        let (m, v, step) = self.moments(g, m, v);
        ([m, v], self.bound.holds(p, step, v))
    }
}

/// AdamW's rule: `θ` scaled by `1 − ηλ`, then Adam's.
#[derive(Clone, Copy)]
struct Decayed<E> {
    keep: E,
    adam: MomentRule<E>,
}

impl<E: Scalar> Rule<E, 2> for Decayed<E> {
    #[inline(always)]
    fn apply(self, p: E, g: E, s: [E; 2]) -> (E, [E; 2]) {
        self.adam.apply(p * self.keep, g, s)
    }

    #[inline(always)]
    fn screen(self, p: E, g: E, s: [E; 2]) -> ([E; 2], bool) {
        self.adam.screen(p * self.keep, g, s)
    }
}

impl<E: Scalar, S: StateBuf<E>> Optimizer<E> for Adam<S> {
    fn begin_step(&mut self) {
        self.t = self.t.saturating_add(1);
    }

    fn update(&mut self, tensor: &TensorInfo, param: &mut [E], grad: &mut [E]) {
        let rule = self.coefficients();
        self.update_by(rule, tensor, param, grad);
    }

    fn check_update(
        &mut self,
        tensor: &TensorInfo,
        param: &[E],
        grad: &[E],
    ) -> Result<(), UpdateFault> {
        let rule = self.coefficients();
        self.check_by(rule, tensor, param, grad)
    }

    fn cancel_step(&mut self) {
        self.t = self.t.saturating_sub(1);
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

    fn step_count(&self) -> u64 {
        self.t
    }

    fn set_step_count(&mut self, t: u64) {
        self.t = t;
    }

    fn state(&self, f: &mut dyn FnMut(&'static str, &[E])) {
        f("exp_avg", self.m.values());
        f("exp_avg_sq", self.v.values());
    }

    fn state_mut(&mut self, len: usize, f: &mut dyn FnMut(&'static str, &mut [E])) {
        f("exp_avg", self.m.values_mut(len));
        f("exp_avg_sq", self.v.values_mut(len));
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
            // does not read θ otherwise, so this equals subtracting ηλθ_{t−1}
            // after it.
            let rule = self.decayed();
            self.adam.update_by(rule, tensor, param, grad);
        } else {
            self.adam.update(tensor, param, grad);
        }
    }

    fn check_update(
        &mut self,
        tensor: &TensorInfo,
        param: &[E],
        grad: &[E],
    ) -> Result<(), UpdateFault> {
        if tensor.role.is_decayed() {
            let rule = self.decayed();
            self.adam.check_by(rule, tensor, param, grad)
        } else {
            self.adam.check_update(tensor, param, grad)
        }
    }

    fn cancel_step(&mut self) {
        Optimizer::<E>::cancel_step(&mut self.adam);
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

    fn step_count(&self) -> u64 {
        self.adam.t
    }

    fn set_step_count(&mut self, t: u64) {
        self.adam.t = t;
    }

    fn state(&self, f: &mut dyn FnMut(&'static str, &[E])) {
        self.adam.state(f);
    }

    fn state_mut(&mut self, len: usize, f: &mut dyn FnMut(&'static str, &mut [E])) {
        self.adam.state_mut(len, f);
    }
}

impl<S> AdamW<S> {
    /// Adam's rule for a decayed tensor, whose weights are first scaled by
    /// `1 − ηλ`.
    fn decayed<E: Scalar>(&self) -> Decayed<E> {
        Decayed {
            keep: E::from_f64(1.0 - self.adam.lr * self.weight_decay),
            adam: self.adam.coefficients(),
        }
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
    fn adam_cancel_and_state_round_trip() {
        let mut opt = Adam::default();
        two_steps(&mut opt, &weight(3));
        let mut saved = std::vec::Vec::new();
        Optimizer::<f64>::state(&opt, &mut |name, v| saved.push((name, v.to_vec())));
        assert_eq!(saved[0].0, "exp_avg");
        assert_eq!(saved[1].0, "exp_avg_sq");
        Optimizer::<f64>::begin_step(&mut opt);
        Optimizer::<f64>::cancel_step(&mut opt);
        assert_eq!(Optimizer::<f64>::step_count(&opt), 2);
        // Restoring into a fresh optimizer continues exactly.
        let mut fresh = Adam::<std::vec::Vec<f64>>::default();
        Optimizer::<f64>::set_step_count(&mut fresh, 2);
        Optimizer::<f64>::state_mut(&mut fresh, 3, &mut |name, v| {
            let (_, values) = saved.iter().find(|(n, _)| *n == name).unwrap();
            v.copy_from_slice(values);
        });
        let (mut a, mut b) = ([0.5, 0.25, -1.0], [0.5, 0.25, -1.0]);
        for (opt, p) in [(&mut opt, &mut a), (&mut fresh, &mut b)] {
            Optimizer::<f64>::begin_step(opt);
            opt.update(&weight(3), p, &mut G2.clone());
        }
        assert_eq!(a, b);
    }

    #[test]
    fn adam_check_tells_state_from_parameter_faults() {
        // ∇² overflows: v' = ∞ while θ' = θ − η_t·m'/∞ = θ stays finite.
        let mut opt = Adam::with_state(0.001, [0.0; 2], [0.0; 2]);
        Optimizer::<f64>::begin_step(&mut opt);
        let p = [1.0, 2.0];
        assert_eq!(
            opt.check_update(&weight(2), &p, &[1e200, 0.0]),
            Err(UpdateFault::State)
        );
        opt.lr = f64::INFINITY;
        assert_eq!(
            opt.check_update(&weight(2), &p, &[1.0, 0.0]),
            Err(UpdateFault::Parameter)
        );
        Optimizer::<f64>::state(&opt, &mut |_, v| assert_eq!(v, [0.0; 2]));
        let mut w = AdamW::with_state(1e300, 1e300, [0.0; 2], [0.0; 2]);
        assert_eq!(
            w.check_update(&weight(2), &p, &[1.0, 0.0]),
            Err(UpdateFault::Parameter)
        );
        assert!(w.check_update(&bias(2), &p, &[0.0, 0.0]).is_ok());
    }

    #[test]
    fn adamw_leaves_biases_to_adam() {
        let (first, second) = two_steps(&mut AdamW::new(0.001, 0.5), &bias(3));
        let (adam_first, adam_second) = two_steps(&mut Adam::new(0.001), &bias(3));
        assert_eq!((first, second), (adam_first, adam_second));
    }
}
