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
//! [`step`] refuses a step that would write a NaN or an infinity, leaving
//! everything as it was (see [`Optimizer`], "Checked steps").
//!
//! # State without an allocator
//! Stateful optimizers keep one slot per parameter element in a [`StateBuf`],
//! indexed like the flat parameter array. With `alloc`, `new` uses a `Vec`
//! that grows on first use. Without it, `with_state` takes a fixed buffer:
//! an array, or a borrowed slice of a `static` workspace on a microcontroller.
//!
//! # Examples
//! ```
//! use constnet::optim::{self, Momentum, Optimizer};
//! use constnet::{Init, Role, TensorInfo};
//!
//! const TENSORS: &[TensorInfo] = &[TensorInfo {
//!     name: "affine1.weight", shape: &[1, 2], offset: 0, len: 2,
//!     role: Role::Weight, fan_in: 2, fan_out: 1, init: Init::HeNormal,
//! }];
//! let mut params = [1.0f64, -1.0];
//! let mut grads = [0.25, 0.25];
//! // No allocator needed: the velocity lives in a fixed array.
//! let mut opt = Momentum::with_state(0.5, 0.9, [0.0; 2]);
//! optim::step(&mut opt, &mut params, &mut grads, TENSORS)?;
//! assert_eq!(params, [0.875, -1.125]);
//! # Ok::<(), optim::Refused>(())
//! ```

mod adagrad;
mod adam;
mod check;
mod clip;
#[cfg(feature = "serde")]
mod config;
mod decay;
mod momentum;
mod rmsprop;
mod schedule;
mod sgd;
mod state;

