//! Affine layer: `y = act(W x + b)` for each sample of a batch.
//!
//! `W` has PyTorch's layout `[OUT][IN]`. Forward is a tiled dot-product
//! matrix product (samples × weight rows); backward is two outer-product
//! matrix products, `dW = dYᵀ X` and `dX = dY W`.

use super::activation::Activation;
use super::dispatch::{MulAdd, entry};
use super::gemm::{self, Strides};
use crate::Scalar;

entry! {
    /// Forward pass over a batch.
    ///
    /// # Shapes
    /// - `w`: `[OUT, IN]`, `b` (when the layer has a bias): `[OUT]`
    /// - `x`: `[batch, IN]`, `y`: `[batch, OUT]`
    pub fn forward<E: Scalar, A: Activation<E>; const IN: usize, const OUT: usize>(
        w: &[[E; IN]; OUT],
        b: Option<&[E; OUT]>,
        x: &[[E; IN]],
        y: &mut [[E; OUT]],
        act: A,
    ) => forward_impl, portable forward_portable(
        (IN, x.len()),
        w.as_flattened(),
        b.map(|b| &b[..]),
        x.as_flattened(),
        y.as_flattened_mut(),
        act,
    );
}

#[inline(always)]
fn forward_impl<M: MulAdd, E: Scalar, A: Activation<E>, const IN: usize, const OUT: usize>(
    w: &[[E; IN]; OUT],
    b: Option<&[E; OUT]>,
    x: &[[E; IN]],
    y: &mut [[E; OUT]],
    act: A,
) {
    const { assert!(IN > 0 && OUT > 0, "affine: sizes must be positive") };
    forward_rows::<M, E, A>(
        (IN, x.len()),
        w.as_flattened(),
        b.map(|b| &b[..]),
        x.as_flattened(),
        y.as_flattened_mut(),
        act,
    );
}

/// [`forward_rows`] in the portable build, one for every shape.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline(never)]
fn forward_portable<E: Scalar, A: Activation<E>>(
    sizes: (usize, usize),
    w: &[E],
    b: Option<&[E]>,
    x: &[E],
    y: &mut [E],
    act: A,
) {
    forward_rows::<super::dispatch::Unfused, E, A>(sizes, w, b, x, y, act);
}

/// The forward pass on flat rows: `w` holds the weight rows, `x` and `y`
/// the `batch` samples' inputs and outputs, rows of `inputs` values and
/// of one value per weight row. The sample count is given, not divided
/// out of `x`'s length: the typed entry points know it, and LLVM does not
/// fold the division back.
#[inline(always)]
fn forward_rows<M: MulAdd, E: Scalar, A: Activation<E>>(
    (inputs, batch): (usize, usize),
    w: &[E],
    b: Option<&[E]>,
    x: &[E],
    y: &mut [E],
    act: A,
) {
    let outputs = w.len() / inputs;
    assert!(
        x.len() == batch * inputs && y.len() == batch * outputs,
        "affine: {} inputs, {} outputs",
        x.len() / inputs,
        y.len() / outputs
    );
    #[cfg(feature = "std")]
    if batch == 1 {
        let parts = crate::threads::split_for(inputs * outputs);
        if parts > 1 {
            return rows_parallel::<E, A>(inputs, w, b, x, y, act, parts);
        }
    }
    gemm::dot::<M, E>(
        batch,
        outputs,
        inputs,
        x,
        inputs,
        w,
        inputs,
        &mut |i, j, v| y[i * outputs + j] = act.forward(v + b.map_or(E::ZERO, |b| b[j])),
    );
}

