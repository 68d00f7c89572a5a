//! Optimizers and schedules chosen at run time: plain values that a command
//! line or a configuration file names, built into one concrete optimizer
//! type without generic plumbing (feature `serde`).
//!
//! [`OptimizerConfig`] and [`ScheduleConfig`] deserialize with serde (an
//! internally tagged `kind`, defaults for every hyperparameter but a
//! schedule's shape) and parse from short strings (`adam`,
//! `adam:lr=0.002,beta2=0.99`, `cosine:min_lr=1e-5`,
//! `warmup:steps=500+cosine`), which is what a flag takes.
//! [`OptimizerConfig::scheduled`] builds a [`Configured`] optimizer, one type
//! for every choice.
//!
//! # Examples
//! ```
//! use constnet::optim::{Optimizer, OptimizerConfig, ScheduleConfig};
//!
//! let opt: OptimizerConfig = "adam:lr=0.002".parse()?;
//! let schedule: ScheduleConfig = "warmup:steps=10+cosine".parse()?;
//! let mut opt = opt.scheduled::<f32>(&schedule, 1000);
//! assert_eq!(Optimizer::<f32>::base_learning_rate(&opt), 0.002);
//!
//! // The same from a configuration file.
//! let json = r#"{ "kind": "momentum", "lr": 0.05 }"#;
//! let from_file: OptimizerConfig = serde_json::from_str(json)?;
//! assert_eq!(from_file, "momentum:lr=0.05".parse()?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::boxed::Box;
use std::string::{String, ToString};
use std::vec::Vec;

use serde::{Deserialize, Serialize};

use super::{
    AdaGrad, Adam, AdamW, Constant, Cosine, EPSILON, Exponential, Momentum, Nesterov, Optimizer,
    RmsProp, Schedule, Scheduled, Sgd, StepDecay, UpdateFault,
};
use crate::{Scalar, TensorInfo};

/// An optimizer and its hyperparameters, as a value.
///
/// Needs the `serde` feature.
///
/// Serialized with the name in `kind` (`sgd`, `momentum`, `nesterov`,
/// `adagrad`, `rmsprop`, `adam`, `adamw`); a missing hyperparameter takes
/// the default of the optimizer's own constructor (see the table in
/// [`optim`](super)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum OptimizerConfig {
    /// [`Sgd`].
    Sgd {
        /// Learning rate `η` (default 0.01).
        #[serde(default = "lr_small")]
        lr: f64,
    },
    /// [`Momentum`].
    Momentum {
        /// Learning rate `η` (default 0.01).
        #[serde(default = "lr_small")]
        lr: f64,
        /// Momentum `α` (default 0.9).
        #[serde(default = "point_nine")]
        momentum: f64,
    },
    /// [`Nesterov`].
    Nesterov {
        /// Learning rate `η` (default 0.01).
        #[serde(default = "lr_small")]
        lr: f64,
        /// Momentum `α` (default 0.9).
        #[serde(default = "point_nine")]
        momentum: f64,
    },
    /// [`AdaGrad`].
    AdaGrad {
        /// Learning rate `η` (default 0.01).
        #[serde(default = "lr_small")]
        lr: f64,
        /// `ε` (default 1e-7).
        #[serde(default = "eps")]
        eps: f64,
    },
    /// [`RmsProp`].
    RmsProp {
        /// Learning rate `η` (default 0.01).
        #[serde(default = "lr_small")]
        lr: f64,
        /// Decay rate `ρ` (default 0.99).
        #[serde(default = "rho")]
        rho: f64,
        /// `ε` (default 1e-7).
        #[serde(default = "eps")]
        eps: f64,
    },
    /// [`Adam`].
    Adam {
        /// Learning rate `η` (default 0.001).
        #[serde(default = "lr_adam")]
        lr: f64,
        /// `β1` (default 0.9).
        #[serde(default = "point_nine")]
        beta1: f64,
        /// `β2` (default 0.999).
        #[serde(default = "beta2")]
        beta2: f64,
        /// `ε` (default 1e-7).
        #[serde(default = "eps")]
        eps: f64,
    },
    /// [`AdamW`].
    AdamW {
        /// Learning rate `η` (default 0.001).
        #[serde(default = "lr_adam")]
        lr: f64,
        /// Decoupled decay rate `λ` (default 0.01).
        #[serde(default = "lr_small")]
        weight_decay: f64,
        /// `β1` (default 0.9).
        #[serde(default = "point_nine")]
        beta1: f64,
        /// `β2` (default 0.999).
        #[serde(default = "beta2")]
        beta2: f64,
        /// `ε` (default 1e-7).
        #[serde(default = "eps")]
        eps: f64,
    },
}

