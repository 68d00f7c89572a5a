//! Where a run stands besides its tensors: what [`Trainer`](super::Trainer)
//! keeps between steps, and what a checkpoint stores with the tensors
//! ([`super::checkpoint`], which re-exports these types, needs the `serde`
//! feature).

use std::vec::Vec;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use super::History;
use super::metrics::RegressionSums;

/// Where a run stands, besides its tensors.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct TrainState {
    /// The run's seed.
    pub seed: u64,
    /// Its batch size.
    pub batch: usize,
    /// Whether it drops short last batches.
    pub drop_last: bool,
    /// Epochs completed.
    pub epoch: usize,
    /// Batches done in the epoch in progress.
    pub batches_done: usize,
    /// Optimizer steps taken (the stepper's counter).
    pub steps: u64,
    /// The optimizer's step count.
    pub optimizer_steps: u64,
    /// The optimizer's base learning rate, as `f64::to_bits`.
    pub learning_rate_bits: u64,
    /// The metrics of the epoch in progress.
    pub progress: EpochProgress,
    /// The completed epochs.
    pub history: History,
    /// Early stopping's best validation loss (as bits) and its epoch, whose
    /// parameters are the `best` section.
    pub best: Option<(u64, usize)>,
    /// Each callback's state, values as `f64::to_bits`.
    pub callbacks: Vec<Vec<u64>>,
}

/// The running sums of an epoch in progress.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct EpochProgress {
    /// `Σ loss · samples` over its steps.
    pub loss_sum: f64,
    /// Samples classified correctly.
    pub correct: usize,
    /// Samples seen.
    pub seen: usize,
    /// Regression sums, for the mean squared error.
    pub regression: RegressionSums,
    /// Wall time spent so far, in seconds.
    pub seconds: f64,
}
