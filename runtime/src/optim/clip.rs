//! Gradient clipping over the whole flat gradient, before the optimizer runs.

use super::trainable;
use crate::{Scalar, TensorInfo};

/// Scales the gradient so its global L2 norm is at most `max_norm`, and
/// returns the norm before clipping.
///
/// The norm `‖∇‖ = √(Σ ∇²)` runs over every trainable tensor together
/// (running statistics are skipped), accumulated in `f64`. If it exceeds
/// `max_norm`, every trainable element is multiplied by `max_norm / ‖∇‖`, so
/// the direction is kept and the new norm is `max_norm`. Unlike the
/// `max_norm / (‖∇‖ + 1e-6)` of some frameworks, no ε is added: the division
/// only happens when `‖∇‖ > max_norm ≥ 0`.
///
/// A non-finite norm (a NaN or infinite gradient) is returned as is and the
/// gradient is left untouched: scaling could not repair it, and the caller
/// should skip the step.
///
/// # Panics
/// If `max_norm` is negative or NaN, or a tensor's range lies outside `grads`.
pub fn clip_grad_norm<E: Scalar>(grads: &mut [E], tensors: &[TensorInfo], max_norm: f64) -> f64 {
    assert!(
        max_norm >= 0.0,
        "clip_grad_norm: max_norm must be at least 0, found {max_norm}"
    );
    let sum_sq: f64 = trainable(grads, tensors)
        .flat_map(|(_, g)| g.iter())
        .map(|&g| {
            let g = g.to_f64();
            g * g
        })
        .sum();
    let norm = libm::sqrt(sum_sq);
    if norm.is_finite() && norm > max_norm {
        let scale = E::from_f64(max_norm / norm);
        for tensor in tensors.iter().filter(|t| t.role.is_trainable()) {
            for g in &mut grads[tensor.range()] {
                *g *= scale;
            }
        }
    }
    norm
}

/// Clamps every trainable gradient element into `[-max, max]`.
///
/// Running statistics are skipped. A NaN stays NaN, so a broken gradient is
/// still visible after clipping.
///
/// # Panics
/// If `max` is negative or NaN, or a tensor's range lies outside `grads`.
pub fn clip_grad_value<E: Scalar>(grads: &mut [E], tensors: &[TensorInfo], max: f64) {
    assert!(
        max >= 0.0,
        "clip_grad_value: max must be at least 0, found {max}"
    );
    let (hi, lo) = (E::from_f64(max), E::from_f64(-max));
    for tensor in tensors.iter().filter(|t| t.role.is_trainable()) {
        for g in &mut grads[tensor.range()] {
            if *g > hi {
                *g = hi;
            } else if *g < lo {
                *g = lo;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_util::{TENSORS, assert_close};

    #[test]
    fn clip_grad_norm_scales_to_max_norm() {
        // Trainable part: 3, 4, 0, 0, 0, 12 → ‖∇‖ = 13; scale 6.5 / 13 = 0.5.
        let mut grads = [3.0, 4.0, 0.0, 0.0, 0.0, 12.0, 100.0, 100.0];
        let norm = clip_grad_norm(&mut grads, TENSORS, 6.5);
        assert!((norm - 13.0).abs() < 1e-12);
        assert_close(&grads, &[1.5, 2.0, 0.0, 0.0, 0.0, 6.0, 100.0, 100.0]);
    }

    #[test]
    fn clip_grad_norm_below_max_leaves_gradient() {
        let mut grads = [3.0, 4.0, 0.0, 0.0, 0.0, 12.0, 100.0, 100.0];
        let before = grads;
        assert!((clip_grad_norm(&mut grads, TENSORS, 13.5) - 13.0).abs() < 1e-12);
        assert_eq!(grads, before);
    }

    #[test]
    fn clip_grad_norm_leaves_non_finite_gradient() {
        let mut grads = [f32::NAN, 4.0, 0.0, 0.0, 0.0, 12.0, 0.0, 0.0];
        assert!(clip_grad_norm(&mut grads, TENSORS, 1.0).is_nan());
        assert_eq!(grads[1], 4.0);
    }

    #[test]
    #[should_panic(expected = "max_norm must be at least 0, found -1")]
    fn clip_grad_norm_rejects_negative_max() {
        clip_grad_norm(&mut [1.0f64; 8], TENSORS, -1.0);
    }

    #[test]
    fn clip_grad_value_clamps_trainable_elements() {
        let mut grads = [0.3, -0.7, 0.5, -0.5, 2.0, 0.0, 100.0, -100.0];
        clip_grad_value(&mut grads, TENSORS, 0.5);
        assert_close(&grads, &[0.3, -0.5, 0.5, -0.5, 0.5, 0.0, 100.0, -100.0]);
        let mut nan = [f64::NAN; 8];
        clip_grad_value(&mut nan, TENSORS, 0.5);
        assert!(nan[0].is_nan());
    }
}
