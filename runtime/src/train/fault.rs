//! What a training step or an evaluation found NaN or infinite, and the
//! checks that find it, shared by the data-parallel [`Stepper`](super::Stepper)
//! and the heap-free [`fixed::step`](super::fixed::step).
//!
//! A step checks its inputs and targets before it computes anything, the
//! loss and the gradient after the backward pass, and the update before it
//! writes anything (see [`optim::step`]); an evaluation checks the
//! parameters, the inputs and the loss. Everything that is NaN or infinite
//! is reported at the step where it appears, and nothing is changed by that
//! step. Only on failure does a check look further, to name the culprit:
//! a parameter that already was non-finite, or the first tensor at fault.

use crate::loss::Target;
use crate::optim::{self, Optimizer, Refused, UpdateFault};
use crate::scalar::all_finite;
use crate::{Network, Scalar, Tensor, TensorInfo, Trainable};

/// What was NaN or infinite, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// An input sample holds NaN or infinity.
    Input {
        /// Its position in the batch (in its dataset for `Trainer::fit` and
        /// `evaluate`).
        index: usize,
    },
    /// A dense target holds NaN or infinity.
    Target {
        /// Its position, as for [`Fault::Input`].
        index: usize,
    },
    /// A parameter tensor held NaN or infinity before the step: it was set
    /// or loaded so.
    Parameter {
        /// The tensor's name, such as `conv1.weight`.
        tensor: &'static str,
    },
    /// The loss, although inputs, targets and parameters are finite: the
    /// forward pass overflowed.
    Loss,
    /// The gradient of a tensor, although the loss is finite: the backward
    /// pass overflowed.
    Gradient {
        /// The tensor's name.
        tensor: &'static str,
    },
    /// The batch statistics of a batch-norm layer overflowed.
    BatchStatistics {
        /// The running-statistic tensor they feed.
        tensor: &'static str,
    },
    /// The optimizer's update would have made a parameter tensor NaN or
    /// infinite.
    Update {
        /// The tensor's name.
        tensor: &'static str,
    },
    /// The optimizer's update would have made its state (a velocity, a
    /// moment) of a tensor NaN or infinite.
    OptimizerState {
        /// The tensor's name.
        tensor: &'static str,
    },
    /// Folding the batch statistics into a running average would have made
    /// it NaN or infinite.
    RunningStatistic {
        /// The running-statistic tensor.
        tensor: &'static str,
    },
    /// The batch holds no samples, so its mean loss is 0/0.
    EmptyBatch,
}

impl Fault {
    /// What to try next, in a few words.
    pub const fn hint(&self) -> &'static str {
        match self {
            Fault::Input { .. } | Fault::Target { .. } => "check the data",
            Fault::Parameter { .. } => "check how the parameters were set or loaded",
            Fault::EmptyBatch => "pass at least one sample",
            Fault::Loss
            | Fault::Gradient { .. }
            | Fault::BatchStatistics { .. }
            | Fault::Update { .. }
            | Fault::OptimizerState { .. }
            | Fault::RunningStatistic { .. } => "try a smaller learning rate or gradient clipping",
        }
    }
}

impl core::fmt::Display for Fault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Fault::Input { index } => write!(f, "input sample {index} holds NaN or infinity"),
            Fault::Target { index } => write!(f, "target {index} holds NaN or infinity"),
            Fault::Parameter { tensor } => {
                write!(
                    f,
                    "parameter tensor `{tensor}` already held NaN or infinity"
                )
            }
            Fault::Loss => f.write_str(
                "the loss is NaN or infinite although inputs, targets and parameters are finite",
            ),
            Fault::Gradient { tensor } => write!(
                f,
                "the gradient of `{tensor}` is NaN or infinite although the loss is finite"
            ),
            Fault::BatchStatistics { tensor } => {
                write!(f, "the batch statistics for `{tensor}` are NaN or infinite")
            }
            Fault::Update { tensor } => {
                write!(f, "the update would make `{tensor}` NaN or infinite")
            }
            Fault::OptimizerState { tensor } => write!(
                f,
                "the update would make the optimizer state of `{tensor}` NaN or infinite"
            ),
            Fault::RunningStatistic { tensor } => {
                write!(
                    f,
                    "the running average `{tensor}` would become NaN or infinite"
                )
            }
            Fault::EmptyBatch => f.write_str("the batch is empty, so its mean loss is 0/0"),
        }
    }
}

