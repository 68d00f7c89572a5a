//! Register-tiled convolution without dilation, the shape of most
//! convolutions in small networks, with any stride, padding and groups:
//! taps in the padding are skipped, exactly as the general path skips them,
//! and each group runs as its own convolution.
//!
//! Forward keeps one output row of `FB` filters in registers
//! (`FB · OW ≤ 96` accumulators for `f32`): for each kernel tap, one
//! contiguous slice of the input row is multiplied by `FB` broadcast weights.
//! Rows are activated and, for a folded max pool, reduced window by window as
//! soon as a window's rows are complete; the unpooled output never exists.
//!
//! Backward visits filters in the outer loop, so one filter's weight gradient
//! stays in registers or L1 while every sample is scattered into it, and
//! skips the zero gradients that pooling and ReLU leave behind.

use super::super::activation::Activation;
use super::super::dispatch::MulAdd;
use super::super::tile::{self, unroll};
use super::wide;
use crate::Scalar;

/// Accumulator budget (elements) of one register tile.
const TILE: usize = 96;

/// The outputs `lo..hi` of a row whose kernel column `kx` falls inside the
/// input: output `ox` reads column `ox·SW + kx − PW`.
#[inline(always)]
const fn columns<const W: usize, const SW: usize, const PW: usize, const OW: usize>(
    kx: usize,
) -> (usize, usize) {
    let lo = PW.saturating_sub(kx).div_ceil(SW);
    let hi = (W + PW - kx).div_ceil(SW);
    (lo, if hi < OW { hi } else { OW })
}

/// The channels of group `g` of one sample.
#[inline(always)]
fn group<T, const CT: usize, const CG: usize>(xs: &[T; CT], g: usize) -> &[T; CG] {
    match xs[g * CG..].first_chunk::<CG>() {
        Some(group) => group,
        // The entry points assert `CG · groups = CT`.
        None => unreachable!("conv2d: group {g} of {CT} channels in groups of {CG}"),
    }
}

/// [`group`], mutable.
#[inline(always)]
fn group_mut<T, const CT: usize, const CG: usize>(xs: &mut [T; CT], g: usize) -> &mut [T; CG] {
    match xs[g * CG..].first_chunk_mut::<CG>() {
        Some(group) => group,
        None => unreachable!("conv2d: group {g} of {CT} channels in groups of {CG}"),
    }
}

/// Forward over a batch in `groups` groups of `CG` of the `CT` input
/// channels, pooling `WH × WW` windows (`1 × 1`: no pool).
#[inline(always)]
pub(super) fn forward<
    M: MulAdd,
    E: Scalar,
    A: Activation<E>,
    const CT: usize,
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
    x: &[[[[E; W]; H]; CT]],
    y: &mut [[[[E; QW]; QH]; F]],
    mut argmax: Option<&mut [[[[u32; QW]; QH]; F]]>,
    act: A,
    groups: usize,
) {
    #[cfg(feature = "std")]
    if let ([xs], [ys]) = (x, &mut *y)
        && groups == 1
    {
        let parts = crate::threads::split_for(F * OH * OW * C * KH * KW);
        if parts > 1 {
            let am = argmax.map(|a| &mut a[0][..]);
            return filters_parallel::<E, A, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, WH, WW, QH, QW>(
                w,
                b,
                group::<_, CT, C>(xs, 0),
                ys,
                am,
                act,
                parts,
            );
        }
    }
    let per = F / groups;
    let mut scratch = [E::ZERO; wide::SCRATCH];
    for (s, (xs, ys)) in x.iter().zip(y.iter_mut()).enumerate() {
        let mut am = argmax.as_deref_mut().map(|a| &mut a[s][..]);
        for g in 0..groups {
            let fs = g * per..(g + 1) * per;
            let am = am.as_deref_mut().map(|a| &mut a[fs.clone()]);
            filters::<M, E, A, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, WH, WW, QH, QW>(
                &w[fs.clone()],
                &b[fs.clone()],
                group::<_, CT, C>(xs, g),
                &mut ys[fs],
                am,
                act,
                &mut scratch,
            );
        }
    }
}

/// One sample's filters, split into `parts` ranges computed in parallel.
/// Each output is computed exactly as unsplit.
#[cfg(feature = "std")]
fn filters_parallel<
    E: Scalar,
    A: Activation<E>,
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
    const WH: usize,
    const WW: usize,
    const QH: usize,
    const QW: usize,
