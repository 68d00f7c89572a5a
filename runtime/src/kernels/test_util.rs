//! Random inputs and tolerant comparison for kernel property tests.

use std::vec::Vec;

use crate::Scalar;

/// `n` values uniform in `[-1, 1)` from `seed` (a 64-bit LCG: tests need
/// reproducibility, not statistical quality).
pub(crate) fn random<E: Scalar>(n: usize, seed: u64) -> Vec<E> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            E::from_f64((s >> 11) as f64 / (1u64 << 52) as f64 - 1.0)
        })
        .collect()
}

/// Widens to `f64` for the reference.
pub(crate) fn wide<E: Scalar>(v: &[E]) -> Vec<f64> {
    v.iter().map(|x| x.to_f64()).collect()
}

/// Asserts `max |got - want| <= tol · max(1, max |want|)`: the normwise
/// relative error. Elementwise relative error is the wrong yardstick for
/// long `f32` reductions (a 1,728-term gradient sum rounds at ~2e-5 of its
/// own size), while any indexing mistake shows up at O(1) either way.
pub(crate) fn assert_close<E: Scalar>(got: &[E], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let scale = want.iter().fold(1.0f64, |m, w| m.max(w.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let err = (g.to_f64() - w).abs();
        assert!(
            err <= tol * scale,
            "{what}[{i}]: {} vs {w} (error {err:.2e}, scale {scale:.2})",
            g.to_f64()
        );
    }
}

/// The tolerance the issue sets: `1e-5` for `f32`, `1e-12` for `f64`.
pub(crate) fn tol<E: Scalar>() -> f64 {
    if E::BYTES == 4 { 1e-5 } else { 1e-12 }
}
