//! Loads the real MNIST from `MNIST_DIR` (gzip IDX files) and checks its
//! well-known facts. Skipped, with a notice, when `MNIST_DIR` is unset or
//! does not exist. Run alone:
//! `MNIST_DIR=../shared/data/mnist cargo test -p constnet-runtime --test integration mnist`.

use std::path::PathBuf;

use constnet_runtime::data::{Dataset, Mnist};

fn mnist_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("MNIST_DIR").map(PathBuf::from);
    match dir {
        Some(dir) if dir.is_dir() => Some(dir),
        Some(dir) => {
            println!("skipped: MNIST_DIR={} is not a directory", dir.display());
            None
        }
        None => {
            println!("skipped: set MNIST_DIR to the directory holding the MNIST files");
            None
        }
    }
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
fn mnist_matches_known_counts_labels_and_statistics() {
    let Some(dir) = mnist_dir() else { return };
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
fn mnist_loads_as_cnn_input_and_standardized() {
    let Some(dir) = mnist_dir() else { return };
    let images = Mnist::<[[[f32; 28]; 28]; 1]>::load_standardized(&dir).unwrap();
    let flat = Mnist::<[f32; 784]>::load(&dir).unwrap();
    // Same pixel, two layouts: row 14, column 14 of test image 0.
    let standardized = images.test.inputs()[0][0][14][14];
    let unit = flat.test.inputs()[0][14 * 28 + 14];
    assert!((standardized - (unit - 0.1307) / 0.3081).abs() < 1e-5);
    let (x, t) = images.test.get(9_999);
    assert_eq!((x.len(), *t < 10), (1, true));
}
