//! Real training runs: checkpoints that resume exactly (in process, and
//! after a SIGKILL), kills during checkpoint writes, the step budget, the
//! Trainer's clipping and weight decay, callbacks, regression metrics and
//! frozen tensors.
//!
//! The kill tests run this test binary again as a child (the
//! `child_process_entry_point` test, which does nothing unless
//! [`CHILD_ENV`] is set), so the child is a real process that SIGKILL ends.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use constnet::data::{Dataset, InMemory, SyntheticDigits};
use constnet::optim::{Adam, Optimizer, OptimizerConfig, ScheduleConfig, Sgd};
use constnet::rand::rngs::StdRng;
use constnet::rand::{RngExt, SeedableRng};
use constnet::train::callbacks::{self, Callback, Monitor, ReduceOnPlateau, SaveBest};
use constnet::train::{
    Checkpoint, Clip, Every, History, Progress, TrainError, Trainer, regression_metrics,
};
use constnet::{Network, network, persist};

use crate::common;

network! {
    struct SimpleConvNet: [1, 28, 28] => conv(30, 5) -> relu -> pool(2)
        -> affine(100) -> relu -> affine(10) -> softmax
    struct Dropped: [4] => affine(16) -> relu -> dropout(0.3) -> batchnorm -> affine(2) -> softmax
    struct Line: [3] => affine(8) -> tanh -> affine(1), loss = mse
    struct Plain: [4] => affine(6) -> relu -> affine(2) -> softmax
}

type Image = [[[f32; 28]; 28]; 1];

/// Set in a child process: `resume <path>`, `hammer <path>` or `once <path>`.
const CHILD_ENV: &str = "CONSTNET_TRAINING_RUNS_CHILD";

/// The temporary directory of one test, removed when it ends.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "constnet-training-runs-{tag}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// The temporary files of atomic writes in the directory.
    fn temporaries(&self) -> usize {
        self.temporaries_with("")
    }

    /// The temporary files whose name contains `part`.
    fn temporaries_with(&self, part: &str) -> usize {
        std::fs::read_dir(&self.0)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.ends_with(".constnet-tmp") && name.contains(part)
            })
            .count()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn bits<E: Copy + Into<f64>>(values: &[E]) -> Vec<u64> {
    values.iter().map(|&v| v.into().to_bits()).collect()
}

fn digits() -> InMemory<Image, usize> {
    SyntheticDigits::new(240, 1).generate()
}

/// The SIGKILL test's run: SimpleConvNet, Adam under a cosine schedule,
/// 3 epochs of 10 steps, one thread, a checkpoint every step.
fn conv_trainer(checkpoint: &Path) -> Trainer {
    Trainer::new()
        .epochs(3)
        .batch_size(24)
        .seed(5)
        .threads(1)
        .progress(Progress::Quiet)
        .checkpoint(checkpoint, Every::Steps(1))
}

fn conv_optimizer() -> impl Optimizer<f32> {
    let schedule: ScheduleConfig = "cosine".parse().unwrap();
    "adam:lr=0.002"
        .parse::<OptimizerConfig>()
        .unwrap()
        .scheduled::<f32>(&schedule, 30)
}

/// What a child process does: runs until it is killed, or returns at
/// once in a normal test run.
#[test]
fn child_process_entry_point() {
    let Ok(task) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (mode, path) = task.split_once(' ').unwrap();
    let path = Path::new(path);
    let mut net = SimpleConvNet::<f32>::seeded(4);
    match mode {
        // The SIGKILL test's run, slowed down so the parent can kill it
        // mid-epoch: the sleep changes no value.
        "resume" => {
            let mut slow = callbacks::every_steps(1, |_, _| {
                std::thread::sleep(Duration::from_millis(40));
                Ok(())
            });
            let list: &mut [&mut dyn Callback<SimpleConvNet>] = &mut [&mut slow];
            let mut opt = conv_optimizer();
            conv_trainer(path)
                .fit_with_callbacks(&mut net, &digits(), None, &mut opt, |_, _| {}, list)
                .unwrap();
        }
        // Checkpoints as fast as it can, resuming from the last one.
        "hammer" => hammer(path, u64::MAX),
        // One more step, from a fresh process.
        "once" => {
            let steps = Checkpoint::<f32>::load::<SimpleConvNet>(path)
                .unwrap()
                .state
                .steps;
            hammer(path, steps + 1);
        }
        other => panic!("unknown child mode `{other}`"),
    }
}

