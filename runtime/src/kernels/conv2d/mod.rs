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
#[allow(clippy::too_many_arguments)]
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
    assert_eq!(x.len(), y.len(), "conv2d: {} inputs, {} outputs", x.len(), y.len());
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
#[allow(clippy::too_many_arguments)]
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
        assert!(QH * WH == OH && QW * WW == OW, "conv2d: pool windows must tile the output");
        assert!(OH * OW <= u32::MAX as usize, "conv2d: argmax index overflows u32");
    };
    assert_eq!(x.len(), y.len(), "conv2d: {} inputs, {} outputs", x.len(), y.len());
    if tiled(SH, SW, PH, PW, OW) {
        tiled::forward::<M, E, A, C, H, W, F, KH, KW, OH, OW, WH, WW, QH, QW>(w, b, x, y, argmax, act);
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
#[allow(clippy::too_many_arguments)]
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
    assert_eq!(x.len(), dy.len(), "conv2d: {} inputs, {} output gradients", x.len(), dy.len());
    if tiled(SH, SW, PH, PW, OW) {
        let grads = tiled::Grads::Dense { dy };
        tiled::backward::<M, E, Identity, C, H, W, F, KH, KW, OW, OH, OW>(w, x, grads, Identity, dw, db, dx);
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
#[allow(clippy::too_many_arguments)]
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
    assert_eq!(x.len(), dy.len(), "conv2d: {} inputs, {} output gradients", x.len(), dy.len());
    if tiled(SH, SW, PH, PW, OW) {
        let grads = tiled::Grads::Pooled { dy, y, argmax };
        tiled::backward::<M, E, A, C, H, W, F, KH, KW, OW, QH, QW>(w, x, grads, act, dw, db, dx);
    } else {
        generic::backward_max_pool::<E, A, C, H, W, F, KH, KW, SH, SW, PH, PW, OH, OW, QH, QW>(
            w, x, y, argmax, dy, act, dw, db, dx,
        );
    }
}
