//! One optimizer step over a batch, split across threads.
//!
//! Each thread runs forward and backward on a contiguous shard of the batch
//! with its own workspace and gradient array; the shards' gradients are then
//! summed in shard order. Every sum happens in the same order for a given
//! thread count, so training is bit-identical across runs. Across the ranks
//! of a [`Collective`] the shards are spread over processes and gathered
//! before the same sum (see [`collective`](super::collective)). Workspaces grow to
//! the largest batch seen and are reused: after the first step of a batch
//! size, a step allocates nothing.

use std::marker::PhantomData;
use std::sync::Arc;
use std::vec::Vec;

use crate::loss::Target;
use crate::optim::{self, Optimizer, WeightDecay};
use crate::scalar::all_finite;
use crate::threads::grow;
use crate::train::TrainError;
use crate::train::collective::{self, Collective};
use crate::train::fault::{self, Fault};
use crate::{Scalar, StepCtx, Tensor, Trainable, Workspace};

/// Most shards a batch is split into (each shard's loss has a slot on the stack).
const MAX_SHARDS: usize = 64;

/// Gradient clipping, applied to the summed gradient before the optimizer.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Clip {
    /// No clipping.
    #[default]
    None,
    /// Scale the whole gradient down to this global L2 norm when above it.
    Norm(f64),
    /// Clamp every gradient element to `[-max, max]`.
    Value(f64),
}

/// What one step measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    /// Mean loss over the batch, the L2 penalty included.
    pub loss: f64,
    /// Global gradient norm before clipping (only with [`Clip::Norm`]).
    pub grad_norm: Option<f64>,
}

/// Scratch memory of one shard.
struct Shard<E> {
    data: Vec<E>,
    index: Vec<u32>,
    grads: Vec<E>,
}

/// Runs training steps of a network type, owning the per-thread workspaces.
///
/// See the `constnet` crate docs for a complete training loop.
pub struct Stepper<N: Trainable> {
    shards: Vec<Shard<N::Elem>>,
    /// The running statistics before a step, put back if it fails.
    backup: Vec<N::Elem>,
    threads: usize,
    pool: Option<std::sync::Arc<rayon::ThreadPool>>,
    seed: u64,
    steps: u64,
    clip: Clip,
    weight_decay: f64,
    /// One flag per tensor of `N::TENSORS`: not updated (empty: none).
    frozen: Vec<bool>,
    /// The longest frozen prefix of the flat parameters, which the
    /// backward pass may skip (`StepCtx::frozen`).
    frozen_prefix: usize,
    /// The other processes of a data-parallel run, if any.
    group: Option<Arc<dyn Collective>>,
    /// This rank's shard records, and every rank's (see [`Stepper::gather`]).
    mine: Vec<N::Elem>,
    all: Vec<N::Elem>,
    _net: PhantomData<fn(N)>,
}

impl<N: Trainable + Sync> Stepper<N> {
    /// A stepper whose dropout masks derive from `seed`, using every core.
    pub fn new(seed: u64) -> Self {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        Stepper {
            shards: Vec::new(),
            backup: Vec::new(),
            threads,
            pool: None,
            seed,
            steps: 0,
            clip: Clip::None,
            weight_decay: 0.0,
            frozen: Vec::new(),
            frozen_prefix: 0,
            group: None,
            mine: Vec::new(),
            all: Vec::new(),
            _net: PhantomData,
        }
    }

    /// Spreads each batch over the ranks of `group` as well as over
    /// threads: with `ranks` ranks of `threads` threads each, a batch is
    /// split into `ranks × threads` shards, and the weights are bit for bit
    /// those of one process with `ranks × threads` threads. Every rank
    /// steps with the same batches, network, optimizer and settings, and
    /// computes its own shards only.
    pub fn across(mut self, group: Arc<dyn Collective>) -> Self {
        self.group = Some(group);
        self
    }

    /// Freezes the tensors the patterns name (see
    /// [`network::params::matches`](crate::network::params::matches):
    /// `conv1`, `conv1.weight`, `conv*`): steps leave them, and the
    /// optimizer's state of them, unchanged. When the frozen tensors start
    /// the flat parameter array (the lower layers, as transfer learning
    /// freezes them), the backward pass also skips their gradients and
    /// everything only they need. Replaces an earlier `freeze`; an empty
    /// list thaws every tensor.
    ///
    /// # Errors
    /// [`TrainError::UnknownTensor`] for a pattern that names no tensor.
    pub fn freeze<P: AsRef<str>>(mut self, patterns: &[P]) -> Result<Self, TrainError> {
        self.frozen = crate::network::params::select(N::TENSORS, patterns)?;
        if !self.frozen.contains(&true) {
            self.frozen.clear();
        }
        self.frozen_prefix = frozen_prefix(N::TENSORS, &self.frozen);
        Ok(self)
    }

