//! What every generated item of one network is built from: its name, the
//! `#[cfg]`s it shares, its generics and its sizes as literals.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::quote;

use super::names;
use super::tokens::{len, lit, rt, sample_type};
use crate::plan::Plan;

pub(crate) struct Item<'a> {
    pub(crate) plan: &'a Plan<'a>,
    pub(crate) rt: TokenStream,
    pub(crate) name: &'a Ident,
    pub(crate) name_str: String,
    /// Attributes of every generated impl: the declaration's `#[cfg]`s
    /// (impls of a type configured away would not compile) and
    /// `allow(deprecated)` (a network declared `#[deprecated]` must not warn
    /// about its own impls).
    pub(crate) impl_attrs: TokenStream,
    /// `<__E: Scalar, __S: Storage>`, for impls over every element type and
    /// storage.
    pub(crate) generics: TokenStream,
    pub(crate) input_ty: TokenStream,
    pub(crate) output_ty: TokenStream,
    pub(crate) store_len: Literal,
    pub(crate) param_count: Literal,
    pub(crate) input_len: Literal,
    pub(crate) output_len: Literal,
    pub(crate) arena_len: Literal,
}

impl<'a> Item<'a> {
    pub(crate) fn of(plan: &'a Plan<'a>) -> Self {
        let typed = plan.typed;
        let header = typed.net.header;
        let rt = rt();
        let cfgs = header.attrs.iter().filter(|a| a.path().is_ident("cfg"));
        let (e, s) = (names::elem(), names::storage());
        Item {
            plan,
            name: &header.name,
            name_str: header.name.to_string(),
            impl_attrs: quote!(#(#cfgs)* #[allow(deprecated)]),
            generics: quote!(<#e: #rt::Scalar, #s: #rt::Storage>),
            rt,
            input_ty: sample_type(typed.net.input),
            output_ty: sample_type(typed.output),
            store_len: lit(typed.store_len),
            param_count: lit(typed.param_count),
            input_len: lit(len(typed.net.input)),
            output_len: lit(len(typed.output)),
            arena_len: lit(plan.arena.len),
        }
    }
}
