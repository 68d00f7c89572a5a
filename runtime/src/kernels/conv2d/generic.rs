//! The general path of 2-D convolution: any stride and padding, plain loops.

use super::super::activation::Activation;
use crate::Scalar;

/// Input coordinate of kernel tap `k` for output position `o`, or `None` in
/// the padding.
#[inline(always)]
fn tap(o: usize, k: usize, stride: usize, pad: usize, extent: usize) -> Option<usize> {
    (o * stride + k).checked_sub(pad).filter(|&i| i < extent)
}

/// Pre-activation of output `(f, oy, ox)` for one sample.
#[inline(always)]
fn conv_at<
    E: Scalar,
    const C: usize,
    const H: usize,
    const W: usize,
    const KH: usize,
    const KW: usize,
>(
    wf: &[[[E; KW]; KH]; C],
    bias: E,
    x: &[[[E; W]; H]; C],
    oy: usize,
    ox: usize,
    (sh, sw, ph, pw): (usize, usize, usize, usize),
) -> E {
    let mut acc = bias;
    for (wc, xc) in wf.iter().zip(x) {
        for (ky, wrow) in wc.iter().enumerate() {
            let Some(iy) = tap(oy, ky, sh, ph, H) else {
                continue;
            };
            for (kx, &wv) in wrow.iter().enumerate() {
                if let Some(ix) = tap(ox, kx, sw, pw, W) {
                    acc += wv * xc[iy][ix];
                }
            }
        }
    }
    acc
}

