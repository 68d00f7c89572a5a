//! # 13. SimpleConvNet on MNIST, and what its first layer learns
//!
//! `conv(30, 5) -> relu -> pool(2) -> affine(100) -> relu -> affine(10)`,
//! trained as `mnist_cnn` trains it (Adam, lr 0.002 cosine-annealed to 0,
//! batch 100, random shifts of up to 2 pixels, 8 epochs): the classic
//! reaches about 99% test accuracy. Before training, the 30 filters of
//! the first layer are noise. Eight epochs of Adam move them by less than
//! their initial spread, so the trained filters still look much like the
//! random ones; the change itself (after − before) shows what was learned:
//! smooth light and dark bands, oriented edge and blob detectors.
//!
//! Run: `cargo run --release --example book_13_simple_conv_net` (MNIST from
//! `MNIST_DIR`, else synthetic digits; `--smoke`: one epoch of 300
//! synthetic digits). Figure: `book_13_simple_conv_net.png`, the 30
//! filters before, after, and the change, each filter scaled to its own
//! range (black lowest, white highest).

#[path = "book/mod.rs"]
mod book;

use std::process::ExitCode;

use constnet::data::Dataset;
use constnet::data::transform::random_shift_batch;
use constnet::network;
use constnet::network::params::tensor;
use constnet::optim::{Adam, Cosine, Scheduled};
use constnet::plot::{self, plotters::prelude::*};
use constnet::text::count;
use constnet::train::{Progress, Trainer};

network! {
    /// The classic convolutional network.
    pub struct SimpleConvNet: [1, 28, 28] =>
        conv(30, 5) -> relu -> pool(2) -> affine(100) -> relu -> affine(10) -> softmax
}

type Image = [[[f32; 28]; 28]; 1];

fn filters(net: &SimpleConvNet) -> Vec<f32> {
    tensor(net, "conv1.weight")
        .map(<[f32]>::to_vec)
        .unwrap_or_default()
}

fn main() -> ExitCode {
    let args = book::Args::parse_for(
        "book_13_simple_conv_net",
        "SimpleConvNet on MNIST and its first-layer filters before and after training",
    );
    let (train, test, source) =
        book::shared::digits::<Image>(args.smoke, if args.smoke { 300 } else { 12_000 });
    let epochs = if args.smoke { 1 } else { 8 };
    let mut net = SimpleConvNet::<f32>::seeded(1);
    let before = filters(&net);
    let steps = epochs * train.len().div_ceil(100);
    let cosine = Cosine {
        total_steps: steps,
        min_lr: 0.0,
    };
    let mut opt = Scheduled::new(Adam::new(0.002), cosine, 0.002);
    let trainer = Trainer::new()
        .epochs(epochs)
        .batch_size(100)
        .seed(1)
        .progress(Progress::Lines);
    let history = match trainer.fit_with(&mut net, &train, Some(&test), &mut opt, |xs, rng| {
        random_shift_batch(xs, 2, rng)
    }) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let accuracy = history
        .epochs
        .last()
        .and_then(|e| e.val_accuracy)
        .unwrap_or(f64::NAN);
    println!(
        "{source}: test accuracy after {}: {:.2}%",
        count(epochs, "epoch", "epochs"),
        100.0 * accuracy
    );
    let after = filters(&net);
    let change: Vec<f32> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    let rms = |w: &[f32]| (w.iter().map(|v| v * v).sum::<f32>() / w.len() as f32).sqrt();
    println!(
        "first-layer filters: RMS {:.3} before, {:.3} after, change {:.3}",
        rms(&before),
        rms(&after),
        rms(&change)
    );
    let file = args.figure("book_13_simple_conv_net.png");
    let drawn = plot::write_png(&file, (1140, 340), |area| {
        let titles = [
            "before training",
            "after training",
            "change (after - before)",
        ];
        let weights = [&before, &after, &change];
        for ((panel, weights), title) in area
            .split_evenly((1, 3))
            .into_iter()
            .zip(weights)
            .zip(titles)
        {
            let panel = panel.titled(title, ("sans-serif", 18))?;
            for (k, cell) in panel
                .margin(6, 6, 6, 6)
                .split_evenly((5, 6))
                .iter()
                .enumerate()
            {
                let w = &weights[k * 25..(k + 1) * 25];
                let (lo, hi) = w
                    .iter()
                    .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
                let (cw, ch) = cell.dim_in_pixel();
                let side = (cw.min(ch) as i32 - 4) / 5;
                for (i, &v) in w.iter().enumerate() {
                    let g = (255.0 * (v - lo) / (hi - lo).max(1e-12)) as u8;
                    let (r, c) = ((i / 5) as i32, (i % 5) as i32);
                    cell.draw(&Rectangle::new(
                        [(c * side, r * side), ((c + 1) * side, (r + 1) * side)],
                        RGBColor(g, g, g).filled(),
                    ))?;
                }
            }
        }
        Ok(())
    });
    if let Err(e) = drawn {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    println!("figure: {}", file.display());
    ExitCode::SUCCESS
}
