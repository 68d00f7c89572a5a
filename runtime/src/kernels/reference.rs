//! Plain layer-by-layer implementations: the oracle for the fused and tiled
//! kernels.
//!
//! Straight loops over flat slices with run-time sizes and `f64`
//! accumulation, written independently of `kernels`, so property tests can
//! compare the two on random inputs of many shapes. Not fast; not used by
//! generated code.

/// Sizes of a 2-D convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvShape {
    /// Input channels.
    pub c: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Filters.
    pub f: usize,
    /// Kernel `(height, width)`.
    pub k: (usize, usize),
    /// Stride `(height, width)`.
    pub stride: (usize, usize),
    /// Padding before the first row and column `(top, left)`; taps past
    /// the input's end are padding too.
    pub pad: (usize, usize),
    /// Dilation `(height, width)`.
    pub dilation: (usize, usize),
    /// Groups: filter `f` sees channels `g·C/G .. (g+1)·C/G` of group
    /// `g = f / (F/G)`.
    pub groups: usize,
    /// Output `(height, width)`.
    pub out: (usize, usize),
}

impl ConvShape {
    /// A convolution with symmetric padding, no dilation, one group, and
    /// the output the exact formula gives.
    pub fn plain(
        c: usize,
        h: usize,
        w: usize,
        f: usize,
        k: (usize, usize),
        stride: (usize, usize),
        pad: (usize, usize),
    ) -> Self {
        ConvShape {
            c,
            h,
            w,
            f,
            k,
            stride,
            pad,
            dilation: (1, 1),
            groups: 1,
            out: (
                (h + 2 * pad.0 - k.0) / stride.0 + 1,
                (w + 2 * pad.1 - k.1) / stride.1 + 1,
            ),
        }
    }

    /// Output `(height, width)`.
    pub fn out(&self) -> (usize, usize) {
        self.out
    }

    /// Input coordinate of tap `k` at output `o` along an axis, if not padding.
    fn tap(
        o: usize,
        k: usize,
        stride: usize,
        dilation: usize,
        pad: usize,
        extent: usize,
    ) -> Option<usize> {
        let i = (o * stride + k * dilation) as isize - pad as isize;
        (0..extent as isize).contains(&i).then_some(i as usize)
    }

    /// Input channels per group.
    fn per_group(&self) -> usize {
        self.c / self.groups
    }

    /// The first input channel filter `f` sees.
    fn first_channel(&self, f: usize) -> usize {
        f / (self.f / self.groups) * self.per_group()
    }
}

/// `y[n][o] = b[o] + Σ_i w[o][i] x[n][i]` for `n` samples.
pub fn affine_forward(
    w: &[f64],
    b: &[f64],
    x: &[f64],
    y: &mut [f64],
    inputs: usize,
    outputs: usize,
) {
    for (xs, ys) in x.chunks(inputs).zip(y.chunks_mut(outputs)) {
        for o in 0..outputs {
            let mut acc = b[o];
            for i in 0..inputs {
                acc += w[o * inputs + i] * xs[i];
            }
            ys[o] = acc;
        }
    }
}

/// Gradients of [`affine_forward`] from `dy`: overwrites `dw`, `db`, `dx`.
#[expect(
    clippy::too_many_arguments,
    reason = "a flat slice per tensor and gradient plus the sizes, mirroring the kernel it checks"
)]
pub fn affine_backward(
    w: &[f64],
    x: &[f64],
    dy: &[f64],
    dw: &mut [f64],
    db: &mut [f64],
    dx: &mut [f64],
    inputs: usize,
    outputs: usize,
) {
    dw.fill(0.0);
    db.fill(0.0);
    dx.fill(0.0);
    let n = x.len() / inputs;
    for s in 0..n {
        for o in 0..outputs {
            let g = dy[s * outputs + o];
            db[o] += g;
            for i in 0..inputs {
                dw[o * inputs + i] += g * x[s * inputs + i];
                dx[s * inputs + i] += g * w[o * inputs + i];
            }
        }
    }
}

