//! Host side of the Cortex-M demos in `embedded/`: trains the demo CNN, writes
//! the assets the firmware embeds, and prints the host's outputs in the
//! firmware's format so the two can be compared with `diff`.
//!
//! ```text
//! cargo run --release --example embedded_assets -- train [--epochs N]  # ~2 min: retrain, rewrite assets
//! cargo run --release --example embedded_assets -- check               # test accuracy of the committed weights
//! cargo run --release --example embedded_assets -- simple              # write SimpleConvNet's 1.7 MB weights
//! cargo run --release --example embedded_assets -- outputs digits      # host lines for the 100 test images
//! cargo run --release --example embedded_assets -- outputs simple      # the same for SimpleConvNet
//! cargo run --release --example embedded_assets -- mlperf              # DS-CNN and ResNet-8 assets from the PyTorch fixtures
//! cargo run --release --example embedded_assets -- outputs ds-cnn      # host lines for DS-CNN's 8 inputs (or resnet8)
//! cargo run --release --example embedded_assets -- int8                # int8 Digits and DS-CNN assets (after mlperf)
//! cargo run --release --example embedded_assets -- outputs digits-int8 # host lines of the int8 demos (or ds-cnn-int8)
//! cargo run --example embedded_assets -- --smoke                       # synthetic data, writes nothing
//! ```
//!
//! MNIST is read from `$MNIST_DIR` (or `./data/mnist`). `train` prints one
//! line per epoch and the test accuracy (98.44% for the committed weights); `check` fails below 98%;
//! `outputs` prints `img 000 label 7 pred 7 y …` lines and `accuracy 99/100`
//! (for `ds-cnn` and `resnet8`: `x 000 pred 3 y …` lines and `identical 8/8`).
//!
//! The assets, in `embedded/assets/`:
//! - `digits.cnet`: the trained `Digits` in constnet's parameter format;
//! - `test_images.u8`: the first 100 MNIST test images, 784 pixel bytes each;
//! - `test_labels.u8`: their 100 labels, one byte each;
//! - `simple_conv_net.cnet` (`simple`, not committed): a seeded, untrained SimpleConvNet;
//! - `ds_cnn.cnet`, `resnet8.cnet` and their `*.inputs.f32` and
//!   `*.expected.f32` (`mlperf`, not committed): the weights and the 8 inputs
//!   of the PyTorch fixtures in `tests/fixtures/pytorch/` (PyTorch's
//!   initialization with calibrated batch norm, not trained), as constnet's
//!   byte format and as raw little-endian `f32`, and the logits of the
//!   portable kernels, which the firmware must reproduce bit for bit.
//!   `mlperf` also checks that those logits are PyTorch's within 1e-5;
//! - `digits.q8`, `ds_cnn.q8` (`int8`, not committed): the two networks in
//!   int8 (constnet's int8 format), `Digits` calibrated on 1,000 MNIST
//!   training images, DS-CNN on its 8 inputs, which `ds_cnn.int8.inputs.i8`
//!   holds quantized; `ds_cnn.int8.expected.f32` the host's dequantized
//!   int8 logits for them.

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use constnet::data::{Dataset, InMemory, Mnist, Scaling, SyntheticDigits};
use constnet::optim::Adam;
use constnet::persist;
use constnet::quant::{self, Method, QNet};
use constnet::text::{Elapsed, count};
use constnet::train::{Progress, Trainer, evaluate, fit_normalization};
use constnet::{Network, Tensor};

#[path = "../embedded/src/nets.rs"]
#[expect(dead_code, reason = "the XOR items are only used by the firmware")]
mod nets;
#[path = "../embedded/src/report.rs"]
mod report;
#[allow(
    dead_code,
    reason = "this example takes its own flags, not the shared training run's"
)]
mod shared;

use nets::mlperf::{DsCnn, ResNet8};
use nets::{Digits, Image, MLPERF_SAMPLES, SimpleConvNet, TEST_IMAGES};
use safetensors::{Dtype, SafeTensors};

