//! # 10. Batch norm against bad initialization
//!
//! The classic test: 1,000 MNIST training images, a ReLU MLP of five hidden
//! layers of 100, SGD with lr 0.01 and batch 100 for 20 epochs, with and
//! without batch norm after each hidden affine layer, for 16 weight scales
//! (the standard deviation of the initial weights) from 1 down to 1e-4,
//! log-spaced. Without batch norm, only scales near He's √(2/100) ≈ 0.14
//! train well; too large explodes, too small never starts. With batch norm
//! every layer's input is renormalized, so training goes well at almost
//! every scale, and faster. Batch norm's epsilon is the classic's `10e-7`
//! (1e-6) rather than our default 1e-5: at the smallest scales the batch
//! variance is itself about 1e-6, and a larger epsilon would flatten it.
//! (Above 0.3 batch norm learns slowly in 20 epochs, in the classic's own
//! code as here: `scripts/book_10_reference.py` runs it in NumPy.)
//!
//! Run: `cargo run --release --example book_10_batch_norm` (MNIST from
//! `MNIST_DIR`, else synthetic digits; `--smoke`: 2 epochs, 200 images, 4 scales).
//! Figure: `book_10_batch_norm.png`, a 4×4 grid of training accuracy per
//! epoch, batch norm in blue, without in green.

#[path = "book/mod.rs"]
mod book;

use std::process::ExitCode;

use constnet::data::{Batches, Dataset, InMemory};
use constnet::network;
use constnet::optim::Sgd;
use constnet::plot::{self, plotters::prelude::*};
use constnet::rand::SeedableRng;
use constnet::rand::rngs::StdRng;
use constnet::train::{Stepper, evaluate};
use constnet::{Init, Trainable, init};

network! {
    /// Five hidden ReLU layers of 100.
    pub struct Plain: [784] =>
        affine(100) -> relu -> affine(100) -> relu -> affine(100) -> relu ->
        affine(100) -> relu -> affine(100) -> relu -> affine(10) -> softmax
    /// The same with batch norm before each ReLU.
    pub struct Normed: [784] =>
        affine(100) -> batchnorm(eps = 1e-6) -> relu -> affine(100) -> batchnorm(eps = 1e-6) -> relu ->
        affine(100) -> batchnorm(eps = 1e-6) -> relu -> affine(100) -> batchnorm(eps = 1e-6) -> relu ->
        affine(100) -> batchnorm(eps = 1e-6) -> relu -> affine(10) -> softmax
}

type Image = [f32; 784];
type Data = InMemory<Image, usize>;

/// Training accuracy after every epoch; a run that diverges keeps the
/// accuracy it had, as the classic's NaN weights would score chance.
fn train<N>(mut net: N, scale: f64, data: &Data, epochs: usize) -> Vec<f64>
where
    N: Trainable<Elem = f32, Input = Image> + Sync,
{
    init::init_all_with(
        net.params_mut(),
        N::TENSORS,
        Init::Normal(scale),
        &mut StdRng::seed_from_u64(0),
    );
    let mut stepper = Stepper::<N>::new(0);
    let mut opt = Sgd::new(0.01);
    let batches = Batches::new(data.len(), 100, 0);
    let (mut xs, mut ts, mut order) = (Vec::new(), Vec::new(), Vec::new());
    let mut curve = Vec::with_capacity(epochs);
    let mut diverged = false;
    for epoch in 0..epochs {
        batches.epoch_into(epoch as u64, &mut order);
        for chunk in order.chunks(100) {
            data.gather_into(chunk, &mut xs, &mut ts);
            diverged |= !diverged && stepper.step(&mut net, &xs, &ts, &mut opt).is_err();
        }
        let accuracy = evaluate(&net, data, 500).map_or(0.1, |m| m.accuracy.unwrap_or(0.1));
        curve.push(if diverged {
            curve.last().copied().unwrap_or(0.1)
        } else {
            accuracy
        });
    }
    curve
}

fn main() -> ExitCode {
    let args = book::Args::parse_for("book_10_batch_norm", "batch norm rescues bad weight scales");
    let (mut data, _, source) = book::shared::digits::<Image>(args.smoke, 1000);
    data.truncate(if args.smoke { 200 } else { 1000 });
    let epochs = if args.smoke { 2 } else { 20 };
    // A smoke run tries every fifth scale: the first, the last and two between.
    let every = if args.smoke { 5 } else { 1 };
    let scales: Vec<f64> = (0..16)
        .step_by(every)
        .map(|i| 10f64.powf(-4.0 * i as f64 / 15.0))
        .collect();
    println!(
        "{source}: {} images, {epochs} epochs; final training accuracy:",
        data.len()
    );
    println!(
        "{:>10} {:>12} {:>14}",
        "weight std", "batch norm", "without"
    );
    let mut runs = Vec::new();
    for &scale in &scales {
        let normed = train(Normed::<f32>::seeded(0), scale, &data, epochs);
        let plain = train(Plain::<f32>::seeded(0), scale, &data, epochs);
        println!(
            "{scale:>10.2e} {:>11.1}% {:>13.1}%",
            100.0 * normed[epochs - 1],
            100.0 * plain[epochs - 1]
        );
        runs.push((scale, normed, plain));
    }
    let file = args.figure("book_10_batch_norm.png");
    let drawn = plot::write_png(&file, (1000, 860), |area| {
        for (i, ((scale, normed, plain), panel)) in
            runs.iter().zip(area.split_evenly((4, 4))).enumerate()
        {
            let mut chart = ChartBuilder::on(&panel)
                .caption(format!("w std {scale:.1e}"), ("sans-serif", 14))
                .margin(6)
                .x_label_area_size(18)
                .y_label_area_size(28)
                .build_cartesian_2d(1.0..epochs as f64, 0.0..1.0)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_labels(3)
                .x_label_formatter(&|e| format!("{e:.0}"))
                .y_labels(3)
                .draw()?;
            // Batch norm drawn last: where both sit at chance, it shows.
            let series = [
                ("without", plain, RGBColor(0, 150, 0)),
                ("batch norm", normed, BLUE),
            ];
            for (name, curve, color) in series {
                chart
                    .draw_series(LineSeries::new(
                        curve.iter().enumerate().map(|(e, &a)| (e as f64 + 1.0, a)),
                        color.stroke_width(2),
                    ))?
                    .label(name)
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 12, y)], color));
            }
            // One legend serves the grid, in the first panel's upper left,
            // which its curves leave empty.
            if i == 0 {
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::UpperLeft)
                    .label_font(("sans-serif", 11))
                    .border_style(BLACK)
                    .background_style(WHITE)
                    .draw()?;
            }
        }
        Ok(())
    });
    if let Err(e) = drawn {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    println!(
        "figure: {} (blue: batch norm, green: without)",
        file.display()
    );
    ExitCode::SUCCESS
}
