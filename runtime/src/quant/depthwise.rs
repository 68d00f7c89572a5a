//! int8 depthwise convolution (one input channel per group) on a
//! Cortex-M: each channel is copied once into scratch with a border of
//! zero points, so that every window lies inside it and a kernel row is a
//! run of bytes read without bounds per tap. It computes what
//! [`conv2d::forward`](super::conv2d::forward) computes for `CG = 1`, the
//! same integers: a border tap adds `w · (z − z) = 0`, as TFLite's
//! padding skips it.

use super::conv2d::folded_bias;
use super::dot::{Kernel3x3, pairs_3x3};
use super::program::ConvGeometry;
use super::requantize::OutputStage;
use super::rows;

/// The padded plane's rows and columns: every window of `g` inside it.
const fn padded(g: &ConvGeometry) -> (usize, usize) {
    let rows = (g.out.0 - 1) * g.stride.0 + g.kernel.0;
    let cols = (g.out.1 - 1) * g.stride.1 + g.kernel.1;
    (max(rows, g.pad.0 + g.h), max(cols, g.pad.1 + g.w))
}

const fn max(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

/// Bytes of scratch [`forward`] needs for `g`: one padded plane, and a
/// byte past it that a 3-wide window's word load reads (and weighs by 0).
pub const fn scratch_len(g: &ConvGeometry) -> usize {
    let (rows, cols) = padded(g);
    rows * cols + 1
}

/// One sample of a depthwise convolution (`g.groups == g.c`), as
/// [`conv2d::forward`](super::conv2d::forward) without a pool, with
/// `scratch` of at least [`scratch_len`] bytes.
///
/// # Shapes
/// - `w`: `[F, 1, KH, KW]` (`F` a multiple of `C`), `b`: `[F]`
/// - `x`: `[C, H, W]`, `y`: `[F, OH, OW]`
///
/// # Panics
/// If a slice is shorter than its shape, or `g` is not depthwise (a
/// program `network!` did not write).
pub fn forward(
    g: &ConvGeometry,
    (w, b): (&[i8], &[i32]),
    input_zero_point: i8,
    out: &impl OutputStage,
    x: &[i8],
    y: &mut [i8],
    scratch: &mut [i8],
) {
    if by_pairs(g) {
        sweep::<true>(g, (w, b), input_zero_point, out, x, y, scratch);
    } else {
        sweep::<false>(g, (w, b), input_zero_point, out, x, y, scratch);
    }
}

/// Outputs whose sums [`sweep`]'s pairs of windows take at once, whole
/// rows with a spare word: the sums wait in a stack buffer of this many
/// words for their output stage, which then runs once for several rows.
const RUN: usize = 128;

/// Whether [`sweep`] runs `g` by pairs of windows: the common depthwise
/// kernel (3×3, stride 1 across, output rows narrower than [`RUN`]).
pub(crate) const fn by_pairs(g: &ConvGeometry) -> bool {
    g.kernel.0 == 3 && g.kernel.1 == 3 && g.stride.1 == 1 && g.out.1 < RUN
}

/// [`forward`], by pairs of adjacent windows (`dot::pairs_3x3`) when
/// `PAIRS`, which needs [`by_pairs`], otherwise window by window. Each
/// `PAIRS` is its own entry point: a program calls one or both, and a
/// firmware links what its network uses.
#[inline(never)]
pub(crate) fn sweep<const PAIRS: bool>(
    g: &ConvGeometry,
    (w, b): (&[i8], &[i32]),
    input_zero_point: i8,
    out: &impl OutputStage,
    x: &[i8],
    y: &mut [i8],
    scratch: &mut [i8],
) {
    assert!(
        g.groups == g.c,
        "depthwise::forward: not one channel per group"
    );
    let (kh, kw) = g.kernel;
    let (rows, cols) = padded(g);
    let plane = &mut scratch[..rows * cols + 1];
    let (oh, ow) = g.out;
    let per_channel = g.f / g.c;
    let offset = -i32::from(input_zero_point);
    let taps = kh * kw;
    let mut sums = [0i32; RUN];
    let hw = g.h * g.w;
    // The border, once: each channel then overwrites the interior only.
    plane.fill(input_zero_point);
    let interior = g.pad.0 * cols + g.pad.1;
    // One loop over the filters, a channel's plane filled before its
    // first: nested loops, the compiler copied the inner one per case.
    for f in 0..g.f {
        if f % per_channel == 0 {
            let xc = &x[f / per_channel * hw..][..hw];
            rows::copy(xc, g.w, &mut plane[interior..], cols, (g.h, g.w));
        }
        let wf = &w[f * taps..][..taps];
        let fixed = folded_bias(wf, b[f], offset);
        let yf = &mut y[f * oh * ow..][..oh * ow];
        let (sh, sw) = g.stride;
        if PAIRS {
            let (Some(kernel), true) = (wf.as_chunks::<3>().0.first_chunk::<3>(), by_pairs(g))
            else {
                unreachable!("depthwise: pairs of another kernel");
            };
            // Whole rows at once, each row's sums right after the last
            // one's (an odd row's spare sum overwritten by the next row's
            // first), then one output run.
            let k = Kernel3x3::new(*kernel);
            let per_run = (RUN - 1) / ow;
            for (i, ys) in yf.chunks_mut(per_run * ow).enumerate() {
                let at = i * per_run * sh * cols;
                let room = ys.len() + ow % 2;
                pairs_3x3(&plane[at..], (cols, sh * cols), &k, ow, &mut sums[..room]);
                out.run(f, fixed, &sums[..ys.len()], 2, ys);
            }
            continue;
        }
        let stage = out.channel(f);
        for (oy, row) in yf.chunks_exact_mut(ow).enumerate() {
            for (ox, v) in row.iter_mut().enumerate() {
                let at = oy * sh * cols + ox * sw;
                *v = stage(window(plane, at, cols, wf, kw).wrapping_add(fixed));
            }
        }
    }
}

/// `Σ w · x` of the window whose first tap is `plane[at]`, rows `cols`
/// apart, `kw` taps each.
#[inline(always)]
fn window(plane: &[i8], at: usize, cols: usize, w: &[i8], kw: usize) -> i32 {
    let mut acc = 0i32;
    for (ky, wr) in w.chunks_exact(kw).enumerate() {
        let xr = &plane[at + ky * cols..][..kw];
        for (&wv, &xv) in wr.iter().zip(xr) {
            acc = acc.wrapping_add(i32::from(wv) * i32::from(xv));
        }
    }
    acc
}
