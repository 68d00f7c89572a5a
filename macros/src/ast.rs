//! Surface syntax of `network!`: `TokenStream` → [`Invocation`].
//!
//! After parsing, every network has a header (attributes, visibility, name)
//! and either a body or the syntax error that stopped its body. Every node
//! keeps its tokens, so later stages can point at exactly what the user wrote.
//!
//! An invocation is split into networks before anything is parsed: a network
//! starts at `#`, `pub` or `struct` once the previous one has passed its own
//! `struct`, or after a `;`. So a typo in one chain still lets every other
//! network, and the header of the broken one, reach later stages.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, LitFloat, LitInt, Token, Visibility, bracketed, parenthesized};

use crate::diag;

/// Everything inside one `network! { … }`.
pub(crate) struct Invocation {
    /// Networks whose header parsed, each with its body or body error.
    pub(crate) networks: Vec<NetworkDef>,
    /// Segments whose header did not parse; they cannot be stubbed.
    pub(crate) header_errors: Vec<syn::Error>,
}

/// `#[attrs] vis struct Name:`, the part a stub type needs.
pub(crate) struct Header {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) name: Ident,
}

/// One network: its header and what followed it.
pub(crate) struct NetworkDef {
    pub(crate) header: Header,
    pub(crate) body: syn::Result<Body>,
}

/// `[1, 28, 28] => conv(30, 5) -> … => [10], loss = mse`.
pub(crate) struct Body {
    pub(crate) input: ShapeLit,
    pub(crate) layers: Vec<Node>,
    pub(crate) output: Option<ShapeLit>,
    pub(crate) options: Vec<OptionArg>,
}

/// A bracketed shape such as `[1, 28, 28]`.
pub(crate) struct ShapeLit {
    pub(crate) dims: Vec<LitInt>,
    pub(crate) tokens: TokenStream,
}

/// One element of a chain: a layer, or a residual block.
pub(crate) enum Node {
    Layer(LayerCall),
    Residual(Residual),
}

/// `residual(main -> chain)` or `residual(main -> chain, shortcut = chain)`:
/// the main path's output plus the block input (or the shortcut's output).
pub(crate) struct Residual {
    pub(crate) main: Vec<Node>,
    pub(crate) shortcut: Option<Vec<Node>>,
    /// `residual(…)` as written: what block errors underline.
    pub(crate) tokens: TokenStream,
}

/// One layer: `name` or `name(args…)`.
pub(crate) struct LayerCall {
    pub(crate) name: Ident,
    pub(crate) args: Option<ArgList>,
    /// The name plus its argument group: what shape errors underline.
    pub(crate) tokens: TokenStream,
}

/// A parenthesized argument list.
pub(crate) struct ArgList {
    pub(crate) args: Vec<Arg>,
    /// The parenthesized group, for arity errors.
    pub(crate) tokens: TokenStream,
}

/// A positional or named argument.
pub(crate) enum Arg {
    Positional(Value),
    Named { name: Ident, value: Value },
}

/// An argument value as written.
pub(crate) enum Value {
    Int {
        lit: LitInt,
        negative: bool,
        tokens: TokenStream,
    },
    Float {
        lit: LitFloat,
        negative: bool,
        tokens: TokenStream,
    },
    Tuple {
        items: Vec<Value>,
        tokens: TokenStream,
    },
    Word(Ident),
    /// `true` or `false`.
    Bool(syn::LitBool),
    /// `normal(0.01)`: a named value with arguments.
    Call {
        name: Ident,
        args: Vec<Value>,
        tokens: TokenStream,
    },
}

/// A trailing `, key = value` option of a network.
pub(crate) struct OptionArg {
    pub(crate) key: Ident,
    pub(crate) value: Value,
}

impl Value {
    /// The tokens of the value, for spans.
    pub(crate) fn tokens(&self) -> TokenStream {
        match self {
            Value::Int { tokens, .. }
            | Value::Float { tokens, .. }
            | Value::Tuple { tokens, .. }
            | Value::Call { tokens, .. } => tokens.clone(),
            Value::Word(ident) => ident.to_token_stream(),
            Value::Bool(lit) => lit.to_token_stream(),
        }
    }

