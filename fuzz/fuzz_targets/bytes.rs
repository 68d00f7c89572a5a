//! Fuzzes constnet's byte format: the loader and the const decoder; the checks are in the shared harness (`src/lib.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| constnet_fuzz::bytes(data));
