//! Data-parallel training and distributed search over the ranks of a job
//! (issue 12), on jobs of threads (`local_job`): the same code paths as an
//! MPI job, whose runs `.ci/mpi.sh` checks under `mpirun`.

use std::sync::Arc;

use constnet::data::{InMemory, SyntheticDigits};
use constnet::optim::Adam;
use constnet::train::collective::{Collective, local_job};
use constnet::train::search::Search;
use constnet::train::{Every, Progress, Stepper, TrainError, Trainer};
use constnet::{Network, Tensor, network};

network! {
    struct Mixed: [2, 14, 14] => conv(6, 3, stride = 1, pad = 1) -> batchnorm -> prelu
        -> avgpool(2) -> conv(4, (3, 1), stride = 2, pad = (1, 0)) -> elu -> pool(3, stride = 1)
        -> flatten -> dropout(0.25) -> affine(12) -> leaky_relu -> affine(3) -> softmax
    struct Small: [1, 28, 28] => conv(4, 5) -> relu -> pool(2) -> affine(10) -> softmax
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

type MixedInput = [[[f32; 14]; 14]; 2];

/// Deterministic inputs in `[0, 1)` and labels of 3 classes.
fn data(n: usize) -> (Vec<MixedInput>, Vec<usize>) {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let xs = (0..n)
        .map(|_| {
            let mut x = MixedInput::zeroed();
            for v in x.as_flat_mut() {
                *v = (next() >> 40) as f32 / (1u64 << 24) as f32;
            }
            x
        })
        .collect();
    let ts = (0..n).map(|_| (next() % 3) as usize).collect();
    (xs, ts)
}

/// Parameters, per-step losses and training outputs of steps over batches
/// of `batch`, with `threads` threads on rank `group` (or alone).
fn steps(
    batch: usize,
    threads: usize,
    group: Option<Arc<dyn Collective>>,
) -> (Vec<u32>, Vec<u64>, Vec<u32>) {
    let (xs, ts) = data(4 * batch);
    let mut net = Mixed::<f32>::seeded(3);
    let mut stepper = Stepper::<Mixed<f32>>::new(9).threads(threads);
    if let Some(g) = group {
        stepper = stepper.across(g);
    }
    let mut opt = Adam::new(0.01);
    let (mut losses, mut outputs) = (Vec::new(), Vec::new());
    for (x, t) in xs.chunks(batch).zip(ts.chunks(batch)) {
        let mut outs = vec![[0.0f32; 3]; x.len()];
        let stats = stepper
            .step_with_outputs(&mut net, x, t, &mut opt, Some(&mut outs))
            .unwrap();
        losses.push(stats.loss.to_bits());
        outputs.extend(outs.iter().flatten().map(|v| v.to_bits()));
    }
    (bits(net.params()), losses, outputs)
}

/// Runs `f` on every rank of a job of `ranks` threads; their results in
/// rank order.
fn on_ranks<T: Send>(ranks: usize, f: impl Fn(Arc<dyn Collective>) -> T + Sync) -> Vec<T> {
    std::thread::scope(|s| {
        let f = &f;
        let job: Vec<_> = local_job(ranks)
            .into_iter()
            .map(|rank| s.spawn(move || f(rank)))
            .collect();
        job.into_iter().map(|t| t.join().unwrap()).collect()
    })
}

#[test]
fn ranks_step_bit_for_bit_as_one_process_with_as_many_threads() {
    // (ranks, threads per rank, batch): the last has fewer samples than
    // shards, so a rank computes nothing and still sums.
    for (ranks, threads, batch) in [(2, 1, 12), (3, 2, 13), (4, 1, 3)] {
        let alone = steps(batch, ranks * threads, None);
        let job = on_ranks(ranks, |g| steps(batch, threads, Some(g)));
        for (rank, found) in job.iter().enumerate() {
            assert!(
                *found == alone,
                "{ranks} ranks x {threads} threads, batch {batch}: rank {rank} differs"
            );
        }
    }
}

fn digits() -> InMemory<[[[f32; 28]; 28]; 1], usize> {
    SyntheticDigits::new(120, 1).generate()
}

fn trainer(threads: usize) -> Trainer {
    Trainer::new()
        .epochs(2)
        .batch_size(20)
        .seed(4)
        .threads(threads)
        .progress(Progress::Quiet)
}

#[test]
fn a_job_trains_resumes_and_checkpoints_as_one_process() {
    let dir = std::env::temp_dir().join(format!("constnet-distributed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = digits();
    let (train, valid) = data.split(0.25, 1);
    let fit = |trainer: Trainer| {
        let mut net = Small::<f32>::seeded(2);
        let mut opt = Adam::new(0.005);
        let history = trainer
            .fit(&mut net, &train, Some(&valid), &mut opt)
            .unwrap();
        let losses: Vec<u64> = history
            .epochs
            .iter()
            .map(|e| e.train_loss.to_bits())
            .collect();
        (bits(net.params()), losses)
    };
    let alone = fit(trainer(2));
    let saved = dir.join("job.ckpt");
    let job = on_ranks(2, |g| {
        fit(trainer(1).across(g).checkpoint(&saved, Every::Epochs(1)))
    });
    assert!(job.iter().all(|r| *r == alone), "a job of 2 ranks differs");
    // Resume the finished job's checkpoint (epoch 2) for a third epoch on
    // both sides.
    let three = |t: Trainer| t.epochs(3);
    let alone_on = fit(three(trainer(2)));
    let resumed = on_ranks(2, |g| fit(three(trainer(1)).across(g).resume(&saved)));
    for (rank, (params, _)) in resumed.iter().enumerate() {
        assert_eq!(*params, alone_on.0, "rank {rank} resumed to other weights");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ranks_that_start_differently_are_refused_on_every_rank() {
    let data = digits();
    let results = on_ranks(2, |g| {
        let rank = g.rank() as u64;
        let mut net = Small::<f32>::seeded(rank);
        let mut opt = Adam::new(0.005);
        trainer(1).across(g).fit(&mut net, &data, None, &mut opt)
    });
    for r in results {
        match r {
            Err(TrainError::RanksDiffer { rank: 1, what }) => {
                assert_eq!(what, "has other parameters");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}

#[test]
fn a_search_over_ranks_ranks_the_trials_as_one_process() {
    let search = Search::new(5)
        .log_uniform("lr", 1e-4, 1e-1)
        .trials(7)
        .threads(1);
    // NaN scores and details cross ranks too.
    let objective = |trial: &constnet::train::search::Trial| {
        let lr = trial.get("lr");
        let score = if lr > 0.05 { f64::NAN } else { -lr.log10() };
        (score, vec![lr, f64::INFINITY, trial.seed as f64])
    };
    let alone = search.run(objective);
    let outcomes = |r: &constnet::train::search::Results<Vec<f64>>| {
        r.outcomes()
            .iter()
            .map(|o| {
                let detail: Vec<u64> = o.detail.iter().map(|v| v.to_bits()).collect();
                (o.trial.clone(), o.score.to_bits(), detail)
            })
            .collect::<Vec<_>>()
    };
    for ranks in [2, 3] {
        let job = on_ranks(ranks, |g| search.run_across(&*g, objective));
        for (rank, found) in job.iter().enumerate() {
            assert_eq!(
                outcomes(found),
                outcomes(&alone),
                "{ranks} ranks: rank {rank}"
            );
        }
    }
}
