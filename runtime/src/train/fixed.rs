//! Training without a heap: a workspace of fixed-size arrays, sized by
//! consts the macro computes, and a single-threaded step over it.
//!
//! A generated network's `train_step_fixed` checks at compile time that the
//! arrays are large enough for its batch size, then calls [`step`].

use crate::loss::Target;
use crate::optim::{self, Optimizer};
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
    /// The mean loss of the step (NaN or infinite, or finite with a
    /// non-finite gradient).
    pub loss: f64,
}

impl core::fmt::Display for NonFinite {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "the loss or a gradient is not finite (loss {}); parameters unchanged",
            self.loss
        )
    }
}

impl core::error::Error for NonFinite {}

/// One training step in `ws`, single-threaded; returns the mean loss.
///
/// Callers normally use a generated network's `train_step_fixed`, which
/// checks the sizes at compile time.
///
/// # Errors
/// [`NonFinite`] when the loss or a gradient is NaN or infinite; the
/// network is unchanged then.
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
        return Err(NonFinite { loss });
    }
    optim::step(opt, net.params_mut(), grads, N::TENSORS);
    net.commit_statistics(grads);
    Ok(loss)
}
