//! # 11. Overfitting, weight decay and dropout
//!
//! The classic set-up for overfitting: only 300 MNIST training images and a
//! 7-layer ReLU MLP (six hidden layers of 100), SGD with lr 0.01, batch
//! 100, 201 epochs. Training accuracy reaches about 100% while test
//! accuracy stays far lower: the network memorizes. An L2 penalty
//! (weight decay λ = 0.1) narrows the gap, and so does dropout (15% of the
//! hidden units dropped at each step), at the cost of slower training.
//!
//! Test accuracy is measured on the first 2,000 test images after each
//! epoch (the classic uses all 10,000, which would make evaluation most of
//! the run time and changes the curve by well under a point).
//!
//! Run: `cargo run --release --example book_11_overfitting` (MNIST from
//! `MNIST_DIR`, else synthetic digits; `--smoke`: 2 epochs). Figure:
//! `book_11_overfitting.png`, train and test accuracy of the three runs.

#[path = "book/mod.rs"]
mod book;

use std::process::ExitCode;

use constnet::data::{Batches, Dataset, InMemory};
use constnet::network;
use constnet::optim::Sgd;
use constnet::plot::{self, plotters::prelude::*};
use constnet::train::{Stepper, evaluate};

network! {
    /// Six hidden ReLU layers of 100.
    pub struct Deep: [784] =>
        affine(100) -> relu -> affine(100) -> relu -> affine(100) -> relu ->
        affine(100) -> relu -> affine(100) -> relu -> affine(100) -> relu ->
        affine(10) -> softmax
    /// The same with dropout after every hidden layer.
    pub struct DeepDropout: [784] =>
        affine(100) -> relu -> dropout(0.15) -> affine(100) -> relu -> dropout(0.15) ->
        affine(100) -> relu -> dropout(0.15) -> affine(100) -> relu -> dropout(0.15) ->
        affine(100) -> relu -> dropout(0.15) -> affine(100) -> relu -> dropout(0.15) ->
        affine(10) -> softmax
}

type Image = [f32; 784];
type Data = InMemory<Image, usize>;

/// Train and test accuracy after every epoch.
fn train<N>(
    mut net: N,
    train: &Data,
    test: &Data,
    epochs: usize,
    decay: f64,
) -> Result<Vec<(f64, f64)>, String>
where
    N: constnet::Trainable<Elem = f32, Input = Image> + Sync,
{
    let mut stepper = Stepper::<N>::new(0).weight_decay(decay);
    let mut opt = Sgd::new(0.01);
    let batches = Batches::new(train.len(), 100, 0);
    let (mut xs, mut ts, mut order) = (Vec::new(), Vec::new(), Vec::new());
    let mut curve = Vec::with_capacity(epochs);
    for epoch in 0..epochs {
        batches.epoch_into(epoch as u64, &mut order);
        for chunk in order.chunks(100) {
            train.gather_into(chunk, &mut xs, &mut ts);
            stepper
                .step(&mut net, &xs, &ts, &mut opt)
                .map_err(|e| e.to_string())?;
        }
        let a = evaluate(&net, train, 500)
            .map_err(|e| e.to_string())?
            .accuracy
            .unwrap_or(f64::NAN);
        let b = evaluate(&net, test, 500)
            .map_err(|e| e.to_string())?
            .accuracy
            .unwrap_or(f64::NAN);
        curve.push((a, b));
    }
    Ok(curve)
}

fn main() -> ExitCode {
    let args = book::Args::parse_for(
        "book_11_overfitting",
        "300 training images: overfitting, weight decay, dropout",
    );
    let (mut data, mut test, source) = book::shared::digits::<Image>(args.smoke, 2000);
    data.truncate(300);
    test.truncate(2000);
    let epochs = if args.smoke { 2 } else { 201 };
    let runs = [
        (
            "no regularization",
            train(Deep::<f32>::seeded(0), &data, &test, epochs, 0.0),
        ),
        (
            "weight decay 0.1",
            train(Deep::<f32>::seeded(0), &data, &test, epochs, 0.1),
        ),
        (
            "dropout 0.15",
            train(DeepDropout::<f32>::seeded(0), &data, &test, epochs, 0.0),
        ),
    ];
    println!("{source}: 300 training images, {epochs} epochs; final train / test accuracy:");
    let mut curves = Vec::new();
    for (name, run) in runs {
        match run {
            Ok(curve) => {
                let (a, b) = curve[curve.len() - 1];
                println!(
                    "  {name:<18} {:6.2}% / {:6.2}%  (gap {:.1} points)",
                    100.0 * a,
                    100.0 * b,
                    100.0 * (a - b)
                );
                curves.push((name, curve));
            }
            Err(e) => {
                eprintln!("error: {name}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let file = args.figure("book_11_overfitting.png");
    let drawn = plot::write_png(&file, (1050, 360), |area| {
        for ((name, curve), panel) in curves.iter().zip(area.split_evenly((1, 3))) {
            let mut chart = ChartBuilder::on(&panel)
                .caption(*name, ("sans-serif", 18))
                .margin(10)
                .x_label_area_size(30)
                .y_label_area_size(40)
                .build_cartesian_2d(0.0..epochs as f64, 0.0..1.0)?;
            chart.configure_mesh().x_desc("epoch").x_labels(5).draw()?;
            for (k, (label, color)) in [("train", BLUE), ("test", RED)].into_iter().enumerate() {
                chart
                    .draw_series(LineSeries::new(
                        curve
                            .iter()
                            .enumerate()
                            .map(|(e, &(a, b))| (e as f64 + 1.0, if k == 0 { a } else { b })),
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
