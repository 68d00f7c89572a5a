//! # 1. Perceptrons: AND, NAND, OR, and XOR in two layers
//!
//! A perceptron outputs 1 when `w·x + b > 0`: a line splits the plane.
//! AND, NAND and OR are each one line; here they are learned, not set by
//! hand: a single affine unit with a sigmoid is trained on the four truth
//! table rows (binary cross-entropy, plain SGD), and its weights are then
//! copied into a true perceptron, `affine(1) -> step`, whose truth table is
//! printed. XOR needs two lines, so no single perceptron computes it; two
//! layers do (the classic: XOR = AND(NAND, OR)), and the hidden layer is
//! learned the same way.
//!
//! Run: `cargo run --release --example book_01_perceptron` (`--smoke` is
//! the same: it takes milliseconds). Figure: `book_01_perceptron.png`, the
//! four decision regions with the truth-table points.

#[path = "book/mod.rs"]
mod book;

use std::process::ExitCode;

use constnet::Network;
use constnet::network;
use constnet::network::params::{set_tensor, tensor};
use constnet::optim::{Adam, Sgd};
use constnet::plot::{self, plotters::prelude::*};
use constnet::train::Stepper;

network! {
    /// One unit with a smooth output, so it can be trained.
    pub struct Unit: [2] => affine(1) -> sigmoid
    /// The perceptron itself: the same unit with a step.
    pub struct Perceptron: [2] => affine(1) -> step
    /// Two layers for XOR.
    pub struct TwoLayer: [2] => affine(2) -> tanh -> affine(1) -> sigmoid
}

const X: [[f64; 2]; 4] = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];

/// Trains `net` on a truth table, full batch.
fn fit<N: constnet::Trainable<Elem = f64, Input = [f64; 2], Output = [f64; 1]> + Sync>(
    net: &mut N,
    table: [f64; 4],
    steps: usize,
    opt: &mut impl constnet::optim::Optimizer<f64>,
) -> Result<f64, String> {
    let targets = table.map(|t| [t]);
    let mut stepper = Stepper::<N>::new(0).threads(1);
    let mut loss = f64::NAN;
    for _ in 0..steps {
        loss = stepper
            .step(net, &X, &targets, opt)
            .map_err(|e| e.to_string())?
            .loss;
    }
    Ok(loss)
}

/// A gate's decision as a function of the input.
type Decide = Box<dyn Fn([f64; 2]) -> bool>;

fn main() -> ExitCode {
    let args = book::Args::parse_for(
        "book_01_perceptron",
        "AND, NAND, OR learned; XOR in two layers",
    );
    let mut gates: Vec<(&str, Decide)> = Vec::new();
    let mut all_right = true;
    for (name, table) in [
        ("AND", [0.0, 0.0, 0.0, 1.0]),
        ("NAND", [1.0, 1.0, 1.0, 0.0]),
        ("OR", [0.0, 1.0, 1.0, 1.0]),
    ] {
        let mut unit = Unit::<f64>::seeded(1);
        if let Err(e) = fit(&mut unit, table, 2000, &mut Sgd::new(1.0)) {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
        let mut perceptron = Perceptron::<f64>::seeded(0);
        for t in ["affine1.weight", "affine1.bias"] {
            let values = tensor(&unit, t).map(<[f64]>::to_vec).unwrap_or_default();
            if let Err(e) = set_tensor(&mut perceptron, t, &values) {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
        let w = perceptron.params();
        println!(
            "{name:<4} learned: w = [{:.2}, {:.2}], b = {:.2}; perceptron truth table: {:?}",
            w[0],
            w[1],
            w[2],
            X.map(|x| perceptron.predict(&x)[0])
        );
        all_right &= X
            .iter()
            .zip(table)
            .all(|(x, t)| perceptron.predict(x)[0] == t);
        gates.push((name, Box::new(move |x| perceptron.predict(&x)[0] > 0.5)));
    }
    let mut xor = TwoLayer::<f64>::seeded(3);
    match fit(&mut xor, [0.0, 1.0, 1.0, 0.0], 1000, &mut Adam::new(0.1)) {
        Ok(loss) => println!(
            "XOR two layers: loss {loss:.4}, outputs {:?}",
            X.map(|x| (xor.predict(&x)[0] * 1000.0).round() / 1000.0)
        ),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    all_right &= X
        .iter()
        .zip([false, true, true, false])
        .all(|(x, t)| (xor.predict(x)[0] > 0.5) == t);
    gates.push((
        "XOR (two layers)",
        Box::new(move |x| xor.predict(&x)[0] > 0.5),
    ));
    let file = args.figure("book_01_perceptron.png");
    let drawn = plot::write_png(&file, (880, 240), |area| {
        for ((name, decide), panel) in gates.iter().zip(area.split_evenly((1, 4))) {
            let mut chart = ChartBuilder::on(&panel)
                .caption(*name, ("sans-serif", 16))
                .margin(6)
                .x_label_area_size(20)
                .y_label_area_size(26)
                .build_cartesian_2d(-0.5..1.5, -0.5..1.5)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_labels(3)
                .y_labels(3)
                .draw()?;
            let n = 80;
            let step = 2.0 / n as f64;
            chart.draw_series((0..n * n).map(|k| {
                let (x, y) = (-0.5 + (k % n) as f64 * step, -0.5 + (k / n) as f64 * step);
                let on = decide([x + step / 2.0, y + step / 2.0]);
                let color = if on {
                    RGBColor(255, 214, 170)
                } else {
                    RGBColor(200, 220, 255)
                };
                Rectangle::new([(x, y), (x + step, y + step)], color.filled())
            }))?;
            chart.draw_series(X.iter().map(|x| {
                let style = if decide(*x) {
                    RED.filled()
                } else {
                    BLUE.filled()
                };
                Circle::new((x[0], x[1]), 6, style)
            }))?;
        }
        Ok(())
    });
    if let Err(e) = drawn {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    println!(
        "figure: {} (orange: output 1, blue: output 0)",
        file.display()
    );
    if args.smoke {
        println!("(smoke run: identical to the full one)");
    }
    if all_right {
        ExitCode::SUCCESS
    } else {
        eprintln!("error: a gate was not learned");
        ExitCode::FAILURE
    }
}
