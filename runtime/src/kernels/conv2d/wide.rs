//! The wide (AVX2/FMA) build's loops of the tiled path.
//!
//! Each tap reads a whole column tile of `T` outputs from a zero-padded copy
//! of the input rows, de-interleaved by the column stride (phase `p` of a
//! row holds padded columns `p, p + SW, p + 2·SW, …`), so every tile has
//! compile-time bounds, stride 2 reads contiguously, and `FB` filters × `T`
//! columns of accumulators stay in registers. Padded taps multiply zeros
//! instead of being skipped, and sums split into vector lanes: only the
//! portable build must keep the order of the general path, and it never
//! comes here.
//!
//! Every copy lives in one scratch of [`SCRATCH`] elements on the caller's
//! stack; a geometry whose copy does not fit takes the portable loops.

use super::super::dispatch::MulAdd;
use super::super::tile::{self as lanes, unroll};
use crate::Scalar;

/// Scratch elements for the padded copies (16 KiB of `f32`, within L1).
/// Without `std` there is no wide build, and no scratch.
pub(super) const SCRATCH: usize = if cfg!(feature = "std") { 4096 } else { 0 };

/// Elements of one padded, de-interleaved row phase: `OW` rounded up to
/// whole tiles, plus the columns the rightmost taps reach past them.
/// (`t = 0`, the portable loops' tile, which never reads the rows, counts
/// as 1 so that its unused instantiation still evaluates.)
#[inline(always)]
const fn row_len(ow: usize, kw: usize, sw: usize, t: usize) -> usize {
    let t = if t == 0 { 1 } else { t };
    ow.div_ceil(t) * t + (kw - 1) / sw
}

/// Whether the forward's copy of one output row's input rows (every
/// channel, kernel row and phase) fits the scratch.
#[cfg_attr(
    not(feature = "std"),
    expect(
        clippy::absurd_extreme_comparisons,
        reason = "without std the scratch is empty, so nothing fits"
    )
)]
pub(super) const fn row_fits(
    c: usize,
    kh: usize,
    kw: usize,
    sw: usize,
    ow: usize,
    t: usize,
) -> bool {
    c * kh * sw * row_len(ow, kw, sw, t) <= SCRATCH
}

/// Padded rows one channel plane needs: `(OH − 1)·SH + KH`.
#[inline(always)]
const fn plane_rows(oh: usize, kh: usize, sh: usize) -> usize {
    (oh - 1) * sh + kh
}

/// Whether two padded planes of one channel (the input and its gradient)
/// fit the scratch, as the backward needs.
#[cfg_attr(
    not(feature = "std"),
    expect(
        clippy::absurd_extreme_comparisons,
        reason = "without std the scratch is empty, so nothing fits"
    )
)]
pub(super) const fn plane_fits(
    (oh, ow): (usize, usize),
    (kh, kw): (usize, usize),
    (sh, sw): (usize, usize),
    t: usize,
) -> bool {
    2 * plane_rows(oh, kh, sh) * sw * row_len(ow, kw, sw, t) <= SCRATCH
}

/// Writes phase `p` of a padded input row: `dst[j] = src[j·SW + p − PW]`,
/// zero outside the row.
#[inline(always)]
fn pad_row<E: Scalar, const W: usize, const SW: usize, const PW: usize>(
    src: &[E; W],
    p: usize,
    dst: &mut [E],
) {
    if SW == 1 {
        let head = PW.min(dst.len());
        dst[..head].fill(E::ZERO);
        let n = W.min(dst.len() - head);
        dst[head..head + n].copy_from_slice(&src[..n]);
        dst[head + n..].fill(E::ZERO);
        return;
    }
    for (j, d) in dst.iter_mut().enumerate() {
        let ix = (j * SW + p).checked_sub(PW);
        *d = ix.and_then(|ix| src.get(ix)).copied().unwrap_or(E::ZERO);
    }
}

/// The `T` elements of `buf` from `at`.
#[inline(always)]
fn tile<E, const T: usize>(buf: &[E], at: usize) -> &[E; T] {
    match buf.get(at..).and_then(<[E]>::first_chunk::<T>) {
        Some(t) => t,
        // Row lengths cover every tile and every tap's reach.
        None => unreachable!("conv2d: tile at {at} past {}", buf.len()),
    }
}

