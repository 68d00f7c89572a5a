//! Losses: value and gradient, in numerically stable forms.
//!
//! The loss of a network follows its last layer: `softmax` trains with
//! cross-entropy, `sigmoid` with binary cross-entropy, anything else with
//! mean squared error; a declaration can also state it (`loss = mse`).
//! Softmax and sigmoid losses are computed from the logits, the input of the
//! last layer, so the gradient is `(y - t) / N` directly and no `ln(0)` can
//! occur.
//!
//! Every function returns the **sum** of the per-sample losses and writes
//! gradients already multiplied by `scale` (the caller passes `1 / N` for
//! the batch mean), so shards of a batch can be summed.

use crate::{Scalar, Tensor};

/// The loss a network is trained with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LossKind {
    /// Softmax followed by cross-entropy, from the logits.
    SoftmaxCrossEntropy,
    /// Sigmoid followed by binary cross-entropy, from the logits.
    SigmoidBinaryCrossEntropy,
    /// `½ Σ (y - t)²` per sample.
    MeanSquaredError,
}

/// What a network output is compared with: a class label or a dense target.
///
/// Implemented for `usize` (a class index, read as a one-hot vector; with a
/// single output, as the binary target `0.0` or `1.0`) and for the output
/// type itself (one-hot, soft or regression targets).
pub trait Target<O: Tensor>: Sync {
    /// The class index, when the target is a label.
    fn class(&self) -> Option<usize>;
    /// Target value of output element `k` (row-major).
    fn value(&self, k: usize) -> O::Elem;
}

impl<O: Tensor> Target<O> for usize {
    #[inline(always)]
    fn class(&self) -> Option<usize> {
        Some(*self)
    }
    #[inline(always)]
    fn value(&self, k: usize) -> O::Elem {
        let hot = if O::LEN == 1 { *self == 1 } else { k == *self };
        if hot {
            <O::Elem as Scalar>::ONE
        } else {
            <O::Elem as Scalar>::ZERO
        }
    }
}

/// The first label that is no class of an output of `O::LEN` elements (a
/// single output takes the labels 0 and 1), as `(index, label)`.
pub fn first_misfit<O: Tensor, T: Target<O>>(targets: &[T]) -> Option<(usize, usize)> {
    let classes = O::LEN.max(2);
    targets
        .iter()
        .enumerate()
        .find_map(|(i, t)| t.class().filter(|&c| c >= classes).map(|c| (i, c)))
}

impl<O: Tensor> Target<O> for O {
    #[inline(always)]
    fn class(&self) -> Option<usize> {
        None
    }
    #[inline(always)]
    fn value(&self, k: usize) -> O::Elem {
        self.as_flat()[k]
    }
}

/// Softmax of one row, written to `out`: `y_k = e^(z_k - max z) / Σ e^(z_j - max z)`.
///
/// Returns `ln Σ e^z` (log-sum-exp), which cross-entropy needs.
#[inline]
pub fn softmax_row<E: Scalar>(z: &[E], out: &mut [E]) -> E {
    let max = z.iter().copied().fold(z[0], E::max);
    let mut sum = E::ZERO;
    for (o, &v) in out.iter_mut().zip(z) {
        let e = (v - max).exp();
        *o = e;
        sum += e;
    }
    let inv = E::ONE / sum;
    for o in out.iter_mut() {
        *o *= inv;
    }
    max + sum.ln()
}

