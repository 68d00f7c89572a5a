//! Helpers shared by the integration tests.

use constnet::loss::Target;
use constnet::rand::rngs::StdRng;
use constnet::rand::{RngExt, SeedableRng};
use constnet::train::gradcheck::{self, Options};
use constnet::{Tensor, Trainable};

/// `n` inputs with elements uniform in `[-1, 1)`, from `seed`.
pub fn inputs<X: Tensor<Elem = f64>>(n: usize, seed: u64) -> Vec<X> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let mut x = X::zeroed();
            for v in x.as_flat_mut() {
                *v = rng.random_range(-1.0..1.0);
            }
            x
        })
        .collect()
}

/// `n` labels in `0..classes`, from `seed`.
pub fn labels(n: usize, classes: usize, seed: u64) -> Vec<usize> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(0..classes)).collect()
}

/// Asserts that backpropagation matches central differences to `1e-6`
/// relative error on every trainable tensor, and returns the worst error.
pub fn assert_gradients<N, T>(net: &mut N, xs: &[N::Input], ts: &[T]) -> f64
where
    N: Trainable<Elem = f64>,
    T: Target<N::Output>,
{
    let reports = gradcheck::check(net, xs, ts, Options::default());
    for r in &reports {
        assert!(
            r.max_rel_error < 1e-6,
            "{}: relative error {:.2e} at {} (analytic {:.9e}, numeric {:.9e})",
            r.name,
            r.max_rel_error,
            r.worst_index,
            r.worst.0,
            r.worst.1
        );
    }
    assert!(!reports.is_empty(), "no trainable tensor was checked");
    let worst = gradcheck::worst(&reports);
    println!(
        "worst relative error {worst:.2e} over {} tensors",
        reports.len()
    );
    worst
}

/// Asserts every element of `a` is within `tol` (relative, floored at 1) of `b`.
pub fn assert_all_close(a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let scale = x.abs().max(y.abs()).max(1.0);
        assert!((x - y).abs() <= tol * scale, "element {i}: {x} vs {y}");
    }
}
