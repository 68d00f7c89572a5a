//! Inference over a batch through the batched kernels.

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
    crate::threads::with_workspace::<N, _>(xs.len(), |ws| net.forward_batch(xs, ws, ys));
}
