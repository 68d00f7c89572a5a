//! Threads: the pool a data-parallel training step runs on ([`team`]),
//! when a batch-1 kernel splits its work across that pool ([`split_for`]),
//! and the growth rule of the per-thread and per-shard scratch buffers
//! ([`grow`]).

use std::vec::Vec;

/// Grows `buf` to at least `len` elements; never shrinks, so a buffer that
/// has seen the largest batch is not reallocated again.
pub fn grow<T: Default + Clone>(buf: &mut Vec<T>, len: usize) {
    if buf.len() < len {
        buf.resize(len, T::default());
    }
}

std::thread_local! {
    static TEAM: core::cell::RefCell<Option<(usize, std::sync::Arc<rayon::ThreadPool>)>> =
        const { core::cell::RefCell::new(None) };
}

/// A pool of `threads` threads for data-parallel steps driven from this
/// thread.
///
/// The first pool a thread asks for has that thread as its first member
/// (`use_current_thread`), so running a step on it costs no hand-off to
/// another thread and back; measured on a 2-core machine, that hand-off
/// cost a quarter of a 2-thread MLP step. rayon never frees such a pool,
/// so it is built once per thread and reused. Later requests for another
/// thread count, or from a thread that already belongs to a pool, get an
/// ordinary pool. `None` when the OS refuses threads.
pub fn team(threads: usize) -> Option<std::sync::Arc<rayon::ThreadPool>> {
    TEAM.with(|cell| {
        if let Some((n, pool)) = &*cell.borrow()
            && *n == threads
        {
            return Some(pool.clone());
        }
        let first = cell.borrow().is_none();
        if first
            && let Ok(pool) = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .use_current_thread()
                .build()
        {
            let pool = std::sync::Arc::new(pool);
            *cell.borrow_mut() = Some((threads, pool.clone()));
            return Some(pool);
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .ok()
            .map(std::sync::Arc::new)
    })
}

/// Parts a batch-1 kernel should split `work` multiply-adds into: the
/// thread count of the rayon pool this thread works in, when it is a worker
/// of one (such as a [`team`]) and the work is large enough to pay for the
/// hand-off; else 1. Outside a pool kernels never reach for one, since a
/// cold hand-off costs more than a whole small layer.
pub fn split_for(work: usize) -> usize {
    const MIN_WORK: usize = 64 * 1024;
    if work < MIN_WORK || rayon::current_thread_index().is_none() {
        return 1;
    }
    rayon::current_num_threads()
}