/// Seed of the initialization, the validation split and the shuffling.
const SEED: u64 = 2024;
/// Epochs of the committed weights.
const EPOCHS: usize = 10;
/// Minimum test accuracy of the committed weights.
const MIN_ACCURACY: f64 = 0.98;
/// Largest difference of a logit from PyTorch's, as in `tests/integration/pytorch.rs`.
const PYTORCH_TOLERANCE: f32 = 1e-5;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn assets() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("embedded/assets")
}

/// Makes the host compute exactly what the firmware computes.
///
/// NOTE: the single switch for bit-exactness. The portable kernels sum in
/// the same order as the Cortex-M build and never fuse multiply-adds; the
/// AVX2/FMA kernels a desktop would pick otherwise round differently.
fn force_portable_kernels() {
    constnet::kernels::dispatch::set_portable(true);
}

fn mnist() -> Result<Mnist<Image>> {
    let dir =
        Mnist::dir_from_env().ok_or("MNIST not found: set MNIST_DIR to the MNIST directory")?;
    Ok(Mnist::<Image>::load_with(&dir, Scaling::Raw)?)
}

/// `f32` input of a pixel byte, exactly as the MNIST loader (`Scaling::Raw`)
/// and the firmware's build script compute it: the value itself, since
/// `Digits` standardizes inside.
fn scale(b: u8) -> f32 {
    f32::from(b)
}

/// The pixel byte an input came from; `None` if no byte gives this value.
fn unscale(x: f32) -> Option<u8> {
    let b = f64::from(x).round();
    (0.0..=255.0)
        .contains(&b)
        .then_some(b as u8)
        .filter(|&b| scale(b).to_bits() == x.to_bits())
}

/// The committed test images and labels.
fn test_assets() -> Result<(Vec<Image>, Vec<u8>)> {
    let pixels = std::fs::read(assets().join("test_images.u8"))?;
    let labels = std::fs::read(assets().join("test_labels.u8"))?;
    if pixels.len() != TEST_IMAGES * 784 || labels.len() != TEST_IMAGES {
        return Err("test_images.u8 or test_labels.u8 has the wrong length".into());
    }
    let images = pixels
        .chunks_exact(784)
        .map(|img| {
            [core::array::from_fn(|y| {
                core::array::from_fn(|x| scale(img[28 * y + x]))
            })]
        })
        .collect();
    Ok((images, labels))
}

fn train(epochs: usize) -> Result<()> {
    let mnist = mnist()?;
    let (train, valid) = mnist.train.split(1.0 / 12.0, SEED);
    let mut net = Digits::<f32>::seeded(SEED);
    fit_normalization(&mut net, &train)?;
    println!("{}", net.summary());
    let mut opt = Adam::new(2e-3);
    let start = Instant::now();
    Trainer::new()
        .epochs(epochs)
        .batch_size(32)
        .seed(SEED)
        .progress(Progress::Lines)
        .fit(&mut net, &train, Some(&valid), &mut opt)?;
    let took = Elapsed(start.elapsed());
    let test = evaluate(&net, &mnist.test, 500)?;
    println!(
        "{} in {took} on {} training images; test accuracy {:.2}% (loss {:.4})",
        count(epochs, "epoch", "epochs"),
        train.len(),
        100.0 * test.accuracy.unwrap_or_default(),
        test.loss
    );
    if test.accuracy.unwrap_or_default() < MIN_ACCURACY {
        return Err(format!(
            "test accuracy below {:.0}%: assets not written",
            100.0 * MIN_ACCURACY
        )
        .into());
    }
    persist::save_bytes(&net, assets().join("digits.cnet"))?;
    let (images, labels) = (
        &mnist.test.inputs()[..TEST_IMAGES],
        &mnist.test.targets()[..TEST_IMAGES],
    );
    let mut pixels = Vec::with_capacity(TEST_IMAGES * 784);
    for x in images {
        for &v in x.as_flattened().as_flattened() {
            pixels.push(unscale(v).ok_or("MNIST input is not a scaled pixel byte")?);
        }
    }
    let labels: Vec<u8> = labels.iter().map(|&l| l as u8).collect();
    std::fs::write(assets().join("test_images.u8"), pixels)?;
    std::fs::write(assets().join("test_labels.u8"), labels)?;
    println!(
        "wrote digits.cnet, test_images.u8 and test_labels.u8 in {}",
        assets().display()
    );
    Ok(())
}

