//! Transfer learning: a convolutional network trained on MNIST digits 0–4
//! lends its convolution layers, frozen, to a network for digits 5–9 with a
//! new head; the example compares its accuracy and training time with the
//! same network trained from scratch on the same (small) 5–9 set.
//!
//! Run: `cargo run --release --example transfer` (MNIST from `MNIST_DIR` or
//! `./data/mnist`, else the built-in synthetic digits); `-- --help` lists
//! the flags; `-- --smoke` is a quick run on synthetic digits for CI.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use constnet::data::{Dataset, InMemory};
use constnet::persist::{self, NameMap};
use constnet::text::Elapsed;
use constnet::train::{Trainer, evaluate};
use constnet::{Network, network};

#[expect(
    dead_code,
    reason = "this example writes no file, so it has no use for `output_file`"
)]
mod shared;

network! {
    /// Two convolution blocks (the features reused) and a two-layer head.
    pub struct DigitNet: [1, 28, 28] => conv(16, 5) -> relu -> pool(2)
        -> conv(32, 5) -> relu -> pool(2) -> affine(64) -> relu -> affine(5) -> softmax
}

type Image = [[[f32; 28]; 28]; 1];
type Digits = InMemory<Image, usize>;

/// The layers reused from the 0–4 network.
const FEATURES: [&str; 1] = ["conv*"];

/// Train on digits 0–4, then reuse the frozen convolutions for 5–9.
#[derive(Debug, Parser)]
#[command(mut_arg("epochs", |a| a.default_value("2")))]
struct Cli {
    #[command(flatten)]
    run: shared::RunArgs,
    /// Training samples of digits 5–9 (few, where reused features help most).
    #[arg(long, default_value_t = 1000, value_parser = shared::at_least_one::<usize>)]
    samples: usize,
}

/// The samples of `data` whose digit is in `digits`, relabelled from 0.
fn digits(data: &Digits, digits: std::ops::Range<usize>, limit: usize) -> Digits {
    let picked: Vec<usize> = (0..data.len())
        .filter(|&i| digits.contains(&data.targets()[i]))
        .take(limit)
        .collect();
    data.subset(&picked).map_targets(|t| t - digits.start)
}

/// Trains `net` on `train` and returns its accuracy on `test` and the
/// time training took.
fn train(
    args: &shared::RunArgs,
    trainer: Trainer,
    net: &mut DigitNet,
    train: &Digits,
    test: &Digits,
) -> Result<(f64, Duration), String> {
    let start = Instant::now();
    trainer
        .fit(net, train, None, &mut args.optimizer(train.len()))
        .map_err(|e| e.to_string())?;
    let took = start.elapsed();
    let accuracy = evaluate(net, test, 500)
        .map_err(|e| e.to_string())?
        .accuracy;
    Ok((accuracy.unwrap_or_default(), took))
}

fn run(cli: Cli) -> Result<(), String> {
    let mut args = cli.run;
    if args.smoke {
        args.epochs = 1;
    }
    let samples = if args.smoke { 200 } else { cli.samples };
    let (all_train, all_test, source) =
        shared::digits::<Image>(args.smoke, if args.smoke { 1000 } else { 20_000 });
    let (low_train, low_test) = (
        digits(&all_train, 0..5, usize::MAX),
        digits(&all_test, 0..5, usize::MAX),
    );
    let (high_train, high_test) = (
        digits(&all_train, 5..10, samples),
        digits(&all_test, 5..10, usize::MAX),
    );
    println!(
        "data: {source}; digits 0–4: {} training, {} test images; digits 5–9: {} training, {} test",
        low_train.len(),
        low_test.len(),
        high_train.len(),
        high_test.len()
    );

    let mut base = DigitNet::<f32>::seeded(args.seed);
    let (base_acc, base_time) = train(&args, args.trainer(), &mut base, &low_train, &low_test)?;
    println!(
        "digits 0–4 from scratch: test accuracy {:.2}%, {}",
        100.0 * base_acc,
        Elapsed(base_time)
    );
    let file = std::env::temp_dir().join(format!(
        "constnet-transfer-{}.safetensors",
        std::process::id()
    ));
    persist::save_safetensors(&base, &file).map_err(|e| e.to_string())?;

    let mut reused = DigitNet::<f32>::seeded(args.seed + 1);
    let loaded = persist::load_mapped(&mut reused, &file, &NameMap::Same, Some(&FEATURES));
    std::fs::remove_file(&file).map_err(|e| e.to_string())?;
    loaded.map_err(|e| e.to_string())?;
    let features = reused.clone();
    let frozen = args.trainer().freeze(&FEATURES);
    let (reused_acc, reused_time) = train(&args, frozen, &mut reused, &high_train, &high_test)?;
    let unchanged = DigitNet::<f32>::TENSORS
        .iter()
        .filter(|t| t.name.starts_with("conv"))
        .all(|t| reused.params()[t.range()] == features.params()[t.range()]);
    if !unchanged {
        return Err("a frozen tensor changed during fine-tuning".into());
    }

    let mut scratch = DigitNet::<f32>::seeded(args.seed + 1);
    let (scratch_acc, scratch_time) =
        train(&args, args.trainer(), &mut scratch, &high_train, &high_test)?;
    println!(
        "digits 5–9, frozen 0–4 convolutions + new head: test accuracy {:.2}%, {}",
        100.0 * reused_acc,
        Elapsed(reused_time)
    );
    println!(
        "digits 5–9 from scratch:                      test accuracy {:.2}%, {}",
        100.0 * scratch_acc,
        Elapsed(scratch_time)
    );
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
