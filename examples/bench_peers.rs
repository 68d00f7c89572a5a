//! constnet's side of the peer comparison (`/work/shared/peers`): the same
//! four workloads, timing protocol, inputs and JSON-lines output as the
//! PyTorch, candle, dfdx and burn programs there, so one table can hold them
//! all; and two of MLPerf Tiny's reference networks, ResNet-8 and DS-CNN
//! (`examples/mlperf_tiny/models.rs`), timed the same way against PyTorch
//! (`scripts/bench_torch_mlperf.py`).
//!
//! ```text
//! cargo run --release --example bench_peers -- [cnn|mlp|resnet8|ds-cnn|mlperf|all] [--smoke]
//! ```
//!
//! - train (T1 CNN, T2 MLP, T3 ResNet-8, T4 DS-CNN): batch 100 (32 for the
//!   MLPerf networks), SGD lr 0.01, softmax cross-entropy, batch norm and
//!   dropout in training mode; warm-up ≥ 1 s and ≥ 5 steps, then
//!   `PEERS_REPEATS` repeats of whole steps for ≥ `PEERS_TRAIN_SECS` s each;
//!   samples/s = steps × batch / elapsed.
//! - latency (L1–L4, same networks): batch-1 `predict` (it includes the final
//!   softmax, which the peers leave out: 10 exps, negligible); warm-up 0.5 s,
//!   then `PEERS_REPEATS` repeats of ≥ `PEERS_LAT_SECS` s and ≥ 200 calls;
//!   per repeat the median call in µs.
//!
//! `all` is the four peer workloads and the two MLPerf networks; `mlperf` the
//! latter alone.
//!
//! Env: `PEERS_THREADS` (default 1) sets `Stepper::threads` and labels every
//! line; with more than one thread, batch-1 `predict` runs on a
//! `threads::team` of that size, which splits each large layer across it.
//! `PEERS_TRAIN_SECS` (3), `PEERS_LAT_SECS` (1), `PEERS_REPEATS` (3).
//! `--smoke` shrinks every duration to a handful of calls, for CI: it checks
//! that everything runs and prints, not how fast.
//! `scripts/bench_peers.sh` runs this interleaved with the peers.

use std::process::ExitCode;
use std::time::Instant;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser, ValueEnum};
use constnet::network;
use constnet::network::view;
use constnet::optim::Sgd;
use constnet::train::Stepper;

#[path = "../runtime/benches/common/mod.rs"]
mod common;
#[path = "mlperf_tiny/models.rs"]
mod models;

network! {
    struct SimpleConvNet: [1, 28, 28] =>
        conv(30, 5) -> relu -> pool(2) -> affine(100) -> relu -> affine(10) -> softmax
    struct Mlp: [784] => affine(100) -> relu -> affine(10) -> softmax
}

/// Time constnet on the peer comparison's workloads; prints JSON lines.
#[derive(Debug, Parser)]
#[command(name = "bench_peers")]
struct Cli {
    /// The workloads to time.
    #[arg(value_enum, default_value_t = Which::All)]
    which: Which,
    /// A handful of calls per measurement, for CI: checks that everything
    /// runs and prints, not how fast.
    #[arg(long)]
    smoke: bool,
}

/// What `bench_peers` times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    /// SimpleConvNet.
    Cnn,
    /// The 784-100-10 MLP.
    Mlp,
    /// MLPerf Tiny's ResNet-8.
    Resnet8,
    /// MLPerf Tiny's DS-CNN.
    DsCnn,
    /// ResNet-8 and DS-CNN.
    Mlperf,
    /// The four peer workloads and the two MLPerf networks.
    All,
}

/// The peer workloads' batch.
const BATCH: usize = 100;
/// The MLPerf networks' training batch, as the issue that added them asks.
const MLPERF_BATCH: usize = 32;

/// The protocol's knobs, and what every output line is labelled with.
struct Cfg {
    train_secs: f64,
    lat_secs: f64,
    repeats: usize,
    /// Warm-up of training: at least this long and this many steps.
    train_warmup: (f64, usize),
    lat_warmup: f64,
    /// Fewest timed calls per latency repeat.
    lat_min_calls: usize,
    threads_label: String,
    threads: usize,
    build: &'static str,
}

