//! The general path of 2-D convolution: any stride, padding, dilation and
//! groups, plain loops.
//!
//! Each output sums in the order bias, then the group's channels, kernel
//! rows, kernel columns, whatever the geometry, so results do not depend on
//! which path computed them.

use super::super::activation::Activation;
use super::super::pool2d::beats;
use crate::Scalar;

/// Input coordinate of kernel tap `k` for output position `o`, or `None` in
/// the padding (before the input or past its end).
#[inline(always)]
fn tap(
    o: usize,
    k: usize,
    stride: usize,
    dilation: usize,
    pad: usize,
    extent: usize,
) -> Option<usize> {
    (o * stride + k * dilation)
        .checked_sub(pad)
        .filter(|&i| i < extent)
}

/// Stride, padding before the first row and column, and dilation, per axis.
#[derive(Clone, Copy)]
pub(super) struct Geometry {
    pub(super) stride: (usize, usize),
    pub(super) pad: (usize, usize),
    pub(super) dilation: (usize, usize),
}

/// Pre-activation of output `(oy, ox)` of one filter for one sample; `x`
/// holds the channels of the filter's group.
#[inline(always)]
fn conv_at<
    E: Scalar,
    const CG: usize,
    const H: usize,
    const W: usize,
    const KH: usize,
    const KW: usize,
>(
    wf: &[[[E; KW]; KH]; CG],
    bias: E,
    x: &[[[E; W]; H]],
    oy: usize,
    ox: usize,
    g: Geometry,
) -> E {
    let mut acc = bias;
    for (wc, xc) in wf.iter().zip(x) {
        for (ky, wrow) in wc.iter().enumerate() {
            let Some(iy) = tap(oy, ky, g.stride.0, g.dilation.0, g.pad.0, H) else {
                continue;
            };
            for (kx, &wv) in wrow.iter().enumerate() {
                if let Some(ix) = tap(ox, kx, g.stride.1, g.dilation.1, g.pad.1, W) {
                    acc += wv * xc[iy][ix];
                }
            }
        }
    }
    acc
}

/// The input channels of filter `f`: its group's `CG`.
#[inline(always)]
fn group<T, const CG: usize>(x: &[T], f: usize, filters_per_group: usize) -> &[T] {
    let first = f / filters_per_group * CG;
    &x[first..first + CG]
}

/// Forward pass over a batch: `y = act(conv(x, w) + b)`.
///
/// # Shapes
/// - `w`: `[F, CG, KH, KW]` (`CG = C / groups`), `b`: `[F]`
/// - `x`: `[batch, C, H, W]`, `y`: `[batch, F, OH, OW]`
pub(super) fn forward<
    E: Scalar,
    A: Activation<E>,
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const CG: usize,
    const KH: usize,
    const KW: usize,
    const OH: usize,
    const OW: usize,
>(
    w: &[[[[E; KW]; KH]; CG]; F],
    b: Option<&[E; F]>,
    x: &[[[[E; W]; H]; C]],
    y: &mut [[[[E; OW]; OH]; F]],
    act: A,
    geom: Geometry,
    groups: usize,
) {
    let per_group = F / groups;
    for (x, y) in x.iter().zip(y.iter_mut()) {
        for (f, (wf, yf)) in w.iter().zip(y.iter_mut()).enumerate() {
            let bias = b.map_or(E::ZERO, |b| b[f]);
            let xg = group::<_, CG>(x, f, per_group);
            for (oy, row) in yf.iter_mut().enumerate() {
                for (ox, out) in row.iter_mut().enumerate() {
                    *out = act.forward(conv_at(wf, bias, xg, oy, ox, geom));
                }
            }
        }
    }
}

/// Forward pass with a folded max pool over tiling windows of
/// `(OH / QH) × (OW / QW)`: `y = maxpool(act(conv(x, w) + b))`.
///
/// `argmax`, when given (training), receives per pooled output the flat index
/// `oy * OW + ox` of the winning convolution output (the first on ties).
///
/// # Shapes
/// - `x`: `[batch, C, H, W]`
/// - `y`, `argmax`: `[batch, F, QH, QW]`
#[expect(
    clippy::too_many_arguments,
    reason = "each tensor, the optional argmax, the activation and the geometry"
)]
pub(super) fn forward_max_pool<
    E: Scalar,
    A: Activation<E>,
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const CG: usize,
    const KH: usize,
    const KW: usize,
    const OH: usize,
    const OW: usize,
    const QH: usize,
    const QW: usize,
