//! On any error: the errors as `compile_error!`, plus a stub type with the
//! same visibility, name and generics, so the user's other lines that name
//! the type do not add "cannot find type" errors to the real one.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::Header;

pub(crate) fn fallback(header: &Header, errors: syn::Error) -> TokenStream {
    let compile_errors = errors.to_compile_error();
    let Header { attrs, vis, name } = header;
    let rt = super::rt();
    let doc_attrs = attrs.iter().filter(|a| a.path().is_ident("doc"));
    quote! {
        #compile_errors
        #(#doc_attrs)*
        #vis struct #name<E = f32, S = #rt::DefaultStorage>(
            ::constnet::__private::core::marker::PhantomData<(E, S)>,
        );
    }
}
