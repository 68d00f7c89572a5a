//! The error collector and the wording of every diagnostic.
//!
//! All user-facing text lives here, so ui snapshots, the `network!` docs and
//! the code use the same words. Messages follow rustc: lowercase, no
//! trailing period, code in backticks.
//!
//! Depends on nothing but the shared vocabulary: every stage may report
//! through it.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;

use crate::vocab::Shape;

/// Errors that do not depend on each other, reported together in one compile.
#[must_use = "call `finish`, or the collected errors are silently dropped"]
#[derive(Default)]
pub(crate) struct Errors {
    combined: Option<syn::Error>,
}

impl Errors {
    /// Records an error spanning `tokens`.
    pub(crate) fn at(&mut self, tokens: impl ToTokens, msg: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, msg));
    }

    /// Records an already built error.
    pub(crate) fn push(&mut self, err: syn::Error) {
        match &mut self.combined {
            Some(all) => all.combine(err),
            None => self.combined = Some(err),
        }
    }

    /// `value` if nothing was recorded, else every recorded error.
    pub(crate) fn finish<T>(self, value: T) -> syn::Result<T> {
        self.combined.map_or(Ok(value), Err)
    }
}

/// Frame for every shape failure: which layer, what it received, why it fails.
/// `tokens` and `text` are the layer as written.
pub(crate) fn cannot_take_input(
    tokens: &TokenStream,
    text: &str,
    input: &Shape,
    why: &str,
) -> syn::Error {
    syn::Error::new_spanned(tokens, format!("`{text}` cannot take input {input}: {why}"))
}

/// An internal invariant broke; never the user's fault.
pub(crate) fn internal(what: &str) -> syn::Error {
    syn::Error::new(
        Span::call_site(),
        format!("internal error in network!: {what}; please report"),
    )
}

pub(crate) fn unknown_layer(name: &str, suggestion: Option<&str>, known: &[&str]) -> String {
    let list = known
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match suggestion {
        Some(s) => format!("unknown layer `{name}`; expected one of {list} (did you mean `{s}`?)"),
        None => format!("unknown layer `{name}`; expected one of {list}"),
    }
}

pub(crate) fn wrong_arity(layer: &str, expected: &[&str], optional: usize, found: usize) -> String {
    if expected.is_empty() {
        return format!("`{layer}` takes no positional arguments, found {found}");
    }
    let names = expected.join(", ");
    let count = if optional > 0 {
        format!("{} to {}", expected.len() - optional, expected.len())
    } else {
        expected.len().to_string()
    };
    let plural = if expected.len() == 1 && optional == 0 {
        ""
    } else {
        "s"
    };
    format!("`{layer}` takes {count} positional argument{plural} ({names}), found {found}")
}

pub(crate) fn unknown_argument(name: &str, layer: &str, known: &[&str]) -> String {
    match known {
        [] => format!("unknown argument `{name}` for `{layer}`; it takes no named arguments"),
        [one] => format!("unknown argument `{name}` for `{layer}`; expected `{one}`"),
        [init @ .., last] => {
            let list = init
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ");
            format!("unknown argument `{name}` for `{layer}`; expected {list} or `{last}`")
        }
    }
}

pub(crate) fn duplicate_argument(name: &str, layer: &str) -> String {
    format!("argument `{name}` of `{layer}` is given twice")
}

pub(crate) fn positional_after_named(layer: &str) -> String {
    format!("positional arguments of `{layer}` must come before named ones")
}

pub(crate) fn expected_integer(what: &str, found: &str) -> String {
    format!("{what} must be a whole number, found `{found}`")
}

pub(crate) fn expected_extent(what: &str, found: &str) -> String {
    format!("{what} must be a whole number or a pair `(height, width)`, found `{found}`")
}

pub(crate) fn expected_number(what: &str, found: &str) -> String {
    format!("{what} must be a number, found `{found}`")
}

pub(crate) fn at_least_one(what: &str, found: usize) -> String {
    format!("{what} must be at least 1, found {found}")
}

pub(crate) fn out_of_range(what: &str, range: &str, found: &str) -> String {
    format!("{what} must be in {range}, found {found}")
}

pub(crate) fn too_large(what: &str, found: &str) -> String {
    format!("{what} `{found}` does not fit in usize")
}

/// `axis` is `None` when one number sets both axes, so the error is reported once.
pub(crate) fn pad_not_smaller(axis: Option<&str>, pad: usize, kernel: usize) -> String {
    match axis {
        Some(axis) => {
            format!("{axis} padding {pad} must be smaller than the kernel {axis} {kernel}")
        }
        None => format!("padding {pad} must be smaller than the kernel {kernel}"),
    }
}

pub(crate) fn bad_input_rank(found: usize) -> String {
    format!("input shape must be [features] or [channels, height, width], found {found} dimensions")
}

pub(crate) fn bad_output_rank(found: usize) -> String {
    format!(
        "output shape must be [features] or [channels, height, width], found {found} dimensions"
    )
}

pub(crate) fn zero_dimension(found: &str) -> String {
    format!("shape dimensions must be at least 1, found {found}")
}

