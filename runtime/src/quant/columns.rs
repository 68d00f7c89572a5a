//! int8 2-D convolution through columns (im2col), the Cortex-M path: the
//! inputs one output position reads are copied into a column (padding as
//! the input zero point), and two columns meet two filters at a time in
//! `dot::dots_2x2`, which on a core with the DSP extension makes two
//! multiply-accumulates per instruction. It computes what
//! [`conv2d::forward`](super::conv2d::forward) computes, the same integers,
//! for any geometry; [`scratch_len`] bytes of the arena hold the columns.
//!
//! The sum is `Σ w · x` over every tap, padded ones reading the zero point
//! `z`, plus `−z · Σ w`: the same int32, modulo 2^32, as TFLite's
//! `Σ w · (x − z)` over the taps inside the input, since a padded tap adds
//! `w · z − w · z`.

use super::conv2d::{folded_bias, taps};
use super::dot::{dots, dots_2x2};
use super::program::ConvGeometry;
use super::requantize::OutputStage;

/// Bytes of scratch [`forward`] needs for `g` followed by `pool`: the
/// columns of one unit of windows (as many as fit in 512 bytes, or one),
/// one group's taps each, and one int32 per filter (its bias plus
/// `−z · Σ w`).
pub const fn scratch_len(g: &ConvGeometry, pool: Option<(usize, usize)>) -> usize {
    let (columns, windows) = unit_shape(g, pool);
    4 * g.f + columns * windows * taps_of(g)
}

/// Bytes of columns a unit of windows fills, at most (unless one window
/// alone takes more): the windows of a unit share each filter's setup
/// (its bias, its requantization constants, the kernel call), which costs
/// more than a window's own work in small layers.
const UNIT_BYTES: usize = 512;

/// Columns per window (a pool window's cells, or a pair of positions
/// without a pool, made even) and windows per unit.
const fn unit_shape(g: &ConvGeometry, pool: Option<(usize, usize)>) -> (usize, usize) {
    let (oh, ow) = g.out;
    let (columns, windows) = match pool {
        Some((ph, pw)) => ((ph * pw).next_multiple_of(2), (oh / ph) * (ow / pw)),
        None => (2, (oh * ow).div_ceil(2)),
    };
    let fit = UNIT_BYTES / (columns * taps_of(g));
    let per_unit = if fit < 1 { 1 } else { fit };
    (
        columns,
        if per_unit < windows {
            per_unit
        } else {
            windows
        },
    )
}

/// Taps of one filter: a column's length.
const fn taps_of(g: &ConvGeometry) -> usize {
    (g.c / g.groups) * g.kernel.0 * g.kernel.1
}

/// One sample, as [`conv2d::forward`](super::conv2d::forward), with
/// `scratch` of at least [`scratch_len`] bytes.
///
/// # Shapes
/// - `w`: `[F, CG, KH, KW]`, `b`: `[F]`
/// - `x`: `[C, H, W]`, `y`: `[F, OH, OW]` (`[F, OH / ph, OW / pw]` pooled)
///
/// Where the stage is monotonic (a right shift, as calibrated layers
/// have), a pool window's sums are compared before they are requantized,
/// so a window costs one requantization per filter.
///
/// # Panics
/// If a slice is shorter than its shape (a program `network!` did not
/// write).
#[expect(
    clippy::too_many_arguments,
    reason = "conv2d::forward's arguments and the scratch"
)]
pub fn forward(
    g: &ConvGeometry,
    pool: Option<(usize, usize)>,
    weights: (&[i8], &[i32]),
    input_zero_point: i8,
    out: &impl OutputStage,
    x: &[i8],
    y: &mut [i8],
    scratch: &mut [i8],
) {
    match (pool, odd(g)) {
        (None, false) => plain::<false>(g, weights, input_zero_point, out, x, y, scratch),
        (None, true) => plain::<true>(g, weights, input_zero_point, out, x, y, scratch),
        (Some(pool), false) => {
            pooled::<false>(g, pool, weights, input_zero_point, out, x, y, scratch);
        }
        (Some(pool), true) => {
            pooled::<true>(g, pool, weights, input_zero_point, out, x, y, scratch);
        }
    }
}

