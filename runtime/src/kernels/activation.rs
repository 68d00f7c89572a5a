//! Elementwise activations, and their derivatives.
//!
//! [`Activation`]s are monotonic, and backward needs only `y = f(x)`: ReLU
//! `y > 0`, ReLU6 `0 < y < 6`, hard sigmoid `0 < y < 1 ? 1/6 : 0`, leaky
//! ReLU `y > 0 ? 1 : α`,
//! ELU `y > 0 ? 1 : y + α`, sigmoid `y (1 - y)`, tanh `1 - y²`. That is why an
//! activation can fold into the layer before it: only the activated output
//! is kept. It needs `α ≥ 0`, which `network!` checks.
//!
//! [`InputActivation`]s (SiLU, GELU, hard swish) are not monotonic: one
//! output has two inputs, so backward reads the input, and they run as
//! steps of their own.

use super::dispatch::MulAdd;
use crate::Scalar;
use crate::loss::sigmoid;

/// An elementwise activation function.
pub trait Activation<E: Scalar>: Copy + Send + Sync {
    /// Whether the function is the identity, so passes can be skipped.
    const IS_IDENTITY: bool = false;
    /// `f(x)`.
    fn forward(self, x: E) -> E;
    /// `f'(x)` where `y = f(x)`.
    fn grad_from_output(self, y: E) -> E;
    /// `f` on every element of a tile, in place, inside a kernel built with
    /// the multiply-add policy `M`: the same values as [`forward`](Self::forward)
    /// one by one, as vectors where the activation has a vector form.
    #[inline(always)]
    fn forward_tile<M: MulAdd, const T: usize>(self, tile: &mut [E; T]) {
        for v in tile {
            *v = self.forward(*v);
        }
    }
}

/// `max(x, 0)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Relu;

/// `min(max(x, 0), 6)`, the mobile networks' bounded ReLU (Howard et al.,
/// 2017), whose range quantizes well.
#[derive(Debug, Clone, Copy, Default)]
pub struct Relu6;

/// `min(max(x + 3, 0), 6) / 6`, PyTorch's `Hardsigmoid` (Keras 3's too).
#[derive(Debug, Clone, Copy, Default)]
pub struct HardSigmoid;

/// `x > 0 ? x : α x`.
#[derive(Debug, Clone, Copy)]
pub struct LeakyRelu<E>(
    /// The slope for negative inputs, `α ≥ 0`.
    pub E,
);

/// `x > 0 ? x : α (e^x - 1)` (Clevert et al., 2015).
#[derive(Debug, Clone, Copy)]
pub struct Elu<E>(
    /// The saturation value for negative inputs, `α ≥ 0`.
    pub E,
);

/// `1 / (1 + e^{-x})`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sigmoid;

/// `tanh(x)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tanh;

/// `x`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Identity;

/// The perceptron's threshold: `x > 0 ? 1 : 0`. It has no useful gradient;
/// networks containing it are not trainable.
#[derive(Debug, Clone, Copy, Default)]
pub struct Step;

impl<E: Scalar> Activation<E> for Relu {
    #[inline(always)]
    fn forward(self, x: E) -> E {
        // `x < 0` is false for NaN, which passes through as PyTorch's
        // `relu(nan)` does; every activation here is written that way.
        if x < E::ZERO { E::ZERO } else { x }
    }
    #[inline(always)]
    fn grad_from_output(self, y: E) -> E {
        if y > E::ZERO { E::ONE } else { E::ZERO }
    }
    #[inline(always)]
    fn forward_tile<M: MulAdd, const T: usize>(self, tile: &mut [E; T]) {
        super::tile::relu::<M, E, T>(tile);
    }
}

impl<E: Scalar> Activation<E> for Relu6 {
    #[inline(always)]
    fn forward(self, x: E) -> E {
        let six = E::from_f64(6.0);
        if x < E::ZERO {
            E::ZERO
        } else if x > six {
            six
        } else {
            x
        }
    }
    #[inline(always)]
    fn grad_from_output(self, y: E) -> E {
        if y > E::ZERO && y < E::from_f64(6.0) {
            E::ONE
        } else {
            E::ZERO
        }
    }
}

impl<E: Scalar> Activation<E> for HardSigmoid {
    #[inline(always)]
    fn forward(self, x: E) -> E {
        let t = (x + E::from_f64(3.0)) / E::from_f64(6.0);
        if t < E::ZERO {
            E::ZERO
        } else if t > E::ONE {
            E::ONE
        } else {
            t
        }
    }
    #[inline(always)]
    fn grad_from_output(self, y: E) -> E {
        if y > E::ZERO && y < E::ONE {
            E::from_f64(1.0 / 6.0)
        } else {
            E::ZERO
        }
    }
}

