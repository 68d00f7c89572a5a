//! `ast::NetworkDef` → [`Network`]: layer names, arity, argument values,
//! the input shape, options, and layer-order rules.
//!
//! After `lower`, every layer has a validated kind and every option a value,
//! and every node still carries the tokens it came from for diagnostics.
//! Errors here do not depend on each other, so all of them are collected and
//! reported in one compile.

use proc_macro2::TokenStream;
use quote::ToTokens;

use crate::ast::{self, Body, Header, ShapeLit, Value};
use crate::diag::{self, Errors};
use crate::layers::{self, LayerKind, args};
use crate::vocab::{Init, Loss, Shape};

/// A network after lowering: what it means, independent of how it was spelled.
pub(crate) struct Network<'a> {
    pub(crate) header: &'a Header,
    pub(crate) input: Shape,
    pub(crate) chain: Vec<Node>,
    pub(crate) output: Option<(Shape, TokenStream)>,
    pub(crate) loss: Option<(Loss, TokenStream)>,
    /// A network-wide weight initializer, overriding the per-activation default.
    pub(crate) init: Option<Init>,
}

/// One element of a chain after lowering.
pub(crate) enum Node {
    Layer(Layer),
    Residual(Block),
}

/// A residual block after lowering.
pub(crate) struct Block {
    pub(crate) main: Vec<Node>,
    /// `None`: the identity.
    pub(crate) shortcut: Option<Vec<Node>>,
    /// `residual(…)` as written: what block errors underline.
    pub(crate) tokens: TokenStream,
    /// The block as written, normalized.
    pub(crate) text: String,
}

/// One layer after lowering.
pub(crate) struct Layer {
    pub(crate) kind: LayerKind,
    /// The kind's canonical name (`affine` for `dense(10)`), which buffer
    /// names and summaries use.
    pub(crate) word: &'static str,
    /// Name plus argument group, as written: what shape errors underline.
    pub(crate) tokens: TokenStream,
    /// The layer as written, normalized: `conv(30, 5)`.
    pub(crate) text: String,
}

/// The derives a declaration may name: `Debug` and `Clone`, which every
/// network implements (so the emitted struct drops its `#[derive]`s).
const DERIVED: [&str; 2] = ["Debug", "Clone"];

/// Refuses every derive but [`DERIVED`]: the parameters live in a storage
/// buffer that implements little, and a derived `Debug` would dump them all.
fn derives(header: &Header, errs: &mut Errors) {
    for attr in header.attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let parsed = attr.parse_args_with(
            syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
        );
        match parsed {
            Ok(paths) => {
                for path in paths {
                    let name = path.segments.last().map(|s| s.ident.to_string());
                    if !name.as_deref().is_some_and(|n| DERIVED.contains(&n)) {
                        let shown = path.to_token_stream().to_string();
                        errs.at(&path, diag::underivable(&shown.replace(' ', "")));
                    }
                }
            }
            Err(e) => errs.at(attr, e),
        }
    }
}

pub(crate) fn lower<'a>(header: &'a Header, body: &Body) -> syn::Result<Network<'a>> {
    let mut errs = Errors::default();
    derives(header, &mut errs);
    let input = shape(&body.input, &mut errs, diag::bad_input_rank);
    let output = body
        .output
        .as_ref()
        .and_then(|o| shape(o, &mut errs, diag::bad_output_rank).map(|s| (s, o.tokens.clone())));

    // Order rules need every layer; skip them if a layer failed to lower,
    // since a missing layer would shift what "last" means.
    let chain = lower_chain(&body.layers, &mut errs);
    let complete = chain.is_some();
    let chain = chain.unwrap_or_default();
    if complete {
        softmax_last(&chain, true, &mut errs);
    }

    let mut loss = None;
    let mut init = None;
    for option in &body.options {
        let key = option.key.to_string();
        let seen = match key.as_str() {
            "loss" => loss.is_some(),
            "init" => init.is_some(),
            _ => {
                errs.at(&option.key, diag::unknown_option(&key));
                continue;
            }
        };
        if seen {
            errs.at(&option.key, diag::duplicate_option(&key));
            continue;
        }
        if key == "loss" {
            loss =
                lower_loss(&option.value, &mut errs).map(|l| (l, option.value.to_token_stream()));
        } else {
            init = args::init(&option.value, &mut errs);
        }
    }
    if complete && let (Some((kind, tokens)), Some(last)) = (&loss, chain.last()) {
        let needs = match kind {
            Loss::CrossEntropy => Some("softmax"),
            Loss::BinaryCrossEntropy => Some("sigmoid"),
            Loss::MeanSquaredError => None,
        };
        let (word, text) = match last {
            Node::Layer(layer) => (layer.word, layer.text.as_str()),
            Node::Residual(block) => ("residual", block.text.as_str()),
        };
        if let Some(needs) = needs
            && word != needs
        {
            let name = Loss::NAMES[*kind as usize];
            errs.at(tokens, diag::loss_needs_last(name, needs, text));
        }
    }

    let net = Network {
        header,
        input: input.unwrap_or(Shape::Flat(1)),
        chain,
        output,
        loss,
        init,
    };
    errs.finish(net)
}

