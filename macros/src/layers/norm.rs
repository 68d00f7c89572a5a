//! `batchnorm(momentum = 0.9, eps = 1e-5)` and `dropout(p)`.
//!
//! Batch norm normalizes per feature after a flat layer and per channel after
//! an image layer. Its running averages follow the classic convention
//! `running = momentum * running + (1 - momentum) * batch`. Dropout is
//! inverted dropout: kept units are scaled by `1 / (1 - p)` while training.

use super::args::{self, Bound, Schema};
use super::{ParamSpec, Role};
use crate::diag::Errors;
use crate::model::Shape;

pub(crate) const BATCHNORM_SCHEMA: Schema = Schema {
    layer: "batchnorm",
    positional: &[],
    required: 0,
    named: &["momentum", "eps"],
};
pub(crate) const DROPOUT_SCHEMA: Schema = Schema {
    layer: "dropout",
    positional: &["p"],
    required: 1,
    named: &[],
};

pub(crate) fn lower_batchnorm(args: &Bound, errs: &mut Errors) -> Option<(f64, f64)> {
    let momentum = match args.named("momentum") {
        Some(v) => args::number_in(v, "momentum", (0.0, 1.0, false), errs),
        None => Some(0.9),
    };
    let eps = match args.named("eps") {
        Some(v) => args::positive(v, "eps", errs),
        None => Some(1e-5),
    };
    Some((momentum?, eps?))
}

pub(crate) fn lower_dropout(args: &Bound, errs: &mut Errors) -> Option<f64> {
    args.positional(0)
        .and_then(|v| args::number_in(v, "dropout probability", (0.0, 1.0, false), errs))
}

/// γ (starts at 1), β (0), running mean (0) and running variance (1).
pub(crate) fn batchnorm_params(input: Shape) -> Vec<ParamSpec> {
    let c = input.channels();
    vec![
        ParamSpec::constant("weight", vec![c], Role::Scale, 1.0),
        ParamSpec::zeros("bias", vec![c], Role::Shift),
        ParamSpec::zeros("running_mean", vec![c], Role::RunningMean),
        ParamSpec::constant("running_var", vec![c], Role::RunningVar, 1.0),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batchnorm_is_per_channel_after_images() {
        let p = batchnorm_params(Shape::Image { c: 16, h: 8, w: 8 });
        let names: Vec<&str> = p.iter().map(|p| p.suffix).collect();
        assert_eq!(names, ["weight", "bias", "running_mean", "running_var"]);
        assert!(p.iter().all(|p| p.shape == [16]));
    }
}
