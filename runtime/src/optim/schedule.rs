//! Learning-rate schedules and the optimizer wrapper that applies them.

use super::{Optimizer, UpdateFault};
use crate::{Scalar, TensorInfo};

/// A learning rate as a function of the step index.
pub trait Schedule {
    /// The learning rate of step `step` (counted from 0) for base rate `base`.
    fn lr(&self, base: f64, step: usize) -> f64;
}

impl<S: Schedule + ?Sized> Schedule for &S {
    fn lr(&self, base: f64, step: usize) -> f64 {
        (**self).lr(base, step)
    }
}

/// The base rate at every step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Constant;

impl Schedule for Constant {
    fn lr(&self, base: f64, _step: usize) -> f64 {
        base
    }
}

/// Multiplies the rate by `gamma` every `every` steps:
/// `η_step = η·γ^⌊step / every⌋`.
///
/// `every = 0` never decays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepDecay {
    /// Steps between decays.
    pub every: usize,
    /// Factor `γ` applied at each decay.
    pub gamma: f64,
}

impl Schedule for StepDecay {
    fn lr(&self, base: f64, step: usize) -> f64 {
        match step.checked_div(self.every) {
            Some(decays) => base * libm::pow(self.gamma, decays as f64),
            None => base,
        }
    }
}

/// Multiplies the rate by `gamma` every step: `η_step = η·γ^step`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exponential {
    /// Factor `γ` per step.
    pub gamma: f64,
}

impl Schedule for Exponential {
    fn lr(&self, base: f64, step: usize) -> f64 {
        base * libm::pow(self.gamma, step as f64)
    }
}

/// Cosine annealing from the base rate down to `min_lr` over `total_steps`:
/// `η_step = η_min + (η − η_min)·(1 + cos(π·step / T)) / 2`, then `η_min`.
///
/// See Loshchilov & Hutter, [SGDR: Stochastic Gradient Descent with Warm
/// Restarts](https://arxiv.org/abs/1608.03983) (ICLR 2017); this is one cycle
/// without restarts. `total_steps = 0` gives `min_lr` at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cosine {
    /// Length `T` of the annealing, in steps.
    pub total_steps: usize,
    /// Rate `η_min` reached at step `T` and kept afterwards.
    pub min_lr: f64,
}

impl Schedule for Cosine {
    fn lr(&self, base: f64, step: usize) -> f64 {
        if step >= self.total_steps {
            return self.min_lr;
        }
        let progress = step as f64 / self.total_steps as f64;
        self.min_lr
            + (base - self.min_lr) * (1.0 + libm::cos(core::f64::consts::PI * progress)) / 2.0
    }
}

/// Linear warm-up for `steps` steps, then `inner`:
/// `η_step = η·(s + (1 − s)·step / steps)` while `step < steps`, then
/// `inner.lr(η, step − steps)`.
///
/// `s` is `start_factor`: 0 warms up from zero (the first step then does not
/// move the parameters), a fraction such as 0.1 from a tenth of the rate. The
/// inner schedule starts counting when the warm-up ends, so a
/// [`Cosine`] inside anneals over `total_steps` steps after it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Warmup<S> {
    /// Length of the warm-up, in steps.
    pub steps: usize,
    /// Fraction `s` of the base rate at step 0.
    pub start_factor: f64,
    /// The schedule after the warm-up.
    pub inner: S,
}

impl<S> Warmup<S> {
    /// Warm-up from zero over `steps` steps, then `inner`.
    pub const fn new(steps: usize, inner: S) -> Self {
        Warmup {
            steps,
            start_factor: 0.0,
            inner,
        }
    }

    /// Warm-up from `start_factor` times the base rate over `steps` steps,
    /// then `inner`.
    pub const fn from_fraction(steps: usize, start_factor: f64, inner: S) -> Self {
        Warmup {
            steps,
            start_factor,
            inner,
        }
    }
}

impl<S: Schedule> Schedule for Warmup<S> {
    fn lr(&self, base: f64, step: usize) -> f64 {
        if step < self.steps {
            let ramp = step as f64 / self.steps as f64;
            base * (self.start_factor + (1.0 - self.start_factor) * ramp)
        } else {
            self.inner.lr(base, step - self.steps)
        }
    }
}

