//! Replays the fuzz corpus through the fuzz targets' own harness, so every
//! `cargo test` runs what the fuzzers found interesting, on stable Rust and
//! without libFuzzer: the seeds, the committed corpus (`fuzz/seeds/<target>/`)
//! and the regressions (`fuzz/regressions/<target>/`: hostile inputs, which
//! every loader must refuse).
//!
//! `CONSTNET_WRITE_SEEDS=1 cargo test -p constnet-runtime --test integration fuzz_`
//! rewrites the seed files in `fuzz/seeds/` from [`harness::seeds`].

#[path = "../../../fuzz/src/lib.rs"]
mod harness;

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

#[test]
fn fuzz_seeds_pass_the_harness() {
    let seeds = harness::seeds();
    for (target, name, data) in &seeds {
        let (_, run) = harness::TARGETS
            .iter()
            .find(|(t, _)| t == target)
            .expect("every seed belongs to a target");
        run(data);
        if std::env::var_os("CONSTNET_WRITE_SEEDS").is_some() {
            let dir = fuzz_dir().join("seeds").join(target);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(name), data).unwrap();
        }
    }
    for (target, _) in harness::TARGETS {
        assert!(
            seeds.iter().any(|(t, _, _)| *t == target),
            "no seed for {target}"
        );
    }
}

#[test]
fn fuzz_corpus_replays_through_the_harness() {
    let mut replayed = 0;
    for (target, run) in harness::TARGETS {
        for kind in ["seeds", "regressions"] {
            let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind).join(target)) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                let outcome = std::panic::catch_unwind(|| run(&data));
                assert!(outcome.is_ok(), "{target}: {} fails", path.display());
                replayed += 1;
            }
        }
    }
    assert!(replayed > 0, "no corpus under {}", fuzz_dir().display());
}

#[test]
fn fuzz_regressions_are_refused() {
    use constnet::data::{CsvReader, read_idx};
    use constnet::persist;
    use harness::Small;
    let mut refused = 0;
    for (target, _) in harness::TARGETS {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join("regressions").join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let ok = match target {
                "bytes" => persist::from_bytes(&mut Small::<f32>::zeroed(), &data).is_ok(),
                "safetensors" => {
                    persist::from_safetensors(&mut Small::<f32>::zeroed(), &data).is_ok()
                }
                "csv" => CsvReader::new().read_classes::<f32, 2>(&data[..]).is_ok(),
                _ => read_idx(&data[..]).is_ok(),
            };
            assert!(!ok, "{target}: {} loads", path.display());
            refused += 1;
        }
    }
    assert!(refused >= 6, "only {refused} regressions");
}
