//! Code generation: [`Plan`] → `TokenStream`. Cannot fail.
//!
//! Generated code names runtime items by absolute paths
//! (`::constnet::__private::rt::…`), emits straight-line calls of
//! const-generic kernels with the literal sizes `infer` computed, and puts
//! each layer's calls under that layer's span so a rejected call points at
//! the layer in the DSL.

mod backward;
mod fallback;
mod forward;
mod item;
mod pass;

pub(crate) use fallback::fallback;

use proc_macro2::{Literal, Span, TokenStream};
use quote::quote;

use crate::layers::activation::Act;
use crate::model::Shape;
use crate::plan::Plan;

/// Generates everything for one network.
pub(crate) fn network(plan: &Plan) -> TokenStream {
    item::network(plan)
}

/// Path of the runtime crate in generated code.
pub(crate) fn rt() -> TokenStream {
    quote!(::constnet::__private::rt)
}

/// An unsuffixed integer literal.
pub(crate) fn lit(n: usize) -> Literal {
    Literal::usize_unsuffixed(n)
}

/// The sample type of a shape, over element type `E`: `[E; n]` or `[[[E; w]; h]; c]`.
pub(crate) fn sample_type(shape: Shape, elem: &TokenStream) -> TokenStream {
    match shape {
        Shape::Flat(n) => {
            let n = lit(n);
            quote!([#elem; #n])
        }
        Shape::Image { c, h, w } => {
            let (c, h, w) = (lit(c), lit(h), lit(w));
            quote!([[[#elem; #w]; #h]; #c])
        }
    }
}

/// An expression of the activation value for a kernel call.
pub(crate) fn act_expr(act: Act) -> TokenStream {
    let rt = rt();
    let a = quote!(#rt::kernels::activation);
    match act {
        Act::Relu => quote!(#a::Relu),
        Act::LeakyRelu(alpha) => quote!(#a::LeakyRelu(<E as #rt::Scalar>::from_f64(#alpha))),
        Act::Elu(alpha) => quote!(#a::Elu(<E as #rt::Scalar>::from_f64(#alpha))),
        Act::Sigmoid => quote!(#a::Sigmoid),
        Act::Tanh => quote!(#a::Tanh),
        Act::Step => quote!(#a::Step),
        Act::Identity => quote!(#a::Identity),
    }
}

/// `(channels, positions)` of a per-channel layer's input: `(n, 1)` for a
/// vector, `(c, h * w)` for an image.
pub(crate) fn channels_positions(shape: Shape) -> (usize, usize) {
    match shape {
        Shape::Flat(n) => (n, 1),
        Shape::Image { c, h, w } => (c, h * w),
    }
}

/// The span calls of a layer are emitted under: its first token.
pub(crate) fn layer_span(plan: &Plan, layer: usize) -> Span {
    crate::diag::span_of(&plan.typed.layers[layer].layer.tokens)
}

/// FNV-1a, for the architecture signature.
pub(crate) fn fnv1a(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
