//! # 6. Optimizer paths on a bowl
//!
//! f(x, y) = x²/20 + y² is a bowl stretched twenty times along x: its
//! gradient points mostly along y, so plain SGD zig-zags across the valley
//! and creeps along it. Starting at (−7, 2), 30 steps each with the classic
//! settings: SGD lr 0.95, Momentum lr 0.1 (β 0.9), AdaGrad lr 1.5, Adam lr
//! 0.3. Momentum rolls like a ball, AdaGrad damps the steep y direction
//! early and walks straight, Adam combines both.
//!
//! The optimizers are the runtime's own, driven through `optim::step` on a
//! two-element "network" whose gradient we compute by hand.
//!
//! Run: `cargo run --release --example book_06_optimizer_paths` (`--smoke`
//! is the same: it takes milliseconds). Figure: `book_06_optimizer_paths.png`,
//! four panels of contours and the path.

#[path = "book/mod.rs"]
mod book;

use std::process::ExitCode;

use constnet::optim::{self, AdaGrad, Adam, Momentum, Optimizer, Sgd};
use constnet::plot::{self, plotters::prelude::*};
use constnet::{Init, Role, TensorInfo};

/// The point (x, y) as one weight tensor of two elements.
const POINT: &[TensorInfo] = &[TensorInfo {
    name: "point",
    shape: &[2],
    offset: 0,
    len: 2,
    role: Role::Weight,
    fan_in: 1,
    fan_out: 1,
    init: Init::Zeros,
}];

fn f(x: f64, y: f64) -> f64 {
    x * x / 20.0 + y * y
}

/// The path from (−7, 2) over 30 steps, start included.
fn path(opt: &mut dyn Optimizer<f64>) -> Result<Vec<(f64, f64)>, optim::Refused> {
    let mut p = [-7.0, 2.0];
    let mut points = vec![(p[0], p[1])];
    for _ in 0..30 {
        let mut grad = [p[0] / 10.0, 2.0 * p[1]];
        optim::step(opt, &mut p, &mut grad, POINT)?;
        points.push((p[0], p[1]));
    }
    Ok(points)
}

fn main() -> ExitCode {
    let args = book::Args::parse_for(
        "book_06_optimizer_paths",
        "SGD, Momentum, AdaGrad and Adam on f(x, y) = x^2/20 + y^2",
    );
    let mut optimizers: [(&str, Box<dyn Optimizer<f64>>); 4] = [
        ("SGD (lr 0.95)", Box::new(Sgd::new(0.95))),
        ("Momentum (lr 0.1)", Box::new(Momentum::new(0.1, 0.9))),
        ("AdaGrad (lr 1.5)", Box::new(AdaGrad::new(1.5))),
        ("Adam (lr 0.3)", Box::new(Adam::new(0.3))),
    ];
    let mut paths = Vec::new();
    for (name, opt) in &mut optimizers {
        match path(opt.as_mut()) {
            Ok(points) => {
                let (x, y) = points[points.len() - 1];
                println!(
                    "{name:<18} after 30 steps: ({x:>8.4}, {y:>8.4}), f = {:.5}",
                    f(x, y)
                );
                paths.push((*name, points));
            }
            Err(e) => {
                eprintln!("error: {name}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let file = args.figure("book_06_optimizer_paths.png");
    let drawn = plot::write_png(&file, (900, 640), |area| {
        for ((name, points), panel) in paths.iter().zip(area.split_evenly((2, 2))) {
            let mut chart = ChartBuilder::on(&panel)
                .caption(*name, ("sans-serif", 18))
                .margin(8)
                .x_label_area_size(24)
                .y_label_area_size(32)
                .build_cartesian_2d(-10.0..10.0, -5.0..5.0)?;
            chart.configure_mesh().disable_mesh().draw()?;
            // Contours f = c are ellipses with semi-axes √(20c) and √c.
            for c in [0.25, 0.5, 1.0, 2.0, 3.5, 5.0, 7.0, 9.5, 12.5] {
                let ellipse = (0..=120).map(|i| {
                    let t = std::f64::consts::TAU * i as f64 / 120.0;
                    ((20.0f64 * c).sqrt() * t.cos(), c.sqrt() * t.sin())
                });
                chart.draw_series(LineSeries::new(ellipse, RGBColor(170, 170, 170)))?;
            }
            chart.draw_series(LineSeries::new(points.iter().copied(), RED.stroke_width(2)))?;
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, RED.filled())))?;
            chart.draw_series([Cross::new((0.0, 0.0), 6, BLACK.stroke_width(2))])?;
        }
        Ok(())
    });
    if let Err(e) = drawn {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    if args.smoke {
        // Same work either way: the flag exists so CI can run every example alike.
        println!("(smoke run: identical to the full one)");
    }
    println!("figure: {}", file.display());
    ExitCode::SUCCESS
}
