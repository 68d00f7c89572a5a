//! Const-generic kernels, one file per op with forward and backward together.
//!
//! Every kernel is `no_std` and allocation-free: inputs by shared reference,
//! outputs as `&mut` buffers the caller owns, all dimensions const generics,
//! and a `const` shape assertion as the first statement.
