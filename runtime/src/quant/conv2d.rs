//! int8 2-D convolution in constnet's layout: TFLite's reference
//! `ConvPerChannel` (groups of 1) and `DepthwiseConvPerChannel` (one group
//! per input channel) as one grouped convolution, since both sum the same
//! products into the same int32 accumulator.
//!
//! Geometry as in the `f32` [`conv2d`](crate::kernels::conv2d): `G` groups
//! of `CG = C / G` input channels, stride `(SH, SW)`, padding `(PH, PW)`
//! before the first row and column (taps past the end are padding too, so
//! TFLite's `SAME` with its odd row or column at the bottom or right is
//! `PH = total / 2`), no dilation. Padded taps add nothing, which is what
//! padding with the input's zero point means.

use super::program::ConvGeometry;
use super::requantize::OutputStage;
use crate::kernels::conv2d::valid;
use crate::kernels::pool2d::span;

/// The input rows (or columns) window `o` covers and its first tap: input
/// `[start, end)` starting at tap `start + pad − o·stride`.
#[inline(always)]
pub(super) fn taps(
    o: usize,
    k: usize,
    stride: usize,
    pad: usize,
    extent: usize,
) -> (usize, usize, usize) {
    let (start, end) = span(o, k, stride, pad, extent);
    (start, end, start + pad - o * stride)
}

/// A filter's bias plus `offset · Σ w` (`offset` the negated input zero
/// point), wrapping: what a kernel that sums `w · x` over every tap, padded
/// ones reading the zero point, adds once to match TFLite's
/// `Σ w · (x − zero_point) + bias`.
pub(super) fn folded_bias(filter: &[i8], bias: i32, offset: i32) -> i32 {
    let sum = filter
        .iter()
        .fold(0i32, |s, &w| s.wrapping_add(i32::from(w)));
    offset.wrapping_mul(sum).wrapping_add(bias)
}

impl ConvGeometry {
    /// Whether the sizes fit together: groups divide channels and filters,
    /// padding is less than the kernel, every window starts inside the
    /// padded input.
    pub const fn is_valid(&self) -> bool {
        self.groups > 0
            && valid(
                (self.c, self.f, self.groups, self.c / self.groups),
                (self.h, self.w),
                self.kernel,
                self.stride,
                self.pad,
                (1, 1),
                self.out,
            )
            && self.pad.0 < self.kernel.0
            && self.pad.1 < self.kernel.1
    }
}

/// Columns (positions) per register tile on this target: 16 where the
/// compiler turns a tile's column loop into vector instructions (x86-64),
/// 4 where accumulators must fit in general registers (a Cortex-M has 13).
/// Integer sums are exact, so every width gives the same integers.
const WIDE: usize = if cfg!(target_arch = "x86_64") { 16 } else { 4 };

/// The widest output row a folded max pool is computed in (a stack
/// buffer per filter); wider ones take the per-output path.
const MAX_POOLED_ROW: usize = 64;

/// One sample's convolution with its weights, bias and input zero point.
struct Conv<'a, S> {
    g: &'a ConvGeometry,
    w: &'a [i8],
    b: &'a [i32],
    offset: i32,
    out: &'a S,
    x: &'a [i8],
}

