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

    /// Names of the items in `tokens` (at any depth) that start with `__`
    /// and lack `#[doc(hidden)]`.
    fn undocumented_private_items(tokens: TokenStream) -> Vec<String> {
        const ITEM: [&str; 8] = [
            "fn", "const", "static", "struct", "enum", "type", "trait", "mod",
        ];
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut found = Vec::new();
        // Whether the item being read so far carries `#[doc(hidden)]`; an
        // item ends at a `;` or a brace-delimited body.
        let mut hidden = false;
        for (i, tree) in trees.iter().enumerate() {
            match tree {
                TokenTree::Group(group) => {
                    found.extend(undocumented_private_items(group.stream()));
                    if group.delimiter() == proc_macro2::Delimiter::Bracket
                        && i > 0
                        && matches!(&trees[i - 1], TokenTree::Punct(p) if p.as_char() == '#')
                        && group.stream().to_string().replace(' ', "") == "doc(hidden)"
                    {
                        hidden = true;
                    } else if group.delimiter() == proc_macro2::Delimiter::Brace {
                        hidden = false;
                    }
                }
                TokenTree::Punct(p) if p.as_char() == ';' => hidden = false,
                TokenTree::Ident(keyword) if ITEM.contains(&keyword.to_string().as_str()) => {
                    if let Some(TokenTree::Ident(name)) = trees.get(i + 1)
                        && name.to_string().starts_with("__")
                        && !hidden
                    {
                        found.push(name.to_string());
                    }
                }
                TokenTree::Ident(_) | TokenTree::Punct(_) | TokenTree::Literal(_) => {}
            }
        }
        found
    }

    #[test]
    fn generated_items_named_with_two_underscores_are_hidden_from_docs() {
        // Every layer family, a residual block, a loss head and the note:
        // the emitters of all of them run.
        let invocation: crate::ast::Invocation = syn::parse_str(
            "pub struct A: [1, 8, 8] => conv(4, 3, pad = 1) -> batchnorm -> relu \
                 -> residual(conv(4, 3, pad = 1) -> relu) -> pool(2) -> dropout(0.5) \
                 -> flatten -> affine(8) -> prelu -> affine(3) -> softmax
             pub struct B: [2, 6] => conv1d(3, 3) -> silu -> global_avgpool -> affine(2)",
        )
        .unwrap();
        let tokens = crate::expand(&invocation);
        assert!(tokens.to_string().contains("__pass"));
        assert!(tokens.to_string().contains("__HIDDEN"));
        assert_eq!(undocumented_private_items(tokens), Vec::<String>::new());
        let leak: TokenStream = "impl N { pub fn __leak() {} #[doc(hidden)] fn __ok() {} }"
            .parse()
            .unwrap();
        assert_eq!(undocumented_private_items(leak), ["__leak"]);
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
