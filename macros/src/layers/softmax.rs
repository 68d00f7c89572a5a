//! `softmax`: probabilities over a flat vector. It must be the last layer;
//! with cross-entropy, training takes the logits (its input) directly.

use super::args::Schema;
use super::spec::KindDef;

pub(crate) const DEFS: &[KindDef<()>] = &[KindDef {
    schema: Schema {
        name: "softmax",
        positional: &[],
        required: 0,
        named: &[],
    },
    aliases: &[],
    known_as: &[],
    lower: |_, _| Some(()),
}];

/// `softmax` in PyTorch, over the features.
pub(crate) const TORCH: &str = "nn.Softmax(dim=1)";
