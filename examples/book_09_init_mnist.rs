//! # 9. Initialization on MNIST
//!
//! The 5-layer ReLU MLP of experiment 7 (four hidden layers of 100),
//! trained with SGD (lr 0.01, batch 128, 2,000 iterations) from three
//! initializations: N(0, 0.01²), Xavier and He. With std 0.01 the signal
//! shrinks a hundredfold per layer, the gradients with it, and the network
//! does not learn (the loss stays at ln 10 ≈ 2.30); Xavier and He both
//! learn, He fastest, as the classic shows.
//!
//! Run: `cargo run --release --example book_09_init_mnist` (MNIST from
//! `MNIST_DIR`, else synthetic digits; `--smoke`: 10 iterations). Figure:
//! `book_09_init_mnist.png`, the training loss of each, smoothed over 20
//! iterations.

#[path = "book/mod.rs"]
mod book;

use std::process::ExitCode;

use constnet::data::{Batches, Dataset, InMemory};
use constnet::network;
use constnet::optim::Sgd;
use constnet::plot::{self, plotters::prelude::*};
use constnet::train::Stepper;

network! {
    /// Weights from N(0, 0.01²).
    pub struct Std001: [784] =>
        affine(100) -> relu -> affine(100) -> relu -> affine(100) -> relu ->
        affine(100) -> relu -> affine(10) -> softmax, init = normal(0.01)
    /// Xavier (Glorot) normal.
    pub struct Xavier: [784] =>
        affine(100) -> relu -> affine(100) -> relu -> affine(100) -> relu ->
        affine(100) -> relu -> affine(10) -> softmax, init = xavier_normal
    /// He normal, the default before ReLU.
    pub struct He: [784] =>
        affine(100) -> relu -> affine(100) -> relu -> affine(100) -> relu ->
        affine(100) -> relu -> affine(10) -> softmax
}

type Image = [f32; 784];

/// The loss of every iteration.
fn train<N>(data: &InMemory<Image, usize>, iterations: usize) -> Result<Vec<f64>, String>
where
    N: constnet::Trainable<Elem = f32, Input = Image> + Sync,
    N: From<u64>,
{
    let mut net = N::from(0);
    let mut stepper = Stepper::<N>::new(0);
    let mut opt = Sgd::new(0.01);
    let batches = Batches::new(data.len(), 128, 0);
    let (mut xs, mut ts, mut order) = (Vec::new(), Vec::new(), Vec::new());
    let mut losses = Vec::with_capacity(iterations);
    let mut epoch = 0;
    while losses.len() < iterations {
        batches.epoch_into(epoch, &mut order);
        for chunk in order.chunks(128).take(iterations - losses.len()) {
            data.gather_into(chunk, &mut xs, &mut ts);
            let stats = stepper
                .step(&mut net, &xs, &ts, &mut opt)
                .map_err(|e| e.to_string())?;
            losses.push(stats.loss);
        }
        epoch += 1;
    }
    Ok(losses)
}

/// Each network seeded alike.
macro_rules! seeded_from {
    ($($net:ident),*) => {$(
        impl From<u64> for $net {
            fn from(seed: u64) -> Self {
                $net::<f32>::seeded(seed)
            }
        }
    )*};
}
seeded_from!(Std001, Xavier, He);

/// Mean of each window of `n` values, ending at each index.
fn smooth(values: &[f64], n: usize) -> Vec<(f64, f64)> {
    (0..values.len())
        .map(|i| {
            let w = &values[i.saturating_sub(n - 1)..=i];
            (i as f64, w.iter().sum::<f64>() / w.len() as f64)
        })
        .collect()
}

fn main() -> ExitCode {
    let args = book::Args::parse_for(
        "book_09_init_mnist",
        "std 0.01, Xavier and He initialization on MNIST",
    );
    let (data, _, source) =
        book::shared::digits::<Image>(args.smoke, if args.smoke { 200 } else { 12_000 });
    let iterations = if args.smoke { 10 } else { 2000 };
    let runs = [
        (
            "std = 0.01",
            train::<Std001>(&data, iterations),
            RGBColor(0, 120, 0),
        ),
        ("Xavier", train::<Xavier>(&data, iterations), BLUE),
        ("He", train::<He>(&data, iterations), RED),
    ];
    println!(
        "{source}, SGD lr 0.01, {iterations} iterations of batch 128; mean loss of the last 100:"
    );
    let mut curves = Vec::new();
    for (name, run, color) in runs {
        match run {
            Ok(losses) => {
                let tail = &losses[losses.len().saturating_sub(100)..];
                println!(
                    "  {name:<11} {:.4}",
                    tail.iter().sum::<f64>() / tail.len() as f64
                );
                curves.push((name, color, smooth(&losses, 20)));
            }
            Err(e) => {
                eprintln!("error: {name}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let file = args.figure("book_09_init_mnist.png");
    let drawn = plot::write_png(&file, (640, 420), |area| {
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!("initialization on {source}: training loss"),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(44)
            .build_cartesian_2d(0.0..iterations as f64, 0.0..2.5)?;
        chart
            .configure_mesh()
            .x_desc("iteration")
            .y_desc("loss (smoothed)")
            .draw()?;
        for (name, color, points) in &curves {
            let color = *color;
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    color.stroke_width(2),
                ))?
                .label(*name)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color));
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE)
            .draw()?;
        Ok(())
    });
    if let Err(e) = drawn {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    println!("figure: {}", file.display());
    ExitCode::SUCCESS
}
