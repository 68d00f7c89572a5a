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
/// columns of one pool window (of two positions without a pool, or an
/// even count), one group's taps each, and one int32 per filter (its bias
/// plus `−z · Σ w`).
pub const fn scratch_len(g: &ConvGeometry, pool: Option<(usize, usize)>) -> usize {
    let cells = match pool {
        Some((ph, pw)) => ph * pw,
        None => 1,
    };
    4 * g.f + cells.next_multiple_of(2) * taps_of(g)
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
    match pool {
        None => plain(g, weights, input_zero_point, out, x, y, scratch),
        Some(pool) => pooled(g, pool, weights, input_zero_point, out, x, y, scratch),
    }
}

/// [`forward`] without a pool. A program calls it, or [`pooled`], or
/// both: a firmware links what its network uses.
#[inline(never)]
pub(crate) fn plain(
    g: &ConvGeometry,
    weights: (&[i8], &[i32]),
    input_zero_point: i8,
    out: &impl OutputStage,
    x: &[i8],
    y: &mut [i8],
    scratch: &mut [i8],
) {
    let mut sweep = Sweep::<_, false>::new(g, weights, input_zero_point, out, x, scratch);
    let (oh, ow) = g.out;
    let plane = oh * ow;
    for oy in 0..oh {
        for ox in (0..ow).step_by(2) {
            // A lone last position is computed twice, written once.
            let next = (ox + 1).min(ow - 1);
            let at = |i| (oy, if i == 0 { ox } else { next });
            sweep.unit(2, at, |f, [a, b]| {
                let at = f * plane + oy * ow;
                y[at + ox] = a;
                y[at + next] = b;
            });
        }
    }
}

/// [`forward`] with a `(ph, pw)` max pool whose windows tile the output.
#[expect(
    clippy::too_many_arguments,
    reason = "conv2d::forward's arguments and the scratch"
)]
#[inline(never)]
pub(crate) fn pooled(
    g: &ConvGeometry,
    (ph, pw): (usize, usize),
    weights: (&[i8], &[i32]),
    input_zero_point: i8,
    out: &impl OutputStage,
    x: &[i8],
    y: &mut [i8],
    scratch: &mut [i8],
) {
    let mut sweep = Sweep::<_, true>::new(g, weights, input_zero_point, out, x, scratch);
    let (qh, qw) = (g.out.0 / ph, g.out.1 / pw);
    for qy in 0..qh {
        for qx in 0..qw {
            let cell = |i| (qy * ph + i / pw, qx * pw + i % pw);
            let q = qy * qw + qx;
            sweep.unit(ph * pw, cell, |f, [v, _]| y[f * qh * qw + q] = v);
        }
    }
}

/// What every unit of output positions (a pair, or a pool window when
/// `POOLED`) shares.
struct Sweep<'a, S, const POOLED: bool> {
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
}

impl<'a, S: OutputStage, const POOLED: bool> Sweep<'a, S, POOLED> {
    /// The sweep of `g`, its filters' folded biases written at the start
    /// of `scratch`, its columns after them.
    #[inline(always)]
    fn new(
        g: &'a ConvGeometry,
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
        Sweep {
            g,
            w,
            taps,
            fixed,
            zero_point,
            out,
            x,
            cols,
        }
    }

    /// A unit of `n` output positions, `at(i)` each: per group, its
    /// columns, then its filters' outputs to `emit(f, …)`.
    #[inline(always)]
    fn unit(
        &mut self,
        n: usize,
        at: impl Fn(usize) -> (usize, usize),
        mut emit: impl FnMut(usize, [i8; 2]),
    ) {
        for group in 0..self.g.groups {
            self.columns(group, n, &at);
            self.filters(group, n, &mut emit);
        }
    }

    /// The columns of `n` output positions in `group` (the last repeated
    /// to an even count).
    fn columns(&mut self, group: usize, n: usize, at: impl Fn(usize) -> (usize, usize)) {
        let m = n.next_multiple_of(2);
        for (i, col) in self.cols.chunks_exact_mut(self.taps).take(m).enumerate() {
            column(
                self.g,
                self.x,
                self.zero_point,
                group,
                at(i.min(n - 1)),
                col,
            );
        }
    }

