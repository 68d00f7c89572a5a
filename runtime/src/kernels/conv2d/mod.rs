//! 2-D convolution (cross-correlation, as in PyTorch) with an optional
//! folded activation and an optional folded max pool.
//!
//! `out = (input + 2*pad - kernel) / stride + 1` per axis; the macro has
//! checked that this division is exact. Weights use PyTorch's layout
//! `[F][C][KH][KW]`.
//!
//! Stride-1 convolutions without padding and with rows of at most 64
//! outputs take the register-tiled path (`tiled.rs`); everything else the
//! general loops (`generic.rs`). Both sum each output in the order bias,
//! then channels, kernel rows, kernel columns.

mod generic;
mod tiled;

use super::activation::{Activation, Identity};
use super::dispatch::{MulAdd, entry};
use crate::Scalar;

/// Whether the tiled path handles these sizes.
const fn tiled(sh: usize, sw: usize, ph: usize, pw: usize, ow: usize) -> bool {
    sh == 1 && sw == 1 && ph == 0 && pw == 0 && ow <= 64
}

entry! {
    /// Forward pass over a batch: `y = act(conv(x, w) + b)`.
    ///
    /// # Shapes
    /// - `w`: `[F, C, KH, KW]`, `b`: `[F]`
    /// - `x`: `[batch, C, H, W]`, `y`: `[batch, F, OH, OW]`
    pub fn forward<E: Scalar, A: Activation<E>;
        const C: usize, const H: usize, const W: usize, const F: usize, const KH: usize, const KW: usize,
        const SH: usize, const SW: usize, const PH: usize, const PW: usize, const OH: usize, const OW: usize>(
        w: &[[[[E; KW]; KH]; C]; F],
        b: &[E; F],
        x: &[[[[E; W]; H]; C]],
        y: &mut [[[[E; OW]; OH]; F]],
        act: A,
    ) => forward_impl;
}

#[inline(always)]
fn forward_impl<
    M: MulAdd,
    E: Scalar,
    A: Activation<E>,
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const OH: usize,
    const OW: usize,
>(
    w: &[[[[E; KW]; KH]; C]; F],
    b: &[E; F],
    x: &[[[[E; W]; H]; C]],
    y: &mut [[[[E; OW]; OH]; F]],
    act: A,
) {
    const {
        assert!(
            (H + 2 * PH - KH) / SH + 1 == OH && (W + 2 * PW - KW) / SW + 1 == OW,
            "conv2d: output extent does not match (input + 2*pad - kernel) / stride + 1"
        )
    };
    assert_eq!(
        x.len(),
        y.len(),
        "conv2d: {} inputs, {} outputs",
        x.len(),
        y.len()
    );
    if tiled(SH, SW, PH, PW, OW) {
        tiled::forward::<M, E, A, C, H, W, F, KH, KW, OH, OW, 1, 1, OH, OW>(w, b, x, y, None, act);
    } else {
        generic::forward::<E, A, C, H, W, F, KH, KW, SH, SW, PH, PW, OH, OW>(w, b, x, y, act);
    }
}

entry! {
    /// Forward pass with a folded max pool over tiling `WH × WW` windows
    /// (`OH = QH · WH`, `OW = QW · WW`): `y = maxpool(act(conv(x, w) + b))`.
    ///
    /// `argmax`, when given (training), receives per pooled output the flat
    /// index `oy * OW + ox` of the winning convolution output (the first on
    /// ties).
    ///
    /// # Shapes
    /// - `x`: `[batch, C, H, W]`
    /// - `y`, `argmax`: `[batch, F, QH, QW]`
    pub fn forward_max_pool<E: Scalar, A: Activation<E>;
        const C: usize, const H: usize, const W: usize, const F: usize, const KH: usize, const KW: usize,
        const SH: usize, const SW: usize, const PH: usize, const PW: usize, const OH: usize, const OW: usize,
        const WH: usize, const WW: usize, const QH: usize, const QW: usize>(
        w: &[[[[E; KW]; KH]; C]; F],
        b: &[E; F],
        x: &[[[[E; W]; H]; C]],
        y: &mut [[[[E; QW]; QH]; F]],
        argmax: Option<&mut [[[[u32; QW]; QH]; F]]>,
        act: A,
    ) => forward_max_pool_impl;
}

#[inline(always)]
fn forward_max_pool_impl<
    M: MulAdd,
    E: Scalar,
    A: Activation<E>,
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const OH: usize,
    const OW: usize,
    const WH: usize,
    const WW: usize,
    const QH: usize,
    const QW: usize,