impl<S: OutputStage> Conv<'_, S> {
    /// Input channels per group.
    fn cg(&self) -> usize {
        self.g.c / self.g.groups
    }

    /// Filter `f`'s weights.
    fn filter(&self, f: usize) -> &[i8] {
        let (kh, kw) = self.g.kernel;
        let n = self.cg() * kh * kw;
        &self.w[f * n..][..n]
    }

    /// The first input channel filter `f` reads.
    fn first_channel(&self, f: usize) -> usize {
        f / (self.g.f / self.g.groups) * self.cg()
    }

    /// Output channel `f` at `(oy, ox)`, tap by tap, as TFLite's reference
    /// kernel sums it: the path of the columns whose window reaches into
    /// the padding.
    fn at(&self, f: usize, oy: usize, ox: usize) -> i8 {
        let g = self.g;
        let (kh, kw) = g.kernel;
        let (y0, y1, ky0) = taps(oy, kh, g.stride.0, g.pad.0, g.h);
        let (x0, x1, kx0) = taps(ox, kw, g.stride.1, g.pad.1, g.w);
        let first = self.first_channel(f);
        // int32 accumulation wraps as TFLite's compiled kernels do.
        let mut acc = 0i32;
        for (c, wc) in self.filter(f).chunks_exact(kh * kw).enumerate() {
            let plane = &self.x[(first + c) * g.h * g.w..][..g.h * g.w];
            for (iy, ky) in (y0..y1).zip(ky0..) {
                let xr = &plane[iy * g.w..][x0..x1];
                let wr = &wc[ky * kw..][kx0..kx0 + (x1 - x0)];
                for (&xv, &wv) in xr.iter().zip(wr) {
                    acc = acc.wrapping_add(i32::from(wv) * (i32::from(xv) + self.offset));
                }
            }
        }
        self.out.output(f, acc.wrapping_add(self.b[f]))
    }

    /// Output row `oy` of the `NF` filters from `f0` (one group's) into
    /// `rows`. Columns whose window lies inside the input rows go through
    /// register tiles of `NF` filters × [`WIDE`] (then 4) columns, which
    /// share every load;
    /// the others (and the last columns short of a tile) through [`Conv::at`].
    ///
    /// A tile sums `w · x` and adds `offset · Σ w` over the taps it used
    /// once: the same int32, modulo 2^32, as TFLite's `Σ w · (x + offset)`.
    fn row<const NF: usize>(&self, f0: usize, oy: usize, rows: &mut [&mut [i8]; NF]) {
        let g = self.g;
        let (kh, kw) = g.kernel;
        let (sh, sw) = g.stride;
        let ow = g.out.1;
        let (y0, y1, ky0) = taps(oy, kh, sh, g.pad.0, g.h);
        let ky1 = ky0 + (y1 - y0);
        let filters: [&[i8]; NF] = core::array::from_fn(|k| self.filter(f0 + k));
        let sums: [i32; NF] = core::array::from_fn(|k| {
            let taps = filters[k].chunks_exact(kh * kw);
            let rows = taps.flat_map(|wc| &wc[ky0 * kw..ky1 * kw]);
            rows.fold(0i32, |s, &w| s + i32::from(w))
        });
        // Columns whose window needs no padding: ox·sw ≥ pw and
        // ox·sw − pw + kw ≤ W.
        let lo = g.pad.1.div_ceil(sw).min(ow);
        let hi = if g.w + g.pad.1 >= kw {
            ((g.w + g.pad.1 - kw) / sw + 1).clamp(lo, ow)
        } else {
            lo
        };
        for ox in (0..lo).chain(hi..ow) {
            for (k, row) in rows.iter_mut().enumerate() {
                row[ox] = self.at(f0 + k, oy, ox);
            }
        }
        let frame = Frame {
            channels: self.first_channel(f0),
            rows: (y0, y1, ky0),
            filters,
        };
        let mut ox = lo;
        while ox + WIDE <= hi {
            let acc = self.any_tile::<NF, WIDE>(&frame, ox * sw - g.pad.1);
            self.store(f0, &acc, &sums, ox, rows);
            ox += WIDE;
        }
        while ox + 4 <= hi {
            let acc = self.any_tile::<NF, 4>(&frame, ox * sw - g.pad.1);
            self.store(f0, &acc, &sums, ox, rows);
            ox += 4;
        }
        for ox in ox..hi {
            for (k, row) in rows.iter_mut().enumerate() {
                row[ox] = self.at(f0 + k, oy, ox);
            }
        }
    }

    /// [`Conv::tile`], or at stride 1 with 3 or 5 kernel columns (the common
    /// widths) [`Conv::tile_of`], where neighbouring columns share loads.
    #[inline(always)]
    fn any_tile<const NF: usize, const T: usize>(
        &self,
        frame: &Frame<NF>,
        x0: usize,
    ) -> [[i32; T]; NF] {
        match (self.g.stride.1, self.g.kernel.1) {
            (1, 3) => self.tile_of::<NF, T, 3>(frame, x0),
            (1, 5) => self.tile_of::<NF, T, 5>(frame, x0),
            _ => self.tile::<NF, T>(frame, x0),
        }
    }

    /// [`Conv::tile`] at stride 1 for a kernel `KW` columns wide: each input
    /// row's `T + KW − 1` values are loaded once and serve every column
    /// and tap that reads them.
    #[inline(never)]
    fn tile_of<const NF: usize, const T: usize, const KW: usize>(
        &self,
        frame: &Frame<NF>,
        x0: usize,
    ) -> [[i32; T]; NF] {
        let g = self.g;
        let kh = g.kernel.0;
        let (y0, y1, ky0) = frame.rows;
        let mut acc = [[0i32; T]; NF];
        for c in 0..self.cg() {
            let plane = &self.x[(frame.channels + c) * g.h * g.w..][..g.h * g.w];
            for (iy, ky) in (y0..y1).zip(ky0..) {
                let seg = &plane[iy * g.w + x0..][..T + KW - 1];
                let ws: [&[i8]; NF] =
                    core::array::from_fn(|k| &frame.filters[k][(c * kh + ky) * KW..][..KW]);
                for kx in 0..KW {
                    for (acc, w) in acc.iter_mut().zip(&ws) {
                        let wv = i32::from(w[kx]);
                        for (j, a) in acc.iter_mut().enumerate() {
                            *a = a.wrapping_add(wv * i32::from(seg[j + kx]));
                        }
                    }
                }
            }
        }
        acc
    }

    /// `Σ w · x` of `NF` filters at `T` columns whose windows start at input
    /// column `x0` (every tap inside the input).
    // Its own function: inlined into the interpreter's loop, its
    // accumulators would live on the stack (measured on the Cortex-M4).
    #[inline(never)]
    fn tile<const NF: usize, const T: usize>(
        &self,
        frame: &Frame<NF>,
        x0: usize,
    ) -> [[i32; T]; NF] {
        let g = self.g;
        let (kh, kw) = g.kernel;
        let sw = g.stride.1;
        let (y0, y1, ky0) = frame.rows;
        let mut acc = [[0i32; T]; NF];
        for c in 0..self.cg() {
            let plane = &self.x[(frame.channels + c) * g.h * g.w..][..g.h * g.w];
            for (iy, ky) in (y0..y1).zip(ky0..) {
                let row = &plane[iy * g.w..][..g.w];
                let xs: [&[i8]; T] = core::array::from_fn(|j| &row[x0 + j * sw..][..kw]);
                let ws: [&[i8]; NF] =
                    core::array::from_fn(|k| &frame.filters[k][(c * kh + ky) * kw..][..kw]);
                for kx in 0..kw {
                    let xv: [i32; T] = core::array::from_fn(|j| i32::from(xs[j][kx]));
                    for (acc, w) in acc.iter_mut().zip(&ws) {
                        let wv = i32::from(w[kx]);
                        for (a, &x) in acc.iter_mut().zip(&xv) {
                            *a = a.wrapping_add(wv * x);
                        }
                    }
                }
            }
        }
        acc
    }

    /// Writes a tile's outputs: each sum plus `offset · Σ w` and the bias,
    /// requantized.
    #[inline(always)]
    fn store<const NF: usize, const T: usize>(
        &self,
        f0: usize,
        acc: &[[i32; T]; NF],
        sums: &[i32; NF],
        ox: usize,
        rows: &mut [&mut [i8]; NF],
    ) {
        for (k, (acc, row)) in acc.iter().zip(rows.iter_mut()).enumerate() {
            let f = f0 + k;
            let fixed = self.offset.wrapping_mul(sums[k]).wrapping_add(self.b[f]);
            for (j, &a) in acc.iter().enumerate() {
                row[ox + j] = self.out.output(f, a.wrapping_add(fixed));
            }
        }
    }
}