fn lr_small() -> f64 {
    0.01
}
fn lr_adam() -> f64 {
    0.001
}
fn point_nine() -> f64 {
    0.9
}
fn rho() -> f64 {
    0.99
}
fn beta2() -> f64 {
    0.999
}
fn eps() -> f64 {
    EPSILON
}

/// The names [`OptimizerConfig`] parses, for help texts.
pub const OPTIMIZER_NAMES: &[&str] = &[
    "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw",
];

/// The names [`ScheduleConfig`] parses, for help texts.
pub const SCHEDULE_NAMES: &[&str] = &["constant", "step_decay", "exponential", "cosine", "warmup"];

impl OptimizerConfig {
    /// The learning rate `η`.
    pub fn lr(&self) -> f64 {
        match *self {
            OptimizerConfig::Sgd { lr }
            | OptimizerConfig::Momentum { lr, .. }
            | OptimizerConfig::Nesterov { lr, .. }
            | OptimizerConfig::AdaGrad { lr, .. }
            | OptimizerConfig::RmsProp { lr, .. }
            | OptimizerConfig::Adam { lr, .. }
            | OptimizerConfig::AdamW { lr, .. } => lr,
        }
    }

    /// The same optimizer with learning rate `lr`.
    pub fn with_lr(mut self, new: f64) -> Self {
        match &mut self {
            OptimizerConfig::Sgd { lr }
            | OptimizerConfig::Momentum { lr, .. }
            | OptimizerConfig::Nesterov { lr, .. }
            | OptimizerConfig::AdaGrad { lr, .. }
            | OptimizerConfig::RmsProp { lr, .. }
            | OptimizerConfig::Adam { lr, .. }
            | OptimizerConfig::AdamW { lr, .. } => *lr = new,
        }
        self
    }

    /// The optimizer, with its state in `Vec`s that grow on first use.
    pub fn build<E: Scalar>(&self) -> AnyOptimizer<E> {
        match *self {
            OptimizerConfig::Sgd { lr } => AnyOptimizer::Sgd(Sgd::new(lr)),
            OptimizerConfig::Momentum { lr, momentum } => {
                AnyOptimizer::Momentum(Momentum::new(lr, momentum))
            }
            OptimizerConfig::Nesterov { lr, momentum } => {
                AnyOptimizer::Nesterov(Nesterov::new(lr, momentum))
            }
            OptimizerConfig::AdaGrad { lr, eps } => {
                let mut opt = AdaGrad::new(lr);
                opt.eps = eps;
                AnyOptimizer::AdaGrad(opt)
            }
            OptimizerConfig::RmsProp { lr, rho, eps } => {
                let mut opt = RmsProp::new(lr, rho);
                opt.eps = eps;
                AnyOptimizer::RmsProp(opt)
            }
            OptimizerConfig::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } => {
                let mut opt = Adam::new(lr);
                (opt.beta1, opt.beta2, opt.eps) = (beta1, beta2, eps);
                AnyOptimizer::Adam(opt)
            }
            OptimizerConfig::AdamW {
                lr,
                weight_decay,
                beta1,
                beta2,
                eps,
            } => {
                let mut opt = AdamW::new(lr, weight_decay);
                (opt.adam.beta1, opt.adam.beta2, opt.adam.eps) = (beta1, beta2, eps);
                AnyOptimizer::AdamW(opt)
            }
        }
    }

    /// The optimizer under `schedule`, for a run of `run_steps` steps (a
    /// [`ScheduleConfig::Cosine`] without `total_steps` anneals over them).
    pub fn scheduled<E: Scalar>(
        &self,
        schedule: &ScheduleConfig,
        run_steps: usize,
    ) -> Configured<E> {
        Scheduled::new(self.build(), schedule.for_run(run_steps), self.lr())
    }
}

