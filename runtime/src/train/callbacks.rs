//! Hooks into a [`Trainer`](super::Trainer) run: called after each epoch
//! (and, when asked, every N steps) with the metrics and read access to the
//! network, able to stop training or change the learning rate.
//!
//! Built in: [`SaveBest`] (keep the parameters of the best epoch by a
//! monitored metric), [`ReduceOnPlateau`] (lower the rate when a metric
//! stalls), and [`on_epoch`] / [`every_steps`] for anything else as a
//! closure. Early stopping is the trainer's own
//! ([`Trainer::early_stopping`](super::Trainer::early_stopping)).
//!
//! A callback that keeps state (a best value, a patience counter) exposes it
//! through [`Callback::state`] and [`Callback::restore`], so a checkpoint
//! saves it and a resumed run continues it exactly.
//!
//! # Examples
//! ```
//! use constnet::train::callbacks::{self, Monitor, ReduceOnPlateau};
//! # use constnet::Network;
//! # fn demo<N: Network>() {
//! let mut plateau = ReduceOnPlateau::new(Monitor::ValLoss, 0.5, 2);
//! let mut stop_early = callbacks::on_epoch(|event, control| {
//!     if event.record.is_some_and(|r| r.train_loss < 0.01) {
//!         control.stop();
//!     }
//!     Ok(())
//! });
//! let list: [&mut dyn callbacks::Callback<N>; 2] = [&mut plateau, &mut stop_early];
//! # let _ = list;
//! # }
//! ```

use std::path::PathBuf;
use std::vec::Vec;

use super::{EpochRecord, History, TrainError};
use crate::Network;

/// What a callback sees.
#[derive(Debug)]
pub struct Event<'a, N> {
    /// The network, as it is after the step or epoch.
    pub net: &'a N,
    /// The epoch, from 1: the one just completed for an epoch event, the
    /// one in progress for a step event.
    pub epoch: usize,
    /// Optimizer steps taken so far in the run.
    pub step: u64,
    /// The base learning rate
    /// ([`Optimizer::base_learning_rate`](crate::optim::Optimizer::base_learning_rate)),
    /// which [`Control::set_learning_rate`] changes.
    pub learning_rate: f64,
    /// The epoch's record, for an epoch event.
    pub record: Option<&'a EpochRecord>,
    /// The loss of the last step, for a step event.
    pub step_loss: Option<f64>,
    /// Every completed epoch (the current one included for an epoch event).
    pub history: &'a History,
}

/// What a callback asks of the trainer.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Control {
    stop: bool,
    learning_rate: Option<f64>,
}

impl Control {
    /// Stops training after this event; the epoch in progress is recorded
    /// as it stands.
    pub fn stop(&mut self) {
        self.stop = true;
    }

    /// Sets the base learning rate from the next step on.
    pub fn set_learning_rate(&mut self, lr: f64) {
        self.learning_rate = Some(lr);
    }

    /// Whether a callback asked to stop.
    pub fn stopping(&self) -> bool {
        self.stop
    }

    /// The rate a callback asked for, if any.
    pub fn learning_rate(&self) -> Option<f64> {
        self.learning_rate
    }
}

/// A hook into a training run.
///
/// `N` is the network type; the trainer calls
/// [`on_epoch_end`](Callback::on_epoch_end) after every epoch, after
/// validation and after the epoch is added to the history, and
/// [`on_step`](Callback::on_step) every
/// [`step_interval`](Callback::step_interval) steps. Callbacks run in the
/// order given; each sees the [`Control`] the earlier ones left.
pub trait Callback<N> {
    /// Called after each epoch.
    ///
    /// # Errors
    /// Any error stops training and is returned by `fit`.
    fn on_epoch_end(
        &mut self,
        event: &Event<'_, N>,
        control: &mut Control,
    ) -> Result<(), TrainError>;

    /// Call [`on_step`](Callback::on_step) every this many steps (`None`:
    /// never, the default).
    fn step_interval(&self) -> Option<u64> {
        None
    }

    /// Called every [`step_interval`](Callback::step_interval) steps.
    ///
    /// # Errors
    /// Any error stops training and is returned by `fit`.
    fn on_step(&mut self, _event: &Event<'_, N>, _control: &mut Control) -> Result<(), TrainError> {
        Ok(())
    }

