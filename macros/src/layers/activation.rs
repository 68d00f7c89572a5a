//! Elementwise activations: `relu`, `relu6`, `leaky_relu(alpha = 0.01)`,
//! `elu(alpha = 1.0)`, `sigmoid`, `tanh`, `step`, `identity`,
//! `hard_sigmoid`, `prelu` (a learned slope per channel, or per feature
//! after a flat layer), and `silu` (`swish`), `gelu` and `hard_swish`.
//!
//! The [`Act`]s are monotonic and have a derivative computable from their
//! output, which lets them fold into the affine or convolution before them;
//! their `alpha` must be non-negative for that reason. The [`InputAct`]s are
//! not monotonic: their backward reads the input, so they run as steps.

use super::args::{self, Bound, Schema};
use super::spec::{KindDef, ParamSpec, Params, Role, TorchModule, py_float};
use crate::diag::Errors;
use crate::vocab::{Loss, Shape};

/// What an activation layer lowers to: a fixed function, or `prelu` with its
/// learned slopes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Activation {
    Fixed(Act),
    Input(InputAct),
    Prelu,
}

/// A parameter-free activation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Act {
    Relu,
    Relu6,
    LeakyRelu(f64),
    Elu(f64),
    Sigmoid,
    Tanh,
    Step,
    Identity,
    HardSigmoid,
}

/// A parameter-free activation whose derivative needs its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InputAct {
    Silu,
    Gelu,
    HardSwish,
}

const fn bare(
    name: &'static str,
    act: fn(&Bound, &mut Errors) -> Option<Activation>,
) -> KindDef<Activation> {
    aliased(name, &[], act)
}

const fn aliased(
    name: &'static str,
    aliases: &'static [&'static str],
    act: fn(&Bound, &mut Errors) -> Option<Activation>,
) -> KindDef<Activation> {
    KindDef {
        schema: Schema {
            name,
            positional: &[],
            required: 0,
            named: &[],
        },
        aliases,
        known_as: &[],
        lower: act,
    }
}

const fn with_alpha(
    name: &'static str,
    act: fn(&Bound, &mut Errors) -> Option<Activation>,
) -> KindDef<Activation> {
    KindDef {
        schema: Schema {
            name,
            positional: &[],
            required: 0,
            named: &["alpha"],
        },
        aliases: &[],
        known_as: &[],
        lower: act,
    }
}

pub(crate) const DEFS: &[KindDef<Activation>] = &[
    bare("relu", |_, _| Some(Activation::Fixed(Act::Relu))),
    bare("relu6", |_, _| Some(Activation::Fixed(Act::Relu6))),
    with_alpha("leaky_relu", |args, errs| {
        alpha(args, 0.01, errs).map(|a| Activation::Fixed(Act::LeakyRelu(a)))
    }),
    with_alpha("elu", |args, errs| {
        alpha(args, 1.0, errs).map(|a| Activation::Fixed(Act::Elu(a)))
    }),
    bare("prelu", |_, _| Some(Activation::Prelu)),
    bare("sigmoid", |_, _| Some(Activation::Fixed(Act::Sigmoid))),
    bare("tanh", |_, _| Some(Activation::Fixed(Act::Tanh))),
    bare("step", |_, _| Some(Activation::Fixed(Act::Step))),
    bare("identity", |_, _| Some(Activation::Fixed(Act::Identity))),
    bare("hard_sigmoid", |_, _| {
        Some(Activation::Fixed(Act::HardSigmoid))
    }),
    aliased("silu", &["swish"], |_, _| {
        Some(Activation::Input(InputAct::Silu))
    }),
    bare("gelu", |_, _| Some(Activation::Input(InputAct::Gelu))),
    bare("hard_swish", |_, _| {
        Some(Activation::Input(InputAct::HardSwish))
    }),
];

fn alpha(args: &Bound, default: f64, errs: &mut Errors) -> Option<f64> {
    match args.named("alpha") {
        Some(v) => args::number_in(v, "alpha", (0.0, f64::INFINITY, false), errs),
        None => Some(default),
    }
}

