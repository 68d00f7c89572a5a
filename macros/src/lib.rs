//! Expansion of `network!`. Use it through the `constnet` crate; nothing here is public API.
//!
//! Stages, in order: `ast` → `lower` → `infer` → `plan` → `emit`;
//! any error goes to `emit::fallback`.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod ast;
mod diag;
mod emit;
mod infer;
mod layers;
mod lower;
mod model;
mod plan;

use proc_macro::TokenStream;

/// Documented on the re-export `constnet::network`.
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    let invocation = syn::parse_macro_input!(input as ast::Invocation);
    expand(&invocation).into()
}

/// Expands every network; a broken one becomes its errors plus a stub type.
fn expand(invocation: &ast::Invocation) -> proc_macro2::TokenStream {
    let mut out = proc_macro2::TokenStream::new();
    for err in &invocation.header_errors {
        out.extend(err.to_compile_error());
    }
    for def in &invocation.networks {
        match try_expand(def) {
            Ok(tokens) => out.extend(tokens),
            Err(errors) => out.extend(emit::fallback(&def.header, errors)),
        }
    }
    out
}

fn try_expand(def: &ast::NetworkDef) -> syn::Result<proc_macro2::TokenStream> {
    let body = def.body.as_ref().map_err(Clone::clone)?;
    let net = lower::lower(&def.header, body)?;
    let typed = infer::infer(&net)?;
    let plan = plan::plan(&typed)?;
    Ok(emit::network(&plan))
}