/// A non-negative number from the environment, `default` when unset.
fn env_f64(key: &str, default: f64) -> Result<f64, String> {
    match std::env::var(key) {
        Err(_) => Ok(default),
        Ok(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| *x >= 0.0 && x.is_finite())
            .ok_or_else(|| format!("{key}={s:?} is not a non-negative number")),
    }
}

impl Cfg {
    fn from_env(smoke: bool) -> Result<Self, String> {
        let threads_label = std::env::var("PEERS_THREADS").unwrap_or_else(|_| "1".into());
        let threads = threads_label
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("PEERS_THREADS={threads_label:?} is not a thread count"))?;
        // The peers label their builds the same way (bench_util.rs).
        let build = if cfg!(all(target_feature = "avx2", target_feature = "fma")) {
            "native(avx2+fma)"
        } else {
            "generic-x86_64"
        };
        let mut cfg = Cfg {
            train_secs: env_f64("PEERS_TRAIN_SECS", 3.0)?,
            lat_secs: env_f64("PEERS_LAT_SECS", 1.0)?,
            repeats: (env_f64("PEERS_REPEATS", 3.0)? as usize).max(1),
            train_warmup: (1.0, 5),
            lat_warmup: 0.5,
            lat_min_calls: 200,
            threads_label,
            threads,
            build,
        };
        if smoke {
            // Zero durations: each repeat still runs one step or `lat_min_calls` calls.
            cfg.train_secs = 0.0;
            cfg.lat_secs = 0.0;
            cfg.repeats = 1;
            cfg.train_warmup = (0.0, 1);
            cfg.lat_warmup = 0.0;
            cfg.lat_min_calls = 5;
        }
        Ok(cfg)
    }

    /// One JSON line in the peers' schema (`bench_util.rs`'s `emit`).
    fn emit(&self, workload: &str, metric: &str, vals: &[f64], extra: &str) {
        let mut sorted = vals.to_vec();
        sorted.sort_by(f64::total_cmp);
        let list: Vec<String> = vals.iter().map(|v| format!("{v:.3}")).collect();
        println!(
            "{{\"peer\": \"constnet\", \"version\": \"constnet {}\", \"threads\": \"{}\", \
             \"build\": \"{}\", \"workload\": \"{workload}\", \"metric\": \"{metric}\", \
             \"values\": [{}], \"min\": {:.3}, \"median\": {:.3}, \"max\": {:.3}{extra}}}",
            env!("CARGO_PKG_VERSION"),
            self.threads_label,
            self.build,
            list.join(", "),
            sorted[0],
            sorted[sorted.len() / 2],
            sorted[sorted.len() - 1],
        );
    }

    /// Times whole training steps; `step` returns the batch's mean loss.
    fn bench_train(
        &self,
        workload: &str,
        batch: usize,
        mut step: impl FnMut() -> f64,
    ) -> Result<(), String> {
        let first = step();
        let t0 = Instant::now();
        let mut n = 0;
        while n < self.train_warmup.1 || t0.elapsed().as_secs_f64() < self.train_warmup.0 {
            step();
            n += 1;
        }
        let mut reps = Vec::with_capacity(self.repeats);
        let mut last = first;
        for _ in 0..self.repeats {
            let mut steps = 0usize;
            let t0 = Instant::now();
            let elapsed = loop {
                last = step();
                steps += 1;
                let el = t0.elapsed().as_secs_f64();
                if el >= self.train_secs {
                    break el;
                }
            };
            reps.push((steps * batch) as f64 / elapsed);
        }
        // A diverged run would be timing garbage, so it fails rather than prints.
        if !(first.is_finite() && last.is_finite()) {
            return Err(format!("{workload}: loss went from {first} to {last}"));
        }
        self.emit(
            workload,
            "train_samples_per_s",
            &reps,
            &format!(", \"loss_first\": {first:.4}, \"loss_last\": {last:.4}"),
        );
        Ok(())
    }

    /// Times individual batch-1 forward calls.
    fn bench_latency(&self, workload: &str, mut fwd: impl FnMut()) {
        let t0 = Instant::now();
        while t0.elapsed().as_secs_f64() < self.lat_warmup {
            fwd();
        }
        let mut meds = Vec::with_capacity(self.repeats);
        let mut calls = Vec::with_capacity(self.repeats);
        for _ in 0..self.repeats {
            let mut ts: Vec<u64> = Vec::with_capacity(100_000);
            let start = Instant::now();
            while ts.len() < self.lat_min_calls || start.elapsed().as_secs_f64() < self.lat_secs {
                let a = Instant::now();
                fwd();
                ts.push(a.elapsed().as_nanos() as u64);
            }
            calls.push(ts.len().to_string());
            ts.sort_unstable();
            meds.push(ts[ts.len() / 2] as f64 / 1000.0);
        }
        self.emit(
            workload,
            "latency_us_b1",
            &meds,
            &format!(", \"calls\": [{}]", calls.join(", ")),
        );
    }
}