/// [`tile`], mutable.
#[inline(always)]
fn tile_mut<E, const T: usize>(buf: &mut [E], at: usize) -> &mut [E; T] {
    let len = buf.len();
    match buf.get_mut(at..).and_then(<[E]>::first_chunk_mut::<T>) {
        Some(t) => t,
        None => unreachable!("conv2d: tile at {at} past {len}"),
    }
}

/// Columns `j0 .. j0 + T` of an output row, zero past its end.
#[inline(always)]
fn out_tile<E: Scalar, const OW: usize, const T: usize>(row: &[E; OW], j0: usize) -> [E; T] {
    if j0 + T <= OW {
        return *tile::<E, T>(row, j0);
    }
    let mut t = [E::ZERO; T];
    for (d, &v) in t.iter_mut().zip(&row[j0..]) {
        *d = v;
    }
    t
}

/// Writes the first `OW − j0` (at most `T`) columns of a tile to `row` from `j0`.
#[inline(always)]
fn store_tile<E: Scalar, const OW: usize, const T: usize>(
    row: &mut [E; OW],
    j0: usize,
    t: &[E; T],
) {
    if j0 + T <= OW {
        *tile_mut::<E, T>(row, j0) = *t;
        return;
    }
    for (d, &v) in row[j0..].iter_mut().zip(t) {
        *d = v;
    }
}

/// Pre-activations of output row `oy` of the `FB` filters `w` on one
/// sample: `out[fb][ox] = b[fb] + Σ_{c,ky,kx} w[fb][c][ky][kx] · x[c][iy][ix]`.
///
/// # Shapes
/// - `w`: `[FB, C, KH, KW]`, `xs`: `[C, H, W]`, `out`: `[FB, OW]`
#[inline(always)]
pub(super) fn row<
    M: MulAdd,
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
    const OW: usize,
    const FB: usize,
    const T: usize,
>(
    w: &[[[[E; KW]; KH]; C]; FB],
    b: &[E; FB],
    xs: &[[[E; W]; H]; C],
    oy: usize,
    scratch: &mut [E],
    out: &mut [[E; OW]; FB],
) {
    gather::<E, C, H, W, KH, KW, SH, SW, PH, PW, OW, T>(xs, oy, scratch);
    row_from::<M, E, C, KH, KW, SW, OW, FB, T>(w, b, scratch, out);
}

/// Copies the input rows output row `oy` reads into `scratch`, padded and
/// de-interleaved: phase `p` of kernel row `ky` of channel `c` at
/// `((c·KH + ky)·SW + p)·rl`.
#[inline(always)]
pub(super) fn gather<
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
    const OW: usize,
    const T: usize,
>(
    xs: &[[[E; W]; H]; C],
    oy: usize,
    scratch: &mut [E],
) {
    let rl = const { row_len(OW, KW, SW, T) };
    let rows = &mut scratch[..C * KH * SW * rl];
    for c in 0..C {
        for ky in 0..KH {
            let src = (oy * SH + ky).checked_sub(PH).and_then(|iy| xs[c].get(iy));
            for p in 0..SW {
                let dst = &mut rows[((c * KH + ky) * SW + p) * rl..][..rl];
                match src {
                    Some(src) => pad_row::<E, W, SW, PW>(src, p, dst),
                    None => dst.fill(E::ZERO),
                }
            }
        }
    }
}

/// [`row`] from rows [`gather`] copied.
#[inline(always)]
#[expect(
    clippy::needless_range_loop,
    reason = "channel, kernel row and column index every filter's weights and the copied rows together"
)]
pub(super) fn row_from<
    M: MulAdd,
    E: Scalar,
    const C: usize,
    const KH: usize,
    const KW: usize,
    const SW: usize,
    const OW: usize,
    const FB: usize,
    const T: usize,