impl<E: Scalar> Activation<E> for LeakyRelu<E> {
    #[inline(always)]
    fn forward(self, x: E) -> E {
        if x < E::ZERO { self.0 * x } else { x }
    }
    #[inline(always)]
    fn grad_from_output(self, y: E) -> E {
        if y > E::ZERO { E::ONE } else { self.0 }
    }
}

impl<E: Scalar> Activation<E> for Elu<E> {
    #[inline(always)]
    fn forward(self, x: E) -> E {
        if x < E::ZERO {
            self.0 * (x.exp() - E::ONE)
        } else {
            x
        }
    }
    #[inline(always)]
    fn grad_from_output(self, y: E) -> E {
        if y > E::ZERO { E::ONE } else { y + self.0 }
    }
}

impl<E: Scalar> Activation<E> for Sigmoid {
    #[inline(always)]
    fn forward(self, x: E) -> E {
        sigmoid(x)
    }
    #[inline(always)]
    fn grad_from_output(self, y: E) -> E {
        y * (E::ONE - y)
    }
}

impl<E: Scalar> Activation<E> for Tanh {
    #[inline(always)]
    fn forward(self, x: E) -> E {
        x.tanh()
    }
    #[inline(always)]
    fn grad_from_output(self, y: E) -> E {
        E::ONE - y * y
    }
}

impl<E: Scalar> Activation<E> for Identity {
    const IS_IDENTITY: bool = true;
    #[inline(always)]
    fn forward(self, x: E) -> E {
        x
    }
    #[inline(always)]
    fn grad_from_output(self, _y: E) -> E {
        E::ONE
    }
}

impl<E: Scalar> Activation<E> for Step {
    #[inline(always)]
    fn forward(self, x: E) -> E {
        if x > E::ZERO {
            E::ONE
        } else if x <= E::ZERO {
            E::ZERO
        } else {
            x
        }
    }
    #[inline(always)]
    fn grad_from_output(self, _y: E) -> E {
        E::ZERO
    }
}

/// An elementwise function whose derivative needs its input.
pub trait InputActivation<E: Scalar>: Copy + Send + Sync {
    /// `f(x)`.
    fn forward(self, x: E) -> E;
    /// `f'(x)`.
    fn grad(self, x: E) -> E;
}

/// `x · σ(x)` (SiLU, also called swish; Elfwing et al., 2017).
#[derive(Debug, Clone, Copy, Default)]
pub struct Silu;

/// `x · Φ(x) = x (1 + erf(x / √2)) / 2`, the exact GELU (Hendrycks & Gimpel,
/// 2016), as PyTorch's default.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gelu;

/// `x · min(max(x + 3, 0), 6) / 6` (Howard et al., 2019, MobileNetV3).
#[derive(Debug, Clone, Copy, Default)]
pub struct HardSwish;

impl<E: Scalar> InputActivation<E> for Silu {
    #[inline(always)]
    fn forward(self, x: E) -> E {
        x * sigmoid(x)
    }
    #[inline(always)]
    fn grad(self, x: E) -> E {
        let s = sigmoid(x);
        s * (E::ONE + x * (E::ONE - s))
    }
}

impl<E: Scalar> InputActivation<E> for Gelu {
    #[inline(always)]
    fn forward(self, x: E) -> E {
        let half = E::from_f64(0.5);
        half * x * (E::ONE + (x * E::from_f64(core::f64::consts::FRAC_1_SQRT_2)).erf())
    }
    #[inline(always)]
    fn grad(self, x: E) -> E {
        let half = E::from_f64(0.5);
        let cdf = half * (E::ONE + (x * E::from_f64(core::f64::consts::FRAC_1_SQRT_2)).erf());
        let pdf = (-half * x * x).exp() * E::from_f64(0.398_942_280_401_432_7);
        cdf + x * pdf
    }
}

impl<E: Scalar> InputActivation<E> for HardSwish {
    #[inline(always)]
    fn forward(self, x: E) -> E {
        x * HardSigmoid.forward(x)
    }
    #[inline(always)]
    fn grad(self, x: E) -> E {
        // PyTorch's convention at the kinks: 0 below -3, the middle piece up
        // to and including 3, 1 above.
        let three = E::from_f64(3.0);
        if x < -three {
            E::ZERO
        } else if x <= three {
            (x + x + three) / E::from_f64(6.0)
        } else {
            E::ONE
        }
    }
}

/// `y = f(x)` elementwise for an [`InputActivation`].
pub fn forward_input<E: Scalar, A: InputActivation<E>>(x: &[E], y: &mut [E], act: A) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y = act.forward(x);
    }
}

