//! Whole-network benchmarks: the four workloads of the peer comparison
//! (`examples/bench_peers.rs`), measured with criterion so a kernel change can
//! be judged before and after on the same machine.
//!
//! - T1: SimpleConvNet training step, batch 100, SGD lr 0.01, 1 and 2 threads.
//! - T2: MLP 784-100-10 training step, batch 100, SGD lr 0.01, 1 and 2 threads.
//! - L1: SimpleConvNet batch-1 `predict`.
//! - L2: MLP batch-1 `predict`.
//!
//! Run with `cargo bench --bench network` (about a minute), or one group with
//! e.g. `cargo bench --bench network -- train_cnn`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    criterion_main, measurement::WallTime,
};

mod common;

use common::{data, labels};
use constnet::network;
use constnet::network::view;
use constnet::optim::Sgd;
use constnet::train::Stepper;

network! {
    struct SimpleConvNet: [1, 28, 28] =>
        conv(30, 5) -> relu -> pool(2) -> affine(100) -> relu -> affine(10) -> softmax
    struct Mlp: [784] => affine(100) -> relu -> affine(10) -> softmax
}

/// The batch size of the training workloads, as in the peers.
const BATCH: usize = 100;

/// A group with short measurements, so `cargo bench` stays within minutes.
/// Flat sampling runs the same iteration count in every sample: criterion's
/// default linear sampling needs at least 210 iterations, which for a CNN
/// step of tens of milliseconds would stretch each measurement to most of a
/// minute.
fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sampling_mode(SamplingMode::Flat);
    g
}

fn train_cnn(c: &mut Criterion) {
    let flat = data(BATCH * 28 * 28, 1);
    let xs = view::images::<f32, 1, 28, 28>(&flat);
    let ts = labels(BATCH, 2);
    let mut group = group(c, "train_cnn_b100");
    group.throughput(Throughput::Elements(BATCH as u64));
    for threads in [1, 2] {
        let mut net = SimpleConvNet::<f32>::seeded(0);
        let mut stepper = Stepper::<SimpleConvNet>::new(0).threads(threads);
        let mut opt = Sgd::new(0.01);
        group.bench_function(BenchmarkId::new("threads", threads), |b| {
            b.iter(|| {
                let stats = stepper.step(&mut net, black_box(xs), black_box(&ts), &mut opt);
                black_box(stats.expect("a finite step"))
            })
        });
    }
    group.finish();
}

fn train_mlp(c: &mut Criterion) {
    let flat = data(BATCH * 784, 1);
    let xs = view::rows::<f32, 784>(&flat);
    let ts = labels(BATCH, 2);
    let mut group = group(c, "train_mlp_b100");
    group.throughput(Throughput::Elements(BATCH as u64));
    for threads in [1, 2] {
        let mut net = Mlp::<f32>::seeded(0);
        let mut stepper = Stepper::<Mlp>::new(0).threads(threads);
        let mut opt = Sgd::new(0.01);
        group.bench_function(BenchmarkId::new("threads", threads), |b| {
            b.iter(|| {
                let stats = stepper.step(&mut net, black_box(xs), black_box(&ts), &mut opt);
                black_box(stats.expect("a finite step"))
            })
        });
    }
    group.finish();
}

fn predict(c: &mut Criterion) {
    let mut group = group(c, "predict_b1");
    let cnn = SimpleConvNet::<f32>::seeded(0);
    let image = data(28 * 28, 3);
    let image = &view::images::<f32, 1, 28, 28>(&image)[0];
    group.bench_function("cnn", |b| {
        b.iter(|| black_box(cnn.predict(black_box(image))))
    });
    let mlp = Mlp::<f32>::seeded(0);
    let row = data(784, 3);
    let row = view::vector::<f32, 784>(&row);
    group.bench_function("mlp", |b| b.iter(|| black_box(mlp.predict(black_box(row)))));
    group.finish();
}

criterion_group!(benches, train_cnn, train_mlp, predict);
criterion_main!(benches);
