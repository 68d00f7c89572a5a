//! What every `book_NN_*` example shares: its two flags (parsed by `clap`,
//! as every example's are), where its figure goes, and the examples' shared
//! module. Included by each example with
//! `#[path = "book/mod.rs"]`; not an example itself (no `main.rs`).

use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{CommandFactory, FromArgMatches, Parser};

/// The examples' shared module: the book loads its digits (`digits`)
/// from there. It also holds the flags of a full training run, which the
/// book's short experiments do not take.
#[allow(dead_code, reason = "the book uses the data loader, not the run flags")]
#[path = "../shared/mod.rs"]
pub mod shared;

/// The flags every book example takes.
#[derive(Debug, Parser)]
pub struct Args {
    /// A few seconds of work on small or synthetic data, as CI runs it.
    #[arg(long)]
    pub smoke: bool,
    /// The directory the figure is written to.
    #[arg(long, default_value = "target/figures")]
    pub out: PathBuf,
}

impl Args {
    /// Parses the command line of example `name`, whose `--help` starts
    /// with `about`, and creates the output directory; exits with clap's
    /// message and exit code on `--help`, a bad flag, or an output
    /// directory it cannot create, before the example does any work.
    pub fn parse_for(name: &'static str, about: &'static str) -> Args {
        let mut command = Args::command().name(name).about(about);
        let matches = command.get_matches_mut();
        let args = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        if let Err(e) = std::fs::create_dir_all(&args.out) {
            let message = format!("cannot create `--out {}`: {e}", args.out.display());
            command.error(ErrorKind::ValueValidation, message).exit();
        }
        args
    }

    /// The path of figure `file` in the output directory.
    pub fn figure(&self, file: &str) -> PathBuf {
        self.out.join(file)
    }
}
