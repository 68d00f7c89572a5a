//! On any error: the errors as `compile_error!`, plus a stub type with the
//! same visibility, name and generics, so the user's other lines that name
//! the type do not add errors to the real one.
//!
//! The stub is a type alias whose array length is the block holding the
//! `compile_error!` invocations. rustc lowers that length to an error
//! constant, so the alias is an error type: every use of it — a field, a
//! parameter, `Net::<f32>::INPUT_LEN`, `Net::seeded(0).predict(&x)`, a trait
//! bound such as `Trainable` — is accepted without a further diagnostic.
//! A stub struct would stop only "cannot find type": its missing consts,
//! methods and trait impls would each add an error. (`compile_error!` in
//! type position itself expands to `()`, which does not suppress anything.)

use proc_macro2::TokenStream;
use quote::quote;

use super::names;
use super::tokens::{core, rt};
use crate::ast::Header;

pub(crate) fn fallback(header: &Header, errors: syn::Error) -> TokenStream {
    let compile_errors = errors.to_compile_error();
    let Header { attrs, vis, name } = header;
    let (rt, core) = (rt(), core());
    let (e, s) = (names::elem(), names::storage());
    let doc_attrs = attrs.iter().filter(|a| a.path().is_ident("doc"));
    quote! {
        #(#doc_attrs)*
        #vis type #name<#e = f32, #s = #rt::DefaultStorage> =
            [#core::marker::PhantomData<(#e, #s)>; { #compile_errors 0 }];
    }
}