    /// Whether tensor `i` of `N::TENSORS` is frozen.
    pub fn is_frozen(&self, i: usize) -> bool {
        self.frozen.get(i).copied().unwrap_or(false)
    }

    /// Sets the count of steps taken, as when resuming a run: dropout masks
    /// derive from it, so a resumed run draws the masks the uninterrupted
    /// one would.
    pub fn set_steps(&mut self, steps: u64) {
        self.steps = steps;
    }

    /// Splits each batch across `threads` threads (at least 1).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self.pool = None;
        self
    }

    /// Clips gradients before each update.
    pub fn clip(mut self, clip: Clip) -> Self {
        self.clip = clip;
        self
    }

    /// Adds the L2 penalty `½λ‖W‖²` over weights (not biases) to the loss,
    /// and `λW` to their gradients.
    pub fn weight_decay(mut self, lambda: f64) -> Self {
        self.weight_decay = lambda;
        self
    }

    /// Optimizer steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The thread count batches are split across.
    pub fn thread_count(&self) -> usize {
        self.threads
    }

    /// One step: forward, loss, backward, gradient sum, clipping, update.
    ///
    /// Every value the step reads or writes is checked: the inputs and
    /// dense targets before anything is computed, the loss and the
    /// gradient after the backward pass, and the update before it is
    /// written (see [`optim::step`]). A NaN or an infinity anywhere is an
    /// error at this step, and the step then changes nothing.
    ///
    /// # Errors
    /// - [`TrainError::NonFinite`] when something is NaN or infinite; its
    ///   [`Fault`] says what. The network keeps the parameters (bit for
    ///   bit) and the optimizer the state and step count it had before the
    ///   step, and [`Stepper::steps`] does not advance, so the step can be
    ///   retried, for example with a smaller learning rate.
    /// - [`TrainError::ZeroBatch`] when `xs` is empty,
    ///   [`TrainError::LengthMismatch`] when `ts` is not as long as `xs`,
    ///   [`TrainError::Label`] for a label outside the classes,
    ///   [`TrainError::InvalidHyperparameter`] for a negative or NaN
    ///   clipping threshold or weight decay.
    pub fn step<T, O>(
        &mut self,
        net: &mut N,
        xs: &[N::Input],
        ts: &[T],
        opt: &mut O,
    ) -> Result<StepStats, TrainError>
    where
        T: Target<N::Output>,
        O: Optimizer<N::Elem>,
    {
        self.step_with_outputs(net, xs, ts, opt, None)
    }

    /// [`Stepper::step`], also copying the training-mode outputs (for
    /// accuracy) into `outputs`.
    ///
    /// # Errors
    /// As [`Stepper::step`], and [`TrainError::LengthMismatch`] when
    /// `outputs` is not as long as `xs`.
    pub fn step_with_outputs<T, O>(
        &mut self,
        net: &mut N,
        xs: &[N::Input],
        ts: &[T],
        opt: &mut O,
        outputs: Option<&mut [N::Output]>,
    ) -> Result<StepStats, TrainError>
    where
        T: Target<N::Output>,
        O: Optimizer<N::Elem>,
    {
        let batch = xs.len();
        self.check_arguments(batch, ts, outputs.as_deref())?;
        let step = self.steps;
        let non_finite = |loss: f64, fault: Fault| TrainError::NonFinite { step, loss, fault };
        fault::check_batch::<N, T>(xs, ts).map_err(|f| non_finite(f64::NAN, f))?;
        let (rank, ranks) = self
            .group
            .as_ref()
            .map_or((0, 1), |g| (g.rank(), g.ranks()));
        let total = (self.threads * ranks).min(batch).min(MAX_SHARDS);
        let first = (rank * self.threads).min(total);
        let mine = Shards {
            first,
            count: ((rank + 1) * self.threads).min(total) - first,
            total,
            batch,
        };
        // A rank without shards (a batch smaller than the job) still sums the
        // gathered ones into its first shard's buffer.
        self.prepare(mine.count.max(1), batch.div_ceil(total));
        let seed = mix(self.seed ^ mix(self.steps));
        let loss = self.run_shards(net, xs, ts, outputs, mine, seed);
        let (clip, weight_decay) = (self.clip, self.weight_decay);
        let grads = &mut self.shards[0].grads[..N::STORE_LEN];
        // Frozen gradients may be skipped (stale) or computed: either way
        // they are no part of the step, of its clipping norm or its checks.
        for (t, _) in N::TENSORS.iter().zip(&self.frozen).filter(|(_, f)| **f) {
            grads[t.range()].fill(N::Elem::ZERO);
        }
        if !loss.is_finite() || !all_finite(grads) {
            return Err(non_finite(loss, fault::diagnose(net, loss, grads)));
        }
        let grad_norm = match clip {
            Clip::None => None,
            Clip::Norm(max) => Some(optim::clip_grad_norm(grads, N::TENSORS, max)),
            Clip::Value(max) => {
                optim::clip_grad_value(grads, N::TENSORS, max);
                None
            }
        };
        let mut penalty = 0.0;
        if weight_decay > 0.0 {
            penalty = optim::l2_penalty(net.params(), N::TENSORS, weight_decay).to_f64();
        }
        // The penalty of huge weights can overflow `f32` although the
        // weights are finite; the loss it reports must be finite too.
        if !(loss + penalty).is_finite() {
            return Err(non_finite(loss + penalty, Fault::Loss));
        }
        let (backup, frozen) = (&mut self.backup[..], &self.frozen[..]);
        let applied = if weight_decay > 0.0 {
            let mut decayed = WeightDecay::new(&mut *opt, weight_decay);
            fault::apply(net, grads, &mut decayed, backup, frozen)
        } else {
            fault::apply(net, grads, opt, backup, frozen)
        };
        applied.map_err(|f| non_finite(loss + penalty, f))?;
        self.steps += 1;
        Ok(StepStats {
            loss: loss + penalty,
            grad_norm,
        })
    }

    /// The argument checks of a step, before it computes anything.
    fn check_arguments<T: Target<N::Output>>(
        &self,
        batch: usize,
        ts: &[T],
        outputs: Option<&[N::Output]>,
    ) -> Result<(), TrainError> {
        if batch == 0 {
            return Err(TrainError::ZeroBatch);
        }
        let mismatch = |what, len| TrainError::LengthMismatch {
            inputs: batch,
            what,
            len,
        };
        if ts.len() != batch {
            return Err(mismatch("targets", ts.len()));
        }
        if let Some(o) = outputs.filter(|o| o.len() != batch) {
            return Err(mismatch("outputs", o.len()));
        }
        check_hyperparameters(self.clip, self.weight_decay)?;
        if let Some((index, label)) = crate::loss::first_misfit::<N::Output, T>(ts) {
            return Err(TrainError::Label {
                index,
                label,
                classes: N::OUTPUT_LEN.max(2),
            });
        }
        Ok(())
    }

    /// Sizes the buffers of `shards` shards of at most `per` samples.
    fn prepare(&mut self, shards: usize, per: usize) {
        while self.shards.len() < shards {
            self.shards.push(Shard {
                data: Vec::new(),
                index: Vec::new(),
                grads: Vec::new(),
            });
        }
        for shard in &mut self.shards[..shards] {
            grow(&mut shard.data, N::workspace_len(per));
            grow(&mut shard.index, N::index_len(per));
            grow(&mut shard.grads, N::STORE_LEN);
        }
        grow(&mut self.backup, fault::running_len(N::TENSORS));
        // Without a pool (the OS refused threads) shards run in turn: same
        // results, one core.
        if shards > 1 && self.pool.is_none() {
            self.pool = crate::threads::team(self.threads);
        }
    }

    /// Runs forward and backward on this rank's shards and sums every
    /// shard's gradients into the first local shard's; returns the mean
    /// loss.
    ///
    /// Shard `i` holds samples `bounds(i)`; shards are never empty because
    /// there are at most as many as samples.
    fn run_shards<T: Target<N::Output>>(
        &mut self,
        net: &N,
        xs: &[N::Input],
        ts: &[T],
        outputs: Option<&mut [N::Output]>,
        mine: Shards,
        seed: u64,
    ) -> f64 {
        let Shards {
            first,
            count,
            total,
            batch,
        } = mine;
        let frozen = self.frozen_prefix;
        let work = |shard: &mut Shard<N::Elem>, i: usize, outs: Option<&mut [N::Output]>| {
            let (start, end) = bounds(i, total, batch);
            let ctx = StepCtx {
                seed,
                first_sample: start,
                batch,
                frozen,
            };
            let mut ws = Workspace {
                data: &mut shard.data,
                index: &mut shard.index,
            };
            net.forward_backward(
                &xs[start..end],
                &ts[start..end],
                &mut ws,
                &mut shard.grads,
                ctx,
                outs,
            )
            .to_f64()
        };
        let (samples_start, samples_end) = (
            bounds(first, total, batch).0,
            bounds(first + count, total, batch).0,
        );
        let mut outputs = outputs;
        let mut local = outputs
            .as_deref_mut()
            .map(|o| &mut o[samples_start..samples_end]);
        let mut losses = [0.0f64; MAX_SHARDS];
        let summed_here = self.group.is_none();
        match &self.pool {
            Some(pool) if count > 1 => {
                let parts = &mut self.shards[..count];
                let losses = &mut losses[..count];
                // One round trip to the pool per step: the shards' gradients
                // are summed by the same workers that computed them.
                pool.install(|| {
                    fan_out(parts, losses, local, (first, total, batch), &work);
                    if summed_here {
                        let (head, rest) = parts.split_at_mut(1);
                        sum_into(&mut head[0].grads[..N::STORE_LEN], rest);
                    }
                });
            }
            // One shard, or no pool could be built: the same shards in turn.
            _ => {
                for (k, shard) in self.shards[..count].iter_mut().enumerate() {
                    let (start, end) = bounds(first + k, total, batch);
                    let outs = local
                        .as_deref_mut()
                        .map(|o| &mut o[start - samples_start..end - samples_start]);
                    losses[k] = work(shard, first + k, outs);
                }
                if summed_here {
                    let (head, rest) = self.shards[..count].split_at_mut(1);
                    let mut parts = [&[][..]; MAX_SHARDS];
                    for (part, shard) in parts.iter_mut().zip(rest.iter()) {
                        *part = &shard.grads[..N::STORE_LEN];
                    }
                    add_parts(&mut head[0].grads[..N::STORE_LEN], &parts[..rest.len()]);
                }
            }
        }
        if let Some(group) = self.group.clone() {
            self.gather(&*group, mine, &mut losses, outputs);
        }
        losses[..total].iter().sum::<f64>() / batch as f64
    }

    /// Exchanges the shards of every rank and sums them here, in shard
    /// order, into the first local shard's gradients; `losses` receives
    /// every shard's loss and `outputs` every sample's output.
    ///
    /// Each rank sends one record per thread: a shard's gradients, its loss
    /// and its samples' outputs (`bounds` sizes differ by at most one, so
    /// each record has room for the largest shard). Record `j` of the
    /// gathered buffer is then shard `j`'s, whichever rank computed it.
    fn gather(
        &mut self,
        group: &dyn Collective,
        mine: Shards,
        losses: &mut [f64; MAX_SHARDS],
        outputs: Option<&mut [N::Output]>,
    ) {
        let Shards {
            first,
            count,
            total,
            batch,
        } = mine;
        let (len, outs) = (N::STORE_LEN, <N::Output as Tensor>::LEN);
        let record = len + 1 + batch.div_ceil(total) * outs;
        self.mine.clear();
        self.mine.resize(self.threads * record, N::Elem::ZERO);
        for (k, rec) in self.mine.chunks_exact_mut(record).take(count).enumerate() {
            rec[..len].copy_from_slice(&self.shards[k].grads[..len]);
            // Exact: the loss is a sum of `N::Elem`s widened to `f64`.
            rec[len] = N::Elem::from_f64(losses[k]);
            if let Some(o) = outputs.as_deref() {
                let (start, end) = bounds(first + k, total, batch);
                let flat = <N::Output as Tensor>::batch_flat(&o[start..end]);
                rec[len + 1..len + 1 + flat.len()].copy_from_slice(flat);
            }
        }
        self.all.clear();
        self.all
            .resize(group.ranks() * self.mine.len(), N::Elem::ZERO);
        collective::gather_elems(group, &self.mine, &mut self.all);
        let records = &self.all[..total * record];
        let mut parts = [&[][..]; MAX_SHARDS];
        for (j, (rec, part)) in records.chunks_exact(record).zip(&mut parts).enumerate() {
            *part = &rec[..len];
            losses[j] = rec[len].to_f64();
        }
        let sum = &mut self.shards[0].grads[..len];
        sum.copy_from_slice(parts[0]);
        add_parts(sum, &parts[1..total]);
        if let Some(o) = outputs {
            for (j, rec) in records.chunks_exact(record).enumerate() {
                let (start, end) = bounds(j, total, batch);
                let flat = <N::Output as Tensor>::batch_flat_mut(&mut o[start..end]);
                let n = flat.len();
                flat.copy_from_slice(&rec[len + 1..len + 1 + n]);
            }
        }
    }
}