/// Any optimizer [`OptimizerConfig`] builds: one type for every choice, so
/// code that trains needs no generic parameter for it.
///
/// Needs the `serde` feature.
#[derive(Debug, Clone)]
#[expect(missing_docs, reason = "each variant is the optimizer it names")]
pub enum AnyOptimizer<E> {
    Sgd(Sgd),
    Momentum(Momentum<Vec<E>>),
    Nesterov(Nesterov<Vec<E>>),
    AdaGrad(AdaGrad<Vec<E>>),
    RmsProp(RmsProp<Vec<E>>),
    Adam(Adam<Vec<E>>),
    AdamW(AdamW<Vec<E>>),
}

/// An optimizer from a configuration, under a schedule from one.
///
/// Needs the `serde` feature.
pub type Configured<E> = Scheduled<AnyOptimizer<E>, ScheduleConfig>;

/// Calls `$call` on the optimizer inside any variant.
macro_rules! each {
    ($self:expr, $opt:ident => $call:expr) => {
        match $self {
            AnyOptimizer::Sgd($opt) => $call,
            AnyOptimizer::Momentum($opt) => $call,
            AnyOptimizer::Nesterov($opt) => $call,
            AnyOptimizer::AdaGrad($opt) => $call,
            AnyOptimizer::RmsProp($opt) => $call,
            AnyOptimizer::Adam($opt) => $call,
            AnyOptimizer::AdamW($opt) => $call,
        }
    };
}

