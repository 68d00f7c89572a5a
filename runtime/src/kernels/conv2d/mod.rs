//! 2-D convolution (cross-correlation, as in PyTorch) with an optional
//! folded activation and an optional folded max pool.
//!
//! Geometry, all const generics: `G` groups of `CG = C / G` input channels
//! (`G = C` is depthwise), stride `(SH, SW)`, padding `(PH, PW)` before the
//! first row and column (taps past the end are padding too, which covers
//! "same" and per-side padding), dilation `(DH, DW)`, and the output
//! `(OH, OW)` the macro computed (exact, floored or "same"). Weights use
//! PyTorch's layout `[F][CG][KH][KW]`; the bias is optional.
//!
//! Stride-1 convolutions without dilation (any padding, any groups: each
//! group runs as its own convolution) and rows of at most 64 outputs take
//! the register-tiled path (`tiled.rs`), whose AVX2/FMA build runs on
//! zero-padded, stride-de-interleaved copies of the input in column tiles,
//! and pointwise convolutions as products over flattened positions
//! (`wide.rs`); everything else the general loops (`generic.rs`). Both sum each output in
//! the order bias, then channels, kernel rows, kernel columns, skipping
//! padded taps, so the portable build gives the same bits on either path
//! (the AVX2/FMA build adds padded taps as zeros and sums in lanes).

mod generic;
mod tiled;
mod wide;

use super::activation::{Activation, Identity};
use super::dispatch::{MulAdd, entry};
use crate::Scalar;

/// Whether the tiled path handles this geometry: any stride, padding and
/// number of groups (each runs as its own convolution), no dilation, and a
/// row of outputs that fits the register tile.
const fn tiled((dh, dw): (usize, usize), ow: usize) -> bool {
    dh == 1 && dw == 1 && ow <= 64
}

/// The sizes every path relies on, checked at compile time (by
/// `quant::conv2d` too).
pub(crate) const fn valid(
    (c, f, g, cg): (usize, usize, usize, usize),
    (h, w): (usize, usize),
    (kh, kw): (usize, usize),
    (sh, sw): (usize, usize),
    (ph, pw): (usize, usize),
    (dh, dw): (usize, usize),
    (oh, ow): (usize, usize),
) -> bool {
    g > 0
        && cg * g == c
        && f % g == 0
        && sh > 0
        && sw > 0
        && dh > 0
        && dw > 0
        && kh > 0
        && kw > 0
        && oh > 0
        && ow > 0
        // Every window starts inside the padded input.
        && (oh - 1) * sh < h + ph
        && (ow - 1) * sw < w + pw
}

macro_rules! geometry_checked {
    () => {
        const {
            assert!(
                valid(
                    (C, F, G, CG),
                    (H, W),
                    (KH, KW),
                    (SH, SW),
                    (PH, PW),
                    (DH, DW),
                    (OH, OW)
                ),
                "conv2d: the geometry does not fit (groups divide channels and filters, \
                 every window starts inside the padded input)"
            )
        }
    };
}

