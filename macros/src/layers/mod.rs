//! Every layer kind, gathered: the table of kinds and the closed
//! [`LayerKind`] enum the later stages match on.
//!
//! Each kind lives in its own file with its definition (names, argument
//! schema, lowering), shape rule and parameters. This module only gathers
//! them: the canonical list, the name lookup and the "did you mean"
//! candidates all derive from [`FAMILIES`], and every match on
//! [`LayerKind`] is exhaustive, so a new kind makes the compiler list each
//! place that must handle it.

pub(crate) mod activation;
pub(crate) mod affine;
pub(crate) mod args;
pub(crate) mod batchnorm;
pub(crate) mod conv;
pub(crate) mod dropout;
pub(crate) mod flatten;
pub(crate) mod pool;
pub(crate) mod preprocess;
pub(crate) mod softmax;
pub(crate) mod spec;
pub(crate) mod window;

use crate::ast::LayerCall;
use crate::diag::{self, Errors};
use crate::vocab::{Init, Loss, Shape};

use activation::{Act, Activation, InputAct};
use spec::{KindDef, Params, TorchModule};

/// A validated layer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LayerKind {
    Affine(affine::Affine),
    Conv(conv::Conv),
    Pool(pool::Pool),
    GlobalPool(pool::GlobalPool),
    Act(Act),
    InputAct(InputAct),
    Prelu,
    Softmax,
    Dropout(dropout::Dropout),
    BatchNorm(batchnorm::BatchNorm),
    Preprocess(preprocess::Preprocess),
    Flatten,
}

/// A lowered layer call: its kind and the canonical name it was found by.
pub(crate) struct Lowered {
    pub(crate) kind: LayerKind,
    /// The kind's canonical name (`affine` for `dense(10)`).
    pub(crate) word: &'static str,
}

/// A file's kind definitions and the variant their values become.
struct Family<T: 'static> {
    defs: &'static [KindDef<T>],
    wrap: fn(T) -> LayerKind,
}

/// A family with its value type erased, so one table holds them all.
trait AnyFamily {
    fn names(&self) -> Vec<&'static str>;
    /// The kind another framework (or another case) calls `word`, if any.
    fn known_as(&self, word: &str) -> Option<&'static str>;
    fn spellings(&self) -> Vec<&'static str>;
    /// `None` when no kind of the family is called `word`; else the
    /// lowered layer, or `None` inside with its errors recorded.
    fn lower(&self, word: &str, call: &LayerCall, errs: &mut Errors) -> Option<Option<Lowered>>;
}

impl<T> AnyFamily for Family<T> {
    fn names(&self) -> Vec<&'static str> {
        self.defs.iter().map(KindDef::name).collect()
    }

    fn known_as(&self, word: &str) -> Option<&'static str> {
        self.defs
            .iter()
            .find(|d| d.is_known_as(word))
            .map(KindDef::name)
    }

    fn spellings(&self) -> Vec<&'static str> {
        self.defs
            .iter()
            .flat_map(|d| std::iter::once(d.name()).chain(d.aliases.iter().copied()))
            .collect()
    }

    fn lower(&self, word: &str, call: &LayerCall, errs: &mut Errors) -> Option<Option<Lowered>> {
        let def = self.defs.iter().find(|d| d.is_named(word))?;
        let lowered = args::bind(call, &def.schema, errs)
            .and_then(|bound| (def.lower)(&bound, errs))
            .map(|value| Lowered {
                kind: (self.wrap)(value),
                word: def.name(),
            });
        Some(lowered)
    }
}

/// The table of layer kinds, in the order messages list them.
const FAMILIES: &[&dyn AnyFamily] = &[
    &Family {
        defs: affine::DEFS,
        wrap: LayerKind::Affine,
    },
    &Family {
        defs: conv::DEFS,
        wrap: LayerKind::Conv,
    },
    &Family {
        defs: pool::DEFS,
        wrap: LayerKind::Pool,
    },
    &Family {
        defs: pool::GLOBAL_DEFS,
        wrap: LayerKind::GlobalPool,
    },
    &Family {
        defs: activation::DEFS,
        wrap: |a| match a {
            Activation::Fixed(act) => LayerKind::Act(act),
            Activation::Input(act) => LayerKind::InputAct(act),
            Activation::Prelu => LayerKind::Prelu,
        },
    },
    &Family {
        defs: softmax::DEFS,
        wrap: |()| LayerKind::Softmax,
    },
    &Family {
        defs: dropout::DEFS,
        wrap: LayerKind::Dropout,
    },
    &Family {
        defs: batchnorm::DEFS,
        wrap: LayerKind::BatchNorm,
    },
    &Family {
        defs: preprocess::DEFS,
        wrap: LayerKind::Preprocess,
    },
    &Family {
        defs: flatten::DEFS,
        wrap: |()| LayerKind::Flatten,
    },
];

