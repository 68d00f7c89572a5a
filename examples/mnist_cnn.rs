//! Trains the classic SimpleConvNet on MNIST and reports test accuracy: the
//! quick start's main job.
//!
//! Run: `cargo run --release --example mnist_cnn` (MNIST from `MNIST_DIR` or
//! `./data/mnist`; without it, a built-in synthetic digit set). Flags:
//! `--epochs N --batch N --lr X --optimizer adam|adamw|sgd|momentum|nesterov|adagrad|rmsprop
//! --seed N --threads N --no-augment --save PATH --download --smoke --help`.
//!
//! Prints the layer table, a progress bar (one line per epoch when not on a
//! terminal), test loss and accuracy after every epoch, the wall time at
//! which test accuracy first reached 99.0%, and the final test accuracy.
//! Default recipe: Adam, lr 0.002 cosine-annealed to 0 over the run, batch
//! 100, random shifts of up to 2 pixels, 8 epochs.

use std::process::ExitCode;
use std::time::Instant;

use constnet::data::transform::random_shift_batch;
use constnet::data::{Dataset, InMemory, Mnist, SyntheticDigits};
use constnet::network;
use constnet::optim::{
    AdaGrad, Adam, AdamW, Cosine, Momentum, Nesterov, Optimizer, RmsProp, Scheduled, Sgd,
};
use constnet::train::{Progress, Trainer};

network! {
    /// The classic convolutional network: one convolution block, two affine layers.
    pub struct SimpleConvNet: [1, 28, 28] =>
        conv(30, 5) -> relu -> pool(2) -> affine(100) -> relu -> affine(10) -> softmax
}

type Image = [[[f32; 28]; 28]; 1];

const HELP: &str = "\
mnist_cnn: train SimpleConvNet on MNIST and report test accuracy

USAGE: cargo run --release --example mnist_cnn -- [FLAGS]

FLAGS:
  --epochs N        passes over the training set (default 8)
  --batch N         samples per step (default 100)
  --lr X            peak learning rate (default 0.002 for Adam/AdamW, 0.1 otherwise)
  --optimizer NAME  adam | adamw | sgd | momentum | nesterov | adagrad | rmsprop (default adam)
  --seed N          seed of initialization, shuffling and augmentation (default 1)
  --threads N       threads per batch (default: all cores)
  --no-augment      train without random shifts
  --save PATH       write the trained parameters (constnet's byte format) to PATH
  --download        fetch MNIST into ./data/mnist first (checksums verified; needs
                    `--features download`; the base URL is $MNIST_URL or a public mirror)
  --smoke           a few steps on synthetic data; exits non-zero if the loss is not finite
  --help            this text

DATA: MNIST is read from $MNIST_DIR or ./data/mnist (the four IDX files, raw or
gzip). Without it the built-in synthetic digits are used, and the run says so.";

struct Args {
    epochs: usize,
    batch: usize,
    lr: Option<f64>,
    optimizer: String,
    seed: u64,
    threads: Option<usize>,
    augment: bool,
    save: Option<String>,
    download: bool,
    smoke: bool,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut args = Args {
        epochs: 8,
        batch: 100,
        lr: None,
        optimizer: "adam".into(),
        seed: 1,
        threads: None,
        augment: true,
        save: None,
        download: false,
        smoke: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--help" | "-h" => return Ok(None),
            "--epochs" => args.epochs = number(&value("--epochs")?)?,
            "--batch" => args.batch = number(&value("--batch")?)?,
            "--lr" => args.lr = Some(number(&value("--lr")?)?),
            "--optimizer" => args.optimizer = value("--optimizer")?,
            "--seed" => args.seed = number(&value("--seed")?)?,
            "--threads" => args.threads = Some(number(&value("--threads")?)?),
            "--save" => args.save = Some(value("--save")?),
            "--no-augment" => args.augment = false,
            "--download" => args.download = true,
            "--smoke" => args.smoke = true,
            other => return Err(format!("unknown flag `{other}`; see --help")),
        }
    }
    if args.batch == 0 {
        return Err("--batch must be at least 1".into());
    }
    Ok(Some(args))
}

fn number<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.parse()
        .map_err(|_| format!("`{s}` is not a valid number"))
}

/// Train and test sets: MNIST when found, else synthetic digits.
fn load(smoke: bool) -> (InMemory<Image, usize>, InMemory<Image, usize>, &'static str) {
    if !smoke && let Some(dir) = Mnist::dir_from_env() {
        match Mnist::<Image>::load(&dir) {
            Ok(m) => return (m.train, m.test, "MNIST"),
            Err(e) => eprintln!("could not load MNIST from {}: {e}", dir.display()),
        }
    }
    let (train_n, test_n) = if smoke { (300, 100) } else { (12_000, 2_000) };
    eprintln!(
        "MNIST not found (set MNIST_DIR or put the files in ./data/mnist); \
         training on {train_n} built-in synthetic digits instead"
    );
    let train = SyntheticDigits::new(train_n, 1).generate::<Image>();
    let test = SyntheticDigits::new(test_n, 2).generate::<Image>();
    (train, test, "synthetic digits")
}