impl<E: Scalar> Optimizer<E> for AnyOptimizer<E> {
    fn begin_step(&mut self) {
        each!(self, o => Optimizer::<E>::begin_step(o));
    }
    fn update(&mut self, tensor: &TensorInfo, param: &mut [E], grad: &mut [E]) {
        each!(self, o => o.update(tensor, param, grad));
    }
    fn check_update(
        &mut self,
        tensor: &TensorInfo,
        param: &[E],
        grad: &[E],
    ) -> Result<(), UpdateFault> {
        each!(self, o => o.check_update(tensor, param, grad))
    }
    fn cancel_step(&mut self) {
        each!(self, o => Optimizer::<E>::cancel_step(o));
    }
    fn learning_rate(&self) -> f64 {
        each!(self, o => Optimizer::<E>::learning_rate(o))
    }
    fn set_learning_rate(&mut self, lr: f64) {
        each!(self, o => Optimizer::<E>::set_learning_rate(o, lr));
    }
    fn reset(&mut self) {
        each!(self, o => Optimizer::<E>::reset(o));
    }
    fn step_count(&self) -> u64 {
        each!(self, o => Optimizer::<E>::step_count(o))
    }
    fn set_step_count(&mut self, t: u64) {
        each!(self, o => Optimizer::<E>::set_step_count(o, t));
    }
    fn state(&self, f: &mut dyn FnMut(&'static str, &[E])) {
        each!(self, o => o.state(f));
    }
    fn state_mut(&mut self, len: usize, f: &mut dyn FnMut(&'static str, &mut [E])) {
        each!(self, o => o.state_mut(len, f));
    }
}

/// A learning-rate schedule, as a value.
///
/// Needs the `serde` feature.
///
/// Serialized with the name in `kind` (`constant`, `step_decay`,
/// `exponential`, `cosine`, `warmup`). As a string, a warm-up names what
/// follows it after a `+`: `warmup:steps=500,start_factor=0.1+cosine`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ScheduleConfig {
    /// [`Constant`].
    #[default]
    Constant,
    /// [`StepDecay`].
    StepDecay {
        /// Steps between decays.
        every: usize,
        /// Factor per decay (default 0.1).
        #[serde(default = "gamma")]
        gamma: f64,
    },
    /// [`Exponential`].
    Exponential {
        /// Factor per step.
        gamma: f64,
    },
    /// [`Cosine`].
    Cosine {
        /// Length of the annealing in steps; `None` (the default) anneals
        /// over the whole run (see [`ScheduleConfig::for_run`]).
        #[serde(default)]
        total_steps: Option<usize>,
        /// The final rate (default 0).
        #[serde(default)]
        min_lr: f64,
    },
    /// [`Warmup`](super::Warmup), then `then`.
    Warmup {
        /// Length of the warm-up in steps.
        steps: usize,
        /// Fraction of the base rate at step 0 (default 0).
        #[serde(default)]
        start_factor: f64,
        /// The schedule after the warm-up (default constant).
        #[serde(default)]
        then: Box<ScheduleConfig>,
    },
}

fn gamma() -> f64 {
    0.1
}

impl ScheduleConfig {
    /// The schedule for a run of `run_steps` steps: a cosine without
    /// `total_steps` anneals over the run (after a warm-up, over the rest).
    pub fn for_run(&self, run_steps: usize) -> ScheduleConfig {
        match self {
            ScheduleConfig::Cosine {
                total_steps: None,
                min_lr,
            } => ScheduleConfig::Cosine {
                total_steps: Some(run_steps.max(1)),
                min_lr: *min_lr,
            },
            ScheduleConfig::Warmup {
                steps,
                start_factor,
                then,
            } => ScheduleConfig::Warmup {
                steps: *steps,
                start_factor: *start_factor,
                then: Box::new(then.for_run(run_steps.saturating_sub(*steps))),
            },
            other => other.clone(),
        }
    }
}

impl Schedule for ScheduleConfig {
    /// The rate of the schedule named; a cosine without `total_steps` (not
    /// resolved by [`ScheduleConfig::for_run`]) is at `min_lr` at once.
    fn lr(&self, base: f64, step: usize) -> f64 {
        match self {
            ScheduleConfig::Constant => Constant.lr(base, step),
            ScheduleConfig::StepDecay { every, gamma } => StepDecay {
                every: *every,
                gamma: *gamma,
            }
            .lr(base, step),
            ScheduleConfig::Exponential { gamma } => Exponential { gamma: *gamma }.lr(base, step),
            ScheduleConfig::Cosine {
                total_steps,
                min_lr,
            } => Cosine {
                total_steps: total_steps.unwrap_or(0),
                min_lr: *min_lr,
            }
            .lr(base, step),
            ScheduleConfig::Warmup {
                steps,
                start_factor,
                then,
            } => super::Warmup::from_fraction(*steps, *start_factor, &**then).lr(base, step),
        }
    }
}

/// A configuration string that does not name a valid optimizer or schedule.
///
/// Needs the `serde` feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(String);

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// `name:key=value,key=value` as the JSON object serde reads:
/// `{"kind": name, key: value, …}`; values are numbers, or strings.
fn spec_value(spec: &str) -> Result<serde_json::Value, ConfigError> {
    let (name, args) = spec.split_once(':').unwrap_or((spec, ""));
    let mut object = serde_json::Map::new();
    object.insert("kind".into(), serde_json::Value::String(name.trim().into()));
    for pair in args.split(',').filter(|p| !p.trim().is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| ConfigError(std::format!("`{pair}` in `{spec}` is not `key=value`")))?;
        let value = value.trim();
        let value = match value.parse::<u64>() {
            Ok(n) => serde_json::Value::from(n),
            Err(_) => match value.parse::<f64>() {
                Ok(x) => serde_json::Value::from(x),
                Err(_) => serde_json::Value::String(value.to_string()),
            },
        };
        object.insert(key.trim().into(), value);
    }
    Ok(serde_json::Value::Object(object))
}

fn from_spec<T: serde::de::DeserializeOwned>(spec: &str, what: &str) -> Result<T, ConfigError> {
    serde_json::from_value(spec_value(spec)?)
        .map_err(|e| ConfigError(std::format!("invalid {what} `{spec}`: {e}")))
}

impl core::str::FromStr for OptimizerConfig {
    type Err = ConfigError;

    /// `name` or `name:key=value,…`, such as `adam:lr=0.002,beta2=0.99`.
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        from_spec(spec, "optimizer")
    }
}

impl core::str::FromStr for ScheduleConfig {
    type Err = ConfigError;

