//! The runtime's integration tests, linked into one test binary: MNIST
//! files from `MNIST_DIR`, downloads from a local HTTP server (with the
//! `download` feature), and the fuzz corpus replayed through the fuzz
//! targets' harness.

mod download;
mod fuzz_corpus;
mod mnist;
