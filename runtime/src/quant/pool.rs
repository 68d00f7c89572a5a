//! int8 max and average pooling: TFLite's reference int8 `MaxPool` and
//! `AveragePool`. Input and output share one scale and zero point (TFLite's
//! converter requires it), so both work on the stored integers directly.
//!
//! Geometry as in the `f32` [`pool2d`](crate::kernels::pool2d): `KH × KW`
//! windows at stride `(SH, SW)`, padding `(PH, PW)` before the first row
//! and column, windows may reach past the end; padded cells take no part.

use core::ops::Range;

use super::program::PoolGeometry;
use super::requantize::clamp;
use crate::kernels::pool2d::{check_geometry, span};

impl PoolGeometry {
    /// Whether every window starts inside the padded input and overlaps
    /// the input, and a window's int32 sum cannot overflow.
    pub const fn is_valid(&self) -> bool {
        check_geometry(
            (self.h, self.w),
            self.kernel,
            self.stride,
            self.pad,
            self.out,
        ) && self.kernel.0 * self.kernel.1 <= 1 << 24
    }
}

/// Applies `window` to every window of one sample: its input rows, and
/// the columns of each it covers.
#[inline(always)]
fn pool(
    g: &PoolGeometry,
    x: &[i8],
    y: &mut [i8],
    window: impl Fn(&[i8], Range<usize>, Range<usize>) -> i8,
) {
    let (oh, ow) = g.out;
    let planes = x.chunks_exact(g.h * g.w).zip(y.chunks_exact_mut(oh * ow));
    for (xc, yc) in planes.take(g.c) {
        for (oy, row) in yc.chunks_exact_mut(ow).enumerate() {
            let (y0, y1) = span(oy, g.kernel.0, g.stride.0, g.pad.0, g.h);
            for (ox, out) in row.iter_mut().enumerate() {
                let (x0, x1) = span(ox, g.kernel.1, g.stride.1, g.pad.1, g.w);
                *out = window(xc, y0..y1, x0..x1);
            }
        }
    }
}

/// Max pooling of one sample, clamped to `[min, max]` (a fused
/// activation's range).
///
/// # Shapes
/// - `x`: `[C, H, W]`, `y`: `[C, OH, OW]`
#[inline(never)]
pub fn max_forward(g: &PoolGeometry, x: &[i8], y: &mut [i8], range: (i8, i8)) {
    pool(g, x, y, |xc, rows, cols| {
        let mut largest = i8::MIN;
        for r in rows {
            for &v in &xc[r * g.w..][cols.clone()] {
                largest = largest.max(v);
            }
        }
        clamp(i32::from(largest), range)
    });
}

/// Average pooling of one sample, clamped to `[min, max]`: the sum of a
/// window's input cells divided by their count (padded cells are not
/// counted), rounded half away from zero as TFLite rounds it
/// (`(sum ± count / 2) / count`, truncating).
///
/// # Shapes
/// - `x`: `[C, H, W]`, `y`: `[C, OH, OW]`
#[inline(never)]
pub fn avg_forward(g: &PoolGeometry, x: &[i8], y: &mut [i8], range: (i8, i8)) {
    pool(g, x, y, |xc, rows, cols| {
        let count = (rows.len() * cols.len()) as i32;
        // A window as wide as the input (a global pool) is one run of
        // cells: per row, a loop's setup cost more than a short row's sum.
        let (runs, len) = if cols == (0..g.w) {
            (rows.start..rows.start + 1, rows.len() * g.w)
        } else {
            (rows, cols.len())
        };
        let sum = runs.fold(0i32, |sum, r| {
            let cells = &xc[r * g.w + cols.start..][..len];
            cells.iter().fold(sum, |s, &v| s + i32::from(v))
        });
        let average = if sum > 0 {
            (sum + count / 2) / count
        } else {
            (sum - count / 2) / count
        };
        clamp(average, range)
    });
}

#[cfg(test)]
mod tests {
    use super::super::requantize::FULL_RANGE;
    use super::*;

    fn geometry(
        (h, w): (usize, usize),
        k: usize,
        stride: usize,
        pad: usize,
        out: (usize, usize),
    ) -> PoolGeometry {
        let g = PoolGeometry {
            c: 1,
            h,
            w,
            kernel: (k, k),
            stride: (stride, stride),
            pad: (pad, pad),
            out,
        };
        assert!(g.is_valid());
        g
    }

    #[test]
    fn average_rounds_half_away_from_zero_over_the_cells_it_counts() {
        // 2×2 windows at stride 2 on 2×3, the last window one column wide.
        let g = geometry((2, 3), 2, 2, 0, (1, 2));
        let mut y = [0i8; 2];
        avg_forward(&g, &[1, 2, -7, 2, 2, -8], &mut y, FULL_RANGE);
        // 7 / 4 = 1.75 → 2; −15 / 2 = −7.5 → −8.
        assert_eq!(y, [2, -8]);
        avg_forward(&g, &[1, 1, -1, 1, 2, -2], &mut y, FULL_RANGE);
        // 5 / 4 = 1.25 → 1; −3 / 2 = −1.5 → −2.
        assert_eq!(y, [1, -2]);
        // A window as wide as the input, one run of cells: 22 / 9 → 2.
        let g = geometry((3, 3), 3, 1, 0, (1, 1));
        let mut y = [0i8; 1];
        avg_forward(&g, &[1, 2, 3, 4, 5, -6, 7, 8, -2], &mut y, FULL_RANGE);
        assert_eq!(y, [2]);
    }

    #[test]
    fn max_skips_padding_and_clamps() {
        let g = geometry((2, 2), 2, 1, 1, (2, 2));
        let mut y = [0i8; 4];
        max_forward(&g, &[-100, -90, -80, 50], &mut y, (-85, 40));
        // The top-left window holds only −100 (its other cells are padding), clamped to −85.
        assert_eq!(y, [-85, -85, -80, 40]);
    }
}