/// Whether a group of `g` has an odd number of filters: one of them then
/// meets the columns alone, a code path the even case leaves out.
pub(crate) const fn odd(g: &ConvGeometry) -> bool {
    (g.f / g.groups) % 2 == 1
}

/// [`forward`] without a pool, for groups of an [`odd`] number of filters
/// if `ODD`. A program calls it, or [`pooled`], or several of them: a
/// firmware links what its network uses.
#[inline(never)]
pub(crate) fn plain<const ODD: bool>(
    g: &ConvGeometry,
    weights: (&[i8], &[i32]),
    input_zero_point: i8,
    out: &impl OutputStage,
    x: &[i8],
    y: &mut [i8],
    scratch: &mut [i8],
) {
    let mut sweep =
        Sweep::<_, false, ODD>::new(g, None, weights, input_zero_point, out, x, scratch);
    let (oh, ow) = g.out;
    let positions = oh * ow;
    let pairs = positions.div_ceil(2);
    let mut first = 0;
    while first < pairs {
        let windows = sweep.per_unit.min(pairs - first);
        // Pairs of positions in row-major order; a lone last position is
        // computed twice, written once.
        let at = |pair: usize, i: usize| {
            let p = (2 * (first + pair) + i).min(positions - 1);
            (p / ow, p % ow)
        };
        sweep.unit(windows, at, |f, pair, [a, b]| {
            let p = 2 * (first + pair);
            y[f * positions + p] = a;
            if p + 1 < positions {
                y[f * positions + p + 1] = b;
            }
        });
        first += windows;
    }
}

/// [`forward`] with a `(ph, pw)` max pool whose windows tile the output,
/// for groups of an [`odd`] number of filters if `ODD`.
#[expect(
    clippy::too_many_arguments,
    reason = "conv2d::forward's arguments and the scratch"
)]
#[inline(never)]
pub(crate) fn pooled<const ODD: bool>(
    g: &ConvGeometry,
    (ph, pw): (usize, usize),
    weights: (&[i8], &[i32]),
    input_zero_point: i8,
    out: &impl OutputStage,
    x: &[i8],
    y: &mut [i8],
    scratch: &mut [i8],
) {
    let mut sweep = Sweep::<_, true, ODD>::new(
        g,
        Some((ph, pw)),
        weights,
        input_zero_point,
        out,
        x,
        scratch,
    );
    let (qh, qw) = (g.out.0 / ph, g.out.1 / pw);
    let (total, cells) = (qh * qw, ph * pw);
    let mut first = 0;
    while first < total {
        let windows = sweep.per_unit.min(total - first);
        // A window's cells, the last repeated to an even count.
        let cell = |window, i| {
            let (q, i) = (first + window, usize::min(i, cells - 1));
            ((q / qw) * ph + i / pw, (q % qw) * pw + i % pw)
        };
        sweep.unit(windows, cell, |f, window, [v, _]| {
            y[f * total + first + window] = v;
        });
        first += windows;
    }
}

/// What every unit of windows (pairs of positions, or pool windows when
/// `POOLED`) shares, for groups of an [`odd`] number of filters if `ODD`.
struct Sweep<'a, S, const POOLED: bool, const ODD: bool> {
    g: &'a ConvGeometry,
    w: &'a [i8],
    /// Taps of one filter (a column's length).
    taps: usize,
    /// Each filter's bias plus `−z · Σ w`, as little-endian int32 bytes.
    fixed: &'a [i8],
    zero_point: i8,
    out: &'a S,
    x: &'a [i8],
    /// Room for the columns of one unit, one after the other.
    cols: &'a mut [i8],
    /// Columns per window.
    per_window: usize,
    /// Windows per unit, at most.
    per_unit: usize,
}