/// Lowers every node of a chain, recording every error; `None` if any
/// failed.
fn lower_chain(nodes: &[ast::Node], errs: &mut Errors) -> Option<Vec<Node>> {
    let mut chain = Vec::with_capacity(nodes.len());
    let mut complete = true;
    for node in nodes {
        let lowered = match node {
            ast::Node::Layer(call) => layers::lower(call, errs).map(|lowered| {
                Node::Layer(Layer {
                    kind: lowered.kind,
                    word: lowered.word,
                    tokens: call.tokens.clone(),
                    text: call.text(),
                })
            }),
            ast::Node::Residual(block) => {
                let main = lower_chain(&block.main, errs);
                let shortcut = match &block.shortcut {
                    None => Some(None),
                    Some(s) => lower_chain(s, errs).map(Some),
                };
                match (main, shortcut) {
                    (Some(main), Some(shortcut)) => Some(Node::Residual(Block {
                        main,
                        shortcut,
                        tokens: block.tokens.clone(),
                        text: block.text(),
                    })),
                    _ => None,
                }
            }
        };
        match lowered {
            Some(node) => chain.push(node),
            None => complete = false,
        }
    }
    complete.then_some(chain)
}

/// Softmax must be the network's last layer: never followed by another
/// layer, never inside a residual block.
fn softmax_last(chain: &[Node], top: bool, errs: &mut Errors) {
    for (i, node) in chain.iter().enumerate() {
        match node {
            Node::Layer(layer) if layer.kind == LayerKind::Softmax => match chain.get(i + 1) {
                Some(next) => {
                    let (tokens, text) = match next {
                        Node::Layer(l) => (&l.tokens, l.text.as_str()),
                        Node::Residual(b) => (&b.tokens, b.text.as_str()),
                    };
                    errs.at(tokens, diag::softmax_not_last(text));
                }
                None if !top => errs.at(&layer.tokens, diag::softmax_in_block()),
                None => {}
            },
            Node::Layer(_) => {}
            Node::Residual(block) => {
                softmax_last(&block.main, false, errs);
                if let Some(shortcut) = &block.shortcut {
                    softmax_last(shortcut, false, errs);
                }
            }
        }
    }
}

fn lower_loss(value: &Value, errs: &mut Errors) -> Option<Loss> {
    let found = value.text();
    match value {
        Value::Word(w) => match Loss::from_name(&w.to_string()) {
            Some(l) => Some(l),
            None => {
                errs.at(value, diag::unknown_name("loss", &found, &Loss::NAMES));
                None
            }
        },
        _ => {
            errs.at(value, diag::unknown_name("loss", &found, &Loss::NAMES));
            None
        }
    }
}