>(
    w: &[[[[E; KW]; KH]; C]],
    b: &[E],
    xs: &[[[E; W]; H]; C],
    ys: &mut [[[E; QW]; QH]],
    am: Option<&mut [[[u32; QW]; QH]]>,
    act: A,
    parts: usize,
) {
    if parts > 1 && w.len() > 4 {
        let mid = (w.len() / 2).next_multiple_of(4).min(w.len());
        let (w_lo, w_hi) = w.split_at(mid);
        let (b_lo, b_hi) = b.split_at(mid);
        let (y_lo, y_hi) = ys.split_at_mut(mid);
        let (a_lo, a_hi) = match am {
            Some(a) => {
                let (l, h) = a.split_at_mut(mid);
                (Some(l), Some(h))
            }
            None => (None, None),
        };
        rayon::join(
            || {
                filters_parallel::<E, A, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, WH, WW, QH, QW>(
                    w_lo,
                    b_lo,
                    xs,
                    y_lo,
                    a_lo,
                    act,
                    parts / 2,
                )
            },
            || {
                filters_parallel::<E, A, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, WH, WW, QH, QW>(
                    w_hi,
                    b_hi,
                    xs,
                    y_hi,
                    a_hi,
                    act,
                    parts - parts / 2,
                )
            },
        );
        return;
    }
    filters_leaf::<E, A, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, WH, WW, QH, QW>(
        w, b, xs, ys, am, act,
    );
}

#[cfg(feature = "std")]
super::super::dispatch::entry! {
    /// [`filters`] through the kernel dispatch, for one part of a split.
    fn filters_leaf<E: Scalar, A: Activation<E>;
        const C: usize, const H: usize, const W: usize, const KH: usize, const KW: usize,
        const SH: usize,
        const SW: usize,
        const PH: usize, const PW: usize, const OH: usize, const OW: usize, const WH: usize, const WW: usize, const QH: usize,
        const QW: usize>(
        w: &[[[[E; KW]; KH]; C]],
        b: &[E],
        xs: &[[[E; W]; H]; C],
        ys: &mut [[[E; QW]; QH]],
        am: Option<&mut [[[u32; QW]; QH]]>,
        act: A,
    ) => filters_alone;
}

/// [`filters`] with a scratch of its own, for one part of a split.
#[cfg(feature = "std")]
#[inline(always)]
fn filters_alone<
    M: MulAdd,
    E: Scalar,
    A: Activation<E>,
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
    const WH: usize,
    const WW: usize,
    const QH: usize,
    const QW: usize,
>(
    w: &[[[[E; KW]; KH]; C]],
    b: &[E],
    xs: &[[[E; W]; H]; C],
    ys: &mut [[[E; QW]; QH]],
    am: Option<&mut [[[u32; QW]; QH]]>,
    act: A,
) {
    let mut scratch = [E::ZERO; wide::SCRATCH];
    filters::<M, E, A, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, WH, WW, QH, QW>(
        w,
        b,
        xs,
        ys,
        am,
        act,
        &mut scratch,
    );
}

/// Every filter of `w` on one sample, in register blocks of 8, 4 or 1
/// filters (as many as fit the tile budget); the wide build, when the
/// padded rows fit its scratch, in blocks of `FB` filters × `T` columns
/// (see `wide.rs`).
#[inline(always)]
fn filters<
    M: MulAdd,
    E: Scalar,
    A: Activation<E>,
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
    const WH: usize,
    const WW: usize,
    const QH: usize,
    const QW: usize,
>(
    w: &[[[[E; KW]; KH]; C]],
    b: &[E],
    xs: &[[[E; W]; H]; C],
    ys: &mut [[[E; QW]; QH]],
    mut am: Option<&mut [[[u32; QW]; QH]]>,
    act: A,
    scratch: &mut [E],
) {
    if M::WIDE
        && am.is_none()
        && const { WH == 1 && WW == 1 && wide::pointwise((H, W), (KH, KW), (SH, SW), (PH, PW), 16) }
    {
        return if E::BYTES == 4 {
            wide::pointwise_forward::<M, E, A, C, H, W, KH, KW, QH, QW, 4, 16>(w, b, xs, ys, act)
        } else {
            wide::pointwise_forward::<M, E, A, C, H, W, KH, KW, QH, QW, 4, 8>(w, b, xs, ys, act)
        };
    }
    // A folded max pool stays on the register blocks below: measured on
    // SimpleConvNet, the row copies cost more than they save there.
    if M::WIDE && const { WH == 1 && WW == 1 && wide::row_fits(C, KH, KW, SW, OW, 8) } {
        // Two vectors of `f32` per filter when whole tiles cover the row,
        // else one (f32) or two (f64) of 8 columns: 8 to 12 accumulators.
        return if E::BYTES == 4 && OW.is_multiple_of(16) {
            wide_blocks::<M, E, A, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, WH, WW, QH, QW, 4, 16>(
                w, b, xs, ys, am, act, scratch,
            )
        } else if E::BYTES == 4 {
            wide_blocks::<M, E, A, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, WH, WW, QH, QW, 8, 8>(
                w, b, xs, ys, am, act, scratch,
            )
        } else {
            wide_blocks::<M, E, A, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, WH, WW, QH, QW, 4, 8>(
                w, b, xs, ys, am, act, scratch,
            )
        };
    }
    let budget = if E::BYTES == 4 { TILE } else { TILE / 2 };
    let f = w.len();
    let mut f0 = 0;
    if 8 * OW <= budget {
        while f0 + 8 <= f {
            block::<M, E, A, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, WH, WW, QH, QW, 8, 0>(
                f0,
                w,
                b,
                xs,
                ys,
                am.as_deref_mut(),
                act,
                scratch,
            );
            f0 += 8;
        }
    }
    if 4 * OW <= budget {
        while f0 + 4 <= f {
            block::<M, E, A, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, WH, WW, QH, QW, 4, 0>(
                f0,
                w,
                b,
                xs,
                ys,
                am.as_deref_mut(),
                act,
                scratch,
            );
            f0 += 4;
        }
    }
    while f0 < f {
        block::<M, E, A, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, WH, WW, QH, QW, 1, 0>(
            f0,
            w,
            b,
            xs,
            ys,
            am.as_deref_mut(),
            act,
            scratch,
        );
        f0 += 1;
    }
}

