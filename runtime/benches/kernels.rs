//! Kernel benchmarks at SimpleConvNet sizes, calling `constnet::kernels::*`
//! directly on flat buffers viewed through `constnet::network::view`, so a
//! kernel change is measured without the network code around it.
//!
//! - conv2d: 1×28×28 → 30×24×24, 5×5, stride 1, no padding, ReLU folded in:
//!   plain forward, forward fused with the 2×2 max pool (training, with
//!   argmax, at batch 100; inference at batch 1), backward fused with the
//!   pool, plain backward. The first layer needs no input gradient, so the
//!   backward passes get `dx = None`, as in generated code.
//! - affine 4320 → 100 (SimpleConvNet's fc1), ReLU folded in: forward and
//!   backward (with `dx`, which feeds the conv backward) at batch 100 and 1.
//! - pool2d: max pool 2×2 of 30×24×24, forward (with argmax) and backward.
//! - activation: ReLU forward and backward in place over 100×100 values;
//!   `new_activations`: ReLU6 and hard sigmoid (derivative from the output)
//!   and SiLU, GELU and hard swish (derivative from the input), forward
//!   and backward over the same values.
//! - softmax: forward in place and backward over 100 rows of 10.
//!
//! Batch-100 groups report throughput in samples. Run with
//! `cargo bench --bench kernels` (a couple of minutes), or one group with e.g.
//! `cargo bench --bench kernels -- conv2d`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    BenchmarkGroup, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
    measurement::WallTime,
};

mod common;

use common::data;
use constnet::kernels::activation::{
    self, Activation, Gelu, HardSigmoid, HardSwish, InputActivation, Relu, Relu6, Silu,
};
use constnet::kernels::{affine, conv2d, pool2d, softmax};
use constnet::network::view;

const BATCH: usize = 100;

/// SimpleConvNet's shapes: input, convolution, pooled output, fc1, classes.
const C: usize = 1;
const H: usize = 28;
const F: usize = 30;
const K: usize = 5;
const O: usize = H - K + 1; // 24
const Q: usize = O / 2; // 12
const FLAT: usize = F * Q * Q; // 4320
const HIDDEN: usize = 100;
const CLASSES: usize = 10;

/// A group with short measurements, so the whole bench stays within minutes.
/// Flat sampling runs the same iteration count in every sample: criterion's
/// default linear sampling needs at least 210 iterations, which for the
/// tens-of-milliseconds batch-100 conv kernels would take most of a minute.
fn group<'a>(c: &'a mut Criterion, name: &str, batch: usize) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Elements(batch as u64));
    g
}

fn conv(c: &mut Criterion) {
    let x = data(BATCH * C * H * H, 1);
    let x = view::images::<f32, C, H, H>(&x);
    // Weights scaled like a fan-in initialisation, so about half the ReLUs fire.
    let w: Vec<f32> = data(F * C * K * K, 4).iter().map(|v| v * 0.2).collect();
    let w = view::kernel::<f32, F, C, K, K>(&w);
    let b = data(F, 5);
    let b = view::vector::<f32, F>(&b);
    let mut y = vec![0.0; BATCH * F * O * O];
    let y = view::images_mut::<f32, F, O, O>(&mut y);
    let mut pooled = vec![0.0; BATCH * F * Q * Q];
    let pooled = view::images_mut::<f32, F, Q, Q>(&mut pooled);
    let mut argmax = vec![0u32; BATCH * F * Q * Q];
    let argmax = view::images_mut::<u32, F, Q, Q>(&mut argmax);
    let dy_pooled = data(BATCH * F * Q * Q, 6);
    let dy_pooled = view::images::<f32, F, Q, Q>(&dy_pooled);
    let dy = data(BATCH * F * O * O, 7);
    let dy = view::images::<f32, F, O, O>(&dy);
    let mut dw = vec![0.0; F * C * K * K];
    let dw = view::kernel_mut::<f32, F, C, K, K>(&mut dw);
    let mut db = vec![0.0; F];
    let db = view::vector_mut::<f32, F>(&mut db);

    // The fused backward reads the forward's pooled output and argmax: fill
    // them here, so the backward is measured on real ones even when it is
    // selected alone by a filter.
    conv2d::forward_max_pool::<f32, Relu, C, H, H, F, 1, C, K, K, 1, 1, 0, 0, 1, 1, O, O, 2, 2, Q, Q>(
        w,
        Some(b),
        x,
        pooled,
        Some(&mut *argmax),
        Relu,
    );

    let mut g = group(c, "conv2d_1x28x28_30k5_b100", BATCH);
    g.bench_function("forward_relu", |bn| {
        bn.iter(|| {
            conv2d::forward::<f32, Relu, C, H, H, F, 1, C, K, K, 1, 1, 0, 0, 1, 1, O, O>(
                w,
                Some(b),
                black_box(x),
                y,
                Relu,
            );
            black_box(&mut *y);
        })
    });
    g.bench_function("forward_relu_maxpool2", |bn| {
        bn.iter(|| {
            conv2d::forward_max_pool::<
                f32,
                Relu,
                C,
                H,
                H,
                F,
                1,
                C,
                K,
                K,
                1,
                1,
                0,
                0,
                1,
                1,
                O,
                O,
                2,
                2,
                Q,
                Q,
            >(w, Some(b), black_box(x), pooled, Some(&mut *argmax), Relu);
            black_box((&mut *pooled, &mut *argmax));
        })
    });
    g.bench_function("backward_relu_maxpool2", |bn| {
        bn.iter(|| {
            conv2d::backward_max_pool::<
                f32,
                Relu,
                C,
                H,
                H,
                F,
                1,
                C,
                K,
                K,
                1,
                1,
                0,
                0,
                1,
                1,
                O,
                O,
                2,
                2,
                Q,
                Q,
            >(
                w,
                black_box(x),
                pooled,
                argmax,
                black_box(dy_pooled),
                Relu,
                dw,
                Some(&mut *db),
                None,
            );
            black_box((&mut *dw, &mut *db));
        })
    });
    g.bench_function("backward", |bn| {
        bn.iter(|| {
            conv2d::backward::<f32, C, H, H, F, 1, C, K, K, 1, 1, 0, 0, 1, 1, O, O>(
                w,
                black_box(x),
                black_box(dy),
                dw,
                Some(&mut *db),
                None,
            );
            black_box((&mut *dw, &mut *db));
        })
    });
    g.finish();

    // Inference: what `predict` runs for SimpleConvNet's first layer.
    let mut g = group(c, "conv2d_1x28x28_30k5_b1", 1);
    g.bench_function("forward_relu_maxpool2", |bn| {
        bn.iter(|| {
            conv2d::forward_max_pool::<
                f32,
                Relu,
                C,
                H,
                H,
                F,
                1,
                C,
                K,
                K,
                1,
                1,
                0,
                0,
                1,
                1,
                O,
                O,
                2,
                2,
                Q,
                Q,
            >(w, Some(b), black_box(&x[..1]), &mut pooled[..1], None, Relu);
            black_box(&mut pooled[0]);
        })
    });
    g.finish();
}

