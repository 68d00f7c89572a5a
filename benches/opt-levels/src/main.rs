//! Batch-1 latency and training throughput of SimpleConvNet and the MLP of
//! the peer comparison, at whatever optimization level this binary was built
//! with (`run.sh` builds one per level). Prints one tab-separated line per
//! workload: name, then the median of the timed rounds in microseconds per
//! prediction or samples per second.
//!
//! `--smoke` runs each workload a few times only, so CI sees that every level
//! builds and runs without spending minutes on timing: ten calls of each,
//! which also makes instruction counts under a profiler comparable. `--once`
//! times one round of 300 ms per workload instead of the median of nine
//! (`run.sh` interleaves such rounds of every level). Any other argument
//! keeps only the workloads whose name contains it (for a profiler).

use std::hint::black_box;
use std::time::Instant;

use constnet::loss::Target;
use constnet::network::view;
use constnet::optim::{Optimizer, Sgd};
use constnet::train::Stepper;
use constnet::{Trainable, network};

network! {
    struct SimpleConvNet: [1, 28, 28] =>
        conv(30, 5) -> relu -> pool(2) -> affine(100) -> relu -> affine(10) -> softmax
    struct Mlp: [784] => affine(100) -> relu -> affine(10) -> softmax
}

/// The batch size of the training workloads, as in the peer comparison.
const BATCH: usize = 100;

/// `n` values uniform in `[-1, 1)` from a fixed LCG, so every level sees the
/// same inputs (and ReLU the same sparsity).
fn data(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed ^ 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// How long to time each workload.
struct Budget {
    rounds: usize,
    /// Calls per round: a fixed count (smoke runs, instruction counts under
    /// a profiler) or as many as fill about this many milliseconds.
    calls: Calls,
}

enum Calls {
    Fixed(usize),
    Millis(f64),
}

/// The median over `budget.rounds` rounds of seconds per call of `f`.
fn median_seconds(budget: &Budget, mut f: impl FnMut()) -> f64 {
    let calls = match budget.calls {
        Calls::Fixed(n) => n,
        Calls::Millis(ms) => {
            let start = Instant::now();
            f();
            let once = start.elapsed().as_secs_f64().max(1e-7);
            ((ms / 1e3 / once) as usize).max(1)
        }
    };
    let mut rounds: Vec<f64> = (0..budget.rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..calls {
                f();
            }
            start.elapsed().as_secs_f64() / calls as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[rounds.len() / 2]
}

/// Microseconds per batch-1 prediction of SimpleConvNet.
fn cnn_predict(budget: &Budget) -> f64 {
    let cnn = SimpleConvNet::<f32>::seeded(0);
    let image = data(28 * 28, 3);
    let image = &view::images::<f32, 1, 28, 28>(&image)[0];
    1e6 * median_seconds(budget, || {
        black_box(cnn.predict(black_box(image)));
    })
}

/// Microseconds per batch-1 prediction of the MLP.
fn mlp_predict(budget: &Budget) -> f64 {
    let mlp = Mlp::<f32>::seeded(0);
    let row = data(784, 3);
    let row = view::vector::<f32, 784>(&row);
    1e6 * median_seconds(budget, || {
        black_box(mlp.predict(black_box(row)));
    })
}

/// Samples per second of SimpleConvNet's SGD steps on batches of 100, one thread.
fn cnn_train(budget: &Budget) -> f64 {
    let flat = data(BATCH * 28 * 28, 1);
    let xs = view::images::<f32, 1, 28, 28>(&flat);
    train(budget, SimpleConvNet::<f32>::seeded(0), xs)
}

/// Samples per second of the MLP's SGD steps on batches of 100, one thread.
fn mlp_train(budget: &Budget) -> f64 {
    let flat = data(BATCH * 784, 1);
    let xs = view::rows::<f32, 784>(&flat);
    train(budget, Mlp::<f32>::seeded(0), xs)
}

/// Samples per second of SGD steps (learning rate 0.01) of `net` on `xs`.
fn train<N>(budget: &Budget, mut net: N, xs: &[N::Input]) -> f64
where
    N: Trainable + Sync,
    Sgd: Optimizer<N::Elem>,
    usize: Target<N::Output>,
{
    let mut stepper = Stepper::<N>::new(0).threads(1);
    let mut sgd = Sgd::new(0.01);
    let labels = labels();
    BATCH as f64
        / median_seconds(budget, || {
            let stats = stepper.step(&mut net, black_box(xs), &labels, &mut sgd);
            black_box(stats.expect("a finite step"));
        })
}

/// The training batch's labels, every class ten times.
fn labels() -> Vec<usize> {
    (0..BATCH).map(|i| (i * 7 + 3) % 10).collect()
}

/// Measures one workload within a budget.
type Measure = fn(&Budget) -> f64;

/// Each workload: its name (with the unit) and how to measure it.
const WORKLOADS: [(&str, Measure); 4] = [
    ("cnn_predict_us", cnn_predict),
    ("mlp_predict_us", mlp_predict),
    ("cnn_train_samples_per_s", cnn_train),
    ("mlp_train_samples_per_s", mlp_train),
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |f: &str| args.iter().any(|a| a == f);
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let budget = if flag("--smoke") {
        Budget {
            rounds: 1,
            calls: Calls::Fixed(10),
        }
    } else {
        Budget {
            rounds: if flag("--once") { 1 } else { 9 },
            calls: Calls::Millis(300.0),
        }
    };
    for (name, measure) in WORKLOADS {
        if filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())) {
            println!("{name}\t{:.2}", measure(&budget));
        }
    }
}