/// What the tiles of one output row share: the group's first channel, the
/// input rows with their first kernel row, and the filters.
struct Frame<'a, const NF: usize> {
    channels: usize,
    rows: (usize, usize, usize),
    filters: [&'a [i8]; NF],
}

/// One sample: for output channel `f` of group `g = f / (F / G)`,
/// `y = requantize(Σ w[f]·(x[g's channels] − input_zero_point) + b[f])`.
///
/// Weights are symmetric int8 (zero point 0) in PyTorch's layout, the bias
/// int32 at scale `input_scale · weight_scale[f]`. A depthwise convolution
/// with depth multiplier `M` is `G = C`, `CG = 1`, `F = C · M`: output
/// channel `c · M + m` reads input channel `c`, as in TFLite.
///
/// With `pool = Some((kh, kw))`, a max pool whose windows tile the output
/// follows, and only its output is written: requantization is monotonic,
/// so the max of the int8 outputs is the int8 of the max.
///
/// Filters run in pairs when a group has an even number (a dense
/// convolution), one by one otherwise (depthwise).
///
/// # Shapes
/// - `w`: `[F, CG, KH, KW]`, `b`: `[F]`
/// - `x`: `[C, H, W]`, `y`: `[F, OH, OW]` (`[F, OH / kh, OW / kw]` pooled)
///
/// # Panics
/// If a slice is shorter than its shape (a program `network!` did not
/// write).
#[inline(never)]
pub fn forward(
    g: &ConvGeometry,
    pool: Option<(usize, usize)>,
    (w, b): (&[i8], &[i32]),
    input_zero_point: i8,
    out: &impl OutputStage,
    x: &[i8],
    y: &mut [i8],
) {
    let conv = Conv {
        g,
        w,
        b,
        offset: -i32::from(input_zero_point),
        out,
        x,
    };
    filters::<1, _>(&conv, pool, y);
}

