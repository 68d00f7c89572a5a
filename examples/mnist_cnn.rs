//! Trains the classic SimpleConvNet on MNIST and reports test accuracy: the
//! quick start's main job.
//!
//! Run: `cargo run --release --example mnist_cnn` (MNIST from `MNIST_DIR` or
//! `./data/mnist`; without it, a built-in synthetic digit set); `-- --help`
//! lists the flags. Any of the seven optimizers and any schedule come from
//! flags (`--optimizer momentum:lr=0.05 --schedule warmup:steps=200+cosine`).
//!
//! Prints the layer table, a progress bar (one line per epoch when not on a
//! terminal), test loss and accuracy after every epoch, the wall time at
//! which test accuracy first reached 99.0%, and the final test accuracy.
//! Default recipe: Adam, lr 0.002 cosine-annealed to 0 over the run, batch
//! 100, random shifts of up to 2 pixels, 8 epochs.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};
use constnet::data::transform::random_shift_batch;
use constnet::data::{Dataset, InMemory};
use constnet::quant::{self, Method, QNet};
use constnet::text::{Elapsed, count};
use constnet::{Network, network};

mod shared;

network! {
    /// The classic convolutional network: one convolution block, two affine layers.
    pub struct SimpleConvNet: [1, 28, 28] =>
        conv(30, 5) -> relu -> pool(2) -> affine(100) -> relu -> affine(10) -> softmax
}

type Image = [[[f32; 28]; 28]; 1];

/// Train SimpleConvNet on MNIST and report test accuracy.
///
/// MNIST is read from $MNIST_DIR or ./data/mnist (the four IDX files, raw or
/// gzip). Without it the built-in synthetic digits are used, and the run says so.
#[derive(Debug, Parser)]
#[command(name = "mnist_cnn")]
struct Cli {
    #[command(flatten)]
    run: shared::RunArgs,
    /// Train without random shifts.
    #[arg(long)]
    no_augment: bool,
    /// Write the trained parameters (constnet's byte format) to this file.
    #[arg(long, value_parser = shared::output_file)]
    save: Option<PathBuf>,
    /// Fetch MNIST into ./data/mnist first (checksums verified; needs
    /// `--features download`; the base URL is $MNIST_URL or a public mirror).
    #[arg(long)]
    download: bool,
}

/// Fetches MNIST into `./data/mnist`, where `load` finds it.
#[cfg(feature = "download")]
fn download() -> Result<(), String> {
    let base = std::env::var("MNIST_URL")
        .unwrap_or_else(|_| constnet::data::download::DEFAULT_BASE_URL.to_string());
    println!("downloading MNIST from {base} into data/mnist");
    constnet::data::Mnist::download("data/mnist", &base).map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(not(feature = "download"))]
fn download() -> Result<(), String> {
    Err("this build cannot download: run it with `--features download`".into())
}

fn run(cli: Cli) -> Result<(), String> {
    let start = Instant::now();
    if cli.download {
        download()?;
    }
    let mut args = cli.run.clone();
    if args.smoke {
        args.epochs = 1;
    }
    let (train, test, source) =
        shared::digits::<Image>(args.smoke, if args.smoke { 500 } else { 12_000 });
    let mut net = SimpleConvNet::<f32>::seeded(args.seed);
    println!("{}", net.summary());
    println!(
        "data: {source}, {} training and {} test images; {} of batch {}, {:?}, {:?}",
        train.len(),
        test.len(),
        count(args.epochs, "epoch", "epochs"),
        args.batch,
        args.optimizer,
        args.schedule
    );
    let trainer = args.trainer();
    let mut opt = args.optimizer(train.len());
    let augment = !cli.no_augment && !args.smoke;
    let history = trainer
        .fit_with(&mut net, &train, Some(&test), &mut opt, |xs, rng| {
            if augment {
                random_shift_batch(xs, 2, rng);
            }
        })
        .map_err(|e| e.to_string())?;
    let mut elapsed =
        start.elapsed().as_secs_f64() - history.epochs.iter().map(|e| e.seconds).sum::<f64>();
    let mut reached = None;
    for e in &history.epochs {
        elapsed += e.seconds;
        if reached.is_none() && e.val_accuracy.is_some_and(|a| a >= 0.99) {
            reached = Some((e.epoch, elapsed));
        }
    }
    let last = history.last().ok_or("no epoch ran")?;
    if !last.train_loss.is_finite() {
        return Err(format!("the training loss is {}", last.train_loss));
    }
    match reached {
        Some((epoch, secs)) => println!(
            "reached 99.0% test accuracy after epoch {epoch}, {} from start",
            Elapsed::secs(secs)
        ),
        None => println!("did not reach 99.0% test accuracy"),
    }
    let acc = last.val_accuracy.unwrap_or(0.0);
    println!(
        "final test accuracy: {:.2}% ({source}), {} in total",
        100.0 * acc,
        Elapsed(start.elapsed())
    );
    report_int8(&net, &train, &test)?;
    if let Some(path) = cli.save {
        constnet::persist::save_bytes(&net, &path).map_err(|e| e.to_string())?;
        println!("parameters written to {}", path.display());
    }
    Ok(())
}

/// Quantizes the trained network to int8 (calibrated on up to 1,000
/// training images) and prints its test accuracy beside the `f32` one.
fn report_int8(
    net: &SimpleConvNet,
    train: &InMemory<Image, usize>,
    test: &InMemory<Image, usize>,
) -> Result<(), String> {
    let start = Instant::now();
    let calibration = &train.inputs()[..train.len().min(1000)];
    let q = quant::quantize(net, calibration, Method::MinMax).map_err(|e| e.to_string())?;
    let accuracy = |predict: &dyn Fn(&Image) -> usize| {
        let hits = (0..test.len())
            .filter(|&i| predict(&test.inputs()[i]) == test.targets()[i])
            .count();
        100.0 * hits as f64 / test.len().max(1) as f64
    };
    let (f32_acc, int8_acc) = (
        accuracy(&|x| net.predict_class(x)),
        accuracy(&|x| q.predict_class(x)),
    );
    println!(
        "int8: test accuracy {int8_acc:.2}% (f32 {f32_acc:.2}%), {} bytes of parameters instead of {}, in {}",
        QNet::<SimpleConvNet>::FLASH_BYTES,
        4 * SimpleConvNet::<f32>::STORE_LEN,
        Elapsed(start.elapsed())
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.download && !cfg!(feature = "download") {
        Cli::command()
            .error(
                ErrorKind::ArgumentConflict,
                "`--download` needs a build with `--features download`",
            )
            .exit();
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