/// The wide build's [`filters`]: blocks of `FB` filters, then of 4, 2 and
/// 1 for the rest, each over column tiles of `T`.
#[inline(always)]
fn wide_blocks<
    M: MulAdd,
    E: Scalar,
    A: Activation<E>,
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
    const WH: usize,
    const WW: usize,
    const QH: usize,
    const QW: usize,
    const FB: usize,
    const T: usize,
>(
    w: &[[[[E; KW]; KH]; C]],
    b: &[E],
    xs: &[[[E; W]; H]; C],
    ys: &mut [[[E; QW]; QH]],
    mut am: Option<&mut [[[u32; QW]; QH]]>,
    act: A,
    scratch: &mut [E],
) {
    if am.is_none() && WH == 1 && WW == 1 {
        return unpooled::<M, E, A, C, H, W, KH, KW, SH, SW, PH, PW, OW, QH, QW, FB, T>(
            w, b, xs, ys, act, scratch,
        );
    }
    let f = w.len();
    let mut f0 = 0;
    while f0 + FB <= f {
        block::<M, E, A, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, WH, WW, QH, QW, FB, T>(
            f0,
            w,
            b,
            xs,
            ys,
            am.as_deref_mut(),
            act,
            scratch,
        );
        f0 += FB;
    }
    if FB > 4 && f0 + 4 <= f {
        block::<M, E, A, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, WH, WW, QH, QW, 4, T>(
            f0,
            w,
            b,
            xs,
            ys,
            am.as_deref_mut(),
            act,
            scratch,
        );
        f0 += 4;
    }
    if f0 + 2 <= f {
        block::<M, E, A, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, WH, WW, QH, QW, 2, T>(
            f0,
            w,
            b,
            xs,
            ys,
            am.as_deref_mut(),
            act,
            scratch,
        );
        f0 += 2;
    }
    if f0 < f {
        block::<M, E, A, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, WH, WW, QH, QW, 1, T>(
            f0, w, b, xs, ys, am, act, scratch,
        );
    }
}

/// [`wide_blocks`] without a pool: each output row's input rows are copied
/// once for every block of filters (`OW = QW`, `OH = QH`).
#[inline(always)]
fn unpooled<
    M: MulAdd,
    E: Scalar,
    A: Activation<E>,
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
    const QH: usize,
    const QW: usize,
    const FB: usize,
    const T: usize,
>(
    w: &[[[[E; KW]; KH]; C]],
    b: &[E],
    xs: &[[[E; W]; H]; C],
    ys: &mut [[[E; QW]; QH]],
    act: A,
    scratch: &mut [E],
) {
    for oy in 0..QH {
        wide::gather::<E, C, H, W, KH, KW, SH, SW, PH, PW, OW, T>(xs, oy, scratch);
        let mut f0 = 0;
        while f0 < w.len() {
            let left = w.len() - f0;
            f0 += if left >= FB {
                unpooled_row::<M, E, A, C, KH, KW, SW, OW, QH, QW, FB, T>(
                    f0, w, b, ys, oy, act, scratch,
                )
            } else if left >= 4 {
                unpooled_row::<M, E, A, C, KH, KW, SW, OW, QH, QW, 4, T>(
                    f0, w, b, ys, oy, act, scratch,
                )
            } else if left >= 2 {
                unpooled_row::<M, E, A, C, KH, KW, SW, OW, QH, QW, 2, T>(
                    f0, w, b, ys, oy, act, scratch,
                )
            } else {
                unpooled_row::<M, E, A, C, KH, KW, SW, OW, QH, QW, 1, T>(
                    f0, w, b, ys, oy, act, scratch,
                )
            };
        }
    }
}

