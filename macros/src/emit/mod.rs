//! Code generation: [`Plan`] → `TokenStream`. Cannot fail.
//!
//! Generated code names runtime items by absolute paths
//! (`::constnet::__private::rt::…`), emits straight-line calls of
//! const-generic kernels with the literal sizes `infer` computed, and puts
//! each layer's calls under that layer's span so a rejected call points at
//! the layer in the DSL. See `README.md` for the conventions.

mod api;
mod arena;
mod fallback;
mod item;
mod meta;
mod names;
mod note;
mod ops;
mod pass;
mod pytorch;
mod quant;
mod step;
mod tokens;
mod train;

pub(crate) use fallback::fallback;

use proc_macro2::TokenStream;
use quote::quote;

use crate::plan::Plan;

/// Generates every item of one network.
pub(crate) fn network(plan: &Plan) -> TokenStream {
    let it = item::Item::of(plan);
    let mut items = vec![
        api::type_item(&it),
        api::constructors(&it),
        api::inference(&it),
        api::storage(&it),
        meta::network_impl(&it),
        pass::item(&it),
        note::notes(plan),
        quant::quantizable(&it),
    ];
    if plan.trainable {
        items.push(train::trainable_impl(&it));
        items.push(train::fixed_step(&it));
    }
    quote!(#(#items)*)
}