/// The first input or dense target of a batch that holds NaN or infinity.
///
/// One vectorized pass over the whole batch; only on failure a second one
/// finds the sample.
pub(crate) fn check_batch<N: Network, T: Target<N::Output>>(
    xs: &[N::Input],
    ts: &[T],
) -> Result<(), Fault> {
    if !all_finite(<N::Input as Tensor>::batch_flat(xs)) {
        let index = xs.iter().position(|x| !all_finite(x.as_flat()));
        return Err(Fault::Input {
            index: index.unwrap_or_default(),
        });
    }
    let dense_bad =
        |t: &T| t.class().is_none() && (0..N::OUTPUT_LEN).any(|k| !t.value(k).is_finite());
    match ts.iter().position(dense_bad) {
        Some(index) => Err(Fault::Target { index }),
        None => Ok(()),
    }
}

/// The first tensor of `flat` holding NaN or infinity.
pub(crate) fn first_non_finite<E: Scalar>(
    flat: &[E],
    tensors: &'static [TensorInfo],
) -> Option<&'static TensorInfo> {
    tensors.iter().find(|t| !all_finite(&flat[t.range()]))
}

/// Names the culprit of a step whose loss or gradient is not finite: a
/// parameter that already was, else the loss, else the first gradient.
pub(crate) fn diagnose<N: Trainable>(net: &N, loss: f64, grads: &[N::Elem]) -> Fault {
    if let Some(t) = first_non_finite(net.params(), N::TENSORS) {
        return Fault::Parameter { tensor: t.name };
    }
    if !loss.is_finite() {
        return Fault::Loss;
    }
    match first_non_finite(grads, N::TENSORS) {
        Some(t) if t.role.is_trainable() => Fault::Gradient { tensor: t.name },
        Some(t) => Fault::BatchStatistics { tensor: t.name },
        None => Fault::Loss,
    }
}

/// Elements of the running statistics (batch norm), which `commit_statistics`
/// writes and [`apply`] backs up.
#[cfg(feature = "std")]
pub(crate) fn running_len(tensors: &[TensorInfo]) -> usize {
    tensors
        .iter()
        .filter(|t| !t.role.is_trainable())
        .map(|t| t.len)
        .sum()
}

/// Folds the batch statistics into the running averages and applies the
/// optimizer's update to every tensor not flagged in `frozen` (empty:
/// none is), or does neither.
///
/// The update is checked before it is written ([`optim::step`]). The
/// running averages, which generated code writes, are backed up into
/// `backup` (scratch of at least [`running_len`] elements: a few per
/// batch-norm channel), checked after the fold and put back on failure.
///
/// # Panics
/// If `backup` is shorter than [`running_len`].
pub(crate) fn apply<N: Trainable, O: Optimizer<N::Elem> + ?Sized>(
    net: &mut N,
    grads: &mut [N::Elem],
    opt: &mut O,
    backup: &mut [N::Elem],
    frozen: &[bool],
) -> Result<(), Fault> {
    let running = || N::TENSORS.iter().filter(|t| !t.role.is_trainable());
    let mut at = 0;
    for t in running() {
        backup[at..at + t.len].copy_from_slice(&net.params()[t.range()]);
        at += t.len;
    }
    net.commit_statistics(grads);
    let result = match running().find(|t| !all_finite(&net.params()[t.range()])) {
        Some(t) => Err(Fault::RunningStatistic { tensor: t.name }),
        None => optim::step_except(opt, net.params_mut(), grads, N::TENSORS, frozen)
            .map_err(|refused| blame_update::<N>(net.params(), refused)),
    };
    if result.is_err() {
        let mut at = 0;
        for t in running() {
            net.params_mut()[t.range()].copy_from_slice(&backup[at..at + t.len]);
            at += t.len;
        }
    }
    result
}

/// A refused update's fault: the parameter tensor itself when it already
/// held NaN or infinity, else what the update would have broken.
fn blame_update<N: Network>(params: &[N::Elem], refused: Refused) -> Fault {
    let tensor = refused.tensor;
    let already = N::TENSORS
        .iter()
        .find(|t| t.name == tensor)
        .is_some_and(|t| !all_finite(&params[t.range()]));
    match refused.fault {
        _ if already => Fault::Parameter { tensor },
        UpdateFault::Parameter => Fault::Update { tensor },
        UpdateFault::State => Fault::OptimizerState { tensor },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn faults_say_what_and_where() {
        let cases = [
            (
                Fault::Input { index: 3 },
                "input sample 3 holds NaN or infinity",
            ),
            (
                Fault::Update {
                    tensor: "conv1.weight",
                },
                "the update would make `conv1.weight` NaN or infinite",
            ),
            (
                Fault::OptimizerState {
                    tensor: "affine1.bias",
                },
                "the update would make the optimizer state of `affine1.bias` NaN or infinite",
            ),
        ];
        for (fault, text) in cases {
            assert_eq!(fault.to_string(), text);
        }
        assert_eq!(Fault::Target { index: 0 }.hint(), "check the data");
    }
}
