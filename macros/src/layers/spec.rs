//! What a layer kind declares about itself: its definition in the table of
//! kinds (names, argument schema, lowering) and its parameter tensors.
//!
//! Every kind file builds on these types; none of them imports a kind, so
//! `layers/mod.rs` can gather the kinds without an import cycle.

use super::args::{Bound, Schema};
use crate::diag::Errors;

/// One layer kind as the DSL knows it. The canonical name (in `schema`) is
/// the word messages, summaries and generated buffer names use; `lower`
/// turns arguments already bound to the schema into the kind's value.
pub(crate) struct KindDef<T> {
    pub(crate) schema: Schema,
    /// Other spellings accepted for the same kind (`dense` for `affine`).
    pub(crate) aliases: &'static [&'static str],
    /// Other frameworks' names for the kind (`conv2d`, `max_pool2d`): not
    /// accepted, but suggested when a layer is unknown.
    pub(crate) known_as: &'static [&'static str],
    pub(crate) lower: fn(&Bound, &mut Errors) -> Option<T>,
}

impl<T> KindDef<T> {
    /// The canonical name.
    pub(crate) const fn name(&self) -> &'static str {
        self.schema.name
    }

    /// Whether `word` names this kind, canonically or by an alias.
    pub(crate) fn is_named(&self, word: &str) -> bool {
        self.schema.name == word || self.aliases.contains(&word)
    }

    /// Whether `word` is what another framework calls this kind, or one of
    /// its names in another case or with other underscores (`ReLU`,
    /// `MaxPool2d`, `max_pool2d`).
    pub(crate) fn is_known_as(&self, word: &str) -> bool {
        let plain = |w: &str| w.replace('_', "").to_lowercase();
        let word = plain(word);
        std::iter::once(self.schema.name)
            .chain(self.aliases.iter().copied())
            .chain(self.known_as.iter().copied())
            .any(|name| plain(name) == word)
    }
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
    /// A normalization's fitted mean and standard deviation.
    Mean,
    Std,
}

impl Role {
    pub(crate) fn is_trainable(self) -> bool {
        match self {
            Role::Weight | Role::Bias | Role::Scale | Role::Shift | Role::Slope => true,
            Role::RunningMean | Role::RunningVar | Role::Mean | Role::Std => false,
        }
    }
}

/// How a tensor starts out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum InitSpec {
    /// A weight: the layer's or network's choice, else the default for the
    /// activation it feeds (resolved by `infer`).
    Weight,
    /// A bias: zero, unless its layer's weights use `pytorch`, which draws
    /// biases too (resolved by `infer` with the weight).
    Bias,
    Constant(f64),
}

/// A layer's parameters: the name prefix its tensors share (`conv` for
/// `conv1.weight`) and the tensors in file order. One value, so a kind
/// cannot have tensors without a name.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Params {
    pub(crate) prefix: &'static str,
    pub(crate) tensors: Vec<ParamSpec>,
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

    /// The bias of a layer whose weight has `fan_in` inputs per output: its
    /// fan-in is the weight's, which is what `pytorch` scales by.
    pub(crate) fn bias(outputs: usize, fan_in: usize) -> ParamSpec {
        ParamSpec {
            suffix: "bias",
            shape: vec![outputs],
            role: Role::Bias,
            fan_in,
            fan_out: 1,
            init: InitSpec::Bias,
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

/// A PyTorch module computing a layer, or a helper step of it, for the
/// generated PyTorch source (`Network::PYTORCH`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TorchModule {
    /// Appended to the layer's name: empty for the module that holds the
    /// layer's parameters (so `state_dict()` keys are constnet's tensor
    /// names), `_pad` or `_flatten` for a helper step.
    pub(crate) suffix: &'static str,
    /// The constructor call in Python: `nn.Conv2d(1, 30, kernel_size=5)`.
    pub(crate) ctor: String,
    /// A class the constructor needs that `torch.nn` lacks, as Python source.
    pub(crate) class: Option<&'static str>,
}

impl TorchModule {
    /// The layer's own module.
    pub(crate) fn main(ctor: impl Into<String>) -> TorchModule {
        TorchModule {
            suffix: "",
            ctor: ctor.into(),
            class: None,
        }
    }

    /// A helper module, run in its place in the layer's list.
    pub(crate) fn helper(suffix: &'static str, ctor: impl Into<String>) -> TorchModule {
        TorchModule {
            suffix,
            ctor: ctor.into(),
            class: None,
        }
    }
}

/// A float as a Python literal, at most 12 significant digits so that
/// `1 - 0.9` reads `0.1`.
pub(crate) fn py_float(v: f64) -> String {
    let rounded: f64 = format!("{v:.11e}").parse().unwrap_or(v);
    let s = format!("{rounded}");
    if s.contains(['.', 'e', 'i', 'N']) {
        s
    } else {
        format!("{s}.0")
    }
}
