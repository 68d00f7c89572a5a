//! Declare a network once; its shapes are checked when it compiles.
//!
//! constnet generates a plain Rust struct from a one-line declaration: every
//! layer's shape is inferred by the [`network!`] macro, every mistake is a
//! compile error pointing at the faulty layer, and forward and backward code
//! is fused per layer over const-generic buffers.
//!
//! ```
//! use constnet::network;
//! use constnet::data::InMemory;
//! use constnet::optim::Adam;
//! use constnet::train::{Progress, Trainer};
//!
//! network! {
//!     /// Learns XOR.
//!     pub struct Xor: [2] => affine(4) -> tanh -> affine(2) -> softmax
//! }
//!
//! let xs = vec![[0.0f32, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
//! let data = InMemory::new(xs.clone(), vec![0usize, 1, 1, 0])?;
//! let mut net = Xor::<f32>::seeded(7);
//! let history = Trainer::new()
//!     .epochs(300)
//!     .batch_size(4)
//!     .progress(Progress::Quiet)
//!     .fit(&mut net, &data, None, &mut Adam::new(0.05))?;
//! assert_eq!(history.last().unwrap().train_accuracy, Some(1.0));
//! assert!(net.predict(&[1.0, 0.0])[1] > 0.5);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Tour
//! - [`network!`]: the declaration language, its layers and its compile errors.
//! - [`Network`] and [`Trainable`]: what every generated type implements; the
//!   module [`network`](mod@network) also holds what generated code is written
//!   against (tensors, parameter storage, views, tensors by name, the summary).
//! - [`train`]: one step ([`train::Stepper`]) or whole runs ([`train::Trainer`]),
//!   data-parallel and deterministic for a given seed and thread count;
//!   heap-free steps ([`train::fixed`]); [`train::gradcheck`]: backpropagation
//!   against numerical differentiation.
//! - [`optim`], [`init`], [`loss`]: optimizers with weight decay, clipping and
//!   schedules; initializers; losses.
//! - [`inference`]: batched, parallel inference.
//! - [`data`]: datasets, MNIST and IDX files, CSV, batching, splits, transforms
//!   and built-in synthetic digits.
//! - [`persist`]: safetensors (PyTorch interop) and constnet's byte format,
//!   which a microcontroller embeds as a `static` ([`persist::bytes`]).
//! - [`kernels`]: the const-generic kernels; [`kernels::reference`]: their oracle.
//!
//! # Features
//! The default features are all of them but `download`: the quick start,
//! every example and every test. An app that only declares, trains and saves
//! needs `default-features = false, features = ["std"]`, which builds in
//! under a third of the time; the README's "Features" section measures each.
//! - `std`: the training loop ([`train::Trainer`], [`train::Stepper`],
//!   callbacks, metrics, the CSV history), [`data::InMemory`], batching,
//!   splits and transforms, the byte format's files
//!   ([`persist::save_bytes`]), batched parallel inference, threads and
//!   run-time CPU feature detection.
//! - `alloc`: heap storage of parameters without the rest of `std`.
//! - `serde`: `Serialize` and `Deserialize` for the history and the
//!   metrics, the JSON history, checkpoints and resuming, and
//!   `optim::OptimizerConfig`.
//! - `progress`: the trainer's progress bar (otherwise one line per epoch).
//! - `plot`: PNG figures (`plot`), the history's SVG and PNG curves.
//! - `csv`: `data::CsvReader`.
//! - `safetensors`: safetensors files (PyTorch interop) and name maps.
//! - `datasets`: IDX files and MNIST, the built-in `data::Digits` and
//!   `data::Diabetes`.
//! - `synthetic`: `data::SyntheticDigits`.
//! - `download`: `Mnist::download` over HTTPS.
//!
//! Without default features the crate is `#![no_std]` and needs no
//! allocator: inference and heap-free training still work.
#![no_std]
#[cfg(feature = "std")]
extern crate std;

#[doc = include_str!("network.md")]
pub use constnet_macros::network;
pub use constnet_runtime::*;

/// Paths used by code that `network!` generates. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use ::core;
    pub use constnet_runtime as rt;
}

// Lets this crate's own unit tests and doctests write `::constnet::…` as users do.
extern crate self as constnet;

/// The doc examples of `constnet-runtime`, gathered by `build.rs`, so that
/// `cargo test --doc -p constnet` runs them as users write them.
#[cfg(doctest)]
#[doc = include_str!(concat!(env!("OUT_DIR"), "/runtime_doc_examples.md"))]
pub struct RuntimeDocExamples;
