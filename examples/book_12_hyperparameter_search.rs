//! # 12. Random search over learning rate and weight decay
//!
//! The classic search: 500 MNIST training images, 20% of them held out for
//! validation, a 7-layer ReLU MLP (six hidden layers of 100), SGD with
//! batch 100 for 50 epochs, and 100 trials drawing the learning rate from
//! 10^U(−6, −2) and the weight decay from 10^U(−8, −4). The classic finds
//! the good learning rates between 0.001 and 0.01, and weight decay hardly
//! matters below 1e-6.
//!
//! `train::search::Search` draws trial `i` from `(seed, i)` alone and runs
//! trials on all cores at once, each trial training on one thread, so the
//! ranking is the same on any machine and any thread count.
//!
//! Run: `cargo run --release --example book_12_hyperparameter_search`
//! (`--smoke`: 4 trials of 2 epochs on synthetic digits). Figure:
//! `book_12_hyperparameter_search.png`: the best 20 validation curves, and
//! validation accuracy over the two ranges.

#[path = "book/mod.rs"]
mod book;

use std::process::ExitCode;

use constnet::data::{Batches, Dataset, InMemory};
use constnet::network;
use constnet::optim::Sgd;
use constnet::plot::{self, plotters::prelude::*};
use constnet::train::search::{Outcome, Search, Trial};
use constnet::train::{Stepper, evaluate};

network! {
    /// The classic 7-layer MLP.
    pub struct Deep: [784] =>
        affine(100) -> relu -> affine(100) -> relu -> affine(100) -> relu ->
        affine(100) -> relu -> affine(100) -> relu -> affine(100) -> relu ->
        affine(10) -> softmax
}

type Image = [f32; 784];
type Data = InMemory<Image, usize>;

/// Trains one trial; its score is the final validation accuracy and its
/// detail the validation accuracy after every epoch.
fn objective(trial: &Trial, train: &Data, val: &Data, epochs: usize) -> (f64, Vec<f64>) {
    let mut net = Deep::<f32>::seeded(trial.seed);
    let mut stepper = Stepper::<Deep>::new(trial.seed)
        .threads(1)
        .weight_decay(trial.get("weight_decay"));
    let mut opt = Sgd::new(trial.get("lr"));
    let batches = Batches::new(train.len(), 100, trial.seed);
    let (mut xs, mut ts, mut order) = (Vec::new(), Vec::new(), Vec::new());
    let mut curve = Vec::with_capacity(epochs);
    for epoch in 0..epochs {
        batches.epoch_into(epoch as u64, &mut order);
        for chunk in order.chunks(100) {
            train.gather_into(chunk, &mut xs, &mut ts);
            // A diverging trial scores what it reached; it is a result, not an error.
            if stepper.step(&mut net, &xs, &ts, &mut opt).is_err() {
                return (f64::NAN, curve);
            }
        }
        match evaluate(&net, val, 100) {
            Ok(m) => curve.push(m.accuracy.unwrap_or(f64::NAN)),
            Err(_) => return (f64::NAN, curve),
        }
    }
    (curve.last().copied().unwrap_or(f64::NAN), curve)
}

fn main() -> ExitCode {
    let args = book::Args::parse_for(
        "book_12_hyperparameter_search",
        "random search over learning rate and weight decay (100 trials)",
    );
    let (mut data, _, source) = book::shared::digits::<Image>(args.smoke, 500);
    data.truncate(500);
    let (train, val) = data.split(0.2, 0);
    let (trials, epochs) = if args.smoke { (4, 2) } else { (100, 50) };
    println!(
        "{source}: {} training and {} validation samples; {trials} trials of {epochs} epochs",
        train.len(),
        val.len()
    );
    let search = Search::new(2026)
        .log_uniform("lr", 1e-6, 1e-2)
        .log_uniform("weight_decay", 1e-8, 1e-4)
        .trials(trials);
    let results = search.run(|trial| objective(trial, &train, &val, epochs));
    let shown = results.outcomes().len().min(20);
    println!("best {shown} of {trials}:");
    print!(
        "{}",
        format!("{results}")
            .lines()
            .take(shown + 1)
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    );
    let good: Vec<&Outcome<Vec<f64>>> = results.outcomes()[..shown].iter().collect();
    let lr_range = good.iter().map(|o| o.trial.get("lr"));
    let (lo, hi) = lr_range.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    println!("learning rates of the best {shown}: {lo:.2e} to {hi:.2e}");
    let file = args.figure("book_12_hyperparameter_search.png");
    let drawn = plot::write_png(&file, (1000, 420), |area| {
        let (left, right) = area.split_horizontally(500);
        let mut curves = ChartBuilder::on(&left)
            .caption(
                format!("best {shown} trials: validation accuracy"),
                ("sans-serif", 18),
            )
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(40)
            .build_cartesian_2d(1.0..epochs as f64, 0.0..1.0)?;
        curves.configure_mesh().x_desc("epoch").draw()?;
        for (rank, o) in good.iter().enumerate() {
            let color = Palette99::pick(rank);
            curves.draw_series(LineSeries::new(
                o.detail
                    .iter()
                    .enumerate()
                    .map(|(e, &a)| (e as f64 + 1.0, a)),
                color.stroke_width(if rank < 5 { 2 } else { 1 }),
            ))?;
        }
        let mut scatter = ChartBuilder::on(&right)
            .caption("validation accuracy of every trial", ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d((1e-6..1e-2).log_scale(), (1e-8..1e-4).log_scale())?;
        scatter
            .configure_mesh()
            .x_desc("learning rate")
            .y_desc("weight decay")
            .x_label_formatter(&|v| format!("{v:.0e}"))
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .draw()?;
        scatter.draw_series(results.outcomes().iter().map(|o| {
            // Accuracy from 0.1 (chance) to 1 as blue to red.
            let a = if o.score.is_nan() {
                0.0
            } else {
                ((o.score - 0.1) / 0.9).clamp(0.0, 1.0)
            };
            let color = RGBColor((255.0 * a) as u8, 40, (255.0 * (1.0 - a)) as u8);
            Circle::new(
                (o.trial.get("lr"), o.trial.get("weight_decay")),
                5,
                color.filled(),
            )
        }))?;
        Ok(())
    });
    if let Err(e) = drawn {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    println!(
        "figure: {} (red: high accuracy, blue: chance)",
        file.display()
    );
    ExitCode::SUCCESS
}
