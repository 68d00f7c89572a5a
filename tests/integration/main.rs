//! The facade's integration tests, one module per topic, linked into one
//! test binary: each `network!` they declare and the runtime are linked once
//! instead of once per file.
//!
//! `alloc` installs the binary's global allocator, which counts allocations
//! only on threads that opt in, so the other modules' tests run beside it.

mod alloc;
mod bit_exact;
mod common;
mod declarations;
mod distributed;
mod example_flags;
mod faults;
mod forward;
mod gates;
mod gradcheck;
mod int8;
mod mlperf;
mod mnist_training;
#[path = "../../embedded/src/nets.rs"]
#[expect(dead_code, reason = "the firmware's other demos")]
mod nets;
mod preprocess;
mod pytorch;
mod pytorch_modules;
mod shapes;
mod signatures;
mod state_dicts;
mod tflite_networks;
mod training;
mod training_runs;
