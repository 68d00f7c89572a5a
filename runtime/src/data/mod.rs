//! Datasets, MNIST, CSV, batching, splits and transforms (feature `std`;
//! the file formats and built-in sets each need their own feature, below).
//!
//! # Tour
//! - [`Dataset`] is the contract the trainer reads: a length and the
//!   `(input, target)` sample at an index. [`InMemory`] is the `Vec`-backed
//!   implementation; its inputs are a network's `Input` arrays and its
//!   targets `usize` labels or dense arrays.
//! - [`Batches`] cuts `0..len` into minibatches, reshuffled each epoch from
//!   one seed; [`Dataset::gather_into`] copies a batch into reusable buffers.
//! - [`InMemory::split`] and [`InMemory::stratified_split`] make a seeded
//!   train/validation split ([`DEFAULT_VALIDATION`] = 20 %).
//! - Sources: [`Mnist::load`] (MNIST or Fashion-MNIST, raw or gzip IDX files,
//!   found through `MNIST_DIR`), [`read_idx`] for any IDX stream, and the
//!   built-in [`Digits`] (8×8, 1,797 samples) and [`Diabetes`] (442
//!   patients, regression), with the `datasets` feature; [`CsvReader`] for
//!   tabular data (`csv`); [`SyntheticDigits`] (`synthetic`), drawn
//!   procedurally so the quick start needs no file. With the `download`
//!   feature, `Mnist::download` (in `download`) fetches MNIST and verifies
//!   it.
//! - [`transform`]: [`Standardize`], [`MinMax`], [`one_hot`], and
//!   [`random_shift_batch`] for image augmentation.
//!
//! Every fallible function returns [`DataError`]; no input makes a reader panic.
//!
//! # Examples
//! ```
//! use constnet::data::{Batches, Dataset, SyntheticDigits};
//! let data = SyntheticDigits::new(100, 0).generate::<[[[f32; 28]; 28]; 1]>();
//! let (train, val) = data.stratified_split(0.2, 0);
//! let batches = Batches::new(train.len(), 32, 0).drop_last(true);
//! let (mut xs, mut ts) = (Vec::new(), Vec::new());
//! for epoch in 0..2 {
//!     for batch in &batches.epoch(epoch) {
//!         train.gather_into(batch, &mut xs, &mut ts);
//!         assert_eq!(xs.len(), 32);
//!     }
//! }
//! assert_eq!(val.len(), 20);
//! ```

// NOTE: the crate is `#![no_std]`, so each file here (all behind `std`)
// imports `std::prelude::rust_2024::*` and the `format!`/`vec!` macros itself.

mod batch;
#[cfg(feature = "datasets")]
mod builtin;
#[cfg(feature = "csv")]
pub mod csv;
mod dataset;
#[cfg(feature = "download")]
pub mod download;
mod error;
#[cfg(feature = "datasets")]
pub mod idx;
#[cfg(feature = "datasets")]
pub mod mnist;
mod split;
#[cfg(feature = "synthetic")]
pub mod synthetic;
pub mod transform;

pub use batch::{Batches, Epoch, EpochIter};
#[cfg(feature = "datasets")]
pub use builtin::{Diabetes, Digits};
#[cfg(feature = "csv")]
pub use csv::{Column, CsvReader};
pub use dataset::{Dataset, InMemory};
pub use error::DataError;
#[cfg(feature = "datasets")]
pub use idx::{Idx, IdxReader, encode_idx, read_idx, read_idx_file};
#[cfg(feature = "datasets")]
pub use mnist::{Mnist, Scaling};
pub use split::{DEFAULT_VALIDATION, split_indices, stratified_split_indices};
#[cfg(feature = "synthetic")]
pub use synthetic::SyntheticDigits;
pub use transform::{
    MinMax, Standardize, one_hot, one_hot_targets, random_shift, random_shift_batch, shift,
};