/// Every canonical layer name, in table order.
pub(crate) fn canonical_names() -> Vec<&'static str> {
    FAMILIES.iter().flat_map(|f| f.names()).collect()
}

/// Lowers one layer call, recording every error it has.
pub(crate) fn lower(call: &LayerCall, errs: &mut Errors) -> Option<Lowered> {
    let word = call.name.to_string();
    for family in FAMILIES {
        if let Some(lowered) = family.lower(&word, call, errs) {
            return lowered;
        }
    }
    let known = FAMILIES.iter().find_map(|f| f.known_as(&word));
    let suggestion = known.or_else(|| {
        FAMILIES
            .iter()
            .flat_map(|f| f.spellings())
            .map(|k| (args::edit_distance(&word, k), k))
            .filter(|(d, _)| *d <= 2)
            .min()
            .map(|(_, k)| k)
    });
    errs.at(
        &call.name,
        diag::unknown_layer(&word, suggestion, &canonical_names()),
    );
    None
}

/// How a layer bears on the default initializer of the weights before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InitHint {
    /// A ReLU-family activation: He initialization.
    He,
    /// Leaves the input distribution roughly in place: look further.
    Transparent,
    /// Anything else ends the search: Xavier.
    Stop,
}

impl LayerKind {
    /// The output shape for `input`, or why the layer cannot take it.
    /// `producer` is the layer that made `input` (none for the network input).
    pub(crate) fn out_shape(&self, input: Shape, producer: Option<&str>) -> Result<Shape, String> {
        match self {
            LayerKind::Affine(a) => a.out_shape(input),
            LayerKind::Conv(c) => c.out_shape(input, producer),
            LayerKind::Pool(p) => p.out_shape(input, producer),
            LayerKind::GlobalPool(p) => p.out_shape(input, producer),
            LayerKind::Flatten => flatten::out_shape(input),
            LayerKind::Act(_)
            | LayerKind::InputAct(_)
            | LayerKind::Prelu
            | LayerKind::Softmax
            | LayerKind::Dropout(_)
            | LayerKind::BatchNorm(_)
            | LayerKind::Preprocess(_) => Ok(input),
        }
    }

    /// Parameter tensors for `input` with their name prefix; `None` for
    /// parameter-free layers.
    pub(crate) fn params(&self, input: Shape) -> Option<Params> {
        match self {
            LayerKind::Affine(a) => Some(a.params(input)),
            LayerKind::Conv(c) => Some(c.params(input)),
            LayerKind::Prelu => Some(activation::prelu_params(input)),
            LayerKind::BatchNorm(_) => Some(batchnorm::params(input)),
            LayerKind::Preprocess(p) => p.params(input),
            LayerKind::Pool(_)
            | LayerKind::GlobalPool(_)
            | LayerKind::Act(_)
            | LayerKind::InputAct(_)
            | LayerKind::Softmax
            | LayerKind::Dropout(_)
            | LayerKind::Flatten => None,
        }
    }

    /// The PyTorch modules computing this layer on `input`, in order.
    ///
    /// # Errors
    /// Why PyTorch has no such modules, in words.
    pub(crate) fn torch(&self, input: Shape) -> Result<Vec<TorchModule>, String> {
        let one = |module: TorchModule| Ok(vec![module]);
        match self {
            LayerKind::Affine(a) => Ok(a.torch(input)),
            LayerKind::Conv(c) => c.torch(input),
            LayerKind::Pool(p) => p.torch(input),
            LayerKind::GlobalPool(p) => Ok(p.torch(input)),
            LayerKind::Act(act) => one(act.torch()),
            LayerKind::InputAct(act) => one(act.torch()),
            LayerKind::Prelu => one(activation::prelu_torch(input)),
            LayerKind::Softmax => one(TorchModule::main(softmax::TORCH)),
            LayerKind::Dropout(d) => one(d.torch()),
            LayerKind::BatchNorm(bn) => one(bn.torch(input)),
            LayerKind::Preprocess(p) => one(p.torch(input)),
            LayerKind::Flatten => one(TorchModule::main(flatten::TORCH)),
        }
    }

