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
//! And `layer_kinds`: the layer kinds of issue 8, each in a small network
//! around it (a global average pool and a 10-way head): batch-1 `predict`
//! and a batch-32 SGD step, for depthwise, grouped, strided "same",
//! floor-rounded, dilated and 1-D convolutions, global max pooling and
//! residual blocks with and without a shortcut; and MLPerf Tiny's ResNet-8
//! and DS-CNN whole.
//!
//! And `int8`: batch-1 latency of SimpleConvNet and DS-CNN in int8 against
//! their `f32` form, in the same run.
//!
//! Run with `cargo bench --bench network` (about three minutes), or one
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
use constnet::quant::{self, Method, Quantizable};
use constnet::scalar::all_finite;
use constnet::train::Stepper;
use constnet::{Network, Tensor, Trainable, network};

network! {
    struct SimpleConvNet: [1, 28, 28] =>
        conv(30, 5) -> relu -> pool(2) -> affine(100) -> relu -> affine(10) -> softmax
    struct Mlp: [784] => affine(100) -> relu -> affine(10) -> softmax

    struct Depthwise: [32, 16, 16] =>
        dwconv(3, pad = 1) -> relu -> global_avgpool -> affine(10) -> softmax
    struct Grouped: [32, 16, 16] =>
        conv(32, 3, pad = 1, groups = 4) -> relu -> global_avgpool -> affine(10) -> softmax
    struct StridedSame: [32, 16, 16] =>
        conv(32, 3, stride = 2, pad = same) -> relu -> global_avgpool -> affine(10) -> softmax
    struct StridedFloor: [32, 16, 16] =>
        conv(32, 3, stride = 2, pad = 1, round = floor) -> relu -> global_avgpool
        -> affine(10) -> softmax
    struct Dilated: [32, 16, 16] =>
        conv(32, 3, pad = 2, dilation = 2) -> relu -> global_avgpool -> affine(10) -> softmax
    struct Conv1d: [32, 256] =>
        conv1d(32, 5, pad = same) -> relu -> pool1d(2) -> global_avgpool -> affine(10) -> softmax
    struct GlobalMax: [32, 16, 16] =>
        conv(32, 1) -> relu -> global_maxpool -> affine(10) -> softmax
    struct Residual: [32, 16, 16] =>
        residual(conv(32, 3, pad = 1, bias = false) -> batchnorm -> relu
            -> conv(32, 3, pad = 1, bias = false) -> batchnorm)
        -> relu -> global_avgpool -> affine(10) -> softmax
    struct Shortcut: [32, 16, 16] =>
        residual(conv(64, 3, stride = 2, pad = 1, round = floor) -> relu -> conv(64, 3, pad = 1),
            shortcut = conv(64, 1, stride = 2, round = floor))
        -> relu -> global_avgpool -> affine(10) -> softmax
}

#[path = "../../examples/mlperf_tiny/models.rs"]
mod models;

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

/// Batch-1 latency of the int8 form against the `f32` network, same run:
/// SimpleConvNet and DS-CNN, each quantized with calibration on 32 of the
/// peers' inputs; `int8` takes an `f32` input (quantized at the door,
/// dequantized at the end), `int8_only` the quantized input.
fn int8(c: &mut Criterion) {
    let mut group = group(c, "int8_b1");
    let flat = data(32 * 28 * 28, 3);
    let images = view::images::<f32, 1, 28, 28>(&flat);
    int8_pair(&mut group, "cnn", &SimpleConvNet::<f32>::seeded(0), images);
    let flat = data(32 * 49 * 10, 4);
    let inputs = view::images::<f32, 1, 49, 10>(&flat);
    int8_pair(
        &mut group,
        "ds_cnn",
        &models::DsCnn::<f32>::seeded(0),
        inputs,
    );
    group.finish();
}

/// `net` in `f32`, in int8 from an `f32` input and in int8 alone, on the
/// first of `inputs` (all of which calibrate it).
fn int8_pair<N: Quantizable>(
    group: &mut BenchmarkGroup<WallTime>,
    name: &str,
    net: &N,
    inputs: &[N::Input],
) {
    let q = quant::quantize(net, inputs, Method::MinMax).expect("a finite network");
    let qx = q.quantize_input(&inputs[0]);
    group.bench_function(format!("{name}/f32"), |b| {
        b.iter(|| black_box(net.predict(black_box(&inputs[0]))))
    });
    group.bench_function(format!("{name}/int8"), |b| {
        b.iter(|| black_box(q.predict(black_box(&inputs[0]))))
    });
    group.bench_function(format!("{name}/int8_only"), |b| {
        b.iter(|| black_box(q.predict_int8(black_box(&qx))))
    });
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

/// Batch-1 `predict` and a batch-32 SGD step of `N` on the peers' inputs.
fn kind<N>(c: &mut Criterion, name: &str, mut net: N)
where
    N: Trainable<Elem = f32> + Sync,
{
    const KIND_BATCH: usize = 32;
    let mut g = group(c, "layer_kinds");
    let flat = data(KIND_BATCH * N::INPUT_LEN, 21);
    let xs: Vec<N::Input> = flat
        .chunks_exact(N::INPUT_LEN)
        .map(|chunk| {
            let mut x = N::Input::zeroed();
            x.as_flat_mut().copy_from_slice(chunk);
            x
        })
        .collect();
    let ts = labels(KIND_BATCH, 22);
    g.bench_function(BenchmarkId::new("predict_b1", name), |b| {
        b.iter(|| black_box(net.predict(black_box(&xs[0]))))
    });
    let mut stepper = Stepper::<N>::new(0);
    let mut opt = Sgd::new(0.01);
    g.bench_function(BenchmarkId::new("train_b32", name), |b| {
        b.iter(|| {
            let stats = stepper.step(&mut net, black_box(&xs), &ts, &mut opt);
            black_box(stats.expect("a finite step"))
        })
    });
    g.finish();
}

fn layer_kinds(c: &mut Criterion) {
    kind(c, "dwconv3_32x16x16", Depthwise::<f32>::seeded(0));
    kind(c, "conv3_groups4_32x16x16", Grouped::<f32>::seeded(0));
    kind(c, "conv3_s2_same_32x16x16", StridedSame::<f32>::seeded(0));
    kind(c, "conv3_s2_floor_32x16x16", StridedFloor::<f32>::seeded(0));
    kind(c, "conv3_dilation2_32x16x16", Dilated::<f32>::seeded(0));
    kind(c, "conv1d5_same_32x256", Conv1d::<f32>::seeded(0));
    kind(c, "global_maxpool_32x16x16", GlobalMax::<f32>::seeded(0));
    kind(c, "residual_identity_32x16x16", Residual::<f32>::seeded(0));
    kind(c, "residual_shortcut_32x16x16", Shortcut::<f32>::seeded(0));
    kind(c, "resnet8", models::ResNet8::<f32>::seeded(0));
    kind(c, "ds_cnn", models::DsCnn::<f32>::seeded(0));
}

criterion_group!(
    benches,
    train_cnn,
    train_mlp,
    predict,
    int8,
    guard,
    layer_kinds
);
criterion_main!(benches);