/// Fetches MNIST into `./data/mnist`, where `load` finds it.
#[cfg(feature = "download")]
fn download() -> Result<(), String> {
    let base = std::env::var("MNIST_URL")
        .unwrap_or_else(|_| constnet::data::download::DEFAULT_BASE_URL.to_string());
    println!("downloading MNIST from {base} into data/mnist");
    Mnist::download("data/mnist", &base).map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(not(feature = "download"))]
fn download() -> Result<(), String> {
    Err("this build cannot download: run it with `--features download`".into())
}

fn run(args: Args) -> Result<(), String> {
    let start = Instant::now();
    if args.download {
        download()?;
    }
    let (mut train, test, source) = load(args.smoke);
    if args.smoke {
        train.truncate(300);
    }
    let mut net = SimpleConvNet::<f32>::seeded(args.seed);
    println!("{}", net.summary());
    println!(
        "data: {source}, {} training and {} test images; {} epochs of batch {}",
        train.len(),
        test.len(),
        args.epochs,
        args.batch
    );
    let steps = args.epochs * train.len().div_ceil(args.batch);
    let mut trainer = Trainer::new()
        .epochs(if args.smoke { 1 } else { args.epochs })
        .batch_size(args.batch)
        .seed(args.seed)
        .validation_label("test")
        .progress(Progress::Auto);
    if let Some(t) = args.threads {
        trainer = trainer.threads(t);
    }
    let augment = args.augment && !args.smoke;
    let history = match args.optimizer.as_str() {
        "adam" => fit(
            &trainer,
            &mut net,
            &train,
            &test,
            adam(args.lr.unwrap_or(0.002), steps),
            augment,
        ),
        "adamw" => {
            let lr = args.lr.unwrap_or(0.002);
            fit(
                &trainer,
                &mut net,
                &train,
                &test,
                Scheduled::new(AdamW::new(lr, 0.01), cosine(steps), lr),
                augment,
            )
        }
        "sgd" => fit(
            &trainer,
            &mut net,
            &train,
            &test,
            Sgd::new(args.lr.unwrap_or(0.1)),
            augment,
        ),
        "momentum" => fit(
            &trainer,
            &mut net,
            &train,
            &test,
            Momentum::new(args.lr.unwrap_or(0.05), 0.9),
            augment,
        ),
        "nesterov" => fit(
            &trainer,
            &mut net,
            &train,
            &test,
            Nesterov::new(args.lr.unwrap_or(0.05), 0.9),
            augment,
        ),
        "adagrad" => fit(
            &trainer,
            &mut net,
            &train,
            &test,
            AdaGrad::new(args.lr.unwrap_or(0.01)),
            augment,
        ),
        "rmsprop" => fit(
            &trainer,
            &mut net,
            &train,
            &test,
            RmsProp::new(args.lr.unwrap_or(0.001), 0.99),
            augment,
        ),
        other => return Err(format!("unknown optimizer `{other}`; see --help")),
    }?;
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
        Some((epoch, secs)) => {
            println!("reached 99.0% test accuracy after epoch {epoch}, {secs:.1} s from start")
        }
        None => println!("did not reach 99.0% test accuracy"),
    }
    let acc = last.val_accuracy.unwrap_or(0.0);
    println!(
        "final test accuracy: {:.2}% ({source}), {:.1} s in total",
        100.0 * acc,
        start.elapsed().as_secs_f64()
    );
    if let Some(path) = args.save {
        constnet::persist::save_bytes(&net, &path).map_err(|e| e.to_string())?;
        println!("parameters written to {path}");
    }
    Ok(())
}

fn adam(lr: f64, steps: usize) -> Scheduled<Adam<Vec<f32>>, Cosine> {
    Scheduled::new(Adam::new(lr), cosine(steps), lr)
}

fn cosine(steps: usize) -> Cosine {
    Cosine {
        total_steps: steps.max(1),
        min_lr: 0.0,
    }
}

fn fit<O: Optimizer<f32>>(
    trainer: &Trainer,
    net: &mut SimpleConvNet,
    train: &InMemory<Image, usize>,
    test: &InMemory<Image, usize>,
    mut opt: O,
    augment: bool,
) -> Result<constnet::train::History, String> {
    trainer
        .fit_with(net, train, Some(test), &mut opt, |xs, rng| {
            if augment {
                random_shift_batch(xs, 2, rng);
            }
        })
        .map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    match parse_args() {
        Ok(None) => {
            println!("{HELP}");
            ExitCode::SUCCESS
        }
        Ok(Some(args)) => match run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
