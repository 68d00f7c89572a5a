//! Inference over a batch through the batched kernels, and the per-thread
//! scratch memory it runs in, reused across calls so steady-state batch
//! inference allocates nothing.
//!
//! One sample needs neither: [`Network::predict`] runs in a stack arena.

use crate::Network;

/// Samples per batched forward: large enough to amortize the weight reads,
/// small enough that a chunk's activations stay in cache.
#[cfg(feature = "std")]
const CHUNK: usize = 128;

/// Runs `xs` through `net` in inference mode, writing `ys`.
///
/// With `std`, chunks of samples go through the batched kernels in parallel
/// on rayon's current thread pool (all cores by default; run inside
/// `ThreadPool::install` to choose), each thread reusing its own workspace,
/// so steady-state calls allocate nothing. Without `std`, each sample goes
/// through the allocation-free [`Network::predict`].
///
/// Like [`Network::predict`], it checks nothing: a NaN input or parameter
/// gives NaN outputs.
///
/// # Panics
/// If `ys` is not as long as `xs`.
pub fn predict_batch<N: Network + Sync>(net: &N, xs: &[N::Input], ys: &mut [N::Output]) {
    assert_eq!(
        xs.len(),
        ys.len(),
        "{} inputs but room for {} outputs",
        xs.len(),
        ys.len()
    );
    #[cfg(feature = "std")]
    parallel(net, xs, ys);
    #[cfg(not(feature = "std"))]
    for (x, y) in xs.iter().zip(ys.iter_mut()) {
        *y = net.predict(x);
    }
}

#[cfg(feature = "std")]
fn parallel<N: Network + Sync>(net: &N, xs: &[N::Input], ys: &mut [N::Output]) {
    if xs.len() > CHUNK {
        let mid = (xs.len() / 2).div_ceil(CHUNK) * CHUNK;
        let (xa, xb) = xs.split_at(mid);
        let (ya, yb) = ys.split_at_mut(mid);
        rayon::join(|| parallel(net, xa, ya), || parallel(net, xb, yb));
        return;
    }
    with_workspace::<N, _>(xs.len(), |ws| net.forward_batch(xs, ws, ys));
}

/// Runs `f` with a workspace for a batch of `N` of `batch` samples, cut
/// from this thread's scratch buffers, which grow to the largest batch seen
/// and are then reused.
///
/// # Panics
/// If called again from inside `f` on the same thread.
#[cfg(feature = "std")]
pub fn with_workspace<N: Network, R>(
    batch: usize,
    f: impl FnOnce(&mut crate::Workspace<'_, N::Elem>) -> R,
) -> R {
    use crate::threads::grow;
    <N::Elem as crate::Scalar>::with_scratch(|data, index| {
        let (d, i) = (N::workspace_len(batch), N::index_len(batch));
        grow(data, d);
        grow(index, i);
        f(&mut crate::Workspace {
            data: &mut data[..d],
            index: &mut index[..i],
        })
    })
}

/// One step's output for every sample of a [`hidden`] pass.
#[cfg(feature = "std")]
#[derive(Debug, Clone, PartialEq)]
pub struct Hidden<E> {
    /// The step ([`HiddenInfo::name`](crate::HiddenInfo::name)).
    pub name: &'static str,
    /// One sample's output shape.
    pub shape: &'static [usize],
    /// The outputs, sample after sample (`samples × Π shape` values).
    pub values: std::vec::Vec<E>,
}

/// Runs `xs` through `net` in inference mode and returns every step's
/// output ([`Network::HIDDEN`]), in order: the hidden activations, for
/// histograms of how an initialization propagates and for debugging.
///
/// It allocates the workspace and the copies; [`Network::predict`] and
/// [`predict_batch`] stay allocation-free. Views (`flatten`) have no output
/// of their own and are not listed; a step includes what folds into it (see
/// [`HiddenInfo`](crate::HiddenInfo)).
///
/// # Examples
/// ```
/// constnet::network! {
///     struct Tiny: [4] => affine(8) -> relu -> affine(2) -> softmax
/// }
/// let net = Tiny::<f32>::seeded(0);
/// let hidden = constnet::inference::hidden(&net, &[[0.5; 4], [-1.0; 4]]);
/// let names: Vec<&str> = hidden.iter().map(|h| h.name).collect();
/// assert_eq!(names, ["affine1", "affine2", "softmax1"]);
/// assert_eq!(hidden[0].values.len(), 2 * 8);
/// assert!(hidden[0].values.iter().all(|&v| v >= 0.0), "relu folds into affine1");
/// assert_eq!(hidden[2].values[..2], net.predict(&[0.5; 4]));
/// ```
#[cfg(feature = "std")]
pub fn hidden<N: Network>(net: &N, xs: &[N::Input]) -> std::vec::Vec<Hidden<N::Elem>> {
    use crate::{Scalar, Tensor};
    let batch = xs.len();
    let mut data = std::vec![N::Elem::ZERO; N::workspace_len(batch)];
    let mut index = std::vec![0u32; N::index_len(batch)];
    let mut ys = std::vec![<N::Output as Tensor>::zeroed(); batch];
    let mut ws = crate::Workspace {
        data: &mut data,
        index: &mut index,
    };
    net.forward_batch(xs, &mut ws, &mut ys);
    N::HIDDEN
        .iter()
        .map(|h| {
            let start = h.start(batch);
            Hidden {
                name: h.name,
                shape: h.shape,
                values: data[start..start + batch * h.len].to_vec(),
            }
        })
        .collect()
}
