//! Runs over a dataset: shuffled minibatches for a number of epochs or
//! steps, validation, early stopping, callbacks, checkpoints that resume
//! exactly, frozen layers, progress, and the history of metrics.

#[cfg(feature = "serde")]
use std::path::{Path, PathBuf};
use std::string::String;
#[cfg(feature = "serde")]
use std::string::ToString;
use std::sync::Arc;
use std::time::Instant;
use std::vec::Vec;

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::callbacks::{Callback, Control, Event};
#[cfg(feature = "serde")]
use super::checkpoint::Checkpoint;
use super::collective::{self, Collective};
use super::fault::{Fault, check_batch, first_non_finite};
use super::metrics::{Regression, RegressionSums};
use super::progress::{Bar, Progress};
use super::state::{EpochProgress, TrainState};
use super::{Clip, EpochRecord, History, Stepper, TrainError};
use crate::data::{Batches, Dataset};
use crate::loss::{LossKind, Target, is_correct};
use crate::optim::Optimizer;
use crate::text::Elapsed;
use crate::{Scalar, Tensor, Trainable};

/// Loss and accuracy (or, for the mean squared error, regression metrics)
/// of a network on a dataset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    /// Mean loss.
    pub loss: f64,
    /// Fraction classified correctly, in `[0, 1]`; `None` for a network
    /// trained with the mean squared error.
    pub accuracy: Option<f64>,
    /// MAE, RMSE and R², for a network trained with the mean squared error.
    pub regression: Option<Regression>,
}

/// How often a [`Trainer`] writes its checkpoint.
///
/// Needs the `serde` feature.
#[cfg(feature = "serde")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    /// Every this many optimizer steps (at least 1).
    Steps(u64),
    /// At the end of every this many epochs (at least 1).
    Epochs(usize),
}

/// How long a run lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Budget {
    Epochs(usize),
    Steps(u64),
}

/// Trains a network for a number of epochs, or of steps.
///
/// Defaults: 10 epochs, batch 100, seed 0, every core, no clipping, no weight
/// decay, no early stopping, nothing frozen, no checkpoints. The same seed
/// and data give bit-identical weights for the same thread count, and so
/// does a run resumed from one of its checkpoints.
#[derive(Debug, Clone)]
pub struct Trainer {
    budget: Budget,
    batch: usize,
    seed: u64,
    threads: Option<usize>,
    clip: Clip,
    weight_decay: f64,
    patience: Option<usize>,
    drop_last: bool,
    progress: Progress,
    eval_batch: usize,
    valid_label: &'static str,
    freeze: Vec<String>,
    group: Option<Arc<dyn Collective>>,
    #[cfg(feature = "serde")]
    checkpoint: Option<(PathBuf, Every)>,
    #[cfg(feature = "serde")]
    resume: Option<PathBuf>,
}

impl Default for Trainer {
    fn default() -> Self {
        Self::new()
    }
}

impl Trainer {
    /// A trainer with the defaults above.
    pub fn new() -> Self {
        Trainer {
            budget: Budget::Epochs(10),
            batch: 100,
            seed: 0,
            threads: None,
            clip: Clip::None,
            weight_decay: 0.0,
            patience: None,
            drop_last: false,
            progress: Progress::Auto,
            eval_batch: 500,
            valid_label: "validation",
            freeze: Vec::new(),
            group: None,
            #[cfg(feature = "serde")]
            checkpoint: None,
            #[cfg(feature = "serde")]
            resume: None,
        }
    }

