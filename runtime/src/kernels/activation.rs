//! Elementwise activations, and their derivatives expressed through the output.
//!
//! Backward needs only `y = f(x)`: ReLU `y > 0`, ReLU6 `0 < y < 6`, leaky
//! ReLU `y > 0 ? 1 : α`,
//! ELU `y > 0 ? 1 : y + α`, sigmoid `y (1 - y)`, tanh `1 - y²`. That is why an
//! activation can fold into the layer before it: only the activated output
//! is kept. It needs `α ≥ 0`, which `network!` checks.

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
}

/// `max(x, 0)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Relu;

/// `min(max(x, 0), 6)`, the mobile networks' bounded ReLU (Howard et al.,
/// 2017), whose range quantizes well.
#[derive(Debug, Clone, Copy, Default)]
pub struct Relu6;

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
        if x > E::ZERO { x } else { E::ZERO }
    }
    #[inline(always)]
    fn grad_from_output(self, y: E) -> E {
        if y > E::ZERO { E::ONE } else { E::ZERO }
    }
}

impl<E: Scalar> Activation<E> for Relu6 {
    #[inline(always)]
    fn forward(self, x: E) -> E {
        let six = E::from_f64(6.0);
        if x > E::ZERO {
            if x < six { x } else { six }
        } else {
            E::ZERO
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

impl<E: Scalar> Activation<E> for LeakyRelu<E> {
    #[inline(always)]
    fn forward(self, x: E) -> E {
        if x > E::ZERO { x } else { self.0 * x }
    }
    #[inline(always)]
    fn grad_from_output(self, y: E) -> E {
        if y > E::ZERO { E::ONE } else { self.0 }
    }
}

impl<E: Scalar> Activation<E> for Elu<E> {
    #[inline(always)]
    fn forward(self, x: E) -> E {
        if x > E::ZERO {
            x
        } else {
            self.0 * (x.exp() - E::ONE)
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
        if x > E::ZERO { E::ONE } else { E::ZERO }
    }
    #[inline(always)]
    fn grad_from_output(self, _y: E) -> E {
        E::ZERO
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
        check_derivative(LeakyRelu(0.1), &xs);
        check_derivative(Elu(1.3), &xs);
        check_derivative(Sigmoid, &xs);
        check_derivative(Tanh, &xs);
        check_derivative(Identity, &xs);
    }

    #[test]
    fn step_thresholds_at_zero() {
        let mut v = [-1.0f32, 0.0, 0.5];
        forward_in_place(&mut v, Step);
        assert_eq!(v, [0.0, 0.0, 1.0]);
    }
}