>(
    w: &[[[[E; KW]; KH]; C]; F],
    b: &[E; F],
    x: &[[[[E; W]; H]; C]],
    y: &mut [[[[E; QW]; QH]; F]],
    argmax: Option<&mut [[[[u32; QW]; QH]; F]]>,
    act: A,
) {
    const {
        assert!(
            (H + 2 * PH - KH) / SH + 1 == OH && (W + 2 * PW - KW) / SW + 1 == OW,
            "conv2d: output extent does not match (input + 2*pad - kernel) / stride + 1"
        );
        assert!(
            QH * WH == OH && QW * WW == OW,
            "conv2d: pool windows must tile the output"
        );
        assert!(
            OH * OW <= u32::MAX as usize,
            "conv2d: argmax index overflows u32"
        );
    };
    assert_eq!(
        x.len(),
        y.len(),
        "conv2d: {} inputs, {} outputs",
        x.len(),
        y.len()
    );
    if tiled(SH, SW, PH, PW, OW) {
        tiled::forward::<M, E, A, C, H, W, F, KH, KW, OH, OW, WH, WW, QH, QW>(
            w, b, x, y, argmax, act,
        );
    } else {
        generic::forward_max_pool::<E, A, C, H, W, F, KH, KW, SH, SW, PH, PW, OH, OW, QH, QW>(
            w, b, x, y, argmax, act,
        );
    }
}

entry! {
    /// Backward pass over a batch, from the gradient with respect to the
    /// pre-activation `dy` (the caller applies the activation's derivative).
    ///
    /// Overwrites `dw`, `db` and, when given, `dx`.
    ///
    /// # Shapes
    /// - `w`, `dw`: `[F, C, KH, KW]`; `db`: `[F]`
    /// - `x`, `dx`: `[batch, C, H, W]`; `dy`: `[batch, F, OH, OW]`
    pub fn backward<E: Scalar;
        const C: usize, const H: usize, const W: usize, const F: usize, const KH: usize, const KW: usize,
        const SH: usize, const SW: usize, const PH: usize, const PW: usize, const OH: usize, const OW: usize>(
        w: &[[[[E; KW]; KH]; C]; F],
        x: &[[[[E; W]; H]; C]],
        dy: &[[[[E; OW]; OH]; F]],
        dw: &mut [[[[E; KW]; KH]; C]; F],
        db: &mut [E; F],
        dx: Option<&mut [[[[E; W]; H]; C]]>,
    ) => backward_impl;
}

#[inline(always)]
fn backward_impl<
    M: MulAdd,
    E: Scalar,
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const OH: usize,
    const OW: usize,
>(
    w: &[[[[E; KW]; KH]; C]; F],
    x: &[[[[E; W]; H]; C]],
    dy: &[[[[E; OW]; OH]; F]],
    dw: &mut [[[[E; KW]; KH]; C]; F],
    db: &mut [E; F],
    dx: Option<&mut [[[[E; W]; H]; C]]>,
) {
    const {
        assert!(
            (H + 2 * PH - KH) / SH + 1 == OH && (W + 2 * PW - KW) / SW + 1 == OW,
            "conv2d: output extent does not match (input + 2*pad - kernel) / stride + 1"
        )
    };
    assert_eq!(
        x.len(),
        dy.len(),
        "conv2d: {} inputs, {} output gradients",
        x.len(),
        dy.len()
    );
    if tiled(SH, SW, PH, PW, OW) {
        let grads = tiled::Grads::Dense { dy };
        tiled::backward::<M, E, Identity, C, H, W, F, KH, KW, OW, OH, OW>(
            w, x, grads, Identity, dw, db, dx,
        );
    } else {
        generic::backward::<E, C, H, W, F, KH, KW, SH, SW, PH, PW, OH, OW>(w, x, dy, dw, db, dx);
    }
}

entry! {
    /// Backward pass of [`forward_max_pool`], from the gradient with respect
    /// to the pooled output `dy`. Only each window's argmax receives
    /// gradient, scaled by the activation's derivative at the pooled output.
    ///
    /// Overwrites `dw`, `db` and, when given, `dx`.
    #[expect(
        clippy::too_many_arguments,
        reason = "each tensor and each gradient buffer is its own argument, as generated code holds them"
    )]
    pub fn backward_max_pool<E: Scalar, A: Activation<E>;
        const C: usize, const H: usize, const W: usize, const F: usize, const KH: usize, const KW: usize,
        const SH: usize, const SW: usize, const PH: usize, const PW: usize, const OH: usize, const OW: usize,
        const WH: usize, const WW: usize, const QH: usize, const QW: usize>(
        w: &[[[[E; KW]; KH]; C]; F],
        x: &[[[[E; W]; H]; C]],
        y: &[[[[E; QW]; QH]; F]],
        argmax: &[[[[u32; QW]; QH]; F]],
        dy: &[[[[E; QW]; QH]; F]],
        act: A,
        dw: &mut [[[[E; KW]; KH]; C]; F],
        db: &mut [E; F],
        dx: Option<&mut [[[[E; W]; H]; C]]>,
    ) => backward_max_pool_impl;
}

