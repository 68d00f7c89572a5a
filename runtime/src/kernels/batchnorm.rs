//! Batch normalization (Ioffe & Szegedy, 2015, arXiv:1502.03167), per feature
//! of a vector or per channel of an image.
//!
//! Training uses the batch statistics `μ = mean(x)`, `σ² = mean((x - μ)²)`
//! (biased, as in the classic material) and `x̂ = (x - μ) / sqrt(σ² + ε)`,
//! `y = γ x̂ + β`. Inference uses the running averages instead.

use crate::Scalar;

/// Training forward over a batch. Writes `y`, the normalized `xhat`, and
/// the batch `mean` and `var` per channel.
///
/// # Shapes
/// - `gamma`, `beta`, `mean`, `var`: `[C]`
/// - `x`, `y`, `xhat`: `[batch, C, L]`, `L` = `height * width` (1 for vectors)
#[expect(
    clippy::too_many_arguments,
    reason = "each tensor and each output buffer is its own argument, as generated code holds them"
)]
pub fn forward_train<E: Scalar, const C: usize, const L: usize>(
    gamma: &[E; C],
    beta: &[E; C],
    eps: E,
    x: &[[[E; L]; C]],
    y: &mut [[[E; L]; C]],
    xhat: &mut [[[E; L]; C]],
    mean: &mut [E; C],
    var: &mut [E; C],
) {
    let count = E::from_usize(x.len() * L);
    for c in 0..C {
        let mut sum = E::ZERO;
        for s in x {
            for &v in &s[c] {
                sum += v;
            }
        }
        let mu = sum / count;
        let mut sq = E::ZERO;
        for s in x {
            for &v in &s[c] {
                let d = v - mu;
                sq += d * d;
            }
        }
        let sigma2 = sq / count;
        let inv = E::ONE / (sigma2 + eps).sqrt();
        for ((xs, ys), hs) in x.iter().zip(y.iter_mut()).zip(xhat.iter_mut()) {
            for l in 0..L {
                let h = (xs[c][l] - mu) * inv;
                hs[c][l] = h;
                ys[c][l] = gamma[c] * h + beta[c];
            }
        }
        mean[c] = mu;
        var[c] = sigma2;
    }
}

/// Inference forward in place, with the running statistics.
pub fn forward_eval_in_place<E: Scalar, const C: usize, const L: usize>(
    gamma: &[E; C],
    beta: &[E; C],
    running_mean: &[E; C],
    running_var: &[E; C],
    eps: E,
    xy: &mut [[[E; L]; C]],
) {
    for s in xy.iter_mut() {
        for c in 0..C {
            let scale = gamma[c] / (running_var[c] + eps).sqrt();
            let shift = beta[c] - running_mean[c] * scale;
            for v in s[c].iter_mut() {
                *v = *v * scale + shift;
            }
        }
    }
}

/// Inference forward, with the running statistics.
pub fn forward_eval<E: Scalar, const C: usize, const L: usize>(
    gamma: &[E; C],
    beta: &[E; C],
    running_mean: &[E; C],
    running_var: &[E; C],
    eps: E,
    x: &[[[E; L]; C]],
    y: &mut [[[E; L]; C]],
) {
    y.copy_from_slice(x);
    forward_eval_in_place(gamma, beta, running_mean, running_var, eps, y);
}