>(
    w: &[[[[E; KW]; KH]; C]; FB],
    b: &[E; FB],
    rows: &[E],
    out: &mut [[E; OW]; FB],
) {
    let rl = const { row_len(OW, KW, SW, T) };
    for j0 in (0..OW).step_by(T) {
        let mut acc = [[E::ZERO; T]; FB];
        unroll!(fb < FB => acc[fb] = [b[fb]; T]);
        for c in 0..C {
            for ky in 0..KH {
                for kx in 0..KW {
                    let at = ((c * KH + ky) * SW + kx % SW) * rl + j0 + kx / SW;
                    let xv = tile::<E, T>(rows, at);
                    unroll!(fb < FB => lanes::axpy::<M, E, T>(&mut acc[fb], w[fb][c][ky][kx], xv));
                }
            }
        }
        unroll!(fb < FB => store_tile::<E, OW, T>(&mut out[fb], j0, &acc[fb]));
    }
}

/// Weight, bias and input gradients of one sample from the gradient `dy` of
/// every pre-activation, for the `F` filters of one group and its `C`
/// channels; adds to `dw` and `db`, overwrites `dx`.
///
/// Per channel, the input is copied once into a padded plane. `dW` runs
/// `FB` filters × `KW` taps of lane accumulators over every output row and
/// tile of one kernel row, reduced once per sample; `dx` scatters
/// `W · dy` tile by tile into a padded gradient plane, then copies its
/// inside out.
///
/// # Shapes
/// - `w`, `dw`: `[F, C, KH, KW]`, `db`: `[F]`
/// - `xs`, `dx`: `[C, H, W]`, `dy`: `[F, OH, OW]`
#[inline(always)]
#[expect(
    clippy::needless_range_loop,
    reason = "the channel indexes the input and the kernel's second axis together"
)]
pub(super) fn backward<
    M: MulAdd,
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
    const T: usize,
>(
    w: &[[[[E; KW]; KH]; C]],
    xs: &[[[E; W]; H]; C],
    dy: &[[[E; OW]; OH]],
    dw: &mut [[[[E; KW]; KH]; C]],
    db: &mut [E],
    dx: Option<&mut [[[E; W]; H]; C]>,
    scratch: &mut [E],
) {
    let rl = const { row_len(OW, KW, SW, T) };
    let len = const { plane_rows(OH, KH, SH) * SW * row_len(OW, KW, SW, T) };
    let (plane, grad) = scratch[..2 * len].split_at_mut(len);
    for (d, g) in db.iter_mut().zip(dy) {
        *d += sum::<E, T>(g.as_flattened());
    }
    for c in 0..C {
        fill_plane::<E, H, W, SW, PH, PW>(&xs[c], rl, plane);
        let mut f0 = 0;
        while f0 + 4 <= dw.len() {
            weight_grads::<M, E, C, KH, KW, SH, SW, OH, OW, 4, T>(c, f0, dy, plane, rl, dw);
            f0 += 4;
        }
        while f0 < dw.len() {
            weight_grads::<M, E, C, KH, KW, SH, SW, OH, OW, 1, T>(c, f0, dy, plane, rl, dw);
            f0 += 1;
        }
    }
    let Some(dx) = dx else {
        return;
    };
    for c in 0..C {
        grad.fill(E::ZERO);
        for (wf, g) in w.iter().zip(dy) {
            scatter_grads::<M, E, KH, KW, SH, SW, OH, OW, T>(&wf[c], g, rl, grad);
        }
        // Rows and columns past the taps' reach (floor-rounded strides)
        // get no gradient.
        let rows = const { plane_rows(OH, KH, SH) };
        for (iy, row) in dx[c].iter_mut().enumerate() {
            for (ix, d) in row.iter_mut().enumerate() {
                let (r, col) = (iy + PH, ix + PW);
                *d = if r < rows && col / SW < rl {
                    grad[(r * SW + col % SW) * rl + col / SW]
                } else {
                    E::ZERO
                };
            }
        }
    }
}

/// `Σ v` over a flattened gradient plane, in `T` lanes.
#[inline(always)]
fn sum<E: Scalar, const T: usize>(v: &[E]) -> E {
    let mut lanes = [E::ZERO; T];
    let mut chunks = v.chunks_exact(T);
    for ch in &mut chunks {
        for (l, &x) in lanes.iter_mut().zip(ch) {
            *l += x;
        }
    }
    let tail: E = chunks.remainder().iter().copied().sum();
    lanes.iter().copied().sum::<E>() + tail
}

/// Copies one input channel into the padded plane: row `r` holds input row
/// `r − PH` (zero outside), phase by phase.
#[inline(always)]
fn fill_plane<
    E: Scalar,
    const H: usize,
    const W: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