/// The committed weights reach the required test accuracy, and the committed
/// images are MNIST's first test images.
fn check() -> Result<()> {
    let mnist = mnist()?;
    let mut net = Digits::<f32>::zeroed();
    persist::load_bytes(&mut net, assets().join("digits.cnet"))?;
    let test = evaluate(&net, &mnist.test, 500)?;
    println!(
        "digits.cnet: test accuracy {:.2}% on {} images (loss {:.4}); required {:.0}%",
        100.0 * test.accuracy.unwrap_or_default(),
        mnist.test.len(),
        test.loss,
        100.0 * MIN_ACCURACY
    );
    let (images, labels) = test_assets()?;
    let same_images = images.iter().zip(mnist.test.inputs()).all(|(a, b)| {
        a.as_flattened()
            .as_flattened()
            .iter()
            .zip(b.as_flattened().as_flattened())
            .all(|(a, b)| a.to_bits() == b.to_bits())
    });
    let same_labels = labels
        .iter()
        .zip(mnist.test.targets())
        .all(|(&a, &b)| usize::from(a) == b);
    if !(same_images && same_labels) {
        return Err(
            "test_images.u8 / test_labels.u8 are not MNIST's first 100 test samples".into(),
        );
    }
    if test.accuracy.unwrap_or_default() < MIN_ACCURACY {
        return Err("the committed weights are below the required test accuracy".into());
    }
    Ok(())
}

/// Writes `bytes` to the asset `name` unless it already holds them, so the
/// firmware is not rebuilt for nothing.
fn write_asset(name: &str, bytes: &[u8]) -> Result<()> {
    let path = assets().join(name);
    if std::fs::read(&path).ok().as_deref() != Some(bytes) {
        std::fs::write(&path, bytes)?;
    }
    println!("{}: {} bytes", path.display(), bytes.len());
    Ok(())
}

/// Writes a seeded, untrained SimpleConvNet for the 4 MiB footprint demo.
fn simple() -> Result<()> {
    write_asset(
        "simple_conv_net.cnet",
        &persist::to_bytes(&SimpleConvNet::<f32>::seeded(SEED))?,
    )
}

/// The `f32` tensor `name` of a safetensors file, checked to have `shape`.
fn f32_tensor(file: &SafeTensors<'_>, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
    let view = file.tensor(name)?;
    if view.dtype() != Dtype::F32 || view.shape() != shape {
        return Err(format!("`{name}` is not f32 of shape {shape:?}").into());
    }
    Ok(f32s(view.data()))
}

/// Little-endian `f32` values, as the firmware's `inputs::f32s` decodes them.
fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Writes the assets of an MLPerf Tiny demo from the PyTorch fixture
/// `stem`: the weights (`<stem>.cnet`), the inputs (`<stem>.inputs.f32`) and
/// the logits the portable kernels compute for them (`<stem>.expected.f32`),
/// which the firmware compares with its own bit for bit. Fails unless those
/// logits are PyTorch's within [`PYTORCH_TOLERANCE`].
fn mlperf<N: Network<Elem = f32>>(
    stem: &str,
    mut net: N,
    logits: fn(&N, &N::Input) -> N::Output,
) -> Result<()> {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pytorch");
    persist::load_safetensors(&mut net, fixtures.join(format!("{stem}.safetensors")))?;
    let io = std::fs::read(fixtures.join(format!("{stem}.io.safetensors")))?;
    let io = SafeTensors::deserialize(&io)?;
    let inputs = f32_tensor(&io, "inputs", &[&[MLPERF_SAMPLES], N::INPUT_SHAPE].concat())?;
    let theirs = f32_tensor(&io, "logits", &[MLPERF_SAMPLES, N::OUTPUT_LEN])?;
    let ours: Vec<f32> = N::Input::batch_of(&inputs)
        .iter()
        .flat_map(|x| logits(&net, x).as_flat().to_vec())
        .collect();
    let worst = ours
        .iter()
        .zip(&theirs)
        // `f32::max` ignores NaN, so a NaN difference counts as infinite.
        .map(|(a, b)| (a - b).abs())
        .map(|d| if d.is_nan() { f32::INFINITY } else { d })
        .fold(0.0f32, f32::max);
    println!(
        "{stem}: portable logits within {worst:.2e} of PyTorch's (tolerance {PYTORCH_TOLERANCE:.0e})"
    );
    if worst > PYTORCH_TOLERANCE {
        return Err(format!("{stem}: logits differ from PyTorch's by {worst:.2e}").into());
    }
    write_asset(&format!("{stem}.cnet"), &persist::to_bytes(&net)?)?;
    write_asset(&format!("{stem}.inputs.f32"), &le_bytes(&inputs))?;
    write_asset(&format!("{stem}.expected.f32"), &le_bytes(&ours))
}

