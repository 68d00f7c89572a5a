//! Training: one step ([`Stepper`]), epochs over datasets ([`Trainer`]), and
//! the metrics they record ([`History`]), all with `std`; heap-free training
//! in fixed buffers ([`fixed`]), without it; and the check of backpropagation
//! against numerical differentiation ([`gradcheck`], `std`).
//!
//! A loss that turns NaN or infinite stops training with an error naming the
//! step; the network keeps the parameters of the last good step.

pub mod fixed;
#[cfg(feature = "std")]
pub mod gradcheck;
#[cfg(feature = "std")]
mod history;
#[cfg(feature = "std")]
mod step;
#[cfg(feature = "std")]
mod trainer;

#[cfg(feature = "std")]
pub use history::{EpochRecord, History};
#[cfg(feature = "std")]
pub use step::{Clip, StepStats, Stepper};
#[cfg(feature = "std")]
pub use trainer::{Metrics, Progress, Trainer, evaluate};

/// Why training stopped early.
#[cfg(feature = "std")]
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The loss or a gradient was NaN or infinite.
    #[error(
        "step {step} produced a loss of {loss} or a non-finite gradient; training stopped and \
         the network keeps the parameters it had before that step (try a smaller learning rate \
         or gradient clipping)"
    )]
    NonFinite {
        /// The optimizer step (counted from 0) that produced it.
        step: u64,
        /// The mean loss of that step.
        loss: f64,
    },
    /// A class label is not one of the network's outputs.
    #[error(
        "target {index} of the batch is class {label}, but the network has {classes} classes \
         (a single output takes the labels 0 and 1)"
    )]
    Label {
        /// Position of the target in its batch (in its dataset for `fit`).
        index: usize,
        /// The label found.
        label: usize,
        /// The number of classes the network's output allows.
        classes: usize,
    },
    /// The loss diverged during [`Trainer::fit`]; the history of the
    /// completed epochs is kept.
    #[error(
        "training stopped at step {step} (epoch {epoch}) because the loss became {loss}; the network \
         keeps the parameters it had before that step"
    )]
    Diverged {
        /// The optimizer step (counted from 0) that diverged.
        step: u64,
        /// The epoch it belonged to, from 1.
        epoch: usize,
        /// Its mean loss (NaN, infinite, or finite with a non-finite gradient).
        loss: f64,
        /// Every completed epoch.
        history: std::boxed::Box<History>,
    },
    /// The training set is empty.
    #[error("the training set is empty")]
    EmptyDataset,
    /// Early stopping was asked for without a validation set.
    #[error("early stopping watches the validation loss: pass a validation set to `fit`")]
    EarlyStoppingWithoutValidation,
    /// The batch size is zero.
    #[error("the batch size must be at least 1")]
    ZeroBatch,
    /// Writing the history failed.
    #[error(transparent)]
    Persist(#[from] crate::persist::PersistError),
}