>(
    xc: &[[E; W]; H],
    rl: usize,
    plane: &mut [E],
) {
    for (r, rows) in plane.chunks_exact_mut(SW * rl).enumerate() {
        let src = r.checked_sub(PH).and_then(|iy| xc.get(iy));
        for (p, dst) in rows.chunks_exact_mut(rl).enumerate() {
            match src {
                Some(src) => pad_row::<E, W, SW, PW>(src, p, dst),
                None => dst.fill(E::ZERO),
            }
        }
    }
}

/// Adds `dW[f][c][ky][kx] += Σ_{oy,ox} dy[f][oy][ox] · xpad[oy·SH + ky][ox·SW + kx]`
/// for filters `f0 .. f0 + FB` and channel `c`.
#[inline(always)]
#[expect(
    clippy::needless_range_loop,
    reason = "kernel and output rows address the plane, the gradient and the weights together"
)]
fn weight_grads<
    M: MulAdd,
    E: Scalar,
    const C: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const OH: usize,
    const OW: usize,
    const FB: usize,
    const T: usize,
>(
    c: usize,
    f0: usize,
    dy: &[[[E; OW]; OH]],
    plane: &[E],
    rl: usize,
    dw: &mut [[[[E; KW]; KH]; C]],
) {
    for ky in 0..KH {
        let mut acc = [[[E::ZERO; T]; KW]; FB];
        for oy in 0..OH {
            let r = oy * SH + ky;
            for j0 in (0..OW).step_by(T) {
                let mut xv = [[E::ZERO; T]; KW];
                for (kx, v) in xv.iter_mut().enumerate() {
                    *v = *tile::<E, T>(plane, (r * SW + kx % SW) * rl + j0 + kx / SW);
                }
                unroll!(fb < FB => {
                    let g = out_tile::<E, OW, T>(&dy[f0 + fb][oy], j0);
                    unroll!(kx < KW => lanes::fma::<M, E, T>(&mut acc[fb][kx], &g, &xv[kx]));
                });
            }
        }
        for (fb, a) in acc.iter().enumerate() {
            for (d, ak) in dw[f0 + fb][c][ky].iter_mut().zip(a) {
                *d += ak.iter().copied().sum::<E>();
            }
        }
    }
}

/// Adds one filter's share of the input gradient of one channel to the
/// padded gradient plane: `grad[oy·SH + ky][ox·SW + kx] += w[ky][kx] · dy[oy][ox]`.
/// Columns past `OW` add zero gradients to the padding.
#[inline(always)]
fn scatter_grads<
    M: MulAdd,
    E: Scalar,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const OH: usize,
    const OW: usize,
    const T: usize,
>(
    wc: &[[E; KW]; KH],
    dy: &[[E; OW]; OH],
    rl: usize,
    grad: &mut [E],
) {
    for (oy, g) in dy.iter().enumerate() {
        for j0 in (0..OW).step_by(T) {
            let gv = out_tile::<E, OW, T>(g, j0);
            for (ky, wr) in wc.iter().enumerate() {
                let r = oy * SH + ky;
                for (kx, &wv) in wr.iter().enumerate() {
                    let d = tile_mut::<E, T>(grad, (r * SW + kx % SW) * rl + j0 + kx / SW);
                    lanes::axpy::<M, E, T>(d, wv, &gv);
                }
            }
        }
    }
}

/// Whether a convolution is pointwise (`1 × 1`, stride 1, no padding) over
/// at least one tile of positions: a product of the weights `[F, C]` and
/// the input `[C, H·W]`, which the pointwise loops tile over the flattened
/// positions, free of row ends.
pub(super) const fn pointwise(
    (h, w): (usize, usize),
    (kh, kw): (usize, usize),
    (sh, sw): (usize, usize),
    (ph, pw): (usize, usize),
    t: usize,
) -> bool {
    kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0 && h * w >= t
}

/// Tile starts over `n ≥ T` positions: every `T`-th, the last one moved back
/// to end at `n` (it recomputes a few outputs, which only a sum across
/// tiles must not do).
#[inline(always)]
fn starts<const T: usize>(n: usize) -> impl Iterator<Item = usize> {
    (0..n).step_by(T).map(move |p| p.min(n - T))
}

