//! The processes of one data-parallel run (its ranks) and the collective
//! operations training needs from them.
//!
//! A [`Stepper`](super::Stepper) or [`Trainer`](super::Trainer) given a
//! [`Collective`] with `ranks` processes of `threads` threads each splits
//! every batch into `ranks × threads` shards, the boundaries a single
//! process with that many threads uses. Each rank computes its own shards'
//! gradients; one all-gather per step gives every rank every shard's, which
//! each then sums in shard order itself. So no sum depends on how the
//! transport reduces, and the weights are bit for bit those of one process
//! with as many threads as the job has shards.
//!
//! With the `mpi` feature, `train::Mpi` is the collective of an MPI
//! job (`mpirun`, `srun`); [`local_job`] makes a job of threads in one
//! process, to try and test data-parallel code without MPI. Anything else
//! that can all-gather can implement the trait.

use core::any::Any;
use core::fmt::Debug;
use std::sync::{Arc, Barrier, Mutex, PoisonError};
use std::vec::Vec;

use crate::Scalar;

/// What one rank contributes to an all-gather and where the gathered
/// values go: `all` is `ranks()` times as long as `mine`, and receives
/// every rank's `mine` in rank order.
#[derive(Debug)]
pub enum Gather<'a> {
    /// Bytes (serialized outcomes, checks).
    Bytes(&'a [u8], &'a mut [u8]),
    /// Single-precision elements (the gradients of an `f32` network).
    F32(&'a [f32], &'a mut [f32]),
    /// Double-precision elements (the gradients of an `f64` network).
    F64(&'a [f64], &'a mut [f64]),
}

impl Gather<'_> {
    /// The lengths of this rank's contribution and of the gathered buffer.
    pub(crate) fn lens(&self) -> (usize, usize) {
        match self {
            Gather::Bytes(m, a) => (m.len(), a.len()),
            Gather::F32(m, a) => (m.len(), a.len()),
            Gather::F64(m, a) => (m.len(), a.len()),
        }
    }
}

/// The ranks of a job and the one collective operation training uses.
///
/// Every rank must make the same calls in the same order with buffers of
/// the same lengths, as in MPI.
pub trait Collective: Debug + Send + Sync {
    /// This process's rank, `0..ranks()`. Rank 0 reports and writes files.
    fn rank(&self) -> usize;
    /// The number of ranks.
    fn ranks(&self) -> usize;
    /// Gathers every rank's contribution on every rank (MPI's `Allgather`).
    ///
    /// # Panics
    /// If `all` is not `ranks()` times as long as `mine`: a bug in the
    /// caller, the same on every rank.
    fn all_gather(&self, buffers: Gather<'_>);
    /// Ends the whole job with exit status `code`: for a failure one rank
    /// alone meets (it could not write a checkpoint), where the other
    /// ranks would otherwise wait in the next collective for ever.
    fn abort(&self, code: i32) -> !;
}

/// Gathers `mine` from every rank into `all` (`ranks()` times as long).
#[expect(
    clippy::ptr_arg,
    reason = "`Any` downcasts sized types: a `Vec` can name its element type, a slice cannot"
)]
pub(crate) fn gather_elems<E: Scalar>(group: &dyn Collective, mine: &Vec<E>, all: &mut Vec<E>) {
    let (mine, all): (&dyn Any, &mut dyn Any) = (mine, all);
    // `Scalar` is sealed to these two types.
    let buffers = match (
        mine.downcast_ref::<Vec<f32>>(),
        all.downcast_mut::<Vec<f32>>(),
    ) {
        (Some(m), Some(a)) => Gather::F32(m, a),
        _ => match (
            mine.downcast_ref::<Vec<f64>>(),
            all.downcast_mut::<Vec<f64>>(),
        ) {
            (Some(m), Some(a)) => Gather::F64(m, a),
            _ => unreachable!("a Scalar is f32 or f64"),
        },
    };
    group.all_gather(buffers);
}