/// `values` as little-endian bytes, as [`f32s`] reads them back.
fn le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Prints the lines the MLPerf Tiny firmware `stem` prints: the logits of
/// each input, computed again from the written weights and inputs, and how
/// many are bit-identical to the expected ones the firmware compares with.
fn mlperf_outputs<N: Network<Elem = f32>>(
    stem: &str,
    mut net: N,
    logits: fn(&N, &N::Input) -> N::Output,
) -> Result<()> {
    persist::load_bytes(&mut net, assets().join(format!("{stem}.cnet")))?;
    let read = |kind: &str, len: usize| -> Result<Vec<f32>> {
        let values = f32s(&std::fs::read(assets().join(format!("{stem}.{kind}.f32")))?);
        if values.len() != MLPERF_SAMPLES * len {
            return Err(format!("{stem}.{kind}.f32 has the wrong length: run `mlperf`").into());
        }
        Ok(values)
    };
    let inputs = read("inputs", N::INPUT_LEN)?;
    let expected = read("expected", N::OUTPUT_LEN)?;
    let mut out = Vec::new();
    let mut same = 0;
    for (k, (x, expected)) in N::Input::batch_of(&inputs)
        .iter()
        .zip(expected.chunks_exact(N::OUTPUT_LEN))
        .enumerate()
    {
        let y = logits(&net, x);
        same += usize::from(report::same_bits(y.as_flat(), expected));
        out.extend_from_slice(report::sample(k, y.as_flat()).finish());
    }
    out.extend_from_slice(report::identical(same, MLPERF_SAMPLES).finish());
    print!("{}", String::from_utf8(out)?);
    Ok(())
}

/// Prints the lines the firmware prints, from the same files: the logits
/// (the inputs of the final softmax) of every test image.
fn outputs<N: Network<Input = Image, Output = [f32; 10]>>(
    mut net: N,
    file: &str,
    logits: fn(&N, &Image) -> [f32; 10],
) -> Result<()> {
    persist::load_bytes(&mut net, assets().join(file))?;
    let (images, labels) = test_assets()?;
    let mut correct = 0;
    let mut out = Vec::new();
    for (k, (x, &label)) in images.iter().zip(&labels).enumerate() {
        let y = logits(&net, x);
        correct += usize::from(report::argmax(&y) == usize::from(label));
        out.extend_from_slice(report::prediction(k, label, &y).finish());
    }
    out.extend_from_slice(report::accuracy(correct, images.len()).finish());
    print!("{}", String::from_utf8(out)?);
    Ok(())
}

/// Training images `Digits` is calibrated on for int8.
const CALIBRATION_IMAGES: usize = 1000;