fn affine_fc1(c: &mut Criterion) {
    let w: Vec<f32> = data(HIDDEN * FLAT, 8).iter().map(|v| v * 0.03).collect();
    let w = view::mat::<f32, HIDDEN, FLAT>(&w);
    let b = data(HIDDEN, 9);
    let b = view::vector::<f32, HIDDEN>(&b);
    let x = data(BATCH * FLAT, 10);
    let x = view::rows::<f32, FLAT>(&x);
    let dy = data(BATCH * HIDDEN, 11);
    let dy = view::rows::<f32, HIDDEN>(&dy);
    let mut y = vec![0.0; BATCH * HIDDEN];
    let y = view::rows_mut::<f32, HIDDEN>(&mut y);
    let mut dx = vec![0.0; BATCH * FLAT];
    let dx = view::rows_mut::<f32, FLAT>(&mut dx);
    let mut dw = vec![0.0; HIDDEN * FLAT];
    let dw = view::mat_mut::<f32, HIDDEN, FLAT>(&mut dw);
    let mut db = vec![0.0; HIDDEN];
    let db = view::vector_mut::<f32, HIDDEN>(&mut db);

    for batch in [BATCH, 1] {
        let mut g = group(c, &format!("affine_4320x100_b{batch}"), batch);
        g.bench_function("forward_relu", |bn| {
            bn.iter(|| {
                affine::forward::<f32, Relu, FLAT, HIDDEN>(
                    w,
                    Some(b),
                    black_box(&x[..batch]),
                    &mut y[..batch],
                    Relu,
                );
                black_box(&mut *y);
            })
        });
        g.bench_function("backward_with_dx", |bn| {
            bn.iter(|| {
                affine::backward::<f32, FLAT, HIDDEN>(
                    w,
                    black_box(&x[..batch]),
                    black_box(&dy[..batch]),
                    dw,
                    Some(&mut *db),
                    Some(&mut dx[..batch]),
                );
                black_box((&mut *dw, &mut *db, &mut *dx));
            })
        });
        g.finish();
    }
}

