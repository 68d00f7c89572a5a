//! Training: one step ([`Stepper`]), epochs over datasets ([`Trainer`]), and
//! the metrics they record ([`History`]), all with `std`; heap-free training
//! in fixed buffers ([`fixed`]), without it; and the check of backpropagation
//! against numerical differentiation ([`gradcheck`], `std`); random
//! hyperparameter search over parallel trials ([`search`], `std`).
//! Checkpoints ([`checkpoint`]) need the `serde` feature, the trainer's
//! progress bar the `progress` feature.
//!
//! # No silent garbage
//! A NaN or an infinity anywhere stops training with an error at the step
//! where it appears, saying which step and what ([`Fault`]: an input, a
//! target, a parameter, the loss, a gradient, the update, the optimizer's
//! state, a running average). That step changes nothing: the network keeps
//! the parameters, and the optimizer the state, they had before it, so
//! training can continue with a smaller learning rate. [`evaluate`] reports
//! non-finite inputs, parameters and losses the same way. Batch size 0, an
//! empty dataset and a run of zero steps are errors too, never a loss of 0.
//!
//! NaN propagates through every layer and loss as in IEEE arithmetic
//! (`relu(NaN)` is NaN, as in PyTorch), so a NaN input or weight gives a
//! NaN loss rather than a plausible one.

#[cfg(feature = "std")]
pub mod callbacks;
#[cfg(feature = "serde")]
pub mod checkpoint;
#[cfg(feature = "std")]
pub mod collective;
mod fault;
pub mod fixed;
#[cfg(feature = "std")]
pub mod gradcheck;
#[cfg(feature = "std")]
mod history;
#[cfg(feature = "std")]
pub mod metrics;
#[cfg(feature = "mpi")]
mod mpi;
#[cfg(feature = "std")]
mod normalize;
#[cfg(feature = "std")]
mod progress;
#[cfg(feature = "std")]
pub mod search;
#[cfg(feature = "std")]
mod state;
#[cfg(feature = "std")]
mod step;
#[cfg(feature = "std")]
mod trainer;

#[cfg(feature = "std")]
pub use callbacks::{Callback, Control, Event, Monitor, ReduceOnPlateau, SaveBest};
#[cfg(feature = "serde")]
pub use checkpoint::Checkpoint;
#[cfg(feature = "std")]
pub use collective::Collective;
pub use fault::Fault;
#[cfg(feature = "std")]
pub use history::{EpochRecord, History};
#[cfg(feature = "std")]
pub use metrics::{
    ConfusionMatrix, Regression, confusion_matrix, regression_metrics, top_k_accuracy,
};
#[cfg(feature = "mpi")]
pub use mpi::{Mpi, MpiError};
#[cfg(feature = "std")]
pub use normalize::{FitError, fit_normalization};
#[cfg(feature = "std")]
pub use progress::Progress;
#[cfg(feature = "std")]
pub use step::{Clip, StepStats, Stepper};
#[cfg(feature = "serde")]
pub use trainer::Every;
#[cfg(feature = "std")]
pub use trainer::{Metrics, Trainer, evaluate};

