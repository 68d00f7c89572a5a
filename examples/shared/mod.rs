//! What the examples share: the flags of a training run and the value
//! parsers of their numbers, and the digit data they train on.
//!
//! Every flag is checked while `clap` parses the command line, before any
//! data loads: a bad value is a usage error with clap's exit code 2, as an
//! unknown flag is.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use clap::Args;
use constnet::data::{InMemory, Mnist, SyntheticDigits};
use constnet::optim::{Configured, OptimizerConfig, ScheduleConfig};
use constnet::train::{Progress, Trainer};

/// The flags of a training run.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Passes over the training set.
    #[arg(long, default_value_t = 8, value_parser = at_least_one::<usize>)]
    pub epochs: usize,
    /// Run exactly this many optimizer steps instead of a number of epochs.
    #[arg(long, value_parser = at_least_one::<u64>)]
    pub steps: Option<u64>,
    /// Samples per optimizer step.
    #[arg(long, default_value_t = 100, value_parser = at_least_one::<usize>)]
    pub batch: usize,
    /// The optimizer: sgd, momentum, nesterov, adagrad, rmsprop, adam or adamw,
    /// with optional settings (`adam:lr=0.002,beta2=0.99`).
    #[arg(long, default_value = "adam:lr=0.002", value_parser = optimizer)]
    pub optimizer: OptimizerConfig,
    /// The peak learning rate (overrides the optimizer's `lr`).
    #[arg(long, value_parser = positive)]
    pub lr: Option<f64>,
    /// The learning-rate schedule: constant, step_decay:every=N, exponential:gamma=X,
    /// cosine (over the run), or warmup:steps=N+<schedule>.
    #[arg(long, default_value = "cosine")]
    pub schedule: ScheduleConfig,
    /// Seed of initialization, shuffling and augmentation.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Threads per batch (default: every core).
    #[arg(long, value_parser = at_least_one::<usize>)]
    pub threads: Option<usize>,
    /// A few steps on a small synthetic set, for CI.
    #[arg(long)]
    pub smoke: bool,
}

impl RunArgs {
    /// The trainer these flags describe (validation reported as "test").
    pub fn trainer(&self) -> Trainer {
        let mut trainer = Trainer::new()
            .epochs(self.epochs)
            .batch_size(self.batch)
            .seed(self.seed)
            .validation_label("test")
            .progress(Progress::Auto);
        if let Some(steps) = self.steps {
            trainer = trainer.steps(steps);
        }
        if let Some(threads) = self.threads {
            trainer = trainer.threads(threads);
        }
        trainer
    }

    /// The optimizer under its schedule, for a training set of
    /// `samples` samples (a cosine anneals over the whole run).
    pub fn optimizer(&self, samples: usize) -> Configured<f32> {
        let per_epoch = samples.div_ceil(self.batch.max(1));
        let steps = self.steps.map_or(self.epochs * per_epoch, |s| s as usize);
        let opt = match self.lr {
            Some(lr) => self.optimizer.with_lr(lr),
            None => self.optimizer,
        };
        opt.scheduled(&self.schedule, steps)
    }
}

/// Parses a count that must be at least 1 (epochs, steps, batch size,
/// threads, samples): `--threads 0` is a usage error, not a run that fails
/// after loading its data.
pub fn at_least_one<T: FromStr + PartialOrd + From<u8>>(s: &str) -> Result<T, String> {
    let n: T = s
        .trim()
        .parse()
        .map_err(|_| "expected a whole number, at least 1".to_string())?;
    if n < T::from(1) {
        return Err("must be at least 1".into());
    }
    Ok(n)
}

/// Parses a positive, finite number (a learning rate).
pub fn positive(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x > 0.0 && x.is_finite() => Ok(x),
        Ok(_) => Err("must be a positive number".into()),
        Err(_) => Err("expected a number, such as 0.002".into()),
    }
}

/// Parses `--optimizer`: a name with optional settings, whose learning
/// rate is positive.
pub fn optimizer(s: &str) -> Result<OptimizerConfig, String> {
    let config: OptimizerConfig = s.parse().map_err(|e| format!("{e}"))?;
    if !(config.lr() > 0.0 && config.lr().is_finite()) {
        return Err(format!(
            "the learning rate must be a positive number, found {}",
            config.lr()
        ));
    }
    Ok(config)
}

/// Parses a file to write at the end of a run: its directory must exist,
/// so that a typo fails now rather than after training.
pub fn output_file(s: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(s);
    if path.file_name().is_none() || path.is_dir() {
        return Err("expected a file name, found a directory".into());
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(format!("the directory `{}` does not exist", dir.display()));
    }
    Ok(path)
}

/// Training and test digits: MNIST from `$MNIST_DIR` or `./data/mnist`,
/// else (and always with `smoke`) `synthetic` training and a fifth as many
/// test samples of the built-in synthetic digits. Returns the sets and
/// the source's name.
pub fn digits<X: constnet::Tensor<Elem = f32>>(
    smoke: bool,
    synthetic: usize,
) -> (InMemory<X, usize>, InMemory<X, usize>, &'static str) {
    if !smoke && let Some(dir) = Mnist::dir_from_env() {
        match Mnist::<X>::load(&dir) {
            Ok(m) => return (m.train, m.test, "MNIST"),
            Err(e) => eprintln!("could not load MNIST from {}: {e}", dir.display()),
        }
    }
    eprintln!(
        "MNIST not found (set MNIST_DIR or put the files in ./data/mnist); \
         using {synthetic} built-in synthetic digits instead"
    );
    let train = SyntheticDigits::new(synthetic, 1).generate::<X>();
    let test = SyntheticDigits::new((synthetic / 5).max(1), 2).generate::<X>();
    (train, test, "synthetic digits")
}
