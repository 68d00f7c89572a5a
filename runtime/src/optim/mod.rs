//! Optimizers, weight decay, gradient clipping and learning-rate schedules.
//!
//! Every optimizer implements [`Optimizer`]: it sees one parameter tensor at a
//! time as a flat slice, with its gradient as a flat slice of the same length.
//! [`step`] drives a whole network: it visits every trainable tensor of
//! `Network::TENSORS` and skips batch-norm running statistics, which are not
//! trained by gradients.
//!
//! The update rules and defaults follow the classic from-scratch material
//! (`optimizer.py` of *Deep Learning from Scratch*):
//!
//! | Optimizer | Rule | Defaults |
//! |---|---|---|
//! | [`Sgd`] | `θ ← θ − η∇` | `η = 0.01` |
//! | [`Momentum`] | `v ← αv − η∇`, `θ ← θ + v` | `η = 0.01`, `α = 0.9` |
//! | [`Nesterov`] | `v ← αv − η∇`, `θ ← θ + α²v − (1 + α)η∇` | `η = 0.01`, `α = 0.9` |
//! | [`AdaGrad`] | `h ← h + ∇²`, `θ ← θ − η∇ / (√h + ε)` | `η = 0.01`, `ε = 1e-7` |
//! | [`RmsProp`] | `h ← ρh + (1 − ρ)∇²`, `θ ← θ − η∇ / (√h + ε)` | `η = 0.01`, `ρ = 0.99` |
//! | [`Adam`] | see its docs | `η = 0.001`, `β1 = 0.9`, `β2 = 0.999` |
//! | [`AdamW`] | Adam plus `θ ← θ − ηλθ` on weights | as Adam |
//!
//! Wrappers compose with any optimizer: [`WeightDecay`] adds the L2 penalty's
//! gradient `λθ` (weights only; [`l2_penalty`] gives the matching loss term),
//! and [`Scheduled`] sets the learning rate from a [`Schedule`] at every step.
//! [`clip_grad_norm`] and [`clip_grad_value`] work on the whole gradient
//! before the optimizer runs.
//!
//! # State without an allocator
//! Stateful optimizers keep one slot per parameter element in a [`StateBuf`],
//! indexed like the flat parameter array. With `alloc`, `new` uses a `Vec`
//! that grows on first use. Without it, `with_state` takes a fixed buffer:
//! an array, or a borrowed slice of a `static` workspace on a microcontroller.
//!
//! # Examples
//! ```
//! use constnet_runtime::optim::{self, Momentum, Optimizer};
//! use constnet_runtime::{Init, Role, TensorInfo};
//!
//! const TENSORS: &[TensorInfo] = &[TensorInfo {
//!     name: "affine1.weight", shape: &[1, 2], offset: 0, len: 2,
//!     role: Role::Weight, fan_in: 2, fan_out: 1, init: Init::HeNormal,
//! }];
//! let mut params = [1.0f64, -1.0];
//! let mut grads = [0.25, 0.25];
//! // No allocator needed: the velocity lives in a fixed array.
//! let mut opt = Momentum::with_state(0.5, 0.9, [0.0; 2]);
//! optim::step(&mut opt, &mut params, &mut grads, TENSORS);
//! assert_eq!(params, [0.875, -1.125]);
//! ```

mod adagrad;
mod adam;
mod clip;
mod decay;
mod momentum;
mod rmsprop;
mod schedule;
mod sgd;
mod state;

pub use adagrad::AdaGrad;
pub use adam::{Adam, AdamW};
pub use clip::{clip_grad_norm, clip_grad_value};
pub use decay::{WeightDecay, l2_penalty};
pub use momentum::{Momentum, Nesterov};
pub use rmsprop::RmsProp;
pub use schedule::{Constant, Cosine, Exponential, Schedule, Scheduled, StepDecay, Warmup};
pub use sgd::Sgd;
pub use state::StateBuf;

use crate::{Scalar, TensorInfo};

/// The ε the classic material adds to square roots in denominators (AdaGrad,
/// RMSProp, Adam): small enough not to bias the step, large enough to keep
/// `1 / √h` finite while `h` is still zero.
pub const EPSILON: f64 = 1e-7;

/// An update rule that visits each parameter tensor with its gradient.
///
/// Hyperparameters are `f64` whatever the element type, so a schedule computes
/// the same learning rate for `f32` and `f64` networks.
pub trait Optimizer<E: Scalar> {
    /// Starts one optimization step: advances the step counter `t` that Adam's
    /// bias correction and schedules use. [`step`] calls it once per step,
    /// before the first [`update`](Optimizer::update).
    fn begin_step(&mut self);

