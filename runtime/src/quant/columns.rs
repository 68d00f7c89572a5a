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
use super::dot::{dots_1x2, dots_2x2, widen, widen_adjacent, widened};
use super::program::ConvGeometry;
use super::requantize::OutputStage;
use super::rows;

/// Bytes of scratch [`forward`] needs for `g` followed by `pool`: up to
/// three to align what follows to a word, one int32 per filter (its bias
/// plus `−z · Σ w`), a pair of filters widened, the widened columns of
/// one unit of windows (as many as fit in `UNIT_BYTES`, 6 KiB, and
/// `UNIT_PAIRS`, 24 pairs of columns, or one), and two columns or
/// filters of as many taps before they are widened.
pub const fn scratch_len(g: &ConvGeometry, pool: Option<(usize, usize)>) -> usize {
    let (columns, windows) = unit_shape(g, pool);
    let columns = columns / 2 * windows * widened(stride(g));
    3 + 4 * g.f + widened(stride(g)) + columns + 2 * stride(g)
}

/// Bytes of widened columns a unit of windows fills, at most (unless one window
/// alone takes more): the windows of a unit share each filter's setup
/// (its bias, its requantization constants, the kernel call), which costs
/// more than a window's own work in small layers.
const UNIT_BYTES: usize = 6144;

/// Pairs of columns in a unit, at most: their sums wait in a stack
/// buffer of this many times 16 bytes for their output stage.
const UNIT_PAIRS: usize = 24;

/// Columns per window (a pool window's cells, or a pair of positions
/// without a pool, made even) and windows per unit.
const fn unit_shape(g: &ConvGeometry, pool: Option<(usize, usize)>) -> (usize, usize) {
    let (oh, ow) = g.out;
    let (columns, windows) = match pool {
        Some((ph, pw)) => ((ph * pw).next_multiple_of(2), (oh / ph) * (ow / pw)),
        None => (2, (oh * ow).div_ceil(2)),
    };
    let by_bytes = UNIT_BYTES / (columns / 2 * widened(stride(g)));
    let by_pairs = UNIT_PAIRS / (columns / 2);
    let fit = if by_bytes < by_pairs {
        by_bytes
    } else {
        by_pairs
    };
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

/// Taps of one filter.
const fn taps_of(g: &ConvGeometry) -> usize {
    (g.c / g.groups) * g.kernel.0 * g.kernel.1
}

/// Values of a column and of a filter as [`dots_2x2`] reads them: the
/// taps rounded up to whole words. The values past the taps meet zero
/// weights.
const fn stride(g: &ConvGeometry) -> usize {
    taps_of(g).next_multiple_of(4)
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
    let (z, parts) = (input_zero_point, Parts::of(g.kernel, [true; PARTS]));
    match (pool, odd(g)) {
        (None, false) => plain::<false>(g, weights, z, out, x, y, scratch, parts),
        (None, true) => plain::<true>(g, weights, z, out, x, y, scratch, parts),
        (Some(pool), false) => pooled::<false>(g, pool, weights, z, out, x, y, scratch, parts),
        (Some(pool), true) => pooled::<true>(g, pool, weights, z, out, x, y, scratch, parts),
    }
}

/// Whether a group of `g` has an odd number of filters: one of them then
/// meets the columns alone, a code path the even case leaves out.
pub(crate) const fn odd(g: &ConvGeometry) -> bool {
    (g.f / g.groups) % 2 == 1
}

/// How a sweep builds a column: [`column`] for one kernel shape or any
/// (`column(g, x, z, group, position, col)`).
type Column = fn(&ConvGeometry, &[i8], i8, usize, (usize, usize), &mut [i8]);

/// The parts of a sweep that only some programs use, chosen per layer by
/// [`Parts::of`]: a firmware links the ones its network's layers use.
#[derive(Clone, Copy)]
pub(crate) struct Parts {
    column: Column,
}

/// How many parts [`Parts::used_by`] tells apart.
pub(crate) const PARTS: usize = 2;

impl Parts {
    /// Which parts layer `g` uses: the column builder made for 3×3
    /// kernels, the one for 5×5 kernels. A program passes what any of its
    /// layers uses to [`Parts::of`].
    pub(crate) const fn used_by(g: &ConvGeometry) -> [bool; PARTS] {
        let (three, five) = match g.kernel {
            (3, 3) => (true, false),
            (5, 5) => (false, true),
            _ => (false, false),
        };
        [three, five]
    }

    /// The parts of a layer of `kernel`: a column builder made for it if
    /// it is 3×3 and `uses[0]`, or 5×5 and `uses[1]`, otherwise one for any
    /// kernel. A program passes `false` for what none of its layers needs
    /// ([`Parts::used_by`]).
    pub(crate) const fn of(kernel: (usize, usize), [three, five]: [bool; PARTS]) -> Self {
        let column = match kernel {
            (3, 3) if three => column::<3, 3>,
            (5, 5) if five => column::<5, 5>,
            _ => column::<0, 0>,
        };
        Parts { column }
    }
}

/// [`forward`] without a pool, for groups of an [`odd`] number of filters
/// if `ODD`, with the layer's `parts` ([`Parts::of`]). A program calls it, or
/// [`pooled`], or several of them: a firmware links what its network uses.
#[expect(
    clippy::too_many_arguments,
    reason = "conv2d::forward's arguments, the scratch and the layer's parts"
)]
#[inline(never)]
pub(crate) fn plain<const ODD: bool>(
    g: &ConvGeometry,
    weights: (&[i8], &[i32]),
    input_zero_point: i8,
    out: &impl OutputStage,
    x: &[i8],
    y: &mut [i8],
    scratch: &mut [i8],
    parts: Parts,
) {
    let z = input_zero_point;
    let mut sweep = Sweep::<_, false, ODD>::new(g, None, weights, z, out, x, scratch, parts);
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
        let place = |f: usize, pair: usize| {
            let p = 2 * (first + pair);
            (f * positions + p, positions - p)
        };
        sweep.unit(windows, at, y, place);
        first += windows;
    }
}