    /// Number of passes over the training set (replaces a step budget).
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.budget = Budget::Epochs(epochs);
        self
    }

    /// Runs exactly `steps` optimizer steps, epoch after epoch, instead of
    /// a number of epochs; the last epoch may be partial, and is recorded
    /// as such.
    pub fn steps(mut self, steps: u64) -> Self {
        self.budget = Budget::Steps(steps);
        self
    }

    /// Samples per optimizer step.
    pub fn batch_size(mut self, batch: usize) -> Self {
        self.batch = batch;
        self
    }

    /// Seed of shuffling, dropout masks and augmentation.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Threads each batch is split across (default: every core).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads.max(1));
        self
    }

    /// Trains as one rank of a data-parallel job: every rank runs the same
    /// program with the same network, data, optimizer and settings; each
    /// batch is split over the ranks' threads ([`Stepper::across`]), so the
    /// weights are bit for bit those of one process with `ranks × threads`
    /// threads. Rank 0 alone reports progress and writes checkpoints; every
    /// rank validates, so early stopping and callbacks decide alike, and
    /// every rank can resume from the checkpoint.
    ///
    /// Before the first step the ranks check they start alike (thread
    /// count, training set size, parameters, step count); a failure only
    /// one rank meets later (rank 0 cannot write a checkpoint) ends the
    /// job through [`Collective::abort`] rather than leave the others
    /// waiting.
    pub fn across(mut self, group: Arc<dyn Collective>) -> Self {
        self.group = Some(group);
        self
    }

    /// Gradient clipping.
    pub fn clip(mut self, clip: Clip) -> Self {
        self.clip = clip;
        self
    }

    /// L2 weight decay `λ` (the penalty `½λ‖W‖²` on weights, not biases).
    pub fn weight_decay(mut self, lambda: f64) -> Self {
        self.weight_decay = lambda;
        self
    }

    /// Stops when the validation loss has not improved for `patience`
    /// epochs, and restores the parameters of the best epoch. Needs a
    /// validation set: [`Trainer::fit`] without one rejects it.
    pub fn early_stopping(mut self, patience: usize) -> Self {
        self.patience = Some(patience);
        self
    }

    /// Drops the last, smaller batch of each epoch.
    pub fn drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }

    /// How progress is reported.
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }

    /// How progress lines name the second dataset (`validation` by default;
    /// `test` when it is the test set).
    pub fn validation_label(mut self, label: &'static str) -> Self {
        self.valid_label = label;
        self
    }

    /// Freezes the tensors the patterns name (`conv1`, `conv1.weight`,
    /// `conv*`; see [`Stepper::freeze`]): training leaves them unchanged
    /// and, for frozen lower layers, skips their backward pass.
    pub fn freeze<P: AsRef<str>>(mut self, patterns: &[P]) -> Self {
        self.freeze = patterns.iter().map(|p| p.as_ref().into()).collect();
        self
    }

    /// Writes a [`Checkpoint`] to `path` (atomically) every so many steps
    /// or epochs, and after the last step.
    ///
    /// Needs the `serde` feature.
    #[cfg(feature = "serde")]
    pub fn checkpoint(mut self, path: impl Into<PathBuf>, every: Every) -> Self {
        self.checkpoint = Some((path.into(), every));
        self
    }

    /// Resumes from the checkpoint at `path`: [`Trainer::fit`] first
    /// restores the network, the optimizer, the counters, the history and
    /// the callbacks' state from it, then continues the run. The optimizer
    /// must be built as the run's was (its hyperparameters are not in the
    /// checkpoint; its state, step count and base rate are).
    ///
    /// Needs the `serde` feature.
    #[cfg(feature = "serde")]
    pub fn resume(mut self, path: impl Into<PathBuf>) -> Self {
        self.resume = Some(path.into());
        self
    }

    /// Trains `net` on `train`, validating on `valid` after each epoch.
    ///
    /// Each step is checked as [`Stepper::step`] documents; the validation
    /// set as [`evaluate`] does.
    ///
    /// # Errors
    /// - [`TrainError::Diverged`] when a step meets a NaN or an infinity
    ///   (in the data, the loss, a gradient or the update): the network
    ///   keeps the parameters, and `opt` the state, of the last good step;
    ///   the error holds the history of the completed epochs.
    /// - [`TrainError::NonFiniteEvaluation`] when validation meets one.
    /// - [`TrainError::EmptyDataset`], [`TrainError::EmptyEvaluation`] (an
    ///   empty validation set), [`TrainError::ZeroBatch`],
    ///   [`TrainError::NoSteps`] (zero epochs or steps, or `drop_last` with
    ///   a batch larger than the training set), [`TrainError::Label`],
    ///   [`TrainError::InvalidHyperparameter`],
    ///   [`TrainError::UnknownTensor`] (a frozen pattern naming nothing),
    ///   [`TrainError::EarlyStoppingWithoutValidation`] and, when resuming,
    ///   [`TrainError::Persist`] and [`TrainError::ResumeMismatch`] before
    ///   training starts.
    /// - [`TrainError::Persist`] when a checkpoint cannot be written.
    pub fn fit<N, D, O>(
        &self,
        net: &mut N,
        train: &D,
        valid: Option<&D>,
        opt: &mut O,
    ) -> Result<History, TrainError>
    where
        N: Trainable + Clone + Sync,
        D: Dataset<Input = N::Input> + Sync,
        D::Target: Target<N::Output> + Clone + Send,
        N::Input: Send,
        O: Optimizer<N::Elem>,
    {
        self.fit_with(
            net,
            train,
            valid,
            opt,
            |_: &mut [N::Input], _: &mut StdRng| {},
        )
    }

    /// [`Trainer::fit`] with an augmentation applied to every gathered batch
    /// (for example random shifts), driven by a generator seeded from the
    /// trainer's seed and the step, so a resumed run draws what the
    /// uninterrupted one would.
    ///
    /// # Errors
    /// As [`Trainer::fit`].
    pub fn fit_with<N, D, O, A>(
        &self,
        net: &mut N,
        train: &D,
        valid: Option<&D>,
        opt: &mut O,
        augment: A,
    ) -> Result<History, TrainError>
    where
        N: Trainable + Clone + Sync,
        D: Dataset<Input = N::Input> + Sync,
        D::Target: Target<N::Output> + Clone + Send,
        N::Input: Send,
        O: Optimizer<N::Elem>,
        A: FnMut(&mut [N::Input], &mut StdRng),
    {
        self.fit_with_callbacks(net, train, valid, opt, augment, &mut [])
    }

    /// [`Trainer::fit_with`] with callbacks, called in order after every
    /// epoch and, for those that ask, every few steps (see [`Callback`]).
    ///
    /// # Errors
    /// As [`Trainer::fit`], and any error a callback returns.
    pub fn fit_with_callbacks<N, D, O, A>(
        &self,
        net: &mut N,
        train: &D,
        valid: Option<&D>,
        opt: &mut O,
        mut augment: A,
        callbacks: &mut [&mut dyn Callback<N>],
    ) -> Result<History, TrainError>
    where
        N: Trainable + Clone + Sync,
        D: Dataset<Input = N::Input> + Sync,
        D::Target: Target<N::Output> + Clone + Send,
        N::Input: Send,
        O: Optimizer<N::Elem>,
        A: FnMut(&mut [N::Input], &mut StdRng),
    {
        if !self.leads() && self.progress != Progress::Quiet {
            let quiet = self.clone().progress(Progress::Quiet);
            return quiet.fit_with_callbacks(net, train, valid, opt, augment, callbacks);
        }
        self.check_run::<N, D>(train, valid)?;
        let mut stepper = Stepper::<N>::new(self.seed)
            .clip(self.clip)
            .weight_decay(self.weight_decay)
            .freeze(&self.freeze)?;
        if let Some(t) = self.threads {
            stepper = stepper.threads(t);
        }
        if let Some(group) = &self.group {
            stepper = stepper.across(group.clone());
        }
        let mut run = Run {
            state: self.fresh_state(),
            best: None,
        };
        #[cfg(feature = "serde")]
        if let Some(path) = &self.resume {
            let restored = self.restore(path, net, opt, callbacks);
            if let Some(group) = &self.group {
                let failed = u64::from(restored.is_err());
                let failures = collective::values(&**group, failed);
                if let (Ok(_), Some(rank)) = (&restored, failures.iter().position(|f| *f != 0)) {
                    return Err(TrainError::RanksDiffer {
                        rank,
                        what: "could not resume from the checkpoint",
                    });
                }
            }
            run = restored?;
            stepper.set_steps(run.state.steps);
        }
        if let Some(group) = &self.group {
            agree(&**group, &stepper, train.len(), net)?;
        }
        let batches = Batches::new(train.len(), self.batch, self.seed).drop_last(self.drop_last);
        let (mut xs, mut ts) = (Vec::new(), Vec::new());
        let (mut outs, mut order) = (Vec::new(), Vec::new());
        let bar = Bar::new(self.progress, batches.samples_per_epoch());
        let result = self.epochs_loop(
            Loop {
                net,
                train,
                valid,
                opt,
                stepper: &mut stepper,
                callbacks,
                bar: bar.as_ref(),
            },
            &mut run,
            &batches,
            (&mut xs, &mut ts, &mut outs, &mut order),
            &mut augment,
        );
        if let Some(bar) = &bar {
            bar.finish();
        }
        result?;
        let mut history = run.state.history;
        history.kept_epoch = history.epochs.last().map(|e| e.epoch);
        if let Some((_, epoch, kept)) = run.best
            && Some(epoch) != history.kept_epoch
        {
            *net = kept;
            history.kept_epoch = Some(epoch);
        }
        Ok(history)
    }

    /// The checks before a run starts.
    fn check_run<N, D>(&self, train: &D, valid: Option<&D>) -> Result<(), TrainError>
    where
        N: Trainable,
        D: Dataset<Input = N::Input>,
        D::Target: Target<N::Output>,
    {
        if train.is_empty() {
            return Err(TrainError::EmptyDataset);
        }
        if self.batch == 0 {
            return Err(TrainError::ZeroBatch);
        }
        let no_budget = matches!(self.budget, Budget::Epochs(0) | Budget::Steps(0));
        if no_budget || (self.drop_last && self.batch > train.len()) {
            return Err(TrainError::NoSteps {
                epochs: match self.budget {
                    Budget::Epochs(n) => n,
                    Budget::Steps(n) => usize::from(n > 0),
                },
                samples: train.len(),
                batch: self.batch,
            });
        }
        if valid.is_some_and(|v| v.is_empty()) {
            return Err(TrainError::EmptyEvaluation {
                set: self.valid_label,
            });
        }
        if self.patience.is_some() && valid.is_none() {
            return Err(TrainError::EarlyStoppingWithoutValidation);
        }
        super::step::check_hyperparameters(self.clip, self.weight_decay)?;
        check_labels::<N, D>(train)?;
        if let Some(v) = valid {
            check_labels::<N, D>(v)?;
        }
        Ok(())
    }

    fn fresh_state(&self) -> TrainState {
        TrainState {
            seed: self.seed,
            batch: self.batch,
            drop_last: self.drop_last,
            epoch: 0,
            batches_done: 0,
            steps: 0,
            optimizer_steps: 0,
            learning_rate_bits: 0,
            progress: EpochProgress::default(),
            history: History::default(),
            best: None,
            callbacks: Vec::new(),
        }
    }

    /// Loads the checkpoint at `path` into the network, the optimizer and
    /// the callbacks; returns the run's state.
    #[cfg(feature = "serde")]
    fn restore<N, O>(
        &self,
        path: &Path,
        net: &mut N,
        opt: &mut O,
        callbacks: &mut [&mut dyn Callback<N>],
    ) -> Result<Run<N>, TrainError>
    where
        N: Trainable + Clone,
        O: Optimizer<N::Elem>,
    {
        let checkpoint = Checkpoint::<N::Elem>::load::<N>(path)?;
        let state = &checkpoint.state;
        let mismatch = |what, checkpoint: String, trainer: String| {
            Err(TrainError::ResumeMismatch {
                what,
                checkpoint,
                trainer,
            })
        };
        if state.batch != self.batch {
            return mismatch(
                "batch size",
                state.batch.to_string(),
                self.batch.to_string(),
            );
        }
        if state.seed != self.seed {
            return mismatch("seed", state.seed.to_string(), self.seed.to_string());
        }
        if state.drop_last != self.drop_last {
            return mismatch(
                "drop_last",
                state.drop_last.to_string(),
                self.drop_last.to_string(),
            );
        }
        checkpoint.restore(net, opt)?;
        for (callback, saved) in callbacks.iter_mut().zip(&checkpoint.state.callbacks) {
            let values: Vec<f64> = saved.iter().map(|&b| f64::from_bits(b)).collect();
            callback.restore(&values);
        }
        let best = match (checkpoint.state.best, &checkpoint.best) {
            (Some((loss, epoch)), Some(params)) => {
                let mut kept = net.clone();
                kept.params_mut().copy_from_slice(params);
                Some((f64::from_bits(loss), epoch, kept))
            }
            _ => None,
        };
        Ok(Run {
            state: checkpoint.state,
            best,
        })
    }

    /// Writes the run's checkpoint.
    #[cfg(feature = "serde")]
    fn save<N, D, O>(
        &self,
        path: &Path,
        l: &Loop<'_, '_, N, D, O>,
        run: &Run<N>,
    ) -> Result<(), TrainError>
    where
        N: Trainable,
        O: Optimizer<N::Elem>,
    {
        let mut state = run.state.clone();
        state.callbacks = l
            .callbacks
            .iter()
            .map(|c| c.state().iter().map(|v| v.to_bits()).collect())
            .collect();
        state.best = run.best.as_ref().map(|(loss, e, _)| (loss.to_bits(), *e));
        let mut checkpoint = Checkpoint::capture(&*l.net, &*l.opt, state);
        checkpoint.best = run.best.as_ref().map(|(_, _, n)| n.params().to_vec());
        if !self.leads() {
            return Ok(());
        }
        let saved = checkpoint.save::<N>(path);
        if let (Err(e), Some(group)) = (&saved, &self.group) {
            std::eprintln!("constnet: rank 0 could not write the checkpoint: {e}; ending the job");
            group.abort(1);
        }
        Ok(saved?)
    }

    /// Whether this process reports and writes files: rank 0 of a job, or
    /// a process training alone.
    fn leads(&self) -> bool {
        self.group.as_ref().is_none_or(|g| g.rank() == 0)
    }

    /// Epochs until the budget is spent, early stopping or a callback stops.
    fn epochs_loop<N, D, O, A>(
        &self,
        mut l: Loop<'_, '_, N, D, O>,
        run: &mut Run<N>,
        batches: &Batches,
        (xs, ts, outs, order): Buffers<'_, N, D>,
        augment: &mut A,
    ) -> Result<(), TrainError>
    where
        N: Trainable + Clone + Sync,
        D: Dataset<Input = N::Input> + Sync,
        D::Target: Target<N::Output> + Clone + Send,
        N::Input: Send,
        O: Optimizer<N::Elem>,
        A: FnMut(&mut [N::Input], &mut StdRng),
    {
        let regression = N::LOSS == LossKind::MeanSquaredError;
        let epochs = match self.budget {
            Budget::Epochs(n) => n,
            Budget::Steps(_) => usize::MAX,
        };
        let out_of_steps = |steps: u64| matches!(self.budget, Budget::Steps(n) if steps >= n);
        while run.state.epoch < epochs && !out_of_steps(run.state.steps) {
            let epoch = run.state.epoch;
            let start = Instant::now();
            let before = run.state.progress.seconds;
            batches.epoch_into(epoch as u64, order);
            if let Some(bar) = l.bar {
                bar.start(self.epoch_label(epoch + 1), run.state.progress.seen);
            }
            let mut control = Control::default();
            let done = run.state.batches_done;
            for (b, chunk) in order.chunks(self.batch).enumerate().skip(done) {
                if (self.drop_last && chunk.len() < self.batch) || out_of_steps(run.state.steps) {
                    break;
                }
                l.train.gather_into(chunk, xs, ts);
                let mut rng = StdRng::seed_from_u64(augment_seed(self.seed, run.state.steps));
                augment(xs, &mut rng);
                outs.resize(chunk.len(), <N::Output as Tensor>::zeroed());
                let stats = match l
                    .stepper
                    .step_with_outputs(l.net, xs, ts, l.opt, Some(outs))
                {
                    Ok(stats) => stats,
                    Err(TrainError::NonFinite { step, loss, fault }) => {
                        return Err(TrainError::Diverged {
                            step,
                            epoch: epoch + 1,
                            loss,
                            fault: in_dataset(fault, chunk),
                            history: std::boxed::Box::new(run.state.history.clone()),
                        });
                    }
                    Err(e) => return Err(e),
                };
                let p = &mut run.state.progress;
                p.loss_sum += stats.loss * chunk.len() as f64;
                for (o, t) in outs.iter().zip(ts.iter()) {
                    if regression {
                        p.regression.add::<N::Output, _>(o.as_flat(), t);
                    } else {
                        p.correct += usize::from(is_correct::<N::Output, _>(o.as_flat(), t));
                    }
                }
                p.seen += chunk.len();
                p.seconds = before + start.elapsed().as_secs_f64();
                run.state.batches_done = b + 1;
                run.state.steps = l.stepper.steps();
                if let Some(bar) = l.bar {
                    let rate = p.seen as f64 / p.seconds.max(1e-9);
                    let mean = p.loss_sum / p.seen as f64;
                    bar.advance(p.seen, std::format!("loss {mean:.4}  {rate:.0} samples/s"));
                }
                self.step_callbacks(&mut l, run, stats.loss, &mut control)?;
                #[cfg(feature = "serde")]
                if let Some((path, Every::Steps(n))) = &self.checkpoint
                    && run.state.steps.is_multiple_of((*n).max(1))
                {
                    self.save(path, &l, run)?;
                }
                if control.stopping() {
                    break;
                }
            }
            // A run cut short inside an epoch (a callback stopped it, or
            // the step budget ran out) is checkpointed before the partial
            // epoch is recorded: resuming continues the epoch rather than
            // starting the next one, as the uninterrupted run would.
            #[cfg(feature = "serde")]
            let partial = {
                let full = order.len() / self.batch
                    + usize::from(!self.drop_last && !order.len().is_multiple_of(self.batch));
                run.state.batches_done < full
            };
            #[cfg(feature = "serde")]
            if let (true, Some((path, _))) = (partial, &self.checkpoint) {
                self.save(path, &l, run)?;
            }
            self.end_epoch(&mut l, run, &mut control)?;
            #[cfg(feature = "serde")]
            if let (false, Some((path, every))) = (partial, &self.checkpoint) {
                let last = run.state.epoch >= epochs || out_of_steps(run.state.steps);
                let due = match every {
                    Every::Epochs(n) => run.state.epoch.is_multiple_of((*n).max(1)),
                    Every::Steps(_) => false,
                };
                if due || last || control.stopping() {
                    self.save(path, &l, run)?;
                }
            }
            if control.stopping() {
                break;
            }
        }
        Ok(())
    }

    /// Calls the callbacks whose step interval has come.
    fn step_callbacks<N, D, O>(
        &self,
        l: &mut Loop<'_, '_, N, D, O>,
        run: &Run<N>,
        loss: f64,
        control: &mut Control,
    ) -> Result<(), TrainError>
    where
        N: Trainable,
        O: Optimizer<N::Elem>,
    {
        let steps = run.state.steps;
        for callback in l.callbacks.iter_mut() {
            if callback
                .step_interval()
                .is_some_and(|n| steps.is_multiple_of(n.max(1)))
            {
                let event = Event {
                    net: &*l.net,
                    epoch: run.state.epoch + 1,
                    step: steps,
                    learning_rate: l.opt.base_learning_rate(),
                    record: None,
                    step_loss: Some(loss),
                    history: &run.state.history,
                };
                callback.on_step(&event, control)?;
                if let Some(lr) = control.learning_rate() {
                    l.opt.set_learning_rate(lr);
                }
            }
        }
        Ok(())
    }

    /// Validates, records and reports the epoch in progress, runs early
    /// stopping and the epoch callbacks, and starts the next epoch.
    fn end_epoch<N, D, O>(
        &self,
        l: &mut Loop<'_, '_, N, D, O>,
        run: &mut Run<N>,
        control: &mut Control,
    ) -> Result<(), TrainError>
    where
        N: Trainable + Clone + Sync,
        D: Dataset<Input = N::Input> + Sync,
        D::Target: Target<N::Output> + Clone + Send,
        N::Input: Send,
        O: Optimizer<N::Elem>,
    {
        let p = run.state.progress;
        if p.seen == 0 {
            // A resumed run that stopped exactly at an epoch's end.
            run.state.epoch += 1;
            run.state.batches_done = 0;
            return Ok(());
        }
        let start = Instant::now();
        let val = match l.valid {
            Some(v) => Some(evaluate(&*l.net, v, self.eval_batch)?),
            None => None,
        };
        let regression = N::LOSS == LossKind::MeanSquaredError;
        let record = EpochRecord {
            epoch: run.state.epoch + 1,
            train_loss: p.loss_sum / p.seen as f64,
            train_accuracy: (!regression).then(|| p.correct as f64 / p.seen as f64),
            train_regression: p.regression.finish(),
            val_loss: val.map(|m| m.loss),
            val_accuracy: val.and_then(|m| m.accuracy),
            val_regression: val.and_then(|m| m.regression),
            learning_rate: l.opt.learning_rate(),
            seconds: p.seconds + start.elapsed().as_secs_f64(),
            samples_per_second: p.seen as f64 / p.seconds.max(1e-9),
        };
        run.state.history.epochs.push(record);
        self.report(&record, l.bar);
        if let (Some(patience), Some(m)) = (self.patience, val) {
            let improved = run.best.as_ref().is_none_or(|(l, _, _)| m.loss < *l);
            if improved {
                run.best = Some((m.loss, record.epoch, l.net.clone()));
            } else if run
                .best
                .as_ref()
                .is_some_and(|(_, e, _)| record.epoch - e >= patience)
            {
                control.stop();
            }
        }
        run.state.epoch += 1;
        run.state.batches_done = 0;
        run.state.progress = EpochProgress::default();
        for callback in l.callbacks.iter_mut() {
            let event = Event {
                net: &*l.net,
                epoch: record.epoch,
                step: run.state.steps,
                learning_rate: l.opt.base_learning_rate(),
                record: Some(&record),
                step_loss: None,
                history: &run.state.history,
            };
            callback.on_epoch_end(&event, control)?;
            if let Some(lr) = control.learning_rate() {
                l.opt.set_learning_rate(lr);
            }
        }
        Ok(())
    }

    fn epoch_label(&self, epoch: usize) -> String {
        match self.budget {
            Budget::Epochs(n) => std::format!("epoch {epoch}/{n}"),
            Budget::Steps(_) => std::format!("epoch {epoch}"),
        }
    }

    fn report(&self, r: &EpochRecord, bar: Option<&Bar>) {
        if self.progress == Progress::Quiet {
            return;
        }
        let mut line = std::format!(
            "{}: loss {:.4}{}",
            self.epoch_label(r.epoch),
            r.train_loss,
            quality(r.train_accuracy, r.train_regression)
        );
        if let Some(l) = r.val_loss {
            line.push_str(&std::format!(
                " | {} loss {l:.4}{}",
                self.valid_label,
                quality(r.val_accuracy, r.val_regression)
            ));
        }
        line.push_str(&std::format!(
            " | {:.0} samples/s, {}",
            r.samples_per_second,
            Elapsed::secs(r.seconds)
        ));
        match bar {
            Some(bar) => bar.println(line),
            None => std::eprintln!("{line}"),
        }
    }
}

