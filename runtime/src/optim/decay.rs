//! L2 weight decay as a penalty added to the loss.

use super::{Optimizer, UpdateFault, trainable};
use crate::{Scalar, TensorInfo};

/// Adds the gradient of the L2 penalty `½λ‖W‖²` to the gradient of every
/// decayed tensor, `∇ ← ∇ + λθ`, before the inner optimizer sees it.
///
/// Only tensors whose role [`is_decayed`](crate::Role::is_decayed) (weights)
/// are affected; biases, batch-norm scale and shift and PReLU slopes are not,
/// as in the classic material. Add [`l2_penalty`] to the reported loss so the
/// loss and the gradient agree. With Adam, prefer [`AdamW`](super::AdamW):
/// an L2 penalty passes through Adam's per-element scaling and decays large
/// weights less than intended.
#[derive(Debug, Clone)]
pub struct WeightDecay<O> {
    /// The optimizer that receives the adjusted gradient.
    pub inner: O,
    /// Penalty coefficient `λ`.
    pub lambda: f64,
}

impl<O> WeightDecay<O> {
    /// Wraps `inner` with penalty coefficient `lambda`.
    pub const fn new(inner: O, lambda: f64) -> Self {
        WeightDecay { inner, lambda }
    }
}

impl<E: Scalar, O: Optimizer<E>> Optimizer<E> for WeightDecay<O> {
    fn begin_step(&mut self) {
        self.inner.begin_step();
    }

    fn update(&mut self, tensor: &TensorInfo, param: &mut [E], grad: &mut [E]) {
        if tensor.role.is_decayed() {
            let lambda = E::from_f64(self.lambda);
            for (g, &p) in grad.iter_mut().zip(param.iter()) {
                *g = decayed(*g, p, lambda);
            }
        }
        self.inner.update(tensor, param, grad);
    }

    /// Checks the inner update on the adjusted gradient, which it builds
    /// in a stack buffer a part of the tensor at a time: `grad` is not
    /// ours to change before the update.
    fn check_update(
        &mut self,
        tensor: &TensorInfo,
        param: &[E],
        grad: &[E],
    ) -> Result<(), UpdateFault> {
        if !tensor.role.is_decayed() {
            return self.inner.check_update(tensor, param, grad);
        }
        const PART: usize = 64;
        let lambda = E::from_f64(self.lambda);
        let mut adjusted = [E::ZERO; PART];
        for (i, (p, g)) in param.chunks(PART).zip(grad.chunks(PART)).enumerate() {
            for ((a, &g), &p) in adjusted.iter_mut().zip(g).zip(p) {
                *a = decayed(g, p, lambda);
            }
            let part = TensorInfo {
                offset: tensor.offset + i * PART,
                len: p.len(),
                ..*tensor
            };
            self.inner.check_update(&part, p, &adjusted[..p.len()])?;
        }
        Ok(())
    }

    fn cancel_step(&mut self) {
        self.inner.cancel_step();
    }

    fn learning_rate(&self) -> f64 {
        self.inner.learning_rate()
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.inner.set_learning_rate(lr);
    }

    fn base_learning_rate(&self) -> f64 {
        self.inner.base_learning_rate()
    }

    fn reset(&mut self) {
        self.inner.reset();
    }

    fn step_count(&self) -> u64 {
        self.inner.step_count()
    }

    fn set_step_count(&mut self, t: u64) {
        self.inner.set_step_count(t);
    }

