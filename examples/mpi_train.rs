//! Trains SimpleConvNet data-parallel over the ranks of an MPI job, or runs
//! a hyperparameter search over them (docs/distributed.md).
//!
//! Run (needs `--features mpi` and a system MPI):
//! ```sh
//! cargo build --release --features mpi --example mpi_train
//! mpirun -np 2 target/release/examples/mpi_train --mpi --threads 1 --steps 300 --save w.cnet
//! target/release/examples/mpi_train --threads 2 --steps 300 --save alone.cnet   # same bytes
//! mpirun -np 2 target/release/examples/mpi_train --mpi --search 8
//! ```
//!
//! Every rank loads the same data (MNIST from `MNIST_DIR`, else synthetic
//! digits) and takes its shards of each batch; rank 0 prints progress,
//! writes the checkpoint and the weights. Without `--mpi` the program
//! trains alone, the reference a job's weights equal bit for bit when it
//! has as many threads as the job has ranks × threads.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use constnet::data::Dataset;
use constnet::optim::Adam;
use constnet::train::search::Search;
use constnet::train::{Collective, Every, Mpi, Progress, evaluate};
use constnet::{Network, network};

mod shared;

network! {
    /// The classic convolutional network: one convolution block, two affine layers.
    pub struct SimpleConvNet: [1, 28, 28] =>
        conv(30, 5) -> relu -> pool(2) -> affine(100) -> relu -> affine(10) -> softmax
    /// The search's small network.
    pub struct Mlp: [1, 28, 28] => flatten -> affine(32) -> relu -> affine(10) -> softmax
}

type Image = [[[f32; 28]; 28]; 1];

/// Data-parallel training and hyperparameter search over MPI.
#[derive(Debug, Parser)]
#[command(name = "mpi_train")]
struct Cli {
    #[command(flatten)]
    run: shared::RunArgs,
    /// Run as one rank of an MPI job (under `mpirun` or `srun`); without it,
    /// train alone.
    #[arg(long)]
    mpi: bool,
    /// Write a checkpoint to this file (rank 0), every `--every` steps.
    #[arg(long, value_parser = shared::output_file)]
    checkpoint: Option<PathBuf>,
    /// Steps between checkpoints.
    #[arg(long, default_value_t = 50, value_parser = shared::at_least_one::<usize>)]
    every: usize,
    /// Resume from `--checkpoint` when the file exists.
    #[arg(long, requires = "checkpoint")]
    resume: bool,
    /// Write the trained parameters (constnet's byte format) to this file
    /// (rank 0).
    #[arg(long, value_parser = shared::output_file)]
    save: Option<PathBuf>,
    /// Instead of training once, search the learning rate of a small MLP
    /// with this many trials, spread over the ranks.
    #[arg(long, value_parser = shared::at_least_one::<usize>)]
    search: Option<usize>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let group: Option<Arc<dyn Collective>> = if cli.mpi {
        match Mpi::init() {
            Ok(mpi) => Some(mpi),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    let result = match cli.search {
        Some(trials) => search(&cli, trials, group.as_deref()),
        None => train(&cli, group.clone()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let rank = group.as_ref().map_or(0, |g| g.rank());
            eprintln!("error (rank {rank}): {e}");
            ExitCode::FAILURE
        }
    }
}

fn train(cli: &Cli, group: Option<Arc<dyn Collective>>) -> Result<(), String> {
    let args = &cli.run;
    let (rank, ranks) = group.as_ref().map_or((0, 1), |g| (g.rank(), g.ranks()));
    let lead = rank == 0;
    let (train, test, source) =
        shared::digits::<Image>(args.smoke, if args.smoke { 500 } else { 12_000 });
    let mut net = SimpleConvNet::<f32>::seeded(args.seed);
    let mut trainer = args.trainer().progress(if args.smoke {
        Progress::Quiet
    } else {
        Progress::Lines
    });
    if let Some(g) = &group {
        trainer = trainer.across(g.clone());
    }
    if let Some(path) = &cli.checkpoint {
        trainer = trainer.checkpoint(path, Every::Steps(cli.every as u64));
        if cli.resume && path.exists() {
            trainer = trainer.resume(path);
        }
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    if lead {
        println!(
            "data: {source}, {} training images; {ranks} rank(s) x {threads} thread(s), batch {}",
            train.len(),
            args.batch
        );
    }
    let mut opt = args.optimizer(train.len());
    let start = Instant::now();
    let history = trainer
        .fit(&mut net, &train, Some(&test), &mut opt)
        .map_err(|e| e.to_string())?;
    let seconds = start.elapsed().as_secs_f64();
    if !lead {
        return Ok(());
    }
    let samples: f64 = history
        .epochs
        .iter()
        .map(|e| e.samples_per_second * e.seconds)
        .sum();
    // Each rank sends one record per thread (the gradient, the shards' loss
    // and outputs) and receives every other rank's.
    let record = (net.params().len() + 1 + args.batch.div_ceil(ranks * threads) * 10) * 4;
    println!(
        "{:.0} samples/s over {ranks} rank(s); the exchange moves {} bytes into each rank per step",
        samples / seconds,
        record * threads * (ranks - 1)
    );
    let acc = evaluate(&net, &test, 500)
        .map_err(|e| e.to_string())?
        .accuracy
        .unwrap_or(0.0);
    println!("test accuracy: {:.2}% ({source})", 100.0 * acc);
    if let Some(path) = &cli.save {
        constnet::persist::save_bytes(&net, path).map_err(|e| e.to_string())?;
        println!("parameters written to {}", path.display());
    }
    Ok(())
}

fn search(cli: &Cli, trials: usize, group: Option<&dyn Collective>) -> Result<(), String> {
    let args = &cli.run;
    let (train, test, _) = shared::digits::<Image>(args.smoke, 1_000);
    let (train, valid) = if args.smoke {
        (train, test)
    } else {
        train.split(0.2, 0)
    };
    let steps = args.steps.unwrap_or(if args.smoke { 20 } else { 300 });
    let search = Search::new(args.seed)
        .log_uniform("lr", 1e-4, 1e-1)
        .trials(trials)
        .threads(args.threads.unwrap_or(1));
    let objective = |trial: &constnet::train::search::Trial| {
        let mut net = Mlp::<f32>::seeded(trial.seed);
        let mut opt = Adam::new(trial.get("lr"));
        let trainer = constnet::train::Trainer::new()
            .steps(steps)
            .batch_size(args.batch)
            .seed(trial.seed)
            .threads(1)
            .progress(Progress::Quiet);
        let score = match trainer.fit(&mut net, &train, None, &mut opt) {
            Ok(_) => evaluate(&net, &valid, 500)
                .ok()
                .and_then(|m| m.accuracy)
                .unwrap_or(f64::NAN),
            Err(_) => f64::NAN,
        };
        (score, ())
    };
    let results = match group {
        Some(g) => search.run_across(g, objective),
        None => search.run(objective),
    };
    if group.is_none_or(|g| g.rank() == 0) {
        print!("{results}");
    }
    Ok(())
}