fn spawn_child(mode: &str, path: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "training_runs::child_process_entry_point",
            "--exact",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, format!("{mode} {}", path.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn a_run_killed_mid_epoch_resumes_to_the_uninterrupted_weights() {
    let dir = TempDir::new("sigkill");
    let path = dir.join("run.ckpt");
    let mut child = spawn_child("resume", &path);
    let deadline = Instant::now() + Duration::from_secs(120);
    // Kill in the second epoch, after step 14 (steps 11 to 20).
    loop {
        assert!(Instant::now() < deadline, "the child never reached step 14");
        assert!(child.try_wait().unwrap().is_none(), "the child ended early");
        let steps = Checkpoint::<f32>::load::<SimpleConvNet>(&path).map(|c| c.state.steps);
        if steps.is_ok_and(|s| s >= 14) {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let at = Checkpoint::<f32>::load::<SimpleConvNet>(&path)
        .unwrap()
        .state;
    assert!(
        at.steps < 30 && at.batches_done > 0,
        "killed at step {} (batch {} of epoch {}): not mid-epoch",
        at.steps,
        at.batches_done,
        at.epoch + 1
    );

    let mut resumed = SimpleConvNet::<f32>::seeded(99);
    let history = conv_trainer(&path)
        .resume(&path)
        .fit(&mut resumed, &digits(), None, &mut conv_optimizer())
        .unwrap();
    let mut whole = SimpleConvNet::<f32>::seeded(4);
    let uninterrupted = conv_trainer(&dir.join("whole.ckpt"))
        .fit(&mut whole, &digits(), None, &mut conv_optimizer())
        .unwrap();
    assert_eq!(bits(resumed.params()), bits(whole.params()));
    let losses = |h: &History| bits(&h.epochs.iter().map(|e| e.train_loss).collect::<Vec<_>>());
    assert_eq!(losses(&history), losses(&uninterrupted));
    println!(
        "killed at step {} of 30 (batch {} of epoch {}); resumed weights bit-equal",
        at.steps,
        at.batches_done,
        at.epoch + 1
    );
}

/// The hammer's run: SimpleConvNet with Adam on 8 digits, a checkpoint
/// (5.2 MB: parameters and two moments) after every step.
fn hammer(path: &Path, steps: u64) {
    let data: InMemory<Image, usize> = SyntheticDigits::new(8, 2).generate();
    let mut trainer = Trainer::new()
        .steps(steps)
        .batch_size(4)
        .threads(1)
        .progress(Progress::Quiet)
        .checkpoint(path, Every::Steps(1));
    if path.exists() {
        trainer = trainer.resume(path);
    }
    let mut net = SimpleConvNet::<f32>::seeded(4);
    trainer
        .fit(&mut net, &data, None, &mut Adam::new(1e-4))
        .unwrap();
}

#[test]
fn a_hundred_kills_during_checkpoint_writes_leave_a_loadable_checkpoint() {
    let dir = TempDir::new("hammer");
    let path = dir.join("run.ckpt");
    hammer(&path, 1);
    let mut rng = StdRng::seed_from_u64(11);
    let mut mid_write = 0;
    for kill in 0..100 {
        let mut child = spawn_child("hammer", &path);
        // Kill at a random moment of the child's first write, which lasts
        // some milliseconds (5.2 MB and an fsync): from the moment its
        // temporary file appears.
        let own = format!(".{}-", child.id());
        let deadline = Instant::now() + Duration::from_secs(60);
        while dir.temporaries_with(&own) == 0 {
            assert!(
                Instant::now() < deadline,
                "kill {kill}: the child never wrote"
            );
            std::thread::sleep(Duration::from_micros(200));
        }
        std::thread::sleep(Duration::from_micros(rng.random_range(0..10_000)));
        child.kill().unwrap();
        child.wait().unwrap();
        mid_write += usize::from(dir.temporaries_with(&own) > 0);
        let temporaries = dir.temporaries();
        // A child killed before its first save cleaned up leaves its
        // predecessor's temporary too; never more.
        assert!(
            temporaries <= 2,
            "kill {kill}: {temporaries} temporary files"
        );
        let checkpoint = Checkpoint::<f32>::load::<SimpleConvNet>(&path);
        assert!(checkpoint.is_ok(), "kill {kill}: {:?}", checkpoint.err());
    }
    // One more run's first save removes what the killed writers left (a
    // process only removes temporaries older than its own first save, so
    // this one is new).
    let steps = Checkpoint::<f32>::load::<SimpleConvNet>(&path)
        .unwrap()
        .state
        .steps;
    assert!(spawn_child("once", &path).wait().unwrap().success());
    assert_eq!(dir.temporaries(), 0);
    println!(
        "100 kills: the checkpoint loaded after each, {mid_write} killed the writer before its \
         rename; it reached step {steps}"
    );
}

fn two_class(n: usize, seed: u64) -> InMemory<[f32; 4], usize> {
    let xs: Vec<[f64; 4]> = common::inputs(n, seed);
    let labels = xs
        .iter()
        .map(|x| usize::from(x[0] + 0.5 * x[1] - x[3] > 0.0))
        .collect();
    InMemory::new(xs.iter().map(|x| x.map(|v| v as f32)).collect(), labels).unwrap()
}

#[test]
fn a_run_stopped_by_a_callback_resumes_exactly_with_dropout_and_a_schedule() {
    let dir = TempDir::new("resume");
    let path = dir.join("run.ckpt");
    let (train, valid) = two_class(200, 6).split(0.2, 7);
    let trainer = Trainer::new()
        .epochs(4)
        .batch_size(16)
        .seed(9)
        .threads(2)
        .progress(Progress::Quiet)
        .checkpoint(&path, Every::Epochs(1));
    let opt = || {
        let schedule: ScheduleConfig = "warmup:steps=5+cosine".parse().unwrap();
        "adam:lr=0.01"
            .parse::<OptimizerConfig>()
            .unwrap()
            .scheduled::<f32>(&schedule, 40)
    };
    let run = |net: &mut Dropped, trainer: &Trainer, stop_at: Option<u64>| {
        let mut plateau = ReduceOnPlateau::new(Monitor::ValLoss, 0.5, 0);
        let mut stop = callbacks::every_steps(1, move |event, control| {
            if Some(event.step) == stop_at {
                control.stop();
            }
            Ok(())
        });
        let list: &mut [&mut dyn Callback<Dropped>] = &mut [&mut plateau, &mut stop];
        trainer
            .fit_with_callbacks(net, &train, Some(&valid), &mut opt(), |_, _| {}, list)
            .unwrap()
    };
    let mut whole = Dropped::<f32>::seeded(8);
    let uninterrupted = run(&mut whole, &trainer, None);
    // Stopped after step 17, in the second epoch (10 steps each).
    let mut first = Dropped::<f32>::seeded(8);
    run(&mut first, &trainer, Some(17));
    assert_eq!(
        Checkpoint::<f32>::load::<Dropped>(&path)
            .unwrap()
            .state
            .steps,
        17
    );
    let mut resumed = Dropped::<f32>::seeded(1);
    let history = run(&mut resumed, &trainer.clone().resume(&path), None);
    assert_eq!(bits(resumed.params()), bits(whole.params()));
    assert_eq!(history.epochs.len(), 4);
    for (a, b) in history.epochs.iter().zip(&uninterrupted.epochs) {
        assert_eq!(a.train_loss.to_bits(), b.train_loss.to_bits());
        assert_eq!(a.val_loss, b.val_loss);
        assert_eq!(a.learning_rate, b.learning_rate);
    }
}

#[test]
fn resuming_with_another_batch_size_is_refused() {
    let dir = TempDir::new("mismatch");
    let path = dir.join("run.ckpt");
    let data = two_class(40, 1);
    let trainer = Trainer::new()
        .epochs(1)
        .batch_size(8)
        .progress(Progress::Quiet)
        .checkpoint(&path, Every::Epochs(1));
    let mut net = Plain::<f32>::seeded(1);
    trainer
        .fit(&mut net, &data, None, &mut Sgd::new(0.1))
        .unwrap();
    let err = trainer
        .batch_size(10)
        .resume(&path)
        .fit(&mut net, &data, None, &mut Sgd::new(0.1))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot resume: the checkpoint was written with batch size 8, this trainer uses 10"
    );
}

#[test]
fn a_step_budget_runs_exactly_that_many_steps() {
    let data = two_class(50, 2);
    let mut net = Plain::<f32>::seeded(1);
    let mut opt = Adam::new(0.01);
    let mut calls = 0;
    let mut count = callbacks::every_steps(1, |_, _| {
        calls += 1;
        Ok(())
    });
    let list: &mut [&mut dyn Callback<Plain>] = &mut [&mut count];
    // 50 samples in batches of 8: 7 steps an epoch, so 17 steps end in the
    // middle of the third epoch.
    let history = Trainer::new()
        .steps(17)
        .batch_size(8)
        .progress(Progress::Quiet)
        .fit_with_callbacks(&mut net, &data, None, &mut opt, |_, _| {}, list)
        .unwrap();
    assert_eq!(calls, 17);
    assert_eq!(Optimizer::<f32>::step_count(&opt), 17);
    assert_eq!(history.epochs.len(), 3);
}

/// One full-batch SGD step of `trainer` from the same start; returns the
/// parameters before and after.
fn one_step(trainer: Trainer, lr: f64) -> (Vec<f32>, Vec<f32>) {
    let data = two_class(32, 3);
    let mut net = Plain::<f32>::seeded(2);
    let before = net.params().to_vec();
    trainer
        .steps(1)
        .batch_size(32)
        .threads(1)
        .progress(Progress::Quiet)
        .fit(&mut net, &data, None, &mut Sgd::new(lr))
        .unwrap();
    (before, net.params().to_vec())
}

#[test]
fn trainer_clipping_bounds_the_step() {
    let lr = 0.5;
    let (before, free) = one_step(Trainer::new(), lr);
    let norm = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| f64::from(x - y).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    let unclipped = norm(&before, &free);
    let limit = unclipped / lr / 4.0;
    let (_, clipped) = one_step(Trainer::new().clip(Clip::Norm(limit)), lr);
    let moved = norm(&before, &clipped);
    assert!(
        (moved - lr * limit).abs() < 1e-5 * moved,
        "‖Δθ‖ {moved} for a norm limit {limit} and rate {lr}"
    );
    let (_, clamped) = one_step(Trainer::new().clip(Clip::Value(1e-3)), lr);
    for (b, c) in before.iter().zip(&clamped) {
        assert!(f64::from((b - c).abs()) <= lr * 1e-3 + 1e-7, "{b} -> {c}");
    }
    assert!(
        Trainer::new()
            .clip(Clip::Norm(-1.0))
            .fit(
                &mut Plain::<f32>::seeded(1),
                &two_class(4, 1),
                None,
                &mut Sgd::new(0.1)
            )
            .is_err()
    );
}

#[test]
fn trainer_weight_decay_shrinks_weights_not_biases() {
    let (lr, lambda) = (0.5, 0.1);
    let (before, plain) = one_step(Trainer::new(), lr);
    let (_, decayed) = one_step(Trainer::new().weight_decay(lambda), lr);
    for t in Plain::<f32>::TENSORS {
        for i in t.range() {
            let expected = if t.name.ends_with(".weight") {
                plain[i] - (lr * lambda) as f32 * before[i]
            } else {
                plain[i]
            };
            assert!(
                (decayed[i] - expected).abs() <= 1e-6,
                "{}[{}]: {} vs {expected}",
                t.name,
                i - t.offset,
                decayed[i]
            );
        }
    }
}

#[test]
fn callbacks_save_the_best_epoch_lower_the_rate_and_stop() {
    let dir = TempDir::new("callbacks");
    let best_path = dir.join("best.cnet");
    let (train, valid) = two_class(120, 4).split(0.25, 5);
    let mut net = Plain::<f32>::seeded(3);
    let mut best = SaveBest::new(&best_path, Monitor::ValAccuracy);
    // Patience 0 with a factor: every epoch without a new best halves the rate.
    let mut plateau = ReduceOnPlateau::new(Monitor::TrainLoss, 0.5, 0);
    let mut stop = callbacks::on_epoch(|event, control| {
        if event.epoch == 5 {
            control.stop();
        }
        Ok(())
    });
    let list: &mut [&mut dyn Callback<Plain>] = &mut [&mut best, &mut plateau, &mut stop];
    // A rate so large that the training loss rises at some epoch.
    let history = Trainer::new()
        .epochs(20)
        .batch_size(30)
        .progress(Progress::Quiet)
        .fit_with_callbacks(
            &mut net,
            &train,
            Some(&valid),
            &mut Sgd::new(3.0),
            |_, _| {},
            list,
        )
        .unwrap();
    assert_eq!(history.epochs.len(), 5, "the closure stops after epoch 5");
    let best_epoch = best.saved_epoch.unwrap();
    let best_accuracy = history.epochs[best_epoch - 1].val_accuracy.unwrap();
    assert!(
        history
            .epochs
            .iter()
            .all(|e| e.val_accuracy.unwrap() <= best_accuracy)
    );
    let mut loaded = Plain::<f32>::zeroed();
    persist::load_bytes(&mut loaded, &best_path).unwrap();
    let accuracy = constnet::train::evaluate(&loaded, &valid, 100)
        .unwrap()
        .accuracy;
    assert_eq!(accuracy, Some(best_accuracy));
    // Each epoch that did not beat the best training loss halved the rate
    // of the next.
    let mut best_loss = f64::INFINITY;
    for pair in history.epochs.windows(2) {
        let improved = pair[0].train_loss < best_loss;
        best_loss = best_loss.min(pair[0].train_loss);
        let factor = if improved { 1.0 } else { 0.5 };
        assert_eq!(
            pair[1].learning_rate,
            pair[0].learning_rate * factor,
            "{pair:?}"
        );
    }
    // A watched metric that is not recorded is an error, not a silent no-op.
    let mut rmse = SaveBest::new(dir.join("never.cnet"), Monitor::ValRmse);
    let list: &mut [&mut dyn Callback<Plain>] = &mut [&mut rmse];
    let err = Trainer::new()
        .epochs(1)
        .progress(Progress::Quiet)
        .fit_with_callbacks(
            &mut net,
            &train,
            Some(&valid),
            &mut Sgd::new(0.1),
            |_, _| {},
            list,
        )
        .unwrap_err();
    assert!(matches!(err, TrainError::Callback { .. }), "{err}");
}

#[test]
fn a_regression_reports_mae_rmse_and_r2_instead_of_accuracy() {
    let xs: Vec<[f64; 3]> = common::inputs(200, 8);
    let ts: Vec<[f32; 1]> = xs
        .iter()
        .map(|x| [(0.8 * x[0] - 0.5 * x[1] + 0.3 * x[2]) as f32])
        .collect();
    let data = InMemory::new(xs.iter().map(|x| x.map(|v| v as f32)).collect(), ts).unwrap();
    let (train, valid) = data.split(0.25, 1);
    let mut net = Line::<f32>::seeded(2);
    let history = Trainer::new()
        .epochs(30)
        .batch_size(10)
        .progress(Progress::Quiet)
        .fit(&mut net, &train, Some(&valid), &mut Adam::new(0.02))
        .unwrap();
    let last = history.last().unwrap();
    assert_eq!(last.train_accuracy, None);
    assert_eq!(last.val_accuracy, None);
    let val = last.val_regression.unwrap();
    assert!(val.r2 > 0.95, "{val:?}");
    // The same numbers computed by hand.
    let (mut abs, mut sq, mut n) = (0.0, 0.0, 0.0);
    let mean = valid.targets().iter().map(|t| f64::from(t[0])).sum::<f64>() / valid.len() as f64;
    let mut total = 0.0;
    for (x, t) in valid.iter() {
        let d = f64::from(net.predict(x)[0] - t[0]);
        abs += d.abs();
        sq += d * d;
        total += (f64::from(t[0]) - mean).powi(2);
        n += 1.0;
    }
    let direct = regression_metrics(&net, &valid, 7).unwrap();
    assert!((direct.mae - abs / n).abs() < 1e-6, "{direct:?}");
    assert!((direct.rmse - (sq / n).sqrt()).abs() < 1e-6, "{direct:?}");
    assert!((direct.r2 - (1.0 - sq / total)).abs() < 1e-6, "{direct:?}");
    assert_eq!(direct, val, "evaluate and regression_metrics agree");
    assert!(history.to_csv().lines().nth(1).unwrap().contains(",,"));
}

#[test]
fn frozen_tensors_keep_their_bytes_and_state() {
    let data = two_class(64, 9);
    let mut net = Plain::<f32>::seeded(5);
    let before = net.params().to_vec();
    Trainer::new()
        .epochs(3)
        .batch_size(16)
        .freeze(&["affine1"])
        .progress(Progress::Quiet)
        .fit(&mut net, &data, None, &mut Adam::new(0.05))
        .unwrap();
    for t in Plain::<f32>::TENSORS {
        let same = bits(&net.params()[t.range()]) == bits(&before[t.range()]);
        assert_eq!(same, t.name.starts_with("affine1"), "{}", t.name);
    }
    let err = Trainer::new()
        .freeze(&["affine9"])
        .progress(Progress::Quiet)
        .fit(&mut net, &data, None, &mut Adam::new(0.05))
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot freeze: `affine9` names no parameter tensor"),
        "{err}"
    );
}
