//! Every layer kind: its names, argument schema, shape rule and parameters.
//!
//! Knowledge about a kind lives in its own file; this module dispatches over
//! the closed [`LayerKind`] enum, so a new variant makes the compiler list
//! every place that must handle it.

pub(crate) mod activation;
pub(crate) mod affine;
pub(crate) mod args;
pub(crate) mod conv;
pub(crate) mod norm;
pub(crate) mod pool;

use crate::ast::LayerCall;
use crate::diag::{self, Errors};
use crate::model::{Init, Shape};

use activation::Act;

/// Every layer name the DSL knows, canonical names first, for messages.
pub(crate) const CANONICAL: &[&str] = &[
    "affine",
    "conv",
    "pool",
    "avgpool",
    "relu",
    "leaky_relu",
    "elu",
    "prelu",
    "sigmoid",
    "tanh",
    "step",
    "identity",
    "softmax",
    "dropout",
    "batchnorm",
    "flatten",
];

/// Aliases accepted besides the canonical names.
const ALIASES: &[&str] = &["dense", "linear"];

/// A validated layer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LayerKind {
    Affine(affine::Affine),
    Conv(conv::Conv),
    MaxPool(pool::Pool),
    AvgPool(pool::Pool),
    Act(Act),
    Prelu,
    Softmax,
    Dropout(f64),
    BatchNorm { momentum: f64, eps: f64 },
    Flatten,
}

/// What a parameter tensor is for (mirrors `constnet_runtime::Role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Weight,
    Bias,
    Scale,
    Shift,
    Slope,
    RunningMean,
    RunningVar,
}

impl Role {
    pub(crate) fn is_trainable(self) -> bool {
        !matches!(self, Role::RunningMean | Role::RunningVar)
    }
}

/// How a tensor starts out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum InitSpec {
    /// A weight: the layer's or network's choice, else the default for the
    /// activation it feeds (resolved by `infer`).
    Weight,
    Constant(f64),
}

/// One parameter tensor of a layer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParamSpec {
    pub(crate) suffix: &'static str,
    pub(crate) shape: Vec<usize>,
    pub(crate) role: Role,
    pub(crate) fan_in: usize,
    pub(crate) fan_out: usize,
    pub(crate) init: InitSpec,
}

impl ParamSpec {
    pub(crate) fn weight(shape: Vec<usize>, fan_in: usize, fan_out: usize) -> ParamSpec {
        ParamSpec {
            suffix: "weight",
            shape,
            role: Role::Weight,
            fan_in,
            fan_out,
            init: InitSpec::Weight,
        }
    }

    pub(crate) fn zeros(suffix: &'static str, shape: Vec<usize>, role: Role) -> ParamSpec {
        ParamSpec::constant(suffix, shape, role, 0.0)
    }

