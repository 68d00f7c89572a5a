//! Max and average pooling over `KH × KW` windows with stride `(SH, SW)`
//! and padding `(PH, PW)` before the first row and column (windows may also
//! reach past the end), and global pooling of whole channels.
//!
//! Padded cells take no part: they never win a max and are not counted in
//! an average (TensorFlow's `same` rule; PyTorch's
//! `count_include_pad = False`). A NaN in a window wins the max, so NaN
//! propagates as IEEE arithmetic does.

use crate::Scalar;

/// Whether `candidate` replaces `best` as a window's max: larger, or NaN
/// (which then stays). Ties keep the first.
#[inline(always)]
pub(crate) fn beats<E: Scalar>(candidate: E, best: E) -> bool {
    !best.is_nan() && (candidate > best || candidate.is_nan())
}

/// The input rows (or columns) window `o` covers: `[start, end)` of the
/// input and the first tap, for `k` taps at `stride` after `pad`.
#[inline(always)]
pub(crate) fn span(o: usize, k: usize, stride: usize, pad: usize, extent: usize) -> (usize, usize) {
    let first = o * stride;
    let start = first.saturating_sub(pad).min(extent);
    let end = (first + k).saturating_sub(pad).min(extent);
    (start, end.max(start))
}

/// Checks the sizes every pool kernel relies on (the `int8` ones in
/// `quant::pool` too).
pub(crate) const fn check_geometry(
    (h, w): (usize, usize),
    (kh, kw): (usize, usize),
    (sh, sw): (usize, usize),
    (ph, pw): (usize, usize),
    (oh, ow): (usize, usize),
) -> bool {
    // Every window starts inside the padded input and overlaps the input.
    kh > 0
        && kw > 0
        && sh > 0
        && sw > 0
        && ph < kh
        && pw < kw
        && oh > 0
        && ow > 0
        && (oh - 1) * sh < h + ph
        && (ow - 1) * sw < w + pw
}

/// Max pooling forward; `argmax` (when given) receives the flat index
/// `iy * W + ix` of each window's maximum (the first on ties).
///
/// # Shapes
/// - `x`: `[batch, C, H, W]`
/// - `y`, `argmax`: `[batch, C, OH, OW]`
pub fn max_forward<
    E: Scalar,
    const C: usize,
    const H: usize,
    const W: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const OH: usize,
    const OW: usize,
>(
    x: &[[[[E; W]; H]; C]],
    y: &mut [[[[E; OW]; OH]; C]],
    mut argmax: Option<&mut [[[[u32; OW]; OH]; C]]>,
) {
    const {
        assert!(
            check_geometry((H, W), (KH, KW), (SH, SW), (PH, PW), (OH, OW)),
            "max_pool2d: window geometry does not fit the input"
        );
        assert!(
            H * W <= u32::MAX as usize,
            "max_pool2d: argmax index overflows u32"
        );
    };
    for (s, (x, y)) in x.iter().zip(y.iter_mut()).enumerate() {
        for c in 0..C {
            for oy in 0..OH {
                let (y0, y1) = span(oy, KH, SH, PH, H);
                for ox in 0..OW {
                    let (x0, x1) = span(ox, KW, SW, PW, W);
                    let (mut best, mut at) = (x[c][y0][x0], y0 * W + x0);
                    for (iy, row) in x[c].iter().enumerate().take(y1).skip(y0) {
                        for (ix, &v) in row.iter().enumerate().take(x1).skip(x0) {
                            if beats(v, best) {
                                best = v;
                                at = iy * W + ix;
                            }
                        }
                    }
                    y[c][oy][ox] = best;
                    if let Some(am) = argmax.as_deref_mut() {
                        am[s][c][oy][ox] = at as u32;
                    }
                }
            }
        }
    }
}

/// Max pooling backward: routes each gradient to its window's argmax.
/// Overwrites `dx`.
pub fn max_backward<
    E: Scalar,
    const C: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
>(
    argmax: &[[[[u32; OW]; OH]; C]],
    dy: &[[[[E; OW]; OH]; C]],
    dx: &mut [[[[E; W]; H]; C]],
) {
    for ((am, dy), dx) in argmax.iter().zip(dy).zip(dx.iter_mut()) {
        dx.as_flattened_mut().as_flattened_mut().fill(E::ZERO);
        for c in 0..C {
            for oy in 0..OH {
                for ox in 0..OW {
                    let at = am[c][oy][ox] as usize;
                    dx[c][at / W][at % W] += dy[c][oy][ox];
                }
            }
        }
    }
}

/// Average pooling forward over the input cells of each window.
///
/// # Shapes
/// - `x`: `[batch, C, H, W]`, `y`: `[batch, C, OH, OW]`
pub fn avg_forward<
    E: Scalar,
    const C: usize,
    const H: usize,
    const W: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const OH: usize,
    const OW: usize,