impl<'a, S: OutputStage, const POOLED: bool, const ODD: bool> Sweep<'a, S, POOLED, ODD> {
    /// The sweep of `g`, its filters' folded biases written at the start
    /// of `scratch`, its columns after them.
    #[inline(always)]
    fn new(
        g: &'a ConvGeometry,
        pool: Option<(usize, usize)>,
        (w, b): (&'a [i8], &[i32]),
        zero_point: i8,
        out: &'a S,
        x: &'a [i8],
        scratch: &'a mut [i8],
    ) -> Self {
        let taps = taps_of(g);
        let (fixed, cols) = scratch.split_at_mut(4 * g.f);
        let offset = -i32::from(zero_point);
        for ((f, b), at) in w.chunks_exact(taps).zip(b).zip(fixed.chunks_exact_mut(4)) {
            let v = folded_bias(f, *b, offset);
            at.copy_from_slice(&v.to_le_bytes().map(|b| b as i8));
        }
        let (per_window, per_unit) = unit_shape(g, pool);
        Sweep {
            g,
            w,
            taps,
            fixed,
            zero_point,
            out,
            x,
            cols,
            per_window,
            per_unit,
        }
    }

    /// A unit of `windows` windows, the `i`-th column of window `k` at
    /// output position `at(k, i)`: per group, its columns, then its
    /// filters' outputs to `emit(f, k, …)`.
    #[inline(always)]
    fn unit(
        &mut self,
        windows: usize,
        at: impl Fn(usize, usize) -> (usize, usize),
        mut emit: impl FnMut(usize, usize, [i8; 2]),
    ) {
        for group in 0..self.g.groups {
            self.columns(group, windows, &at);
            self.filters(group, windows, &mut emit);
        }
    }

    /// The columns of the unit's windows in `group`.
    fn columns(
        &mut self,
        group: usize,
        windows: usize,
        at: impl Fn(usize, usize) -> (usize, usize),
    ) {
        let m = self.per_window;
        for (j, col) in self
            .cols
            .chunks_exact_mut(self.taps)
            .take(windows * m)
            .enumerate()
        {
            column(
                self.g,
                self.x,
                self.zero_point,
                group,
                at(j / m, j % m),
                col,
            );
        }
    }

    /// The group's filters over the columns [`Sweep::columns`] built, two
    /// at a time, then one.
    fn filters(&self, group: usize, windows: usize, mut emit: impl FnMut(usize, usize, [i8; 2])) {
        let g = self.g;
        let per_group = g.f / g.groups;
        let t = self.taps;
        let cols = &self.cols[..windows * self.per_window * t];
        let (first, end) = (group * per_group, (group + 1) * per_group);
        let mut f = first;
        while f + 2 <= end {
            let ws = &self.w[f * t..];
            self.outputs(f, cols, |c| pair(c, ws, t), &mut emit);
            f += 2;
        }
        if ODD {
            let ws = &self.w[f * t..][..t];
            self.outputs(f, cols, |c| [single(c, ws, t)], &mut emit);
        }
    }

    /// The outputs of the `K` filters from `f` over each window of `cols`,
    /// whose pairs of columns `sums` turns into each filter's two sums:
    /// the two int8 outputs, or of a pool window the largest, twice. A
    /// window's largest sum is requantized once where the stage is
    /// monotonic (the largest output is that of the largest sum);
    /// otherwise every sum is, as TFLite computes each output before its
    /// pool.
    #[inline(always)]
    fn outputs<const K: usize>(
        &self,
        f: usize,
        cols: &[i8],
        sums: impl Fn(&[i8]) -> [[i32; 2]; K],
        emit: &mut impl FnMut(usize, usize, [i8; 2]),
    ) {
        let fixed: [i32; K] = core::array::from_fn(|k| {
            let at = &self.fixed[4 * (f + k)..][..4];
            i32::from_le_bytes([at[0], at[1], at[2], at[3]].map(|b| b as u8))
        });
        let stages: [_; K] = core::array::from_fn(|k| self.out.channel(f + k));
        let once: [bool; K] = core::array::from_fn(|k| POOLED && self.out.monotonic(f + k));
        for (window, columns) in cols.chunks_exact(self.per_window * self.taps).enumerate() {
            let mut largest = [(i32::MIN, i8::MIN); K];
            for pair in columns.chunks_exact(2 * self.taps) {
                let acc = sums(pair);
                for k in 0..K {
                    let s = acc[k].map(|a| a.wrapping_add(fixed[k]));
                    let (sum, out) = &mut largest[k];
                    if once[k] {
                        *sum = (*sum).max(s[0]).max(s[1]);
                    } else if POOLED {
                        *out = (*out).max(stages[k](s[0])).max(stages[k](s[1]));
                    } else {
                        emit(f + k, window, s.map(&stages[k]));
                    }
                }
            }
            if POOLED {
                for (k, &(sum, out)) in largest.iter().enumerate() {
                    let v = if once[k] { stages[k](sum) } else { out };
                    emit(f + k, window, [v, v]);
                }
            }
        }
    }
}

/// Two columns against two filters, each `n` values and the second right
/// after the first. Inlined: a call per pair of columns and filters
/// (arguments, saved registers, sums returned through memory) cost more
/// than the spills the inlined loop makes around it.
#[inline(always)]
fn pair(cols: &[i8], ws: &[i8], n: usize) -> [[i32; 2]; 2] {
    dots_2x2(cols, ws, n)
}

/// Two columns, one after the other, against one filter.
#[inline(never)]
fn single(cols: &[i8], w: &[i8], n: usize) -> [i32; 2] {
    let [acc] = dots(&[&cols[..n], &cols[n..2 * n]], &[w]);
    acc
}

/// The column of output position `(oy, ox)` in `group`: each of the
/// group's input channels' taps in the weights' order `[c, ky, kx]`, a
/// tap outside the input reading the zero point `z`.
fn column(
    g: &ConvGeometry,
    x: &[i8],
    z: i8,
    group: usize,
    (oy, ox): (usize, usize),
    col: &mut [i8],
) {
    let (kh, kw) = g.kernel;
    let cg = g.c / g.groups;
    let hw = g.h * g.w;
    let channels = &x[group * cg * hw..][..cg * hw];
    // The window's first tap in padded coordinates: most windows lie
    // inside the input, which a few comparisons tell.
    let (top, left) = (oy * g.stride.0, ox * g.stride.1);
    if top >= g.pad.0 && left >= g.pad.1 && top + kh <= g.pad.0 + g.h && left + kw <= g.pad.1 + g.w
    {
        let at = (top - g.pad.0) * g.w + (left - g.pad.1);
        let rows = channels.chunks_exact(hw).zip(col.chunks_exact_mut(kh * kw));
        // Each kernel row is a run of an input row; a pointwise column
        // has one tap per channel, a plane apart.
        return match (kh, kw) {
            (1, 1) => {
                for (v, plane) in col.iter_mut().zip(channels.chunks_exact(hw)) {
                    *v = plane[at];
                }
            }
            (3, 3) => runs::<3, 3>(rows, g.w, at),
            (5, 5) => runs::<5, 5>(rows, g.w, at),
            _ => {
                for (plane, taps) in rows {
                    for (ky, dst) in taps.chunks_exact_mut(kw).enumerate() {
                        dst.copy_from_slice(&plane[at + ky * g.w..][..kw]);
                    }
                }
            }
        };
    }
    let (y0, y1, ky0) = taps(oy, kh, g.stride.0, g.pad.0, g.h);
    let (x0, x1, kx0) = taps(ox, kw, g.stride.1, g.pad.1, g.w);
    let (n, ky1) = (x1 - x0, ky0 + (y1 - y0));
    let rows = channels.chunks_exact(hw).zip(col.chunks_exact_mut(kh * kw));
    for (plane, taps) in rows {
        for (ky, dst) in taps.chunks_exact_mut(kw).enumerate() {
            dst.fill(z);
            if ky < ky0 || ky >= ky1 {
                continue;
            }
            let src = &plane[(y0 + ky - ky0) * g.w + x0..][..n];
            dst[kx0..kx0 + n].copy_from_slice(src);
        }
    }
}

/// Copies each channel's `KH` kernel rows of `KW` taps, `w` apart from
/// `at` in its input plane, into its taps. With the kernel's shape known,
/// each row is a load and a store or two at an offset the one bounds
/// check of the window covers; a copy of a length known only at run time
/// would call `memcpy`, whose overhead is larger than a kernel row.
#[inline(always)]
fn runs<'a, const KH: usize, const KW: usize>(
    rows: impl Iterator<Item = (&'a [i8], &'a mut [i8])>,
    w: usize,
    at: usize,
) {
    for (plane, taps) in rows {
        let window = &plane[at..][..(KH - 1) * w + KW];
        for (ky, dst) in taps.as_chunks_mut::<KW>().0.iter_mut().take(KH).enumerate() {
            let Some(row) = window[ky * w..].first_chunk::<KW>() else {
                unreachable!("columns: a window's rows lie inside it");
            };
            *dst = *row;
        }
    }
}
