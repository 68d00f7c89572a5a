//! Training without a heap: a workspace of fixed-size arrays, sized by
//! consts the macro computes, and a single-threaded step over it.
//!
//! A generated network's `train_step_fixed` checks at compile time that the
//! arrays are large enough for its batch size, then calls [`step`].

use super::fault::{self, Fault};
use crate::loss::Target;
use crate::optim::Optimizer;
use crate::scalar::all_finite;
use crate::{Scalar, StepCtx, Trainable, Workspace};

/// Scratch memory of a training step: activations (`W` scalars), argmax
/// slots (`I`) and parameter gradients (`G`).
///
/// Size it with the network's const fns:
/// `FixedWorkspace<f32, { Net::<f32>::workspace_len(B) }, { Net::<f32>::index_len(B) }, { Net::<f32>::STORE_LEN }>`.
#[derive(Debug, Clone)]
pub struct FixedWorkspace<E, const W: usize, const I: usize, const G: usize> {
    data: [E; W],
    index: [u32; I],
    grads: [E; G],
}

impl<E: Scalar, const W: usize, const I: usize, const G: usize> FixedWorkspace<E, W, I, G> {
    /// A zeroed workspace, usable in a `static`.
    pub const fn new() -> Self {
        FixedWorkspace {
            data: [E::ZERO; W],
            index: [0; I],
            grads: [E::ZERO; G],
        }
    }

    /// The parameter gradients of the last step.
    pub fn grads(&self) -> &[E] {
        &self.grads
    }
}

impl<E: Scalar, const W: usize, const I: usize, const G: usize> Default
    for FixedWorkspace<E, W, I, G>
{
    fn default() -> Self {
        Self::new()
    }
}

/// Why a fixed-buffer step refused to update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NonFinite {
    /// The mean loss of the step; NaN when the step stopped before
    /// computing it.
    pub loss: f64,
    /// What was NaN or infinite.
    pub fault: Fault,
}

impl core::fmt::Display for NonFinite {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.fault)?;
        if !self.loss.is_nan() {
            write!(f, " (loss {})", self.loss)?;
        }
        write!(
            f,
            "; the network keeps the parameters and the optimizer the state they had before \
             this step ({})",
            self.fault.hint()
        )
    }
}

impl core::error::Error for NonFinite {}

/// One training step in `ws`, single-threaded; returns the mean loss.
///
/// Callers normally use a generated network's `train_step_fixed`, which
/// checks the sizes at compile time. The step makes the same checks as
/// [`Stepper::step`](super::Stepper::step), with no heap: the update is
/// checked before it is written, and the running statistics of batch norm
/// are backed up in the activation part of `ws`, which the step no longer
/// needs by then (it holds each layer's batch mean and variance, as many
/// elements as the running statistics).
///
/// # Errors
/// [`NonFinite`] when an input, a dense target, the loss, a gradient or the
/// update is NaN or infinite, or the batch is empty; the network and the
/// optimizer are then unchanged, bit for bit.
///
/// # Panics
/// If `ts` is not as long as `xs`, or `ws` is too small.
pub fn step<N, T, O, const W: usize, const I: usize, const G: usize>(
    net: &mut N,
    xs: &[N::Input],
    ts: &[T],
    ws: &mut FixedWorkspace<N::Elem, W, I, G>,
    opt: &mut O,
    seed: u64,
) -> Result<f64, NonFinite>
where
    N: Trainable,
    T: Target<N::Output>,
    O: Optimizer<N::Elem>,
{
    let batch = xs.len();
    let stop = |loss, fault| NonFinite { loss, fault };
    if batch == 0 {
        return Err(stop(f64::NAN, Fault::EmptyBatch));
    }
    fault::check_batch::<N, T>(xs, ts).map_err(|f| stop(f64::NAN, f))?;
    let ctx = StepCtx::whole(seed, batch);
    let grads = &mut ws.grads[..N::STORE_LEN];
    let mut scratch = Workspace {
        data: &mut ws.data,
        index: &mut ws.index,
    };
    let loss = net
        .forward_backward(xs, ts, &mut scratch, grads, ctx, None)
        .to_f64()
        / batch as f64;
    if !loss.is_finite() || !all_finite(grads) {
        return Err(stop(loss, fault::diagnose(net, loss, grads)));
    }
    fault::apply(net, grads, opt, &mut ws.data, &[]).map_err(|f| stop(loss, f))?;
    Ok(loss)
}