    /// The value as the user wrote it, normalized (`(3, 5)`, `-0.1`).
    pub(crate) fn text(&self) -> String {
        match self {
            Value::Int { lit, negative, .. } => {
                format!("{}{}", if *negative { "-" } else { "" }, lit)
            }
            Value::Float { lit, negative, .. } => {
                format!("{}{}", if *negative { "-" } else { "" }, lit)
            }
            Value::Tuple { items, .. } => {
                let parts: Vec<String> = items.iter().map(Value::text).collect();
                format!("({})", parts.join(", "))
            }
            Value::Word(ident) => ident.to_string(),
            Value::Bool(lit) => lit.value.to_string(),
            Value::Call { name, args, .. } => {
                let parts: Vec<String> = args.iter().map(Value::text).collect();
                format!("{name}({})", parts.join(", "))
            }
        }
    }
}

impl Arg {
    pub(crate) fn text(&self) -> String {
        match self {
            Arg::Positional(v) => v.text(),
            Arg::Named { name, value } => format!("{name} = {}", value.text()),
        }
    }
}

impl Node {
    /// The node as written, normalized.
    pub(crate) fn text(&self) -> String {
        match self {
            Node::Layer(call) => call.text(),
            Node::Residual(block) => block.text(),
        }
    }
}

/// `a -> b -> c`, normalized.
pub(crate) fn chain_text(chain: &[Node]) -> String {
    chain
        .iter()
        .map(Node::text)
        .collect::<Vec<_>>()
        .join(" -> ")
}

impl Residual {
    /// `residual(a -> b, shortcut = c)`, normalized.
    pub(crate) fn text(&self) -> String {
        match &self.shortcut {
            None => format!("residual({})", chain_text(&self.main)),
            Some(s) => format!(
                "residual({}, shortcut = {})",
                chain_text(&self.main),
                chain_text(s)
            ),
        }
    }
}

impl LayerCall {
    /// The layer as written, normalized: `conv(30, 5, stride = 2)`.
    pub(crate) fn text(&self) -> String {
        match &self.args {
            None => self.name.to_string(),
            Some(list) => {
                let parts: Vec<String> = list.args.iter().map(Arg::text).collect();
                format!("{}({})", self.name, parts.join(", "))
            }
        }
    }
}

impl Parse for Invocation {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let tokens: TokenStream = input.parse()?;
        let mut networks = Vec::new();
        let mut header_errors = Vec::new();
        for segment in split_networks(tokens) {
            match parse_network.parse2(segment) {
                Ok(def) => networks.push(def),
                Err(err) => header_errors.push(err),
            }
        }
        if networks.is_empty() && header_errors.is_empty() {
            return Err(syn::Error::new(Span::call_site(), diag::expected_network()));
        }
        Ok(Invocation {
            networks,
            header_errors,
        })
    }
}

/// Splits an invocation into one token stream per network.
fn split_networks(tokens: TokenStream) -> Vec<TokenStream> {
    let mut segments = Vec::new();
    let mut current: Vec<TokenTree> = Vec::new();
    let mut seen_struct = false;
    for tree in tokens {
        let starts_next = match &tree {
            TokenTree::Punct(p) => p.as_char() == '#',
            TokenTree::Ident(i) => i == "pub" || i == "struct",
            _ => false,
        };
        if let TokenTree::Punct(p) = &tree
            && p.as_char() == ';'
        {
            if !current.is_empty() {
                segments.push(current.drain(..).collect());
            }
            seen_struct = false;
            continue;
        }
        if starts_next && seen_struct {
            segments.push(current.drain(..).collect());
            seen_struct = false;
        }
        if let TokenTree::Ident(i) = &tree
            && i == "struct"
        {
            seen_struct = true;
        }
        current.push(tree);
    }
    if !current.is_empty() {
        segments.push(current.into_iter().collect());
    }
    segments
}