/// Why training or evaluation stopped.
#[cfg(feature = "std")]
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A NaN or an infinity appeared in a step: in its inputs or targets,
    /// the loss, a gradient, or the update. The step changed nothing.
    #[error(
        "step {step} stopped: {fault}{}; the network keeps the parameters and the optimizer the \
         state they had before that step ({})",
        loss_note(*.loss),
        .fault.hint()
    )]
    NonFinite {
        /// The optimizer step (counted from 0) that found it.
        step: u64,
        /// The mean loss of that step; NaN when the step stopped before
        /// computing it.
        loss: f64,
        /// What was NaN or infinite.
        fault: Fault,
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
    /// A NaN or an infinity appeared during [`Trainer::fit`]'s training;
    /// the history of the completed epochs is kept.
    #[error(
        "training stopped at step {step} (epoch {epoch}): {fault}{}; the network keeps the \
         parameters and the optimizer the state they had before that step ({})",
        loss_note(*.loss),
        .fault.hint()
    )]
    Diverged {
        /// The optimizer step (counted from 0) that found it.
        step: u64,
        /// The epoch it belonged to, from 1.
        epoch: usize,
        /// Its mean loss; NaN when the step stopped before computing it.
        loss: f64,
        /// What was NaN or infinite; an input's or target's index is its
        /// position in the training set.
        fault: Fault,
        /// Every completed epoch.
        history: std::boxed::Box<History>,
    },
    /// Evaluation met a NaN or an infinity: in the parameters, an input, a
    /// target, or the loss.
    #[error("evaluation stopped: {fault}{} ({})", loss_note(*.loss), .fault.hint())]
    NonFiniteEvaluation {
        /// The loss summed so far; NaN when evaluation stopped before
        /// computing it.
        loss: f64,
        /// What was NaN or infinite; an input's or target's index is its
        /// position in the evaluated set.
        fault: Fault,
    },
    /// The training set is empty.
    #[error("the training set is empty")]
    EmptyDataset,
    /// A set to evaluate is empty: its loss and accuracy would be 0/0.
    #[error("the {set} set is empty, so it has no loss or accuracy")]
    EmptyEvaluation {
        /// Which set: `validation` (or the trainer's
        /// [`validation_label`](Trainer::validation_label)) in `fit`,
        /// `evaluation` in [`evaluate`].
        set: &'static str,
    },
    /// The run would take no optimizer step, and report a loss and an
    /// accuracy of nothing.
    #[error("the run would take no optimizer step: {}", no_steps_reason(*.epochs, *.samples, *.batch))]
    NoSteps {
        /// Epochs asked for.
        epochs: usize,
        /// Samples in the training set.
        samples: usize,
        /// The batch size.
        batch: usize,
    },
    /// Early stopping was asked for without a validation set.
    #[error("early stopping watches the validation loss: pass a validation set to `fit`")]
    EarlyStoppingWithoutValidation,
    /// The batch size is zero.
    #[error("the batch size must be at least 1")]
    ZeroBatch,
    /// Two slices that pair up sample by sample have different lengths.
    #[error("{inputs} inputs but {len} {what}")]
    LengthMismatch {
        /// Input samples.
        inputs: usize,
        /// What the other slice holds: `targets` or `outputs`.
        what: &'static str,
        /// Its length.
        len: usize,
    },
    /// A hyperparameter that must be a number of at least 0 (a clipping
    /// threshold, a weight decay) is negative or NaN.
    #[error("the {name} must be a number of at least 0, found {value}")]
    InvalidHyperparameter {
        /// Which one: `clipping threshold` or `weight decay`.
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// A pattern of [`Stepper::freeze`] or [`Trainer::freeze`] names no
    /// tensor.
    #[error("cannot freeze: {0}")]
    UnknownTensor(#[from] crate::network::params::UnmatchedPattern),
    /// A callback stopped training with an error of its own (a metric it
    /// watches was not recorded, or whatever a closure reports).
    #[error("callback: {message}")]
    Callback {
        /// What went wrong.
        message: std::string::String,
    },
    /// The checkpoint to resume from was written by a run with other
    /// settings, which would not continue it exactly.
    ///
    /// Needs the `serde` feature.
    #[cfg(feature = "serde")]
    #[error(
        "cannot resume: the checkpoint was written with {what} {checkpoint}, this trainer uses {trainer}"
    )]
    ResumeMismatch {
        /// Which setting: `batch size`, `seed` or `drop_last`.
        what: &'static str,
        /// Its value in the checkpoint.
        checkpoint: std::string::String,
        /// Its value in this trainer.
        trainer: std::string::String,
    },
    /// A rank of a data-parallel job does not start as rank 0 does (see
    /// [`Trainer::across`]).
    #[error(
        "rank {rank} {what} than rank 0: every rank of a job must start with the same network, data and settings"
    )]
    RanksDiffer {
        /// The first rank that differs.
        rank: usize,
        /// How it differs.
        what: &'static str,
    },
    /// Writing the history, a checkpoint or a best model, or reading a
    /// checkpoint, failed.
    #[error(transparent)]
    Persist(#[from] crate::persist::PersistError),
}

/// `" (loss L)"` unless the loss is NaN: not computed, or NaN because of
/// the fault, which then says more.
#[cfg(feature = "std")]
fn loss_note(loss: f64) -> std::string::String {
    if loss.is_nan() {
        std::string::String::new()
    } else {
        std::format!(" (loss {loss})")
    }
}

/// Why a run of `epochs` epochs over `samples` samples takes no step.
#[cfg(feature = "std")]
fn no_steps_reason(epochs: usize, samples: usize, batch: usize) -> std::string::String {
    if epochs == 0 {
        "the number of epochs is 0".into()
    } else {
        std::format!(
            "`drop_last` drops every batch, since the {samples} samples are fewer than the batch \
             size {batch}"
        )
    }
}
