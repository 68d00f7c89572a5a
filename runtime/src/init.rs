//! Parameter initializers: zeros, constants, normal with a given standard
//! deviation, and the Xavier (Glorot) and He schemes.
//!
//! Every network tensor names its initializer in [`TensorInfo::init`], which
//! `network!` chooses from the layer and the activation after it (the
//! per-activation default), with zeros for biases, 1 for batch-norm scale and
//! 0.25 for PReLU slopes. [`init_all`] applies those choices; [`init_all_with`]
//! overrides the weights of a whole network with one scheme (for example the
//! classic `Normal(0.01)`); a single layer is changed by calling [`fill`] on
//! its range.
//!
//! Samples are drawn in `f64` and rounded to the element type, so `f32` and
//! `f64` networks seeded alike start from the same values. Everything is
//! `no_std` and allocation-free; the caller owns the seeded generator.
//!
//! # Examples
//! ```
//! use constnet::init;
//! use constnet::Init;
//! use rand::SeedableRng;
//!
//! let mut rng = rand::rngs::StdRng::seed_from_u64(7);
//! let mut w = [0.0f32; 784 * 100];
//! init::fill(Init::HeNormal, &mut w, 784, 100, &mut rng);
//! let std = (w.iter().map(|v| v * v).sum::<f32>() / w.len() as f32).sqrt();
//! assert!((std - (2.0f32 / 784.0).sqrt()).abs() < 0.002);
//! ```

use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};

use crate::{Init, Scalar, TensorInfo};

/// Fills `out` with samples of `init` for a tensor with the given fans.
///
/// | `init` | distribution |
/// |---|---|
/// | `Zeros` | `0` |
/// | `Constant(c)` | `c` |
/// | `Normal(σ)` | `N(0, σ²)` |
/// | `XavierUniform` | `U(-a, a)`, `a = √(6 / (fan_in + fan_out))` |
/// | `XavierNormal` | `N(0, 2 / (fan_in + fan_out))` |
/// | `HeNormal` | `N(0, 2 / fan_in)` |
/// | `HeUniform` | `U(-a, a)`, `a = √(6 / fan_in)` |
///
/// Xavier: Glorot & Bengio, [Understanding the difficulty of training deep
/// feedforward neural networks](https://proceedings.mlr.press/v9/glorot10a.html)
/// (AISTATS 2010). He: He et al., [Delving Deep into
/// Rectifiers](https://arxiv.org/abs/1502.01852) (ICCV 2015).
///
/// A fan of 0 counts as 1, so a degenerate tensor gets finite values.
/// `Zeros` and `Constant` draw nothing from `rng`.
///
/// # Panics
/// If `Normal(σ)` has a negative or non-finite `σ`, or `Constant(c)` a
/// non-finite `c`: both come from code, not data.
pub fn fill<E: Scalar, R: Rng + ?Sized>(
    init: Init,
    out: &mut [E],
    fan_in: usize,
    fan_out: usize,
    rng: &mut R,
) {
    let fan_in = fan_in.max(1) as f64;
    let fan_sum = fan_in + fan_out.max(1) as f64;
    match init {
        Init::Zeros => out.fill(E::ZERO),
        Init::Constant(c) => {
            assert!(
                c.is_finite(),
                "Init::Constant needs a finite value, found {c}"
            );
            out.fill(E::from_f64(c));
        }
        Init::Normal(std) => {
            assert!(
                std.is_finite() && std >= 0.0,
                "Init::Normal needs a finite standard deviation of at least 0, found {std}"
            );
            normal(out, std, rng);
        }
        Init::XavierUniform => uniform(out, libm::sqrt(6.0 / fan_sum), rng),
        Init::XavierNormal => normal(out, libm::sqrt(2.0 / fan_sum), rng),
        Init::HeNormal => normal(out, libm::sqrt(2.0 / fan_in), rng),
        Init::HeUniform => uniform(out, libm::sqrt(6.0 / fan_in), rng),
    }
}

