//! Inference over a batch through the batched kernels.

use crate::Network;

/// Runs `xs` through `net` in inference mode, writing `ys`.
///
/// With `std`, samples go through the batched kernels in chunks, with a
/// per-thread workspace that is allocated once and reused. Without `std`, each
/// sample goes through the allocation-free [`Network::predict`].
///
/// # Panics
/// If `ys` is not as long as `xs`.
pub fn predict_batch<N: Network>(net: &N, xs: &[N::Input], ys: &mut [N::Output]) {
    assert_eq!(xs.len(), ys.len(), "{} inputs but room for {} outputs", xs.len(), ys.len());
    #[cfg(feature = "std")]
    {
        const CHUNK: usize = 256;
        crate::threads::with_workspace::<N::Elem, _>(|data, index| {
            for (xs, ys) in xs.chunks(CHUNK).zip(ys.chunks_mut(CHUNK)) {
                let (d, i) = (N::workspace_len(xs.len()), N::index_len(xs.len()));
                crate::threads::grow(data, d);
                crate::threads::grow(index, i);
                let mut ws = crate::Workspace { data: &mut data[..d], index: &mut index[..i] };
                net.forward_batch(xs, &mut ws, ys);
            }
        });
    }
    #[cfg(not(feature = "std"))]
    for (x, y) in xs.iter().zip(ys.iter_mut()) {
        *y = net.predict(x);
    }
}
