//! int8 max and average pooling: TFLite's reference int8 `MaxPool` and
//! `AveragePool`. Input and output share one scale and zero point (TFLite's
//! converter requires it), so both work on the stored integers directly.
//!
//! Geometry as in the `f32` [`pool2d`](crate::kernels::pool2d): `KH × KW`
//! windows at stride `(SH, SW)`, padding `(PH, PW)` before the first row
//! and column, windows may reach past the end; padded cells take no part.

use core::ops::Range;

use crate::kernels::pool2d::{check_geometry, span};

macro_rules! geometry_checked {
    ($op:literal) => {
        const {
            assert!(
                check_geometry((H, W), (KH, KW), (SH, SW), (PH, PW), (OH, OW)),
                concat!($op, ": window geometry does not fit the input")
            )
        }
    };
}

/// Applies `window` to every window (its input rows, and the columns of
/// each it covers), over a batch.
#[inline(always)]
fn pool<
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
>(
    x: &[[[[i8; W]; H]; C]],
    y: &mut [[[[i8; OW]; OH]; C]],
    window: impl Fn(&[[i8; W]], Range<usize>) -> i8,
) {
    assert_eq!(
        x.len(),
        y.len(),
        "pool: {} inputs, {} outputs",
        x.len(),
        y.len()
    );
    for (x, y) in x.iter().zip(y.iter_mut()) {
        for (xc, yc) in x.iter().zip(y.iter_mut()) {
            for (oy, row) in yc.iter_mut().enumerate() {
                let (y0, y1) = span(oy, KH, SH, PH, H);
                for (ox, out) in row.iter_mut().enumerate() {
                    let (x0, x1) = span(ox, KW, SW, PW, W);
                    *out = window(&xc[y0..y1], x0..x1);
                }
            }
        }
    }
}

/// Max pooling, clamped to `[min, max]` (a fused activation's range).
///
/// # Shapes
/// - `x`: `[batch, C, H, W]`, `y`: `[batch, C, OH, OW]`
pub fn max_forward<
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
>(
    x: &[[[[i8; W]; H]; C]],
    y: &mut [[[[i8; OW]; OH]; C]],
    (min, max): (i8, i8),
) {
    geometry_checked!("quant::max_pool");
    pool::<C, H, W, KH, KW, SH, SW, PH, PW, OH, OW>(x, y, |rows, cols| {
        let cells = rows.iter().flat_map(|r| &r[cols.clone()]);
        cells.fold(i8::MIN, |m, &v| m.max(v)).clamp(min, max)
    });
}

/// Average pooling, clamped to `[min, max]`: the sum of a window's input
/// cells divided by their count (padded cells are not counted), rounded
/// half away from zero as TFLite rounds it (`(sum ± count / 2) / count`,
/// truncating).
///
/// # Shapes
/// - `x`: `[batch, C, H, W]`, `y`: `[batch, C, OH, OW]`
pub fn avg_forward<
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
>(
    x: &[[[[i8; W]; H]; C]],
    y: &mut [[[[i8; OW]; OH]; C]],
    (min, max): (i8, i8),
) {
    geometry_checked!("quant::avg_pool");
    const {
        assert!(
            KH * KW <= 1 << 24,
            "quant::avg_pool: a window's int32 sum could overflow"
        )
    };
    pool::<C, H, W, KH, KW, SH, SW, PH, PW, OH, OW>(x, y, |rows, cols| {
        let count = (rows.len() * cols.len()) as i32;
        let cells = rows.iter().flat_map(|r| &r[cols.clone()]);
        let sum = cells.fold(0i32, |s, &v| s + i32::from(v));
        let average = if sum > 0 {
            (sum + count / 2) / count
        } else {
            (sum - count / 2) / count
        };
        average.clamp(i32::from(min), i32::from(max)) as i8
    });
}

#[cfg(test)]
mod tests {
    use super::super::requantize::FULL_RANGE;
    use super::*;

    #[test]
    fn average_rounds_half_away_from_zero_over_the_cells_it_counts() {
        // 2×2 windows at stride 2 on 2×3, the last window one column wide.
        let x = [[[[1i8, 2, -7], [2, 2, -8]]]];
        let mut y = [[[[0i8; 2]; 1]; 1]];
        avg_forward::<1, 2, 3, 2, 2, 2, 2, 0, 0, 1, 2>(&x, &mut y, FULL_RANGE);
        // 7 / 4 = 1.75 → 2; −15 / 2 = −7.5 → −8.
        assert_eq!(y, [[[[2, -8]]]]);
        let x = [[[[1i8, 1, -1], [1, 2, -2]]]];
        avg_forward::<1, 2, 3, 2, 2, 2, 2, 0, 0, 1, 2>(&x, &mut y, FULL_RANGE);
        // 5 / 4 = 1.25 → 1; −3 / 2 = −1.5 → −2.
        assert_eq!(y, [[[[1, -2]]]]);
    }

    #[test]
    fn max_skips_padding_and_clamps() {
        let x = [[[[-100i8, -90], [-80, 50]]]];
        let mut y = [[[[0i8; 2]; 2]; 1]];
        max_forward::<1, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2>(&x, &mut y, (-85, 40));
        // The top-left window holds only −100 (its other cells are padding), clamped to −85.
        assert_eq!(y, [[[[-85, -85], [-80, 40]]]]);
    }
}
