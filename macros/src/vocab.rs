//! The shared vocabulary of every stage: shapes, initializers and losses.
//!
//! Sits below every other module and imports none of them, so the stages
//! can all speak of a `Shape` without depending on one another.

use std::fmt;

/// A tensor shape: a flat vector, a sequence (`[channels, length]`, for 1-D
/// signals) or an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Flat(usize),
    Seq { c: usize, l: usize },
    Image { c: usize, h: usize, w: usize },
}

impl Shape {
    pub(crate) fn len(self) -> Option<usize> {
        match self {
            Shape::Flat(n) => Some(n),
            Shape::Seq { c, l } => c.checked_mul(l),
            Shape::Image { c, h, w } => c.checked_mul(h)?.checked_mul(w),
        }
    }

    pub(crate) fn dims(self) -> Vec<usize> {
        match self {
            Shape::Flat(n) => vec![n],
            Shape::Seq { c, l } => vec![c, l],
            Shape::Image { c, h, w } => vec![c, h, w],
        }
    }

    /// Channels for per-channel layers (batch norm, PReLU): the feature
    /// count of a flat vector, else the channels.
    pub(crate) fn channels(self) -> usize {
        match self {
            Shape::Flat(n) => n,
            Shape::Seq { c, .. } | Shape::Image { c, .. } => c,
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shape::Flat(n) => write!(f, "[{n}]"),
            Shape::Seq { c, l } => write!(f, "[{c}, {l}]"),
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
    /// PyTorch's `nn.Linear`/`nn.Conv2d` default: weights and biases in ±1/√fan_in.
    PyTorch,
}

impl Init {
    pub(crate) const NAMES: [&'static str; 7] = [
        "zeros",
        "normal",
        "xavier_uniform",
        "xavier_normal",
        "he_normal",
        "he_uniform",
        "pytorch",
    ];
}
