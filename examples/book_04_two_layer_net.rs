//! # 4. TwoLayerNet on MNIST, epoch by epoch
//!
//! The classic first network trained by backpropagation: 784 → 50 sigmoid
//! → 10 softmax, weights drawn from N(0, 0.01²), plain SGD with learning
//! rate 0.1, batch 100, 10,000 iterations (about 16.7 epochs of 60,000
//! images). Train and test accuracy are measured after every epoch; the
//! classic ends near 95% on both, with no gap between them: a network this
//! small does not overfit 60,000 images.
//!
//! (`two_layer_net` is the same network without the figure.)
//!
//! Run: `cargo run --release --example book_04_two_layer_net` (MNIST from
//! `MNIST_DIR`, else synthetic digits; `--smoke`: 50 iterations).
//! Figure: `book_04_two_layer_net.png`, train and test accuracy per epoch.

#[path = "book/mod.rs"]
mod book;

use std::process::ExitCode;

use constnet::data::{Batches, Dataset};
use constnet::network;
use constnet::optim::Sgd;
use constnet::plot::{self, plotters::prelude::*};
use constnet::train::{Stepper, evaluate};

network! {
    /// The two-layer network of the classic material.
    pub struct TwoLayerNet: [784] => affine(50) -> sigmoid -> affine(10) -> softmax, init = normal(0.01)
}

type Image = [f32; 784];

fn main() -> ExitCode {
    let args = book::Args::parse_for(
        "book_04_two_layer_net",
        "TwoLayerNet on MNIST, accuracy per epoch",
    );
    let (train, test, source) =
        book::shared::digits::<Image>(args.smoke, if args.smoke { 500 } else { 12_000 });
    let iterations = if args.smoke { 50 } else { 10_000 };
    let per_epoch = train.len().div_ceil(100);
    println!(
        "{source}: {} training, {} test images; {iterations} iterations",
        train.len(),
        test.len()
    );
    let mut net = TwoLayerNet::<f32>::seeded(0);
    let mut stepper = Stepper::<TwoLayerNet>::new(0);
    let mut opt = Sgd::new(0.1);
    let batches = Batches::new(train.len(), 100, 0);
    let (mut xs, mut ts, mut order) = (Vec::new(), Vec::new(), Vec::new());
    let mut curves: Vec<(f64, f64, f64)> = Vec::new();
    let mut done = 0;
    let mut epoch = 0;
    while done < iterations {
        batches.epoch_into(epoch, &mut order);
        for chunk in order.chunks(100).take(iterations - done) {
            train.gather_into(chunk, &mut xs, &mut ts);
            if let Err(e) = stepper.step(&mut net, &xs, &ts, &mut opt) {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
            done += 1;
        }
        epoch += 1;
        let (tr, te) = match (evaluate(&net, &train, 1000), evaluate(&net, &test, 1000)) {
            (Ok(a), Ok(b)) => (
                a.accuracy.unwrap_or(f64::NAN),
                b.accuracy.unwrap_or(f64::NAN),
            ),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        let at = done as f64 / per_epoch as f64;
        println!(
            "epoch {at:>5.2}: train accuracy {:.2}%, test accuracy {:.2}%",
            100.0 * tr,
            100.0 * te
        );
        curves.push((at, tr, te));
    }
    let file = args.figure("book_04_two_layer_net.png");
    let drawn = plot::write_png(&file, (640, 400), |area| {
        let last = curves.last().map_or(1.0, |c| c.0);
        let mut chart = ChartBuilder::on(area)
            .caption(format!("TwoLayerNet on {source}"), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(44)
            .build_cartesian_2d(0.0..last, 0.0..1.0)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("accuracy")
            .draw()?;
        for (k, (label, color)) in [("train", BLUE), ("test", RED)].into_iter().enumerate() {
            chart
                .draw_series(LineSeries::new(
                    curves.iter().map(|c| (c.0, if k == 0 { c.1 } else { c.2 })),
                    color.stroke_width(2),
                ))?
                .label(label)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
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
