//! Checks backpropagation against numerical differentiation, as the classic
//! `numerical_gradient` does: for each parameter `θ_i`,
//! `(L(θ_i + h) - L(θ_i - h)) / 2h` against the backward pass's `∂L/∂θ_i`.
//!
//! Run it in `f64`: with `h = 1e-5` the central difference is accurate to
//! about `1e-10` there, while `f32` rounding alone is around `1e-3`.

use std::vec;
use std::vec::Vec;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::loss::Target;
use crate::{Scalar, StepCtx, Trainable, Workspace};

/// The outcome for one parameter tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorReport {
    /// The tensor's name (`conv1.weight`).
    pub name: &'static str,
    /// Elements checked.
    pub checked: usize,
    /// Largest relative error `|a - n| / max(|a|, |n|, floor)` found.
    pub max_rel_error: f64,
    /// Mean of `|a - n|` over the checked elements: the figure the classic
    /// material prints per tensor (around 1e-10 in `f64`).
    pub mean_abs_error: f64,
    /// Index (within the tensor) of the largest error.
    pub worst_index: usize,
    /// Analytic and numeric gradient at the worst index.
    pub worst: (f64, f64),
}

/// Settings of a check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// The finite-difference step.
    pub h: f64,
    /// Gradients smaller than this are compared absolutely (the error is
    /// divided by `floor`), so rounding noise around a zero gradient passes.
    pub floor: f64,
    /// Check every element of tensors up to this size, else `sample`
    /// seeded random elements.
    pub exhaustive_up_to: usize,
    /// Elements sampled from larger tensors.
    pub sample: usize,
    /// Seed of the dropout masks used for every evaluation.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            h: 1e-5,
            floor: 1e-4,
            exhaustive_up_to: 1000,
            sample: 64,
            seed: 0x5eed,
        }
    }
}

/// Compares the gradient of the mean loss over `(xs, ts)` computed by
/// backpropagation with central differences, for every trainable tensor.
///
/// The network is evaluated in training mode (dropout with the fixed mask of
/// `options.seed`, batch norm with batch statistics) and left unchanged.
///
/// # Panics
/// If `ts` is not as long as `xs`, or `xs` is empty.
pub fn check<N, T>(net: &mut N, xs: &[N::Input], ts: &[T], options: Options) -> Vec<TensorReport>
where
    N: Trainable,
    T: Target<N::Output>,
{
    assert!(!xs.is_empty(), "gradient check needs at least one sample");
    let b = xs.len();
    let mut data = vec![N::Elem::ZERO; N::workspace_len(b)];
    let mut index = vec![0u32; N::index_len(b)];
    let mut grads = vec![N::Elem::ZERO; N::STORE_LEN];
    let ctx = StepCtx::whole(options.seed, b);
    {
        let mut ws = Workspace {
            data: &mut data,
            index: &mut index,
        };
        net.forward_backward(xs, ts, &mut ws, &mut grads, ctx, None);
    }
    let mut loss_at = |net: &N| -> f64 {
        let mut ws = Workspace {
            data: &mut data,
            index: &mut index,
        };
        net.forward_loss(xs, ts, &mut ws, ctx).to_f64() / b as f64
    };
    let mut rng = StdRng::seed_from_u64(0x6a4d);
    let mut reports = Vec::new();
    for t in N::TENSORS.iter().filter(|t| t.role.is_trainable()) {
        let picks: Vec<usize> = if t.len <= options.exhaustive_up_to {
            (0..t.len).collect()
        } else {
            (0..options.sample)
                .map(|_| rng.random_range(0..t.len))
                .collect()
        };
        let mut report = TensorReport {
            name: t.name,
            checked: picks.len(),
            max_rel_error: 0.0,
            mean_abs_error: 0.0,
            worst_index: 0,
            worst: (0.0, 0.0),
        };
        for i in picks {
            let at = t.offset + i;
            let saved = net.params()[at];
            net.params_mut()[at] = N::Elem::from_f64(saved.to_f64() + options.h);
            let up = loss_at(net);
            net.params_mut()[at] = N::Elem::from_f64(saved.to_f64() - options.h);
            let down = loss_at(net);
            net.params_mut()[at] = saved;
            let numeric = (up - down) / (2.0 * options.h);
            let analytic = grads[at].to_f64();
            let scale = analytic.abs().max(numeric.abs()).max(options.floor);
            let rel = (analytic - numeric).abs() / scale;
            report.mean_abs_error += (analytic - numeric).abs() / report.checked as f64;
            if rel > report.max_rel_error || !rel.is_finite() {
                report.max_rel_error = rel;
                report.worst_index = i;
                report.worst = (analytic, numeric);
            }
        }
        reports.push(report);
    }
    reports
}

/// The largest relative error over all reports.
pub fn worst(reports: &[TensorReport]) -> f64 {
    reports.iter().map(|r| r.max_rel_error).fold(0.0, f64::max)
}
