//! Warnings on stable Rust, which has no warning API for proc macros: each
//! [`Note`] becomes a use of a `#[deprecated]` constant whose note is the
//! message, spanned at what it is about, so rustc reports "use of
//! deprecated constant `_::NAME`: MESSAGE" there (the trick of the
//! `proc-macro-warning` crate, in a few lines instead of a dependency).
//! Both live inside `const _: () = { … };`, so nothing reaches the user's
//! scope; `#[allow(deprecated)]` or `#![deny(deprecated)]` around the
//! declaration apply as to any deprecation.

use proc_macro2::{Ident, TokenStream};
use quote::quote_spanned;

use crate::infer::Note;
use crate::plan::Plan;

/// One `const _` block per note, under the declaration's `#[cfg]`s.
pub(crate) fn notes(plan: &Plan) -> TokenStream {
    let typed = plan.typed;
    let cfgs: Vec<_> = (typed.net.header.attrs.iter())
        .filter(|a| a.path().is_ident("cfg"))
        .collect();
    typed
        .notes
        .iter()
        .map(
            |Note {
                 name,
                 span,
                 message,
             }| {
                let ident = Ident::new(name, *span);
                quote_spanned! {*span=>
                    #(#cfgs)*
                    const _: () = {
                        #[deprecated(note = #message)]
                        #[allow(non_upper_case_globals)]
                        const #ident: () = ();
                        #ident
                    };
                }
            },
        )
        .collect()
}