/// Parses the header, then the body; a body error is kept, not returned.
fn parse_network(input: ParseStream) -> syn::Result<NetworkDef> {
    let attrs = input.call(Attribute::parse_outer)?;
    let vis: Visibility = input.parse()?;
    input.parse::<Token![struct]>()?;
    let name: Ident = input.parse()?;
    // Generic parameters are an error, but the name is known: keep the
    // header so the stub type still stands in for the network.
    let generics = if input.peek(Token![<]) {
        Some(input.parse::<syn::Generics>()?)
    } else {
        None
    };
    input.parse::<Token![:]>()?;
    let header = Header { attrs, vis, name };
    let body = match generics {
        Some(generics) => Err(syn::Error::new_spanned(
            generics,
            diag::generic_parameters(),
        )),
        None => parse_body(input),
    };
    if body.is_err() {
        // Swallow the rest so the caller sees the body error, not trailing tokens.
        input.parse::<TokenStream>()?;
    }
    Ok(NetworkDef { header, body })
}

fn parse_body(input: ParseStream) -> syn::Result<Body> {
    let input_shape = parse_shape(input)?;
    input.parse::<Token![=>]>()?;
    let layers = parse_chain(input)?;
    let output = if input.peek(Token![=>]) {
        input.parse::<Token![=>]>()?;
        Some(parse_shape(input)?)
    } else {
        None
    };
    let mut options = Vec::new();
    while input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
        if input.is_empty() {
            break;
        }
        let key: Ident = input.parse()?;
        input.parse::<Token![=]>()?;
        let value = parse_value(input)?;
        options.push(OptionArg { key, value });
    }
    if !input.is_empty() {
        return Err(input.error(diag::expected_chain_continuation()));
    }
    Ok(Body {
        input: input_shape,
        layers,
        output,
        options,
    })
}

fn parse_shape(input: ParseStream) -> syn::Result<ShapeLit> {
    let content;
    let bracket = bracketed!(content in input);
    let dims = Punctuated::<LitInt, Token![,]>::parse_terminated(&content)?;
    let mut tokens = TokenStream::new();
    bracket.surround(&mut tokens, |t| dims.to_tokens(t));
    Ok(ShapeLit {
        dims: dims.into_iter().collect(),
        tokens,
    })
}

/// `node -> node -> …`.
fn parse_chain(input: ParseStream) -> syn::Result<Vec<Node>> {
    let mut nodes = vec![parse_node(input)?];
    while input.peek(Token![->]) {
        input.parse::<Token![->]>()?;
        nodes.push(parse_node(input)?);
    }
    Ok(nodes)
}

/// A layer, or `residual(chain[, shortcut = chain])`.
fn parse_node(input: ParseStream) -> syn::Result<Node> {
    let is_block = input.fork().parse::<Ident>().is_ok_and(|i| i == "residual")
        && input.peek2(syn::token::Paren);
    if !is_block {
        return parse_layer(input).map(Node::Layer);
    }
    let name: Ident = input.parse()?;
    let group: proc_macro2::Group = input.parse()?;
    let mut tokens = name.to_token_stream();
    group.to_tokens(&mut tokens);
    if group.stream().is_empty() {
        return Err(syn::Error::new_spanned(&tokens, diag::empty_residual()));
    }
    let (main, shortcut) = parse_block.parse2(group.stream())?;
    Ok(Node::Residual(Residual {
        main,
        shortcut,
        tokens,
    }))
}

/// The inside of `residual(…)`.
fn parse_block(input: ParseStream) -> syn::Result<(Vec<Node>, Option<Vec<Node>>)> {
    let main = parse_chain(input)?;
    let mut shortcut = None;
    if input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
        if !input.is_empty() {
            let key: Ident = input.parse()?;
            if key != "shortcut" {
                return Err(syn::Error::new_spanned(key, diag::residual_option()));
            }
            input.parse::<Token![=]>()?;
            shortcut = Some(parse_chain(input)?);
            if input.peek(Token![,]) {
                input.parse::<Token![,]>()?;
            }
        }
    }
    if !input.is_empty() {
        return Err(input.error(diag::residual_option()));
    }
    Ok((main, shortcut))
}

