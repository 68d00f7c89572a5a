//! `flatten`: an image as a flat vector, in channels, height, width order
//! (PyTorch's). A view: it moves no data.

use super::args::Schema;
use super::spec::KindDef;
use crate::diag;
use crate::vocab::Shape;

pub(crate) const DEFS: &[KindDef<()>] = &[KindDef {
    schema: Schema {
        name: "flatten",
        positional: &[],
        required: 0,
        named: &[],
    },
    aliases: &[],
    known_as: &[],
    lower: |_, _| Some(()),
}];

/// `flatten` in PyTorch, which flattens in the same order.
pub(crate) const TORCH: &str = "nn.Flatten()";

pub(crate) fn out_shape(input: Shape) -> Result<Shape, String> {
    input
        .len()
        .map(Shape::Flat)
        .ok_or_else(|| diag::size_overflow("input size"))
}
