//! Per-thread scratch memory, reused across calls so steady-state batch
//! inference allocates nothing.

use std::vec::Vec;

/// Grows `buf` to at least `len` elements; never shrinks, so a buffer that
/// has seen the largest batch is not reallocated again.
pub fn grow<T: Default + Clone>(buf: &mut Vec<T>, len: usize) {
    if buf.len() < len {
        buf.resize(len, T::default());
    }
}

/// Runs `f` with a workspace for a batch of `N` of `batch` samples, cut
/// from this thread's scratch buffers, which grow to the largest batch seen
/// and are then reused.
///
/// # Panics
/// If called again from inside `f` on the same thread.
pub fn with_workspace<N: crate::Network, R>(
    batch: usize,
    f: impl FnOnce(&mut crate::Workspace<'_, N::Elem>) -> R,
) -> R {
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