    /// Updates one tensor in place from its gradient.
    ///
    /// `param` and `grad` are the tensor's range of the flat arrays (same
    /// length). `grad` is mutable so that wrappers such as [`WeightDecay`]
    /// can adjust it on the way to the inner optimizer; afterwards it holds
    /// unspecified values.
    fn update(&mut self, tensor: &TensorInfo, param: &mut [E], grad: &mut [E]);

    /// The learning rate the next update uses.
    fn learning_rate(&self) -> f64;

    /// Sets the learning rate (a schedule calls this every step).
    fn set_learning_rate(&mut self, lr: f64);

    /// Forgets all state (velocities, moments, the step counter), as if the
    /// optimizer were newly built; hyperparameters stay.
    fn reset(&mut self);
}

impl<E: Scalar, O: Optimizer<E> + ?Sized> Optimizer<E> for &mut O {
    fn begin_step(&mut self) {
        (**self).begin_step();
    }
    fn update(&mut self, tensor: &TensorInfo, param: &mut [E], grad: &mut [E]) {
        (**self).update(tensor, param, grad);
    }
    fn learning_rate(&self) -> f64 {
        (**self).learning_rate()
    }
    fn set_learning_rate(&mut self, lr: f64) {
        (**self).set_learning_rate(lr);
    }
    fn reset(&mut self) {
        (**self).reset();
    }
}

/// Runs one optimization step over a whole flat parameter array.
///
/// Calls [`Optimizer::begin_step`] once, then [`Optimizer::update`] for each
/// trainable tensor in `tensors` (running statistics are skipped: their slots
/// in `grads` hold batch statistics, not gradients).
///
/// # Panics
/// If a tensor's range lies outside `params` or `grads`; `Network::TENSORS`
/// always fits `STORE_LEN`.
pub fn step<E: Scalar, O: Optimizer<E> + ?Sized>(
    opt: &mut O,
    params: &mut [E],
    grads: &mut [E],
    tensors: &[TensorInfo],
) {
    opt.begin_step();
    for tensor in tensors.iter().filter(|t| t.role.is_trainable()) {
        let range = tensor.range();
        opt.update(tensor, &mut params[range.clone()], &mut grads[range]);
    }
}

/// Trainable tensors of `tensors` paired with their slice of `flat`.
pub(crate) fn trainable<'a, E>(
    flat: &'a [E],
    tensors: &'a [TensorInfo],
) -> impl Iterator<Item = (&'a TensorInfo, &'a [E])> + 'a {
    tensors
        .iter()
        .filter(|t| t.role.is_trainable())
        .map(move |t| (t, &flat[t.range()]))
}

#[cfg(test)]
pub(crate) mod test_util {
    use crate::{Init, Role, TensorInfo};

    /// A weight `[2, 2]`, a bias `[2]` and a running mean `[2]`.
    pub const TENSORS: &[TensorInfo] = &[
        tensor("affine1.weight", &[2, 2], 0, 4, Role::Weight),
        tensor("affine1.bias", &[2], 4, 2, Role::Bias),
        tensor("bn1.running_mean", &[2], 6, 2, Role::RunningMean),
    ];

    pub const fn tensor(
        name: &'static str,
        shape: &'static [usize],
        offset: usize,
        len: usize,
        role: Role,
    ) -> TensorInfo {
        TensorInfo {
            name,
            shape,
            offset,
            len,
            role,
            fan_in: 2,
            fan_out: 2,
            init: Init::Zeros,
        }
    }

    /// A single weight tensor of `len` elements.
    pub fn weight(len: usize) -> TensorInfo {
        tensor("w", &[], 0, len, Role::Weight)
    }

    /// A single bias tensor of `len` elements.
    pub fn bias(len: usize) -> TensorInfo {
        tensor("b", &[], 0, len, Role::Bias)
    }

    #[track_caller]
    pub fn assert_close(actual: &[f64], expected: &[f64]) {
        assert_eq!(actual.len(), expected.len());
        for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
            assert!(
                (a - e).abs() < 1e-7,
                "element {i}: got {a:.12}, expected {e:.12}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_util::{TENSORS, assert_close};
    use super::*;

    #[test]
    fn step_skips_running_statistics() {
        let mut params = [1.0f64; 8];
        let mut grads = [1.0f64; 8];
        step(&mut Sgd::new(0.5), &mut params, &mut grads, TENSORS);
        assert_close(&params, &[0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1.0, 1.0]);
    }

    #[test]
    fn step_works_through_a_mutable_reference() {
        let mut opt = Sgd::new(0.5);
        let mut params = [1.0f64; 8];
        let mut grads = [2.0f64; 8];
        step(&mut &mut opt, &mut params, &mut grads, TENSORS);
        assert_eq!(params[0], 0.0);
        Optimizer::<f64>::set_learning_rate(&mut &mut opt, 0.25);
        assert_eq!(Optimizer::<f64>::learning_rate(&opt), 0.25);
    }
}