#[inline(always)]
#[expect(
    clippy::too_many_arguments,
    reason = "each tensor and each gradient buffer is its own argument, as generated code holds them"
)]
fn backward_max_pool_impl<
    M: MulAdd,
    E: Scalar,
    A: Activation<E>,
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const OH: usize,
    const OW: usize,
    const WH: usize,
    const WW: usize,
    const QH: usize,
    const QW: usize,
>(
    w: &[[[[E; KW]; KH]; C]; F],
    x: &[[[[E; W]; H]; C]],
    y: &[[[[E; QW]; QH]; F]],
    argmax: &[[[[u32; QW]; QH]; F]],
    dy: &[[[[E; QW]; QH]; F]],
    act: A,
    dw: &mut [[[[E; KW]; KH]; C]; F],
    db: &mut [E; F],
    dx: Option<&mut [[[[E; W]; H]; C]]>,
) {
    const {
        assert!(
            (H + 2 * PH - KH) / SH + 1 == OH && (W + 2 * PW - KW) / SW + 1 == OW,
            "conv2d: output extent does not match (input + 2*pad - kernel) / stride + 1"
        )
    };
    assert_eq!(
        x.len(),
        dy.len(),
        "conv2d: {} inputs, {} output gradients",
        x.len(),
        dy.len()
    );
    if tiled(SH, SW, PH, PW, OW) {
        let grads = tiled::Grads::Pooled { dy, y, argmax };
        tiled::backward::<M, E, A, C, H, W, F, KH, KW, OW, QH, QW>(w, x, grads, act, dw, db, dx);
    } else {
        generic::backward_max_pool::<E, A, C, H, W, F, KH, KW, SH, SW, PH, PW, OH, OW, QH, QW>(
            w, x, y, argmax, dy, act, dw, db, dx,
        );
    }
}

#[cfg(test)]
mod tests {
    use std::vec;
    use std::vec::Vec;

    use super::super::dispatch::Unfused;
    use super::super::test_util::{assert_close, random, tol, wide};
    use super::*;
    use crate::kernels::reference::{self, ConvShape};
    use crate::network::view::{images, images_mut, kernel, kernel_mut, vector};

