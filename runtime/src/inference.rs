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