/// Writes the int8 demos' assets: `Digits` quantized with calibration on the
/// first [`CALIBRATION_IMAGES`] MNIST training images (`digits.q8`), and
/// DS-CNN quantized with calibration on its 8 inputs (`ds_cnn.q8`), with
/// those inputs quantized (`ds_cnn.int8.inputs.i8`) and the dequantized
/// int8 logits the host computes for them (`ds_cnn.int8.expected.f32`),
/// which the firmware compares with its own bit for bit.
fn int8() -> Result<()> {
    let mut digits = Digits::<f32>::zeroed();
    persist::load_bytes(&mut digits, assets().join("digits.cnet"))?;
    let mnist = mnist()?;
    let calibration = &mnist.train.inputs()[..CALIBRATION_IMAGES];
    let q = quant::quantize(&digits, calibration, Method::MinMax)?;
    let accuracy = |correct: usize| 100.0 * correct as f64 / mnist.test.len() as f64;
    let (mut f, mut i) = (0, 0);
    for (x, &label) in mnist.test.inputs().iter().zip(mnist.test.targets()) {
        f += usize::from(digits.predict_class(x) == label);
        i += usize::from(q.predict_class(x) == label);
    }
    println!(
        "digits: test accuracy f32 {:.2}%, int8 {:.2}%; {} bytes of int8 parameters ({} of f32)",
        accuracy(f),
        accuracy(i),
        QNet::<Digits>::FLASH_BYTES,
        4 * Digits::<f32>::STORE_LEN
    );
    write_asset("digits.q8", &persist::int8::to_bytes(&q))?;

    let mut ds_cnn = DsCnn::<f32>::zeroed();
    persist::load_bytes(&mut ds_cnn, assets().join("ds_cnn.cnet"))?;
    let inputs = f32s(&std::fs::read(assets().join("ds_cnn.inputs.f32"))?);
    let inputs = <DsCnn as Network>::Input::batch_of(&inputs);
    let q = quant::quantize(&ds_cnn, inputs, Method::MinMax)?;
    let int8_inputs: Vec<u8> = inputs
        .iter()
        .flat_map(|x| q.quantize_input(x).map(|v| v as u8))
        .collect();
    let logits: Vec<f32> = inputs
        .iter()
        .flat_map(|x| q.logits(x).as_flat().to_vec())
        .collect();
    write_asset("ds_cnn.q8", &persist::int8::to_bytes(&q))?;
    write_asset("ds_cnn.int8.inputs.i8", &int8_inputs)?;
    write_asset("ds_cnn.int8.expected.f32", &le_bytes(&logits))
}

/// Prints the lines the int8 `Digits` firmware prints: the dequantized int8
/// logits of every test image.
fn int8_outputs() -> Result<()> {
    let q: QNet<Digits> = persist::int8::load(assets().join("digits.q8"))?;
    let (images, labels) = test_assets()?;
    let mut correct = 0;
    let mut out = Vec::new();
    for (k, (x, &label)) in images.iter().zip(&labels).enumerate() {
        let y = q.logits(x);
        correct += usize::from(report::argmax(&y) == usize::from(label));
        out.extend_from_slice(report::prediction(k, label, &y).finish());
    }
    out.extend_from_slice(report::accuracy(correct, images.len()).finish());
    print!("{}", String::from_utf8(out)?);
    Ok(())
}

/// Prints the lines the int8 DS-CNN firmware prints.
fn ds_cnn_int8_outputs() -> Result<()> {
    let q: QNet<DsCnn> = persist::int8::load(assets().join("ds_cnn.q8"))?;
    let inputs = std::fs::read(assets().join("ds_cnn.int8.inputs.i8"))?;
    let expected = f32s(&std::fs::read(assets().join("ds_cnn.int8.expected.f32"))?);
    let (n, k) = (DsCnn::<f32>::INPUT_LEN, DsCnn::<f32>::OUTPUT_LEN);
    if inputs.len() != MLPERF_SAMPLES * n || expected.len() != MLPERF_SAMPLES * k {
        return Err("the int8 DS-CNN assets have the wrong length: run `int8`".into());
    }
    let mut out = Vec::new();
    let mut same = 0;
    for (k, (x, expected)) in inputs
        .chunks_exact(n)
        .zip(expected.chunks_exact(k))
        .enumerate()
    {
        let x8: [i8; DsCnn::<f32>::INPUT_LEN] = core::array::from_fn(|i| x[i] as i8);
        let y = q.dequantize(&q.predict_int8(&x8));
        same += usize::from(report::same_bits(&y, expected));
        out.extend_from_slice(report::sample(k, &y).finish());
    }
    out.extend_from_slice(report::identical(same, MLPERF_SAMPLES).finish());
    print!("{}", String::from_utf8(out)?);
    Ok(())
}

