//! PReLU (He et al., 2015): `y = x > 0 ? x : α_c x`, with a learned slope per
//! channel (per feature after a flat layer).
//!
//! The slope may turn negative while training, so unlike the fixed
//! activations its derivative needs the input, not the output.

use crate::Scalar;

/// Forward pass over a batch.
///
/// # Shapes
/// - `alpha`: `[C]`
/// - `x`, `y`: `[batch, C, L]`, where `L` is `height * width` (1 for vectors)
pub fn forward<E: Scalar, const C: usize, const L: usize>(
    alpha: &[E; C],
    x: &[[[E; L]; C]],
    y: &mut [[[E; L]; C]],
) {
    for (x, y) in x.iter().zip(y.iter_mut()) {
        for ((xc, yc), &a) in x.iter().zip(y.iter_mut()).zip(alpha) {
            for (yv, &xv) in yc.iter_mut().zip(xc) {
                *yv = if xv > E::ZERO { xv } else { a * xv };
            }
        }
    }
}

/// Forward pass in place.
pub fn forward_in_place<E: Scalar, const C: usize, const L: usize>(
    alpha: &[E; C],
    xy: &mut [[[E; L]; C]],
) {
    for sample in xy.iter_mut() {
        for (xc, &a) in sample.iter_mut().zip(alpha) {
            for v in xc.iter_mut() {
                if *v <= E::ZERO {
                    *v *= a;
                }
            }
        }
    }
}

/// Backward pass: `dα_c = Σ dy · x` over non-positive inputs of channel `c`,
/// `dx = dy` (positive inputs) or `α_c dy`. Overwrites `dalpha` and `dx`.
pub fn backward<E: Scalar, const C: usize, const L: usize>(
    alpha: &[E; C],
    x: &[[[E; L]; C]],
    dy: &[[[E; L]; C]],
    dalpha: &mut [E; C],
    mut dx: Option<&mut [[[E; L]; C]]>,
) {
    *dalpha = [E::ZERO; C];
    for (s, (x, dy)) in x.iter().zip(dy).enumerate() {
        for c in 0..C {
            for l in 0..L {
                let (xv, g) = (x[c][l], dy[c][l]);
                let positive = xv > E::ZERO;
                if !positive {
                    dalpha[c] += g * xv;
                }
                if let Some(dx) = dx.as_deref_mut() {
                    dx[s][c][l] = if positive { g } else { alpha[c] * g };
                }
            }
        }
    }
}
