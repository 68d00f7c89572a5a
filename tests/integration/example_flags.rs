//! The examples' shared flags: every value is checked while clap parses the
//! command line, so a bad one is a usage error (clap's exit code 2) before
//! any data loads. The examples are binaries that `cargo test` builds but
//! does not test; their flag types are tested here, through the same files.

use clap::error::ErrorKind;
use clap::{Args, Parser};

#[allow(
    dead_code,
    reason = "the tests parse the book's flags; the figure helpers are the examples'"
)]
#[path = "../../examples/book/mod.rs"]
mod book;

use book::shared;

/// A command made of the shared training-run flags, as `mnist_cnn` and
/// `transfer` flatten them into theirs.
#[derive(Debug, Parser)]
struct Run {
    #[command(flatten)]
    run: shared::RunArgs,
}

fn run_flags(flags: &[&str]) -> Result<shared::RunArgs, clap::Error> {
    let argv = std::iter::once("example").chain(flags.iter().copied());
    Run::try_parse_from(argv).map(|r| r.run)
}

/// Asserts that `flags` is a usage error whose message contains `says`.
fn assert_usage_error(flags: &[&str], says: &str) {
    let err = run_flags(flags).expect_err("a usage error");
    assert_eq!(err.exit_code(), 2, "{flags:?}: {err}");
    let message = err.to_string();
    assert!(message.contains(says), "{flags:?}: {message}");
}

#[test]
fn run_flags_take_their_defaults() {
    let args = run_flags(&[]).unwrap();
    assert_eq!((args.epochs, args.batch, args.seed), (8, 100, 1));
    assert_eq!((args.steps, args.threads, args.lr), (None, None, None));
    assert_eq!(args.optimizer.lr(), 0.002);
    assert!(!args.smoke);
    let args = run_flags(&["--threads", "2", "--epochs", "1", "--lr", "0.01"]).unwrap();
    assert_eq!(
        (args.threads, args.epochs, args.lr),
        (Some(2), 1, Some(0.01))
    );
}

#[test]
fn zero_counts_are_usage_errors() {
    for flag in ["--threads", "--epochs", "--batch", "--steps"] {
        assert_usage_error(&[flag, "0"], "must be at least 1");
        assert_usage_error(&[flag, "two"], "expected a whole number, at least 1");
    }
    let err = run_flags(&["--threads", "0"]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ValueValidation);
    assert!(
        err.to_string()
            .contains("invalid value '0' for '--threads <THREADS>': must be at least 1"),
        "{err}"
    );
}

#[test]
fn unknown_optimizers_and_bad_rates_are_usage_errors() {
    assert_usage_error(&["--optimizer", "adan"], "unknown variant `adan`");
    assert_usage_error(&["--optimizer", "adam:lr=-1"], "must be a positive number");
    assert_usage_error(&["--lr", "0"], "must be a positive number");
    assert_usage_error(&["--lr", "fast"], "expected a number");
    assert_usage_error(&["--schedule", "linear"], "unknown variant `linear`");
    assert_usage_error(&["--epoch", "3"], "unexpected argument '--epoch'");
}

#[test]
fn output_files_need_an_existing_directory() {
    let missing = std::env::temp_dir()
        .join("constnet-no-such-dir")
        .join("net.cnet");
    let err = shared::output_file(missing.to_str().unwrap()).unwrap_err();
    assert!(err.contains("does not exist"), "{err}");
    assert!(shared::output_file("net.cnet").is_ok());
    let dir = std::env::temp_dir();
    assert!(shared::output_file(dir.to_str().unwrap()).is_err());
}

#[test]
fn book_flags_are_checked_by_clap() {
    let args = book::Args::try_parse_from(["book", "--smoke", "--out", "figures"]).unwrap();
    assert!(args.smoke);
    assert_eq!(args.figure("a.png"), std::path::Path::new("figures/a.png"));
    let err = book::Args::try_parse_from(["book", "--smoek"]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    // The shared flags also mount into a command of an example's own.
    let cmd = shared::RunArgs::augment_args(clap::Command::new("example"));
    assert!(cmd.get_arguments().any(|a| a.get_id() == "threads"));
}
