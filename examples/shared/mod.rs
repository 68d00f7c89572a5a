//! What the examples share: the flags of a training run, parsed by `clap`,
//! and the digit data they train on.

use clap::Args;
use constnet::data::{InMemory, Mnist, SyntheticDigits};
use constnet::optim::{Configured, OptimizerConfig, ScheduleConfig};
use constnet::train::{Progress, Trainer};

/// The flags of a training run.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Passes over the training set.
    #[arg(long, default_value_t = 8)]
    pub epochs: usize,
    /// Run exactly this many optimizer steps instead of a number of epochs.
    #[arg(long)]
    pub steps: Option<u64>,
    /// Samples per optimizer step.
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// The optimizer: sgd, momentum, nesterov, adagrad, rmsprop, adam or adamw,
    /// with optional settings (`adam:lr=0.002,beta2=0.99`).
    #[arg(long, default_value = "adam:lr=0.002")]
    pub optimizer: OptimizerConfig,
    /// The peak learning rate (overrides the optimizer's `lr`).
    #[arg(long)]
    pub lr: Option<f64>,
    /// The learning-rate schedule: constant, step_decay:every=N, exponential:gamma=X,
    /// cosine (over the run), or warmup:steps=N+<schedule>.
    #[arg(long, default_value = "cosine")]
    pub schedule: ScheduleConfig,
    /// Seed of initialization, shuffling and augmentation.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Threads per batch (default: every core).
    #[arg(long)]
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
