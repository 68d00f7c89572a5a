//! MLPerf Tiny's four reference networks declared with `network!`: DS-CNN
//! (keyword spotting), ResNet-8 (CIFAR-10), MobileNetV1 0.25 (visual wake
//! words) and the dense autoencoder (anomaly detection). Prints each one's
//! layer table, then trains it on synthetic data until it has memorized it.
//!
//! Run: `cargo run --release --example mlperf_tiny` (about a minute), or one
//! model with `--model ds-cnn|resnet8|mobilenet|autoencoder`. `--smoke`
//! trains each for a few steps. Prints, per model, the trainable parameter
//! count and the mean loss of the first and last pass over the data.

mod models;
mod synthetic;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use constnet::loss::Target;
use constnet::text::{Elapsed, count};
use constnet::{Network, Tensor, Trainable, persist};
use models::{AutoEncoder, DsCnn, MobileNetV1, ResNet8};

/// Train MLPerf Tiny's four reference networks on synthetic data until they
/// have memorized it.
#[derive(Debug, Parser)]
struct Cli {
    /// Train only this model.
    #[arg(long, value_enum)]
    model: Option<Model>,
    /// A few steps per model, for CI.
    #[arg(long)]
    smoke: bool,
    /// Write each trained model to `DIR/<model>.safetensors`, with 100
    /// further synthetic inputs as raw little-endian f32 in
    /// `DIR/<model>.inputs.f32` (what `scripts/tflite_int8_networks.py`
    /// quantizes with TensorFlow Lite).
    #[arg(long, value_name = "DIR")]
    save: Option<PathBuf>,
}

/// The four reference networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Model {
    /// DS-CNN, keyword spotting.
    DsCnn,
    /// ResNet-8, CIFAR-10.
    Resnet8,
    /// MobileNetV1 0.25, visual wake words.
    Mobilenet,
    /// The dense autoencoder, anomaly detection.
    Autoencoder,
}

/// Trains one model, prints its numbers, saves it when asked; `false` when
/// the loss did not fall by half or saving failed.
fn run<N, T>(name: &str, mut net: N, ts: &[T], steps: usize, lr: f64, cli: &Cli) -> bool
where
    N: Trainable<Elem = f32> + Network + Sync,
    T: Target<N::Output> + Sync,
{
    let xs = synthetic::inputs::<N::Input>(ts.len(), 1);
    println!("{}", net_summary::<N>());
    let start = Instant::now();
    match synthetic::memorize(&mut net, &xs, ts, steps, 8, lr) {
        Ok((first, last)) => {
            println!(
                "{name}: {} parameters, {} in {}, loss {first:.4} -> {last:.4}",
                N::PARAM_COUNT,
                count(steps, "step", "steps"),
                Elapsed(start.elapsed())
            );
            (cli.smoke || last < first / 2.0)
                && cli.save.as_deref().is_none_or(|dir| save(name, &net, dir))
        }
        Err(e) => {
            eprintln!("error: {name}: {e}");
            false
        }
    }
}

/// Writes the trained model and 100 further inputs to `dir`.
fn save<N: Network<Elem = f32>>(name: &str, net: &N, dir: &Path) -> bool {
    let inputs: Vec<u8> = synthetic::inputs::<N::Input>(100, 7)
        .iter()
        .flat_map(|x| x.as_flat().iter().flat_map(|v| v.to_le_bytes()))
        .collect();
    let written = std::fs::create_dir_all(dir)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            persist::save_safetensors(net, dir.join(format!("{name}.safetensors")))
                .map_err(|e| e.to_string())
        })
        .and_then(|()| {
            persist::write_atomic(&dir.join(format!("{name}.inputs.f32")), &inputs)
                .map_err(|e| e.to_string())
        });
    match written {
        Ok(()) => {
            println!("{name}: saved to {}", dir.display());
            true
        }
        Err(e) => {
            eprintln!("error: {name}: {e}");
            false
        }
    }
}

fn net_summary<N: Network>() -> constnet::network::summary::Summary<N> {
    constnet::network::summary::Summary::new()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (model, smoke) = (cli.model, cli.smoke);
    let pick = |m: Model| model.is_none_or(|only| only == m);
    let steps = |n: usize| if smoke { 3 } else { n };
    let mut ok = true;
    if pick(Model::DsCnn) {
        let ts = synthetic::labels(32, 12, 2);
        ok &= run(
            "ds-cnn",
            DsCnn::<f32>::seeded(0),
            &ts,
            steps(200),
            3e-3,
            &cli,
        );
    }
    if pick(Model::Resnet8) {
        let ts = synthetic::labels(32, 10, 2);
        ok &= run(
            "resnet8",
            ResNet8::<f32>::seeded(0),
            &ts,
            steps(200),
            3e-3,
            &cli,
        );
    }
    if pick(Model::Mobilenet) {
        let ts = synthetic::labels(16, 2, 2);
        ok &= run(
            "mobilenet",
            MobileNetV1::<f32>::seeded(0),
            &ts,
            steps(100),
            3e-3,
            &cli,
        );
    }
    if pick(Model::Autoencoder) {
        let xs = synthetic::inputs::<[f32; 640]>(32, 1);
        ok &= run(
            "autoencoder",
            AutoEncoder::<f32>::seeded(0),
            &xs,
            steps(200),
            1e-3,
            &cli,
        );
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