/// `, accuracy A%`, or `, MAE m, RMSE r, R² q` for a regression.
/// Checks that the ranks of a job start alike: the same thread count,
/// training set size, step count and parameters (bit for bit).
fn agree<N: Trainable + Sync>(
    group: &dyn Collective,
    stepper: &Stepper<N>,
    samples: usize,
    net: &N,
) -> Result<(), TrainError> {
    let checks: [(&'static str, u64); 4] = [
        ("has another thread count", stepper.thread_count() as u64),
        ("has another number of training samples", samples as u64),
        ("is at another step", stepper.steps()),
        (
            "has other parameters",
            collective::fingerprint(net.params()),
        ),
    ];
    for (what, value) in checks {
        let values = collective::values(group, value);
        if let Some(rank) = values.iter().position(|v| *v != values[0]) {
            return Err(TrainError::RanksDiffer { rank, what });
        }
    }
    Ok(())
}

fn quality(accuracy: Option<f64>, regression: Option<Regression>) -> String {
    match (accuracy, regression) {
        (_, Some(r)) => std::format!(", MAE {:.4}, RMSE {:.4}, R² {:.4}", r.mae, r.rmse, r.r2),
        (Some(a), None) => std::format!(", accuracy {:.2}%", 100.0 * a),
        (None, None) => String::new(),
    }
}

/// The seed of step `step`'s augmentation: SplitMix64 of the run's seed
/// and the step, so that it does not depend on what ran before.
fn augment_seed(seed: u64, step: u64) -> u64 {
    let mut z = (seed ^ 0xa11c_e5ed).wrapping_add(step.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A run's state and early stopping's best epoch: loss, epoch, network.
struct Run<N> {
    state: TrainState,
    best: Option<(f64, usize, N)>,
}

/// What the loop of a run borrows.
struct Loop<'a, 'c, N: Trainable, D, O> {
    net: &'a mut N,
    train: &'a D,
    valid: Option<&'a D>,
    opt: &'a mut O,
    stepper: &'a mut Stepper<N>,
    callbacks: &'a mut [&'c mut dyn Callback<N>],
    bar: Option<&'a Bar>,
}

/// The reused buffers of a run: inputs, targets, outputs, sample order.
type Buffers<'a, N, D> = (
    &'a mut Vec<<N as crate::Network>::Input>,
    &'a mut Vec<<D as Dataset>::Target>,
    &'a mut Vec<<N as crate::Network>::Output>,
    &'a mut Vec<usize>,
);

/// Mean loss and accuracy of `net` on `data` (for a network trained with
/// the mean squared error, MAE, RMSE and R² instead of accuracy), in
/// inference mode, in batches of `batch` samples evaluated in parallel on
/// rayon's current pool.
///
/// Chunk results are summed in order, so the result does not depend on the
/// thread count. NaN never hides in the mean: the parameters are checked
/// once, each chunk's inputs and dense targets before it runs, and the
/// loss at the end.
///
/// # Errors
/// - [`TrainError::NonFiniteEvaluation`] when a parameter, an input or a
///   dense target holds NaN or infinity, or the loss is not finite; the
///   [`Fault`](super::Fault) names the first culprit (an input by its
///   position in `data`).
/// - [`TrainError::ZeroBatch`] when `batch` is zero,
///   [`TrainError::EmptyEvaluation`] when `data` is empty,
///   [`TrainError::Label`] when a label is not a class of the network's
///   output.
pub fn evaluate<N, D>(net: &N, data: &D, batch: usize) -> Result<Metrics, TrainError>
where
    N: Trainable + Sync,
    D: Dataset<Input = N::Input> + Sync,
    D::Target: Target<N::Output> + Clone + Send,
    N::Input: Send,
{
    use rayon::prelude::*;
    if batch == 0 {
        return Err(TrainError::ZeroBatch);
    }
    if data.is_empty() {
        return Err(TrainError::EmptyEvaluation { set: "evaluation" });
    }
    check_labels::<N, D>(data)?;
    let stop = |loss, fault| TrainError::NonFiniteEvaluation { loss, fault };
    if let Some(t) = first_non_finite(net.params(), N::TENSORS) {
        return Err(stop(f64::NAN, Fault::Parameter { tensor: t.name }));
    }
    let chunks = data.len().div_ceil(batch);
    let regression = N::LOSS == LossKind::MeanSquaredError;
    type Part = (f64, usize, RegressionSums);
    let parts: Vec<Result<Part, Fault>> = (0..chunks)
        .into_par_iter()
        .map(|c| {
            let indices: Vec<usize> = (c * batch..((c + 1) * batch).min(data.len())).collect();
            let (mut xs, mut ts) = (Vec::new(), Vec::new());
            data.gather_into(&indices, &mut xs, &mut ts);
            check_batch::<N, D::Target>(&xs, &ts).map_err(|f| in_dataset(f, &indices))?;
            let mut outs = std::vec![<N::Output as Tensor>::zeroed(); xs.len()];
            Ok(crate::inference::with_workspace::<N, _>(xs.len(), |ws| {
                let loss = net.evaluate(&xs, &ts, ws, &mut outs).to_f64();
                let (mut correct, mut sums) = (0, RegressionSums::default());
                for (o, t) in outs.iter().zip(&ts) {
                    if regression {
                        sums.add::<N::Output, _>(o.as_flat(), t);
                    } else {
                        correct += usize::from(is_correct::<N::Output, _>(o.as_flat(), t));
                    }
                }
                (loss, correct, sums)
            }))
        })
        .collect();
    let (mut loss, mut correct, mut sums) = (0.0, 0, RegressionSums::default());
    for part in parts {
        let (l, c, s) = part.map_err(|f| stop(f64::NAN, f))?;
        loss += l;
        correct += c;
        sums.merge(&s);
    }
    let n = data.len() as f64;
    if !loss.is_finite() {
        return Err(stop(loss / n, Fault::Loss));
    }
    Ok(Metrics {
        loss: loss / n,
        accuracy: (!regression).then(|| correct as f64 / n),
        regression: sums.finish(),
    })
}

/// A batch's fault with an input's or target's index mapped from the batch
/// to the dataset it was gathered from by `indices`.
fn in_dataset(fault: Fault, indices: &[usize]) -> Fault {
    let at = |index: usize| indices.get(index).copied().unwrap_or(index);
    match fault {
        Fault::Input { index } => Fault::Input { index: at(index) },
        Fault::Target { index } => Fault::Target { index: at(index) },
        other => other,
    }
}

/// Rejects a dataset with a label that is not a class of `N`'s output.
fn check_labels<N, D>(data: &D) -> Result<(), TrainError>
where
    N: Trainable,
    D: Dataset<Input = N::Input>,
    D::Target: Target<N::Output>,
{
    let classes = N::OUTPUT_LEN.max(2);
    for i in 0..data.len() {
        if let Some(label) = data.get(i).1.class().filter(|&c| c >= classes) {
            return Err(TrainError::Label {
                index: i,
                label,
                classes,
            });
        }
    }
    Ok(())
}