>(
    x: &[[[[E; W]; H]; C]],
    y: &mut [[[[E; OW]; OH]; C]],
) {
    const {
        assert!(
            check_geometry((H, W), (KH, KW), (SH, SW), (PH, PW), (OH, OW)),
            "avg_pool2d: window geometry does not fit the input"
        )
    };
    for (x, y) in x.iter().zip(y.iter_mut()) {
        for (xc, yc) in x.iter().zip(y.iter_mut()) {
            for (oy, yrow) in yc.iter_mut().enumerate() {
                let (y0, y1) = span(oy, KH, SH, PH, H);
                for (ox, out) in yrow.iter_mut().enumerate() {
                    let (x0, x1) = span(ox, KW, SW, PW, W);
                    let mut acc = E::ZERO;
                    for row in &xc[y0..y1] {
                        for &v in &row[x0..x1] {
                            acc += v;
                        }
                    }
                    *out = acc / E::from_usize((y1 - y0) * (x1 - x0));
                }
            }
        }
    }
}

/// Average pooling backward: spreads each gradient evenly over the input
/// cells of its window. Overwrites `dx`.
pub fn avg_backward<
    E: Scalar,
    const C: usize,
    const H: usize,
    const W: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const OH: usize,
    const OW: usize,
>(
    dy: &[[[[E; OW]; OH]; C]],
    dx: &mut [[[[E; W]; H]; C]],
) {
    const {
        assert!(
            check_geometry((H, W), (KH, KW), (SH, SW), (PH, PW), (OH, OW)),
            "avg_pool2d: window geometry does not fit the input"
        )
    };
    for (dy, dx) in dy.iter().zip(dx.iter_mut()) {
        dx.as_flattened_mut().as_flattened_mut().fill(E::ZERO);
        for (dyc, dxc) in dy.iter().zip(dx.iter_mut()) {
            for (oy, dyrow) in dyc.iter().enumerate() {
                let (y0, y1) = span(oy, KH, SH, PH, H);
                for (ox, &dyv) in dyrow.iter().enumerate() {
                    let (x0, x1) = span(ox, KW, SW, PW, W);
                    let g = dyv / E::from_usize((y1 - y0) * (x1 - x0));
                    for row in &mut dxc[y0..y1] {
                        for v in &mut row[x0..x1] {
                            *v += g;
                        }
                    }
                }
            }
        }
    }
}

/// Global average pooling: the mean of each channel's `L` values.
///
/// # Shapes
/// - `x`: `[batch, C, L]` (an image's `H·W` positions flattened), `y`: `[batch, C]`
pub fn global_avg_forward<E: Scalar, const C: usize, const L: usize>(
    x: &[[[E; L]; C]],
    y: &mut [[E; C]],
) {
    let n = E::from_usize(L);
    for (x, y) in x.iter().zip(y.iter_mut()) {
        for (plane, out) in x.iter().zip(y.iter_mut()) {
            *out = plane.iter().copied().sum::<E>() / n;
        }
    }
}

/// Global average pooling backward: each gradient spread over its channel.
/// Overwrites `dx`.
pub fn global_avg_backward<E: Scalar, const C: usize, const L: usize>(
    dy: &[[E; C]],
    dx: &mut [[[E; L]; C]],
) {
    let n = E::from_usize(L);
    for (dy, dx) in dy.iter().zip(dx.iter_mut()) {
        for (&g, plane) in dy.iter().zip(dx.iter_mut()) {
            plane.fill(g / n);
        }
    }
}

/// Global max pooling: each channel's maximum; `argmax` (when given)
/// receives its position.
///
/// # Shapes
/// - `x`: `[batch, C, L]`, `y`, `argmax`: `[batch, C]`
pub fn global_max_forward<E: Scalar, const C: usize, const L: usize>(
    x: &[[[E; L]; C]],
    y: &mut [[E; C]],
    mut argmax: Option<&mut [[u32; C]]>,
) {
    const {
        assert!(
            L > 0 && L <= u32::MAX as usize,
            "global_max_pool: channels must be non-empty and indexable by u32"
        )
    };
    for (s, (x, y)) in x.iter().zip(y.iter_mut()).enumerate() {
        for (c, plane) in x.iter().enumerate() {
            let (mut best, mut at) = (plane[0], 0);
            for (i, &v) in plane.iter().enumerate().skip(1) {
                if beats(v, best) {
                    best = v;
                    at = i;
                }
            }
            y[c] = best;
            if let Some(am) = argmax.as_deref_mut() {
                am[s][c] = at as u32;
            }
        }
    }
}

