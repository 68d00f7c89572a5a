//! Const-generic kernels, one file per op with forward and backward together.
//!
//! Every kernel is `no_std` and allocation-free: inputs by shared reference,
//! outputs as `&mut` buffers the caller owns, all dimensions const generics,
//! and a `const` shape assertion where a size relation must hold. Batches are
//! slices of fixed-shape samples.
//!
//! [`reference`](mod@reference) (`std`) holds the same layers as straight loops: the oracle
//! the kernels' tests compare against. The folder's conventions are in its
//! `README.md`.

pub mod activation;
pub mod add;
pub mod affine;
pub mod batchnorm;
pub mod conv2d;
pub mod dispatch;
pub mod dropout;
mod gemm;
pub mod pool2d;
pub mod prelu;
pub mod preprocess;
#[cfg(feature = "std")]
pub mod reference;
pub mod softmax;
#[cfg(test)]
mod test_util;
pub(crate) mod tile;