pub use adagrad::AdaGrad;
pub use adam::{Adam, AdamW};
pub(crate) use check::{RatioBound, Rule, check0, check1, check2, update0, update1, update2};
pub use check::{Refused, UpdateFault};
pub use clip::{clip_grad_norm, clip_grad_value};
#[cfg(feature = "serde")]
pub use config::{
    AnyOptimizer, ConfigError, Configured, OPTIMIZER_NAMES, OptimizerConfig, SCHEDULE_NAMES,
    ScheduleConfig,
};
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
///
/// # Checked steps
/// [`step`] never writes a NaN or an infinity: it calls
/// [`check_update`](Optimizer::check_update) on every tensor first, which
/// computes the update without writing it, and applies the step only when
/// every value it would write is finite; otherwise it calls
/// [`cancel_step`](Optimizer::cancel_step) and the parameters and the state
/// stay bit for bit as they were. This costs one more read of the
/// parameters, gradients and state, and no memory, unlike a backup copy of
/// them (see `ARCHITECTURE.md`).
///
/// # State
/// [`state`](Optimizer::state), [`state_mut`](Optimizer::state_mut),
/// [`step_count`](Optimizer::step_count) and
/// [`set_step_count`](Optimizer::set_step_count) expose everything an
/// optimizer learns while it runs (hyperparameters are public fields), so a
/// checkpoint can save and restore it exactly.
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

    /// Computes what [`update`](Optimizer::update) would write for this
    /// tensor, after the same [`begin_step`](Optimizer::begin_step), without
    /// writing it.
    ///
    /// It must perform the update's arithmetic exactly (the same operations
    /// in the same order), so that an update whose check passed writes only
    /// finite values. It may size state buffers (a `Vec` grows to fit, with
    /// zeros) but leaves every value unchanged. Updates are elementwise, so a
    /// wrapper may check a tensor in contiguous parts: `tensor` then
    /// describes the part (its `offset` and `len`) and keeps the tensor's
    /// name and role.
    ///
    /// # Errors
    /// The kind of value that would be NaN or infinite: a parameter, or else
    /// a value of the optimizer's state.
    fn check_update(
        &mut self,
        tensor: &TensorInfo,
        param: &[E],
        grad: &[E],
    ) -> Result<(), UpdateFault>;

    /// Undoes the last [`begin_step`](Optimizer::begin_step): the step was
    /// refused before any [`update`](Optimizer::update), and the next one
    /// must see the counters and learning rate as they were.
    fn cancel_step(&mut self);

    /// The learning rate the next update uses.
    fn learning_rate(&self) -> f64;

    /// Sets the learning rate (a schedule calls this every step).
    fn set_learning_rate(&mut self, lr: f64);

    /// The rate [`set_learning_rate`](Optimizer::set_learning_rate) sets:
    /// the learning rate, except under a schedule ([`Scheduled`]), where it
    /// is the base rate the schedule scales. A checkpoint saves it, and a
    /// callback that lowers the rate on a plateau changes it.
    fn base_learning_rate(&self) -> f64 {
        self.learning_rate()
    }

    /// Forgets all state (velocities, moments, the step counter), as if the
    /// optimizer were newly built; hyperparameters stay.
    fn reset(&mut self);

    /// Steps begun so far, for rules and schedules that depend on it
    /// (Adam's bias correction, [`Scheduled`]); 0 for rules that keep no
    /// counter.
    fn step_count(&self) -> u64;

    /// Sets the step counter, as when resuming from a checkpoint: the next
    /// step is step `t + 1` of Adam's bias correction and index `t` of a
    /// schedule. Rules that keep no counter ignore it.
    fn set_step_count(&mut self, t: u64);

    /// Calls `f` with the name and values of each per-element state buffer,
    /// laid out like the flat parameter array (see [`StateBuf`]).
    ///
    /// Names follow PyTorch's optimizer state where the quantity is the
    /// same: `exp_avg` and `exp_avg_sq` (Adam), `sum` (AdaGrad),
    /// `square_avg` (RMSProp); the velocity of [`Momentum`] and [`Nesterov`],
    /// which differs from PyTorch's `momentum_buffer`, is `velocity`.
    /// A `Vec` buffer is empty before the first step and zero where it has
    /// not grown to; stateless rules call `f` never.
    fn state(&self, f: &mut dyn FnMut(&'static str, &[E]));

    /// As [`state`](Optimizer::state), mutable, to restore a checkpoint.
    /// `Vec` buffers first grow to at least `len` elements (the network's
    /// `STORE_LEN`); fixed buffers are given whole, whatever their length.
    fn state_mut(&mut self, len: usize, f: &mut dyn FnMut(&'static str, &mut [E]));
}

impl<E: Scalar, O: Optimizer<E> + ?Sized> Optimizer<E> for &mut O {
    fn begin_step(&mut self) {
        (**self).begin_step();
    }
    fn update(&mut self, tensor: &TensorInfo, param: &mut [E], grad: &mut [E]) {
        (**self).update(tensor, param, grad);
    }
    fn check_update(
        &mut self,
        tensor: &TensorInfo,
        param: &[E],
        grad: &[E],
    ) -> Result<(), UpdateFault> {
        (**self).check_update(tensor, param, grad)
    }
    fn cancel_step(&mut self) {
        (**self).cancel_step();
    }
    fn learning_rate(&self) -> f64 {
        (**self).learning_rate()
    }
    fn set_learning_rate(&mut self, lr: f64) {
        (**self).set_learning_rate(lr);
    }
    fn base_learning_rate(&self) -> f64 {
        (**self).base_learning_rate()
    }
    fn reset(&mut self) {
        (**self).reset();
    }
    fn step_count(&self) -> u64 {
        (**self).step_count()
    }
    fn set_step_count(&mut self, t: u64) {
        (**self).set_step_count(t);
    }
    fn state(&self, f: &mut dyn FnMut(&'static str, &[E])) {
        (**self).state(f);
    }
    fn state_mut(&mut self, len: usize, f: &mut dyn FnMut(&'static str, &mut [E])) {
        (**self).state_mut(len, f);
    }
}

/// Runs one optimization step over a whole flat parameter array, or none.
///
/// Calls [`Optimizer::begin_step`] once, then
/// [`Optimizer::check_update`] for each trainable tensor in `tensors`, and,
/// when every check passes, [`Optimizer::update`] for each (running
/// statistics are skipped: their slots in `grads` hold batch statistics, not
/// gradients).
///
/// # Errors
/// [`Refused`] when the update would make a parameter or a state value NaN
/// or infinite (a learning rate too large, an overflowing gradient, a
/// parameter that already was). The step is then cancelled
/// ([`Optimizer::cancel_step`]): `params`, `grads` and the optimizer are
/// left bit for bit as they were.
///
/// # Panics
/// If a tensor's range lies outside `params` or `grads`; `Network::TENSORS`
/// always fits `STORE_LEN`.
pub fn step<E: Scalar, O: Optimizer<E> + ?Sized>(
    opt: &mut O,
    params: &mut [E],
    grads: &mut [E],
    tensors: &[TensorInfo],
) -> Result<(), Refused> {
    step_except(opt, params, grads, tensors, &[])
}

/// [`step`] that leaves the tensors flagged in `frozen` alone: they are
/// neither checked nor updated, and their optimizer state does not move
/// (transfer learning's frozen layers). `frozen` has one flag per tensor of
/// `tensors`; an empty slice freezes nothing. The step counter advances
/// as for any step.
///
/// # Errors
/// As [`step`].
///
/// # Panics
/// As [`step`], and if `frozen` is neither empty nor as long as `tensors`.
pub fn step_except<E: Scalar, O: Optimizer<E> + ?Sized>(
    opt: &mut O,
    params: &mut [E],
    grads: &mut [E],
    tensors: &[TensorInfo],
    frozen: &[bool],
) -> Result<(), Refused> {
    assert!(
        frozen.is_empty() || frozen.len() == tensors.len(),
        "one frozen flag per tensor"
    );
    let trained = || {
        tensors
            .iter()
            .enumerate()
            .filter(|(i, t)| t.role.is_trainable() && !frozen.get(*i).copied().unwrap_or(false))
            .map(|(_, t)| t)
    };
    opt.begin_step();
    for tensor in trained() {
        let range = tensor.range();
        if let Err(fault) = opt.check_update(tensor, &params[range.clone()], &grads[range]) {
            opt.cancel_step();
            return Err(Refused {
                tensor: tensor.name,
                fault,
            });
        }
    }
    for tensor in trained() {
        let range = tensor.range();
        opt.update(tensor, &mut params[range.clone()], &mut grads[range]);
    }
    Ok(())
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
    use std::string::ToString;

    /// A check must pass exactly when the update then writes only finite
    /// values, and name the parameters first: the bound's shortcut and the
    /// exact path are both exercised by values near the range's ends.
    #[test]
    fn checks_agree_with_the_updates_they_guard() {
        const POOL: [f32; 14] = [
            0.0,
            -0.0,
            1e-30,
            -1e-3,
            0.5,
            -2.0,
            1e3,
            1e19,
            -1e19,
            1e30,
            3e38,
            -3e38,
            f32::MAX,
            -f32::MAX,
        ];
        const RATES: [f64; 5] = [1e-3, 1.0, 1e9, 1e30, f64::INFINITY];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut pick = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let tensor = test_util::weight(4);
        let (mut passed, mut refused) = (0, 0);
        for trial in 0..4000 {
            let lr = RATES[pick(RATES.len())];
            let mut opt: std::boxed::Box<dyn Optimizer<f32>> = match trial % 7 {
                0 => std::boxed::Box::new(Sgd::new(lr)),
                1 => std::boxed::Box::new(Momentum::<std::vec::Vec<f32>>::new(lr, 0.9)),
                2 => std::boxed::Box::new(Nesterov::<std::vec::Vec<f32>>::new(lr, 0.9)),
                3 => std::boxed::Box::new(AdaGrad::<std::vec::Vec<f32>>::new(lr)),
                4 => std::boxed::Box::new(RmsProp::<std::vec::Vec<f32>>::new(lr, 0.99)),
                5 => {
                    let mut adam = Adam::<std::vec::Vec<f32>>::new(lr);
                    adam.eps = [1e-7, 1e-30, 0.0][pick(3)];
                    std::boxed::Box::new(adam)
                }
                _ => std::boxed::Box::new(WeightDecay::new(AdamW::new(lr, 0.01), 0.1)),
            };
            let mut value = |_| POOL[pick(POOL.len())];
            let mut params: [f32; 4] = core::array::from_fn(&mut value);
            let grads: [f32; 4] = core::array::from_fn(&mut value);
            opt.state_mut(4, &mut |_, v| v.iter_mut().for_each(|x| *x = value(0)));
            opt.begin_step();
            let verdict = opt.check_update(&tensor, &params, &grads);
            opt.update(&tensor, &mut params, &mut grads.clone());
            let mut state_finite = true;
            opt.state(&mut |_, v| state_finite &= v.iter().all(|x| x.is_finite()));
            let params_finite = params.iter().all(|x| x.is_finite());
            let expected = match (params_finite, state_finite) {
                (true, true) => Ok(()),
                (true, false) => Err(UpdateFault::State),
                (false, _) => Err(UpdateFault::Parameter),
            };
            assert_eq!(
                verdict, expected,
                "trial {trial}: lr {lr}, params {params:?}"
            );
            if verdict.is_ok() {
                passed += 1;
            } else {
                refused += 1;
            }
        }
        assert!(
            passed > 500 && refused > 500,
            "{passed} passed, {refused} refused"
        );
    }

    #[test]
    fn step_except_leaves_frozen_tensors_and_their_state() {
        let mut params = [1.0f64; 8];
        let mut grads = [1.0f64; 8];
        let mut opt = Momentum::with_state(0.5, 0.9, [0.0f64; 8]);
        step_except(
            &mut opt,
            &mut params,
            &mut grads,
            TENSORS,
            &[true, false, false],
        )
        .unwrap();
        assert_close(&params, &[1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 1.0, 1.0]);
        Optimizer::<f64>::state(&opt, &mut |_, v| {
            assert_close(v, &[0.0, 0.0, 0.0, 0.0, -0.5, -0.5, 0.0, 0.0]);
        });
    }

    #[test]
    fn step_skips_running_statistics() {
        let mut params = [1.0f64; 8];
        let mut grads = [1.0f64; 8];
        step(&mut Sgd::new(0.5), &mut params, &mut grads, TENSORS).unwrap();
        assert_close(&params, &[0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1.0, 1.0]);
    }

    #[test]
    fn step_refuses_an_update_that_would_write_a_non_finite_value() {
        // The bias's update overflows; the weight's, checked first, would
        // not. Nothing is written, the counter is back where it was.
        let mut params = [1.0f32, 2.0, 3.0, 4.0, 5.0, f32::MAX, 7.0, 8.0];
        let mut grads = [1.0f32, 1.0, 1.0, 1.0, 1.0, -f32::MAX, 0.0, 0.0];
        let (p0, g0) = (params, grads);
        let mut opt = Adam::with_state(1e30, [0.0f32; 8], [0.0f32; 8]);
        let err = step(&mut opt, &mut params, &mut grads, TENSORS).unwrap_err();
        assert_eq!(
            err,
            Refused {
                tensor: "affine1.bias",
                fault: UpdateFault::Parameter
            }
        );
        assert_eq!(
            err.to_string(),
            "the update would make the parameters of `affine1.bias` NaN or infinite; \
             nothing was changed"
        );
        assert_eq!((params, grads), (p0, g0));
        assert_eq!(opt.step_count(), 0);
        Optimizer::<f32>::state(&opt, &mut |_, v| assert!(v.iter().all(|&x| x == 0.0)));
        // Step counters of every optimizer survive a refusal.
        let mut opts: [&mut dyn Optimizer<f32>; 3] = [
            &mut Sgd::new(f64::INFINITY),
            &mut Momentum::with_state(f64::INFINITY, 0.9, [0.0f32; 8]),
            &mut AdamW::with_state(f64::INFINITY, 0.1, [0.0f32; 8], [0.0f32; 8]),
        ];
        for opt in &mut opts {
            assert!(step(&mut **opt, &mut params, &mut grads, TENSORS).is_err());
            assert_eq!(opt.step_count(), 0);
            assert_eq!((params, grads), (p0, g0));
        }
    }

    #[test]
    fn step_works_through_a_mutable_reference() {
        let mut opt = Sgd::new(0.5);
        let mut params = [1.0f64; 8];
        let mut grads = [2.0f64; 8];
        step(&mut &mut opt, &mut params, &mut grads, TENSORS).unwrap();
        assert_eq!(params[0], 0.0);
        Optimizer::<f64>::set_learning_rate(&mut &mut opt, 0.25);
        assert_eq!(Optimizer::<f64>::learning_rate(&opt), 0.25);
    }
}