>(
    w: &[[[[E; KW]; KH]; CG]; F],
    b: Option<&[E; F]>,
    x: &[[[[E; W]; H]; C]],
    y: &mut [[[[E; QW]; QH]; F]],
    mut argmax: Option<&mut [[[[u32; QW]; QH]; F]]>,
    act: A,
    geom: Geometry,
    groups: usize,
) {
    const {
        assert!(
            QH > 0 && QW > 0 && OH.is_multiple_of(QH) && OW.is_multiple_of(QW),
            "conv2d: pool must tile the output"
        );
        assert!(
            OH * OW <= u32::MAX as usize,
            "conv2d: argmax index overflows u32"
        );
    };
    let (wh, ww) = (OH / QH, OW / QW);
    let per_group = F / groups;
    for (s, (x, y)) in x.iter().zip(y.iter_mut()).enumerate() {
        for (f, (wf, yf)) in w.iter().zip(y.iter_mut()).enumerate() {
            let bias = b.map_or(E::ZERO, |b| b[f]);
            let xg = group::<_, CG>(x, f, per_group);
            for qy in 0..QH {
                for qx in 0..QW {
                    let mut best = E::ZERO;
                    let mut best_at = 0usize;
                    for dy in 0..wh {
                        for dx in 0..ww {
                            let (oy, ox) = (qy * wh + dy, qx * ww + dx);
                            let v = act.forward(conv_at(wf, bias, xg, oy, ox, geom));
                            if (dy == 0 && dx == 0) || beats(v, best) {
                                best = v;
                                best_at = oy * OW + ox;
                            }
                        }
                    }
                    yf[qy][qx] = best;
                    if let Some(am) = argmax.as_deref_mut() {
                        am[s][f][qy][qx] = best_at as u32;
                    }
                }
            }
        }
    }
}

/// Adds `g` times the input patch of output `(oy, ox)` to `dwf`, and `g`
/// times the kernel to the patch of `dx`; `x` and `dx` hold the filter's
/// group.
#[inline(always)]
#[expect(
    clippy::too_many_arguments,
    reason = "one output's backward step: its gradient and position, each buffer, the geometry"
)]
fn scatter<
    E: Scalar,
    const CG: usize,
    const H: usize,
    const W: usize,
    const KH: usize,
    const KW: usize,
>(
    g: E,
    wf: &[[[E; KW]; KH]; CG],
    x: &[[[E; W]; H]],
    dwf: &mut [[[E; KW]; KH]; CG],
    dx: Option<&mut [[[E; W]; H]]>,
    oy: usize,
    ox: usize,
    geom: Geometry,
) {
    let taps = |ky: usize, kx: usize| {
        let iy = tap(oy, ky, geom.stride.0, geom.dilation.0, geom.pad.0, H)?;
        let ix = tap(ox, kx, geom.stride.1, geom.dilation.1, geom.pad.1, W)?;
        Some((iy, ix))
    };
    for (dwc, xc) in dwf.iter_mut().zip(x) {
        for (ky, dwrow) in dwc.iter_mut().enumerate() {
            for (kx, dwv) in dwrow.iter_mut().enumerate() {
                if let Some((iy, ix)) = taps(ky, kx) {
                    *dwv += g * xc[iy][ix];
                }
            }
        }
    }
    if let Some(dx) = dx {
        for (wc, dxc) in wf.iter().zip(dx) {
            for (ky, wrow) in wc.iter().enumerate() {
                for (kx, &wv) in wrow.iter().enumerate() {
                    if let Some((iy, ix)) = taps(ky, kx) {
                        dxc[iy][ix] += g * wv;
                    }
                }
            }
        }
    }
}

/// Zeroes the gradients backward accumulates into.
fn clear<
    E: Scalar,
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const CG: usize,
    const KH: usize,
    const KW: usize,