fn pool(c: &mut Criterion) {
    let x = data(BATCH * F * O * O, 12);
    let x = view::images::<f32, F, O, O>(&x);
    let mut y = vec![0.0; BATCH * F * Q * Q];
    let y = view::images_mut::<f32, F, Q, Q>(&mut y);
    let mut argmax = vec![0u32; BATCH * F * Q * Q];
    let argmax = view::images_mut::<u32, F, Q, Q>(&mut argmax);
    let dy = data(BATCH * F * Q * Q, 13);
    let dy = view::images::<f32, F, Q, Q>(&dy);
    let mut dx = vec![0.0; BATCH * F * O * O];
    let dx = view::images_mut::<f32, F, O, O>(&mut dx);

    pool2d::max_forward::<f32, F, O, O, 2, 2, 2, 2, 0, 0, Q, Q>(x, y, Some(&mut *argmax));

    let mut g = group(c, "maxpool2_30x24x24_b100", BATCH);
    g.bench_function("forward", |bn| {
        bn.iter(|| {
            pool2d::max_forward::<f32, F, O, O, 2, 2, 2, 2, 0, 0, Q, Q>(
                black_box(x),
                y,
                Some(&mut *argmax),
            );
            black_box((&mut *y, &mut *argmax));
        })
    });
    g.bench_function("backward", |bn| {
        bn.iter(|| {
            pool2d::max_backward::<f32, F, O, O, Q, Q>(argmax, black_box(dy), dx);
            black_box(&mut *dx);
        })
    });
    g.finish();
}

fn relu(c: &mut Criterion) {
    let x = data(BATCH * HIDDEN, 14);
    let dy0 = data(BATCH * HIDDEN, 15);
    let mut v = x.clone();
    let mut dy = dy0.clone();
    let mut g = group(c, "relu_100_b100", BATCH);
    // The in-place kernels are idempotent on their own output (ReLU of a ReLU
    // output, and a mask of a masked gradient), so reusing buffers measures
    // the same work every iteration.
    g.bench_function("forward_in_place", |bn| {
        bn.iter(|| {
            activation::forward_in_place(black_box(&mut v[..]), Relu);
            black_box(&mut v);
        })
    });
    g.bench_function("backward_in_place", |bn| {
        bn.iter(|| {
            activation::backward_in_place(black_box(&v[..]), black_box(&mut dy[..]), Relu);
            black_box(&mut dy);
        })
    });
    g.finish();
}

fn new_activations(c: &mut Criterion) {
    let x = data(BATCH * HIDDEN, 14);
    let dy = data(BATCH * HIDDEN, 15);
    let mut y = vec![0.0; x.len()];
    let mut dx = vec![0.0; x.len()];
    let mut g = group(c, "activations_100_b100", BATCH);
    fn output_form<A: Activation<f32>>(
        g: &mut BenchmarkGroup<'_, WallTime>,
        name: &str,
        act: A,
        (x, dy, y, dx): (&[f32], &[f32], &mut [f32], &mut [f32]),
    ) {
        g.bench_function(format!("{name}_forward"), |bn| {
            bn.iter(|| activation::forward(black_box(x), black_box(&mut *y), act))
        });
        g.bench_function(format!("{name}_backward"), |bn| {
            bn.iter(|| {
                dx.copy_from_slice(dy);
                activation::backward_in_place(black_box(&*y), black_box(&mut *dx), act)
            })
        });
    }
    fn input_form<A: InputActivation<f32>>(
        g: &mut BenchmarkGroup<'_, WallTime>,
        name: &str,
        act: A,
        (x, dy, y, dx): (&[f32], &[f32], &mut [f32], &mut [f32]),
    ) {
        g.bench_function(format!("{name}_forward"), |bn| {
            bn.iter(|| activation::forward_input(black_box(x), black_box(&mut *y), act))
        });
        g.bench_function(format!("{name}_backward"), |bn| {
            bn.iter(|| {
                activation::backward_input(black_box(x), black_box(dy), black_box(&mut *dx), act)
            })
        });
    }
    output_form(&mut g, "relu6", Relu6, (&x, &dy, &mut y, &mut dx));
    output_form(
        &mut g,
        "hard_sigmoid",
        HardSigmoid,
        (&x, &dy, &mut y, &mut dx),
    );
    input_form(&mut g, "silu", Silu, (&x, &dy, &mut y, &mut dx));
    input_form(&mut g, "gelu", Gelu, (&x, &dy, &mut y, &mut dx));
    input_form(&mut g, "hard_swish", HardSwish, (&x, &dy, &mut y, &mut dx));
    g.finish();
}

fn softmax_rows(c: &mut Criterion) {
    let z = data(BATCH * CLASSES, 16);
    let z = view::rows::<f32, CLASSES>(&z);
    let dy = data(BATCH * CLASSES, 17);
    let dy = view::rows::<f32, CLASSES>(&dy);
    let mut y = z.to_vec();
    let mut dx = vec![[0.0; CLASSES]; BATCH];
    let mut g = group(c, "softmax_10_b100", BATCH);
    g.bench_function("forward_in_place", |bn| {
        bn.iter(|| {
            // Restore the logits first: softmax of a softmax is a different input.
            y.copy_from_slice(z);
            softmax::forward_in_place::<f32, CLASSES>(black_box(&mut y[..]));
            black_box(&mut y);
        })
    });
    g.bench_function("backward", |bn| {
        bn.iter(|| {
            softmax::backward::<f32, CLASSES>(black_box(&y[..]), black_box(dy), &mut dx);
            black_box(&mut dx);
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    conv,
    affine_fc1,
    pool,
    relu,
    new_activations,
    softmax_rows
);
criterion_main!(benches);
