//! What every `book_NN_*` example shares: its two flags and where its
//! figure goes. Included by each example with `#[path = "book/mod.rs"]`;
//! not an example itself (no `main.rs`).

// Each example compiles this module as its own, and not every example
// loads MNIST, so an unused item here is expected in some of them.
#![allow(dead_code, reason = "shared by examples that each use a part")]

use std::path::PathBuf;
use std::process::ExitCode;

use constnet::Tensor;
use constnet::data::{InMemory, Mnist, SyntheticDigits};

/// The flags every book example takes.
pub struct Args {
    /// A few seconds of work on small or synthetic data, as CI runs it.
    pub smoke: bool,
    /// The directory figures are written to.
    pub out: PathBuf,
}

impl Args {
    /// Parses `--smoke` and `--out DIR` (default `target/figures`); any
    /// other flag, or `--help`, prints the usage built from `name` and
    /// `about` and exits.
    pub fn parse(name: &str, about: &str) -> Result<Args, ExitCode> {
        let usage = format!(
            "{name}: {about}\n\nUSAGE: cargo run --release --example {name} -- [--smoke] [--out DIR]\n\n\
             FLAGS:\n  --smoke    a few seconds on small data, as CI runs it\n  \
             --out DIR  where the figure goes (default target/figures)\n  --help     this text"
        );
        let mut args = Args {
            smoke: false,
            out: PathBuf::from("target/figures"),
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            match flag.as_str() {
                "--smoke" => args.smoke = true,
                "--out" => match it.next() {
                    Some(dir) => args.out = dir.into(),
                    None => return Err(fail("--out needs a directory")),
                },
                "--help" | "-h" => {
                    println!("{usage}");
                    return Err(ExitCode::SUCCESS);
                }
                other => return Err(fail(&format!("unknown flag `{other}`; see --help"))),
            }
        }
        Ok(args)
    }

    /// The path of figure `file` in the output directory.
    pub fn figure(&self, file: &str) -> PathBuf {
        self.out.join(file)
    }
}

/// Prints `message` as an error and gives the usage-error exit code.
pub fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// MNIST's training and test sets from `MNIST_DIR` (or `./data/mnist`),
/// else `fallback` synthetic training digits and a fifth as many test ones,
/// with a notice; smoke runs always use the synthetic set. The third value
/// names the data for the printout.
pub fn mnist<X: Tensor>(
    smoke: bool,
    fallback: usize,
) -> (InMemory<X, usize>, InMemory<X, usize>, &'static str) {
    if !smoke && let Some(dir) = Mnist::dir_from_env() {
        match Mnist::<X>::load(&dir) {
            Ok(m) => return (m.train, m.test, "MNIST"),
            Err(e) => eprintln!("could not load MNIST from {}: {e}", dir.display()),
        }
    }
    if !smoke {
        eprintln!("MNIST not found (set MNIST_DIR); using the built-in synthetic digits");
    }
    (
        SyntheticDigits::new(fallback, 1).generate(),
        SyntheticDigits::new(fallback.div_ceil(5), 2).generate(),
        "synthetic digits",
    )
}