/// Every output row, `NF` filters at a time.
fn filters<const NF: usize, S: OutputStage>(
    conv: &Conv<S>,
    pool: Option<(usize, usize)>,
    y: &mut [i8],
) {
    let g = conv.g;
    let (oh, ow) = g.out;
    if pool.is_none()
        && g.groups == 1
        && g.kernel == (1, 1)
        && g.stride == (1, 1)
        && g.pad == (0, 0)
    {
        return pointwise::<NF, S>(conv, y);
    }
    match pool {
        None => {
            for (fs, planes) in y
                .chunks_exact_mut(NF * oh * ow)
                .take(conv.g.f / NF)
                .enumerate()
            {
                let mut planes: [&mut [i8]; NF] = split(planes);
                for oy in 0..oh {
                    let mut rows = planes.each_mut().map(|p| &mut p[oy * ow..][..ow]);
                    conv.row::<NF>(fs * NF, oy, &mut rows);
                }
            }
        }
        Some((ph, pw)) if ow <= MAX_POOLED_ROW => {
            let (qh, qw) = (oh / ph, ow / pw);
            let mut scratch = [[0i8; MAX_POOLED_ROW]; NF];
            for (fs, planes) in y
                .chunks_exact_mut(NF * qh * qw)
                .take(conv.g.f / NF)
                .enumerate()
            {
                let mut planes: [&mut [i8]; NF] = split(planes);
                for qy in 0..qh {
                    let mut pooled = planes.each_mut().map(|p| &mut p[qy * qw..][..qw]);
                    pooled.iter_mut().for_each(|r| r.fill(i8::MIN));
                    for oy in qy * ph..(qy + 1) * ph {
                        let mut rows = scratch.each_mut().map(|r| &mut r[..ow]);
                        conv.row::<NF>(fs * NF, oy, &mut rows);
                        for (p, r) in pooled.iter_mut().zip(&rows) {
                            for (v, window) in p.iter_mut().zip(r.chunks_exact(pw)) {
                                *v = window.iter().fold(*v, |m, &x| m.max(x));
                            }
                        }
                    }
                }
            }
        }
        Some((ph, pw)) => {
            let (qh, qw) = (oh / ph, ow / pw);
            for (f, plane) in y.chunks_exact_mut(qh * qw).take(conv.g.f).enumerate() {
                for (qy, row) in plane.chunks_exact_mut(qw).enumerate() {
                    for (qx, v) in row.iter_mut().enumerate() {
                        let mut m = i8::MIN;
                        for oy in qy * ph..(qy + 1) * ph {
                            for ox in qx * pw..(qx + 1) * pw {
                                m = m.max(conv.at(f, oy, ox));
                            }
                        }
                        *v = m;
                    }
                }
            }
        }
    }
}