/// `step` in PyTorch, which has no module for it.
const STEP_CLASS: &str = "\
class Step(nn.Module):
    \"\"\"constnet's `step`: 1 where x > 0, 0 where x <= 0.\"\"\"

    def forward(self, x):
        return torch.where(x > 0, 1.0, torch.where(x <= 0, 0.0, x))
";

impl Act {
    /// The PyTorch module computing it.
    pub(crate) fn torch(self) -> TorchModule {
        let ctor = match self {
            Act::Relu => "nn.ReLU()".into(),
            Act::Relu6 => "nn.ReLU6()".into(),
            Act::LeakyRelu(alpha) => format!("nn.LeakyReLU({})", py_float(alpha)),
            Act::Elu(alpha) => format!("nn.ELU({})", py_float(alpha)),
            Act::Sigmoid => "nn.Sigmoid()".into(),
            Act::Tanh => "nn.Tanh()".into(),
            Act::Identity => "nn.Identity()".into(),
            Act::HardSigmoid => "nn.Hardsigmoid()".into(),
            Act::Step => {
                return TorchModule {
                    class: Some(STEP_CLASS),
                    ..TorchModule::main("Step()")
                };
            }
        };
        TorchModule::main(ctor)
    }

    /// Whether the ReLU family follows: such layers get He initialization.
    pub(crate) fn is_relu_family(self) -> bool {
        match self {
            Act::Relu | Act::Relu6 | Act::LeakyRelu(_) | Act::Elu(_) => true,
            Act::Sigmoid | Act::Tanh | Act::Step | Act::Identity | Act::HardSigmoid => false,
        }
    }

    /// The loss a network ending in it trains with unless it declares one.
    pub(crate) fn default_loss(self) -> Loss {
        match self {
            Act::Sigmoid => Loss::BinaryCrossEntropy,
            Act::Relu
            | Act::Relu6
            | Act::LeakyRelu(_)
            | Act::Elu(_)
            | Act::Tanh
            | Act::Step
            | Act::Identity
            | Act::HardSigmoid => Loss::MeanSquaredError,
        }
    }

    /// Whether backpropagation can pass through it (`step` has no gradient).
    pub(crate) fn has_gradient(self) -> bool {
        match self {
            Act::Step => false,
            Act::Relu
            | Act::Relu6
            | Act::LeakyRelu(_)
            | Act::Elu(_)
            | Act::Sigmoid
            | Act::Tanh
            | Act::Identity
            | Act::HardSigmoid => true,
        }
    }
}

impl InputAct {
    /// The PyTorch module computing it.
    pub(crate) fn torch(self) -> TorchModule {
        TorchModule::main(match self {
            InputAct::Silu => "nn.SiLU()",
            InputAct::Gelu => "nn.GELU()",
            InputAct::HardSwish => "nn.Hardswish()",
        })
    }
}

/// Parameters of `prelu` on an input of this shape: one slope per channel.
pub(crate) fn prelu_params(input: Shape) -> Params {
    Params {
        prefix: "prelu",
        tensors: vec![ParamSpec::constant(
            "weight",
            vec![input.channels()],
            Role::Slope,
            0.25,
        )],
    }
}

/// `prelu` in PyTorch: one slope per channel, starting at 0.25 as here.
pub(crate) fn prelu_torch(input: Shape) -> TorchModule {
    TorchModule::main(format!("nn.PReLU({})", input.channels()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prelu_has_one_slope_per_channel() {
        assert_eq!(
            prelu_params(Shape::Image { c: 8, h: 4, w: 4 }).tensors[0].shape,
            [8]
        );
        assert_eq!(prelu_params(Shape::Flat(100)).tensors[0].shape, [100]);
    }

    #[test]
    fn relu_family_gets_he_init() {
        assert!(Act::Relu.is_relu_family());
        assert!(Act::Elu(1.0).is_relu_family());
        assert!(!Act::Sigmoid.is_relu_family());
    }
}