fn parse_layer(input: ParseStream) -> syn::Result<LayerCall> {
    if !input.peek(Ident::peek_any) {
        return Err(not_a_layer(input));
    }
    let name: Ident = input.call(Ident::parse_any)?;
    let mut tokens = name.to_token_stream();
    let args = if input.peek(syn::token::Paren) {
        let group: proc_macro2::Group = input.parse()?;
        group.to_tokens(&mut tokens);
        let args = Punctuated::<Arg, Token![,]>::parse_terminated.parse2(group.stream())?;
        Some(ArgList {
            args: args.into_iter().collect(),
            tokens: group.to_token_stream(),
        })
    } else {
        None
    };
    Ok(LayerCall { name, args, tokens })
}

/// The error for a token where a layer should start, spanning the whole of
/// a stray `->` or `=>` rather than its first character.
fn not_a_layer(input: ParseStream) -> syn::Error {
    let fork = input.fork();
    if let Ok(arrow) = fork.parse::<Token![->]>() {
        return syn::Error::new_spanned(arrow, diag::expected_layer(Some("->")));
    }
    let fork = input.fork();
    if let Ok(arrow) = fork.parse::<Token![=>]>() {
        return syn::Error::new_spanned(arrow, diag::expected_layer(Some("=>")));
    }
    match input.fork().parse::<TokenTree>() {
        Ok(tree) => syn::Error::new_spanned(&tree, diag::expected_layer(Some(&tree.to_string()))),
        Err(_) => input.error(diag::expected_layer(None)),
    }
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(Ident) && input.peek2(Token![=]) && !input.peek2(Token![=>]) {
            let name: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            let value = parse_value(input)?;
            return Ok(Arg::Named { name, value });
        }
        Ok(Arg::Positional(parse_value(input)?))
    }
}

fn parse_value(input: ParseStream) -> syn::Result<Value> {
    if input.peek(syn::token::Paren) {
        let content;
        let paren = parenthesized!(content in input);
        let items = Punctuated::<Value, Token![,]>::parse_terminated_with(&content, parse_value)?;
        let mut tokens = TokenStream::new();
        paren.surround(&mut tokens, |t| items.to_tokens(t));
        return Ok(Value::Tuple {
            items: items.into_iter().collect(),
            tokens,
        });
    }
    if input.peek(syn::LitBool) {
        return Ok(Value::Bool(input.parse()?));
    }
    if input.peek(Ident) {
        let name: Ident = input.parse()?;
        if !input.peek(syn::token::Paren) {
            return Ok(Value::Word(name));
        }
        let content;
        let paren = parenthesized!(content in input);
        let args = Punctuated::<Value, Token![,]>::parse_terminated_with(&content, parse_value)?;
        let mut tokens = name.to_token_stream();
        paren.surround(&mut tokens, |t| args.to_tokens(t));
        return Ok(Value::Call {
            name,
            args: args.into_iter().collect(),
            tokens,
        });
    }
    let mut tokens = TokenStream::new();
    let negative = if input.peek(Token![-]) {
        let minus: Token![-] = input.parse()?;
        minus.to_tokens(&mut tokens);
        true
    } else {
        false
    };
    let lookahead = input.lookahead1();
    if lookahead.peek(LitInt) {
        let lit: LitInt = input.parse()?;
        lit.to_tokens(&mut tokens);
        Ok(Value::Int {
            lit,
            negative,
            tokens,
        })
    } else if lookahead.peek(LitFloat) {
        let lit: LitFloat = input.parse()?;
        lit.to_tokens(&mut tokens);
        Ok(Value::Float {
            lit,
            negative,
            tokens,
        })
    } else {
        Err(lookahead.error())
    }
}

impl quote::ToTokens for Value {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.extend(self.tokens());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::Delimiter;

    fn is_paren(tokens: &TokenStream) -> bool {
        matches!(
            tokens.clone().into_iter().next(),
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis
        )
    }

    fn parse(src: &str) -> Invocation {
        syn::parse_str(src).unwrap()
    }

    #[test]
    fn simple_conv_net_parses_verbatim() {
        let inv = parse(
            "pub struct SimpleConvNet: [1, 28, 28] => \
             conv(30,5) -> relu -> pool(2) -> affine(100) -> relu -> affine(10) -> softmax",
        );
        assert_eq!(inv.networks.len(), 1);
        let def = &inv.networks[0];
        assert_eq!(def.header.name, "SimpleConvNet");
        let body = def.body.as_ref().unwrap();
        let texts: Vec<String> = body.layers.iter().map(Node::text).collect();
        assert_eq!(
            texts,
            [
                "conv(30, 5)",
                "relu",
                "pool(2)",
                "affine(100)",
                "relu",
                "affine(10)",
                "softmax"
            ]
        );
        assert_eq!(body.input.dims.len(), 3);
    }

