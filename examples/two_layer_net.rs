//! The classic two-layer network on MNIST, as the from-scratch material
//! trains it: 784 → 50 sigmoid → 10 softmax, weights drawn from N(0, 0.01²),
//! plain SGD with learning rate 0.1, batch 100, 10,000 iterations.
//!
//! Run: `cargo run --release --example two_layer_net` (MNIST from
//! `MNIST_DIR` or `./data/mnist`, else the built-in synthetic digits);
//! `-- --help` lists the flags. Prints the loss every 1,000 iterations and
//! the final train and test accuracy (about 95% on MNIST).

use std::process::ExitCode;

use clap::Parser;
use constnet::network;
use constnet::optim::Sgd;
use constnet::text::count;
use constnet::train::callbacks::{self, Callback};
use constnet::train::{Progress, TrainError, Trainer, evaluate};

#[allow(
    dead_code,
    reason = "this example takes its own flags, not the shared training run's"
)]
mod shared;

network! {
    /// The two-layer network of the classic material.
    pub struct TwoLayerNet: [784] => affine(50) -> sigmoid -> affine(10) -> softmax, init = normal(0.01)
}

type Image = [f32; 784];

/// Train the classic two-layer network with plain SGD for a number of iterations.
#[derive(Debug, Parser)]
struct Cli {
    /// Optimizer steps of batch 100 (default 10,000; 50 with --smoke).
    #[arg(long, value_parser = shared::at_least_one::<u64>)]
    iterations: Option<u64>,
    /// 50 iterations on a small synthetic set, for CI.
    #[arg(long)]
    smoke: bool,
}

fn run(cli: Cli) -> Result<f64, TrainError> {
    let iterations = cli
        .iterations
        .unwrap_or(if cli.smoke { 50 } else { 10_000 });
    let (train, test, _) = shared::digits::<Image>(cli.smoke, if cli.smoke { 500 } else { 12_000 });
    let mut net = TwoLayerNet::<f32>::seeded(0);
    println!("{}", net.summary());
    let mut last_loss = f64::NAN;
    let mut report = callbacks::every_steps(1, |event, _| {
        last_loss = event.step_loss.unwrap_or(f64::NAN);
        if event.step % 1000 == 0 {
            println!("iteration {}: loss {last_loss:.4}", event.step);
        }
        Ok(())
    });
    let list: &mut [&mut dyn Callback<TwoLayerNet>] = &mut [&mut report];
    Trainer::new()
        .steps(iterations)
        .batch_size(100)
        .progress(Progress::Quiet)
        .fit_with_callbacks(&mut net, &train, None, &mut Sgd::new(0.1), |_, _| {}, list)?;
    let (train_m, test_m) = (evaluate(&net, &train, 500)?, evaluate(&net, &test, 500)?);
    println!(
        "after {}: loss {last_loss:.4}, train accuracy {:.2}%, test accuracy {:.2}%",
        count(iterations, "iteration", "iterations"),
        100.0 * train_m.accuracy.unwrap_or_default(),
        100.0 * test_m.accuracy.unwrap_or_default()
    );
    Ok(last_loss)
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(loss) if loss.is_finite() => ExitCode::SUCCESS,
        Ok(loss) => {
            eprintln!("error: the loss is {loss}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