    /// The callback's state, for a checkpoint (none by default).
    fn state(&self) -> Vec<f64> {
        Vec::new()
    }

    /// Restores what [`state`](Callback::state) returned, when a run
    /// resumes from a checkpoint.
    fn restore(&mut self, _state: &[f64]) {}
}

/// A metric of an [`EpochRecord`] that a callback watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Monitor {
    /// The validation loss (lower is better).
    ValLoss,
    /// The validation accuracy (higher is better).
    ValAccuracy,
    /// The validation root mean squared error (lower is better).
    ValRmse,
    /// The training loss (lower is better).
    TrainLoss,
}

impl Monitor {
    /// The metric's value in `record`, when it was recorded.
    pub fn value(self, record: &EpochRecord) -> Option<f64> {
        match self {
            Monitor::ValLoss => record.val_loss,
            Monitor::ValAccuracy => record.val_accuracy,
            Monitor::ValRmse => record.val_regression.map(|r| r.rmse),
            Monitor::TrainLoss => Some(record.train_loss),
        }
    }

    /// Whether `value` improves on `best` (`None`: nothing yet).
    pub fn improves(self, value: f64, best: Option<f64>) -> bool {
        match best {
            None => true,
            Some(best) if self == Monitor::ValAccuracy => value > best,
            Some(best) => value < best,
        }
    }

    fn read(self, event: &Event<'_, impl Network>) -> Result<Option<f64>, TrainError> {
        let Some(record) = event.record else {
            return Ok(None);
        };
        self.value(record)
            .map(Some)
            .ok_or_else(|| TrainError::Callback {
                message: std::format!(
                    "{self:?} was not recorded (pass a validation set to `fit`; accuracy is \
                     recorded for classification, RMSE for the mean squared error)"
                ),
            })
    }
}

/// Saves the network whenever the monitored metric improves, so the file
/// holds the best epoch's parameters: as constnet's byte format when the
/// path ends in `.cnet`, else as safetensors. Without the `safetensors`
/// feature, a path that does not end in `.cnet` stops training with
/// [`TrainError::Callback`] at the first save.
#[derive(Debug, Clone)]
pub struct SaveBest {
    path: PathBuf,
    monitor: Monitor,
    best: Option<f64>,
    /// The epoch saved last.
    pub saved_epoch: Option<usize>,
}

impl SaveBest {
    /// Saves to `path` whenever `monitor` improves.
    pub fn new(path: impl Into<PathBuf>, monitor: Monitor) -> Self {
        SaveBest {
            path: path.into(),
            monitor,
            best: None,
            saved_epoch: None,
        }
    }

    /// The best value seen.
    pub fn best(&self) -> Option<f64> {
        self.best
    }
}

impl<N: Network> Callback<N> for SaveBest {
    fn on_epoch_end(&mut self, event: &Event<'_, N>, _: &mut Control) -> Result<(), TrainError> {
        let Some(value) = self.monitor.read(event)? else {
            return Ok(());
        };
        if self.monitor.improves(value, self.best) {
            self.best = Some(value);
            self.saved_epoch = Some(event.epoch);
            if self.path.extension().is_some_and(|e| e == "cnet") {
                crate::persist::save_bytes(event.net, &self.path)?;
            } else {
                save_safetensors(event.net, &self.path)?;
            }
        }
        Ok(())
    }

    fn state(&self) -> Vec<f64> {
        match (self.best, self.saved_epoch) {
            (Some(best), Some(epoch)) => std::vec![best, epoch as f64],
            _ => Vec::new(),
        }
    }

    fn restore(&mut self, state: &[f64]) {
        if let [best, epoch] = *state {
            self.best = Some(best);
            self.saved_epoch = Some(epoch as usize);
        }
    }
}

/// Writes [`SaveBest`]'s safetensors file.
#[cfg(feature = "safetensors")]
fn save_safetensors<N: Network>(net: &N, path: &std::path::Path) -> Result<(), TrainError> {
    Ok(crate::persist::save_safetensors(net, path)?)
}

