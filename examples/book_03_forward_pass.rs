//! # 3. A forward pass by hand
//!
//! The classic three-layer example: two inputs, hidden layers of three and
//! two sigmoid units, two identity outputs, with hand-set weights. The
//! input [1.0, 0.5] gives [0.31682708, 0.69627909].
//!
//! The weights are written into the network by name with
//! `params::set_tensor`, in PyTorch's `[out, in]` layout (the transpose of
//! the classic `x · W` matrices). The hidden values are recomputed here
//! with plain loops for the figure; `predict` runs the fused network.
//!
//! Run: `cargo run --release --example book_03_forward_pass` (`--smoke` is
//! the same). Figure: `book_03_forward_pass.png`, the network with every
//! unit's value.

#[path = "book/mod.rs"]
mod book;

use std::process::ExitCode;

use constnet::network;
use constnet::network::params::set_tensor;
use constnet::plot::{self, plotters::prelude::*};

network! {
    /// 2 → 3 (sigmoid) → 2 (sigmoid) → 2 (identity).
    pub struct ThreeLayer: [2] => affine(3) -> sigmoid -> affine(2) -> sigmoid -> affine(2), loss = mse
}

/// Each layer's weight in `[out, in]` layout and its bias.
const LAYERS: [(&[f64], &[f64]); 3] = [
    (&[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], &[0.1, 0.2, 0.3]),
    (&[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], &[0.1, 0.2]),
    (&[0.1, 0.2, 0.3, 0.4], &[0.1, 0.2]),
];

/// Every layer's values, input first, with the same weights and plain loops.
fn by_hand(x: &[f64]) -> Vec<Vec<f64>> {
    let mut values = vec![x.to_vec()];
    for (k, (w, b)) in LAYERS.iter().enumerate() {
        let input = &values[k];
        let out: Vec<f64> = b
            .iter()
            .enumerate()
            .map(|(o, bias)| {
                let a = bias
                    + (0..input.len())
                        .map(|i| w[o * input.len() + i] * input[i])
                        .sum::<f64>();
                if k < 2 { 1.0 / (1.0 + (-a).exp()) } else { a }
            })
            .collect();
        values.push(out);
    }
    values
}

fn main() -> ExitCode {
    let args = book::Args::parse_for("book_03_forward_pass", "the classic 3-layer forward pass");
    let mut net = ThreeLayer::<f64>::seeded(0);
    for (k, (w, b)) in LAYERS.iter().enumerate() {
        let set = set_tensor(&mut net, &format!("affine{}.weight", k + 1), w)
            .and_then(|()| set_tensor(&mut net, &format!("affine{}.bias", k + 1), b));
        if let Err(e) = set {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    let x = [1.0, 0.5];
    let y = net.predict(&x);
    let expected = [0.316_827_08, 0.696_279_09];
    println!("predict([1.0, 0.5]) = [{:.8}, {:.8}]", y[0], y[1]);
    println!(
        "the classic result  = [{:.8}, {:.8}]",
        expected[0], expected[1]
    );
    let close = y.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-8);
    let values = by_hand(&x);
    let file = args.figure("book_03_forward_pass.png");
    let drawn = plot::write_png(&file, (720, 360), |area| {
        let mut chart = ChartBuilder::on(area)
            .caption(
                "forward pass: [1.0, 0.5] -> [0.3168, 0.6963]",
                ("sans-serif", 18),
            )
            .margin(10)
            .build_cartesian_2d(-0.5..3.5, -0.2..3.2)?;
        let pos = |layer: usize, unit: usize, n: usize| {
            (layer as f64, 1.5 - (unit as f64 - (n as f64 - 1.0) / 2.0))
        };
        for layer in 0..3 {
            let (a, b) = (values[layer].len(), values[layer + 1].len());
            for i in 0..a {
                for o in 0..b {
                    chart.draw_series(LineSeries::new(
                        [pos(layer, i, a), pos(layer + 1, o, b)],
                        RGBColor(180, 180, 180),
                    ))?;
                }
            }
        }
        let titles = ["input", "sigmoid", "sigmoid", "identity"];
        for (layer, units) in values.iter().enumerate() {
            chart.draw_series([Text::new(
                titles[layer],
                (layer as f64 - 0.25, 3.05),
                ("sans-serif", 15),
            )])?;
            for (u, v) in units.iter().enumerate() {
                let p = pos(layer, u, units.len());
                chart.draw_series([Circle::new(p, 26, RGBColor(220, 235, 255).filled())])?;
                chart.draw_series([Circle::new(p, 26, BLUE)])?;
                chart.draw_series([Text::new(
                    format!("{v:.4}"),
                    (p.0 - 0.14, p.1 + 0.07),
                    ("sans-serif", 14),
                )])?;
            }
        }
        Ok(())
    });
    if let Err(e) = drawn {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    println!("figure: {}", file.display());
    if close {
        ExitCode::SUCCESS
    } else {
        eprintln!("error: the forward pass differs from the classic result");
        ExitCode::FAILURE
    }
}