/// A shape literal: `[features]` or `[channels, height, width]`, all at least 1.
fn shape(lit: &ShapeLit, errs: &mut Errors, rank_msg: fn(usize) -> String) -> Option<Shape> {
    let mut dims = Vec::with_capacity(lit.dims.len());
    let mut ok = true;
    for dim in &lit.dims {
        match dim.base10_parse::<usize>() {
            Ok(0) => {
                errs.at(dim, diag::zero_dimension(&dim.to_string()));
                ok = false;
            }
            Ok(n) => dims.push(n),
            Err(_) => {
                errs.at(dim, diag::too_large("dimension", &dim.to_string()));
                ok = false;
            }
        }
    }
    let shape = match lit.dims.len() {
        1 => dims.first().map(|&n| Shape::Flat(n)),
        2 if dims.len() == 2 => Some(Shape::Seq {
            c: dims[0],
            l: dims[1],
        }),
        3 if dims.len() == 3 => Some(Shape::Image {
            c: dims[0],
            h: dims[1],
            w: dims[2],
        }),
        2 | 3 => None,
        n => {
            errs.at(&lit.tokens, rank_msg(n));
            return None;
        }
    };
    // Every later stage counts elements; establish here that this count fits.
    if let Some(s) = shape
        && s.len().is_none()
    {
        errs.at(&lit.tokens, diag::shape_overflow(&dims));
        return None;
    }
    if ok { shape } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::Invocation;

    /// Every layer in declaration order: a block's main path, then its
    /// shortcut.
    fn flatten<'a>(chain: &'a [Node], out: &mut Vec<&'a Layer>) {
        for node in chain {
            match node {
                Node::Layer(layer) => out.push(layer),
                Node::Residual(block) => {
                    flatten(&block.main, out);
                    if let Some(shortcut) = &block.shortcut {
                        flatten(shortcut, out);
                    }
                }
            }
        }
    }

    fn lower_src(src: &str) -> Result<Vec<String>, String> {
        let inv: Invocation = syn::parse_str(src).unwrap();
        let def = &inv.networks[0];
        let body = def.body.as_ref().unwrap();
        match lower(&def.header, body) {
            Ok(net) => {
                let mut layers = Vec::new();
                flatten(&net.chain, &mut layers);
                Ok(layers.iter().map(|l| l.text.clone()).collect())
            }
            Err(e) => Err(e
                .into_iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join(" | ")),
        }
    }

    #[test]
    fn lower_keeps_layers_as_written() {
        assert_eq!(
            lower_src("struct N: [1, 28, 28] => conv(30,5) -> relu -> pool(2)").unwrap(),
            ["conv(30, 5)", "relu", "pool(2)"]
        );
    }

    #[test]
    fn input_rank_is_checked() {
        assert_eq!(
            lower_src("struct N: [1, 1, 28, 28] => relu").unwrap_err(),
            "input shape must be [features], [channels, length] or [channels, height, width], \
             found 4 dimensions"
        );
        assert_eq!(
            lower_src("struct N: [1, 0, 28] => relu").unwrap_err(),
            "shape dimensions must be at least 1, found 0"
        );
    }

    #[test]
    fn shape_element_count_must_fit() {
        assert_eq!(
            lower_src("struct N: [4294967296, 4294967296, 2] => relu").unwrap_err(),
            "shape [4294967296, 4294967296, 2] has too many elements \
             (4294967296 * 4294967296 * 2 overflows usize)"
        );
        assert!(lower_src("struct N: [4294967296, 4294967295, 1] => relu").is_ok());
    }

    #[test]
    fn softmax_must_be_last() {
        assert_eq!(
            lower_src("struct N: [4] => softmax -> affine(10)").unwrap_err(),
            "`affine(10)` follows `softmax`; softmax must be the last layer"
        );
    }

    #[test]
    fn independent_errors_are_collected() {
        let err = lower_src("struct N: [4] => affine(0) -> relu(2) -> sigmod").unwrap_err();
        let errs: Vec<&str> = err.split(" | ").collect();
        assert_eq!(
            errs[..2],
            [
                "outputs must be at least 1, found 0",
                "`relu` takes no positional arguments, found 1"
            ]
        );
        let expected = crate::layers::canonical_names()
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        assert_eq!(
            errs[2],
            format!("unknown layer `sigmod`; expected one of {expected} (did you mean `sigmoid`?)")
        );
    }

    #[test]
    fn options_are_checked() {
        assert!(lower_src("struct N: [4] => affine(1), loss = mse, init = he_uniform").is_ok());
        assert_eq!(
            lower_src("struct N: [4] => affine(1), loss = hinge").unwrap_err(),
            "unknown loss `hinge`; expected one of `cross_entropy`, `bce`, `mse`"
        );
        assert_eq!(
            lower_src("struct N: [4] => affine(1), lr = 3").unwrap_err(),
            "unknown option `lr`; expected `loss` or `init`"
        );
        assert_eq!(
            lower_src("struct N: [4] => affine(2), loss = cross_entropy").unwrap_err(),
            "`loss = cross_entropy` needs `softmax` as the last layer, found `affine(2)`"
        );
        assert_eq!(
            lower_src("struct N: [4] => affine(1), loss = mse, loss = mse").unwrap_err(),
            "option `loss` is given twice"
        );
    }
}