    /// The initializer this layer asked for, if any.
    pub(crate) fn init(&self) -> Option<Init> {
        match self {
            LayerKind::Affine(a) => a.init,
            LayerKind::Conv(c) => c.init,
            LayerKind::Pool(_)
            | LayerKind::GlobalPool(_)
            | LayerKind::Act(_)
            | LayerKind::InputAct(_)
            | LayerKind::Prelu
            | LayerKind::Softmax
            | LayerKind::Dropout(_)
            | LayerKind::BatchNorm(_)
            | LayerKind::Preprocess(_)
            | LayerKind::Flatten => None,
        }
    }

    /// What this layer says about the initializer of weights before it.
    pub(crate) fn init_hint(&self) -> InitHint {
        match self {
            LayerKind::Act(act) if act.is_relu_family() => InitHint::He,
            LayerKind::Prelu | LayerKind::InputAct(_) => InitHint::He,
            LayerKind::Pool(_)
            | LayerKind::GlobalPool(_)
            | LayerKind::Dropout(_)
            | LayerKind::BatchNorm(_)
            | LayerKind::Preprocess(_)
            | LayerKind::Flatten => InitHint::Transparent,
            LayerKind::Act(_) | LayerKind::Affine(_) | LayerKind::Conv(_) | LayerKind::Softmax => {
                InitHint::Stop
            }
        }
    }

    /// The loss a network ending in this layer trains with unless it
    /// declares one: cross-entropy after softmax, binary cross-entropy
    /// after sigmoid, else mean squared error.
    pub(crate) fn default_loss(&self) -> Loss {
        match self {
            LayerKind::Softmax => Loss::CrossEntropy,
            LayerKind::Act(act) => act.default_loss(),
            LayerKind::Affine(_)
            | LayerKind::Conv(_)
            | LayerKind::Pool(_)
            | LayerKind::GlobalPool(_)
            | LayerKind::InputAct(_)
            | LayerKind::Prelu
            | LayerKind::Dropout(_)
            | LayerKind::BatchNorm(_)
            | LayerKind::Preprocess(_)
            | LayerKind::Flatten => Loss::MeanSquaredError,
        }
    }

    /// What the layer computes, for the architecture signature: its kind and
    /// every setting that changes its function (activation and its alpha,
    /// pooling kind, window, stride, padding, rounding, dilation, groups,
    /// bias, batch-norm eps), but not those that leave a trained network's
    /// function in place (dropout rate, initializer, batch-norm momentum).
    pub(crate) fn signature(&self) -> String {
        match self {
            LayerKind::Affine(a) => format!("affine(out {}, bias {})", a.outputs, a.bias),
            LayerKind::Conv(c) => format!(
                "conv({:?}, {:?}, kernel {:?}, stride {:?}, dilation {:?}, pad {:?}, {:?}, bias {})",
                c.rank, c.filters, c.kernel, c.stride, c.dilation, c.pad, c.round, c.bias
            ),
            LayerKind::Pool(p) => format!(
                "pool({:?}, {:?}, size {:?}, stride {:?}, pad {:?}, {:?})",
                p.reduce, p.rank, p.size, p.stride, p.pad, p.round
            ),
            LayerKind::GlobalPool(p) => format!("global_pool({:?})", p.reduce),
            LayerKind::Act(act) => format!("{act:?}"),
            LayerKind::InputAct(act) => format!("{act:?}"),
            LayerKind::Prelu => "prelu".into(),
            LayerKind::Softmax => "softmax".into(),
            LayerKind::Dropout(_) => "dropout".into(),
            LayerKind::BatchNorm(bn) => format!("batchnorm(eps {})", bn.eps),
            LayerKind::Preprocess(p) => format!("{p:?}"),
            LayerKind::Flatten => "flatten(c, h, w)".into(),
        }
    }

