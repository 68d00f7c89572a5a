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

pub(crate) fn expected_flag(what: &str, found: &str) -> String {
    format!("{what} must be `true` or `false`, found `{found}`")
}

pub(crate) fn expected_pad2(found: &str) -> String {
    format!(
        "pad must be a whole number, a pair `(height, width)`, per-side pairs \
         `((top, bottom), (left, right))`, `same` or `valid`, found `{found}`"
    )
}

pub(crate) fn expected_pad1(found: &str) -> String {
    format!(
        "pad must be a whole number, a pair `(left, right)`, `same` or `valid`, found `{found}`"
    )
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
/// `window` is `kernel` or `pool size`.
pub(crate) fn pad_not_smaller(window: &str, axis: Option<&str>, pad: usize, size: usize) -> String {
    match axis {
        Some(axis) => {
            format!("{axis} padding {pad} must be smaller than the {window} {axis} {size}")
        }
        None => format!("padding {pad} must be smaller than the {window} {size}"),
    }
}

pub(crate) fn bad_input_rank(found: usize) -> String {
    format!(
        "input shape must be [features], [channels, length] or [channels, height, width], \
         found {found} dimensions"
    )
}

pub(crate) fn bad_output_rank(found: usize) -> String {
    format!(
        "output shape must be [features], [channels, length] or [channels, height, width], \
         found {found} dimensions"
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

/// A residual block without a shortcut whose main path changes the shape.
pub(crate) fn residual_needs_shortcut(main: &Shape, input: &Shape) -> String {
    format!(
        "its main path gives {main}, which cannot be added to its input {input}; map the input \
         with a shortcut, such as `shortcut = conv(…, 1, stride = …)`"
    )
}

/// A residual block whose two paths end in different shapes.
pub(crate) fn residual_paths_differ(main: &Shape, shortcut: &Shape) -> String {
    format!("its main path gives {main} and its shortcut {shortcut}, which cannot be added")
}

pub(crate) fn softmax_in_block() -> &'static str {
    "softmax must be the last layer of the network, not of a residual path"
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

/// The note on a network shaped like a classifier (several outputs from a
/// last `affine`) that trains with the mean squared error only because it
/// declares no loss; emitted as a warning, not an error.
pub(crate) fn mse_by_default(last: &str) -> String {
    format!(
        "this network ends in `{last}` without softmax and trains with mean squared error on \
         its outputs; end it with `-> softmax` for classification, or write `loss = mse` to \
         keep MSE and silence this"
    )
}

/// A layer needing `[channels, height, width]` got another rank.
pub(crate) fn needs_image(producer: Option<&str>, found: Shape) -> String {
    let hint = match found {
        Shape::Seq { .. } => "; the 1-D layers are `conv1d`, `pool1d` and `avgpool1d`",
        Shape::Flat(_) | Shape::Image { .. } => "",
    };
    format!(
        "it needs [channels, height, width], and {}{hint}",
        produced(producer, found)
    )
}

/// A 1-D layer got something other than `[channels, length]`.
pub(crate) fn needs_seq(producer: Option<&str>, found: Shape) -> String {
    format!(
        "it needs [channels, length], and {}",
        produced(producer, found)
    )
}

/// A pooling layer that needs channels got a flat vector.
pub(crate) fn needs_channels(producer: Option<&str>, found: Shape) -> String {
    format!(
        "it needs [channels, height, width] or [channels, length], and {}",
        produced(producer, found)
    )
}

fn produced(producer: Option<&str>, found: Shape) -> String {
    let what = match found {
        Shape::Flat(_) => "a flat vector".to_string(),
        Shape::Seq { .. } | Shape::Image { .. } => found.to_string(),
    };
    match producer {
        Some(p) => format!("`{p}` produced {what}"),
        None => format!("the network input is {what}"),
    }
}

pub(crate) fn groups_do_not_divide(channels: usize, filters: usize, groups: usize) -> String {
    format!(
        "{filters} filters and {channels} channels must both be divisible by `groups = {groups}`"
    )
}

/// A sliding window as messages describe it.
pub(crate) struct Window {
    /// `kernel` or `pool size`.
    pub(crate) word: &'static str,
    pub(crate) size: usize,
    pub(crate) dilation: usize,
    pub(crate) stride: usize,
}

impl Window {
    /// `kernel 3`, or `kernel 3 at dilation 2`.
    fn named(&self) -> String {
        match self.dilation {
            1 => format!("{} {}", self.word, self.size),
            d => format!("{} {} at dilation {d}", self.word, self.size),
        }
    }
}

/// The padded extent as a sum: `28 + 2*1`, or `28 + 0 + 1` for uneven sides.
pub(crate) fn padded_sum(input: usize, before: usize, after: usize) -> String {
    if before == after {
        format!("{input} + 2*{before}")
    } else {
        format!("{input} + {before} + {after}")
    }
}

/// A window wider than its (padded) input. `padded` says whether the input
/// is described as padded (always for kernels, for pools only when padded).
pub(crate) fn window_too_big(
    window: &Window,
    axis: &str,
    extent: usize,
    sum: &str,
    padded: bool,
) -> String {
    let span = window
        .size
        .saturating_sub(1)
        .saturating_mul(window.dilation)
        .saturating_add(1);
    let name = match window.dilation {
        1 => format!("{} is larger than", window.named()),
        _ => format!("{} spans {span}, more than", window.named()),
    };
    if padded {
        format!("{name} the padded {axis} {extent} ({sum})")
    } else {
        format!("{name} the {axis} {extent}")
    }
}

/// How to make a window that does not tile its input legal.
const WAYS_OUT: &str =
    "use `round = floor` to drop it, as PyTorch does, or `pad = same` to pad it, as Keras does";

pub(crate) fn pool_remainder(axis: &str, input: usize, size: usize) -> String {
    format!(
        "{axis} {input} is not divisible by pool size {size} ({input} % {size} = {}); {WAYS_OUT}",
        input % size.max(1)
    )
}

/// The last window hangs over the end: `(padded - span) % stride != 0`.
pub(crate) fn partial_window(
    window: &Window,
    axis: &str,
    sum: &str,
    span: usize,
    rest: usize,
) -> String {
    let stride = window.stride;
    let at = match window.dilation {
        1 => format!("{} {} at stride {stride}", window.word, window.size),
        d => format!(
            "{} {} at dilation {d} and stride {stride}",
            window.word, window.size
        ),
    };
    format!(
        "{at} leaves a partial window along the {axis} (({sum} - {span}) % {stride} = {rest}); {WAYS_OUT}"
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

pub(crate) fn underivable(name: &str) -> String {
    format!(
        "`network!` cannot derive `{name}`: a network implements `Debug` (a summary) and \
         `Clone` itself, which `#[derive(Debug, Clone)]` may name; anything else needs an \
         `impl` written by hand"
    )
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

pub(crate) fn empty_residual() -> &'static str {
    "a residual block needs its main path: `residual(conv(8, 3, pad = 1) -> relu)`"
}

pub(crate) fn residual_option() -> &'static str {
    "expected `shortcut = …` after the main path of a residual block"
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