/// Output row `oy` of filters `f0 .. f0 + FB` from the gathered rows,
/// activated; returns `FB`.
#[inline(always)]
fn unpooled_row<
    M: MulAdd,
    E: Scalar,
    A: Activation<E>,
    const C: usize,
    const KH: usize,
    const KW: usize,
    const SW: usize,
    const OW: usize,
    const QH: usize,
    const QW: usize,
    const FB: usize,
    const T: usize,
>(
    f0: usize,
    w: &[[[[E; KW]; KH]; C]],
    b: &[E],
    ys: &mut [[[E; QW]; QH]],
    oy: usize,
    act: A,
    rows: &[E],
) -> usize {
    let (Some(wb), Some(bb)) = (w[f0..].first_chunk(), b[f0..].first_chunk()) else {
        unreachable!("conv2d: block {f0}..{} of {} filters", f0 + FB, w.len());
    };
    let mut acc = [[E::ZERO; OW]; FB];
    wide::row_from::<M, E, C, KH, KW, SW, OW, FB, T>(wb, bb, rows, &mut acc);
    for (y, a) in ys[f0..f0 + FB].iter_mut().zip(&acc) {
        for (d, &v) in y[oy].iter_mut().zip(a) {
            *d = act.forward(v);
        }
    }
    FB
}

/// Filters `f0 .. f0 + FB` of one sample; rows through [`wide::row`] in
/// column tiles of `T`, or, with `T = 0`, through the portable loops.
#[inline(always)]
#[expect(
    clippy::too_many_arguments,
    reason = "the block's place, the tensors, the activation and the scratch"
)]
fn block<
    M: MulAdd,
    E: Scalar,
    A: Activation<E>,
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
    const WH: usize,
    const WW: usize,
    const QH: usize,
    const QW: usize,
    const FB: usize,
    const T: usize,
>(
    f0: usize,
    w: &[[[[E; KW]; KH]; C]],
    b: &[E],
    xs: &[[[E; W]; H]; C],
    ys: &mut [[[E; QW]; QH]],
    mut am: Option<&mut [[[u32; QW]; QH]]>,
    act: A,
    scratch: &mut [E],
) {
    for qy in 0..QH {
        // Each window's maximum so far and its flat index, row by row: a
        // pooled row's worth of state instead of its `WH` activated rows.
        let mut best = [[E::ZERO; QW]; FB];
        let mut at = [[0u32; QW]; FB];
        for r in 0..WH {
            let oy = qy * WH + r;
            let mut acc = [[E::ZERO; OW]; FB];
            if T > 0 {
                let (Some(wb), Some(bb)) = (w[f0..].first_chunk(), b[f0..].first_chunk()) else {
                    unreachable!("conv2d: block {f0}..{} of {} filters", f0 + FB, w.len());
                };
                wide::row::<M, E, C, H, W, KH, KW, SH, SW, PH, PW, OW, FB, T>(
                    wb, bb, xs, oy, scratch, &mut acc,
                );
            } else {
                portable_row::<M, E, C, H, W, KH, KW, SH, SW, PH, PW, OW, FB>(
                    &w[f0..f0 + FB],
                    &b[f0..f0 + FB],
                    xs,
                    oy,
                    &mut acc,
                );
            }
            for ((a, best), at) in acc.iter_mut().zip(&mut best).zip(&mut at) {
                act.forward_tile::<M, OW>(a);
                pool_row::<E, OW, WH, WW, QW>(qy, r, a, best, at);
            }
        }
        for (fb, (best, at)) in best.iter().zip(&at).enumerate() {
            ys[f0 + fb][qy] = *best;
            if let Some(am) = am.as_deref_mut() {
                am[f0 + fb][qy] = *at;
            }
        }
    }
}