/// Convolution forward (no activation): `y[n][f][oy][ox]`.
pub fn conv_forward(sh: ConvShape, w: &[f64], b: &[f64], x: &[f64], y: &mut [f64]) {
    let (oh, ow) = sh.out();
    let (in_len, out_len) = (sh.c * sh.h * sh.w, sh.f * oh * ow);
    for (xs, ys) in x.chunks(in_len).zip(y.chunks_mut(out_len)) {
        for f in 0..sh.f {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = b.get(f).copied().unwrap_or(0.0);
                    for c in 0..sh.per_group() {
                        let ch = sh.first_channel(f) + c;
                        for ky in 0..sh.k.0 {
                            for kx in 0..sh.k.1 {
                                let iy = ConvShape::tap(
                                    oy,
                                    ky,
                                    sh.stride.0,
                                    sh.dilation.0,
                                    sh.pad.0,
                                    sh.h,
                                );
                                let ix = ConvShape::tap(
                                    ox,
                                    kx,
                                    sh.stride.1,
                                    sh.dilation.1,
                                    sh.pad.1,
                                    sh.w,
                                );
                                if let (Some(iy), Some(ix)) = (iy, ix) {
                                    acc += w
                                        [((f * sh.per_group() + c) * sh.k.0 + ky) * sh.k.1 + kx]
                                        * xs[(ch * sh.h + iy) * sh.w + ix];
                                }
                            }
                        }
                    }
                    ys[(f * oh + oy) * ow + ox] = acc;
                }
            }
        }
    }
}