/// [`forward`] with a `(ph, pw)` max pool whose windows tile the output,
/// for groups of an [`odd`] number of filters if `ODD`, building columns
/// with the layer's `parts` ([`Parts::of`]).
#[expect(
    clippy::too_many_arguments,
    reason = "conv2d::forward's arguments, the scratch and the layer's parts"
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
    parts: Parts,
) {
    let (z, pool) = (input_zero_point, Some((ph, pw)));
    let mut sweep = Sweep::<_, true, ODD>::new(g, pool, weights, z, out, x, scratch, parts);
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
        sweep.unit(windows, cell, y, |f, window| {
            (f * total + first + window, 1)
        });
        first += windows;
    }
}

/// What every unit of windows (pairs of positions, or pool windows when
/// `POOLED`) shares, for groups of an [`odd`] number of filters if `ODD`.
struct Sweep<'a, S, const POOLED: bool, const ODD: bool> {
    g: &'a ConvGeometry,
    /// The filters, `taps` bytes apart.
    w: &'a [i8],
    /// Taps of one filter.
    taps: usize,
    /// Values of a column and of a filter as they are widened ([`stride`]).
    stride: usize,
    /// Each filter's bias plus `−z · Σ w`, as little-endian int32 bytes.
    fixed: &'a [i8],
    zero_point: i8,
    out: &'a S,
    x: &'a [i8],
    /// Two columns or filters before they are widened, [`stride`] bytes
    /// each.
    staging: &'a mut [i8],
    /// The pair of filters [`Sweep::filters`] runs, widened, word-aligned.
    wide: &'a mut [i8],
    /// The widened columns of one unit, pair after pair, word-aligned.
    cols: &'a mut [i8],
    /// Columns per window.
    per_window: usize,
    /// Windows per unit, at most.
    per_unit: usize,
    /// How a column is built.
    column: Column,
    /// Whether neighbouring positions' columns are built as a pair
    /// ([`widen_adjacent`]): a 1×1 kernel at stride 1 without padding
    /// or pool, its channels whole words.
    adjacent: bool,
}