/// A dense 1×1 convolution as the product of the `[F, C]` weights and the
/// `[C, H·W]` input: tiles of `NF` filters × 4 positions step through the
/// channels, sharing every load.
fn pointwise<const NF: usize, S: OutputStage>(conv: &Conv<S>, y: &mut [i8]) {
    let g = conv.g;
    let positions = g.h * g.w;
    let x = &conv.x[..g.c * positions];
    for (fs, planes) in y
        .chunks_exact_mut(NF * positions)
        .take(g.f / NF)
        .enumerate()
    {
        let f0 = fs * NF;
        let mut planes: [&mut [i8]; NF] = split(planes);
        let filters: [&[i8]; NF] = core::array::from_fn(|k| conv.filter(f0 + k));
        let sums: [i32; NF] =
            core::array::from_fn(|k| filters[k].iter().fold(0i32, |s, &w| s + i32::from(w)));
        let mut rows = planes.each_mut().map(|p| &mut p[..]);
        let mut p = 0;
        while p + WIDE <= positions {
            let acc = products::<NF, WIDE>(x, positions, &filters, p);
            conv.store(f0, &acc, &sums, p, &mut rows);
            p += WIDE;
        }
        while p + 4 <= positions {
            let acc = products::<NF, 4>(x, positions, &filters, p);
            conv.store(f0, &acc, &sums, p, &mut rows);
            p += 4;
        }
        for p in p..positions {
            for (k, row) in rows.iter_mut().enumerate() {
                row[p] = conv.at(f0 + k, p / g.w, p % g.w);
            }
        }
    }
}

/// `Σ_c w[k][c] · x[c][p + j]` for `NF` filters and `T` positions; not
/// inlined, so its accumulators stay in registers.
#[inline(never)]
fn products<const NF: usize, const T: usize>(
    x: &[i8],
    positions: usize,
    filters: &[&[i8]; NF],
    p: usize,
) -> [[i32; T]; NF] {
    let mut acc = [[0i32; T]; NF];
    let n = filters[0].len();
    let ws: [&[i8]; NF] = core::array::from_fn(|k| &filters[k][..n]);
    let columns = x.get(p..).unwrap_or_default().chunks(positions).take(n);
    for (c, xc) in columns.enumerate() {
        let Some(xs) = xc.first_chunk::<T>() else {
            break;
        };
        for (acc, w) in acc.iter_mut().zip(&ws) {
            let wv = i32::from(w[c]);
            for (a, &xv) in acc.iter_mut().zip(xs) {
                *a = a.wrapping_add(wv * i32::from(xv));
            }
        }
    }
    acc
}

