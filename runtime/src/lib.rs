//! The runtime of constnet: kernels, initializers, losses, optimizers, data
//! loading and training for networks declared with `network!`.
//!
//! Use it through the `constnet` crate. It also works on its own: every
//! kernel is a plain const-generic function (`kernels::conv2d::forward`).
//!
//! # Features
//! - `std` (default): data loading, the trainer, persistence, threads and
//!   run-time CPU feature detection. Implies `alloc`.
//! - `alloc`: heap-backed parameter storage ([`storage::Heap`]).
//! - `download`: fetching MNIST over HTTP(S).
//!
//! Without default features the crate is `#![no_std]` with no allocator: the
//! inference path and the training step of every network still work.
#![no_std]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

pub mod batch;
#[cfg(feature = "alloc")]
pub mod boxed;
#[cfg(feature = "std")]
pub mod data;
pub mod fixed;
pub mod flash;
#[cfg(feature = "std")]
pub mod gradcheck;
pub mod init;
pub mod kernels;
pub mod loss;
pub mod network;
pub mod optim;
pub mod params;
#[cfg(feature = "std")]
pub mod persist;
#[cfg(feature = "std")]
pub mod reference;
pub mod scalar;
pub mod storage;
pub mod summary;
pub mod tensor;
#[cfg(feature = "std")]
pub mod threads;
#[cfg(feature = "std")]
pub mod train;
pub mod view;

pub use fixed::FixedWorkspace;
pub use network::{Init, LayerInfo, Network, Role, StepCtx, TensorInfo, Trainable, Workspace};
pub use scalar::Scalar;
#[cfg(feature = "alloc")]
pub use storage::Heap;
pub use storage::{DefaultStorage, Inline, Storage};
pub use tensor::Tensor;

/// The `rand` crate, re-exported so generated code and users name the same
/// `Rng` trait without a direct dependency.
pub use rand;
