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
mod plan;
mod vocab;

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

#[cfg(test)]
mod tests {
    use proc_macro2::{TokenStream, TokenTree};

    /// `#[doc = …]` attributes anywhere in `tokens` whose text contains `line`.
    fn docs_containing(tokens: TokenStream, line: &str) -> usize {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut count = 0;
        for pair in trees.windows(2) {
            if let [TokenTree::Punct(hash), TokenTree::Group(group)] = pair
                && hash.as_char() == '#'
            {
                let meta: syn::Meta = match syn::parse2(group.stream()) {
                    Ok(meta) => meta,
                    Err(_) => continue,
                };
                if let syn::Meta::NameValue(nv) = meta
                    && nv.path.is_ident("doc")
                    && quote::ToTokens::to_token_stream(&nv.value)
                        .to_string()
                        .contains(line)
                {
                    count += 1;
                }
            }
        }
        count
            + trees
                .iter()
                .filter_map(|t| match t {
                    TokenTree::Group(g) => Some(docs_containing(g.stream(), line)),
                    _ => None,
                })
                .sum::<usize>()
    }

    #[test]
    fn a_doc_comment_appears_once_in_the_generated_code() {
        let invocation: crate::ast::Invocation =
            syn::parse_str("/// Counts to two.\nstruct N: [2] => affine(1)").unwrap();
        assert_eq!(
            docs_containing(crate::expand(&invocation), "Counts to two."),
            1
        );
    }
}
