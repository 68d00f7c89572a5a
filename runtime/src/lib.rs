//! The runtime of constnet: kernels, initializers, losses, optimizers, data
//! loading and training for networks declared with `network!`.
//!
//! Use it through the `constnet` crate. It also works on its own: every
//! kernel is a plain const-generic function (`kernels::conv2d::forward`).
//!
//! # Tour
//! - [`scalar`]: the element types, `f32` and `f64`, with their math through
//!   `libm`, so every target computes the same bits.
//! - [`network`]: the contract between generated code and the runtime. The
//!   [`Network`] and [`Trainable`] traits, plus what generated code is
//!   written against: [`Tensor`] inputs and outputs, parameter [`Storage`],
//!   typed views of the flat parameter array, tensors by name, the summary
//!   table.
//! - [`kernels`]: one file per op, forward and backward together, each built
//!   for AVX2/FMA and portably; [`kernels::reference`] is their test oracle.
//!   [`quant`]: int8 inference kernels that compute TensorFlow Lite's
//!   integers exactly.
//! - [`inference`]: [`inference::predict_batch`], batched and, with `std`,
//!   parallel; [`threads`] (`std`): the pool of data-parallel steps and the
//!   split of batch-1 kernels.
//! - [`train`]: data-parallel steps, epochs and their history (`std`);
//!   heap-free training in fixed buffers ([`train::fixed`]); gradient checks.
//!   [`init`], [`loss`] and [`optim`] supply the pieces.
//! - [`text`]: wall times and counts written for people (`850 ms`,
//!   `1 epoch`), as the trainer's progress lines print them.
//! - I/O: [`data`] (`std`) reads and batches datasets; [`persist`] writes
//!   and reads parameter files, one module per format. Every loader reads
//!   through a bound it knows before reading (the size a network or a
//!   header implies, or a caller-set maximum) and opens regular files only.
//!
//! # NaN and infinity
//! NaN propagates through every layer and loss as in IEEE arithmetic
//! (`relu(NaN)` is NaN, as in PyTorch). Inference
//! ([`Network::predict`], [`inference::predict_batch`]) checks nothing and
//! returns NaN outputs for a NaN input or parameter. Training and
//! evaluation check everything and stop with a typed error at the step
//! where a NaN or an infinity appears, leaving the network and the
//! optimizer as they were before that step (see [`train`]).
//!
//! # Features
//! The default features are all of them but `download`. A smaller set
//! builds faster; the README's "Features" section measures each.
//! - `std`: the training loop ([`train::Trainer`], [`train::Stepper`],
//!   callbacks, metrics, the CSV history), in-memory datasets, batching and
//!   splits, the byte format's files ([`persist::save_bytes`]), threads and
//!   run-time CPU feature detection. Implies `alloc`. The minimal set for
//!   training.
//! - `alloc`: heap-backed parameter storage ([`Heap`]).
//! - `serde`: `Serialize` and `Deserialize` for the history and the
//!   metrics, the JSON history, checkpoints and resuming, and the optimizer
//!   configurations (`optim::OptimizerConfig`).
//! - `progress`: the trainer's progress bar; without it the trainer prints
//!   one line per epoch.
//! - `plot`: PNG figures (`plot`) and the history's SVG and PNG curves.
//! - `csv`: `data::CsvReader`.
//! - `safetensors`: safetensors files (`persist::save_safetensors`) and
//!   name maps.
//! - `datasets`: IDX files and MNIST, raw or gzip, and the built-in
//!   `data::Digits` and `data::Diabetes`. Implies `csv`.
//! - `synthetic`: `data::SyntheticDigits`.
//! - `download`: fetching MNIST over HTTP(S). Implies `datasets`.
//!
//! Without default features the crate is `#![no_std]` with no allocator: the
//! inference path, the heap-free training step and the `const` decoder of
//! parameter files of every network still work.
#![no_std]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

pub mod scalar;

pub mod network;

pub mod kernels;
pub mod quant;

pub mod inference;
#[cfg(feature = "std")]
pub mod threads;

pub mod init;
pub mod loss;
pub mod optim;
pub mod train;

#[cfg(feature = "std")]
mod bounded;
#[cfg(feature = "std")]
pub mod data;
pub mod persist;
#[cfg(feature = "plot")]
pub mod plot;
pub mod text;

#[cfg(feature = "alloc")]
pub use network::storage::Heap;
pub use network::storage::{DefaultStorage, Inline, Storage};
pub use network::tensor::Tensor;
pub use network::{
    HiddenInfo, Init, LayerInfo, Network, Role, StepCtx, TensorInfo, Trainable, Workspace,
};
pub use scalar::Scalar;
pub use train::fixed::FixedWorkspace;

/// The `rand` crate, re-exported so generated code and users name the same
/// `Rng` trait without a direct dependency.
pub use rand;