/// Forward pass over a batch: `y = act(conv(x, w) + b)`.
///
/// # Shapes
/// - `w`: `[F, C, KH, KW]`, `b`: `[F]`
/// - `x`: `[batch, C, H, W]`, `y`: `[batch, F, OH, OW]`
pub(super) fn forward<
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
    for (x, y) in x.iter().zip(y.iter_mut()) {
        for ((wf, &bf), yf) in w.iter().zip(b).zip(y.iter_mut()) {
            for (oy, row) in yf.iter_mut().enumerate() {
                for (ox, out) in row.iter_mut().enumerate() {
                    *out = act.forward(conv_at(wf, bf, x, oy, ox, (SH, SW, PH, PW)));
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
pub(super) fn forward_max_pool<
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
    const QH: usize,
    const QW: usize,
>(
    w: &[[[[E; KW]; KH]; C]; F],
    b: &[E; F],
    x: &[[[[E; W]; H]; C]],
    y: &mut [[[[E; QW]; QH]; F]],
    mut argmax: Option<&mut [[[[u32; QW]; QH]; F]]>,
    act: A,
) {
    const {
        assert!(
            (H + 2 * PH - KH) / SH + 1 == OH && (W + 2 * PW - KW) / SW + 1 == OW,
            "conv2d: output extent does not match (input + 2*pad - kernel) / stride + 1"
        );
        assert!(
            QH > 0 && QW > 0 && OH.is_multiple_of(QH) && OW.is_multiple_of(QW),
            "conv2d: pool must tile the output"
        );
        assert!(
            OH * OW <= u32::MAX as usize,
            "conv2d: argmax index overflows u32"
        );
    };
    let (ph_win, pw_win) = (OH / QH, OW / QW);
    for (s, (x, y)) in x.iter().zip(y.iter_mut()).enumerate() {
        for (f, ((wf, &bf), yf)) in w.iter().zip(b).zip(y.iter_mut()).enumerate() {
            for qy in 0..QH {
                for qx in 0..QW {
                    let mut best = E::ZERO;
                    let mut best_at = 0usize;
                    for dy in 0..ph_win {
                        for dx in 0..pw_win {
                            let (oy, ox) = (qy * ph_win + dy, qx * pw_win + dx);
                            let v = act.forward(conv_at(wf, bf, x, oy, ox, (SH, SW, PH, PW)));
                            if (dy == 0 && dx == 0) || v > best {
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
/// times the kernel to the patch of `dx`.
#[inline(always)]
#[expect(
    clippy::too_many_arguments,
    reason = "one output's backward step: its gradient and position, each buffer, the geometry"
)]
#[expect(
    clippy::needless_range_loop,
    reason = "kernel taps index the kernel and the padded input together"
)]
fn scatter<
    E: Scalar,
    const C: usize,
    const H: usize,
    const W: usize,
    const KH: usize,
    const KW: usize,
>(
    g: E,
    wf: &[[[E; KW]; KH]; C],
    x: &[[[E; W]; H]; C],
    dwf: &mut [[[E; KW]; KH]; C],
    dx: Option<&mut [[[E; W]; H]; C]>,
    oy: usize,
    ox: usize,
    (sh, sw, ph, pw): (usize, usize, usize, usize),
) {
    for c in 0..C {
        for ky in 0..KH {
            let Some(iy) = tap(oy, ky, sh, ph, H) else {
                continue;
            };
            for kx in 0..KW {
                if let Some(ix) = tap(ox, kx, sw, pw, W) {
                    dwf[c][ky][kx] += g * x[c][iy][ix];
                }
            }
        }
    }
    if let Some(dx) = dx {
        for c in 0..C {
            for ky in 0..KH {
                let Some(iy) = tap(oy, ky, sh, ph, H) else {
                    continue;
                };
                for kx in 0..KW {
                    if let Some(ix) = tap(ox, kx, sw, pw, W) {
                        dx[c][iy][ix] += g * wf[c][ky][kx];
                    }
                }
            }
        }
    }
}

/// Backward pass over a batch, from the gradient with respect to the
/// pre-activation `dy` (the caller applies the activation's derivative).
///
/// Overwrites `dw`, `db` and, when given, `dx`.
///
/// # Shapes
/// - `w`, `dw`: `[F, C, KH, KW]`; `db`: `[F]`
/// - `x`, `dx`: `[batch, C, H, W]`; `dy`: `[batch, F, OH, OW]`
#[expect(
    clippy::needless_range_loop,
    reason = "output positions index the gradient and select input taps"
)]
pub(super) fn backward<
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
    mut dx: Option<&mut [[[[E; W]; H]; C]]>,
) {
    *dw = [[[[E::ZERO; KW]; KH]; C]; F];
    *db = [E::ZERO; F];
    if let Some(dx) = dx.as_deref_mut() {
        dx.fill([[[E::ZERO; W]; H]; C]);
    }
    for (s, (x, dy)) in x.iter().zip(dy).enumerate() {
        for f in 0..F {
            for oy in 0..OH {
                for ox in 0..OW {
                    let g = dy[f][oy][ox];
                    db[f] += g;
                    let dxs = dx.as_deref_mut().map(|d| &mut d[s]);
                    scatter(g, &w[f], x, &mut dw[f], dxs, oy, ox, (SH, SW, PH, PW));
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
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const OH: usize,
    const OW: usize,
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
    mut dx: Option<&mut [[[[E; W]; H]; C]]>,
) {
    *dw = [[[[E::ZERO; KW]; KH]; C]; F];
    *db = [E::ZERO; F];
    if let Some(dx) = dx.as_deref_mut() {
        dx.fill([[[E::ZERO; W]; H]; C]);
    }
    for (s, ((x, y), (am, dy))) in x.iter().zip(y).zip(argmax.iter().zip(dy)).enumerate() {
        for f in 0..F {
            for qy in 0..QH {
                for qx in 0..QW {
                    let g = dy[f][qy][qx] * act.grad_from_output(y[f][qy][qx]);
                    db[f] += g;
                    let at = am[f][qy][qx] as usize;
                    let dxs = dx.as_deref_mut().map(|d| &mut d[s]);
                    scatter(
                        g,
                        &w[f],
                        x,
                        &mut dw[f],
                        dxs,
                        at / OW,
                        at % OW,
                        (SH, SW, PH, PW),
                    );
                }
            }
        }
    }
}