/// Pre-activations of output row `oy` of the filters `w`, each summed in
/// the order bias, channels, kernel rows, kernel columns, skipping padded
/// taps, as the general path sums them.
#[inline(always)]
fn portable_row<
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
>(
    w: &[[[[E; KW]; KH]; C]],
    b: &[E],
    xs: &[[[E; W]; H]; C],
    oy: usize,
    acc: &mut [[E; OW]; FB],
) {
    // Without padding and with every tap of the row inside the input (a
    // ceiling-rounded output can reach past it).
    if !M::WIDE && PH == 0 && PW == 0 && (OW - 1) * SW + KW <= W && oy * SH + KH <= H {
        return portable_tiles::<M, E, C, H, W, KH, KW, SH, SW, OW, FB>(w, b, xs, oy, acc);
    }
    for (a, &bias) in acc.iter_mut().zip(b) {
        tile::fill::<M, E, OW>(a, bias);
    }
    for c in 0..C {
        for ky in 0..KH {
            // Rows in the padding add nothing: skipped, as the
            // general path skips them.
            let Some(row) = (oy * SH + ky).checked_sub(PH).and_then(|iy| xs[c].get(iy)) else {
                continue;
            };
            for kx in 0..KW {
                // Outputs `lo..hi` see input columns from
                // `lo·SW + kx − PW` on, every `SW`-th; the others see
                // padding. Without padding, all of them.
                let (lo, hi) = columns::<W, SW, PW, OW>(kx);
                let seg = &row[lo * SW + kx - PW..];
                if M::WIDE
                    && SW == 1
                    && (lo, hi) == (0, OW)
                    && let (Some(x), Some(w)) = (seg.first_chunk::<OW>(), w.first_chunk::<FB>())
                {
                    // The whole row (no padding): a tile per filter, as
                    // vectors, unrolled at every optimization level. (The
                    // portable build's rows without padding took the
                    // register tiles above; on a Cortex-M this form of the
                    // middle taps of padded rows was slower than the loops.)
                    unroll!(fb < FB => tile::axpy::<M, E, OW>(&mut acc[fb], w[fb][c][ky][kx], x));
                    continue;
                }
                for (a, wf) in acc.iter_mut().zip(w) {
                    let wv = wf[c][ky][kx];
                    if SW == 1 {
                        for (ai, &xv) in a[lo..hi].iter_mut().zip(seg) {
                            *ai = M::madd(wv, xv, *ai);
                        }
                    } else {
                        for (ai, &xv) in a[lo..hi].iter_mut().zip(seg.iter().step_by(SW)) {
                            *ai = M::madd(wv, xv, *ai);
                        }
                    }
                }
            }
        }
    }
}

/// The portable build's [`portable_row`] for a convolution without padding:
/// tiles of up to 4 filters × 4 columns whose accumulators stay in
/// registers (16 of a Cortex-M4F's 32) while every tap streams through,
/// where the row-wide loops keep each filter's row in memory. Each output
/// still sums its bias, then channels, kernel rows and kernel columns in
/// order: the bits of the general path.
#[inline(always)]
fn portable_tiles<
    M: MulAdd,
    E: Scalar,
    const C: usize,
    const H: usize,
    const W: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const OW: usize,
    const FB: usize,
>(
    w: &[[[[E; KW]; KH]; C]],
    b: &[E],
    xs: &[[[E; W]; H]; C],
    oy: usize,
    out: &mut [[E; OW]; FB],
) {
    // Blocks hold 8, 4 or 1 filters: 4-filter tiles, or 1 for a block of
    // 1. Constant choices, so that each shape compiles only the tiles it
    // uses (flash).
    if FB.is_multiple_of(4) {
        filter_tiles::<M, E, C, H, W, KH, KW, SH, SW, OW, FB, 4>(w, b, xs, oy, out);
    } else {
        filter_tiles::<M, E, C, H, W, KH, KW, SH, SW, OW, FB, 1>(w, b, xs, oy, out);
    }
}

/// [`portable_tiles`] in tiles of `FT` filters: 4 columns at a time, then
/// the last `OW % 4` one by one.
#[inline(always)]
fn filter_tiles<
    M: MulAdd,
    E: Scalar,
    const C: usize,
    const H: usize,
    const W: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const OW: usize,
    const FB: usize,
    const FT: usize,
>(
    w: &[[[[E; KW]; KH]; C]],
    b: &[E],
    xs: &[[[E; W]; H]; C],
    oy: usize,
    out: &mut [[E; OW]; FB],
) {
    // Counted loops: `step_by`'s iterator is not folded away at opt-level
    // "z" (300 bytes more flash in the demo CNN).
    for tf in 0..FB / FT {
        let f0 = tf * FT;
        let (Some(w), Some(b), Some(out)) = (
            w.get(f0..).and_then(<[_]>::first_chunk::<FT>),
            b.get(f0..).and_then(<[_]>::first_chunk::<FT>),
            out.get_mut(f0..).and_then(<[_]>::first_chunk_mut::<FT>),
        ) else {
            unreachable!("conv2d: filters {f0}..{} of {FB}", f0 + FT);
        };
        for tj in 0..OW / 4 {
            register_tile::<M, E, C, H, W, KH, KW, SH, SW, OW, FT, 4>(tj * 4, w, b, xs, oy, out);
        }
        for j0 in OW - OW % 4..OW {
            register_tile::<M, E, C, H, W, KH, KW, SH, SW, OW, FT, 1>(j0, w, b, xs, oy, out);
        }
    }
}