impl<'a, S: OutputStage, const POOLED: bool, const ODD: bool> Sweep<'a, S, POOLED, ODD> {
    /// The sweep of `g` over `scratch`, laid out as [`scratch_len`]
    /// says, its filters' folded biases written.
    #[expect(
        clippy::too_many_arguments,
        reason = "the arguments of plain or pooled, each kept"
    )]
    #[inline(always)]
    fn new(
        g: &'a ConvGeometry,
        pool: Option<(usize, usize)>,
        (w, b): (&'a [i8], &[i32]),
        zero_point: i8,
        out: &'a S,
        x: &'a [i8],
        scratch: &'a mut [i8],
        parts: Parts,
    ) -> Self {
        let (taps, stride) = (taps_of(g), stride(g));
        let skew = scratch.as_ptr().addr().wrapping_neg() % 4;
        let (fixed, rest) = scratch[skew..].split_at_mut(4 * g.f);
        let (wide, rest) = rest.split_at_mut(widened(stride));
        let (cols, staging) = rest.split_at_mut(rest.len() - 2 * stride);
        let offset = -i32::from(zero_point);
        for ((f, b), at) in w.chunks_exact(taps).zip(b).zip(fixed.chunks_exact_mut(4)) {
            let v = folded_bias(f, *b, offset);
            at.copy_from_slice(&v.to_le_bytes().map(|b| b as i8));
        }
        // Columns and filters fill their taps; the values past them, met
        // by columns as zero weights, are zero in the filters.
        staging.fill(0);
        let (per_window, per_unit) = unit_shape(g, pool);
        Sweep {
            g,
            w,
            taps,
            stride,
            fixed,
            zero_point,
            out,
            x,
            staging,
            wide,
            cols,
            per_window,
            per_unit,
            column: parts.column,
            adjacent: !POOLED
                && g.kernel == (1, 1)
                && g.stride == (1, 1)
                && g.pad == (0, 0)
                && taps == stride,
        }
    }

    /// A unit of `windows` windows, the `i`-th column of window `k` at
    /// output position `at(k, i)`: per group, its columns, then its
    /// filters' outputs to `y` where `place` says (see [`Sweep::outputs`]).
    #[inline(always)]
    fn unit(
        &mut self,
        windows: usize,
        at: impl Fn(usize, usize) -> (usize, usize),
        y: &mut [i8],
        place: impl Fn(usize, usize) -> (usize, usize),
    ) {
        for group in 0..self.g.groups {
            self.columns(group, windows, &at);
            self.filters(group, windows, y, &place);
        }
    }

    /// The columns of the unit's windows in `group`, widened in pairs.
    fn columns(
        &mut self,
        group: usize,
        windows: usize,
        at: impl Fn(usize, usize) -> (usize, usize),
    ) {
        let (m, t, stride) = (self.per_window, self.taps, self.stride);
        let g = self.g;
        let hw = g.h * g.w;
        let planes = &self.x[group * (g.c / g.groups) * hw..];
        let pairs = self.cols.chunks_exact_mut(widened(stride));
        for (k, pair) in pairs.take(windows * m / 2).enumerate() {
            let [(y0, x0), (y1, x1)] = [2 * k, 2 * k + 1].map(|j| at(j / m, j % m));
            let first = y0 * g.w + x0;
            if self.adjacent && y1 * g.w + x1 == first + 1 {
                // Neighbouring positions of a 1×1 kernel: their columns
                // are the channels' pairs of bytes.
                widen_adjacent(&planes[first..], hw, t, pair);
                continue;
            }
            // One call of the column builder for both halves: the
            // compiler unrolled two into a dozen, which cost a firmware
            // flash.
            for (i, at) in [(y0, x0), (y1, x1)].into_iter().enumerate() {
                let half = &mut self.staging[i * stride..][..t];
                (self.column)(g, self.x, self.zero_point, group, at, half);
            }
            let (c0, c1) = self.staging.split_at(stride);
            widen(c0, c1, pair);
        }
    }

    /// The group's filters over the columns [`Sweep::columns`] built, two
    /// at a time (widened as a pair, once per unit), then one.
    fn filters(
        &mut self,
        group: usize,
        windows: usize,
        y: &mut [i8],
        place: impl Fn(usize, usize) -> (usize, usize),
    ) {
        let g = self.g;
        let per_group = g.f / g.groups;
        let (t, stride) = (self.taps, self.stride);
        let pairs = windows * self.per_window / 2;
        let (first, end) = (group * per_group, (group + 1) * per_group);
        let mut buffer = [[0i32; 4]; UNIT_PAIRS];
        let mut f = first;
        while f + 2 <= end {
            let (w0, w1) = self.w[f * t..][..2 * t].split_at(t);
            if t == stride {
                widen(w0, w1, self.wide);
            } else {
                // The staging's taps past `t` stay zero ([`Sweep::new`]).
                let (s0, s1) = self.staging.split_at_mut(stride);
                s0[..t].copy_from_slice(w0);
                s1[..t].copy_from_slice(w1);
                widen(s0, s1, self.wide);
            }
            let ws: &[i8] = self.wide;
            let sums = |cols: &[i8], sums: &mut [[i32; 4]]| dots_2x2(cols, ws, stride, sums);
            self.outputs::<2>(f, pairs, sums, &mut buffer, y, &place);
            f += 2;
        }
        if ODD {
            let ws = &self.w[f * t..][..t];
            let one = |cols: &[i8], sums: &mut [[i32; 4]]| {
                for (sum, pair) in sums.iter_mut().zip(cols.chunks_exact(widened(stride))) {
                    sum[..2].copy_from_slice(&dots_1x2(pair, ws));
                }
            };
            self.outputs::<1>(f, pairs, one, &mut buffer, y, &place);
        }
    }

    /// The outputs of the `K` filters from `f` over the unit's `pairs`
    /// pairs of columns, whose sums `sums` writes (`[k0·c0, k0·c1, k1·c0,
    /// k1·c1]` per pair), [`UNIT_PAIRS`] at a time into `buffer`, to `y`
    /// from the index `place(f, at)` gives with the room after it: the
    /// outputs of the pairs from `at` on, or of pool window `at` the
    /// largest. A window's largest sum is requantized once where the
    /// stage is monotonic (the largest output is that of the largest
    /// sum); otherwise every sum is, as TFLite computes each output before
    /// its pool.
    #[inline(always)]
    fn outputs<const K: usize>(
        &self,
        f: usize,
        pairs: usize,
        sums: impl Fn(&[i8], &mut [[i32; 4]]),
        buffer: &mut [[i32; 4]; UNIT_PAIRS],
        y: &mut [i8],
        place: impl Fn(usize, usize) -> (usize, usize),
    ) {
        let fixed: [i32; K] = core::array::from_fn(|k| {
            let at = &self.fixed[4 * (f + k)..][..4];
            i32::from_le_bytes([at[0], at[1], at[2], at[3]].map(|b| b as u8))
        });
        let cols = self.cols.chunks(UNIT_PAIRS * widened(self.stride));
        if !POOLED {
            for (first, cols) in (0..pairs).step_by(UNIT_PAIRS).zip(cols) {
                let buffer = &mut buffer[..UNIT_PAIRS.min(pairs - first)];
                sums(cols, buffer);
                for (k, &fixed) in fixed.iter().enumerate() {
                    let (at, room) = place(f + k, first);
                    let ys = &mut y[at..][..room.min(2 * buffer.len())];
                    self.out
                        .run(f + k, fixed, &buffer.as_flattened()[2 * k..], 4, ys);
                }
            }
            return;
        }
        let stages: [_; K] = core::array::from_fn(|k| self.out.channel(f + k));
        let once: [bool; K] = core::array::from_fn(|k| self.out.monotonic(f + k));
        let per_window = self.per_window / 2;
        let (mut window, mut cell) = (0, 0);
        let mut largest = [(i32::MIN, i8::MIN); K];
        for (first, cols) in (0..pairs).step_by(UNIT_PAIRS).zip(cols) {
            let buffer = &mut buffer[..UNIT_PAIRS.min(pairs - first)];
            sums(cols, buffer);
            for pair in buffer.iter() {
                for k in 0..K {
                    let s = [pair[2 * k], pair[2 * k + 1]].map(|a| a.wrapping_add(fixed[k]));
                    let (sum, out) = &mut largest[k];
                    if once[k] {
                        *sum = (*sum).max(s[0]).max(s[1]);
                    } else {
                        *out = (*out).max(stages[k](s[0])).max(stages[k](s[1]));
                    }
                }
                cell += 1;
                if cell < per_window {
                    continue;
                }
                for (k, (sum, out)) in largest.iter_mut().enumerate() {
                    y[place(f + k, window).0] = if once[k] { stages[k](*sum) } else { *out };
                    (*sum, *out) = (i32::MIN, i8::MIN);
                }
                (window, cell) = (window + 1, 0);
            }
        }
    }
}