    pub(crate) fn constant(
        suffix: &'static str,
        shape: Vec<usize>,
        role: Role,
        value: f64,
    ) -> ParamSpec {
        let n = shape.iter().product();
        ParamSpec {
            suffix,
            shape,
            role,
            fan_in: n,
            fan_out: n,
            init: InitSpec::Constant(value),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.shape.iter().product()
    }
}

/// Lowers one layer call, recording every error it has.
pub(crate) fn lower(call: &LayerCall, errs: &mut Errors) -> Option<LayerKind> {
    let name = call.name.to_string();
    let bind = |schema: &args::Schema, errs: &mut Errors| args::bind(call, schema, errs);
    match name.as_str() {
        "affine" | "dense" | "linear" => {
            affine::lower(&bind(&affine::SCHEMA, errs)?, errs).map(LayerKind::Affine)
        }
        "conv" => conv::lower(&bind(&conv::SCHEMA, errs)?, errs).map(LayerKind::Conv),
        "pool" => pool::lower(&bind(&pool::MAX_SCHEMA, errs)?, errs).map(LayerKind::MaxPool),
        "avgpool" => pool::lower(&bind(&pool::AVG_SCHEMA, errs)?, errs).map(LayerKind::AvgPool),
        "leaky_relu" => {
            let args = bind(&activation::LEAKY_SCHEMA, errs)?;
            activation::lower_alpha(&args, 0.01, errs).map(|a| LayerKind::Act(Act::LeakyRelu(a)))
        }
        "elu" => {
            let args = bind(&activation::ELU_SCHEMA, errs)?;
            activation::lower_alpha(&args, 1.0, errs).map(|a| LayerKind::Act(Act::Elu(a)))
        }
        "batchnorm" => {
            let args = bind(&norm::BATCHNORM_SCHEMA, errs)?;
            norm::lower_batchnorm(&args, errs)
                .map(|(momentum, eps)| LayerKind::BatchNorm { momentum, eps })
        }
        "dropout" => {
            norm::lower_dropout(&bind(&norm::DROPOUT_SCHEMA, errs)?, errs).map(LayerKind::Dropout)
        }
        "relu" | "sigmoid" | "tanh" | "step" | "identity" | "prelu" | "softmax" | "flatten" => {
            let schema = activation::schema(CANONICAL.iter().find(|n| **n == name).copied()?);
            bind(&schema, errs)?;
            Some(match name.as_str() {
                "relu" => LayerKind::Act(Act::Relu),
                "sigmoid" => LayerKind::Act(Act::Sigmoid),
                "tanh" => LayerKind::Act(Act::Tanh),
                "step" => LayerKind::Act(Act::Step),
                "identity" => LayerKind::Act(Act::Identity),
                "prelu" => LayerKind::Prelu,
                "softmax" => LayerKind::Softmax,
                _ => LayerKind::Flatten,
            })
        }
        _ => {
            let suggestion = CANONICAL
                .iter()
                .chain(ALIASES)
                .map(|k| (args::edit_distance(&name, k), *k))
                .filter(|(d, _)| *d <= 2)
                .min()
                .map(|(_, k)| k);
            errs.at(
                &call.name,
                diag::unknown_layer(&name, suggestion, CANONICAL),
            );
            None
        }
    }
}

impl LayerKind {
    /// The output shape for `input`, or why the layer cannot take it.
    /// `producer` is the layer that made `input` (none for the network input).
    pub(crate) fn out_shape(&self, input: Shape, producer: Option<&str>) -> Result<Shape, String> {
        match self {
            LayerKind::Affine(a) => a.out_shape(input),
            LayerKind::Conv(c) => c.out_shape(input, producer),
            LayerKind::MaxPool(p) | LayerKind::AvgPool(p) => p.out_shape(input, producer),
            LayerKind::Flatten => input
                .len()
                .map(Shape::Flat)
                .ok_or_else(|| diag::size_overflow("input size")),
            LayerKind::Act(_)
            | LayerKind::Prelu
            | LayerKind::Softmax
            | LayerKind::Dropout(_)
            | LayerKind::BatchNorm { .. } => Ok(input),
        }
    }

    /// Parameter tensors for `input`, in file order.
    pub(crate) fn params(&self, input: Shape) -> Vec<ParamSpec> {
        match self {
            LayerKind::Affine(a) => a.params(input),
            LayerKind::Conv(c) => c.params(input),
            LayerKind::Prelu => activation::prelu_params(input),
            LayerKind::BatchNorm { .. } => norm::batchnorm_params(input),
            _ => Vec::new(),
        }
    }

    /// The name prefix of parameterized layers (`conv` → `conv1`, `conv2`).
    pub(crate) fn param_prefix(&self) -> Option<&'static str> {
        match self {
            LayerKind::Affine(_) => Some("affine"),
            LayerKind::Conv(_) => Some("conv"),
            LayerKind::Prelu => Some("prelu"),
            LayerKind::BatchNorm { .. } => Some("batchnorm"),
            _ => None,
        }
    }