/// Initializes every tensor of a flat parameter array with its own
/// [`TensorInfo::init`], in the order of `tensors`.
///
/// Running statistics are included: their `init` resets them (mean 0,
/// variance 1).
///
/// # Panics
/// If a tensor's range lies outside `params`, or as [`fill`].
pub fn init_all<E: Scalar, R: Rng + ?Sized>(params: &mut [E], tensors: &[TensorInfo], rng: &mut R) {
    for tensor in tensors {
        fill_tensor(tensor.init, params, tensor, rng);
    }
}

/// Like [`init_all`], but every [`Weight`](crate::Role::Weight) tensor uses
/// `weights` instead of its own initializer.
///
/// Biases, batch-norm parameters, running statistics and PReLU slopes keep
/// their own initializers (zero, γ = 1, 0.25), which no weight scheme
/// should change.
///
/// # Panics
/// If a tensor's range lies outside `params`, or as [`fill`].
pub fn init_all_with<E: Scalar, R: Rng + ?Sized>(
    params: &mut [E],
    tensors: &[TensorInfo],
    weights: Init,
    rng: &mut R,
) {
    for tensor in tensors {
        let init = if tensor.role == crate::Role::Weight {
            weights
        } else {
            tensor.init
        };
        fill_tensor(init, params, tensor, rng);
    }
}

fn fill_tensor<E: Scalar, R: Rng + ?Sized>(
    init: Init,
    params: &mut [E],
    tensor: &TensorInfo,
    rng: &mut R,
) {
    fill(
        init,
        &mut params[tensor.range()],
        tensor.fan_in,
        tensor.fan_out,
        rng,
    );
}

fn normal<E: Scalar, R: Rng + ?Sized>(out: &mut [E], std: f64, rng: &mut R) {
    for v in out {
        let z: f64 = StandardNormal.sample(rng);
        *v = E::from_f64(std * z);
    }
}

