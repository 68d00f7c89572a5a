//! `batchnorm(momentum = 0.9, eps = 1e-5)`.
//!
//! Batch norm normalizes per feature after a flat layer and per channel after
//! an image layer. Its running averages follow the classic convention
//! `running = momentum * running + (1 - momentum) * batch`.

use super::args::{self, Bound, Schema};
use super::spec::{KindDef, ParamSpec, Params, Role, TorchModule, py_float};
use crate::diag::Errors;
use crate::vocab::Shape;

/// A validated batch-norm layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BatchNorm {
    pub(crate) momentum: f64,
    pub(crate) eps: f64,
}

pub(crate) const DEFS: &[KindDef<BatchNorm>] = &[KindDef {
    schema: Schema {
        name: "batchnorm",
        positional: &[],
        required: 0,
        named: &["momentum", "eps"],
    },
    aliases: &[],
    known_as: &["BatchNorm2d", "BatchNorm1d", "BatchNormalization"],
    lower,
}];

fn lower(args: &Bound, errs: &mut Errors) -> Option<BatchNorm> {
    let momentum = match args.named("momentum") {
        Some(v) => args::number_in(v, "momentum", (0.0, 1.0, false), errs),
        None => Some(0.9),
    };
    let eps = match args.named("eps") {
        Some(v) => args::positive(v, "eps", errs),
        None => Some(1e-5),
    };
    Some(BatchNorm {
        momentum: momentum?,
        eps: eps?,
    })
}

impl BatchNorm {
    /// `nn.BatchNorm1d` after a flat or sequence layer, `nn.BatchNorm2d`
    /// after an image layer. PyTorch's momentum weighs the batch, so it is
    /// `1 − momentum` here; its running variance is the unbiased one, which
    /// differs from ours only while training.
    pub(crate) fn torch(self, input: Shape) -> TorchModule {
        let dims = if matches!(input, Shape::Image { .. }) {
            "2d"
        } else {
            "1d"
        };
        TorchModule::main(format!(
            "nn.BatchNorm{dims}({}, eps={}, momentum={})",
            input.channels(),
            py_float(self.eps),
            py_float(1.0 - self.momentum)
        ))
    }
}

/// γ (starts at 1), β (0), running mean (0) and running variance (1).
pub(crate) fn params(input: Shape) -> Params {
    let c = input.channels();
    Params {
        prefix: "batchnorm",
        tensors: vec![
            ParamSpec::constant("weight", vec![c], Role::Scale, 1.0),
            ParamSpec::zeros("bias", vec![c], Role::Shift),
            ParamSpec::zeros("running_mean", vec![c], Role::RunningMean),
            ParamSpec::constant("running_var", vec![c], Role::RunningVar, 1.0),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batchnorm_is_per_channel_after_images() {
        let p = params(Shape::Image { c: 16, h: 8, w: 8 }).tensors;
        let names: Vec<&str> = p.iter().map(|p| p.suffix).collect();
        assert_eq!(names, ["weight", "bias", "running_mean", "running_var"]);
        assert!(p.iter().all(|p| p.shape == [16]));
    }
}
