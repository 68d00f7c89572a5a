//! The peers' deterministic inputs (`/work/shared/peers/common/bench_util.rs`),
//! shared by `benches/network.rs` and `examples/bench_peers.rs` so both see
//! exactly the data and labels the Rust peers (candle, dfdx, burn) train on;
//! PyTorch draws its own `torch.randn` batch of the same shapes. The inputs'
//! sign pattern decides ReLU's sparsity, and so the work some kernels skip.
//!
//! Not a bench target itself: cargo only discovers `benches/*.rs` and
//! `benches/*/main.rs`.

// Each includer uses only some of these.
#![allow(dead_code, reason = "included by several targets, each using a part")]

/// Multiplier and increment of the peers' 64-bit LCG (Knuth's MMIX constants).
const MUL: u64 = 6_364_136_223_846_793_005;
const INC: u64 = 1_442_695_040_888_963_407;

/// `n` values uniform in `[-1, 1)`, identical to the peers' `data(n, seed)`.
pub fn data(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed ^ 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(MUL).wrapping_add(INC);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// `n` class labels in `0..10`, identical to the peers' `labels(n, seed)`.
pub fn labels(n: usize, seed: u64) -> Vec<usize> {
    let mut s = seed.wrapping_mul(MUL).wrapping_add(INC);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(MUL).wrapping_add(INC);
            ((s >> 33) % 10) as usize
        })
        .collect()
}