/// Sets the learning rate of `inner` from a schedule at every step.
///
/// Each [`begin_step`](Optimizer::begin_step) sets the inner rate to
/// `schedule.lr(base_lr, t)` for the step index `t` (0 for the first step),
/// then begins the inner step. [`learning_rate`](Optimizer::learning_rate)
/// reports the inner optimizer's current rate;
/// [`set_learning_rate`](Optimizer::set_learning_rate) changes the base.
///
/// # Examples
/// ```
/// use constnet::optim::{Optimizer, Scheduled, Sgd, StepDecay};
/// # use constnet::{Init, Role, TensorInfo};
/// # let w = TensorInfo { name: "w", shape: &[1], offset: 0, len: 1, role: Role::Weight,
/// #     fan_in: 1, fan_out: 1, init: Init::Zeros };
/// let mut opt = Scheduled::new(Sgd::new(0.1), StepDecay { every: 2, gamma: 0.5 }, 0.1);
/// let mut rates = [0.0; 4];
/// for rate in &mut rates {
///     Optimizer::<f32>::begin_step(&mut opt);
///     *rate = Optimizer::<f32>::learning_rate(&opt);
///     opt.update(&w, &mut [0.0f32], &mut [0.0]);
/// }
/// assert_eq!(rates, [0.1, 0.1, 0.05, 0.05]);
/// ```
#[derive(Debug, Clone)]
pub struct Scheduled<O, S> {
    /// The optimizer whose rate is scheduled.
    pub inner: O,
    /// The schedule.
    pub schedule: S,
    base_lr: f64,
    t: usize,
    /// The inner rate before the last `begin_step`, which `cancel_step`
    /// puts back.
    before: f64,
}

impl<O, S> Scheduled<O, S> {
    /// Schedules `inner` with `schedule` around base rate `base_lr`.
    pub const fn new(inner: O, schedule: S, base_lr: f64) -> Self {
        Scheduled {
            inner,
            schedule,
            base_lr,
            t: 0,
            before: base_lr,
        }
    }

    /// The base rate the schedule scales.
    pub const fn base_lr(&self) -> f64 {
        self.base_lr
    }

    /// The index the next step gets: the number of steps begun so far.
    pub const fn next_step(&self) -> usize {
        self.t
    }
}

impl<E: Scalar, O: Optimizer<E>, S: Schedule> Optimizer<E> for Scheduled<O, S> {
    fn begin_step(&mut self) {
        self.before = self.inner.learning_rate();
        self.inner
            .set_learning_rate(self.schedule.lr(self.base_lr, self.t));
        self.t = self.t.saturating_add(1);
        self.inner.begin_step();
    }

    fn update(&mut self, tensor: &TensorInfo, param: &mut [E], grad: &mut [E]) {
        self.inner.update(tensor, param, grad);
    }

    fn check_update(
        &mut self,
        tensor: &TensorInfo,
        param: &[E],
        grad: &[E],
    ) -> Result<(), UpdateFault> {
        self.inner.check_update(tensor, param, grad)
    }

    fn cancel_step(&mut self) {
        self.inner.cancel_step();
        self.t = self.t.saturating_sub(1);
        self.inner.set_learning_rate(self.before);
    }

    fn learning_rate(&self) -> f64 {
        self.inner.learning_rate()
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.base_lr = lr;
    }

    fn base_learning_rate(&self) -> f64 {
        self.base_lr
    }

    fn reset(&mut self) {
        self.t = 0;
        self.inner.reset();
    }

    /// The schedule's step index, which the inner counter follows.
    fn step_count(&self) -> u64 {
        self.t as u64
    }

    /// Sets the schedule's and the inner optimizer's counters, and the
    /// inner rate to the one of the last step taken (step `t − 1`), as it
    /// was when that step ended.
    fn set_step_count(&mut self, t: u64) {
        self.t = usize::try_from(t).unwrap_or(usize::MAX);
        self.inner.set_step_count(t);
        if let Some(last) = self.t.checked_sub(1) {
            self.inner
                .set_learning_rate(self.schedule.lr(self.base_lr, last));
        }
    }

