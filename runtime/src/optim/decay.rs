//! L2 weight decay as a penalty added to the loss.

use super::{Optimizer, trainable};
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
                *g += lambda * p;
            }
        }
        self.inner.update(tensor, param, grad);
    }

    fn learning_rate(&self) -> f64 {
        self.inner.learning_rate()
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.inner.set_learning_rate(lr);
    }

    fn reset(&mut self) {
        self.inner.reset();
    }
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
        step(&mut opt, &mut params, &mut grads, TENSORS);
        assert_close(&params, &[0.93, -2.01, 0.54, -0.1, 0.95, -1.05, 3.0, 3.0]);
        assert_eq!(Optimizer::<f64>::learning_rate(&opt), 0.1);
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