    /// The canonical DSL word, for summaries of parameter-free layers.
    pub(crate) fn word(&self) -> &'static str {
        match self {
            LayerKind::Affine(_) => "affine",
            LayerKind::Conv(_) => "conv",
            LayerKind::MaxPool(_) => "pool",
            LayerKind::AvgPool(_) => "avgpool",
            LayerKind::Act(Act::Relu) => "relu",
            LayerKind::Act(Act::LeakyRelu(_)) => "leaky_relu",
            LayerKind::Act(Act::Elu(_)) => "elu",
            LayerKind::Act(Act::Sigmoid) => "sigmoid",
            LayerKind::Act(Act::Tanh) => "tanh",
            LayerKind::Act(Act::Step) => "step",
            LayerKind::Act(Act::Identity) => "identity",
            LayerKind::Prelu => "prelu",
            LayerKind::Softmax => "softmax",
            LayerKind::Dropout(_) => "dropout",
            LayerKind::BatchNorm { .. } => "batchnorm",
            LayerKind::Flatten => "flatten",
        }
    }

    /// The initializer this layer asked for, if any.
    pub(crate) fn init(&self) -> Option<Init> {
        match self {
            LayerKind::Affine(a) => a.init,
            LayerKind::Conv(c) => c.init,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lower_src(src: &str) -> Result<LayerKind, String> {
        let call: LayerCall = syn::parse::Parser::parse_str(
            |input: syn::parse::ParseStream| {
                let inv: crate::ast::Invocation = input.parse()?;
                let body = inv.networks.into_iter().next().unwrap().body?;
                Ok(body.layers.into_iter().next().unwrap())
            },
            &format!("struct N: [1, 8, 8] => {src}"),
        )
        .unwrap();
        let mut errs = Errors::default();
        let kind = lower(&call, &mut errs);
        match errs.finish(()) {
            Ok(()) => Ok(kind.unwrap()),
            Err(e) => Err(e
                .into_iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join(" | ")),
        }
    }

    #[test]
    fn lower_reads_defaults_and_aliases() {
        assert!(matches!(lower_src("dense(10)"), Ok(LayerKind::Affine(_))));
        assert_eq!(
            lower_src("leaky_relu"),
            Ok(LayerKind::Act(Act::LeakyRelu(0.01)))
        );
        assert_eq!(
            lower_src("batchnorm"),
            Ok(LayerKind::BatchNorm {
                momentum: 0.9,
                eps: 1e-5
            })
        );
        assert_eq!(
            lower_src("pool(2)"),
            Ok(LayerKind::MaxPool(pool::Pool {
                size: (2, 2),
                stride: (2, 2)
            }))
        );
    }

    #[test]
    fn unknown_layer_suggests_nearest() {
        let err = lower_src("conv2d(8, 3)").unwrap_err();
        assert!(
            err.starts_with("unknown layer `conv2d`; expected one of `affine`, `conv`"),
            "{err}"
        );
        assert!(err.ends_with("(did you mean `conv`?)"), "{err}");
        let err = lower_src("frobnicate").unwrap_err();
        assert!(!err.contains("did you mean"), "{err}");
    }

    #[test]
    fn arity_and_names_are_checked() {
        assert_eq!(
            lower_src("conv(8)").unwrap_err(),
            "`conv` takes 2 positional arguments (filters, kernel), found 1"
        );
        assert_eq!(
            lower_src("relu(1)").unwrap_err(),
            "`relu` takes no positional arguments, found 1"
        );
        assert_eq!(
            lower_src("affine(3, 4)").unwrap_err(),
            "`affine` takes 1 positional argument (outputs), found 2"
        );
        assert_eq!(
            lower_src("conv(8, 3, padding = 1)").unwrap_err(),
            "unknown argument `padding` for `conv`; expected `stride`, `pad` or `init`"
        );
        assert_eq!(
            lower_src("pool(2, stride = 2, stride = 1)").unwrap_err(),
            "argument `stride` of `pool` is given twice"
        );
        assert_eq!(
            lower_src("conv(stride = 1, 8, 3)").unwrap_err(),
            "positional arguments of `conv` must come before named ones | \
             positional arguments of `conv` must come before named ones"
        );
    }

    #[test]
    fn values_are_checked_together() {
        assert_eq!(
            lower_src("conv(0, 2.5)").unwrap_err(),
            "filters must be at least 1, found 0 | \
             kernel must be a whole number or a pair `(height, width)`, found `2.5`"
        );
        assert_eq!(
            lower_src("dropout(1.0)").unwrap_err(),
            "dropout probability must be in [0, 1), found 1.0"
        );
        assert_eq!(
            lower_src("elu(alpha = -1)").unwrap_err(),
            "alpha must be in [0, ∞), found -1"
        );
        assert_eq!(
            lower_src("batchnorm(eps = 0)").unwrap_err(),
            "eps must be in (0, ∞), found 0"
        );
        assert_eq!(
            lower_src("conv(4, 3, pad = 3)").unwrap_err(),
            "padding 3 must be smaller than the kernel 3"
        );
        assert_eq!(
            lower_src("conv(4, (3, 5), pad = 3)").unwrap_err(),
            "height padding 3 must be smaller than the kernel height 3"
        );
        assert_eq!(
            lower_src("conv(4, (3, 2), pad = (3, 2))").unwrap_err(),
            "height padding 3 must be smaller than the kernel height 3 | \
             width padding 2 must be smaller than the kernel width 2"
        );
        assert_eq!(
            lower_src("affine(99999999999999999999999)").unwrap_err(),
            "outputs `99999999999999999999999` does not fit in usize"
        );
        assert_eq!(
            lower_src("conv(4, (3, 3, 3))").unwrap_err(),
            "kernel must be a whole number or a pair `(height, width)`, found `(3, 3, 3)`"
        );
        assert_eq!(
            lower_src("affine(10, init = glorot)").unwrap_err(),
            "unknown initializer `glorot`; expected one of `zeros`, `normal`, `xavier_uniform`, \
             `xavier_normal`, `he_normal`, `he_uniform`"
        );
        assert_eq!(
            lower_src("affine(10, init = normal(0.01))"),
            Ok(LayerKind::Affine(affine::Affine {
                outputs: 10,
                init: Some(Init::Normal(0.01))
            }))
        );
    }
}
