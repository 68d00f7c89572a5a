//! Data loading: all of MNIST (70,000 images) from the four gzip files, decoded
//! and converted to `f32` in `[0, 1]`. Needs `MNIST_DIR`; without it the
//! benchmark prints a notice and measures nothing.
//!
//! Run with `MNIST_DIR=../shared/data/mnist cargo bench --bench data`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

use constnet::data::Mnist;

fn mnist_load(c: &mut Criterion) {
    let Some(dir) = Mnist::dir_from_env().filter(|d| d.is_dir()) else {
        println!("skipped: set MNIST_DIR to the directory holding the MNIST gzip files");
        return;
    };
    let mut group = c.benchmark_group("data");
    group.sample_size(10);
    group.bench_function("mnist_load_gz", |b| {
        b.iter(|| Mnist::<[[[f32; 28]; 28]; 1]>::load(black_box(&dir)).expect("MNIST loads"))
    });
    group.finish();
}

criterion_group!(benches, mnist_load);
criterion_main!(benches);