/// Softmax cross-entropy over a batch, from logits.
///
/// Writes the probabilities to `probs`, the gradient with respect to the
/// logits `scale * (y - t)` to `grad` when given, and returns
/// `Σ_samples (ln Σ_k e^{z_k} - Σ_k t_k z_k)`.
///
/// # Shapes
/// - `logits`, `probs`, `grad`: `[batch, O::LEN]`, flat
/// - `targets`: `[batch]`
pub fn softmax_cross_entropy<O: Tensor, T: Target<O>>(
    logits: &[O::Elem],
    targets: &[T],
    probs: &mut [O::Elem],
    mut grad: Option<&mut [O::Elem]>,
    scale: O::Elem,
) -> O::Elem {
    let n = O::LEN;
    let mut total = O::Elem::ZERO;
    for (s, t) in targets.iter().enumerate() {
        let z = &logits[s * n..(s + 1) * n];
        let y = &mut probs[s * n..(s + 1) * n];
        let lse = softmax_row(z, y);
        // The loss of a target with total mass `m` is `m·lse - t·z`, whose
        // gradient is `m·y - t`: `y - t` for labels and distributions.
        let (loss, mass) = match t.class() {
            Some(c) if c < n => (lse - z[c], O::Elem::ONE),
            _ => {
                let mut dot = O::Elem::ZERO;
                let mut mass = O::Elem::ZERO;
                for (k, &zk) in z.iter().enumerate() {
                    let tk = t.value(k);
                    dot += tk * zk;
                    mass += tk;
                }
                (mass * lse - dot, mass)
            }
        };
        total += loss;
        if let Some(g) = grad.as_deref_mut() {
            for (k, gk) in g[s * n..(s + 1) * n].iter_mut().enumerate() {
                *gk = scale * (mass * y[k] - t.value(k));
            }
        }
    }
    total
}

/// Sigmoid binary cross-entropy over a batch, from logits.
///
/// Per element: `max(z, 0) - z t + ln(1 + e^{-|z|})`, the stable form of
/// `-t ln σ(z) - (1 - t) ln(1 - σ(z))`. Writes `σ(z)` to `probs` and
/// `scale * (σ(z) - t)` to `grad` when given.
///
/// # Shapes
/// - `logits`, `probs`, `grad`: `[batch, O::LEN]`, flat
pub fn sigmoid_binary_cross_entropy<O: Tensor, T: Target<O>>(
    logits: &[O::Elem],
    targets: &[T],
    probs: &mut [O::Elem],
    mut grad: Option<&mut [O::Elem]>,
    scale: O::Elem,
) -> O::Elem {
    let n = O::LEN;
    let mut total = O::Elem::ZERO;
    for (s, t) in targets.iter().enumerate() {
        for k in 0..n {
            let i = s * n + k;
            let z = logits[i];
            let tk = t.value(k);
            let y = sigmoid(z);
            probs[i] = y;
            total += z.max(O::Elem::ZERO) - z * tk + (-z.abs()).exp().ln_1p();
            if let Some(g) = grad.as_deref_mut() {
                g[i] = scale * (y - tk);
            }
        }
    }
    total
}

/// Mean squared error over a batch: per sample `½ Σ_k (y_k - t_k)²`, the
/// classic `mean_squared_error`. Writes `scale * (y - t)` to `grad` when given.
///
/// # Shapes
/// - `outputs`, `grad`: `[batch, O::LEN]`, flat
pub fn mean_squared_error<O: Tensor, T: Target<O>>(
    outputs: &[O::Elem],
    targets: &[T],
    mut grad: Option<&mut [O::Elem]>,
    scale: O::Elem,
) -> O::Elem {
    let n = O::LEN;
    let half = O::Elem::from_f64(0.5);
    let mut total = O::Elem::ZERO;
    for (s, t) in targets.iter().enumerate() {
        for k in 0..n {
            let i = s * n + k;
            let d = outputs[i] - t.value(k);
            total += half * d * d;
            if let Some(g) = grad.as_deref_mut() {
                g[i] = scale * d;
            }
        }
    }
    total
}

/// The logistic function `1 / (1 + e^{-x})`, without overflow for large `|x|`.
#[inline(always)]
pub fn sigmoid<E: Scalar>(x: E) -> E {
    if x >= E::ZERO {
        E::ONE / (E::ONE + (-x).exp())
    } else {
        let e = x.exp();
        e / (E::ONE + e)
    }
}