/// `U(-a, a)` as `a·(2u − 1)` with `u ∈ [0, 1)`, so `a = 0` is allowed and
/// no range can be rejected.
fn uniform<E: Scalar, R: Rng + ?Sized>(out: &mut [E], a: f64, rng: &mut R) {
    for v in out {
        let u: f64 = rng.random();
        *v = E::from_f64(a * (2.0 * u - 1.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use std::vec;
    use std::vec::Vec;

    const N: usize = 200_000;

    /// Sample mean and standard deviation.
    fn moments(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
        (mean, var.sqrt())
    }

    fn sample(init: Init, fan_in: usize, fan_out: usize, seed: u64) -> Vec<f64> {
        let mut out = vec![0.0; N];
        fill(
            init,
            &mut out,
            fan_in,
            fan_out,
            &mut StdRng::seed_from_u64(seed),
        );
        out
    }

    /// Mean within 4 standard errors of 0, std within 1% of `std`, and every
    /// sample within `bound` (uniform schemes) in absolute value.
    #[track_caller]
    fn assert_distribution(xs: &[f64], std: f64, bound: Option<f64>) {
        let (mean, sample_std) = moments(xs);
        assert!(
            mean.abs() < 4.0 * std / (N as f64).sqrt(),
            "mean {mean} for std {std}"
        );
        assert!(
            (sample_std / std - 1.0).abs() < 0.01,
            "std {sample_std}, expected {std}"
        );
        if let Some(a) = bound {
            assert!(xs.iter().all(|x| x.abs() <= a), "a sample exceeds {a}");
        }
    }

    #[test]
    fn normal_has_the_requested_std() {
        assert_distribution(&sample(Init::Normal(0.01), 3, 4, 1), 0.01, None);
    }

    #[test]
    fn xavier_schemes_match_their_formulas() {
        // U(-a, a) has std a / √3.
        let a = (6.0f64 / (300.0 + 100.0)).sqrt();
        assert_distribution(
            &sample(Init::XavierUniform, 300, 100, 2),
            a / 3f64.sqrt(),
            Some(a),
        );
        let std = (2.0f64 / (300.0 + 100.0)).sqrt();
        assert_distribution(&sample(Init::XavierNormal, 300, 100, 3), std, None);
    }

    #[test]
    fn he_schemes_match_their_formulas() {
        let a = (6.0f64 / 50.0).sqrt();
        assert_distribution(
            &sample(Init::HeUniform, 50, 10, 4),
            a / 3f64.sqrt(),
            Some(a),
        );
        let std = (2.0f64 / 50.0).sqrt();
        assert_distribution(&sample(Init::HeNormal, 50, 10, 5), std, None);
    }

    #[test]
    fn zero_fans_count_as_one() {
        let xs = sample(Init::HeUniform, 0, 0, 6);
        assert!(xs.iter().all(|x| x.is_finite() && x.abs() <= 6f64.sqrt()));
    }

    #[test]
    fn zeros_and_constant_are_exact() {
        let mut rng = StdRng::seed_from_u64(0);
        let mut out = [1.0f32; 5];
        fill(Init::Zeros, &mut out, 1, 1, &mut rng);
        assert_eq!(out, [0.0; 5]);
        fill(Init::Constant(0.25), &mut out, 1, 1, &mut rng);
        assert_eq!(out, [0.25; 5]);
    }

    #[test]
    fn same_seed_gives_same_values_in_f32_and_f64() {
        let mut a = [0.0f64; 16];
        let mut b = [0.0f64; 16];
        let mut c = [0.0f32; 16];
        fill(
            Init::XavierNormal,
            &mut a,
            4,
            4,
            &mut StdRng::seed_from_u64(42),
        );
        fill(
            Init::XavierNormal,
            &mut b,
            4,
            4,
            &mut StdRng::seed_from_u64(42),
        );
        fill(
            Init::XavierNormal,
            &mut c,
            4,
            4,
            &mut StdRng::seed_from_u64(42),
        );
        assert_eq!(a, b);
        assert!(a.iter().zip(&c).all(|(&x, &y)| x as f32 == y));
        fill(
            Init::XavierNormal,
            &mut b,
            4,
            4,
            &mut StdRng::seed_from_u64(43),
        );
        assert_ne!(a, b);
    }

    #[test]
    #[should_panic(
        expected = "Init::Normal needs a finite standard deviation of at least 0, found NaN"
    )]
    fn normal_rejects_nan_std() {
        fill(
            Init::Normal(f64::NAN),
            &mut [0.0f32; 2],
            1,
            1,
            &mut StdRng::seed_from_u64(0),
        );
    }

    const fn tensor(offset: usize, len: usize, role: Role, init: Init) -> TensorInfo {
        TensorInfo {
            name: "t",
            shape: &[],
            offset,
            len,
            role,
            fan_in: 4,
            fan_out: 4,
            init,
        }
    }

    const LAYERS: &[TensorInfo] = &[
        tensor(0, 64, Role::Weight, Init::HeNormal),
        tensor(64, 2, Role::Bias, Init::Zeros),
        tensor(66, 2, Role::Scale, Init::Constant(1.0)),
        tensor(68, 2, Role::Slope, Init::Constant(0.25)),
        tensor(70, 2, Role::RunningVar, Init::Constant(1.0)),
    ];

    #[test]
    fn init_all_uses_each_tensor_init() {
        let mut params = [9.0f64; 72];
        init_all(&mut params, LAYERS, &mut StdRng::seed_from_u64(0));
        let mut expected = [0.0f64; 64];
        fill(
            Init::HeNormal,
            &mut expected,
            4,
            4,
            &mut StdRng::seed_from_u64(0),
        );
        assert_eq!(params[..64], expected);
        assert_eq!(params[64..], [0.0, 0.0, 1.0, 1.0, 0.25, 0.25, 1.0, 1.0]);
    }

    #[test]
    fn init_all_with_overrides_weights_only() {
        let mut params = [9.0f64; 72];
        init_all_with(
            &mut params,
            LAYERS,
            Init::Constant(0.5),
            &mut StdRng::seed_from_u64(0),
        );
        assert!(params[..64].iter().all(|&w| w == 0.5));
        assert_eq!(params[64..], [0.0, 0.0, 1.0, 1.0, 0.25, 0.25, 1.0, 1.0]);
    }
}