/// `T` positions of `v` from `p0`, zero past its end.
#[inline(always)]
fn load<E: Scalar, const T: usize>(v: &[E], p0: usize) -> [E; T] {
    if p0 + T <= v.len() {
        return *tile::<E, T>(v, p0);
    }
    let mut t = [E::ZERO; T];
    for (d, &x) in t.iter_mut().zip(&v[p0..]) {
        *d = x;
    }
    t
}

/// Pointwise forward of one sample: `y[f][p] = act(b[f] + Σ_c w[f][c] · x[c][p])`,
/// in blocks of `FB` filters (then single ones) × `T` positions.
///
/// # Shapes
/// - `w`: `[F, C, 1, 1]`, `xs`: `[C, H, W]`, `ys`: `[F, H, W]`
#[inline(always)]
pub(super) fn pointwise_forward<
    M: MulAdd,
    E: Scalar,
    A: super::super::activation::Activation<E>,
    const C: usize,
    const H: usize,
    const W: usize,
    const KH: usize,
    const KW: usize,
    const OH: usize,
    const OW: usize,
    const FB: usize,
    const T: usize,
>(
    w: &[[[[E; KW]; KH]; C]],
    b: &[E],
    xs: &[[[E; W]; H]; C],
    ys: &mut [[[E; OW]; OH]],
    act: A,
) {
    let mut f0 = 0;
    while f0 + FB <= w.len() {
        pointwise_block::<M, E, A, C, H, W, KH, KW, OH, OW, FB, T>(f0, w, b, xs, ys, act);
        f0 += FB;
    }
    while f0 < w.len() {
        pointwise_block::<M, E, A, C, H, W, KH, KW, OH, OW, 1, T>(f0, w, b, xs, ys, act);
        f0 += 1;
    }
}

/// Filters `f0 .. f0 + FB` of [`pointwise_forward`].
#[inline(always)]
fn pointwise_block<
    M: MulAdd,
    E: Scalar,
    A: super::super::activation::Activation<E>,
    const C: usize,
    const H: usize,
    const W: usize,
    const KH: usize,
    const KW: usize,
    const OH: usize,
    const OW: usize,
    const FB: usize,
    const T: usize,
>(
    f0: usize,
    w: &[[[[E; KW]; KH]; C]],
    b: &[E],
    xs: &[[[E; W]; H]; C],
    ys: &mut [[[E; OW]; OH]],
    act: A,
) {
    for p0 in starts::<T>(H * W) {
        let mut acc = [[E::ZERO; T]; FB];
        for (fb, a) in acc.iter_mut().enumerate() {
            *a = [b[f0 + fb]; T];
        }
        for (c, xc) in xs.iter().enumerate() {
            let xv = tile::<E, T>(xc.as_flattened(), p0);
            for (fb, a) in acc.iter_mut().enumerate() {
                let wv = w[f0 + fb][c][0][0];
                for (ai, &xi) in a.iter_mut().zip(xv) {
                    *ai = M::madd(wv, xi, *ai);
                }
            }
        }
        for (fb, a) in acc.iter().enumerate() {
            let out = tile_mut::<E, T>(ys[f0 + fb].as_flattened_mut(), p0);
            for (o, &v) in out.iter_mut().zip(a) {
                *o = act.forward(v);
            }
        }
    }
}

/// Pointwise backward of one sample and group, from the gradient `dy` of
/// every pre-activation; adds to `dw` and `db`, overwrites `dx`.
/// `dW[f][c] += Σ_p dy[f][p] · x[c][p]` runs 4 filters × 2 channels of lane
/// accumulators; `dx[c][p] = Σ_f w[f][c] · dy[f][p]` runs 4 channels × `T`
/// positions in registers.
///
/// # Shapes
/// - `w`, `dw`: `[F, C, 1, 1]`, `db`: `[F]`
/// - `xs`, `dx`: `[C, H, W]`, `dy`: `[F, H, W]`
#[inline(always)]
pub(super) fn pointwise_backward<
    M: MulAdd,
    E: Scalar,
    const C: usize,
    const H: usize,
    const W: usize,
    const KH: usize,
    const KW: usize,
    const OH: usize,
    const OW: usize,
    const T: usize,
