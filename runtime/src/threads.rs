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

/// Runs `f` with this thread's scratch buffers for element type `E`.
///
/// # Panics
/// If called again from inside `f` on the same thread.
pub fn with_workspace<E: crate::Scalar, R>(f: impl FnOnce(&mut Vec<E>, &mut Vec<u32>) -> R) -> R {
    E::with_scratch(f)
}
