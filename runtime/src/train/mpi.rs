//! [`Mpi`]: the ranks of an MPI job as a [`Collective`], through rsmpi.

use core::fmt;
use std::eprintln;
use std::sync::{Arc, Mutex, PoisonError};

use mpi::environment::{Threading, Universe};
use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::traits::CommunicatorCollectives;

use super::collective::{Collective, Gather};

/// Exit status of a job ended because a rank panicked.
const PANIC_STATUS: i32 = 101;
/// Exit status of a rank ended by SIGTERM, as a shell reports it.
const TERMINATED_STATUS: i32 = 128 + signal_hook::consts::SIGTERM;

/// Why MPI could not be started.
#[derive(Debug, thiserror::Error)]
pub enum MpiError {
    /// `MPI_Init_thread` was already called in this process.
    #[error("MPI is already initialized in this process")]
    AlreadyInitialized,
    /// The SIGTERM watcher could not be installed.
    #[error("cannot watch for SIGTERM: {0}")]
    Signals(#[from] std::io::Error),
    /// The MPI library cannot be called from more than one thread.
    #[error(
        "the MPI library offers thread support {0:?}; constnet needs `Serialized` (training calls it from whichever thread steps)"
    )]
    Threading(Threading),
}

/// The processes of an MPI job (`MPI_COMM_WORLD`), for data-parallel
/// training ([`Trainer::across`](super::Trainer::across),
/// [`Stepper::across`](super::Stepper::across)) and distributed search
/// ([`Search::run_across`](super::search::Search::run_across)).
///
/// Started once per process with [`Mpi::init`]; MPI is finalized when the
/// last handle is dropped. Run under `mpirun -np N` or `srun`; started
/// alone, a program is a job of one rank. A rank that panics ends the
/// whole job (`MPI_Abort`) rather than leave the others waiting. When a
/// rank dies, `mpirun` or `srun` names it and stops the others with
/// SIGTERM; rank 0 then says on stderr why it ends (the checkpoints it
/// wrote are whole: they are written atomically) and exits with status
/// 143.
pub struct Mpi {
    universe: Universe,
    rank: usize,
    ranks: usize,
    /// MPI is initialized for serialized calls: one at a time.
    calls: Mutex<()>,
}

impl Mpi {
    /// Initializes MPI for this process.
    ///
    /// # Errors
    /// [`MpiError`] when MPI was already initialized, or the library
    /// cannot be called from several threads.
    pub fn init() -> Result<Arc<Mpi>, MpiError> {
        let (universe, threading) = mpi::initialize_with_threading(Threading::Serialized)
            .ok_or(MpiError::AlreadyInitialized)?;
        if threading < Threading::Serialized {
            return Err(MpiError::Threading(threading));
        }
        let world = universe.world();
        let (rank, ranks) = (world.rank() as usize, world.size() as usize);
        watch_for_termination(rank, ranks)?;
        let previous = std::panic::take_hook();
        std::panic::set_hook(std::boxed::Box::new(move |info| {
            previous(info);
            eprintln!("constnet: rank {rank} panicked; ending the job");
            SimpleCommunicator::world().abort(PANIC_STATUS);
        }));
        Ok(Arc::new(Mpi {
            universe,
            rank,
            ranks,
            calls: Mutex::new(()),
        }))
    }
}

/// Ends this rank on SIGTERM, rank 0 with a message: the launcher sends it
/// when another rank failed or the job was cancelled. A thread waits for
/// the signal, so the message is printed outside a signal handler.
fn watch_for_termination(rank: usize, ranks: usize) -> Result<(), MpiError> {
    let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGTERM])?;
    std::thread::Builder::new()
        .name("constnet-sigterm".into())
        .spawn(move || {
            if signals.forever().next().is_some() {
                if rank == 0 {
                    eprintln!(
                        "constnet: rank 0 of {ranks}: the launcher ended the job (SIGTERM): \
                         another rank failed, or the job was cancelled; the checkpoints \
                         written so far are whole"
                    );
                }
                std::process::exit(TERMINATED_STATUS);
            }
        })?;
    Ok(())
}

impl fmt::Debug for Mpi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mpi")
            .field("rank", &self.rank)
            .field("ranks", &self.ranks)
            .finish_non_exhaustive()
    }
}

impl Collective for Mpi {
    fn rank(&self) -> usize {
        self.rank
    }

    fn ranks(&self) -> usize {
        self.ranks
    }

    fn all_gather(&self, buffers: Gather<'_>) {
        let _one_at_a_time = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        let world = self.universe.world();
        let (mine, all) = buffers.lens();
        assert_eq!(
            all,
            mine * self.ranks,
            "all-gather buffers of mismatched lengths"
        );
        assert!(
            i32::try_from(mine).is_ok(),
            "an all-gather of {mine} elements per rank is beyond MPI's int counts"
        );
        match buffers {
            Gather::Bytes(m, a) => world.all_gather_into(m, a),
            Gather::F32(m, a) => world.all_gather_into(m, a),
            Gather::F64(m, a) => world.all_gather_into(m, a),
        }
    }

    fn abort(&self, code: i32) -> ! {
        self.universe.world().abort(code)
    }
}