/// One `FT × CT` tile of [`portable_tiles`]: the filters `w`, columns
/// `j0 ..`. Slices are cut once per input row and tile, with their lengths
/// checked there, and indexed by constants inside: at opt-level "z", a
/// slice cut per tap, a `[v; N]` fill and `copy_from_slice` stayed calls
/// and loops around the multiply-adds (the demo CNN on a Cortex-M4F: 4.08
/// instructions per MAC at "z" before, 2.21 after; 1.99 at 3).
#[inline(always)]
fn register_tile<
    M: MulAdd,
    E: Scalar,
    const C: usize,
    const H: usize,
    const W: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const OW: usize,
    const FT: usize,
    const CT: usize,
>(
    j0: usize,
    w: &[[[[E; KW]; KH]; C]; FT],
    b: &[E; FT],
    xs: &[[[E; W]; H]; C],
    oy: usize,
    out: &mut [[E; OW]; FT],
) {
    let mut acc = [[E::ZERO; CT]; FT];
    unroll!(f < FT, at most 4 => unroll!(t < CT, at most 4 => acc[f][t] = b[f]));
    for c in 0..C {
        for ky in 0..KH {
            // The taps of columns `j0 .. j0 + CT`, `SW` apart, for every
            // kernel column.
            let Some(seg) = xs[c][oy * SH + ky]
                .get(j0 * SW..)
                .filter(|seg| seg.len() >= (CT - 1) * SW + KW)
            else {
                unreachable!("conv2d: columns {j0}.. of a row of {W}");
            };
            unroll!(kx < KW => {
                let mut x = [E::ZERO; CT];
                unroll!(t < CT, at most 4 => x[t] = seg[kx + t * SW]);
                unroll!(f < FT, at most 4 => {
                    let wv = w[f][c][ky][kx];
                    unroll!(t < CT, at most 4 => acc[f][t] = M::madd(wv, x[t], acc[f][t]));
                });
            });
        }
    }
    unroll!(f < FT, at most 4 => {
        let Some(o) = out[f].get_mut(j0..).and_then(<[_]>::first_chunk_mut::<CT>) else {
            unreachable!("conv2d: columns {j0}..{} of {OW}", j0 + CT);
        };
        unroll!(t < CT, at most 4 => o[t] = acc[f][t]);
    });
}

/// Folds activated row `r` of pooled row `qy` into its windows' running
/// maximum `best` and flat index `at` (row 0 starts them), visiting and
/// comparing in the order a whole window at a time would: rows, then columns.
#[inline(always)]
fn pool_row<E: Scalar, const OW: usize, const WH: usize, const WW: usize, const QW: usize>(
    qy: usize,
    r: usize,
    row: &[E; OW],
    best: &mut [E; QW],
    at: &mut [u32; QW],
) {
    let oy = qy * WH + r;
    for qx in 0..QW {
        let x0 = qx * WW;
        unroll!(dx < WW => {
            let v = row[x0 + dx];
            if (r == 0 && dx == 0) || super::super::pool2d::beats(v, best[qx]) {
                best[qx] = v;
                at[qx] = (oy * OW + x0 + dx) as u32;
            }
        });
    }
}

/// Backward over a batch from the gradient `dy` of the (pooled) output.
///
/// With `pooled`, `dy`, `y` and `argmax` are per pooled output and the
/// activation's derivative is taken at `y`; without, `dy` is already the
/// gradient of the pre-activation at every output and `argmax` is unused.
#[inline(always)]
#[expect(
    clippy::too_many_arguments,
    reason = "each tensor and each gradient buffer is its own argument, and the group count"
)]
pub(super) fn backward<
    M: MulAdd,
    E: Scalar,
    A: Activation<E>,
    const CT: usize,
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
    const OW: usize,
    const QH: usize,
    const QW: usize,