    fn state(&self, f: &mut dyn FnMut(&'static str, &[E])) {
        self.inner.state(f);
    }

    fn state_mut(&mut self, len: usize, f: &mut dyn FnMut(&'static str, &mut [E])) {
        self.inner.state_mut(len, f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_util::{assert_close, weight};
    use crate::optim::{Sgd, step};

    fn rates(schedule: &impl Schedule, steps: &[usize]) -> std::vec::Vec<f64> {
        steps.iter().map(|&s| schedule.lr(0.1, s)).collect()
    }

    #[test]
    fn constant_keeps_the_base() {
        assert_close(&rates(&Constant, &[0, 1000]), &[0.1, 0.1]);
    }

    #[test]
    fn step_decay_halves_every_ten_steps() {
        let schedule = StepDecay {
            every: 10,
            gamma: 0.5,
        };
        assert_close(&rates(&schedule, &[0, 9, 10, 25]), &[0.1, 0.1, 0.05, 0.025]);
        let never = StepDecay {
            every: 0,
            gamma: 0.5,
        };
        assert_close(&rates(&never, &[0, 50]), &[0.1, 0.1]);
    }

    #[test]
    fn exponential_matches_hand_computed() {
        let schedule = Exponential { gamma: 0.9 };
        assert_close(&rates(&schedule, &[0, 1, 3]), &[0.1, 0.09, 0.0729]);
    }

    #[test]
    fn cosine_matches_hand_computed() {
        let schedule = Cosine {
            total_steps: 100,
            min_lr: 0.001,
        };
        assert_close(
            &rates(&schedule, &[0, 25, 50, 100, 150]),
            &[0.1, 0.0855017856687341, 0.0505, 0.001, 0.001],
        );
        let empty = Cosine {
            total_steps: 0,
            min_lr: 0.001,
        };
        assert_close(&rates(&empty, &[0]), &[0.001]);
    }

    #[test]
    fn warmup_from_zero_then_constant() {
        let schedule = Warmup::new(5, Constant);
        assert_close(&rates(&schedule, &[0, 2, 5, 9]), &[0.0, 0.04, 0.1, 0.1]);
    }

    #[test]
    fn warmup_from_fraction_then_inner_from_zero() {
        let schedule = Warmup::from_fraction(4, 0.2, Exponential { gamma: 0.5 });
        assert_close(&rates(&schedule, &[0, 2, 4, 5]), &[0.02, 0.06, 0.1, 0.05]);
    }

    #[test]
    fn scheduled_sets_the_inner_rate_each_step() {
        // Step 0 at rate 0.02, step 1 at 0.04: θ = 1 − 0.02·1 − 0.04·1 = 0.94.
        let schedule = Warmup::from_fraction(4, 0.2, Constant);
        let mut opt = Scheduled::new(Sgd::new(0.1), schedule, 0.1);
        let tensors = [weight(1)];
        let mut params = [1.0f64];
        step(&mut opt, &mut params, &mut [1.0], &tensors).unwrap();
        assert_close(&[Optimizer::<f64>::learning_rate(&opt)], &[0.02]);
        step(&mut opt, &mut params, &mut [1.0], &tensors).unwrap();
        assert_close(&params, &[0.94]);
        assert_eq!(opt.next_step(), 2);
        Optimizer::<f64>::set_learning_rate(&mut opt, 1.0);
        assert_eq!(opt.base_lr(), 1.0);
        Optimizer::<f64>::reset(&mut opt);
        assert_eq!(opt.next_step(), 0);
    }

    #[test]
    fn a_refused_step_leaves_the_schedule_where_it_was() {
        use crate::optim::{Adam, Refused, UpdateFault};
        let schedule = Warmup::from_fraction(4, 0.2, Constant);
        let mut opt = Scheduled::new(Adam::new(0.1), schedule, 0.1);
        let tensors = [weight(1)];
        let mut params = [1.0f64];
        step(&mut opt, &mut params, &mut [1.0], &tensors).unwrap();
        let (lr, t, p) = (
            Optimizer::<f64>::learning_rate(&opt),
            opt.next_step(),
            params,
        );
        let err = step(&mut opt, &mut params, &mut [f64::NAN], &tensors).unwrap_err();
        assert_eq!(
            err,
            Refused {
                tensor: "w",
                fault: UpdateFault::Parameter
            }
        );
        assert_eq!(Optimizer::<f64>::learning_rate(&opt), lr);
        assert_eq!((opt.next_step(), opt.inner.step_count()), (t, 1));
        assert_eq!(params, p);
        // The counters resume as if the refused step had never been asked for.
        let mut twin = Scheduled::new(Adam::new(0.1), schedule, 0.1);
        let mut twin_params = [1.0f64];
        step(&mut twin, &mut twin_params, &mut [1.0], &tensors).unwrap();
        step(&mut twin, &mut twin_params, &mut [0.5], &tensors).unwrap();
        step(&mut opt, &mut params, &mut [0.5], &tensors).unwrap();
        assert_eq!(params, twin_params);
        Optimizer::<f64>::set_step_count(&mut opt, 1);
        assert_eq!(Optimizer::<f64>::learning_rate(&opt), lr);
        assert_eq!(Optimizer::<f64>::step_count(&opt.inner), 1);
    }
}