/// Index of the largest element (the first one on ties).
///
/// A NaN counts as larger than every number, as in `torch.argmax` and
/// `numpy.argmax`: the index of the first NaN is returned, so a NaN output
/// is not mistaken for a confident class other than its own position.
/// `0` for an empty slice.
pub fn argmax<E: Scalar>(v: &[E]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x.is_nan() {
            return i;
        }
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// Whether an output classifies its target correctly.
///
/// With several outputs the predicted class is the argmax; with one output
/// (binary classification) it is `y > 0.5`. A dense target's class is its
/// argmax, or `t > 0.5` with one output. An output holding a NaN is never
/// correct: it predicts nothing.
pub fn is_correct<O: Tensor, T: Target<O>>(output: &[O::Elem], target: &T) -> bool {
    let half = O::Elem::from_f64(0.5);
    if output.iter().any(|y| y.is_nan()) {
        return false;
    }
    if O::LEN == 1 {
        return (output[0] > half) == (target.value(0) > half);
    }
    let want = match target.class() {
        Some(c) => c,
        None => {
            let mut best = 0;
            for k in 1..O::LEN {
                if target.value(k) > target.value(best) {
                    best = k;
                }
            }
            best
        }
    };
    argmax(output) == want
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_entropy_matches_log_of_softmax() {
        let z = [1.0f64, 2.0, 3.0];
        let mut y = [0.0; 3];
        let mut g = [0.0; 3];
        let loss = softmax_cross_entropy::<[f64; 3], usize>(&z, &[2], &mut y, Some(&mut g), 0.5);
        let expect = -(3f64.exp() / (1f64.exp() + 2f64.exp() + 3f64.exp())).ln();
        assert!((loss - expect).abs() < 1e-12);
        assert!((g[2] - 0.5 * (y[2] - 1.0)).abs() < 1e-15);
        assert!((g[0] - 0.5 * y[0]).abs() < 1e-15);
    }

    #[test]
    fn cross_entropy_survives_huge_logits() {
        let z = [1000.0f32, -1000.0];
        let mut y = [0.0; 2];
        let loss = softmax_cross_entropy::<[f32; 2], usize>(&z, &[1], &mut y, None, 1.0);
        assert_eq!(loss, 2000.0);
        assert_eq!(y, [1.0, 0.0]);
    }

    #[test]
    fn one_hot_target_equals_label() {
        let z = [0.3f64, -0.2, 0.9, 0.1];
        let (mut y1, mut y2) = ([0.0; 4], [0.0; 4]);
        let a = softmax_cross_entropy::<[f64; 4], usize>(&z, &[1], &mut y1, None, 1.0);
        let t = [[0.0, 1.0, 0.0, 0.0]];
        let b = softmax_cross_entropy::<[f64; 4], [f64; 4]>(&z, &t, &mut y2, None, 1.0);
        assert!((a - b).abs() < 1e-15);
    }

    #[test]
    fn soft_targets_of_any_mass_get_their_own_gradient() {
        let z = [0.2f64, -0.4, 1.1];
        let t = [[0.5, 1.0, 0.25]];
        let (mut y, mut g) = ([0.0; 3], [0.0; 3]);
        softmax_cross_entropy::<[f64; 3], _>(&z, &t, &mut y, Some(&mut g), 1.0);
        for k in 0..3 {
            let h = 1e-6;
            let mut zp = z;
            zp[k] += h;
            let mut zm = z;
            zm[k] -= h;
            let lp = softmax_cross_entropy::<[f64; 3], _>(&zp, &t, &mut y, None, 1.0);
            let lm = softmax_cross_entropy::<[f64; 3], _>(&zm, &t, &mut y, None, 1.0);
            assert!((g[k] - (lp - lm) / (2.0 * h)).abs() < 1e-8, "dz{k}");
        }
    }

    #[test]
    fn single_outputs_read_labels_as_binary_targets() {
        assert_eq!(<usize as Target<[f32; 1]>>::value(&1, 0), 1.0);
        assert_eq!(<usize as Target<[f32; 1]>>::value(&0, 0), 0.0);
        assert!(is_correct::<[f32; 1], usize>(&[0.9], &1));
        assert!(is_correct::<[f32; 1], usize>(&[0.1], &0));
        assert_eq!(first_misfit::<[f32; 1], usize>(&[0, 1, 2]), Some((2, 2)));
        assert_eq!(first_misfit::<[f32; 10], usize>(&[9, 10]), Some((1, 10)));
        assert_eq!(first_misfit::<[f32; 10], usize>(&[0, 9]), None);
    }

    #[test]
    fn bce_is_stable_and_correct() {
        let z = [0.0f64, 50.0, -50.0];
        let t = [[1.0, 1.0, 0.0]];
        let mut y = [0.0; 3];
        let loss = sigmoid_binary_cross_entropy::<[f64; 3], _>(&z, &t, &mut y, None, 1.0);
        assert!((loss - (2f64.ln() + 2.0 * (-50f64).exp().ln_1p())).abs() < 1e-12);
        let far =
            sigmoid_binary_cross_entropy::<[f64; 1], _>(&[-800.0], &[[1.0]], &mut [0.0], None, 1.0);
        assert_eq!(far, 800.0);
    }

    #[test]
    fn mse_is_half_sum_of_squares() {
        let y = [1.0f64, 2.0];
        let mut g = [0.0; 2];
        let loss = mean_squared_error::<[f64; 2], _>(&y, &[[0.0, 4.0]], Some(&mut g), 1.0);
        assert_eq!(loss, 2.5);
        assert_eq!(g, [1.0, -2.0]);
    }

    #[test]
    fn nan_propagates_through_every_loss() {
        let (mut y, mut g) = ([0.0f32; 3], [0.0f32; 3]);
        let z = [0.5, f32::NAN, -1.0];
        let ce = softmax_cross_entropy::<[f32; 3], usize>(&z, &[0], &mut y, Some(&mut g), 1.0);
        assert!(ce.is_nan() && y.iter().all(|v| v.is_nan()) && g.iter().all(|v| v.is_nan()));
        // NaN as the first logit too: the softmax shift is NaN either way.
        let z = [f32::NAN, 0.5, -1.0];
        let ce = softmax_cross_entropy::<[f32; 3], usize>(&z, &[1], &mut y, None, 1.0);
        assert!(ce.is_nan() && y.iter().all(|v| v.is_nan()));
        let bce = sigmoid_binary_cross_entropy::<[f32; 1], usize>(
            &[f32::NAN],
            &[1],
            &mut [0.0],
            Some(&mut [0.0]),
            1.0,
        );
        assert!(bce.is_nan());
        assert!(sigmoid(f64::NAN).is_nan());
        let mse = mean_squared_error::<[f64; 2], _>(&[1.0, f64::NAN], &[[0.0, 0.0]], None, 1.0);
        assert!(mse.is_nan());
        // A NaN target poisons the loss as a NaN output does.
        let t = [[0.0, f64::NAN]];
        assert!(mean_squared_error::<[f64; 2], _>(&[1.0, 0.0], &t, None, 1.0).is_nan());
    }

    #[test]
    fn nan_outputs_are_never_correct() {
        assert_eq!(argmax(&[0.1f32, f32::NAN, 0.9]), 1);
        assert_eq!(argmax(&[f32::NAN, 0.5]), 0);
        assert_eq!(argmax(&[0.1f32, 0.9, 0.9]), 1);
        assert!(!is_correct::<[f32; 3], usize>(&[0.1, f32::NAN, 0.2], &1));
        assert!(!is_correct::<[f32; 3], usize>(&[f32::NAN; 3], &0));
        assert!(!is_correct::<[f32; 1], usize>(&[f32::NAN], &0));
    }

    #[test]
    fn correctness_uses_argmax_or_threshold() {
        assert!(is_correct::<[f32; 3], usize>(&[0.1, 0.7, 0.2], &1));
        assert!(!is_correct::<[f32; 3], _>(
            &[0.1, 0.7, 0.2],
            &[1.0, 0.0, 0.0]
        ));
        assert!(is_correct::<[f32; 1], _>(&[0.8], &[1.0]));
    }
}