pub(crate) fn shape_overflow(dims: &[usize]) -> String {
    let list = dims.iter().map(usize::to_string).collect::<Vec<_>>();
    format!(
        "shape [{}] has too many elements ({} overflows usize)",
        list.join(", "),
        list.join(" * ")
    )
}

pub(crate) fn softmax_not_last(next: &str) -> String {
    format!("`{next}` follows `softmax`; softmax must be the last layer")
}

pub(crate) fn output_mismatch(asserted: &Shape, found: &Shape, last: &str) -> String {
    format!("expected output {asserted}, found {found} (the output of `{last}`)")
}

pub(crate) fn unknown_option(name: &str) -> String {
    format!("unknown option `{name}`; expected `loss` or `init`")
}

pub(crate) fn duplicate_option(name: &str) -> String {
    format!("option `{name}` is given twice")
}

pub(crate) fn unknown_name(what: &str, found: &str, known: &[&str]) -> String {
    let list = known
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("unknown {what} `{found}`; expected one of {list}")
}

pub(crate) fn loss_needs_last(loss: &str, needs: &str, last: &str) -> String {
    format!("`loss = {loss}` needs `{needs}` as the last layer, found `{last}`")
}

pub(crate) fn spatial_after_flat(producer: Option<&str>) -> String {
    match producer {
        Some(p) => format!("it needs [channels, height, width], and `{p}` produced a flat vector"),
        None => "it needs [channels, height, width], and the network input is a flat vector".into(),
    }
}

/// A convolution kernel wider than its padded input; the padding is shown
/// even when it is 0, so the arithmetic always reads the same.
pub(crate) fn kernel_too_big(axis: &str, kernel: usize, input: usize, pad: usize) -> String {
    let padded = input.saturating_add(pad.saturating_mul(2));
    format!("kernel {kernel} is larger than the padded {axis} {padded} ({input} + 2*{pad})")
}

/// A pooling window wider than its (never padded) input.
pub(crate) fn window_too_big(axis: &str, size: usize, input: usize) -> String {
    format!("pool size {size} is larger than the {axis} {input}")
}

pub(crate) fn pool_remainder(axis: &str, input: usize, size: usize) -> String {
    format!(
        "{axis} {input} is not divisible by pool size {size} ({input} % {size} = {})",
        input % size.max(1)
    )
}

/// The last window hangs over the end: `(input + 2*pad - kernel) % stride != 0`.
/// `what` names the window (`kernel`, `pool size`); pools have no padding term.
pub(crate) fn partial_window(
    what: &str,
    axis: &str,
    input: usize,
    pad: Option<usize>,
    kernel: usize,
    stride: usize,
) -> String {
    let padded = input.saturating_add(pad.unwrap_or(0).saturating_mul(2));
    let rest = padded.saturating_sub(kernel) % stride.max(1);
    let sum = match pad {
        Some(pad) => format!("{input} + 2*{pad} - {kernel}"),
        None => format!("{input} - {kernel}"),
    };
    format!(
        "{what} {kernel} at stride {stride} leaves a partial window along the {axis} \
         (({sum}) % {stride} = {rest})"
    )
}

pub(crate) fn overflow(what: &str, a: usize, b: usize) -> String {
    format!("{what} {a} * {b} overflows usize")
}

pub(crate) fn size_overflow(what: &str) -> String {
    format!("{what} overflows usize")
}

/// The activations of all layers together, which the training workspace holds.
pub(crate) fn activations_overflow() -> String {
    "the activations of all layers together overflow usize (the training workspace holds each \
     layer's output, its gradient and a batch-norm copy)"
        .into()
}

// Parse errors. syn reports the first one; these replace its generic wording
// where the DSL can say what was expected.

pub(crate) fn expected_network() -> &'static str {
    "expected a network: `struct Name: [features] => affine(10)`"
}

pub(crate) fn generic_parameters() -> &'static str {
    "`network!` types take no generic parameters: the element type `E = f32` and the storage \
     `S` are added for you"
}

pub(crate) fn expected_layer(found: Option<&str>) -> String {
    match found {
        Some(found) => format!("expected a layer, such as `relu` or `affine(10)`, found `{found}`"),
        None => "expected a layer, such as `relu` or `affine(10)`".into(),
    }
}

pub(crate) fn expected_chain_continuation() -> &'static str {
    "expected `->` and a layer, `=> [shape]`, or `, option = value`"
}

pub(crate) fn normal_needs_std() -> &'static str {
    "`normal` needs its standard deviation: `normal(0.01)`"
}

pub(crate) fn normal_arity() -> &'static str {
    "`normal` takes one argument, its standard deviation: `normal(0.01)`"
}

// Post-monomorphization checks in generated code: `const` assertions on the
// sizes a caller picked, which only `cargo build` evaluates.

pub(crate) fn arena_too_small(name: &str, arena_len: usize) -> String {
    format!("the arena is smaller than {name}::ARENA_LEN ({arena_len} elements)")
}

pub(crate) fn fixed_workspace_too_small(name: &str) -> String {
    format!(
        "the FixedWorkspace is too small for this batch: size it with {name}::workspace_len(B), \
         {name}::index_len(B) and {name}::STORE_LEN"
    )
}

/// Span of the first token, for errors that must point at one spot.
pub(crate) fn span_of(tokens: &TokenStream) -> Span {
    tokens
        .clone()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span())
}