>(
    w: &[[[[E; KW]; KH]; C]],
    xs: &[[[E; W]; H]; C],
    dy: &[[[E; OW]; OH]],
    dw: &mut [[[[E; KW]; KH]; C]],
    db: &mut [E],
    dx: Option<&mut [[[E; W]; H]; C]>,
) {
    for (d, g) in db.iter_mut().zip(dy) {
        *d += sum::<E, T>(g.as_flattened());
    }
    let mut f0 = 0;
    while f0 < dw.len() {
        if f0 + 4 <= dw.len() {
            pointwise_weight_grads::<M, E, C, H, W, KH, KW, OH, OW, 4, T>(f0, xs, dy, dw);
            f0 += 4;
        } else {
            pointwise_weight_grads::<M, E, C, H, W, KH, KW, OH, OW, 1, T>(f0, xs, dy, dw);
            f0 += 1;
        }
    }
    let Some(dx) = dx else {
        return;
    };
    let mut c0 = 0;
    while c0 < C {
        if c0 + 4 <= C {
            pointwise_input_grads::<M, E, C, H, W, KH, KW, OH, OW, 4, T>(c0, w, dy, dx);
            c0 += 4;
        } else {
            pointwise_input_grads::<M, E, C, H, W, KH, KW, OH, OW, 1, T>(c0, w, dy, dx);
            c0 += 1;
        }
    }
}

/// `dW[f][c] += Σ_p dy[f][p] · x[c][p]` for filters `f0 .. f0 + FB`, two
/// channels at a time.
#[inline(always)]
fn pointwise_weight_grads<
    M: MulAdd,
    E: Scalar,
    const C: usize,
    const H: usize,
    const W: usize,
    const KH: usize,
    const KW: usize,
    const OH: usize,
    const OW: usize,
    const FB: usize,
    const T: usize,
>(
    f0: usize,
    xs: &[[[E; W]; H]; C],
    dy: &[[[E; OW]; OH]],
    dw: &mut [[[[E; KW]; KH]; C]],
) {
    for c0 in (0..C).step_by(2) {
        let cb = 2.min(C - c0);
        let mut acc = [[[E::ZERO; T]; 2]; FB];
        for p0 in (0..H * W).step_by(T) {
            let mut xv = [[E::ZERO; T]; 2];
            for (k, v) in xv.iter_mut().enumerate().take(cb) {
                *v = load::<E, T>(xs[c0 + k].as_flattened(), p0);
            }
            for (fb, a) in acc.iter_mut().enumerate() {
                let g = load::<E, T>(dy[f0 + fb].as_flattened(), p0);
                for (ak, xk) in a.iter_mut().zip(&xv) {
                    for ((ai, &gi), &xi) in ak.iter_mut().zip(&g).zip(xk) {
                        *ai = M::madd(gi, xi, *ai);
                    }
                }
            }
        }
        for (fb, a) in acc.iter().enumerate() {
            for (k, ak) in a.iter().enumerate().take(cb) {
                dw[f0 + fb][c0 + k][0][0] += ak.iter().copied().sum::<E>();
            }
        }
    }
}

/// `dx[c][p] = Σ_f w[f][c] · dy[f][p]` for channels `c0 .. c0 + CB`.
#[inline(always)]
fn pointwise_input_grads<
    M: MulAdd,
    E: Scalar,
    const C: usize,
    const H: usize,
    const W: usize,
    const KH: usize,
    const KW: usize,
    const OH: usize,
    const OW: usize,
    const CB: usize,
    const T: usize,
>(
    c0: usize,
    w: &[[[[E; KW]; KH]; C]],
    dy: &[[[E; OW]; OH]],
    dx: &mut [[[E; W]; H]; C],
) {
    for p0 in starts::<T>(H * W) {
        let mut acc = [[E::ZERO; T]; CB];
        for (wf, g) in w.iter().zip(dy) {
            let gv = tile::<E, T>(g.as_flattened(), p0);
            for (cb, a) in acc.iter_mut().enumerate() {
                let wv = wf[c0 + cb][0][0];
                for (ai, &gi) in a.iter_mut().zip(gv) {
                    *ai = M::madd(gi, wv, *ai);
                }
            }
        }
        for (cb, a) in acc.iter().enumerate() {
            *tile_mut::<E, T>(dx[c0 + cb].as_flattened_mut(), p0) = *a;
        }
    }
}
