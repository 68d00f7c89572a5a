//! The runtime's integration tests, linked into one test binary: MNIST
//! files from `MNIST_DIR`, and downloads from a local HTTP server (with the
//! `download` feature).

mod download;
mod mnist;