/// A few steps on synthetic digits: the example's code runs, the loss is finite.
fn smoke() -> Result<()> {
    let data: InMemory<Image, usize> = SyntheticDigits::new(256, 1).generate();
    let mut net = Digits::<f32>::seeded(SEED);
    fit_normalization(&mut net, &data)?;
    let history = Trainer::new()
        .epochs(1)
        .batch_size(32)
        .progress(Progress::Quiet)
        .fit(&mut net, &data, None, &mut Adam::new(2e-3))?;
    let loss = history.last().ok_or("no epoch ran")?.train_loss;
    if !loss.is_finite() {
        return Err(format!("loss is {loss}").into());
    }
    let (x, label) = SyntheticDigits::new(1, 2).sample::<Image>(0);
    let line = report::prediction(0, label as u8, &net.predict(&x))
        .finish()
        .to_vec();
    print!("smoke: loss {loss:.4}; {}", String::from_utf8(line)?);
    Ok(())
}

/// Train the embedded demos' network, write the assets the firmware embeds,
/// and print the host's outputs in the firmware's format.
#[derive(Debug, Parser)]
#[command(name = "embedded_assets", args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// A few steps on synthetic data, for CI; writes nothing.
    #[arg(long)]
    smoke: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Retrain `Digits` on MNIST and rewrite its assets (about 2 minutes).
    Train {
        /// Passes over the training set.
        #[arg(long, default_value_t = EPOCHS, value_parser = shared::at_least_one::<usize>)]
        epochs: usize,
    },
    /// Check the test accuracy of the committed weights.
    Check,
    /// Write SimpleConvNet's seeded, untrained weights (1.7 MB).
    Simple,
    /// Write DS-CNN's and ResNet-8's assets from the PyTorch fixtures.
    Mlperf,
    /// Write the int8 demos' assets (after `mlperf`; needs MNIST).
    Int8,
    /// Print the host's lines for a firmware demo.
    Outputs {
        /// The demo.
        #[arg(value_enum)]
        demo: Demo,
    },
}

/// The firmware demos whose outputs the host prints.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Demo {
    /// `Digits` on the 100 committed test images.
    Digits,
    /// SimpleConvNet on the same images.
    Simple,
    /// DS-CNN on its 8 inputs.
    DsCnn,
    /// ResNet-8 on its 8 inputs.
    Resnet8,
    /// The int8 `Digits` on the 100 committed test images.
    DigitsInt8,
    /// The int8 DS-CNN on its 8 inputs.
    DsCnnInt8,
}

fn run(command: Command) -> Result<()> {
    force_portable_kernels();
    match command {
        Command::Train { epochs } => train(epochs),
        Command::Check => check(),
        Command::Simple => simple(),
        Command::Mlperf => {
            mlperf("ds_cnn", DsCnn::<f32>::zeroed(), DsCnn::logits)?;
            mlperf("resnet8", ResNet8::<f32>::zeroed(), ResNet8::logits)
        }
        Command::Int8 => int8(),
        Command::Outputs { demo } => match demo {
            Demo::DsCnn => mlperf_outputs("ds_cnn", DsCnn::<f32>::zeroed(), DsCnn::logits),
            Demo::Resnet8 => mlperf_outputs("resnet8", ResNet8::<f32>::zeroed(), ResNet8::logits),
            Demo::Digits => outputs(Digits::<f32>::zeroed(), "digits.cnet", Digits::logits),
            Demo::DigitsInt8 => int8_outputs(),
            Demo::DsCnnInt8 => ds_cnn_int8_outputs(),
            Demo::Simple => outputs(
                SimpleConvNet::<f32>::zeroed(),
                "simple_conv_net.cnet",
                SimpleConvNet::logits,
            ),
        },
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match (cli.command, cli.smoke) {
        (Some(command), _) => run(command),
        (None, true) => {
            force_portable_kernels();
            smoke()
        }
        (None, false) => Cli::command()
            .error(
                ErrorKind::MissingSubcommand,
                "name a command (`--help` lists them), or give `--smoke`",
            )
            .exit(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("embedded_assets: {e}");
            ExitCode::FAILURE
        }
    }
}