/// The shards of a step this rank computes: `count` shards from `first`,
/// of `total` over `batch` samples.
#[derive(Clone, Copy)]
struct Shards {
    first: usize,
    count: usize,
    total: usize,
    batch: usize,
}

/// Rejects a negative or NaN clipping threshold or weight decay: the first
/// would panic in the clipping functions, the second silently train
/// without decay.
pub(super) fn check_hyperparameters(clip: Clip, weight_decay: f64) -> Result<(), TrainError> {
    let invalid = |value: f64| value.is_nan() || value < 0.0;
    if let Clip::Norm(value) | Clip::Value(value) = clip
        && invalid(value)
    {
        return Err(TrainError::InvalidHyperparameter {
            name: "clipping threshold",
            value,
        });
    }
    if invalid(weight_decay) {
        return Err(TrainError::InvalidHyperparameter {
            name: "weight decay",
            value: weight_decay,
        });
    }
    Ok(())
}

/// The flat offset below which every parameter is frozen: the end of the
/// frozen tensors that start the array, before the first trained one.
fn frozen_prefix(tensors: &[crate::TensorInfo], frozen: &[bool]) -> usize {
    let mut end = 0;
    for (t, &f) in tensors.iter().zip(frozen) {
        if !f && t.role.is_trainable() {
            break;
        }
        if f {
            end = t.offset + t.len;
        }
    }
    end
}

