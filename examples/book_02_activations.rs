//! # 2. Activation functions and their derivatives
//!
//! The step function of the perceptron has a derivative of 0 almost
//! everywhere, so no gradient flows through it: that is why networks
//! trained by backpropagation use smooth or piecewise-linear activations.
//! Sigmoid and tanh saturate (their derivatives vanish for large |x|;
//! sigmoid's is at most 0.25), ReLU passes gradients unchanged for x > 0
//! and kills them below, leaky ReLU and ELU keep a little below zero, and
//! SiLU and GELU are the smooth, non-monotonic newer ones.
//!
//! The functions are the runtime's own kernels (`kernels::activation`); the
//! derivatives are those backpropagation uses, computed from the output
//! for the monotonic ones and from the input for SiLU and GELU.
//!
//! Run: `cargo run --release --example book_02_activations` (`--smoke` is
//! the same). Figure: `book_02_activations.png`, each function in blue and
//! its derivative in red.

#[path = "book/mod.rs"]
mod book;

use std::process::ExitCode;

use constnet::kernels::activation::{
    Activation, Elu, Gelu, InputActivation, LeakyRelu, Relu, Sigmoid, Silu, Step, Tanh,
};
use constnet::plot::{self, plotters::prelude::*};

/// `(f(x), f'(x))` of a monotonic activation, its derivative from its output.
fn from_output(act: impl Activation<f64>) -> impl Fn(f64) -> (f64, f64) {
    move |x| {
        let y = act.forward(x);
        (y, act.grad_from_output(y))
    }
}

/// `(f(x), f'(x))` of an activation whose derivative needs its input.
fn from_input(act: impl InputActivation<f64>) -> impl Fn(f64) -> (f64, f64) {
    move |x| (act.forward(x), act.grad(x))
}

fn main() -> ExitCode {
    let args = book::Args::parse_for(
        "book_02_activations",
        "activation functions and their derivatives",
    );
    type Curve = Box<dyn Fn(f64) -> (f64, f64)>;
    let panels: [(&str, Curve); 8] = [
        ("step", Box::new(from_output(Step))),
        ("sigmoid", Box::new(from_output(Sigmoid))),
        ("tanh", Box::new(from_output(Tanh))),
        ("ReLU", Box::new(from_output(Relu))),
        ("leaky ReLU (0.1)", Box::new(from_output(LeakyRelu(0.1)))),
        ("ELU (1)", Box::new(from_output(Elu(1.0)))),
        ("SiLU", Box::new(from_input(Silu))),
        ("GELU", Box::new(from_input(Gelu))),
    ];
    let xs: Vec<f64> = (0..=400).map(|i| -3.0 + i as f64 / 400.0 * 6.0).collect();
    println!(
        "{:<18} {:>9} {:>9} {:>9} {:>12}",
        "function", "f(-2)", "f(0.5)", "f(2)", "max f'(x)"
    );
    for (name, curve) in &panels {
        let max_grad = xs.iter().map(|&x| curve(x).1).fold(f64::MIN, f64::max);
        println!(
            "{name:<18} {:>9.4} {:>9.4} {:>9.4} {max_grad:>12.4}",
            curve(-2.0).0,
            curve(0.5).0,
            curve(2.0).0
        );
    }
    let file = args.figure("book_02_activations.png");
    let drawn = plot::write_png(&file, (1000, 480), |area| {
        for ((name, curve), panel) in panels.iter().zip(area.split_evenly((2, 4))) {
            let mut chart = ChartBuilder::on(&panel)
                .caption(*name, ("sans-serif", 16))
                .margin(6)
                .x_label_area_size(20)
                .y_label_area_size(28)
                .build_cartesian_2d(-3.0..3.0, -1.5..3.0)?;
            chart.configure_mesh().x_labels(5).y_labels(4).draw()?;
            chart.draw_series(LineSeries::new(
                xs.iter().map(|&x| (x, curve(x).0)),
                BLUE.stroke_width(2),
            ))?;
            chart.draw_series(LineSeries::new(
                xs.iter().map(|&x| (x, curve(x).1)),
                RED.stroke_width(1),
            ))?;
        }
        Ok(())
    });
    if let Err(e) = drawn {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    if args.smoke {
        println!("(smoke run: identical to the full one)");
    }
    println!("figure: {}", file.display());
    ExitCode::SUCCESS
}
