//! The residual add: `y = act(a + b)` elementwise, and the gradient sum
//! where a residual block's two paths meet again in backward.

use super::activation::Activation;
use crate::Scalar;

/// `y = act(a + b)`.
///
/// # Shapes
/// - `a`, `b`, `y`: the same length
pub fn forward<E: Scalar, A: Activation<E>>(a: &[E], b: &[E], y: &mut [E], act: A) {
    for ((y, &a), &b) in y.iter_mut().zip(a).zip(b) {
        *y = act.forward(a + b);
    }
}

/// `acc = act(acc + b)`: the add over the main path's own output.
pub fn forward_in_place<E: Scalar, A: Activation<E>>(acc: &mut [E], b: &[E], act: A) {
    for (v, &b) in acc.iter_mut().zip(b) {
        *v = act.forward(*v + b);
    }
}

/// `dst += src`: a residual block's input gradient, from the main path and
/// the shortcut.
pub fn accumulate<E: Scalar>(dst: &mut [E], src: &[E]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d += s;
    }
}

#[cfg(test)]
mod tests {
    use super::super::activation::Relu;
    use super::*;

    #[test]
    fn add_then_activate() {
        let mut y = [0.0f32; 3];
        forward(&[1.0, -2.0, 0.5], &[0.5, 1.0, f32::NAN], &mut y, Relu);
        assert_eq!(y[..2], [1.5, 0.0]);
        assert!(y[2].is_nan());
        let mut acc = [1.0f64, -2.0];
        forward_in_place(&mut acc, &[0.5, 1.0], Relu);
        assert_eq!(acc, [1.5, 0.0]);
        accumulate(&mut acc, &[1.0, 2.0]);
        assert_eq!(acc, [2.5, 2.0]);
    }
}
