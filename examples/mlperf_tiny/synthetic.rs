//! Training on synthetic data, to show that a network learns: a small fixed
//! set of random inputs with random labels (or, for the autoencoder, the
//! inputs themselves) that the network can memorize.

use constnet::loss::Target;
use constnet::optim::Adam;
use constnet::rand::rngs::StdRng;
use constnet::rand::{RngExt, SeedableRng};
use constnet::train::{Stepper, TrainError};
use constnet::{Network, Tensor, Trainable};

/// `n` inputs with elements uniform in `[-1, 1)`, from `seed`.
pub fn inputs<X: Tensor<Elem = f32>>(n: usize, seed: u64) -> Vec<X> {
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

/// Trains `net` for `steps` Adam steps on batches of `batch` cycling through
/// `xs` and `ts`; returns the mean loss of the first and of the last pass
/// over the data.
pub fn memorize<N, T>(
    net: &mut N,
    xs: &[N::Input],
    ts: &[T],
    steps: usize,
    batch: usize,
    lr: f64,
) -> Result<(f64, f64), TrainError>
where
    N: Trainable<Elem = f32> + Network + Sync,
    T: Target<N::Output> + Sync,
{
    let mut stepper = Stepper::<N>::new(0);
    let mut opt = Adam::new(lr);
    let per_pass = xs.len().div_ceil(batch);
    let (mut first, mut last) = (Vec::new(), Vec::new());
    for step in 0..steps {
        let start = step % per_pass * batch;
        let end = (start + batch).min(xs.len());
        let loss = stepper
            .step(net, &xs[start..end], &ts[start..end], &mut opt)?
            .loss;
        if step < per_pass {
            first.push(loss);
        }
        if step + per_pass >= steps {
            last.push(loss);
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    Ok((mean(&first), mean(&last)))
}