/// `x = f(x)` elementwise for an [`InputActivation`].
pub fn forward_input_in_place<E: Scalar, A: InputActivation<E>>(x: &mut [E], act: A) {
    for v in x.iter_mut() {
        *v = act.forward(*v);
    }
}

/// `dx = dy ⊙ f'(x)` for an [`InputActivation`].
///
/// # Shapes
/// - `x`, `dy`, `dx`: the same length
pub fn backward_input<E: Scalar, A: InputActivation<E>>(x: &[E], dy: &[E], dx: &mut [E], act: A) {
    for ((d, &g), &x) in dx.iter_mut().zip(dy).zip(x) {
        *d = g * act.grad(x);
    }
}

/// `y = f(x)` elementwise.
///
/// # Shapes
/// - `x`, `y`: the same length
pub fn forward<E: Scalar, A: Activation<E>>(x: &[E], y: &mut [E], act: A) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y = act.forward(x);
    }
}

/// `x = f(x)` elementwise.
pub fn forward_in_place<E: Scalar, A: Activation<E>>(x: &mut [E], act: A) {
    if A::IS_IDENTITY {
        return;
    }
    for v in x.iter_mut() {
        *v = act.forward(*v);
    }
}

/// `dy = dy ⊙ f'(x)`, with `f'` computed from the output `y`.
///
/// # Shapes
/// - `y`, `dy`: the same length
pub fn backward_in_place<E: Scalar, A: Activation<E>>(y: &[E], dy: &mut [E], act: A) {
    if A::IS_IDENTITY {
        return;
    }
    for (d, &y) in dy.iter_mut().zip(y) {
        *d *= act.grad_from_output(y);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_derivative<A: Activation<f64>>(act: A, xs: &[f64]) {
        for &x in xs {
            let h = 1e-6;
            let numeric = (act.forward(x + h) - act.forward(x - h)) / (2.0 * h);
            let analytic = act.grad_from_output(act.forward(x));
            assert!(
                (numeric - analytic).abs() < 1e-6,
                "x = {x}: {numeric} vs {analytic}"
            );
        }
    }

    #[test]
    fn derivatives_from_output_match_finite_differences() {
        let xs = [-2.5, -0.3, 0.4, 1.7];
        check_derivative(Relu, &xs);
        check_derivative(Relu6, &[-2.5, 0.4, 5.9, 6.1, 9.0]);
        check_derivative(HardSigmoid, &[-3.5, -2.9, 0.4, 2.9, 3.1]);
        check_derivative(LeakyRelu(0.1), &xs);
        check_derivative(Elu(1.3), &xs);
        check_derivative(Sigmoid, &xs);
        check_derivative(Tanh, &xs);
        check_derivative(Identity, &xs);
    }

    fn check_input_derivative<A: InputActivation<f64>>(act: A, xs: &[f64]) {
        for &x in xs {
            let h = 1e-6;
            let numeric = (act.forward(x + h) - act.forward(x - h)) / (2.0 * h);
            assert!(
                (numeric - act.grad(x)).abs() < 1e-6,
                "x = {x}: {numeric} vs {}",
                act.grad(x)
            );
        }
    }

    #[test]
    fn input_derivatives_match_finite_differences() {
        let xs = [-4.0, -2.5, -1.3, -0.3, 0.4, 1.7, 2.9, 3.5];
        check_input_derivative(Silu, &xs);
        check_input_derivative(Gelu, &xs);
        check_input_derivative(HardSwish, &xs);
        // Reference values: PyTorch's gelu(1.0) and silu(1.0).
        assert!((Gelu.forward(1.0f64) - 0.841_344_746_068_542_9).abs() < 1e-12);
        assert!((Silu.forward(1.0f64) - 0.731_058_578_630_004_9).abs() < 1e-12);
    }

    #[test]
    fn nan_passes_through_every_activation() {
        fn nan<A: Activation<f32>>(act: A) -> bool {
            act.forward(f32::NAN).is_nan()
        }
        assert!(nan(Relu) && nan(Relu6) && nan(HardSigmoid) && nan(Step));
        assert!(nan(LeakyRelu(0.1)) && nan(Elu(1.0)) && nan(Sigmoid) && nan(Tanh));
        assert!(nan(Identity));
        assert!(Silu.forward(f32::NAN).is_nan() && Gelu.forward(f32::NAN).is_nan());
        assert!(HardSwish.forward(f32::NAN).is_nan());
    }

    #[test]
    fn step_thresholds_at_zero() {
        let mut v = [-1.0f32, 0.0, 0.5];
        forward_in_place(&mut v, Step);
        assert_eq!(v, [0.0, 0.0, 1.0]);
    }
}
