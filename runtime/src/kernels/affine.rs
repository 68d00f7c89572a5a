//! Affine layer: `y = act(W x + b)` for each sample of a batch.
//!
//! `W` has PyTorch's layout `[OUT][IN]`, so each output is a dot product of
//! contiguous rows.

use super::activation::Activation;
use crate::Scalar;

/// Forward pass over a batch.
///
/// # Shapes
/// - `w`: `[OUT, IN]`, `b`: `[OUT]`
/// - `x`: `[batch, IN]`, `y`: `[batch, OUT]`
pub fn forward<E: Scalar, A: Activation<E>, const IN: usize, const OUT: usize>(
    w: &[[E; IN]; OUT],
    b: &[E; OUT],
    x: &[[E; IN]],
    y: &mut [[E; OUT]],
    act: A,
) {
    const { assert!(IN > 0 && OUT > 0, "affine: sizes must be positive") };
    debug_assert_eq!(x.len(), y.len());
    for (x, y) in x.iter().zip(y.iter_mut()) {
        for ((yo, wo), &bo) in y.iter_mut().zip(w).zip(b) {
            let mut acc = bo;
            for (&wi, &xi) in wo.iter().zip(x) {
                acc += wi * xi;
            }
            *yo = act.forward(acc);
        }
    }
}

/// Backward pass over a batch, from the gradient with respect to the
/// pre-activation `dy` (the caller applies the activation's derivative).
///
/// Overwrites `dw = Σ_samples dyᵀ x`, `db = Σ_samples dy` and, when given,
/// `dx = dy W`.
///
/// # Shapes
/// - `w`, `dw`: `[OUT, IN]`; `db`: `[OUT]`
/// - `x`, `dx`: `[batch, IN]`; `dy`: `[batch, OUT]`
pub fn backward<E: Scalar, const IN: usize, const OUT: usize>(
    w: &[[E; IN]; OUT],
    x: &[[E; IN]],
    dy: &[[E; OUT]],
    dw: &mut [[E; IN]; OUT],
    db: &mut [E; OUT],
    dx: Option<&mut [[E; IN]]>,
) {
    const { assert!(IN > 0 && OUT > 0, "affine: sizes must be positive") };
    debug_assert_eq!(x.len(), dy.len());
    for (o, (dwo, dbo)) in dw.iter_mut().zip(db.iter_mut()).enumerate() {
        *dwo = [E::ZERO; IN];
        *dbo = E::ZERO;
        for (x, dy) in x.iter().zip(dy) {
            let g = dy[o];
            *dbo += g;
            for (d, &xi) in dwo.iter_mut().zip(x) {
                *d += g * xi;
            }
        }
    }
    if let Some(dx) = dx {
        for (dx, dy) in dx.iter_mut().zip(dy) {
            *dx = [E::ZERO; IN];
            for (wo, &g) in w.iter().zip(dy) {
                for (d, &wi) in dx.iter_mut().zip(wo) {
                    *d += g * wi;
                }
            }
        }
    }
}