/// Samples `[start, end)` of shard `i` of `shards` over `batch` samples:
/// sizes differ by at most one, and no shard is empty while `shards <= batch`.
fn bounds(i: usize, shards: usize, batch: usize) -> (usize, usize) {
    (i * batch / shards, (i + 1) * batch / shards)
}

/// Runs `work` on every shard in parallel by recursive halving (rayon's
/// `join` needs no heap allocation). `shards` are shards `first ..` of
/// `total` over `batch` samples, and `outputs` their samples' outputs.
fn fan_out<E: Send, O: Send, W>(
    shards: &mut [Shard<E>],
    losses: &mut [f64],
    outputs: Option<&mut [O]>,
    (first, total, batch): (usize, usize, usize),
    work: &W,
) where
    W: Fn(&mut Shard<E>, usize, Option<&mut [O]>) -> f64 + Sync,
{
    if shards.len() == 1 {
        losses[0] = work(&mut shards[0], first, outputs);
        return;
    }
    let mid = shards.len() / 2;
    let (left, right) = shards.split_at_mut(mid);
    let (loss_l, loss_r) = losses.split_at_mut(mid);
    let (out_l, out_r) = match outputs {
        Some(o) => {
            let cut = bounds(first + mid, total, batch).0 - bounds(first, total, batch).0;
            let (a, b) = o.split_at_mut(cut);
            (Some(a), Some(b))
        }
        None => (None, None),
    };
    rayon::join(
        || fan_out(left, loss_l, out_l, (first, total, batch), work),
        || fan_out(right, loss_r, out_r, (first + mid, total, batch), work),
    );
}

