//! Preprocessing inside the network, so a saved model takes raw inputs:
//! `normalize`, `(x − mean) / std` per channel (per feature after a flat
//! layer) with statistics fitted from data (`train::fit_normalization`),
//! stored with the parameters and never trained; and `rescale(scale,
//! offset = 0)`, `x · scale + offset` with constants (bytes to [0, 1]:
//! `rescale(0.00392156862745098)`, that is 1/255).

use super::args::{self, Bound, Schema};
use super::spec::{KindDef, ParamSpec, Params, Role, TorchModule, py_float};
use crate::diag::Errors;
use crate::vocab::Shape;

/// A validated preprocessing layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Preprocess {
    Normalize,
    Rescale { scale: f64, offset: f64 },
}

pub(crate) const DEFS: &[KindDef<Preprocess>] = &[
    KindDef {
        schema: Schema {
            name: "normalize",
            positional: &[],
            required: 0,
            named: &[],
        },
        aliases: &["standardize"],
        known_as: &["Normalization", "Normalize", "StandardScaler"],
        lower: |_, _| Some(Preprocess::Normalize),
    },
    KindDef {
        schema: Schema {
            name: "rescale",
            positional: &["scale"],
            required: 1,
            named: &["offset"],
        },
        aliases: &[],
        known_as: &["Rescaling", "rescaling"],
        lower: rescale,
    },
];

fn rescale(args: &Bound, errs: &mut Errors) -> Option<Preprocess> {
    let scale = args
        .positional(0)
        .and_then(|v| args::number(v, "scale", errs));
    let offset = match args.named("offset") {
        Some(v) => args::number(v, "offset", errs),
        None => Some(0.0),
    };
    Some(Preprocess::Rescale {
        scale: scale?,
        offset: offset?,
    })
}

/// `(x − mean) / std` as a module, its statistics as buffers (so
/// `state_dict()` holds them under constnet's names).
const NORMALIZE_CLASS: &str = "\
class Normalize(nn.Module):
    \"\"\"constnet's `normalize`: (x - mean) / std per channel (dim 1).\"\"\"

    def __init__(self, channels, dims):
        super().__init__()
        self.register_buffer(\"mean\", torch.zeros(channels))
        self.register_buffer(\"std\", torch.ones(channels))
        self.view = (1, channels) + (1,) * dims

    def forward(self, x):
        return (x - self.mean.view(self.view)) / self.std.view(self.view)
";

const RESCALE_CLASS: &str = "\
class Rescale(nn.Module):
    \"\"\"constnet's `rescale`: x * scale + offset.\"\"\"

    def __init__(self, scale, offset):
        super().__init__()
        self.scale, self.offset = scale, offset

    def forward(self, x):
        return x * self.scale + self.offset
";

impl Preprocess {
    /// The mean (starts at 0) and standard deviation (1) of `normalize`.
    pub(crate) fn params(self, input: Shape) -> Option<Params> {
        match self {
            Preprocess::Normalize => {
                let c = input.channels();
                Some(Params {
                    prefix: "normalize",
                    tensors: vec![
                        ParamSpec::zeros("mean", vec![c], Role::Mean),
                        ParamSpec::constant("std", vec![c], Role::Std, 1.0),
                    ],
                })
            }
            Preprocess::Rescale { .. } => None,
        }
    }

    /// The PyTorch module: a small class, since `torch.nn` has neither.
    pub(crate) fn torch(self, input: Shape) -> TorchModule {
        let (ctor, class) = match self {
            Preprocess::Normalize => {
                let dims = input.dims().len() - 1;
                (
                    format!("Normalize({}, {dims})", input.channels()),
                    NORMALIZE_CLASS,
                )
            }
            Preprocess::Rescale { scale, offset } => (
                format!("Rescale({}, {})", py_float(scale), py_float(offset)),
                RESCALE_CLASS,
            ),
        };
        TorchModule {
            class: Some(class),
            ..TorchModule::main(ctor)
        }
    }
}
