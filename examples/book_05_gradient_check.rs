//! # 5. Gradient check
//!
//! Backpropagation is checked against the definition of the derivative:
//! for each parameter, `(L(θ + h) − L(θ − h)) / 2h` with `h = 1e-5`,
//! against the backward pass's gradient. The classic checks TwoLayerNet
//! (784 → 50 sigmoid → 10 softmax, weights from N(0, 0.01²)) on three
//! training images and prints the mean absolute difference per tensor:
//! around 1e-10 in `f64`, the rounding error of the central difference.
//!
//! `train::gradcheck::check` does the work for any network; here every
//! element of every tensor is checked (39,760 parameters, two forward
//! passes each).
//!
//! Run: `cargo run --release --example book_05_gradient_check` (MNIST from
//! `MNIST_DIR`, else synthetic digits; `--smoke`: 64 sampled elements per
//! tensor). Figure: `book_05_gradient_check.png`, per tensor on a log scale
//! the mean absolute difference and the difference where the relative
//! error is largest.

#[path = "book/mod.rs"]
mod book;

use std::process::ExitCode;

use constnet::data::Dataset;
use constnet::network;
use constnet::plot::{self, plotters::prelude::*};
use constnet::train::gradcheck::{self, Options};

network! {
    /// The two-layer network of the classic material.
    pub struct TwoLayerNet: [784] => affine(50) -> sigmoid -> affine(10) -> softmax, init = normal(0.01)
}

fn main() -> ExitCode {
    let args = book::Args::parse_for(
        "book_05_gradient_check",
        "backpropagation against numerical gradients",
    );
    let (train, _, source) = book::shared::digits::<[f32; 784]>(args.smoke, 10);
    let (xs, ts): (Vec<[f64; 784]>, Vec<usize>) = (0..3)
        .map(|i| (train.get(i).0.map(f64::from), *train.get(i).1))
        .unzip();
    let mut net = TwoLayerNet::<f64>::seeded(0);
    let options = Options {
        exhaustive_up_to: if args.smoke { 0 } else { usize::MAX },
        ..Options::default()
    };
    let reports = gradcheck::check(&mut net, &xs, &ts, options);
    println!("{source}, three images; backprop against central differences (h = 1e-5):");
    for r in &reports {
        let (a, n) = r.worst;
        println!(
            "  {:<15} {:>6} elements: mean |difference| {:.2e}, at the largest relative error {:.2e}",
            r.name,
            r.checked,
            r.mean_abs_error,
            (a - n).abs()
        );
    }
    let file = args.figure("book_05_gradient_check.png");
    let drawn = plot::write_png(&file, (640, 380), |area| {
        let mut chart = ChartBuilder::on(area)
            .caption(
                "|backprop - numerical| per tensor (f64)",
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..reports.len() as f64, (1e-14..1e-6).log_scale())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .draw()?;
        let floor = 1e-14;
        // Each tensor's name above its bar.
        chart.draw_series(reports.iter().enumerate().map(|(i, r)| {
            let top = r
                .mean_abs_error
                .max((r.worst.0 - r.worst.1).abs())
                .max(floor);
            Text::new(r.name, (i as f64 + 0.1, top * 20.0), ("sans-serif", 13))
        }))?;
        chart
            .draw_series(reports.iter().enumerate().map(|(i, r)| {
                let top = r.mean_abs_error.max(floor);
                Rectangle::new(
                    [(i as f64 + 0.2, floor), (i as f64 + 0.8, top)],
                    BLUE.mix(0.6).filled(),
                )
            }))?
            .label("mean")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], BLUE.mix(0.6).filled()));
        chart
            .draw_series(reports.iter().enumerate().map(|(i, r)| {
                let worst = (r.worst.0 - r.worst.1).abs().max(floor);
                Circle::new((i as f64 + 0.5, worst), 5, RED.filled())
            }))?
            .label("at worst relative error")
            .legend(|(x, y)| Circle::new((x + 6, y), 5, RED.filled()));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
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
    let worst_mean = reports.iter().map(|r| r.mean_abs_error).fold(0.0, f64::max);
    if worst_mean < 1e-7 {
        ExitCode::SUCCESS
    } else {
        eprintln!("error: backpropagation disagrees with the numerical gradient");
        ExitCode::FAILURE
    }
}