/// The column of output position `(oy, ox)` in `group`: each of the
/// group's input channels' taps in the weights' order `[c, ky, kx]`, a
/// tap outside the input reading the zero point `z`. A window inside the
/// input copies its kernel rows in a loop made for a `KH` × `KW` kernel,
/// or for any (`KH` 0, which copies a 1×1 kernel's taps and leaves other
/// kernels to [`any`]); one across the border goes through [`any`].
fn column<const KH: usize, const KW: usize>(
    g: &ConvGeometry,
    x: &[i8],
    z: i8,
    group: usize,
    (oy, ox): (usize, usize),
    col: &mut [i8],
) {
    let (kh, kw) = g.kernel;
    let hw = g.h * g.w;
    // The window's first tap in padded coordinates: most windows lie
    // inside the input, which a few comparisons tell.
    let (top, left) = (oy * g.stride.0, ox * g.stride.1);
    if top < g.pad.0 || left < g.pad.1 || top + kh > g.pad.0 + g.h || left + kw > g.pad.1 + g.w {
        any(g, x, z, group, (oy, ox), col);
        return;
    }
    let at = (top - g.pad.0) * g.w + (left - g.pad.1);
    let planes = &x[group * (g.c / g.groups) * hw..];
    if KH > 0 {
        runs::<KH, KW>(&planes[at..], hw, g.w, col);
    } else if (kh, kw) == (1, 1) {
        // One tap per channel, a plane apart (one bounds check, of `at`
        // inside a plane).
        for (v, plane) in col.iter_mut().zip(planes.chunks_exact(hw)) {
            *v = plane[at];
        }
    } else {
        any(g, x, z, group, (oy, ox), col);
    }
}

