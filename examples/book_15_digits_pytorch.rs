//! # 15. Digits with PyTorch's recipe
//!
//! The PyTorch tutorials' first classifier: the 8×8 digits (1,797 images,
//! raw pixels 0–16, no scaling), `64 → 32 → 16 → 10` with ReLU, Adam with
//! PyTorch's defaults (lr 0.001, β 0.9/0.999, ε 1e-8), 100 full-batch
//! epochs of cross-entropy. PyTorch ends near loss 0.2 and above 93%
//! training accuracy; `init = pytorch` draws the same distribution as
//! `nn.Linear` (weights and biases uniform in ±1/√fan_in), so it lands there.
//!
//! constnet's default for layers feeding a ReLU is He normal, std √(2/64) ≈
//! 0.18 in the first layer, three times PyTorch's 1/√64/√3 ≈ 0.07 spread.
//! On inputs up to 16 that gives first logits in the tens, an initial loss
//! far above ln 10 ≈ 2.3, and Adam's fixed step size (about lr per step per
//! weight) needs many more epochs to undo it: scale the inputs (`/ 16`) or
//! use the initializer the recipe was tuned for.
//!
//! Run: `cargo run --release --example book_15_digits_pytorch`
//! (`--smoke`: 10 epochs, 2 seeds). Figure: `book_15_digits_pytorch.png`,
//! the loss curves of both initializers over five seeds.

#[path = "book/mod.rs"]
mod book;

use std::process::ExitCode;

use constnet::data::Digits;
use constnet::network;
use constnet::optim::Adam;
use constnet::plot::{self, plotters::prelude::*};
use constnet::train::{Stepper, evaluate};

network! {
    /// The tutorial's network with PyTorch's initializer.
    pub struct TorchMlp: [64] => affine(32) -> relu -> affine(16) -> relu -> affine(10) -> softmax,
        init = pytorch
    /// The same network with constnet's default (He normal before ReLU).
    pub struct HeMlp: [64] => affine(32) -> relu -> affine(16) -> relu -> affine(10) -> softmax
}

/// Losses per epoch and the final training accuracy of one run.
struct Run {
    losses: Vec<f64>,
    accuracy: f64,
}

fn train<N>(mut net: N, epochs: usize, seed: u64) -> Result<Run, String>
where
    N: constnet::Trainable<Elem = f32, Input = [f32; 64]> + Sync,
{
    let data = Digits::load::<[f32; 64]>();
    let (xs, ts) = (data.inputs().to_vec(), data.targets().to_vec());
    let mut stepper = Stepper::<N>::new(seed);
    let mut opt = Adam::new(0.001);
    opt.eps = 1e-8;
    let mut losses = Vec::with_capacity(epochs);
    for _ in 0..epochs {
        let stats = stepper
            .step(&mut net, &xs, &ts, &mut opt)
            .map_err(|e| e.to_string())?;
        losses.push(stats.loss);
    }
    let accuracy = evaluate(&net, &data, 500)
        .map_err(|e| e.to_string())?
        .accuracy
        .unwrap_or(f64::NAN);
    Ok(Run { losses, accuracy })
}

fn main() -> ExitCode {
    let args = book::Args::parse_for(
        "book_15_digits_pytorch",
        "the 8x8 digits with PyTorch's tutorial recipe, PyTorch's and He initialization",
    );
    let (epochs, seeds) = if args.smoke { (10, 2) } else { (100, 5) };
    let mut torch = Vec::new();
    let mut he = Vec::new();
    for seed in 0..seeds {
        let runs = train(TorchMlp::<f32>::seeded(seed), epochs, seed)
            .and_then(|t| Ok((t, train(HeMlp::<f32>::seeded(seed), epochs, seed)?)));
        let (t, h) = match runs {
            Ok(runs) => runs,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        if seed == 0 {
            println!("seed 0, loss every 10 epochs (init = pytorch | default He):");
            for epoch in (0..epochs).step_by(10).chain([epochs - 1]) {
                println!(
                    "  epoch {epoch:>3}: {:>8.4} | {:>8.4}",
                    t.losses[epoch], h.losses[epoch]
                );
            }
        }
        println!(
            "seed {seed}: pytorch init: loss {:.4}, train accuracy {:.2}%  |  He: loss {:.4} (first {:.1}), train accuracy {:.2}%",
            t.losses[epochs - 1],
            100.0 * t.accuracy,
            h.losses[epochs - 1],
            h.losses[0],
            100.0 * h.accuracy
        );
        torch.push(t);
        he.push(h);
    }
    let mean =
        |runs: &[Run], f: fn(&Run) -> f64| runs.iter().map(f).sum::<f64>() / runs.len() as f64;
    println!(
        "mean over {seeds} seeds: pytorch init loss {:.3}, accuracy {:.2}%; He loss {:.3}, accuracy {:.2}%",
        mean(&torch, |r| *r.losses.last().unwrap_or(&f64::NAN)),
        100.0 * mean(&torch, |r| r.accuracy),
        mean(&he, |r| *r.losses.last().unwrap_or(&f64::NAN)),
        100.0 * mean(&he, |r| r.accuracy),
    );
    let path = args.figure("book_15_digits_pytorch.png");
    let drawn = plot::write_png(&path, (720, 440), |area| {
        let top = torch
            .iter()
            .chain(&he)
            .flat_map(|r| r.losses.iter().copied())
            .fold(1.0f64, f64::max);
        let mut chart = ChartBuilder::on(area)
            .caption(
                "digits, Adam, full batch: training loss",
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..epochs as f64, (0.05..top * 1.2).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("cross-entropy (log scale)")
            .draw()?;
        for (runs, color, label) in [
            (&torch, BLUE, "init = pytorch"),
            (&he, RED, "default (He normal)"),
        ] {
            for (k, run) in runs.iter().enumerate() {
                let series = chart.draw_series(LineSeries::new(
                    run.losses.iter().enumerate().map(|(e, &l)| (e as f64, l)),
                    color.stroke_width(2),
                ))?;
                if k == 0 {
                    series
                        .label(label)
                        .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color));
                }
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .border_style(BLACK)
            .background_style(WHITE)
            .draw()?;
        Ok(())
    });
    if let Err(e) = drawn {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    println!("figure: {}", path.display());
    ExitCode::SUCCESS
}
