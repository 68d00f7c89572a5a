//! Whole-network benchmarks: the four workloads of the peer comparison
//! (`examples/bench_peers.rs`), measured with criterion so a kernel change can
//! be judged before and after on the same machine.
//!
//! - T1: SimpleConvNet training step, batch 100, SGD lr 0.01, 1 and 2 threads.
//! - T2: MLP 784-100-10 training step, batch 100, SGD lr 0.01, 1 and 2 threads.
//! - L1: SimpleConvNet batch-1 `predict`.
//! - L2: MLP batch-1 `predict`.
//!
//! And `guard`: what the finiteness checks of a training step cost against
//! the step itself, in the same run (SimpleConvNet, batch 100): the whole
//! step with SGD and with Adam on 1 and 2 threads, then each check alone
//! (the parameters, the batch's inputs, SGD's and Adam's update checks),
//! Adam's update, and the backup copy of parameters and Adam state that the
//! update checks make unnecessary.
//!
//! Run with `cargo bench --bench network` (about a minute and a half), or one
//! group with e.g. `cargo bench --bench network -- train_cnn`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    criterion_main, measurement::WallTime,
};

mod common;

use common::{data, labels};
use constnet::network::view;
use constnet::optim::{Adam, Optimizer, Sgd};
use constnet::scalar::all_finite;
use constnet::train::Stepper;
use constnet::{Network, network};

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

/// The cost of the checks that make a non-finite step an error, against
/// the step they guard.
fn guard(c: &mut Criterion) {
    let flat = data(BATCH * 28 * 28, 1);
    let xs = view::images::<f32, 1, 28, 28>(&flat);
    let ts = labels(BATCH, 2);
    let mut group = group(c, "guard");
    let mut net = SimpleConvNet::<f32>::seeded(0);
    let (mut sgd, mut adam) = (Sgd::new(0.01), Adam::new(1e-4));
    for threads in [1, 2] {
        let mut stepper = Stepper::<SimpleConvNet>::new(0).threads(threads);
        group.bench_function(BenchmarkId::new("step_sgd_threads", threads), |b| {
            b.iter(|| black_box(stepper.step(&mut net, black_box(xs), &ts, &mut sgd)))
        });
        group.bench_function(BenchmarkId::new("step_adam_threads", threads), |b| {
            b.iter(|| black_box(stepper.step(&mut net, black_box(xs), &ts, &mut adam)))
        });
    }

    let tensors = <SimpleConvNet as Network>::TENSORS;
    let grads = data(SimpleConvNet::<f32>::STORE_LEN, 5);
    group.bench_function("all_finite_params", |b| {
        b.iter(|| black_box(all_finite(black_box(net.params()))))
    });
    group.bench_function("all_finite_inputs", |b| {
        b.iter(|| black_box(all_finite(black_box(&flat))))
    });
    let params = net.params();
    let check = |opt: &mut dyn Optimizer<f32>| {
        tensors.iter().all(|t| {
            opt.check_update(t, &params[t.range()], &grads[t.range()])
                .is_ok()
        })
    };
    group.bench_function("check_update_sgd", |b| {
        b.iter(|| black_box(check(black_box(&mut sgd))))
    });
    group.bench_function("check_update_adam", |b| {
        b.iter(|| black_box(check(black_box(&mut adam))))
    });
    // The update the Adam check mirrors, on a copy of the parameters.
    let mut copy = params.to_vec();
    let mut grads_copy = grads.clone();
    group.bench_function("update_adam", |b| {
        b.iter(|| {
            Optimizer::<f32>::begin_step(&mut adam);
            for t in tensors {
                adam.update(t, &mut copy[t.range()], &mut grads_copy[t.range()]);
            }
            black_box(&copy);
        })
    });

    // The alternative: copy the parameters and Adam's moments aside before
    // every update, to put them back if the result is not finite.
    let mut backup = vec![0.0f32; 3 * params.len()];
    group.bench_function("backup_params_and_adam_state", |b| {
        b.iter(|| {
            let (p, rest) = backup.split_at_mut(params.len());
            p.copy_from_slice(black_box(params));
            let mut at = 0;
            adam.state(&mut |_, values| {
                rest[at..at + values.len()].copy_from_slice(values);
                at += values.len();
            });
            black_box(&backup);
        })
    });
    group.finish();
}

criterion_group!(benches, train_cnn, train_mlp, predict, guard);
criterion_main!(benches);