    /// `name` or `name:key=value,…`; a warm-up names what follows it after
    /// a `+`: `warmup:steps=500+cosine:min_lr=1e-5`.
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        match spec.split_once('+') {
            Some((warmup, then)) => match from_spec(warmup, "schedule")? {
                ScheduleConfig::Warmup {
                    steps,
                    start_factor,
                    ..
                } => Ok(ScheduleConfig::Warmup {
                    steps,
                    start_factor,
                    then: Box::new(then.parse()?),
                }),
                _ => Err(ConfigError(std::format!(
                    "invalid schedule `{spec}`: only `warmup` is followed by `+`"
                ))),
            },
            None => from_spec(spec, "schedule"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::step;
    use crate::optim::test_util::{TENSORS, assert_close};

    #[test]
    fn strings_and_json_name_the_same_configurations() {
        let parsed: OptimizerConfig = "adamw:lr=0.002,beta2=0.99".parse().unwrap();
        assert_eq!(
            parsed,
            OptimizerConfig::AdamW {
                lr: 0.002,
                weight_decay: 0.01,
                beta1: 0.9,
                beta2: 0.99,
                eps: 1e-7
            }
        );
        let json = serde_json::to_string(&parsed).unwrap();
        assert_eq!(
            serde_json::from_str::<OptimizerConfig>(&json).unwrap(),
            parsed
        );
        for name in OPTIMIZER_NAMES {
            let config: OptimizerConfig = name.parse().unwrap();
            assert_eq!(
                config.with_lr(0.5).lr(),
                0.5,
                "{name}: {}",
                serde_json::to_string(&config).unwrap()
            );
        }
        let schedule: ScheduleConfig = "warmup:steps=5,start_factor=0.2+step_decay:every=10"
            .parse()
            .unwrap();
        assert_eq!(
            schedule,
            ScheduleConfig::Warmup {
                steps: 5,
                start_factor: 0.2,
                then: Box::new(ScheduleConfig::StepDecay {
                    every: 10,
                    gamma: 0.1
                })
            }
        );
        for name in [
            "constant",
            "cosine",
            "exponential:gamma=0.9",
            "step_decay:every=3",
        ] {
            name.parse::<ScheduleConfig>().unwrap();
        }
    }

    #[test]
    fn bad_strings_say_what_is_wrong() {
        let err = "adamx".parse::<OptimizerConfig>().unwrap_err().to_string();
        assert!(
            err.starts_with("invalid optimizer `adamx`: unknown variant `adamx`"),
            "{err}"
        );
        let err = "sgd:lr".parse::<OptimizerConfig>().unwrap_err().to_string();
        assert_eq!(err, "`lr` in `sgd:lr` is not `key=value`");
        let err = "sgd:rate=1"
            .parse::<OptimizerConfig>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `rate`"), "{err}");
        let err = "cosine+constant"
            .parse::<ScheduleConfig>()
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "invalid schedule `cosine+constant`: only `warmup` is followed by `+`"
        );
        assert!(
            "step_decay".parse::<ScheduleConfig>().is_err(),
            "`every` is required"
        );
    }

    #[test]
    fn configured_optimizers_step_as_the_types_they_name() {
        let mut direct = Momentum::<Vec<f64>>::new(0.1, 0.5);
        let mut configured = "momentum:lr=0.1,momentum=0.5"
            .parse::<OptimizerConfig>()
            .unwrap()
            .scheduled::<f64>(&ScheduleConfig::Constant, 10);
        let (mut a, mut b) = ([1.0f64; 8], [1.0f64; 8]);
        for _ in 0..3 {
            step(&mut direct, &mut a, &mut [0.5; 8], TENSORS).unwrap();
            step(&mut configured, &mut b, &mut [0.5; 8], TENSORS).unwrap();
        }
        assert_eq!(a, b);
        assert_eq!(Optimizer::<f64>::step_count(&configured), 3);
        // A cosine without a length anneals over the run.
        let cosine = ScheduleConfig::Cosine {
            total_steps: None,
            min_lr: 0.0,
        }
        .for_run(100);
        assert_close(&[cosine.lr(0.1, 50)], &[0.05]);
        let warm = "warmup:steps=10+cosine"
            .parse::<ScheduleConfig>()
            .unwrap()
            .for_run(110);
        assert_close(&[warm.lr(0.1, 5), warm.lr(0.1, 60)], &[0.05, 0.05]);
    }
}
