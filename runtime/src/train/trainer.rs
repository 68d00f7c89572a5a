//! Epochs over a dataset: shuffled minibatches, validation, early stopping,
//! progress, and the history of metrics.

use std::io::IsTerminal;
use std::time::Instant;
use std::vec::Vec;

use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::fault::{Fault, check_batch, first_non_finite};
use super::{Clip, EpochRecord, History, Stepper, TrainError};
use crate::data::{Batches, Dataset};
use crate::loss::{Target, is_correct};
use crate::optim::Optimizer;
use crate::{Scalar, Tensor, Trainable};

/// How the trainer reports progress on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Progress {
    /// A progress bar when stderr is a terminal, else one line per epoch.
    #[default]
    Auto,
    /// Always a progress bar.
    Bar,
    /// One line per epoch.
    Lines,
    /// Nothing.
    Quiet,
}

/// Loss and accuracy of a network on a dataset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    /// Mean loss.
    pub loss: f64,
    /// Fraction classified correctly, in `[0, 1]`.
    pub accuracy: f64,
}

/// Trains a network for a number of epochs.
///
/// Defaults: 10 epochs, batch 100, seed 0, every core, no clipping, no weight
/// decay, no early stopping. The same seed and data give bit-identical
/// weights for the same thread count.
#[derive(Debug, Clone)]
pub struct Trainer {
    epochs: usize,
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
            epochs: 10,
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
        }
    }

    /// Number of passes over the training set.
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
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
    ///   [`TrainError::NoSteps`] (zero epochs, or `drop_last` with a batch
    ///   larger than the training set), [`TrainError::Label`],
    ///   [`TrainError::InvalidHyperparameter`] and
    ///   [`TrainError::EarlyStoppingWithoutValidation`] before training
    ///   starts.
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
    /// (for example random shifts), driven by the trainer's seeded generator.
    ///
    /// # Errors
    /// As [`Trainer::fit`].
    pub fn fit_with<N, D, O, A>(
        &self,
        net: &mut N,
        train: &D,
        valid: Option<&D>,
        opt: &mut O,
        mut augment: A,
    ) -> Result<History, TrainError>
    where
        N: Trainable + Clone + Sync,
        D: Dataset<Input = N::Input> + Sync,
        D::Target: Target<N::Output> + Clone + Send,
        N::Input: Send,
        O: Optimizer<N::Elem>,
        A: FnMut(&mut [N::Input], &mut StdRng),
    {
        if train.is_empty() {
            return Err(TrainError::EmptyDataset);
        }
        if self.batch == 0 {
            return Err(TrainError::ZeroBatch);
        }
        if self.epochs == 0 || (self.drop_last && self.batch > train.len()) {
            return Err(TrainError::NoSteps {
                epochs: self.epochs,
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
        let mut stepper = Stepper::<N>::new(self.seed)
            .clip(self.clip)
            .weight_decay(self.weight_decay);
        if let Some(t) = self.threads {
            stepper = stepper.threads(t);
        }
        let batches = Batches::new(train.len(), self.batch, self.seed).drop_last(self.drop_last);
        let mut rng = StdRng::seed_from_u64(self.seed ^ 0xa11c_e5ed);
        let (mut xs, mut ts) = (Vec::new(), Vec::new());
        let mut outs = Vec::new();
        let mut order = Vec::new();
        let mut history = History::default();
        let mut best: Option<(f64, usize, N)> = None;
        let bar = self.bar(batches.samples_per_epoch());
        for epoch in 0..self.epochs {
            let start = Instant::now();
            batches.epoch_into(epoch as u64, &mut order);
            if let Some(bar) = &bar {
                bar.reset();
                bar.set_prefix(std::format!("epoch {}/{}", epoch + 1, self.epochs));
            }
            let (mut loss_sum, mut correct, mut seen) = (0.0, 0usize, 0usize);
            for chunk in order.chunks(self.batch) {
                if self.drop_last && chunk.len() < self.batch {
                    break;
                }
                train.gather_into(chunk, &mut xs, &mut ts);
                augment(&mut xs, &mut rng);
                outs.resize(chunk.len(), <N::Output as Tensor>::zeroed());
                let stats = match stepper.step_with_outputs(net, &xs, &ts, opt, Some(&mut outs)) {
                    Ok(stats) => stats,
                    Err(TrainError::NonFinite { step, loss, fault }) => {
                        if let Some(bar) = &bar {
                            bar.finish_and_clear();
                        }
                        let history = std::boxed::Box::new(history);
                        return Err(TrainError::Diverged {
                            step,
                            epoch: epoch + 1,
                            loss,
                            fault: in_dataset(fault, chunk),
                            history,
                        });
                    }
                    Err(e) => return Err(e),
                };
                loss_sum += stats.loss * chunk.len() as f64;
                correct += outs
                    .iter()
                    .zip(&ts)
                    .filter(|(o, t)| is_correct::<N::Output, _>(o.as_flat(), *t))
                    .count();
                seen += chunk.len();
                if let Some(bar) = &bar {
                    bar.set_position(seen as u64);
                    let rate = seen as f64 / start.elapsed().as_secs_f64().max(1e-9);
                    bar.set_message(std::format!(
                        "loss {:.4}  {rate:.0} samples/s",
                        loss_sum / seen as f64
                    ));
                }
            }
            let train_secs = start.elapsed().as_secs_f64();
            let val = match valid {
                Some(v) => Some(evaluate(net, v, self.eval_batch).inspect_err(|_| {
                    if let Some(bar) = &bar {
                        bar.finish_and_clear();
                    }
                })?),
                None => None,
            };
            // NOTE: `seen > 0`: the checks before the loop leave at least
            // one step per epoch.
            let record = EpochRecord {
                epoch: epoch + 1,
                train_loss: loss_sum / seen as f64,
                train_accuracy: correct as f64 / seen as f64,
                val_loss: val.map(|m| m.loss),
                val_accuracy: val.map(|m| m.accuracy),
                learning_rate: opt.learning_rate(),
                seconds: start.elapsed().as_secs_f64(),
                samples_per_second: seen as f64 / train_secs.max(1e-9),
            };
            history.epochs.push(record);
            self.report(&record, bar.as_ref());
            if let (Some(patience), Some(m)) = (self.patience, val) {
                let improved = best.as_ref().is_none_or(|(l, _, _)| m.loss < *l);
                if improved {
                    best = Some((m.loss, epoch + 1, net.clone()));
                } else if best
                    .as_ref()
                    .is_some_and(|(_, e, _)| epoch + 1 - e >= patience)
                {
                    break;
                }
            }
        }
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        history.kept_epoch = history.epochs.last().map(|e| e.epoch);
        if let Some((_, epoch, kept)) = best
            && Some(epoch) != history.kept_epoch
        {
            *net = kept;
            history.kept_epoch = Some(epoch);
        }
        Ok(history)
    }

    fn bar(&self, len: usize) -> Option<ProgressBar> {
        let show = match self.progress {
            Progress::Bar => true,
            Progress::Auto => std::io::stderr().is_terminal(),
            Progress::Lines | Progress::Quiet => false,
        };
        show.then(|| {
            let bar = ProgressBar::new(len as u64);
            if let Ok(style) = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        })
    }

    fn report(&self, r: &EpochRecord, bar: Option<&ProgressBar>) {
        if self.progress == Progress::Quiet {
            return;
        }
        let mut line = std::format!(
            "epoch {}/{}: loss {:.4}, accuracy {:.2}%",
            r.epoch,
            self.epochs,
            r.train_loss,
            100.0 * r.train_accuracy
        );
        if let (Some(l), Some(a)) = (r.val_loss, r.val_accuracy) {
            line.push_str(&std::format!(
                " | {} loss {l:.4}, accuracy {:.2}%",
                self.valid_label,
                100.0 * a
            ));
        }
        line.push_str(&std::format!(
            " | {:.0} samples/s, {:.1} s",
            r.samples_per_second,
            r.seconds
        ));
        match bar {
            Some(bar) => bar.println(line),
            None => std::eprintln!("{line}"),
        }
    }
}

/// Mean loss and accuracy of `net` on `data`, in inference mode, in batches
/// of `batch` samples evaluated in parallel on rayon's current pool.
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
    let parts: Vec<Result<(f64, usize), Fault>> = (0..chunks)
        .into_par_iter()
        .map(|c| {
            let indices: Vec<usize> = (c * batch..((c + 1) * batch).min(data.len())).collect();
            let (mut xs, mut ts) = (Vec::new(), Vec::new());
            data.gather_into(&indices, &mut xs, &mut ts);
            check_batch::<N, D::Target>(&xs, &ts).map_err(|f| in_dataset(f, &indices))?;
            let mut outs = std::vec![<N::Output as Tensor>::zeroed(); xs.len()];
            Ok(crate::inference::with_workspace::<N, _>(xs.len(), |ws| {
                let loss = net.evaluate(&xs, &ts, ws, &mut outs).to_f64();
                let correct = outs
                    .iter()
                    .zip(&ts)
                    .filter(|(o, t)| is_correct::<N::Output, _>(o.as_flat(), *t))
                    .count();
                (loss, correct)
            }))
        })
        .collect();
    let (mut loss, mut correct) = (0.0, 0);
    for part in parts {
        let (l, c) = part.map_err(|f| stop(f64::NAN, f))?;
        loss += l;
        correct += c;
    }
    let n = data.len() as f64;
    if !loss.is_finite() {
        return Err(stop(loss / n, Fault::Loss));
    }
    Ok(Metrics {
        loss: loss / n,
        accuracy: correct as f64 / n,
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