/// Gradients of [`conv_forward`] from `dy`: overwrites `dw`, `db`, `dx`.
pub fn conv_backward(
    sh: ConvShape,
    w: &[f64],
    x: &[f64],
    dy: &[f64],
    dw: &mut [f64],
    db: &mut [f64],
    dx: &mut [f64],
) {
    dw.fill(0.0);
    db.fill(0.0);
    dx.fill(0.0);
    let (oh, ow) = sh.out();
    let (in_len, out_len) = (sh.c * sh.h * sh.w, sh.f * oh * ow);
    let n = x.len() / in_len;
    for s in 0..n {
        for f in 0..sh.f {
            for oy in 0..oh {
                for ox in 0..ow {
                    let g = dy[s * out_len + (f * oh + oy) * ow + ox];
                    if let Some(db) = db.get_mut(f) {
                        *db += g;
                    }
                    for c in 0..sh.per_group() {
                        let ch = sh.first_channel(f) + c;
                        for ky in 0..sh.k.0 {
                            for kx in 0..sh.k.1 {
                                let iy = ConvShape::tap(
                                    oy,
                                    ky,
                                    sh.stride.0,
                                    sh.dilation.0,
                                    sh.pad.0,
                                    sh.h,
                                );
                                let ix = ConvShape::tap(
                                    ox,
                                    kx,
                                    sh.stride.1,
                                    sh.dilation.1,
                                    sh.pad.1,
                                    sh.w,
                                );
                                if let (Some(iy), Some(ix)) = (iy, ix) {
                                    let wi = ((f * sh.per_group() + c) * sh.k.0 + ky) * sh.k.1 + kx;
                                    let xi = s * in_len + (ch * sh.h + iy) * sh.w + ix;
                                    dw[wi] += g * x[xi];
                                    dx[xi] += g * w[wi];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Sizes of a 2-D pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolShape {
    /// Channels.
    pub c: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Window `(height, width)`.
    pub k: (usize, usize),
    /// Stride `(height, width)`.
    pub stride: (usize, usize),
    /// Padding `(top, left)`; padded cells are ignored.
    pub pad: (usize, usize),
    /// Output `(height, width)`.
    pub out: (usize, usize),
}

impl PoolShape {
    /// An unpadded pool with the output the exact formula gives.
    pub fn plain(c: usize, h: usize, w: usize, k: (usize, usize), stride: (usize, usize)) -> Self {
        PoolShape {
            c,
            h,
            w,
            k,
            stride,
            pad: (0, 0),
            out: ((h - k.0) / stride.0 + 1, (w - k.1) / stride.1 + 1),
        }
    }

    /// The in-plane indices of window `(oy, ox)` that lie in the input.
    fn window(&self, oy: usize, ox: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.k.0).flat_map(move |ky| {
            (0..self.k.1).filter_map(move |kx| {
                let iy = ConvShape::tap(oy, ky, self.stride.0, 1, self.pad.0, self.h)?;
                let ix = ConvShape::tap(ox, kx, self.stride.1, 1, self.pad.1, self.w)?;
                Some(iy * self.w + ix)
            })
        })
    }
}

/// Max pooling of `[n][c][h][w]`; returns the flat in-plane index of each
/// maximum (first on ties; a NaN wins, as it propagates).
pub fn max_pool_forward(x: &[f64], y: &mut [f64], sh: PoolShape) -> std::vec::Vec<usize> {
    let (oh, ow) = sh.out;
    let mut argmax = std::vec![0; y.len()];
    let n = x.len() / (sh.c * sh.h * sh.w);
    for s in 0..n {
        for ch in 0..sh.c {
            let plane = &x[(s * sh.c + ch) * sh.h * sh.w..][..sh.h * sh.w];
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut best: Option<(f64, usize)> = None;
                    for at in sh.window(oy, ox) {
                        let v = plane[at];
                        let wins = match best {
                            None => true,
                            Some((b, _)) => !b.is_nan() && (v > b || v.is_nan()),
                        };
                        if wins {
                            best = Some((v, at));
                        }
                    }
                    let (v, at) = best.unwrap_or((f64::NEG_INFINITY, 0));
                    let o = ((s * sh.c + ch) * oh + oy) * ow + ox;
                    y[o] = v;
                    argmax[o] = at;
                }
            }
        }
    }
    argmax
}

/// Average pooling of `[n][c][h][w]` over the input cells of each window.
pub fn avg_pool_forward(x: &[f64], y: &mut [f64], sh: PoolShape) {
    let (oh, ow) = sh.out;
    let n = x.len() / (sh.c * sh.h * sh.w);
    for s in 0..n {
        for ch in 0..sh.c {
            let plane = &x[(s * sh.c + ch) * sh.h * sh.w..][..sh.h * sh.w];
            for oy in 0..oh {
                for ox in 0..ow {
                    let (sum, count) = sh
                        .window(oy, ox)
                        .fold((0.0, 0usize), |(a, n), at| (a + plane[at], n + 1));
                    y[((s * sh.c + ch) * oh + oy) * ow + ox] = sum / count.max(1) as f64;
                }
            }
        }
    }
}

/// Softmax of each row of `n`.
pub fn softmax(x: &[f64], y: &mut [f64], n: usize) {
    for (xs, ys) in x.chunks(n).zip(y.chunks_mut(n)) {
        let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = xs.iter().map(|v| (v - max).exp()).sum();
        for (y, x) in ys.iter_mut().zip(xs) {
            *y = (x - max).exp() / sum;
        }
    }
}

/// Batch norm in training mode over `[n][c][l]`, biased variance.
pub fn batchnorm_train(
    x: &[f64],
    gamma: &[f64],
    beta: &[f64],
    eps: f64,
    y: &mut [f64],
    (c, l): (usize, usize),
) {
    let n = x.len() / (c * l);
    for ch in 0..c {
        let at = |s: usize, i: usize| (s * c + ch) * l + i;
        let count = (n * l) as f64;
        let mean = (0..n)
            .flat_map(|s| (0..l).map(move |i| (s, i)))
            .map(|(s, i)| x[at(s, i)])
            .sum::<f64>()
            / count;
        let var = (0..n)
            .flat_map(|s| (0..l).map(move |i| (s, i)))
            .map(|(s, i)| (x[at(s, i)] - mean).powi(2))
            .sum::<f64>()
            / count;
        for s in 0..n {
            for i in 0..l {
                y[at(s, i)] = gamma[ch] * (x[at(s, i)] - mean) / (var + eps).sqrt() + beta[ch];
            }
        }
    }
}