    /// Checks plain and pooled forward and backward of one shape against the
    /// reference; `WH × WW` pooling windows must tile the output.
    fn check<
        M: MulAdd,
        E: Scalar,
        const C: usize,
        const H: usize,
        const W: usize,
        const F: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
        const OH: usize,
        const OW: usize,
        const WH: usize,
        const WW: usize,
        const QH: usize,
        const QW: usize,
    >(
        batch: usize,
        seed: u64,
    ) {
        let sh = ConvShape {
            c: C,
            h: H,
            w: W,
            f: F,
            k: (KH, KW),
            stride: (SH, SW),
            pad: (PH, PW),
        };
        let tag = std::format!("{sh:?} batch {batch}");
        let (w, b) = (random::<E>(F * C * KH * KW, seed), random::<E>(F, seed + 1));
        let x = random::<E>(batch * C * H * W, seed + 2);
        let (wk, bv, xs) = (
            kernel::<E, F, C, KH, KW>(&w),
            vector::<E, F>(&b),
            images::<E, C, H, W>(&x),
        );

        let mut y = vec![E::ZERO; batch * F * OH * OW];
        forward_impl::<M, E, Identity, C, H, W, F, KH, KW, SH, SW, PH, PW, OH, OW>(
            wk,
            bv,
            xs,
            images_mut(&mut y),
            Identity,
        );
        let mut ry = vec![0.0; y.len()];
        reference::conv_forward(sh, &wide(&w), &wide(&b), &wide(&x), &mut ry);
        assert_close(&y, &ry, tol::<E>(), &std::format!("{tag} forward"));

        let mut pooled = vec![E::ZERO; batch * F * QH * QW];
        let mut argmax = vec![0u32; pooled.len()];
        forward_max_pool_impl::<
            M,
            E,
            Identity,
            C,
            H,
            W,
            F,
            KH,
            KW,
            SH,
            SW,
            PH,
            PW,
            OH,
            OW,
            WH,
            WW,
            QH,
            QW,
        >(
            wk,
            bv,
            xs,
            images_mut(&mut pooled),
            Some(images_mut(&mut argmax)),
            Identity,
        );
        let mut rp = vec![0.0; pooled.len()];
        let rarg = reference::max_pool_forward(&ry, &mut rp, (F, OH, OW), (WH, WW), (WH, WW));
        assert_close(&pooled, &rp, tol::<E>(), &std::format!("{tag} pooled"));

        let dy = random::<E>(y.len(), seed + 3);
        let (mut dw, mut db, mut dx) =
            (vec![E::ZERO; w.len()], [E::ZERO; F], vec![E::ZERO; x.len()]);
        backward_impl::<M, E, C, H, W, F, KH, KW, SH, SW, PH, PW, OH, OW>(
            wk,
            xs,
            images(&dy),
            kernel_mut(&mut dw),
            &mut db,
            Some(images_mut(&mut dx)),
        );
        let (mut rdw, mut rdb, mut rdx) = (vec![0.0; w.len()], vec![0.0; F], vec![0.0; x.len()]);
        reference::conv_backward(
            sh,
            &wide(&w),
            &wide(&x),
            &wide(&dy),
            &mut rdw,
            &mut rdb,
            &mut rdx,
        );
        assert_close(&dw, &rdw, tol::<E>(), &std::format!("{tag} dw"));
        assert_close(&db, &rdb, tol::<E>(), &std::format!("{tag} db"));
        assert_close(&dx, &rdx, tol::<E>(), &std::format!("{tag} dx"));

        // Pooled backward equals dense backward of the gradient scattered to
        // each window's argmax (ties are measure-zero with random inputs).
        let dq = random::<E>(pooled.len(), seed + 4);
        let (mut pdw, mut pdb, mut pdx) =
            (vec![E::ZERO; w.len()], [E::ZERO; F], vec![E::ZERO; x.len()]);
        backward_max_pool_impl::<
            M,
            E,
            Identity,
            C,
            H,
            W,
            F,
            KH,
            KW,
            SH,
            SW,
            PH,
            PW,
            OH,
            OW,
            WH,
            WW,
            QH,
            QW,
        >(
            wk,
            xs,
            images(&pooled),
            images(&argmax),
            images(&dq),
            Identity,
            kernel_mut(&mut pdw),
            &mut pdb,
            Some(images_mut(&mut pdx)),
        );
        let mut dense = vec![0.0; y.len()];
        for (o, (&at, &g)) in rarg.iter().zip(&dq).enumerate() {
            let plane = o / (QH * QW);
            dense[plane * OH * OW + at] = g.to_f64();
        }
        reference::conv_backward(
            sh,
            &wide(&w),
            &wide(&x),
            &dense,
            &mut rdw,
            &mut rdb,
            &mut rdx,
        );
        assert_close(&pdw, &rdw, tol::<E>(), &std::format!("{tag} pooled dw"));
        assert_close(&pdb, &rdb, tol::<E>(), &std::format!("{tag} pooled db"));
        assert_close(&pdx, &rdx, tol::<E>(), &std::format!("{tag} pooled dx"));
        let expected: Vec<u32> = rarg.iter().map(|&a| a as u32).collect();
        assert_eq!(argmax, expected, "{tag} argmax");
    }

    fn check_all<M: MulAdd, E: Scalar>() {
        for (batch, seed) in [(1, 1), (3, 2)] {
            // Tiled: stride 1, no padding.
            check::<M, E, 1, 28, 28, 30, 5, 5, 1, 1, 0, 0, 24, 24, 2, 2, 12, 12>(batch, seed);
            check::<M, E, 2, 10, 9, 9, 3, 2, 1, 1, 0, 0, 8, 8, 4, 2, 2, 4>(batch, seed);
            check::<M, E, 8, 12, 12, 16, 5, 5, 1, 1, 0, 0, 8, 8, 2, 2, 4, 4>(batch, seed);
            check::<M, E, 3, 5, 70, 2, 3, 3, 1, 1, 0, 0, 3, 68, 1, 2, 3, 34>(batch, seed);
            // General: strides and padding.
            check::<M, E, 2, 7, 7, 3, 3, 3, 2, 2, 1, 1, 4, 4, 2, 2, 2, 2>(batch, seed);
            check::<M, E, 1, 6, 7, 4, 2, 3, 1, 2, 1, 0, 7, 3, 7, 1, 1, 3>(batch, seed);
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
