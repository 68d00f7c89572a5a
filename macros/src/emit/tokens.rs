//! Token helpers every emitter uses: runtime paths, literals, sample types.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::names;
use crate::vocab::Shape;

/// Path of the runtime crate in generated code.
pub(crate) fn rt() -> TokenStream {
    quote!(::constnet::__private::rt)
}

/// Path of `core` in generated code.
pub(crate) fn core() -> TokenStream {
    quote!(::constnet::__private::core)
}

/// An unsuffixed integer literal.
pub(crate) fn lit(n: usize) -> Literal {
    Literal::usize_unsuffixed(n)
}

/// Elements of a shape (its count was checked to fit by `lower`/`infer`).
pub(crate) fn len(shape: Shape) -> usize {
    shape.len().unwrap_or(0)
}

/// The sample type of a shape over the generated element type:
/// `[E; n]`, `[[E; l]; c]` or `[[[E; w]; h]; c]`.
pub(crate) fn sample_type(shape: Shape) -> TokenStream {
    let e = names::elem();
    match shape {
        Shape::Flat(n) => {
            let n = lit(n);
            quote!([#e; #n])
        }
        Shape::Seq { c, l } => {
            let (c, l) = (lit(c), lit(l));
            quote!([[#e; #l]; #c])
        }
        Shape::Image { c, h, w } => {
            let (c, h, w) = (lit(c), lit(h), lit(w));
            quote!([[[#e; #w]; #h]; #c])
        }
    }
}

/// `(channels, positions)` of a per-channel layer's input: `(n, 1)` for a
/// vector, `(c, l)` for a sequence, `(c, h * w)` for an image.
pub(crate) fn channels_positions(shape: Shape) -> (usize, usize) {
    match shape {
        Shape::Flat(n) => (n, 1),
        Shape::Seq { c, l } => (c, l),
        Shape::Image { c, h, w } => (c, h * w),
    }
}

/// `<E as Scalar>::from_f64(v)`: a constant of the generated element type.
pub(crate) fn scalar(v: f64) -> TokenStream {
    let (rt, e) = (rt(), names::elem());
    quote!(<#e as #rt::Scalar>::from_f64(#v))
}