>(
    w: &[[[[E; KW]; KH]; C]; F],
    x: &[[[[E; W]; H]; CT]],
    grads: Grads<'_, E, QH, QW, F>,
    act: A,
    dw: &mut [[[[E; KW]; KH]; C]; F],
    db: &mut [E; F],
    mut dx: Option<&mut [[[[E; W]; H]; CT]]>,
    groups: usize,
) {
    if let Grads::Dense { dy } = grads {
        // Every output has a gradient (no pool folded in): products along
        // rows instead of one small scatter per output.
        return backward_dense::<M, E, CT, C, H, W, F, KH, KW, SH, SW, PH, PW, QH, QW>(
            w, x, dy, dw, db, dx, groups,
        );
    }
    if let Some(dx) = dx.as_deref_mut() {
        dx.as_flattened_mut()
            .as_flattened_mut()
            .as_flattened_mut()
            .fill(E::ZERO);
    }
    let per = F / groups;
    for f in 0..F {
        let grp = f / per;
        let mut dwf = [[[E::ZERO; KW]; KH]; C];
        let mut dbf = E::ZERO;
        for (s, xs) in x.iter().enumerate() {
            let xs = group::<_, CT, C>(xs, grp);
            for qy in 0..QH {
                for qx in 0..QW {
                    let (g, oy, ox) = match grads {
                        Grads::Pooled { dy, y, argmax } => {
                            let g = dy[s][f][qy][qx];
                            if g == E::ZERO {
                                continue;
                            }
                            let at = argmax[s][f][qy][qx] as usize;
                            (g * act.grad_from_output(y[s][f][qy][qx]), at / OW, at % OW)
                        }
                        Grads::Dense { dy } => (dy[s][f][qy][qx], qy, qx),
                    };
                    dbf += g;
                    if g == E::ZERO {
                        continue;
                    }
                    // The taps of output (oy, ox) inside the input.
                    let (iy, ix) = (oy * SH, ox * SW);
                    let (ky0, ky1) = (PH.saturating_sub(iy), KH.min(H + PH - iy));
                    let (kx0, kx1) = (PW.saturating_sub(ix), KW.min(W + PW - ix));
                    let ix0 = ix + kx0 - PW;
                    for c in 0..C {
                        for ky in ky0..ky1 {
                            let seg = &xs[c][iy + ky - PH][ix0..ix0 + kx1 - kx0];
                            madd_row::<M, E, KW>(&mut dwf[c][ky][kx0..kx1], g, seg);
                        }
                    }
                    if let Some(dx) = dx.as_deref_mut() {
                        let dxs = group_mut::<_, CT, C>(&mut dx[s], grp);
                        for c in 0..C {
                            for ky in ky0..ky1 {
                                let seg = &mut dxs[c][iy + ky - PH][ix0..ix0 + kx1 - kx0];
                                madd_row::<M, E, KW>(seg, g, &w[f][c][ky][kx0..kx1]);
                            }
                        }
                    }
                }
            }
        }
        dw[f] = dwf;
        db[f] = dbf;
    }
}

/// `dst[i] = g · src[i] + dst[i]`: one kernel row's taps of one output.
/// A whole row (every tap inside the input, the case without padding) has
/// `KW` taps, a constant, and is unrolled; a row clipped by padding loops.
#[inline(always)]
fn madd_row<M: MulAdd, E: Scalar, const KW: usize>(dst: &mut [E], g: E, src: &[E]) {
    if let (Ok(dst), Ok(src)) = (
        <&mut [E; KW]>::try_from(&mut *dst),
        <&[E; KW]>::try_from(src),
    ) {
        unroll!(kx < KW => dst[kx] = M::madd(g, src[kx], dst[kx]));
        return;
    }
    for (d, &v) in dst.iter_mut().zip(src) {
        *d = M::madd(g, v, *d);
    }
}

/// The output gradient [`backward`] reads.
#[derive(Clone, Copy)]
pub(super) enum Grads<'a, E, const QH: usize, const QW: usize, const F: usize> {
    /// Per pooled output, with the pooled activations and the argmax.
    Pooled {
        dy: &'a [[[[E; QW]; QH]; F]],
        y: &'a [[[[E; QW]; QH]; F]],
        argmax: &'a [[[[u32; QW]; QH]; F]],
    },
    /// Per convolution output, already through the activation's derivative.
    Dense { dy: &'a [[[[E; QW]; QH]; F]] },
}

