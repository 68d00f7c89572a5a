//! `affine(n, init = …)` (aliases `dense`, `linear`): `y = W x + b`.
//!
//! An image input is flattened in channels, height, width order, as PyTorch's
//! `flatten` does, so weights exchange with PyTorch unchanged.

use super::args::{self, Bound, Schema};
use super::spec::{KindDef, ParamSpec, Params, TorchModule};
use crate::diag::{self, Errors};
use crate::vocab::{Init, Shape};

pub(crate) const DEFS: &[KindDef<Affine>] = &[KindDef {
    schema: Schema {
        name: "affine",
        positional: &["outputs"],
        required: 1,
        named: &["bias", "init"],
    },
    aliases: &["dense", "linear"],
    known_as: &["fc", "fully_connected"],
    lower,
}];

/// A validated affine layer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Affine {
    pub(crate) outputs: usize,
    pub(crate) bias: bool,
    pub(crate) init: Option<Init>,
}

fn lower(args: &Bound, errs: &mut Errors) -> Option<Affine> {
    let outputs = args
        .positional(0)
        .and_then(|v| args::count(v, "outputs", errs));
    let bias = match args.named("bias") {
        Some(v) => args::flag(v, "bias", errs),
        None => Some(true),
    };
    let init = args::optional_init(args, errs);
    Some(Affine {
        outputs: outputs?,
        bias: bias?,
        init: init?,
    })
}

impl Affine {
    pub(crate) fn out_shape(&self, input: Shape) -> Result<Shape, String> {
        let inputs = input
            .len()
            .ok_or_else(|| diag::size_overflow("input size"))?;
        inputs
            .checked_mul(self.outputs)
            .ok_or_else(|| diag::overflow("weight count", inputs, self.outputs))?;
        Ok(Shape::Flat(self.outputs))
    }

    pub(crate) fn params(&self, input: Shape) -> Params {
        let inputs = input.len().unwrap_or(0);
        let mut tensors = vec![ParamSpec::weight(
            vec![self.outputs, inputs],
            inputs,
            self.outputs,
        )];
        if self.bias {
            tensors.push(ParamSpec::bias(self.outputs, inputs));
        }
        Params {
            prefix: "affine",
            tensors,
        }
    }

    /// `nn.Linear`, after an `nn.Flatten` when the input is not flat
    /// (PyTorch flattens `[C, H, W]` in the same order).
    pub(crate) fn torch(&self, input: Shape) -> Vec<TorchModule> {
        let mut modules = Vec::new();
        if !matches!(input, Shape::Flat(_)) {
            modules.push(TorchModule::helper("_flatten", "nn.Flatten()"));
        }
        let inputs = input.len().unwrap_or(0);
        let bias = if self.bias { "" } else { ", bias=False" };
        modules.push(TorchModule::main(format!(
            "nn.Linear({inputs}, {}{bias})",
            self.outputs
        )));
        modules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affine_flattens_images() {
        let affine = Affine {
            outputs: 100,
            bias: true,
            init: None,
        };
        let input = Shape::Image {
            c: 30,
            h: 12,
            w: 12,
        };
        assert_eq!(affine.out_shape(input), Ok(Shape::Flat(100)));
        assert_eq!(affine.params(input).tensors[0].shape, [100, 4320]);
    }

    #[test]
    fn affine_rejects_overflowing_weights() {
        let affine = Affine {
            outputs: usize::MAX / 2,
            bias: true,
            init: None,
        };
        assert_eq!(
            affine.out_shape(Shape::Flat(4320)).unwrap_err(),
            format!("weight count 4320 * {} overflows usize", usize::MAX / 2)
        );
    }
}