/// Training backward:
/// `dx = γ / (N sqrt(σ² + ε)) · (N dy - Σ dy - x̂ Σ (dy x̂))` per channel,
/// `dγ = Σ dy x̂`, `dβ = Σ dy`, sums over the batch and spatial positions.
/// Overwrites `dgamma`, `dbeta` and, when given, `dx`.
#[expect(
    clippy::too_many_arguments,
    reason = "each tensor and each gradient buffer is its own argument, as generated code holds them"
)]
pub fn backward<E: Scalar, const C: usize, const L: usize>(
    gamma: &[E; C],
    var: &[E; C],
    eps: E,
    xhat: &[[[E; L]; C]],
    dy: &[[[E; L]; C]],
    dgamma: &mut [E; C],
    dbeta: &mut [E; C],
    dx: Option<&mut [[[E; L]; C]]>,
) {
    let count = E::from_usize(xhat.len() * L);
    for c in 0..C {
        let (mut sum_dy, mut sum_dy_xhat) = (E::ZERO, E::ZERO);
        for (hs, ds) in xhat.iter().zip(dy) {
            for l in 0..L {
                sum_dy += ds[c][l];
                sum_dy_xhat += ds[c][l] * hs[c][l];
            }
        }
        dgamma[c] = sum_dy_xhat;
        dbeta[c] = sum_dy;
    }
    if let Some(dx) = dx {
        for c in 0..C {
            let inv = E::ONE / (var[c] + eps).sqrt();
            let k = gamma[c] * inv / count;
            for ((hs, ds), xs) in xhat.iter().zip(dy).zip(dx.iter_mut()) {
                for l in 0..L {
                    xs[c][l] = k * (count * ds[c][l] - dbeta[c] - hs[c][l] * dgamma[c]);
                }
            }
        }
    }
}

/// Writes a shard's moments into the running-statistic slots of its
/// gradient array: `weight · μ` and `weight · (σ² + μ²)`, where `weight` is
/// the shard's share of the batch. Summed over shards they are the batch's
/// `E[x]` and `E[x²]` exactly, however the batch was split.
///
/// # Shapes
/// - `slots`: `[2, C]`: the running-mean slots, then the running-variance slots
/// - `mean`, `var`: `[C]`
pub fn stage<E: Scalar>(slots: &mut [E], mean: &[E], var: &[E], weight: E) {
    let (m_slot, v_slot) = slots.split_at_mut(mean.len());
    for (((ms, vs), &m), &v) in m_slot.iter_mut().zip(v_slot.iter_mut()).zip(mean).zip(var) {
        *ms = weight * m;
        *vs = weight * (v + m * m);
    }
}

/// Folds a batch's moments, staged by [`stage`] and summed over shards,
/// into the running averages, with the classic convention
/// `running = momentum · running + (1 - momentum) · batch` and the biased
/// batch variance `E[x²] - E[x]²`.
///
/// # Shapes
/// - `running`, `moments`: `[2, C]`: means, then variances (second moments)
pub fn commit<E: Scalar>(momentum: E, running: &mut [E], moments: &[E]) {
    let c = running.len() / 2;
    let (mean, second) = moments.split_at(c);
    let (r_mean, r_var) = running.split_at_mut(c);
    for (((rm, rv), &m), &s) in r_mean
        .iter_mut()
        .zip(r_var.iter_mut())
        .zip(mean)
        .zip(second)
    {
        let var = (s - m * m).max(E::ZERO);
        *rm = momentum * *rm + (E::ONE - momentum) * m;
        *rv = momentum * *rv + (E::ONE - momentum) * var;
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_close, random, tol, wide};
    use super::*;
    use crate::kernels::reference;
    use crate::network::view::{planes, planes_mut};

    #[test]
    fn training_forward_matches_reference() {
        let x = random::<f64>(4 * 3 * 5, 11);
        let (gamma, beta) = ([1.5, 0.5, -1.0], [0.1, 0.0, 2.0]);
        let (mut y, mut xhat) = ([0.0; 60], [0.0; 60]);
        let (mut mean, mut var) = ([0.0; 3], [0.0; 3]);
        forward_train::<f64, 3, 5>(
            &gamma,
            &beta,
            1e-5,
            planes(&x),
            planes_mut(&mut y),
            planes_mut(&mut xhat),
            &mut mean,
            &mut var,
        );
        let mut want = [0.0; 60];
        reference::batchnorm_train(&wide(&x), &gamma, &beta, 1e-5, &mut want, (3, 5));
        assert_close(&y, &want, tol::<f64>(), "batch norm");
    }
}