/// Without the `safetensors` feature, [`SaveBest`] writes `.cnet` files only.
#[cfg(not(feature = "safetensors"))]
fn save_safetensors<N: Network>(_: &N, path: &std::path::Path) -> Result<(), TrainError> {
    Err(TrainError::Callback {
        message: std::format!(
            "SaveBest: `{}` would be a safetensors file, which needs constnet's `safetensors` \
             feature; name it `….cnet` for constnet's byte format",
            path.display()
        ),
    })
}

/// Multiplies the learning rate by `factor` when the monitored metric has
/// not improved for `patience` epochs, down to `min_lr` (as PyTorch's
/// `ReduceLROnPlateau` in its default `rel` threshold mode with threshold 0).
#[derive(Debug, Clone)]
pub struct ReduceOnPlateau {
    monitor: Monitor,
    factor: f64,
    patience: usize,
    /// The smallest rate it sets (default 0).
    pub min_lr: f64,
    best: Option<f64>,
    /// Epochs since the last improvement.
    waited: usize,
}

impl ReduceOnPlateau {
    /// Multiplies the rate by `factor` after `patience` epochs without
    /// improvement of `monitor`.
    pub fn new(monitor: Monitor, factor: f64, patience: usize) -> Self {
        ReduceOnPlateau {
            monitor,
            factor,
            patience,
            min_lr: 0.0,
            best: None,
            waited: 0,
        }
    }
}

impl<N: Network> Callback<N> for ReduceOnPlateau {
    fn on_epoch_end(
        &mut self,
        event: &Event<'_, N>,
        control: &mut Control,
    ) -> Result<(), TrainError> {
        let Some(value) = self.monitor.read(event)? else {
            return Ok(());
        };
        if self.monitor.improves(value, self.best) {
            self.best = Some(value);
            self.waited = 0;
            return Ok(());
        }
        self.waited += 1;
        if self.waited > self.patience {
            let lr = control.learning_rate().unwrap_or(event.learning_rate);
            control.set_learning_rate((lr * self.factor).max(self.min_lr));
            self.waited = 0;
        }
        Ok(())
    }

    fn state(&self) -> Vec<f64> {
        match self.best {
            Some(best) => std::vec![best, self.waited as f64],
            None => Vec::new(),
        }
    }

    fn restore(&mut self, state: &[f64]) {
        if let [best, waited] = *state {
            self.best = Some(best);
            self.waited = waited as usize;
        }
    }
}

/// A closure called after each epoch: see [`on_epoch`].
pub struct OnEpoch<F>(F);

/// A callback from a closure called after each epoch.
pub fn on_epoch<N, F>(f: F) -> OnEpoch<F>
where
    F: FnMut(&Event<'_, N>, &mut Control) -> Result<(), TrainError>,
{
    OnEpoch(f)
}

impl<N, F> Callback<N> for OnEpoch<F>
where
    F: FnMut(&Event<'_, N>, &mut Control) -> Result<(), TrainError>,
{
    fn on_epoch_end(
        &mut self,
        event: &Event<'_, N>,
        control: &mut Control,
    ) -> Result<(), TrainError> {
        (self.0)(event, control)
    }
}

/// A closure called every `n` steps: see [`every_steps`].
pub struct EverySteps<F> {
    n: u64,
    f: F,
}

/// A callback from a closure called every `n` steps (at least 1), for
/// logging or a custom stopping rule.
pub fn every_steps<N, F>(n: u64, f: F) -> EverySteps<F>
where
    F: FnMut(&Event<'_, N>, &mut Control) -> Result<(), TrainError>,
{
    EverySteps { n: n.max(1), f }
}

impl<N, F> Callback<N> for EverySteps<F>
where
    F: FnMut(&Event<'_, N>, &mut Control) -> Result<(), TrainError>,
{
    fn on_epoch_end(&mut self, _: &Event<'_, N>, _: &mut Control) -> Result<(), TrainError> {
        Ok(())
    }

    fn step_interval(&self) -> Option<u64> {
        Some(self.n)
    }

    fn on_step(&mut self, event: &Event<'_, N>, control: &mut Control) -> Result<(), TrainError> {
        (self.f)(event, control)
    }
}
