//! Elementwise activations: `relu`, `leaky_relu(alpha = 0.01)`,
//! `elu(alpha = 1.0)`, `sigmoid`, `tanh`, `step`, `identity`, and `prelu`
//! (a learned slope per channel, or per feature after a flat layer).
//!
//! All but `prelu` are monotonic and have a derivative computable from their
//! output, which lets them fold into the affine or convolution before them.
//! Their `alpha` must be non-negative for that reason.

use super::args::{self, Bound, Schema};
use super::{ParamSpec, Role};
use crate::diag::Errors;
use crate::model::Shape;

/// A parameter-free activation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Act {
    Relu,
    LeakyRelu(f64),
    Elu(f64),
    Sigmoid,
    Tanh,
    Step,
    Identity,
}

pub(crate) const fn schema(layer: &'static str) -> Schema {
    Schema {
        layer,
        positional: &[],
        required: 0,
        named: &[],
    }
}

pub(crate) const LEAKY_SCHEMA: Schema = Schema {
    layer: "leaky_relu",
    positional: &[],
    required: 0,
    named: &["alpha"],
};
pub(crate) const ELU_SCHEMA: Schema = Schema {
    layer: "elu",
    positional: &[],
    required: 0,
    named: &["alpha"],
};

pub(crate) fn lower_alpha(args: &Bound, default: f64, errs: &mut Errors) -> Option<f64> {
    match args.named("alpha") {
        Some(v) => args::number_in(v, "alpha", (0.0, f64::INFINITY, false), errs),
        None => Some(default),
    }
}

impl Act {
    /// Whether the ReLU family follows: such layers get He initialization.
    pub(crate) fn is_relu_family(self) -> bool {
        matches!(self, Act::Relu | Act::LeakyRelu(_) | Act::Elu(_))
    }
}

/// Parameters of `prelu` on an input of this shape: one slope per channel.
pub(crate) fn prelu_params(input: Shape) -> Vec<ParamSpec> {
    vec![ParamSpec::constant(
        "weight",
        vec![input.channels()],
        Role::Slope,
        0.25,
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prelu_has_one_slope_per_channel() {
        assert_eq!(
            prelu_params(Shape::Image { c: 8, h: 4, w: 4 })[0].shape,
            [8]
        );
        assert_eq!(prelu_params(Shape::Flat(100))[0].shape, [100]);
    }

    #[test]
    fn relu_family_gets_he_init() {
        assert!(Act::Relu.is_relu_family());
        assert!(Act::Elu(1.0).is_relu_family());
        assert!(!Act::Sigmoid.is_relu_family());
    }
}
