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
fn taps(o: usize, k: usize, stride: usize, pad: usize, extent: usize) -> (usize, usize, usize) {
    let (start, end) = span(o, k, stride, pad, extent);
    (start, end, start + pad - o * stride)
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
    /// Output channel `f` at `(oy, ox)`.
    #[inline(always)]
    fn at(&self, f: usize, oy: usize, ox: usize) -> i8 {
        let g = self.g;
        let (kh, kw) = g.kernel;
        let cg = g.c / g.groups;
        let first = f / (g.f / g.groups) * cg;
        let (y0, y1, ky0) = taps(oy, kh, g.stride.0, g.pad.0, g.h);
        let (x0, x1, kx0) = taps(ox, kw, g.stride.1, g.pad.1, g.w);
        let filter = &self.w[f * cg * kh * kw..][..cg * kh * kw];
        // int32 accumulation wraps as TFLite's compiled kernels do.
        let mut acc = 0i32;
        for (c, wc) in filter.chunks_exact(kh * kw).enumerate() {
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
/// # Shapes
/// - `w`: `[F, CG, KH, KW]`, `b`: `[F]`
/// - `x`: `[C, H, W]`, `y`: `[F, OH, OW]` (`[F, OH / kh, OW / kw]` pooled)
///
/// # Panics
/// If a slice is shorter than its shape (a program `network!` did not
/// write).
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
    let (oh, ow) = g.out;
    match pool {
        None => {
            for (f, plane) in y.chunks_exact_mut(oh * ow).take(g.f).enumerate() {
                for (oy, row) in plane.chunks_exact_mut(ow).enumerate() {
                    for (ox, v) in row.iter_mut().enumerate() {
                        *v = conv.at(f, oy, ox);
                    }
                }
            }
        }
        Some((ph, pw)) => {
            let (qh, qw) = (oh / ph, ow / pw);
            for (f, plane) in y.chunks_exact_mut(qh * qw).take(g.f).enumerate() {
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
}
