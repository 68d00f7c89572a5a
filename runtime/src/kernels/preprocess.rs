//! Preprocessing inside the network: `normalize`, `(x − mean_c) / std_c`
//! per channel (per feature after a flat layer), with statistics fitted
//! from data and never trained; and `rescale`, `x · scale + offset`.
//!
//! Both are affine maps of each element whose slope does not depend on the
//! data, so backward scales the output gradient in place and needs nothing
//! the forward pass kept.

use crate::Scalar;

/// `normalize` over a batch.
///
/// # Shapes
/// - `mean`, `std`: `[C]`
/// - `x`, `y`: `[batch, C, L]`, where `L` is the positions per channel
///   (`height * width`, a sequence's length, 1 for vectors)
pub fn normalize<E: Scalar, const C: usize, const L: usize>(
    mean: &[E; C],
    std: &[E; C],
    x: &[[[E; L]; C]],
    y: &mut [[[E; L]; C]],
) {
    for (x, y) in x.iter().zip(y.iter_mut()) {
        for (((xc, yc), &m), &s) in x.iter().zip(y.iter_mut()).zip(mean).zip(std) {
            for (yv, &xv) in yc.iter_mut().zip(xc) {
                *yv = (xv - m) / s;
            }
        }
    }
}

/// `normalize` in place.
pub fn normalize_in_place<E: Scalar, const C: usize, const L: usize>(
    mean: &[E; C],
    std: &[E; C],
    xy: &mut [[[E; L]; C]],
) {
    for sample in xy.iter_mut() {
        for ((xc, &m), &s) in sample.iter_mut().zip(mean).zip(std) {
            for v in xc.iter_mut() {
                *v = (*v - m) / s;
            }
        }
    }
}

/// `normalize`'s backward pass in place: `dx = dy / std_c`.
pub fn normalize_backward<E: Scalar, const C: usize, const L: usize>(
    std: &[E; C],
    dy_dx: &mut [[[E; L]; C]],
) {
    for sample in dy_dx.iter_mut() {
        for (gc, &s) in sample.iter_mut().zip(std) {
            for g in gc.iter_mut() {
                *g /= s;
            }
        }
    }
}

/// `rescale`: `y = x · scale + offset`.
pub fn rescale<E: Scalar>(scale: E, offset: E, x: &[E], y: &mut [E]) {
    for (yv, &xv) in y.iter_mut().zip(x) {
        *yv = xv * scale + offset;
    }
}

/// `rescale` in place.
pub fn rescale_in_place<E: Scalar>(scale: E, offset: E, xy: &mut [E]) {
    for v in xy.iter_mut() {
        *v = *v * scale + offset;
    }
}

/// `rescale`'s backward pass in place: `dx = dy · scale`.
pub fn rescale_backward<E: Scalar>(scale: E, dy_dx: &mut [E]) {
    for g in dy_dx.iter_mut() {
        *g *= scale;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_standardizes_each_channel() {
        let x = [[[1.0f64, 3.0], [10.0, 30.0]]];
        let mut y = [[[0.0; 2]; 2]];
        normalize(&[2.0, 20.0], &[1.0, 10.0], &x, &mut y);
        assert_eq!(y, [[[-1.0, 1.0], [-1.0, 1.0]]]);
        let mut xy = x;
        normalize_in_place(&[2.0, 20.0], &[1.0, 10.0], &mut xy);
        assert_eq!(xy, y);
    }

    #[test]
    fn rescale_maps_bytes_to_the_unit_interval() {
        let mut y = [0.0f32; 3];
        rescale(1.0 / 255.0, 0.0, &[0.0, 51.0, 255.0], &mut y);
        for (got, want) in y.iter().zip([0.0, 0.2, 1.0]) {
            assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        }
        let mut xy = [0.0f32, 255.0];
        rescale_in_place(2.0 / 255.0, -1.0, &mut xy);
        assert_eq!(xy, [-1.0, 1.0]);
    }

    #[test]
    fn backward_passes_scale_the_gradient() {
        let mut g = [[[2.0f64, 4.0], [10.0, 20.0]]];
        normalize_backward(&[2.0, 10.0], &mut g);
        assert_eq!(g, [[[1.0, 2.0], [1.0, 2.0]]]);
        let mut g = [1.0f64, -2.0];
        rescale_backward(0.5, &mut g);
        assert_eq!(g, [0.5, -1.0]);
    }
}