/// Backward over a batch from the gradient `dy` of every output (no folded
/// pool), as products along rows: for each filter, channel and tap,
/// `dW[f][c][ky][kx] += Σ_ox dy[f][oy][ox] · x[c][iy][ox·SW + kx − PW]`
/// (a dot product), and for each input row,
/// `dx[c][iy][·] += W[f][c][ky][kx] · dy[f][oy][·]` (an axpy).
///
/// The wide build, when two padded channel planes fit its scratch, runs
/// [`wide::backward`] instead.
///
/// Every sum runs in the order of the per-output scatter it replaces:
/// `dW` and `db` over samples, output rows, output columns; `dx` over
/// filters, output rows, output columns. The portable build therefore gives
/// the bits of the general path; the wide build splits the dot products
/// into vector lanes.
#[inline(always)]
#[expect(
    clippy::needless_range_loop,
    reason = "filter, channel and tap indices address the kernel, the input and the gradient together"
)]
fn backward_dense<
    M: MulAdd,
    E: Scalar,
    const CT: usize,
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
    x: &[[[[E; W]; H]; CT]],
    dy: &[[[[E; OW]; OH]; F]],
    dw: &mut [[[[E; KW]; KH]; C]; F],
    db: &mut [E; F],
    mut dx: Option<&mut [[[[E; W]; H]; CT]]>,
    groups: usize,
) {
    let per = F / groups;
    dw.as_flattened_mut()
        .as_flattened_mut()
        .as_flattened_mut()
        .fill(E::ZERO);
    db.fill(E::ZERO);
    if M::WIDE && const { wide::plane_fits((OH, OW), (KH, KW), (SH, SW), 8) } {
        let mut scratch = [E::ZERO; wide::SCRATCH];
        for (s, (xs, dys)) in x.iter().zip(dy).enumerate() {
            for g in 0..groups {
                let fs = g * per..(g + 1) * per;
                let dxg = dx
                    .as_deref_mut()
                    .map(|dx| group_mut::<_, CT, C>(&mut dx[s], g));
                if const { wide::pointwise((H, W), (KH, KW), (SH, SW), (PH, PW), 16) } {
                    wide::pointwise_backward::<M, E, C, H, W, KH, KW, OH, OW, 8>(
                        &w[fs.clone()],
                        group::<_, CT, C>(xs, g),
                        &dys[fs.clone()],
                        &mut dw[fs.clone()],
                        &mut db[fs],
                        dxg,
                    );
                    continue;
                }
                wide::backward::<M, E, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, 8>(
                    &w[fs.clone()],
                    group::<_, CT, C>(xs, g),
                    &dys[fs.clone()],
                    &mut dw[fs.clone()],
                    &mut db[fs],
                    dxg,
                    &mut scratch,
                );
            }
        }
        return;
    }
    for (s, (xs, dys)) in x.iter().zip(dy).enumerate() {
        for f in 0..F {
            let xg = group::<_, CT, C>(xs, f / per);
            for oy in 0..OH {
                let g = &dys[f][oy];
                for &v in g {
                    db[f] += v;
                }
                for c in 0..C {
                    for ky in 0..KH {
                        let Some(row) = (oy * SH + ky).checked_sub(PH).and_then(|iy| xg[c].get(iy))
                        else {
                            continue;
                        };
                        for kx in 0..KW {
                            let (lo, hi) = columns::<W, SW, PW, OW>(kx);
                            if lo >= hi {
                                continue;
                            }
                            let seg = &row[lo * SW + kx - PW..];
                            dw[f][c][ky][kx] = dot::<M, E, SW>(&g[lo..hi], seg, dw[f][c][ky][kx]);
                        }
                    }
                }
            }
        }
        let Some(dx) = dx.as_deref_mut() else {
            continue;
        };
        let dxs = &mut dx[s];
        dxs.as_flattened_mut().as_flattened_mut().fill(E::ZERO);
        for f in 0..F {
            let grp = f / per;
            let dxg = group_mut::<_, CT, C>(dxs, grp);
            for c in 0..C {
                // Output row `oy` reaches input row `oy·SH + ky − PH`; taps
                // in decreasing `ky` visit output rows in increasing order,
                // as the scatter did.
                for oy in 0..OH {
                    for ky in 0..KH {
                        let Some(iy) = (oy * SH + ky).checked_sub(PH).filter(|&iy| iy < H) else {
                            continue;
                        };
                        let drow = &mut dxg[c][iy];
                        for kx in 0..KW {
                            let (lo, hi) = columns::<W, SW, PW, OW>(kx);
                            if lo >= hi {
                                continue;
                            }
                            let wv = w[f][c][ky][kx];
                            let g = &dys[f][oy][lo..hi];
                            let start = lo * SW + kx - PW;
                            if SW == 1 {
                                for (d, &gv) in drow[start..].iter_mut().zip(g) {
                                    *d = M::madd(gv, wv, *d);
                                }
                            } else {
                                for (d, &gv) in drow[start..].iter_mut().step_by(SW).zip(g) {
                                    *d = M::madd(gv, wv, *d);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `acc + Σ_i g[i] · x[i·S]`: sequential in the portable build, in vector
/// lanes in the wide build.
#[inline(always)]
fn dot<M: MulAdd, E: Scalar, const S: usize>(g: &[E], x: &[E], acc: E) -> E {
    if !M::WIDE {
        let mut acc = acc;
        for (&gv, &xv) in g.iter().zip(x.iter().step_by(S)) {
            acc = M::madd(gv, xv, acc);
        }
        return acc;
    }
    const L: usize = 8;
    let mut lanes = [E::ZERO; L];
    let n = g.len();
    let full = n / L * L;
    if S == 1 {
        for (gc, xc) in g[..full].chunks_exact(L).zip(x.chunks_exact(L)) {
            for ((l, &gv), &xv) in lanes.iter_mut().zip(gc).zip(xc) {
                *l = M::madd(gv, xv, *l);
            }
        }
    } else {
        for (j, gc) in g[..full].chunks_exact(L).enumerate() {
            for (i, (l, &gv)) in lanes.iter_mut().zip(gc).enumerate() {
                *l = M::madd(gv, x[(j * L + i) * S], *l);
            }
        }
    }
    let mut tail = E::ZERO;
    for i in full..n {
        tail = M::madd(g[i], x[i * S], tail);
    }
    acc + lanes.iter().copied().sum::<E>() + tail
}