/// Times training steps on `net`, then batch-1 `predict` of the trained net.
fn run<N>(
    cfg: &Cfg,
    workload: &str,
    mut net: N,
    xs: &[N::Input],
    x1: &N::Input,
) -> Result<(), String>
where
    N: constnet::Trainable<Elem = f32> + Sync,
{
    let ts = common::labels(xs.len(), 2);
    let mut stepper = Stepper::<N>::new(0).threads(cfg.threads);
    let mut opt = Sgd::new(0.01);
    cfg.bench_train(workload, xs.len(), || {
        match stepper.step(&mut net, xs, &ts, &mut opt) {
            Ok(stats) => stats.loss,
            // Reported (as a non-finite loss) once timing ends, not mid-repeat.
            Err(_) => f64::NAN,
        }
    })?;
    let latency = || {
        cfg.bench_latency(workload, || {
            std::hint::black_box(net.predict(std::hint::black_box(x1)));
        })
    };
    match constnet::threads::team(cfg.threads).filter(|_| cfg.threads > 1) {
        Some(team) => team.install(latency),
        None => latency(),
    }
    Ok(())
}

/// Times every workload `which` includes.
fn bench_all(cfg: &Cfg, which: Which) -> Result<(), String> {
    let wants = |workload: Which| {
        which == Which::All
            || which == workload
            || (which == Which::Mlperf && matches!(workload, Which::Resnet8 | Which::DsCnn))
    };
    if wants(Which::Cnn) {
        let xs = common::data(BATCH * 28 * 28, 1);
        let x1 = common::data(28 * 28, 3);
        run(
            cfg,
            "cnn",
            SimpleConvNet::<f32>::seeded(0),
            view::images::<f32, 1, 28, 28>(&xs),
            &view::images::<f32, 1, 28, 28>(&x1)[0],
        )?;
    }
    if wants(Which::Mlp) {
        let xs = common::data(BATCH * 784, 1);
        let x1 = common::data(784, 3);
        run(
            cfg,
            "mlp",
            Mlp::<f32>::seeded(0),
            view::rows::<f32, 784>(&xs),
            view::vector::<f32, 784>(&x1),
        )?;
    }
    if wants(Which::Resnet8) {
        let xs = common::data(MLPERF_BATCH * 3 * 32 * 32, 1);
        let x1 = common::data(3 * 32 * 32, 3);
        run(
            cfg,
            "resnet8",
            models::ResNet8::<f32>::seeded(0),
            view::images::<f32, 3, 32, 32>(&xs),
            &view::images::<f32, 3, 32, 32>(&x1)[0],
        )?;
    }
    if wants(Which::DsCnn) {
        let xs = common::data(MLPERF_BATCH * 49 * 10, 1);
        let x1 = common::data(49 * 10, 3);
        run(
            cfg,
            "ds-cnn",
            models::DsCnn::<f32>::seeded(0),
            view::images::<f32, 1, 49, 10>(&xs),
            &view::images::<f32, 1, 49, 10>(&x1)[0],
        )?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let Cli { which, smoke } = Cli::parse();
    // The environment's knobs are checked as the flags are: a bad one is a
    // usage error (exit code 2) before any work.
    let cfg = Cfg::from_env(smoke)
        .unwrap_or_else(|e| Cli::command().error(ErrorKind::InvalidValue, e).exit());
    match bench_all(&cfg, which) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_peers: {e}");
            ExitCode::FAILURE
        }
    }
}