/// One sample's outputs, split into `parts` row ranges computed in
/// parallel. Every output is summed exactly as in the unsplit product, so
/// the result does not depend on `parts`.
#[cfg(feature = "std")]
fn rows_parallel<E: Scalar, A: Activation<E>>(
    inputs: usize,
    w: &[E],
    b: Option<&[E]>,
    x: &[E],
    y: &mut [E],
    act: A,
    parts: usize,
) {
    if parts > 1 && y.len() > 8 {
        let mid = (y.len() / 2).next_multiple_of(8).min(y.len());
        let (w_lo, w_hi) = w.split_at(mid * inputs);
        let (b_lo, b_hi) = match b {
            Some(b) => {
                let (lo, hi) = b.split_at(mid);
                (Some(lo), Some(hi))
            }
            None => (None, None),
        };
        let (y_lo, y_hi) = y.split_at_mut(mid);
        rayon::join(
            || rows_parallel::<E, A>(inputs, w_lo, b_lo, x, y_lo, act, parts / 2),
            || rows_parallel::<E, A>(inputs, w_hi, b_hi, x, y_hi, act, parts - parts / 2),
        );
        return;
    }
    rows::<E, A>(inputs, w, b, x, y, act);
}

#[cfg(feature = "std")]
entry! {
    /// One sample's outputs for the weight rows `w`.
    fn rows<E: Scalar, A: Activation<E>;>(
        inputs: usize,
        w: &[E],
        b: Option<&[E]>,
        x: &[E],
        y: &mut [E],
        act: A,
    ) => rows_impl;
}

#[cfg(feature = "std")]
#[inline(always)]
fn rows_impl<M: MulAdd, E: Scalar, A: Activation<E>>(
    inputs: usize,
    w: &[E],
    b: Option<&[E]>,
    x: &[E],
    y: &mut [E],
    act: A,
) {
    let n = y.len();
    gemm::dot::<M, E>(1, n, inputs, x, inputs, w, inputs, &mut |_, j, v| {
        y[j] = act.forward(v + b.map_or(E::ZERO, |b| b[j]));
    });
}

entry! {
    /// Backward pass over a batch, from the gradient with respect to the
    /// pre-activation `dy` (the caller applies the activation's derivative).
    ///
    /// Overwrites `dw = Σ_samples dyᵀ x`, `db = Σ_samples dy` (when the layer
    /// has a bias) and, when given, `dx = dy W`.
    ///
    /// # Shapes
    /// - `w`, `dw`: `[OUT, IN]`; `db`: `[OUT]`
    /// - `x`, `dx`: `[batch, IN]`; `dy`: `[batch, OUT]`
    pub fn backward<E: Scalar; const IN: usize, const OUT: usize>(
        w: &[[E; IN]; OUT],
        x: &[[E; IN]],
        dy: &[[E; OUT]],
        dw: &mut [[E; IN]; OUT],
        db: Option<&mut [E; OUT]>,
        dx: Option<&mut [[E; IN]]>,
    ) => backward_impl, portable backward_portable(
        (IN, x.len()),
        w.as_flattened(),
        x.as_flattened(),
        dy.as_flattened(),
        dw.as_flattened_mut(),
        db.map(|db| &mut db[..]),
        dx.map(|dx| dx.as_flattened_mut()),
    );
}

#[inline(always)]
fn backward_impl<M: MulAdd, E: Scalar, const IN: usize, const OUT: usize>(
    w: &[[E; IN]; OUT],
    x: &[[E; IN]],
    dy: &[[E; OUT]],
    dw: &mut [[E; IN]; OUT],
    db: Option<&mut [E; OUT]>,
    dx: Option<&mut [[E; IN]]>,
) {
    const { assert!(IN > 0 && OUT > 0, "affine: sizes must be positive") };
    backward_rows::<M, E>(
        (IN, x.len()),
        w.as_flattened(),
        x.as_flattened(),
        dy.as_flattened(),
        dw.as_flattened_mut(),
        db.map(|db| &mut db[..]),
        dx.map(|dx| dx.as_flattened_mut()),
    );
}

/// [`backward_rows`] in the portable build, one for every shape.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline(never)]
fn backward_portable<E: Scalar>(
    sizes: (usize, usize),
    w: &[E],
    x: &[E],
    dy: &[E],
    dw: &mut [E],
    db: Option<&mut [E]>,
    dx: Option<&mut [E]>,
) {
    backward_rows::<super::dispatch::Unfused, E>(sizes, w, x, dy, dw, db, dx);
}