/// Global max pooling backward: each gradient to its channel's argmax.
/// Overwrites `dx`.
pub fn global_max_backward<E: Scalar, const C: usize, const L: usize>(
    argmax: &[[u32; C]],
    dy: &[[E; C]],
    dx: &mut [[[E; L]; C]],
) {
    for ((am, dy), dx) in argmax.iter().zip(dy).zip(dx.iter_mut()) {
        for ((&at, &g), plane) in am.iter().zip(dy).zip(dx.iter_mut()) {
            plane.fill(E::ZERO);
            plane[at as usize] = g;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_close, random, tol, wide};
    use super::*;
    use crate::kernels::reference::{self, PoolShape};
    use crate::network::view::{images, images_mut};

    fn check<
        E: Scalar,
        const C: usize,
        const H: usize,
        const W: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
        const OH: usize,
        const OW: usize,
    >() {
        let sh = PoolShape {
            c: C,
            h: H,
            w: W,
            k: (KH, KW),
            stride: (SH, SW),
            pad: (PH, PW),
            out: (OH, OW),
        };
        let x = random::<E>(2 * C * H * W, 5);
        let (mut y, mut a) = (
            std::vec![E::ZERO; 2 * C * OH * OW],
            std::vec![0u32; 2 * C * OH * OW],
        );
        max_forward::<E, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW>(
            images(&x),
            images_mut(&mut y),
            Some(images_mut(&mut a)),
        );
        let mut ry = std::vec![0.0; y.len()];
        let ra = reference::max_pool_forward(&wide(&x), &mut ry, sh);
        assert_close(&y, &ry, tol::<E>(), &std::format!("max pool {sh:?}"));
        assert!(
            a.iter().zip(&ra).all(|(&a, &r)| a as usize == r),
            "argmax {sh:?}"
        );
        avg_forward::<E, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW>(images(&x), images_mut(&mut y));
        reference::avg_pool_forward(&wide(&x), &mut ry, sh);
        assert_close(&y, &ry, tol::<E>(), &std::format!("avg pool {sh:?}"));
        // Backward is the transpose of forward: ⟨avg(x), dy⟩ = ⟨x, avg'(dy)⟩.
        let dy = random::<E>(y.len(), 6);
        let mut dx = std::vec![E::ZERO; x.len()];
        avg_backward::<E, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW>(
            images(&dy),
            images_mut(&mut dx),
        );
        let lhs: f64 = ry.iter().zip(&dy).map(|(a, b)| a * b.to_f64()).sum();
        let rhs: f64 = wide(&x).iter().zip(&dx).map(|(a, b)| a * b.to_f64()).sum();
        assert!(
            (lhs - rhs).abs() < 1e-4 * lhs.abs().max(1.0),
            "avg backward {sh:?}"
        );
    }

    #[test]
    fn pools_match_reference() {
        check::<f32, 3, 8, 8, 2, 2, 2, 2, 0, 0, 4, 4>();
        check::<f64, 2, 7, 9, 3, 3, 2, 2, 0, 0, 3, 4>();
        check::<f32, 1, 5, 6, 2, 3, 1, 3, 0, 0, 4, 2>();
        // `same`: 7x8 at 3x3 stride 2 pads (1, 1) and (0, 1).
        check::<f64, 2, 7, 8, 3, 3, 2, 2, 1, 0, 4, 4>();
        // PyTorch's floor rounding with padding: 10 + 2 - 3 = 9, 9 / 2 = 4.
        check::<f32, 2, 10, 10, 3, 3, 2, 2, 1, 1, 5, 5>();
    }

    #[test]
    fn nan_wins_every_max() {
        let mut x = [[[[1.0f32, 2.0], [3.0, 4.0]]]];
        x[0][0][1][0] = f32::NAN;
        let mut y = [[[[0.0f32; 1]; 1]; 1]];
        max_forward::<f32, 1, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1>(&x, &mut y, None);
        assert!(y[0][0][0][0].is_nan());
        let mut g = [[0.0f32; 1]];
        global_max_forward::<f32, 1, 4>(&[[[1.0, f32::NAN, 5.0, 2.0]]], &mut g, None);
        assert!(g[0][0].is_nan());
    }

    #[test]
    fn global_pools() {
        let x = [[[1.0f64, 2.0, 3.0, 6.0], [-1.0, -2.0, -3.0, -6.0]]];
        let (mut y, mut a) = ([[0.0; 2]], [[0u32; 2]]);
        global_avg_forward::<f64, 2, 4>(&x, &mut y);
        assert_eq!(y, [[3.0, -3.0]]);
        global_max_forward::<f64, 2, 4>(&x, &mut y, Some(&mut a));
        assert_eq!((y, a), ([[6.0, -1.0]], [[3, 0]]));
        let mut dx = [[[9.0; 4]; 2]];
        global_max_backward::<f64, 2, 4>(&a, &[[1.0, 2.0]], &mut dx);
        assert_eq!(dx, [[[0.0, 0.0, 0.0, 1.0], [2.0, 0.0, 0.0, 0.0]]]);
        global_avg_backward::<f64, 2, 4>(&[[4.0, 8.0]], &mut dx);
        assert_eq!(dx, [[[1.0; 4], [2.0; 4]]]);
    }
}