>(
    dw: &mut [[[[E; KW]; KH]; CG]; F],
    db: Option<&mut [E; F]>,
    dx: Option<&mut [[[[E; W]; H]; C]]>,
) {
    dw.as_flattened_mut()
        .as_flattened_mut()
        .as_flattened_mut()
        .fill(E::ZERO);
    if let Some(db) = db {
        db.fill(E::ZERO);
    }
    if let Some(dx) = dx {
        dx.as_flattened_mut()
            .as_flattened_mut()
            .as_flattened_mut()
            .fill(E::ZERO);
    }
}

/// Backward pass over a batch, from the gradient with respect to the
/// pre-activation `dy` (the caller applies the activation's derivative).
///
/// Overwrites `dw`, `db` and, when given, `dx`.
///
/// # Shapes
/// - `w`, `dw`: `[F, CG, KH, KW]`; `db`: `[F]`
/// - `x`, `dx`: `[batch, C, H, W]`; `dy`: `[batch, F, OH, OW]`
#[expect(
    clippy::too_many_arguments,
    reason = "each tensor and each gradient buffer is its own argument, as generated code holds them"
)]
pub(super) fn backward<
    E: Scalar,
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const CG: usize,
    const KH: usize,
    const KW: usize,
    const OH: usize,
    const OW: usize,
>(
    w: &[[[[E; KW]; KH]; CG]; F],
    x: &[[[[E; W]; H]; C]],
    dy: &[[[[E; OW]; OH]; F]],
    dw: &mut [[[[E; KW]; KH]; CG]; F],
    mut db: Option<&mut [E; F]>,
    mut dx: Option<&mut [[[[E; W]; H]; C]]>,
    geom: Geometry,
    groups: usize,
) {
    clear(dw, db.as_deref_mut(), dx.as_deref_mut());
    let per_group = F / groups;
    for (s, (x, dy)) in x.iter().zip(dy).enumerate() {
        for (f, dyf) in dy.iter().enumerate() {
            let first = f / per_group * CG;
            for (oy, row) in dyf.iter().enumerate() {
                for (ox, &g) in row.iter().enumerate() {
                    if let Some(db) = db.as_deref_mut() {
                        db[f] += g;
                    }
                    let dxs = dx.as_deref_mut().map(|d| &mut d[s][first..first + CG]);
                    scatter(
                        g,
                        &w[f],
                        &x[first..first + CG],
                        &mut dw[f],
                        dxs,
                        oy,
                        ox,
                        geom,
                    );
                }
            }
        }
    }
}

/// Backward pass of [`forward_max_pool`], from the gradient with respect to
/// the pooled output `dy`. Only each window's argmax receives gradient,
/// scaled by the activation's derivative at the pooled output `y`.
///
/// Overwrites `dw`, `db` and, when given, `dx`.
#[expect(
    clippy::too_many_arguments,
    reason = "each tensor and each gradient buffer is its own argument, as generated code holds them"
)]
pub(super) fn backward_max_pool<
    E: Scalar,
    A: Activation<E>,
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const CG: usize,
    const KH: usize,
    const KW: usize,
    const OW: usize,
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
    mut db: Option<&mut [E; F]>,
    mut dx: Option<&mut [[[[E; W]; H]; C]]>,
    geom: Geometry,
    groups: usize,
) {
    clear(dw, db.as_deref_mut(), dx.as_deref_mut());
    let per_group = F / groups;
    for (s, ((x, y), (am, dy))) in x.iter().zip(y).zip(argmax.iter().zip(dy)).enumerate() {
        for f in 0..F {
            let first = f / per_group * CG;
            for qy in 0..QH {
                for qx in 0..QW {
                    let g = dy[f][qy][qx] * act.grad_from_output(y[f][qy][qx]);
                    if let Some(db) = db.as_deref_mut() {
                        db[f] += g;
                    }
                    let at = am[f][qy][qx] as usize;
                    let dxs = dx.as_deref_mut().map(|d| &mut d[s][first..first + CG]);
                    let xg = &x[first..first + CG];
                    scatter(g, &w[f], xg, &mut dw[f], dxs, at / OW, at % OW, geom);
                }
            }
        }
    }
}