/// The backward pass on flat rows, as [`forward_rows`]: `w` and `dw` hold
/// the weight rows, `x`, `dx` and `dy` the `batch` samples' rows.
#[inline(always)]
fn backward_rows<M: MulAdd, E: Scalar>(
    (inputs, batch): (usize, usize),
    w: &[E],
    x: &[E],
    dy: &[E],
    dw: &mut [E],
    db: Option<&mut [E]>,
    dx: Option<&mut [E]>,
) {
    let outputs = w.len() / inputs;
    assert!(
        x.len() == batch * inputs && dy.len() == batch * outputs,
        "affine: {} inputs, {} output gradients",
        x.len() / inputs,
        dy.len() / outputs
    );
    gemm::outer::<M, E>(
        outputs,
        inputs,
        batch,
        dy,
        Strides { k: outputs, i: 1 },
        x,
        inputs,
        dw,
        inputs,
        false,
    );
    if let Some(db) = db {
        db.fill(E::ZERO);
        for row in dy.chunks_exact(outputs) {
            for (d, &g) in db.iter_mut().zip(row) {
                *d += g;
            }
        }
    }
    if let Some(dx) = dx {
        assert_eq!(
            dx.len(),
            batch * inputs,
            "affine: {batch} inputs, {} input gradients",
            dx.len() / inputs
        );
        gemm::outer::<M, E>(
            batch,
            inputs,
            outputs,
            dy,
            Strides { k: 1, i: outputs },
            w,
            inputs,
            dx,
            inputs,
            false,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::activation::Identity;
    use super::super::dispatch::Unfused;
    use super::super::test_util::{assert_close, random, tol, wide};
    use super::*;
    use crate::kernels::reference;

    fn check<M: MulAdd, E: Scalar, const IN: usize, const OUT: usize>(batch: usize, seed: u64) {
        let (w, b) = (random::<E>(IN * OUT, seed), random::<E>(OUT, seed + 1));
        let (x, dy) = (
            random::<E>(batch * IN, seed + 2),
            random::<E>(batch * OUT, seed + 3),
        );
        let mut y = std::vec![E::ZERO; batch * OUT];
        forward_rows::<M, E, Identity>((IN, batch), &w, Some(&b), &x, &mut y, Identity);
        let mut want = std::vec![0.0; batch * OUT];
        reference::affine_forward(&wide(&w), &wide(&b), &wide(&x), &mut want, IN, OUT);
        let tag = std::format!("affine {IN}->{OUT} batch {batch}");
        assert_close(&y, &want, tol::<E>(), &tag);

        let (mut dw, mut db, mut dx) = (
            std::vec![E::ZERO; IN * OUT],
            [E::ZERO; OUT],
            std::vec![E::ZERO; batch * IN],
        );
        backward_rows::<M, E>(
            (IN, batch),
            &w,
            &x,
            &dy,
            &mut dw,
            Some(&mut db),
            Some(&mut dx),
        );
        let (mut rdw, mut rdb, mut rdx) = (
            std::vec![0.0; IN * OUT],
            std::vec![0.0; OUT],
            std::vec![0.0; batch * IN],
        );
        reference::affine_backward(
            &wide(&w),
            &wide(&x),
            &wide(&dy),
            &mut rdw,
            &mut rdb,
            &mut rdx,
            IN,
            OUT,
        );
        assert_close(&dw, &rdw, tol::<E>(), &std::format!("{tag} dw"));
        assert_close(&db, &rdb, tol::<E>(), &std::format!("{tag} db"));
        assert_close(&dx, &rdx, tol::<E>(), &std::format!("{tag} dx"));
    }

    fn check_all<M: MulAdd, E: Scalar>() {
        for (batch, seed) in [(1, 1), (2, 2), (5, 3), (13, 4)] {
            check::<M, E, 1, 1>(batch, seed);
            check::<M, E, 7, 3>(batch, seed);
            check::<M, E, 8, 10>(batch, seed);
            check::<M, E, 33, 17>(batch, seed);
            check::<M, E, 100, 10>(batch, seed);
            check::<M, E, 300, 50>(batch, seed);
        }
    }

    #[test]
    fn portable_matches_reference() {
        check_all::<Unfused, f32>();
        check_all::<Unfused, f64>();
    }

    #[test]
    fn fused_matches_reference() {
        check_all::<super::super::dispatch::Fused, f32>();
        check_all::<super::super::dispatch::Fused, f64>();
    }
}