    #[test]
    fn several_networks_and_options_parse() {
        let inv = parse(
            "/// doc\n struct A: [2] => affine(1) -> step\n\
             pub(crate) struct B: [3] => affine(4, init = xavier_normal) -> tanh => [4], loss = mse;\n\
             struct C: [1, 8, 8] => conv(2, (3, 1), stride = 1, pad = 0)",
        );
        let names: Vec<String> = inv
            .networks
            .iter()
            .map(|n| n.header.name.to_string())
            .collect();
        assert_eq!(names, ["A", "B", "C"]);
        let b = inv.networks[1].body.as_ref().unwrap();
        assert!(b.output.is_some());
        assert_eq!(b.options[0].key, "loss");
        assert_eq!(b.layers[0].text(), "affine(4, init = xavier_normal)");
        let c = inv.networks[2].body.as_ref().unwrap();
        assert_eq!(c.layers[0].text(), "conv(2, (3, 1), stride = 1, pad = 0)");
        let Node::Layer(conv) = &c.layers[0] else {
            panic!("a layer")
        };
        assert!(is_paren(&conv.args.as_ref().unwrap().tokens));
    }

    #[test]
    fn body_errors_keep_the_header() {
        let inv = parse("struct Broken: [4] => affine(3) -> -> relu\nstruct Fine: [2] => relu");
        assert_eq!(inv.networks.len(), 2);
        assert!(inv.networks[0].body.is_err());
        assert!(inv.networks[1].body.is_ok());
    }

    #[test]
    fn a_missing_layer_is_named() {
        let inv = parse("struct N: [4] => affine(3) -> -> relu");
        let err = inv.networks[0].body.as_ref().err().unwrap().to_string();
        assert_eq!(
            err,
            "expected a layer, such as `relu` or `affine(10)`, found `->`"
        );
        let inv = parse("struct N: [4] => 3");
        let err = inv.networks[0].body.as_ref().err().unwrap().to_string();
        assert_eq!(
            err,
            "expected a layer, such as `relu` or `affine(10)`, found `3`"
        );
    }

    #[test]
    fn generic_parameters_keep_the_header() {
        let inv = parse("struct N<E>: [4] => affine(3)");
        assert_eq!(inv.networks[0].header.name, "N");
        let err = inv.networks[0].body.as_ref().err().unwrap().to_string();
        assert!(
            err.starts_with("`network!` types take no generic parameters"),
            "{err}"
        );
    }

    #[test]
    fn residual_blocks_nest_and_take_a_shortcut() {
        let inv = parse(
            "struct N: [3, 8, 8] => conv(4, 3, pad = 1) -> residual(conv(4, 3, pad = 1) -> relu \
             -> residual(conv(4, 1)), shortcut = conv(4, 1),) -> relu",
        );
        let body = inv.networks[0].body.as_ref().unwrap();
        assert_eq!(
            body.layers[1].text(),
            "residual(conv(4, 3, pad = 1) -> relu -> residual(conv(4, 1)), shortcut = conv(4, 1))"
        );
        let inv = parse("struct N: [4] => residual()");
        let err = inv.networks[0].body.as_ref().err().unwrap().to_string();
        assert_eq!(
            err,
            "a residual block needs its main path: `residual(conv(8, 3, pad = 1) -> relu)`"
        );
        let inv = parse("struct N: [4] => residual(relu, skip = affine(4))");
        let err = inv.networks[0].body.as_ref().err().unwrap().to_string();
        assert_eq!(
            err,
            "expected `shortcut = …` after the main path of a residual block"
        );
    }

    #[test]
    fn negative_values_parse() {
        let inv = parse("struct N: [4] => leaky_relu(alpha = -0.5)");
        let layer = &inv.networks[0].body.as_ref().unwrap().layers[0];
        assert_eq!(layer.text(), "leaky_relu(alpha = -0.5)");
    }
}