    /// The group's filters over the `n` columns [`Sweep::columns`] built,
    /// two at a time, then one.
    fn filters(&self, group: usize, n: usize, mut emit: impl FnMut(usize, [i8; 2])) {
        let g = self.g;
        let per_group = g.f / g.groups;
        let t = self.taps;
        let cols = &self.cols[..n.next_multiple_of(2) * t];
        let (first, end) = (group * per_group, (group + 1) * per_group);
        let mut f = first;
        while f + 2 <= end {
            let ws = &self.w[f * t..];
            self.outputs(f, cols, |c| pair(c, ws, t), &mut emit);
            f += 2;
        }
        if f < end {
            let ws = &self.w[f * t..][..t];
            self.outputs(f, cols, |c| [single(c, ws, t)], &mut emit);
        }
    }

    /// The outputs of the `K` filters from `f` over `cols`, whose pairs of
    /// columns `sums` turns into each filter's two sums: the two int8
    /// outputs, or of a pool window the largest, twice. A window's
    /// largest sum is requantized once where the stage is monotonic (the
    /// largest output is that of the largest sum); otherwise every sum
    /// is, as TFLite computes each output before its pool.
    #[inline(always)]
    fn outputs<const K: usize>(
        &self,
        f: usize,
        cols: &[i8],
        sums: impl Fn(&[i8]) -> [[i32; 2]; K],
        emit: &mut impl FnMut(usize, [i8; 2]),
    ) {
        let fixed: [i32; K] = core::array::from_fn(|k| {
            let at = &self.fixed[4 * (f + k)..][..4];
            i32::from_le_bytes([at[0], at[1], at[2], at[3]].map(|b| b as u8))
        });
        let stages: [_; K] = core::array::from_fn(|k| self.out.channel(f + k));
        let once: [bool; K] = core::array::from_fn(|k| POOLED && self.out.monotonic(f + k));
        let mut largest = [(i32::MIN, i8::MIN); K];
        for pair in cols.chunks_exact(2 * self.taps) {
            let acc = sums(pair);
            for k in 0..K {
                let s = acc[k].map(|a| a.wrapping_add(fixed[k]));
                let (sum, out) = &mut largest[k];
                if once[k] {
                    *sum = (*sum).max(s[0]).max(s[1]);
                } else if POOLED {
                    *out = (*out).max(stages[k](s[0])).max(stages[k](s[1]));
                } else {
                    emit(f + k, s.map(&stages[k]));
                }
            }
        }
        if POOLED {
            for (k, &(sum, out)) in largest.iter().enumerate() {
                let v = if once[k] { stages[k](sum) } else { out };
                emit(f + k, [v, v]);
            }
        }
    }
}

/// Two columns against two filters, each `n` values and the second right
/// after the first (not inlined: its accumulators stay in registers).
#[inline(never)]
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
    let (y0, y1, ky0) = taps(oy, kh, g.stride.0, g.pad.0, g.h);
    let (x0, x1, kx0) = taps(ox, kw, g.stride.1, g.pad.1, g.w);
    if kh * kw == 1 && y1 > y0 && x1 > x0 {
        // A pointwise column: one tap per channel, a plane apart.
        let at = y0 * g.w + x0;
        for (v, plane) in col.iter_mut().zip(channels.chunks_exact(hw)) {
            *v = plane[at];
        }
        return;
    }
    let (n, ky1) = (x1 - x0, ky0 + (y1 - y0));
    let rows = channels.chunks_exact(hw).zip(col.chunks_exact_mut(kh * kw));
    if n == kw && y1 - y0 == kh {
        // Inside the input: each kernel row is a run of an input row.
        let at = y0 * g.w + x0;
        return match kw {
            3 => runs::<3>(rows, g.w, at),
            5 => runs::<5>(rows, g.w, at),
            _ => {
                for (plane, taps) in rows {
                    for (ky, dst) in taps.chunks_exact_mut(kw).enumerate() {
                        dst.copy_from_slice(&plane[at + ky * g.w..][..kw]);
                    }
                }
            }
        };
    }
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

/// Copies each channel's kernel rows of `KW` taps, `w` apart from `at`
/// in its input plane, into its taps. A fixed-size move compiles to a
/// load and a store or two; a copy of a length known only at run time
/// would call `memcpy`, whose overhead is larger than a kernel row.
#[inline(always)]
fn runs<'a, const KW: usize>(
    rows: impl Iterator<Item = (&'a [i8], &'a mut [i8])>,
    w: usize,
    at: usize,
) {
    for (plane, taps) in rows {
        for (ky, dst) in taps.as_chunks_mut::<KW>().0.iter_mut().enumerate() {
            dst.copy_from_slice(&plane[at + ky * w..][..KW]);
        }
    }
}