    /// Whether backpropagation can pass through this layer.
    pub(crate) fn has_gradient(&self) -> bool {
        match self {
            LayerKind::Act(act) => act.has_gradient(),
            LayerKind::Affine(_)
            | LayerKind::Conv(_)
            | LayerKind::Pool(_)
            | LayerKind::GlobalPool(_)
            | LayerKind::InputAct(_)
            | LayerKind::Prelu
            | LayerKind::Softmax
            | LayerKind::Dropout(_)
            | LayerKind::BatchNorm(_)
            | LayerKind::Preprocess(_)
            | LayerKind::Flatten => true,
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
                match body.layers.into_iter().next().unwrap() {
                    crate::ast::Node::Layer(call) => Ok(call),
                    crate::ast::Node::Residual(_) => panic!("a layer, not a block"),
                }
            },
            &format!("struct N: [1, 8, 8] => {src}"),
        )
        .unwrap();
        let mut errs = Errors::default();
        let kind = lower(&call, &mut errs);
        match errs.finish(()) {
            Ok(()) => Ok(kind.unwrap().kind),
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
            Ok(LayerKind::BatchNorm(batchnorm::BatchNorm {
                momentum: 0.9,
                eps: 1e-5
            }))
        );
        assert_eq!(
            lower_src("pool(2)"),
            Ok(LayerKind::Pool(pool::Pool {
                reduce: pool::Reduce::Max,
                rank: window::Rank::Two,
                size: (2, 2),
                stride: (2, 2),
                pad: (window::Pad::Both(0), window::Pad::Both(0)),
                round: window::Round::Exact,
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
        let err = lower_src("max_pool2d(2)").unwrap_err();
        assert!(err.ends_with("(did you mean `pool`?)"), "{err}");
        let err = lower_src("ReLU").unwrap_err();
        assert!(err.ends_with("(did you mean `relu`?)"), "{err}");
        let err = lower_src("frobnicate").unwrap_err();
        assert!(!err.contains("did you mean"), "{err}");
    }

    #[test]
    fn pytorch_and_keras_names_suggest_the_kind() {
        let cases = [
            // PyTorch's `nn` modules and functional names.
            ("Linear(10)", "affine"),
            ("Conv2d(8, 3)", "conv"),
            ("Conv1d(8, 3)", "conv1d"),
            ("MaxPool2d(2)", "pool"),
            ("max_pool2d(2)", "pool"),
            ("maxpool(2)", "pool"),
            ("AvgPool2d(2)", "avgpool"),
            ("avg_pool2d(2)", "avgpool"),
            ("MaxPool1d(2)", "pool1d"),
            ("AvgPool1d(2)", "avgpool1d"),
            ("AdaptiveAvgPool2d", "global_avgpool"),
            ("AdaptiveMaxPool1d", "global_maxpool"),
            ("BatchNorm2d", "batchnorm"),
            ("BatchNorm1d", "batchnorm"),
            ("ReLU", "relu"),
            ("ReLU6", "relu6"),
            ("LeakyReLU", "leaky_relu"),
            ("ELU", "elu"),
            ("PReLU", "prelu"),
            ("SiLU", "silu"),
            ("GELU", "gelu"),
            ("Hardswish", "hard_swish"),
            ("Hardsigmoid", "hard_sigmoid"),
            ("Sigmoid", "sigmoid"),
            ("Tanh", "tanh"),
            ("Identity", "identity"),
            ("Dropout(0.5)", "dropout"),
            ("Flatten", "flatten"),
            ("Softmax", "softmax"),
            // Keras' layers.
            ("Dense(10)", "affine"),
            ("Conv2D(8, 3)", "conv"),
            ("Conv1D(8, 3)", "conv1d"),
            ("DepthwiseConv2D(3)", "dwconv"),
            ("MaxPooling2D(2)", "pool"),
            ("MaxPool2D(2)", "pool"),
            ("AveragePooling2D(2)", "avgpool"),
            ("MaxPooling1D(2)", "pool1d"),
            ("GlobalAveragePooling2D", "global_avgpool"),
            ("GlobalAvgPool2D", "global_avgpool"),
            ("GlobalMaxPool1D", "global_maxpool"),
            ("BatchNormalization", "batchnorm"),
        ];
        for (src, kind) in cases {
            let err = lower_src(src).unwrap_err();
            assert!(
                err.ends_with(&format!("(did you mean `{kind}`?)")),
                "{src}: {err}"
            );
        }
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
            "unknown argument `padding` for `conv`; expected `stride`, `pad`, `dilation`, \
             `groups`, `bias`, `round` or `init`"
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
             `xavier_normal`, `he_normal`, `he_uniform`, `pytorch`"
        );
        assert_eq!(
            lower_src("affine(10, init = normal(0.01))"),
            Ok(LayerKind::Affine(affine::Affine {
                outputs: 10,
                bias: true,
                init: Some(Init::Normal(0.01))
            }))
        );
    }
}