entry! {
    /// Forward pass over a batch: `y = act(conv(x, w) + b)`.
    ///
    /// # Shapes
    /// - `w`: `[F, CG, KH, KW]`, `b`: `[F]`
    /// - `x`: `[batch, C, H, W]`, `y`: `[batch, F, OH, OW]`
    pub fn forward<E: Scalar, A: Activation<E>;
        const C: usize, const H: usize, const W: usize, const F: usize, const G: usize, const CG: usize,
        const KH: usize, const KW: usize, const SH: usize, const SW: usize, const PH: usize, const PW: usize,
        const DH: usize, const DW: usize, const OH: usize, const OW: usize>(
        w: &[[[[E; KW]; KH]; CG]; F],
        b: Option<&[E; F]>,
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
    const G: usize,
    const CG: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const DH: usize,
    const DW: usize,
    const OH: usize,
    const OW: usize,
>(
    w: &[[[[E; KW]; KH]; CG]; F],
    b: Option<&[E; F]>,
    x: &[[[[E; W]; H]; C]],
    y: &mut [[[[E; OW]; OH]; F]],
    act: A,
) {
    geometry_checked!();
    assert_eq!(
        x.len(),
        y.len(),
        "conv2d: {} inputs, {} outputs",
        x.len(),
        y.len()
    );
    if tiled((DH, DW), OW) {
        let zero = [E::ZERO; F];
        tiled::forward::<M, E, A, C, CG, H, W, F, KH, KW, SH, SW, PH, PW, OH, OW, 1, 1, OH, OW>(
            w,
            b.unwrap_or(&zero),
            x,
            y,
            None,
            act,
            G,
        );
    } else {
        let geom = generic::Geometry {
            stride: (SH, SW),
            pad: (PH, PW),
            dilation: (DH, DW),
        };
        generic::forward::<E, A, C, H, W, F, CG, KH, KW, OH, OW>(w, b, x, y, act, geom, G);
    }
}

entry! {
    /// Forward pass with a folded max pool over tiling `WH × WW` windows
    /// (`OH = QH · WH`, `OW = QW · WW`): `y = maxpool(act(conv(x, w) + b))`.
    ///
    /// `argmax`, when given (training), receives per pooled output the flat
    /// index `oy * OW + ox` of the winning convolution output (the first on
    /// ties; a NaN wins).
    ///
    /// # Shapes
    /// - `x`: `[batch, C, H, W]`
    /// - `y`, `argmax`: `[batch, F, QH, QW]`
    pub fn forward_max_pool<E: Scalar, A: Activation<E>;
        const C: usize, const H: usize, const W: usize, const F: usize, const G: usize, const CG: usize,
        const KH: usize, const KW: usize, const SH: usize, const SW: usize, const PH: usize, const PW: usize,
        const DH: usize, const DW: usize, const OH: usize, const OW: usize,
        const WH: usize, const WW: usize, const QH: usize, const QW: usize>(
        w: &[[[[E; KW]; KH]; CG]; F],
        b: Option<&[E; F]>,
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
    const G: usize,
    const CG: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const DH: usize,
    const DW: usize,
    const OH: usize,
    const OW: usize,
    const WH: usize,
    const WW: usize,
    const QH: usize,
    const QW: usize,
>(
    w: &[[[[E; KW]; KH]; CG]; F],
    b: Option<&[E; F]>,
    x: &[[[[E; W]; H]; C]],
    y: &mut [[[[E; QW]; QH]; F]],
    argmax: Option<&mut [[[[u32; QW]; QH]; F]]>,
    act: A,
) {
    geometry_checked!();
    const {
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
    if tiled((DH, DW), OW) {
        let zero = [E::ZERO; F];
        tiled::forward::<M, E, A, C, CG, H, W, F, KH, KW, SH, SW, PH, PW, OH, OW, WH, WW, QH, QW>(
            w,
            b.unwrap_or(&zero),
            x,
            y,
            argmax,
            act,
            G,
        );
    } else {
        let geom = generic::Geometry {
            stride: (SH, SW),
            pad: (PH, PW),
            dilation: (DH, DW),
        };
        generic::forward_max_pool::<E, A, C, H, W, F, CG, KH, KW, OH, OW, QH, QW>(
            w, b, x, y, argmax, act, geom, G,
        );
    }
}

entry! {
    /// Backward pass over a batch, from the gradient with respect to the
    /// pre-activation `dy` (the caller applies the activation's derivative).
    ///
    /// Overwrites `dw`, `db` (when the layer has a bias) and, when given, `dx`.
    ///
    /// # Shapes
    /// - `w`, `dw`: `[F, CG, KH, KW]`; `db`: `[F]`
    /// - `x`, `dx`: `[batch, C, H, W]`; `dy`: `[batch, F, OH, OW]`
    pub fn backward<E: Scalar;
        const C: usize, const H: usize, const W: usize, const F: usize, const G: usize, const CG: usize,
        const KH: usize, const KW: usize, const SH: usize, const SW: usize, const PH: usize, const PW: usize,
        const DH: usize, const DW: usize, const OH: usize, const OW: usize>(
        w: &[[[[E; KW]; KH]; CG]; F],
        x: &[[[[E; W]; H]; C]],
        dy: &[[[[E; OW]; OH]; F]],
        dw: &mut [[[[E; KW]; KH]; CG]; F],
        db: Option<&mut [E; F]>,
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
    const G: usize,
    const CG: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const DH: usize,
    const DW: usize,
    const OH: usize,
    const OW: usize,
>(
    w: &[[[[E; KW]; KH]; CG]; F],
    x: &[[[[E; W]; H]; C]],
    dy: &[[[[E; OW]; OH]; F]],
    dw: &mut [[[[E; KW]; KH]; CG]; F],
    db: Option<&mut [E; F]>,
    dx: Option<&mut [[[[E; W]; H]; C]]>,
) {
    geometry_checked!();
    assert_eq!(
        x.len(),
        dy.len(),
        "conv2d: {} inputs, {} output gradients",
        x.len(),
        dy.len()
    );
    if tiled((DH, DW), OW) {
        let mut scratch = [E::ZERO; F];
        let grads = tiled::Grads::Dense { dy };
        tiled::backward::<M, E, Identity, C, CG, H, W, F, KH, KW, SH, SW, PH, PW, OW, OH, OW>(
            w,
            x,
            grads,
            Identity,
            dw,
            db.unwrap_or(&mut scratch),
            dx,
            G,
        );
    } else {
        let geom = generic::Geometry {
            stride: (SH, SW),
            pad: (PH, PW),
            dilation: (DH, DW),
        };
        generic::backward::<E, C, H, W, F, CG, KH, KW, OH, OW>(w, x, dy, dw, db, dx, geom, G);
    }
}

entry! {
    /// Backward pass of [`forward_max_pool`], from the gradient with respect
    /// to the pooled output `dy`. Only each window's argmax receives
    /// gradient, scaled by the activation's derivative at the pooled output.
    ///
    /// Overwrites `dw`, `db` (when the layer has a bias) and, when given, `dx`.
    #[expect(
        clippy::too_many_arguments,
        reason = "each tensor and each gradient buffer is its own argument, as generated code holds them"
    )]
    pub fn backward_max_pool<E: Scalar, A: Activation<E>;
        const C: usize, const H: usize, const W: usize, const F: usize, const G: usize, const CG: usize,
        const KH: usize, const KW: usize, const SH: usize, const SW: usize, const PH: usize, const PW: usize,
        const DH: usize, const DW: usize, const OH: usize, const OW: usize,
        const WH: usize, const WW: usize, const QH: usize, const QW: usize>(
        w: &[[[[E; KW]; KH]; CG]; F],
        x: &[[[[E; W]; H]; C]],
        y: &[[[[E; QW]; QH]; F]],
        argmax: &[[[[u32; QW]; QH]; F]],
        dy: &[[[[E; QW]; QH]; F]],
        act: A,
        dw: &mut [[[[E; KW]; KH]; CG]; F],
        db: Option<&mut [E; F]>,
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
    const G: usize,
    const CG: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const DH: usize,
    const DW: usize,
    const OH: usize,
    const OW: usize,
    const WH: usize,
    const WW: usize,
    const QH: usize,
    const QW: usize,
>(
    w: &[[[[E; KW]; KH]; CG]; F],
    x: &[[[[E; W]; H]; C]],
    y: &[[[[E; QW]; QH]; F]],
    argmax: &[[[[u32; QW]; QH]; F]],
    dy: &[[[[E; QW]; QH]; F]],
    act: A,
    dw: &mut [[[[E; KW]; KH]; CG]; F],
    db: Option<&mut [E; F]>,
    dx: Option<&mut [[[[E; W]; H]; C]]>,
) {
    geometry_checked!();
    assert_eq!(
        x.len(),
        dy.len(),
        "conv2d: {} inputs, {} output gradients",
        x.len(),
        dy.len()
    );
    if tiled((DH, DW), OW) {
        let mut scratch = [E::ZERO; F];
        let grads = tiled::Grads::Pooled { dy, y, argmax };
        tiled::backward::<M, E, A, C, CG, H, W, F, KH, KW, SH, SW, PH, PW, OW, QH, QW>(
            w,
            x,
            grads,
            act,
            dw,
            db.unwrap_or(&mut scratch),
            dx,
            G,
        );
    } else {
        let geom = generic::Geometry {
            stride: (SH, SW),
            pad: (PH, PW),
            dilation: (DH, DW),
        };
        generic::backward_max_pool::<E, A, C, H, W, F, CG, KH, KW, OW, QH, QW>(
            w, x, y, argmax, dy, act, dw, db, dx, geom, G,
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
    use crate::kernels::reference::{self, ConvShape, PoolShape};
    use crate::network::view::{images, images_mut, kernel, kernel_mut, vector};

    /// Checks plain and pooled forward and backward of one geometry against
    /// the reference, with and without bias; `WH × WW` pooling windows must
    /// tile the output.
    fn check<
        M: MulAdd,
        E: Scalar,
        const C: usize,
        const H: usize,
        const W: usize,
        const F: usize,
        const G: usize,
        const CG: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
        const DH: usize,
        const DW: usize,
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
            dilation: (DH, DW),
            groups: G,
            out: (OH, OW),
        };
        for with_bias in [true, false] {
            let tag = std::format!("{sh:?} batch {batch} bias {with_bias}");
            let (w, b) = (
                random::<E>(F * CG * KH * KW, seed),
                random::<E>(F, seed + 1),
            );
            let x = random::<E>(batch * C * H * W, seed + 2);
            let (wk, xs) = (kernel::<E, F, CG, KH, KW>(&w), images::<E, C, H, W>(&x));
            let bv = with_bias.then(|| vector::<E, F>(&b));
            let rb = if with_bias { wide(&b) } else { Vec::new() };

            let mut y = vec![E::ZERO; batch * F * OH * OW];
            forward_impl::<M, E, Identity, C, H, W, F, G, CG, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW>(
                wk,
                bv,
                xs,
                images_mut(&mut y),
                Identity,
            );
            let mut ry = vec![0.0; y.len()];
            reference::conv_forward(sh, &wide(&w), &rb, &wide(&x), &mut ry);
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
                G,
                CG,
                KH,
                KW,
                SH,
                SW,
                PH,
                PW,
                DH,
                DW,
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
            let pool = PoolShape::plain(F, OH, OW, (WH, WW), (WH, WW));
            let rarg = reference::max_pool_forward(&ry, &mut rp, pool);
            assert_close(&pooled, &rp, tol::<E>(), &std::format!("{tag} pooled"));

            let dy = random::<E>(y.len(), seed + 3);
            let (mut dw, mut db, mut dx) =
                (vec![E::ZERO; w.len()], [E::ZERO; F], vec![E::ZERO; x.len()]);
            backward_impl::<M, E, C, H, W, F, G, CG, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW>(
                wk,
                xs,
                images(&dy),
                kernel_mut(&mut dw),
                with_bias.then_some(&mut db),
                Some(images_mut(&mut dx)),
            );
            let (mut rdw, mut rdb, mut rdx) =
                (vec![0.0; w.len()], vec![0.0; F], vec![0.0; x.len()]);
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
            if with_bias {
                assert_close(&db, &rdb, tol::<E>(), &std::format!("{tag} db"));
            }
            assert_close(&dx, &rdx, tol::<E>(), &std::format!("{tag} dx"));

            // Pooled backward equals dense backward of the gradient scattered
            // to each window's argmax (ties are measure-zero with random inputs).
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
                G,
                CG,
                KH,
                KW,
                SH,
                SW,
                PH,
                PW,
                DH,
                DW,
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
                with_bias.then_some(&mut pdb),
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
            if with_bias {
                assert_close(&pdb, &rdb, tol::<E>(), &std::format!("{tag} pooled db"));
            }
            assert_close(&pdx, &rdx, tol::<E>(), &std::format!("{tag} pooled dx"));
            let expected: Vec<u32> = rarg.iter().map(|&a| a as u32).collect();
            assert_eq!(argmax, expected, "{tag} argmax");
        }
    }

    fn check_all<M: MulAdd, E: Scalar>() {
        for (batch, seed) in [(1, 1), (3, 2)] {
            // Tiled: stride 1, no padding.
            check::<M, E, 1, 28, 28, 30, 1, 1, 5, 5, 1, 1, 0, 0, 1, 1, 24, 24, 2, 2, 12, 12>(
                batch, seed,
            );
            check::<M, E, 2, 10, 9, 9, 1, 2, 3, 2, 1, 1, 0, 0, 1, 1, 8, 8, 4, 2, 2, 4>(batch, seed);
            check::<M, E, 8, 12, 12, 16, 1, 8, 5, 5, 1, 1, 0, 0, 1, 1, 8, 8, 2, 2, 4, 4>(
                batch, seed,
            );
            check::<M, E, 3, 5, 70, 2, 1, 3, 3, 3, 1, 1, 0, 0, 1, 1, 3, 68, 1, 2, 3, 34>(
                batch, seed,
            );
            // General: strides and padding.
            check::<M, E, 2, 7, 7, 3, 1, 2, 3, 3, 2, 2, 1, 1, 1, 1, 4, 4, 2, 2, 2, 2>(batch, seed);
            check::<M, E, 1, 6, 7, 4, 1, 1, 2, 3, 1, 2, 1, 0, 1, 1, 7, 3, 7, 1, 1, 3>(batch, seed);
            // PyTorch's floor rounding: 8 + 2 - 3 = 7, 7 / 2 = 3, so 4.
            check::<M, E, 2, 8, 8, 4, 1, 2, 3, 3, 2, 2, 1, 1, 1, 1, 4, 4, 2, 2, 2, 2>(batch, seed);
            // "same" with stride 2 on an even size: padding 0 before, 1 after.
            check::<M, E, 3, 6, 6, 2, 1, 3, 3, 3, 2, 2, 0, 0, 1, 1, 3, 3, 1, 1, 3, 3>(batch, seed);
            // Depthwise with a multiplier of 2, "same" 3x3.
            check::<M, E, 4, 5, 5, 8, 4, 1, 3, 3, 1, 1, 1, 1, 1, 1, 5, 5, 1, 5, 5, 1>(batch, seed);
            // Two groups, dilation 2.
            check::<M, E, 4, 7, 6, 6, 2, 2, 3, 2, 1, 1, 2, 1, 2, 2, 7, 6, 7, 3, 1, 2>(batch, seed);
            // Pointwise.
            check::<M, E, 2, 6, 6, 4, 1, 2, 1, 1, 1, 1, 0, 0, 1, 1, 6, 6, 2, 2, 3, 3>(batch, seed);
            // A length-1 height: conv1d.
            check::<M, E, 2, 1, 9, 3, 1, 2, 1, 3, 1, 2, 0, 1, 1, 1, 1, 5, 1, 5, 1, 1>(batch, seed);
        }
    }

    #[test]
    fn portable_tiled_and_general_paths_agree_bit_for_bit() {
        // A padded stride-1 convolution takes the tiled path; the general
        // path must give the very same bits in the portable build.
        const C: usize = 3;
        let (w, b) = (random::<f32>(4 * C * 9, 7), random::<f32>(4, 8));
        let x = random::<f32>(2 * C * 6 * 7, 9);
        let (wk, bv, xs) = (
            kernel::<f32, 4, C, 3, 3>(&w),
            vector::<f32, 4>(&b),
            images::<f32, C, 6, 7>(&x),
        );
        let (mut tiled, mut general) = (vec![0.0f32; 2 * 4 * 6 * 7], vec![0.0f32; 2 * 4 * 6 * 7]);
        forward_impl::<Unfused, f32, Identity, C, 6, 7, 4, 1, C, 3, 3, 1, 1, 1, 1, 1, 1, 6, 7>(
            wk,
            Some(bv),
            xs,
            images_mut(&mut tiled),
            Identity,
        );
        let geom = generic::Geometry {
            stride: (1, 1),
            pad: (1, 1),
            dilation: (1, 1),
        };
        generic::forward::<f32, Identity, C, 6, 7, 4, C, 3, 3, 6, 7>(
            wk,
            Some(bv),
            xs,
            images_mut(&mut general),
            Identity,
            geom,
            1,
        );
        assert!(
            tiled
                .iter()
                .zip(&general)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
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
