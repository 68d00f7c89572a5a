//! Max and average pooling over `KH × KW` windows with stride `(SH, SW)`.

use crate::Scalar;

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
    const OH: usize,
    const OW: usize,
>(
    x: &[[[[E; W]; H]; C]],
    y: &mut [[[[E; OW]; OH]; C]],
    mut argmax: Option<&mut [[[[u32; OW]; OH]; C]]>,
) {
    const {
        assert!(
            KH <= H && KW <= W && (H - KH) / SH + 1 == OH && (W - KW) / SW + 1 == OW,
            "max_pool2d: output extent does not match (input - size) / stride + 1"
        );
        assert!(
            H * W <= u32::MAX as usize,
            "max_pool2d: argmax index overflows u32"
        );
    };
    for (s, (x, y)) in x.iter().zip(y.iter_mut()).enumerate() {
        for c in 0..C {
            for oy in 0..OH {
                for ox in 0..OW {
                    let (mut best, mut at) = (x[c][oy * SH][ox * SW], oy * SH * W + ox * SW);
                    for ky in 0..KH {
                        for kx in 0..KW {
                            let (iy, ix) = (oy * SH + ky, ox * SW + kx);
                            if x[c][iy][ix] > best {
                                best = x[c][iy][ix];
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
    const {
        assert!(
            OH <= H && OW <= W,
            "pool2d: output extent does not match the input"
        )
    };
    for ((am, dy), dx) in argmax.iter().zip(dy).zip(dx.iter_mut()) {
        *dx = [[[E::ZERO; W]; H]; C];
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

/// Average pooling forward.
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
    const OH: usize,
    const OW: usize,
>(
    x: &[[[[E; W]; H]; C]],
    y: &mut [[[[E; OW]; OH]; C]],
) {
    const {
        assert!(
            KH <= H && KW <= W && (H - KH) / SH + 1 == OH && (W - KW) / SW + 1 == OW,
            "avg_pool2d: output extent does not match (input - size) / stride + 1"
        )
    };
    let inv = E::ONE / E::from_usize(KH * KW);
    for (x, y) in x.iter().zip(y.iter_mut()) {
        for c in 0..C {
            for oy in 0..OH {
                for ox in 0..OW {
                    let mut acc = E::ZERO;
                    for ky in 0..KH {
                        for kx in 0..KW {
                            acc += x[c][oy * SH + ky][ox * SW + kx];
                        }
                    }
                    y[c][oy][ox] = acc * inv;
                }
            }
        }
    }
}

/// Average pooling backward: spreads each gradient evenly over its window.
/// Overwrites `dx`.
pub fn avg_backward<
    E: Scalar,
    const C: usize,
    const H: usize,
    const W: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const OH: usize,
    const OW: usize,
>(
    dy: &[[[[E; OW]; OH]; C]],
    dx: &mut [[[[E; W]; H]; C]],
) {
    const {
        assert!(
            KH <= H && KW <= W && (H - KH) / SH + 1 == OH && (W - KW) / SW + 1 == OW,
            "pool2d: output extent does not match the input"
        )
    };
    let inv = E::ONE / E::from_usize(KH * KW);
    for (dy, dx) in dy.iter().zip(dx.iter_mut()) {
        *dx = [[[E::ZERO; W]; H]; C];
        for c in 0..C {
            for oy in 0..OH {
                for ox in 0..OW {
                    let g = dy[c][oy][ox] * inv;
                    for ky in 0..KH {
                        for kx in 0..KW {
                            dx[c][oy * SH + ky][ox * SW + kx] += g;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_close, random, tol, wide};
    use super::*;
    use crate::kernels::reference;
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
        const OH: usize,
        const OW: usize,
    >() {
        let x = random::<E>(2 * C * H * W, 5);
        let (mut y, mut a) = (
            std::vec![E::ZERO; 2 * C * OH * OW],
            std::vec![0u32; 2 * C * OH * OW],
        );
        max_forward::<E, C, H, W, KH, KW, SH, SW, OH, OW>(
            images(&x),
            images_mut(&mut y),
            Some(images_mut(&mut a)),
        );
        let mut ry = std::vec![0.0; y.len()];
        let ra = reference::max_pool_forward(&wide(&x), &mut ry, (C, H, W), (KH, KW), (SH, SW));
        assert_close(&y, &ry, tol::<E>(), "max pool");
        assert!(a.iter().zip(&ra).all(|(&a, &r)| a as usize == r), "argmax");
        avg_forward::<E, C, H, W, KH, KW, SH, SW, OH, OW>(images(&x), images_mut(&mut y));
        reference::avg_pool_forward(&wide(&x), &mut ry, (C, H, W), (KH, KW), (SH, SW));
        assert_close(&y, &ry, tol::<E>(), "avg pool");
    }

    #[test]
    fn pools_match_reference() {
        check::<f32, 3, 8, 8, 2, 2, 2, 2, 4, 4>();
        check::<f64, 2, 7, 9, 3, 3, 2, 2, 3, 4>();
        check::<f32, 1, 5, 6, 2, 3, 1, 3, 4, 2>();
    }
}
