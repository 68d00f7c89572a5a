//! Compile-fail cases: the wording and the span of every `network!`
//! diagnostic, and the fallback stub that keeps one error from cascading.
//!
//! Regenerate snapshots with `TRYBUILD=overwrite cargo test --test ui` and
//! review the diff; never edit a `.stderr` by hand.

#[test]
fn ui() {
    // The macro's own errors, and type errors around the generated type,
    // all appear in `cargo check`, which trybuild runs for every case at
    // once when no case has to pass.
    trybuild::TestCases::new().compile_fail("tests/ui/**/*.rs");

    // `predict_in` and `train_step_fixed` check the caller's buffer sizes
    // with `const` assertions on their const parameters. Those are evaluated
    // after monomorphization, which `cargo check` never reaches. A `pass`
    // case makes trybuild run `cargo build` instead (one case at a time,
    // so these few live apart from the rest).
    let build = trybuild::TestCases::new();
    build.pass("tests/ui-build/exact-sizes-build.rs");
    // The macro's one warning (`ui/args/affine-scores-without-softmax.rs`)
    // is silenced by `loss = mse`: a `pass` case under `deny(deprecated)`,
    // here because a `pass` case in the suite above would make it build.
    build.pass("tests/ui-build/loss-mse-silences-the-note.rs");
    build.compile_fail("tests/ui-build/*-too-small.rs");
    build.compile_fail("tests/ui-build/static-other-architecture.rs");
    build.compile_fail("tests/ui-build/static-int8-other-architecture.rs");
}
