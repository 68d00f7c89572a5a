//! `dropout(p)`: inverted dropout. While training, each unit is zeroed with
//! probability `p` and kept units are scaled by `1 / (1 - p)`; at inference
//! it is the identity.

use super::args::{self, Schema};
use super::spec::{KindDef, TorchModule, py_float};

/// A validated dropout layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Dropout {
    pub(crate) p: f64,
}

impl Dropout {
    /// `nn.Dropout`, inverted as here.
    pub(crate) fn torch(self) -> TorchModule {
        TorchModule::main(format!("nn.Dropout({})", py_float(self.p)))
    }
}

pub(crate) const DEFS: &[KindDef<Dropout>] = &[KindDef {
    schema: Schema {
        name: "dropout",
        positional: &["p"],
        required: 1,
        named: &[],
    },
    aliases: &[],
    known_as: &[],
    lower: |args, errs| {
        args.positional(0)
            .and_then(|v| args::number_in(v, "dropout probability", (0.0, 1.0, false), errs))
            .map(|p| Dropout { p })
    },
}];
