//! Softmax over each sample: `y_k = e^{x_k} / Σ_j e^{x_j}`, computed as
//! `e^{x_k - max x}` so no exponent overflows.
//!
//! Training with cross-entropy never calls [`backward`]: the loss fuses the
//! two into `(y - t) / N` (see `loss::softmax_cross_entropy`). It serves
//! other losses, such as `loss = mse` after a softmax.

use crate::Scalar;
use crate::loss::softmax_row;

/// Forward pass over a batch.
///
/// # Shapes
/// - `x`, `y`: `[batch, N]`
pub fn forward<E: Scalar, const N: usize>(x: &[[E; N]], y: &mut [[E; N]]) {
    for (x, y) in x.iter().zip(y.iter_mut()) {
        softmax_row(x, y);
    }
}

/// Forward pass in place.
pub fn forward_in_place<E: Scalar, const N: usize>(xy: &mut [[E; N]]) {
    for row in xy.iter_mut() {
        let x = *row;
        softmax_row(&x, row);
    }
}

/// Backward pass: `dx = y ⊙ (dy - Σ_k dy_k y_k)`. Overwrites `dx`.
///
/// # Shapes
/// - `y`, `dy`, `dx`: `[batch, N]`
pub fn backward<E: Scalar, const N: usize>(y: &[[E; N]], dy: &[[E; N]], dx: &mut [[E; N]]) {
    for ((y, dy), dx) in y.iter().zip(dy).zip(dx.iter_mut()) {
        let dot: E = y.iter().zip(dy).map(|(&a, &b)| a * b).sum();
        for k in 0..N {
            dx[k] = y[k] * (dy[k] - dot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_close, random, tol, wide};
    use super::*;
    use crate::network::view::{rows, rows_mut};

    #[test]
    fn softmax_matches_reference() {
        let x = random::<f32>(3 * 10, 9);
        let mut y = [0.0f32; 30];
        forward::<f32, 10>(rows(&x), rows_mut(&mut y));
        let mut want = [0.0; 30];
        crate::kernels::reference::softmax(&wide(&x), &mut want, 10);
        assert_close(&y, &want, tol::<f32>(), "softmax");
    }
}
