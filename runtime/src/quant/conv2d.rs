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

use super::requantize::{OutputStage, Requantize};
use crate::kernels::conv2d::valid;
use crate::kernels::pool2d::span;

/// The input rows (or columns) window `o` covers and its first tap: input
/// `[start, end)` starting at tap `start + pad − o·stride`.
#[inline(always)]
fn taps(o: usize, k: usize, stride: usize, pad: usize, extent: usize) -> (usize, usize, usize) {
    let (start, end) = span(o, k, stride, pad, extent);
    (start, end, start + pad - o * stride)
}

/// Forward pass over a batch: for output channel `f` of group `g = f / (F / G)`,
/// `y = requantize(Σ w[f]·(x[g's channels] − input_zero_point) + b[f])`.
///
/// Weights are symmetric int8 (zero point 0) in PyTorch's layout, the bias
/// int32 at scale `input_scale · weight_scale[f]`. A depthwise convolution
/// with depth multiplier `M` is `G = C`, `CG = 1`, `F = C · M`: output
/// channel `c · M + m` reads input channel `c`, as in TFLite.
///
/// # Shapes
/// - `w`: `[F, CG, KH, KW]`, `b`: `[F]`
/// - `x`: `[batch, C, H, W]`, `y`: `[batch, F, OH, OW]`
pub fn forward<
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const G: usize,
    const CG: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const OH: usize,
    const OW: usize,
>(
    w: &[[[[i8; KW]; KH]; CG]; F],
    b: &[i32; F],
    input_zero_point: i8,
    out: &Requantize<F>,
    x: &[[[[i8; W]; H]; C]],
    y: &mut [[[[i8; OW]; OH]; F]],
) {
    const {
        assert!(
            valid(
                (C, F, G, CG),
                (H, W),
                (KH, KW),
                (SH, SW),
                (PH, PW),
                (1, 1),
                (OH, OW)
            ) && PH < KH
                && PW < KW,
            "quant::conv2d: the geometry does not fit (groups divide channels and filters, \
             padding is less than the kernel, every window starts inside the padded input)"
        )
    };
    assert_eq!(
        x.len(),
        y.len(),
        "quant::conv2d: {} inputs, {} outputs",
        x.len(),
        y.len()
    );
    let offset = -i32::from(input_zero_point);
    let per_group = F / G;
    for (x, y) in x.iter().zip(y.iter_mut()) {
        for (f, (wf, yf)) in w.iter().zip(y.iter_mut()).enumerate() {
            let channels = &x[f / per_group * CG..][..CG];
            for (oy, row) in yf.iter_mut().enumerate() {
                let (y0, y1, ky0) = taps(oy, KH, SH, PH, H);
                for (ox, out_value) in row.iter_mut().enumerate() {
                    let (x0, x1, kx0) = taps(ox, KW, SW, PW, W);
                    // int32 accumulation wraps as TFLite's compiled kernels do.
                    let mut acc = 0i32;
                    for (xc, wc) in channels.iter().zip(wf) {
                        for (xr, wr) in xc[y0..y1].iter().zip(&wc[ky0..]) {
                            for (&xv, &wv) in xr[x0..x1].iter().zip(&wr[kx0..]) {
                                acc = acc.wrapping_add(i32::from(wv) * (i32::from(xv) + offset));
                            }
                        }
                    }
                    *out_value = out.output(f, acc.wrapping_add(b[f]));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::requantize::FULL_RANGE;
    use super::*;

    /// A 1×1 identity-like convolution: each output is its input, rescaled.
    #[test]
    fn pointwise_convolution_subtracts_the_zero_point_and_adds_the_bias() {
        let w = [[[[2i8]]]];
        let out = Requantize::<1>::per_channel(1.0, &[0.5], 1.0, 3, FULL_RANGE);
        let x = [[[[10i8, -128]]]];
        let mut y = [[[[0i8; 2]; 1]; 1]];
        forward::<1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 2>(&w, &[4], -2, &out, &x, &mut y);
        // (2 · (10 + 2) + 4) · 0.5 + 3 = 17; (2 · (−126) + 4) · 0.5 + 3 = −121.
        assert_eq!(y, [[[[17, -121]]]]);
    }

    /// Padding taps add nothing: a 3×3 sum at stride 2 over a 4×4 input of
    /// ones, padded by one row and column before, sees 4, 6, 6 and 9 taps.
    #[test]
    fn padded_taps_add_nothing() {
        let w = [[[[1i8; 3]; 3]]];
        let out = Requantize::<1>::per_channel(1.0, &[1.0], 1.0, 0, FULL_RANGE);
        let x = [[[[1i8; 4]; 4]]];
        let mut y = [[[[0i8; 2]; 2]; 1]];
        forward::<1, 4, 4, 1, 1, 1, 3, 3, 2, 2, 1, 1, 2, 2>(&w, &[0], 0, &out, &x, &mut y);
        assert_eq!(y, [[[[4, 6], [6, 9]]]]);
    }

    /// Depthwise with multiplier 2: output channel `c · 2 + m` reads input `c`.
    #[test]
    fn depthwise_output_channels_follow_their_input_channel() {
        let w = [[[[1i8]]], [[[2]]], [[[3]]], [[[4]]]];
        let out = Requantize::<4>::per_channel(1.0, &[0.5; 4], 0.5, 0, FULL_RANGE);
        let x = [[[[5i8]], [[7]]]];
        let mut y = [[[[0i8; 1]; 1]; 4]];
        forward::<2, 1, 1, 4, 2, 1, 1, 1, 1, 1, 0, 0, 1, 1>(&w, &[0; 4], 0, &out, &x, &mut y);
        assert_eq!(y, [[[[5]], [[10]], [[21]], [[28]]]]);
    }
}
