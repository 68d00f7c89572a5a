//! Training: one step ([`Stepper`]), epochs over datasets ([`Trainer`]), and
//! the metrics they record ([`History`]).
//!
//! A loss that turns NaN or infinite stops training with an error naming the
//! step; the network keeps the parameters of the last good step.

mod history;
mod step;
mod trainer;

pub use history::{EpochRecord, History};
pub use step::{Clip, StepStats, Stepper};
pub use trainer::{Metrics, Progress, Trainer, evaluate};

/// Why training stopped early.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The loss or a gradient was NaN or infinite.
    #[error(
        "the loss became {loss} at step {step}; training stopped and the network keeps the \
         parameters of step {step} (try a smaller learning rate or gradient clipping)"
    )]
    NonFinite {
        /// The optimizer step (counted from 0) that produced it.
        step: u64,
        /// The mean loss of that step.
        loss: f64,
    },
    /// The training set is empty.
    #[error("the training set is empty")]
    EmptyDataset,
    /// The batch size is zero.
    #[error("the batch size must be at least 1")]
    ZeroBatch,
    /// Writing the history failed.
    #[error(transparent)]
    Persist(#[from] crate::persist::PersistError),
}
