//! # 7. Optimizers on MNIST
//!
//! The classic comparison: a 5-layer ReLU MLP (four hidden layers of 100,
//! He initialization), batch 128, 2,000 iterations, with SGD (lr 0.01),
//! Momentum (0.01), AdaGrad (0.01) and Adam (0.001). SGD learns slowest;
//! the other three reach a training loss several times lower in the same
//! number of steps, AdaGrad often fastest at first.
//!
//! Run: `cargo run --release --example book_07_optimizers_mnist` (MNIST
//! from `MNIST_DIR`, else synthetic digits; `--smoke`: 10 iterations).
//! Figure: `book_07_optimizers_mnist.png`, the training loss of each,
//! smoothed over 20 iterations.

#[path = "book/mod.rs"]
mod book;

use std::process::ExitCode;

use constnet::data::{Batches, Dataset, InMemory};
use constnet::network;
use constnet::optim::{AdaGrad, Adam, Momentum, Optimizer, Sgd};
use constnet::plot::{self, plotters::prelude::*};
use constnet::train::Stepper;

network! {
    /// Five layers: four hidden ReLU layers of 100 units.
    pub struct Mlp5: [784] =>
        affine(100) -> relu -> affine(100) -> relu -> affine(100) -> relu ->
        affine(100) -> relu -> affine(10) -> softmax
}

type Image = [f32; 784];

/// The loss of every iteration.
fn train(
    data: &InMemory<Image, usize>,
    mut opt: impl Optimizer<f32>,
    iterations: usize,
) -> Result<Vec<f64>, String> {
    let mut net = Mlp5::<f32>::seeded(0);
    let mut stepper = Stepper::<Mlp5>::new(0);
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
        "book_07_optimizers_mnist",
        "SGD, Momentum, AdaGrad and Adam on MNIST",
    );
    let (data, _, source) =
        book::shared::digits::<Image>(args.smoke, if args.smoke { 200 } else { 12_000 });
    let iterations = if args.smoke { 10 } else { 2000 };
    let runs = [
        (
            "SGD",
            train(&data, Sgd::new(0.01), iterations),
            RGBColor(0, 120, 0),
        ),
        (
            "Momentum",
            train(&data, Momentum::new(0.01, 0.9), iterations),
            BLUE,
        ),
        (
            "AdaGrad",
            train(&data, AdaGrad::new(0.01), iterations),
            RGBColor(230, 140, 0),
        ),
        ("Adam", train(&data, Adam::new(0.001), iterations), RED),
    ];
    println!("{source}, {iterations} iterations of batch 128; mean loss of the last 100:");
    let mut curves = Vec::new();
    for (name, run, color) in runs {
        match run {
            Ok(losses) => {
                let tail = &losses[losses.len().saturating_sub(100)..];
                println!(
                    "  {name:<9} {:.4}",
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
    let file = args.figure("book_07_optimizers_mnist.png");
    let drawn = plot::write_png(&file, (640, 420), |area| {
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!("optimizers on {source}: training loss"),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(44)
            .build_cartesian_2d(0.0..iterations as f64, 0.0..1.0)?;
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