    fn state(&self, f: &mut dyn FnMut(&'static str, &[E])) {
        self.inner.state(f);
    }

    fn state_mut(&mut self, len: usize, f: &mut dyn FnMut(&'static str, &mut [E])) {
        self.inner.state_mut(len, f);
    }
}

/// `∇ + λθ`, shared by `update` and `check_update`.
#[inline(always)]
fn decayed<E: Scalar>(g: E, p: E, lambda: E) -> E {
    g + lambda * p
}

/// The L2 penalty `½λ Σ‖W‖²` over the decayed tensors (weights) of a flat
/// parameter array; the loss term whose gradient [`WeightDecay`] adds.
///
/// The sum is accumulated in `f64`, so an `f32` network with millions of
/// weights loses no precision to the summation order.
///
/// # Panics
/// If a tensor's range lies outside `params`.
pub fn l2_penalty<E: Scalar>(params: &[E], tensors: &[TensorInfo], lambda: f64) -> E {
    let sum_sq: f64 = trainable(params, tensors)
        .filter(|(t, _)| t.role.is_decayed())
        .flat_map(|(_, w)| w.iter())
        .map(|&w| {
            let w = w.to_f64();
            w * w
        })
        .sum();
    E::from_f64(0.5 * lambda * sum_sq)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_util::{TENSORS, assert_close};
    use crate::optim::{Sgd, step};

    #[test]
    fn weight_decay_step_matches_hand_computed() {
        // Weight: θ − η(∇ + λθ) = 1 − 0.1·(0.5 + 0.2·1) = 0.93; the bias and
        // the running mean are not decayed.
        let mut params = [1.0, -2.0, 0.5, 0.0, 1.0, -1.0, 3.0, 3.0];
        let mut grads = [0.5, 0.5, -0.5, 1.0, 0.5, 0.5, 9.0, 9.0];
        let mut opt = WeightDecay::new(Sgd::new(0.1), 0.2);
        step(&mut opt, &mut params, &mut grads, TENSORS).unwrap();
        assert_close(&params, &[0.93, -2.01, 0.54, -0.1, 0.95, -1.05, 3.0, 3.0]);
        assert_eq!(Optimizer::<f64>::learning_rate(&opt), 0.1);
    }

    #[test]
    fn weight_decay_checks_the_adjusted_gradient_in_parts() {
        use crate::optim::test_util::weight;
        use crate::optim::{Adam, UpdateFault};
        // 150 elements: parts of 64, 64 and 22; the overflow is in the last.
        let tensor = weight(150);
        let params = [1.0f64; 150];
        let mut grads = [0.0f64; 150];
        let mut opt = WeightDecay::new(Sgd::new(1.0), 1.0);
        assert!(opt.check_update(&tensor, &params, &grads).is_ok());
        let mut params = params;
        params[140] = f64::MAX;
        grads[140] = f64::MAX;
        assert_eq!(
            opt.check_update(&tensor, &params, &grads),
            Err(UpdateFault::Parameter)
        );
        // Adam state indexed by the parts' offsets: same verdicts as whole.
        let mut adam = WeightDecay::new(Adam::with_state(0.1, [0.0; 150], [0.0; 150]), 0.5);
        Optimizer::<f64>::begin_step(&mut adam);
        grads[140] = 1e200;
        params[140] = 1.0;
        assert_eq!(
            adam.check_update(&tensor, &params, &grads),
            Err(UpdateFault::State)
        );
        grads[140] = 1.0;
        assert!(adam.check_update(&tensor, &params, &grads).is_ok());
        let mut checked = params;
        adam.update(&tensor, &mut checked, &mut grads.clone());
        assert!(checked.iter().all(|p| p.is_finite()));
    }

    #[test]
    fn l2_penalty_sums_weights_only() {
        // ½ · 0.2 · (1 + 4 + 0.25 + 0) = 0.525.
        let params = [1.0, -2.0, 0.5, 0.0, 10.0, 10.0, 10.0, 10.0];
        assert!((l2_penalty(&params, TENSORS, 0.2) - 0.525f64).abs() < 1e-12);
        let params32 = [1.0f32, -2.0, 0.5, 0.0, 10.0, 10.0, 10.0, 10.0];
        assert!((l2_penalty(&params32, TENSORS, 0.2) - 0.525f32).abs() < 1e-7);
    }
}
