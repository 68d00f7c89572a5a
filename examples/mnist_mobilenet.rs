//! A MobileNet-style network on MNIST: depthwise-separable blocks (a
//! depthwise 3×3 then a pointwise 1×1 convolution, each followed by batch
//! norm and ReLU), strided depthwise downsampling with PyTorch's floor
//! rounding, residual connections around two of the blocks, global average
//! pooling, and convolutions without bias before batch norm: the building
//! blocks of the models people deploy on microcontrollers, on a data set
//! anyone can check.
//!
//! Run: `cargo run --release --example mnist_mobilenet` (MNIST from
//! `MNIST_DIR` or `./data/mnist`; without it, built-in synthetic digits).
//! Flags: `--epochs N` (default 6), `--smoke` (a few steps on synthetic
//! data). Prints the layer table, test accuracy after every epoch with the
//! wall time, and the final accuracy; with MNIST it reaches 99% in a few
//! epochs.

use std::process::ExitCode;
use std::time::Instant;

use constnet::data::transform::random_shift_batch;
use constnet::data::{Dataset, InMemory, Mnist, SyntheticDigits};
use constnet::network;
use constnet::optim::{Adam, Cosine, Scheduled};
use constnet::train::{Progress, Trainer};

network! {
    /// Depthwise-separable blocks with residual connections: 10,474
    /// trainable parameters, about 0.84 million multiply-adds per image.
    pub struct MobileDigits: [1, 28, 28] =>
        conv(16, 3, pad = 1, bias = false) -> batchnorm -> relu
        -> dwconv(3, stride = 2, pad = 1, round = floor, bias = false) -> batchnorm -> relu
        -> conv(32, 1, bias = false) -> batchnorm -> relu
        -> residual(
            dwconv(3, pad = 1, bias = false) -> batchnorm -> relu
                -> conv(32, 1, bias = false) -> batchnorm)
        -> relu
        -> dwconv(3, stride = 2, pad = 1, round = floor, bias = false) -> batchnorm -> relu
        -> conv(64, 1, bias = false) -> batchnorm -> relu
        -> residual(
            dwconv(3, pad = 1, bias = false) -> batchnorm -> relu
                -> conv(64, 1, bias = false) -> batchnorm)
        -> relu
        -> global_avgpool -> affine(10) -> softmax
}

type Image = [[[f32; 28]; 28]; 1];

/// Train and test sets: MNIST when found, else synthetic digits.
fn load(smoke: bool) -> (InMemory<Image, usize>, InMemory<Image, usize>, &'static str) {
    if !smoke && let Some(dir) = Mnist::dir_from_env() {
        match Mnist::<Image>::load(&dir) {
            Ok(m) => return (m.train, m.test, "MNIST"),
            Err(e) => eprintln!("could not load MNIST from {}: {e}", dir.display()),
        }
    }
    let (train_n, test_n) = if smoke { (200, 100) } else { (12_000, 2_000) };
    eprintln!("MNIST not found; training on {train_n} built-in synthetic digits instead");
    (
        SyntheticDigits::new(train_n, 1).generate(),
        SyntheticDigits::new(test_n, 2).generate(),
        "synthetic digits",
    )
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let smoke = args.iter().any(|a| a == "--smoke");
    let epochs = match args
        .iter()
        .position(|a| a == "--epochs")
        .map(|i| args.get(i + 1))
    {
        None => 6,
        Some(Some(n)) if n.parse::<usize>().is_ok_and(|n| n > 0) => n.parse().unwrap_or(6),
        Some(_) => {
            eprintln!("error: --epochs needs a whole number of at least 1");
            return ExitCode::from(2);
        }
    };
    let start = Instant::now();
    let (train, test, source) = load(smoke);
    let mut net = MobileDigits::<f32>::seeded(1);
    println!("{}", net.summary());
    println!(
        "data: {source}, {} training and {} test images",
        train.len(),
        test.len()
    );
    let batch = 64;
    let epochs = if smoke { 1 } else { epochs };
    let steps = epochs * train.len().div_ceil(batch);
    let lr = 0.004;
    let mut opt = Scheduled::new(
        Adam::new(lr),
        Cosine {
            total_steps: steps,
            min_lr: 0.0,
        },
        lr,
    );
    let trainer = Trainer::new()
        .epochs(epochs)
        .batch_size(batch)
        .seed(1)
        .validation_label("test")
        .progress(Progress::Auto);
    let history = trainer.fit_with(&mut net, &train, Some(&test), &mut opt, |xs, rng| {
        if !smoke {
            random_shift_batch(xs, 2, rng);
        }
    });
    let history = match history {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut elapsed = 0.0;
    for record in &history.epochs {
        elapsed += record.seconds;
        if let Some(acc) = record.val_accuracy {
            println!(
                "epoch {}: test accuracy {:.2}% ({elapsed:.0} s of training)",
                record.epoch,
                100.0 * acc
            );
        }
    }
    let last = history.last().and_then(|r| r.val_accuracy).unwrap_or(0.0);
    println!(
        "test accuracy {:.2}% after {epochs} epochs, {:.0} s",
        100.0 * last,
        start.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}
