//! The classic two-layer network on MNIST, as the from-scratch material
//! trains it: 784 → 50 sigmoid → 10 softmax, weights drawn from N(0, 0.01²),
//! plain SGD with learning rate 0.1, batch 100, 10,000 iterations.
//!
//! Run: `cargo run --release --example two_layer_net` (MNIST from
//! `MNIST_DIR` or `./data/mnist`, else the built-in synthetic digits).
//! Flags: `--iterations N`, `--smoke` (50 iterations on synthetic data).
//! Prints the loss every 1,000 iterations and the final train and test
//! accuracy (about 95% on MNIST).

use std::process::ExitCode;

use constnet::data::{Batches, Dataset, InMemory, Mnist, SyntheticDigits};
use constnet::network;
use constnet::optim::Sgd;
use constnet::train::{Stepper, evaluate};

network! {
    /// The two-layer network of the classic material.
    pub struct TwoLayerNet: [784] => affine(50) -> sigmoid -> affine(10) -> softmax, init = normal(0.01)
}

type Image = [f32; 784];

fn load(smoke: bool) -> (InMemory<Image, usize>, InMemory<Image, usize>) {
    if !smoke && let Some(dir) = Mnist::dir_from_env() {
        match Mnist::<Image>::load(&dir) {
            Ok(m) => return (m.train, m.test),
            Err(e) => eprintln!("could not load MNIST from {}: {e}", dir.display()),
        }
    }
    eprintln!("MNIST not found; using the built-in synthetic digits");
    let n = if smoke { 500 } else { 12_000 };
    (
        SyntheticDigits::new(n, 1).generate(),
        SyntheticDigits::new(n / 5, 2).generate(),
    )
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let smoke = args.iter().any(|a| a == "--smoke");
    let iterations = match args
        .iter()
        .position(|a| a == "--iterations")
        .map(|i| args.get(i + 1))
    {
        Some(Some(n)) => match n.parse() {
            Ok(n) => n,
            Err(_) => {
                eprintln!("error: --iterations needs a whole number, found `{n}`");
                return ExitCode::from(2);
            }
        },
        Some(None) => {
            eprintln!("error: --iterations needs a value");
            return ExitCode::from(2);
        }
        None if smoke => 50,
        None => 10_000,
    };
    let (train, test) = load(smoke);
    let mut net = TwoLayerNet::<f32>::seeded(0);
    println!("{}", net.summary());
    let mut stepper = Stepper::<TwoLayerNet>::new(0);
    let mut opt = Sgd::new(0.1);
    let batches = Batches::new(train.len(), 100, 0);
    let (mut xs, mut ts, mut order) = (Vec::new(), Vec::new(), Vec::new());
    let (mut done, mut epoch, mut last_loss) = (0usize, 0u64, f64::NAN);
    'train: loop {
        batches.epoch_into(epoch, &mut order);
        for chunk in order.chunks(100) {
            if done == iterations {
                break 'train;
            }
            train.gather_into(chunk, &mut xs, &mut ts);
            match stepper.step(&mut net, &xs, &ts, &mut opt) {
                Ok(stats) => last_loss = stats.loss,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            }
            done += 1;
            if done % 1000 == 0 {
                println!("iteration {done}: loss {last_loss:.4}");
            }
        }
        epoch += 1;
    }
    let (train_m, test_m) = match (evaluate(&net, &train, 500), evaluate(&net, &test, 500)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "after {done} iterations: loss {last_loss:.4}, train accuracy {:.2}%, test accuracy {:.2}%",
        100.0 * train_m.accuracy.unwrap_or_default(),
        100.0 * test_m.accuracy.unwrap_or_default()
    );
    if last_loss.is_finite() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
