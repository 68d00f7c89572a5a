//! The generated-identifier contract: the generic parameters, every
//! workspace buffer and the locals the pass generators share with the op
//! emitters, spelled once. (An op's own temporaries stay in its file.)
//!
//! Generic parameters and locals start with `__`, so they cannot collide
//! with a name the user gives a network (serde's rule). Workspace buffers are
//! named after their step (`conv1_out`, `pool1_argmax`) so `cargo expand`
//! reads like the declaration.

use proc_macro2::Ident;
use quote::format_ident;

/// The element type parameter of a generated network (`f32` by default).
pub(crate) fn elem() -> Ident {
    format_ident!("__E")
}

/// The storage type parameter of a generated network.
pub(crate) fn storage() -> Ident {
    format_ident!("__S")
}

/// A step's output buffer in the training workspace: `conv1_out`.
pub(crate) fn out(step: &str) -> Ident {
    format_ident!("{step}_out")
}

/// A step's max-pool argmax buffer: `conv1_argmax`.
pub(crate) fn argmax(step: &str) -> Ident {
    format_ident!("{step}_argmax")
}

/// A residual block's saved gradients: of its output (`main`, kept while
/// the shortcut's backward runs) and of its input through the shortcut
/// (`skip`), named after the block's add: `add1_gmain`, `add1_gskip`.
pub(crate) fn block_grads(add: &str) -> [Ident; 2] {
    [format_ident!("{add}_gmain"), format_ident!("{add}_gskip")]
}

/// The `i`-th arena slice a step of `predict_in` borrows.
pub(crate) fn slot(i: usize) -> Ident {
    format_ident!("__slot{i}")
}

/// What a batch norm keeps for backward: the normalized input and the
/// batch's mean and variance.
pub(crate) fn batch_norm_saved(step: &str) -> [Ident; 3] {
    ["xhat", "mean", "var"].map(|what| format_ident!("{step}_{what}"))
}

/// The locals of the batched pass that op emitters read and write.
pub(crate) struct Locals {
    /// `&[E]`: the flat parameters.
    pub(crate) params: Ident,
    /// `&mut [E]`: the flat parameter gradients (backward only).
    pub(crate) grads: Ident,
    /// `&[E]`: the flat input batch.
    pub(crate) x: Ident,
    /// `usize`: samples in this (shard of the) batch.
    pub(crate) batch: Ident,
    /// `Option<StepCtx>`: set in training mode.
    pub(crate) train: Ident,
    /// `StepCtx` inside the backward section.
    pub(crate) ctx: Ident,
    /// `E`: `1 / ctx.batch`, the mean-loss scale.
    pub(crate) scale: Ident,
    /// `&mut [E]`: the gradient of the current step's output.
    pub(crate) gout: Ident,
    /// `&mut [E]`: where a step writes its input gradient; swapped with `gout`.
    pub(crate) gin: Ident,
    /// The two workspace buffers `gout` and `gin` start as.
    pub(crate) g0: Ident,
    pub(crate) g1: Ident,
    /// `&[E]`: reduced batch statistics handed to `commit_statistics`.
    pub(crate) stats: Ident,
}

impl Locals {
    pub(crate) fn new() -> Locals {
        Locals {
            params: format_ident!("__p"),
            grads: format_ident!("__grads"),
            x: format_ident!("__x"),
            batch: format_ident!("__b"),
            train: format_ident!("__train"),
            ctx: format_ident!("__ctx"),
            scale: format_ident!("__scale"),
            gout: format_ident!("__gout"),
            gin: format_ident!("__gin"),
            g0: format_ident!("__g0"),
            g1: format_ident!("__g1"),
            stats: format_ident!("__stats"),
        }
    }
}