/// `total[i] += Σ_shards shard[i]`, shards in order, over chunks in parallel.
fn sum_into<E: Scalar>(total: &mut [E], rest: &[Shard<E>]) {
    const CHUNK: usize = 16 * 1024;
    fn go<E: Scalar>(total: &mut [E], rest: &[Shard<E>], offset: usize) {
        if total.len() > CHUNK {
            let mid = total.len() / 2;
            let (a, b) = total.split_at_mut(mid);
            rayon::join(|| go(a, rest, offset), || go(b, rest, offset + mid));
            return;
        }
        let mut parts = [&[][..]; MAX_SHARDS];
        for (part, shard) in parts.iter_mut().zip(rest) {
            *part = &shard.grads[offset..offset + total.len()];
        }
        add_parts(total, &parts[..rest.len()]);
    }
    go(total, rest, 0);
}

/// `total[i] += Σ_parts part[i]` on this thread, parts in order, in the
/// AVX2 build when the CPU has it (additions round the same at every
/// vector width, so the sum's bits do not depend on the build).
fn add_parts<E: Scalar>(total: &mut [E], parts: &[&[E]]) {
    crate::kernels::dispatch::wide(AddParts { total, parts });
}

/// The loop of [`add_parts`].
struct AddParts<'a, E> {
    total: &'a mut [E],
    parts: &'a [&'a [E]],
}

impl<E: Scalar> crate::kernels::dispatch::Loop for AddParts<'_, E> {
    type Out = ();
    #[inline(always)]
    fn run(self) {
        for part in self.parts {
            for (t, &g) in self.total.iter_mut().zip(*part) {
                *t += g;
            }
        }
    }
}

/// SplitMix64's finalizer, to derive per-step seeds.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
