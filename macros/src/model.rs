//! Semantic types: what a network means, independent of how it was spelled.
//!
//! After `lower`, every layer has a known kind with validated argument values,
//! and every node still carries the tokens it came from for diagnostics.

use std::fmt;

use proc_macro2::TokenStream;

use crate::ast::Header;
use crate::layers::LayerKind;

/// A network after lowering.
pub(crate) struct Network<'a> {
    pub(crate) header: &'a Header,
    pub(crate) input: Shape,
    pub(crate) layers: Vec<Layer>,
    pub(crate) output: Option<(Shape, TokenStream)>,
    pub(crate) loss: Option<(Loss, TokenStream)>,
    /// A network-wide weight initializer, overriding the per-activation default.
    pub(crate) init: Option<Init>,
}

/// One layer after lowering.
pub(crate) struct Layer {
    pub(crate) kind: LayerKind,
    /// Name plus argument group, as written: what shape errors underline.
    pub(crate) tokens: TokenStream,
    /// The layer as written, normalized: `conv(30, 5)`.
    pub(crate) text: String,
}

/// A tensor shape: a flat vector or an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Flat(usize),
    Image { c: usize, h: usize, w: usize },
}

impl Shape {
    pub(crate) fn len(self) -> Option<usize> {
        match self {
            Shape::Flat(n) => Some(n),
            Shape::Image { c, h, w } => c.checked_mul(h)?.checked_mul(w),
        }
    }

    pub(crate) fn dims(self) -> Vec<usize> {
        match self {
            Shape::Flat(n) => vec![n],
            Shape::Image { c, h, w } => vec![c, h, w],
        }
    }

    /// Channels for per-channel layers (batch norm, PReLU): the feature
    /// count of a flat vector, else the image channels.
    pub(crate) fn channels(self) -> usize {
        match self {
            Shape::Flat(n) => n,
            Shape::Image { c, .. } => c,
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shape::Flat(n) => write!(f, "[{n}]"),
            Shape::Image { c, h, w } => write!(f, "[{c}, {h}, {w}]"),
        }
    }
}

/// The loss a network trains with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Loss {
    CrossEntropy,
    BinaryCrossEntropy,
    MeanSquaredError,
}

impl Loss {
    pub(crate) const NAMES: [&'static str; 3] = ["cross_entropy", "bce", "mse"];

    pub(crate) fn from_name(name: &str) -> Option<Loss> {
        match name {
            "cross_entropy" => Some(Loss::CrossEntropy),
            "bce" => Some(Loss::BinaryCrossEntropy),
            "mse" => Some(Loss::MeanSquaredError),
            _ => None,
        }
    }
}

/// A weight initializer named in the DSL.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Init {
    Zeros,
    Normal(f64),
    XavierUniform,
    XavierNormal,
    HeNormal,
    HeUniform,
}

impl Init {
    pub(crate) const NAMES: [&'static str; 6] = [
        "zeros",
        "normal",
        "xavier_uniform",
        "xavier_normal",
        "he_normal",
        "he_uniform",
    ];
}