/// `NF` equal consecutive parts of `planes`.
fn split<const NF: usize>(planes: &mut [i8]) -> [&mut [i8]; NF] {
    let n = planes.len() / NF;
    let mut parts = planes.chunks_exact_mut(n);
    core::array::from_fn(|_| parts.next().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::super::requantize::{FULL_RANGE, Requantize};
    use super::*;

    fn geometry(
        c: usize,
        (h, w): (usize, usize),
        f: usize,
        groups: usize,
        k: usize,
    ) -> ConvGeometry {
        ConvGeometry {
            c,
            h,
            w,
            f,
            groups,
            kernel: (k, k),
            stride: (1, 1),
            pad: (0, 0),
            out: (h - k + 1, w - k + 1),
        }
    }

    /// A 1×1 identity-like convolution: each output is its input, rescaled.
    #[test]
    fn pointwise_convolution_subtracts_the_zero_point_and_adds_the_bias() {
        let out = Requantize::<1>::per_channel(1.0, &[0.5], 1.0, 3, FULL_RANGE);
        let mut y = [0i8; 2];
        let g = geometry(1, (1, 2), 1, 1, 1);
        forward(&g, None, (&[2], &[4]), -2, &out, &[10, -128], &mut y);
        // (2 · (10 + 2) + 4) · 0.5 + 3 = 17; (2 · (−126) + 4) · 0.5 + 3 = −121.
        assert_eq!(y, [17, -121]);
    }

    /// Padding taps add nothing: a 3×3 sum at stride 2 over a 4×4 input of
    /// ones, padded by one row and column before, sees 4, 6, 6 and 9 taps.
    #[test]
    fn padded_taps_add_nothing() {
        let out = Requantize::<1>::per_channel(1.0, &[1.0], 1.0, 0, FULL_RANGE);
        let g = ConvGeometry {
            stride: (2, 2),
            pad: (1, 1),
            out: (2, 2),
            ..geometry(1, (4, 4), 1, 1, 3)
        };
        assert!(g.is_valid());
        let mut y = [0i8; 4];
        forward(&g, None, (&[1; 9], &[0]), 0, &out, &[1; 16], &mut y);
        assert_eq!(y, [4, 6, 6, 9]);
    }

    /// Depthwise with multiplier 2: output channel `c · 2 + m` reads input `c`.
    #[test]
    fn depthwise_output_channels_follow_their_input_channel() {
        let out = Requantize::<4>::per_channel(1.0, &[0.5; 4], 0.5, 0, FULL_RANGE);
        let mut y = [0i8; 4];
        let g = geometry(2, (1, 1), 4, 2, 1);
        forward(&g, None, (&[1, 2, 3, 4], &[0; 4]), 0, &out, &[5, 7], &mut y);
        assert_eq!(y, [5, 10, 21, 28]);
    }

    /// A folded 2×2 max pool keeps the largest int8 output of each window.
    #[test]
    fn a_folded_pool_keeps_each_windows_largest_output() {
        let out = Requantize::<1>::per_channel(1.0, &[1.0], 1.0, 0, FULL_RANGE);
        let g = geometry(1, (2, 4), 1, 1, 1);
        let mut y = [0i8; 2];
        let x = [1, -5, 7, 2, 3, 0, -1, -9];
        forward(&g, Some((2, 2)), (&[1], &[0]), 0, &out, &x, &mut y);
        assert_eq!(y, [3, 7]);
    }

    /// The register tiles, the padded columns' path, the folded pool, the
    /// convolution through columns ([`columns`](super::super::columns)) and
    /// the depthwise one ([`depthwise`](super::super::depthwise)) give what
    /// the tap-by-tap path gives, for strides, paddings, groups
    /// and filter counts that take every branch.
    #[test]
    fn tiles_agree_with_the_tap_by_tap_path() {
        let mut draw = crate::quant::xorshift(0x2545_f491);
        let mut next = || draw() as i8;
        #[rustfmt::skip]
        let cases = [
            // c, h, w, f, groups, k, stride, pad, pool
            (3, 9, 11, 4, 1, (3, 3), (1, 1), (1, 1), None),
            (2, 10, 13, 6, 1, (3, 2), (2, 2), (1, 0), None),
            (4, 7, 9, 4, 4, (3, 3), (1, 2), (1, 1), None),
            (2, 8, 12, 3, 1, (5, 5), (1, 1), (2, 2), None),
            (1, 12, 12, 4, 1, (5, 5), (1, 1), (0, 0), Some((2, 2))),
            (3, 11, 10, 2, 1, (10, 4), (2, 2), (4, 1), None),
            (8, 5, 7, 6, 1, (1, 1), (1, 1), (0, 0), None),
            (3, 6, 7, 6, 3, (3, 3), (1, 1), (1, 1), Some((2, 3))),
            (3, 6, 7, 6, 3, (3, 3), (1, 1), (1, 1), None),
            (2, 9, 8, 2, 2, (5, 5), (2, 1), (2, 2), None),
            (2, 9, 8, 2, 2, (5, 3), (1, 1), (2, 1), None),
            // An odd count of filters and of pool cells (the last
            // repeated), the last unit of windows partial.
            (2, 11, 9, 3, 1, (3, 3), (1, 1), (1, 1), Some((3, 3))),
            // A pool window's columns alone past a unit's bytes.
            (8, 6, 6, 2, 1, (5, 5), (1, 1), (2, 2), Some((2, 2))),
            // Depthwise by pairs of windows over more rows than one run of
            // sums holds (even and odd rows), and with a stride down.
            (2, 14, 10, 2, 2, (3, 3), (1, 1), (1, 1), None),
            (2, 26, 10, 4, 2, (3, 3), (2, 1), (1, 1), None),
            (1, 24, 9, 1, 1, (3, 3), (1, 1), (1, 1), None),
            // 1×1 over several units of columns, in groups, and with
            // channels that are not whole words.
            (4, 12, 12, 4, 1, (1, 1), (1, 1), (0, 0), None),
            (8, 6, 7, 4, 2, (1, 1), (1, 1), (0, 0), None),
            (6, 5, 7, 4, 1, (1, 1), (1, 1), (0, 0), None),
        ];
        for (c, h, w, f, groups, kernel, stride, pad, pool) in cases {
            let out = (
                (h + 2 * pad.0 - kernel.0) / stride.0 + 1,
                (w + 2 * pad.1 - kernel.1) / stride.1 + 1,
            );
            let g = ConvGeometry {
                c,
                h,
                w,
                f,
                groups,
                kernel,
                stride,
                pad,
                out,
            };
            assert!(g.is_valid(), "{g:?}");
            let mut weights = [0i8; 1024];
            let weights = &mut weights[..f * c / groups * kernel.0 * kernel.1];
            weights.iter_mut().for_each(|v| *v = next());
            let mut bias = [0i32; 8];
            let bias = &mut bias[..f];
            bias.iter_mut().for_each(|v| *v = i32::from(next()) * 37);
            let mut x = [0i8; 1024];
            let x = &mut x[..c * h * w];
            x.iter_mut().for_each(|v| *v = next());
            let (weights, x) = (&*weights, &*x);
            // A stage whose outputs grow with the sum (a right shift), and
            // one that can wrap (a left shift, biases near the int32 limit),
            // where a pool must compare outputs, not sums.
            let stages = [
                Requantize::<8>::per_channel(0.02, &[0.01; 8], 0.05, -3, FULL_RANGE),
                Requantize::<8>::per_channel(1.0, &[1.0; 8], 0.3, 5, FULL_RANGE),
            ];
            let wrapping: [i32; 8] = core::array::from_fn(|i| {
                bias.get(i).map_or(0, |b| b.wrapping_add(i32::MAX - 2_000))
            });
            for (stage, bias) in stages.iter().zip([&*bias, &wrapping[..f]]) {
                check(&g, pool, (weights, bias), x, stage);
            }
        }
    }

    /// Every path of `g` against the tap-by-tap one, with `stage`.
    fn check(
        g: &ConvGeometry,
        pool: Option<(usize, usize)>,
        (weights, bias): (&[i8], &[i32]),
        x: &[i8],
        stage: &Requantize<8>,
    ) {
        let conv = Conv {
            g,
            w: weights,
            b: bias,
            offset: 7,
            out: stage,
            x,
        };
        let (ph, pw) = pool.unwrap_or((1, 1));
        let (qh, qw) = (g.out.0 / ph, g.out.1 / pw);
        let mut want = [0i8; 1024];
        let want = &mut want[..g.f * qh * qw];
        for (i, v) in want.iter_mut().enumerate() {
            let (fi, qy, qx) = (i / (qh * qw), i / qw % qh, i % qw);
            let cells = (0..ph).flat_map(|a| (0..pw).map(move |b| (a, b)));
            let outs = cells.map(|(a, b)| conv.at(fi, qy * ph + a, qx * pw + b));
            *v = outs.fold(i8::MIN, i8::max);
        }
        let mut y = [0i8; 1024];
        let y = &mut y[..g.f * qh * qw];
        forward(g, pool, (weights, bias), -7, stage, x, y);
        assert_eq!(y, want, "{g:?}, pool {pool:?}");
        let mut scratch = [0i8; 16384];
        let scratch = &mut scratch[..super::super::columns::scratch_len(g, pool)];
        y.fill(0);
        super::super::columns::forward(g, pool, (weights, bias), -7, stage, x, y, scratch);
        assert_eq!(y, want, "columns: {g:?}, pool {pool:?}");
        if g.groups == g.c && pool.is_none() {
            let scratch = &mut [0i8; 1024][..super::super::depthwise::scratch_len(g)];
            y.fill(0);
            super::super::depthwise::forward(g, (weights, bias), -7, stage, x, y, scratch);
            assert_eq!(y, want, "depthwise: {g:?}");
        }
    }
}