/// [`column`] of any window and kernel, across the input's border or
/// not: the column filled with the zero point, then its taps inside the
/// input copied. Not inlined: the windows on the border and the
/// kernels without a loop of their own share it.
#[inline(never)]
fn any(g: &ConvGeometry, x: &[i8], z: i8, group: usize, (oy, ox): (usize, usize), col: &mut [i8]) {
    let (kh, kw) = g.kernel;
    let cg = g.c / g.groups;
    let hw = g.h * g.w;
    let channels = &x[group * cg * hw..][..cg * hw];
    let (y0, y1, ky0) = taps(oy, kh, g.stride.0, g.pad.0, g.h);
    let (x0, x1, kx0) = taps(ox, kw, g.stride.1, g.pad.1, g.w);
    let (n, ky1) = (x1 - x0, ky0 + (y1 - y0));
    col.fill(z);
    for (plane, taps) in channels.chunks_exact(hw).zip(col.chunks_exact_mut(kh * kw)) {
        let (src, dst) = (&plane[y0 * g.w + x0..], &mut taps[ky0 * kw + kx0..]);
        rows::copy(src, g.w, dst, kw, (ky1 - ky0, n));
    }
}

/// Copies each channel's `KH` kernel rows of `KW` taps, `w` apart from
/// `x[c · hw]` for channel `c`, into its taps. With the kernel's shape
/// known, each row is a load and a store or two; a copy of a length known
/// only at run time calls `memcpy`, whose overhead is larger than a
/// kernel row.
///
/// # Panics
/// If the last channel's last row ends past `x`.
#[expect(
    unsafe_code,
    reason = "one bounds check covers every row of the column; checked row by row, the copies took three times the instructions on a Cortex-M4"
)]
#[inline(always)]
fn runs<const KH: usize, const KW: usize>(x: &[i8], hw: usize, w: usize, col: &mut [i8]) {
    let channels = col.len() / (KH * KW);
    let end = channels.checked_sub(1).and_then(|last| {
        last.checked_mul(hw)?
            .checked_add((KH - 1).checked_mul(w)?)?
            .checked_add(KW)
    });
    assert!(
        end.is_none_or(|end| end <= x.len()),
        "columns: a window's rows leave its input"
    );
    let mut at = x.as_ptr();
    for taps in col.chunks_exact_mut(KH * KW) {
        for (ky, dst) in taps.as_chunks_mut::<KW>().0.iter_mut().enumerate() {
            // SAFETY: row `ky` of channel `c` is `x[c · hw + ky · w..][..KW]`,
            // inside `x` as the assertion showed (`at` is `c · hw` bytes on).
            *dst = unsafe { at.add(ky * w).cast::<[i8; KW]>().read_unaligned() };
        }
        at = at.wrapping_add(hw);
    }
}