/// Every rank's `value`, in rank order, on every rank.
pub(crate) fn values(group: &dyn Collective, value: u64) -> Vec<u64> {
    let mine = value.to_le_bytes();
    let mut all = std::vec![0u8; 8 * group.ranks()];
    group.all_gather(Gather::Bytes(&mine, &mut all));
    all.chunks_exact(8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect()
}

/// Gathers byte strings of any length from every rank, in rank order.
#[cfg(feature = "serde")]
pub(crate) fn gather_bytes(group: &dyn Collective, mine: &[u8]) -> Vec<Vec<u8>> {
    let ranks = group.ranks();
    let lens: Vec<usize> = values(group, mine.len() as u64)
        .into_iter()
        .map(|len| len as usize)
        .collect();
    let longest = lens.iter().copied().max().unwrap_or(0);
    let mut padded = mine.to_vec();
    padded.resize(longest, 0);
    let mut all = std::vec![0u8; longest * ranks];
    group.all_gather(Gather::Bytes(&padded, &mut all));
    all.chunks_exact(longest.max(1))
        .zip(&lens)
        .map(|(chunk, &len)| chunk[..len].to_vec())
        .collect()
}

/// FNV-1a over the bits of `values`: equal on two ranks when their
/// parameters are bit for bit the same (and almost surely not otherwise).
pub(crate) fn fingerprint<E: Scalar>(values: &[E]) -> u64 {
    values.iter().fold(0xcbf2_9ce4_8422_2325, |h, v| {
        (h ^ v.to_f64().to_bits()).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The shared state of a [`local_job`]: each round, every rank writes its
/// contribution, waits, reads everyone's, and waits again.
#[derive(Debug)]
struct Round {
    slots: Mutex<Vec<Vec<u8>>>,
    barrier: Barrier,
}

/// One rank of a job whose ranks are threads of this process (see
/// [`local_job`]).
#[derive(Debug)]
pub struct LocalRank {
    rank: usize,
    ranks: usize,
    round: Arc<Round>,
}

/// A job of `ranks` ranks (at least 1) inside this process, one per
/// thread: for trying and testing data-parallel code without MPI. Give
/// rank `r` to the thread that plays it; the threads step together.
///
/// # Examples
/// ```
/// use constnet::train::collective::{Collective, local_job};
/// let ranks: Vec<u64> = std::thread::scope(|s| {
///     let job: Vec<_> = local_job(3)
///         .into_iter()
///         .map(|rank| s.spawn(move || (rank.rank() as u64 + 1) * 10))
///         .collect();
///     job.into_iter().map(|t| t.join().unwrap()).collect()
/// });
/// assert_eq!(ranks, [10, 20, 30]);
/// ```
pub fn local_job(ranks: usize) -> Vec<Arc<LocalRank>> {
    let ranks = ranks.max(1);
    let round = Arc::new(Round {
        slots: Mutex::new(std::vec![Vec::new(); ranks]),
        barrier: Barrier::new(ranks),
    });
    (0..ranks)
        .map(|rank| {
            Arc::new(LocalRank {
                rank,
                ranks,
                round: round.clone(),
            })
        })
        .collect()
}

impl LocalRank {
    fn exchange(&self, mine: Vec<u8>) -> Vec<u8> {
        let slots = || {
            self.round
                .slots
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        };
        slots()[self.rank] = mine;
        self.round.barrier.wait();
        let all = slots().concat();
        self.round.barrier.wait();
        all
    }
}

/// Fills `into` from the little-endian values in `bytes`.
fn decode<T, const N: usize>(bytes: &[u8], into: &mut [T], from: fn([u8; N]) -> T) {
    for (v, b) in into.iter_mut().zip(bytes.chunks_exact(N)) {
        *v = from(b.try_into().expect("chunks of N bytes"));
    }
}

impl Collective for LocalRank {
    fn rank(&self) -> usize {
        self.rank
    }

    fn ranks(&self) -> usize {
        self.ranks
    }

    fn all_gather(&self, buffers: Gather<'_>) {
        let (mine, all) = buffers.lens();
        assert_eq!(
            all,
            mine * self.ranks,
            "all-gather buffers of mismatched lengths"
        );
        match buffers {
            Gather::Bytes(m, a) => a.copy_from_slice(&self.exchange(m.to_vec())),
            Gather::F32(m, a) => {
                let bytes = self.exchange(m.iter().flat_map(|v| v.to_le_bytes()).collect());
                decode(&bytes, a, f32::from_le_bytes);
            }
            Gather::F64(m, a) => {
                let bytes = self.exchange(m.iter().flat_map(|v| v.to_le_bytes()).collect());
                decode(&bytes, a, f64::from_le_bytes);
            }
        }
    }

    /// Ends the process, which is the whole job.
    fn abort(&self, code: i32) -> ! {
        std::eprintln!("constnet: rank {} ended the job", self.rank);
        std::process::exit(code)
    }
}
