//! Loads the real MNIST from `MNIST_DIR` (gzip IDX files) and checks its
//! well-known facts. Ignored unless asked for, so a machine without MNIST
//! shows them as ignored (CI runs them): `MNIST_DIR=../shared/data/mnist
//! cargo test -p constnet-runtime --test integration mnist -- --ignored`.

use std::path::PathBuf;

use constnet_runtime::data::{Dataset, Mnist};

fn mnist_dir() -> PathBuf {
    let dir = PathBuf::from(std::env::var_os("MNIST_DIR").expect("MNIST_DIR is set"));
    assert!(
        dir.is_dir(),
        "MNIST_DIR={} is not a directory",
        dir.display()
    );
    dir
}

/// Mean and population standard deviation of all pixels.
fn pixel_stats(data: &[[f32; 784]]) -> (f64, f64) {
    let n = (data.len() * 784) as f64;
    let mean = data.iter().flatten().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = data
        .iter()
        .flatten()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean, var.sqrt())
}

#[test]
#[ignore = "needs MNIST: set MNIST_DIR and run with --ignored (CI does)"]
fn mnist_matches_known_counts_labels_and_statistics() {
    let dir = mnist_dir();
    let mnist = Mnist::<[f32; 784]>::load(&dir).unwrap();
    assert_eq!(mnist.train.len(), 60_000);
    assert_eq!(mnist.test.len(), 10_000);
    assert_eq!(mnist.train.targets()[0], 5);
    assert_eq!(mnist.test.targets()[0], 7);
    assert_eq!(mnist.train.class_counts(10).iter().sum::<usize>(), 60_000);
    assert!(
        mnist
            .train
            .inputs()
            .iter()
            .flatten()
            .all(|v| (0.0..=1.0).contains(v))
    );

    let (mean, std) = pixel_stats(mnist.train.inputs());
    assert!((mean - 0.1307).abs() < 1e-3, "mean {mean}");
    assert!((std - 0.3081).abs() < 1e-3, "std {std}");
}

#[test]
#[ignore = "needs MNIST: set MNIST_DIR and run with --ignored (CI does)"]
fn mnist_loads_as_cnn_input_and_standardized() {
    let dir = mnist_dir();
    let images = Mnist::<[[[f32; 28]; 28]; 1]>::load_standardized(&dir).unwrap();
    let flat = Mnist::<[f32; 784]>::load(&dir).unwrap();
    // Same pixel, two layouts: row 14, column 14 of test image 0.
    let standardized = images.test.inputs()[0][0][14][14];
    let unit = flat.test.inputs()[0][14 * 28 + 14];
    assert!((standardized - (unit - 0.1307) / 0.3081).abs() < 1e-5);
    let (x, t) = images.test.get(9_999);
    assert_eq!((x.len(), *t < 10), (1, true));
}
