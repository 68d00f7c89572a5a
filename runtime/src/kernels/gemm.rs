//! Register-tiled matrix products, the engine of the affine and convolution
//! kernels. No packing, no allocation: our operands already have a layout
//! that one of two tile shapes reads contiguously.
//!
//! - [`dot`]: `C[i][j] = Σ_k A[i][k] · B[j][k]`, rows of both contiguous in
//!   `k` (affine forward: samples × weight rows). An `MR × NR` tile keeps
//!   `MR · NR` accumulators of `L` lanes; the lanes are summed at the end.
//! - [`outer`]: `C[i][j] (+)= Σ_k a(k, i) · B[k][j]`, rows of `B` contiguous in
//!   `j` (weight and input gradients). An `MR × NR` tile broadcasts `MR`
//!   scalars of `a` against `NR` contiguous values of `B` per `k`.
//!
//! Summation order depends only on the lane count `L` of [`dot`] (the
//! portable build uses `L = 1`, plain sequential sums, on every target), so
//! a desktop forced to the portable kernels matches a microcontroller.

use super::dispatch::MulAdd;
use super::tile::{self, unroll};
use crate::Scalar;

/// `C[i][j] = Σ_k A[i][k] B[j][k]` for `i < m`, `j < n`, passing each result
/// to `out(i, j, value)`.
///
/// `a` holds `m` rows of stride `lda`, `b` holds `n` rows of stride `ldb`;
/// only the first `k` elements of each row are read.
#[inline(always)]
#[expect(
    clippy::too_many_arguments,
    reason = "BLAS-style: the sizes, then each operand with its own stride, then the output"
)]
pub(crate) fn dot<M: MulAdd, E: Scalar>(
    m: usize,
    n: usize,
    k: usize,
    a: &[E],
    lda: usize,
    b: &[E],
    ldb: usize,
    out: &mut impl FnMut(usize, usize, E),
) {
    if M::WIDE {
        if E::BYTES == 4 {
            dot_lanes::<M, E, 8>(m, n, k, a, lda, b, ldb, out);
        } else {
            dot_lanes::<M, E, 4>(m, n, k, a, lda, b, ldb, out);
        }
    } else {
        dot_lanes::<M, E, 1>(m, n, k, a, lda, b, ldb, out);
    }
}

#[inline(always)]
#[expect(
    clippy::too_many_arguments,
    reason = "BLAS-style: the sizes, then each operand with its own stride, then the output"
)]
fn dot_lanes<M: MulAdd, E: Scalar, const L: usize>(
    m: usize,
    n: usize,
    k: usize,
    a: &[E],
    lda: usize,
    b: &[E],
    ldb: usize,
    out: &mut impl FnMut(usize, usize, E),
) {
    // A single sample (matrix-vector product) reads each weight row once:
    // use wide tiles over the weight rows instead.
    if m < 4 {
        for i in 0..m {
            let mut j = 0;
            while j + 8 <= n {
                dot_tile::<M, E, L, 1, 8>(i, j, k, a, lda, b, ldb, out);
                j += 8;
            }
            while j < n {
                dot_tile::<M, E, L, 1, 1>(i, j, k, a, lda, b, ldb, out);
                j += 1;
            }
        }
        return;
    }
    let mut j = 0;
    while j < n {
        let nr = (n - j).min(3);
        let mut i = 0;
        while i < m {
            // Leftover rows go in pairs where they can: a 1-row tile loads
            // as much as it computes.
            let mr = match m - i {
                r if r >= 4 => 4,
                r if r >= 2 => 2,
                _ => 1,
            };
            match (mr, nr) {
                (4, 3) => dot_tile::<M, E, L, 4, 3>(i, j, k, a, lda, b, ldb, out),
                (4, 2) => dot_tile::<M, E, L, 4, 2>(i, j, k, a, lda, b, ldb, out),
                (4, _) => dot_tile::<M, E, L, 4, 1>(i, j, k, a, lda, b, ldb, out),
                (2, 3) => dot_tile::<M, E, L, 2, 3>(i, j, k, a, lda, b, ldb, out),
                (2, 2) => dot_tile::<M, E, L, 2, 2>(i, j, k, a, lda, b, ldb, out),
                (2, _) => dot_tile::<M, E, L, 2, 1>(i, j, k, a, lda, b, ldb, out),
                (_, 3) => dot_tile::<M, E, L, 1, 3>(i, j, k, a, lda, b, ldb, out),
                (_, 2) => dot_tile::<M, E, L, 1, 2>(i, j, k, a, lda, b, ldb, out),
                _ => dot_tile::<M, E, L, 1, 1>(i, j, k, a, lda, b, ldb, out),
            }
            i += mr;
        }
        j += nr;
    }
}

/// One `MR × NR` tile of [`dot`] starting at row `i0` of `A`, row `j0` of `B`.
#[inline(always)]
#[expect(
    clippy::too_many_arguments,
    reason = "BLAS-style: the tile's origin, then each operand with its own stride, then the output"
)]
fn dot_tile<M: MulAdd, E: Scalar, const L: usize, const MR: usize, const NR: usize>(
    i0: usize,
    j0: usize,
    k: usize,
    a: &[E],
    lda: usize,
    b: &[E],
    ldb: usize,
    out: &mut impl FnMut(usize, usize, E),
) {
    let chunks = k / L;
    let body = chunks * L;
    let ar: [&[[E; L]]; MR] = core::array::from_fn(|r| {
        let row = &a[(i0 + r) * lda..][..k];
        &row.as_chunks::<L>().0[..chunks]
    });
    let br: [&[[E; L]]; NR] = core::array::from_fn(|c| {
        let row = &b[(j0 + c) * ldb..][..k];
        &row.as_chunks::<L>().0[..chunks]
    });
    let mut acc = [[[E::ZERO; L]; NR]; MR];
    debug_assert!(ar.iter().chain(&br).all(|s| s.len() == chunks));
    // NOTE: indexing here costs 1.75× in the run-time-dispatched build:
    // the panic path of its bounds check keeps the accumulators in memory
    // (stored every iteration), and a non-panicking `get` branch is worse.
    for q in 0..chunks {
        unroll!(r < MR => {
            // SAFETY: every row slice was cut to exactly `chunks` chunks
            // above (`[..chunks]`, which would have panicked otherwise), and
            // `q < chunks`.
            #[expect(unsafe_code, reason = "the bounds check costs 1.75× here (see NOTE)")]
            let av = unsafe { ar[r].get_unchecked(q) };
            unroll!(c < NR => {
                // SAFETY: as for `av`.
                #[expect(unsafe_code, reason = "as for `av`")]
                let bv = unsafe { br[c].get_unchecked(q) };
                tile::fma::<M, E, L>(&mut acc[r][c], av, bv);
            });
        });
    }
    for r in 0..MR {
        let arow = &a[(i0 + r) * lda..][..k];
        for c in 0..NR {
            let brow = &b[(j0 + c) * ldb..][..k];
            // Sum a copy: borrowing into `acc` would keep LLVM from holding
            // the accumulators in registers during the loop above.
            let lanes: [E; L] = acc[r][c];
            let s0 = lanes[0];
            let mut s = lanes.into_iter().skip(1).fold(s0, |s, lane| s + lane);
            for q in body..k {
                s = M::madd(arow[q], brow[q], s);
            }
            out(i0 + r, j0 + c, s);
        }
    }
}

/// Strides of the scalar operand of [`outer`]: `a(k, i) = a[k * k_stride + i * i_stride]`.
#[derive(Clone, Copy)]
pub(crate) struct Strides {
    pub(crate) k: usize,
    pub(crate) i: usize,
}

/// `C[i][j] = Σ_k a(k, i) · B[k][j]` (or `+=` when `accumulate`), for
/// `i < m`, `j < n`; `C` has row stride `ldc`, `B` row stride `ldb`.
#[inline(always)]
#[expect(
    clippy::too_many_arguments,
    reason = "BLAS-style: the sizes, then each operand with its own stride, then the output"
)]
pub(crate) fn outer<M: MulAdd, E: Scalar>(
    m: usize,
    n: usize,
    k: usize,
    a: &[E],
    sa: Strides,
    b: &[E],
    ldb: usize,
    c: &mut [E],
    ldc: usize,
    accumulate: bool,
) {
    if E::BYTES == 4 {
        outer_cols::<M, E, 16>(m, n, k, a, sa, b, ldb, c, ldc, accumulate);
    } else {
        outer_cols::<M, E, 8>(m, n, k, a, sa, b, ldb, c, ldc, accumulate);
    }
}

#[inline(always)]
#[expect(
    clippy::too_many_arguments,
    reason = "BLAS-style: the sizes, then each operand with its own stride, then the output"
)]
fn outer_cols<M: MulAdd, E: Scalar, const NR: usize>(
    m: usize,
    n: usize,
    k: usize,
    a: &[E],
    sa: Strides,
    b: &[E],
    ldb: usize,
    c: &mut [E],
    ldc: usize,
    accumulate: bool,
) {
    let mut j = 0;
    while j + NR <= n {
        let mut i = 0;
        while i + 6 <= m {
            outer_tile::<M, E, 6, NR>(i, j, k, a, sa, b, ldb, c, ldc, accumulate);
            i += 6;
        }
        // Leftover rows in blocks of 4 and 2: a 1-row tile loads as much as
        // it computes.
        if i + 4 <= m {
            outer_tile::<M, E, 4, NR>(i, j, k, a, sa, b, ldb, c, ldc, accumulate);
            i += 4;
        }
        if i + 2 <= m {
            outer_tile::<M, E, 2, NR>(i, j, k, a, sa, b, ldb, c, ldc, accumulate);
            i += 2;
        }
        while i < m {
            outer_tile::<M, E, 1, NR>(i, j, k, a, sa, b, ldb, c, ldc, accumulate);
            i += 1;
        }
        j += NR;
    }
    while j < n {
        for i in 0..m {
            outer_tile::<M, E, 1, 1>(i, j, k, a, sa, b, ldb, c, ldc, accumulate);
        }
        j += 1;
    }
}

#[inline(always)]
#[expect(
    clippy::too_many_arguments,
    reason = "BLAS-style: the tile's origin, then each operand with its own stride, then the output"
)]
fn outer_tile<M: MulAdd, E: Scalar, const MR: usize, const NR: usize>(
    i0: usize,
    j0: usize,
    k: usize,
    a: &[E],
    sa: Strides,
    b: &[E],
    ldb: usize,
    c: &mut [E],
    ldc: usize,
    accumulate: bool,
) {
    let mut acc = [[E::ZERO; NR]; MR];
    if accumulate {
        unroll!(r < MR => acc[r].copy_from_slice(&c[(i0 + r) * ldc + j0..][..NR]));
    }
    for q in 0..k {
        let Some(bk) = b[q * ldb + j0..].first_chunk::<NR>() else {
            unreachable!("gemm: row {q} of B ends before column {}", j0 + NR);
        };
        let base = q * sa.k + i0 * sa.i;
        unroll!(r < MR => tile::axpy::<M, E, NR>(&mut acc[r], a[base + r * sa.i], bk));
    }
    unroll!(r < MR => c[(i0 + r) * ldc + j0..][..NR].copy_from_slice(&acc[r]));
}

#[cfg(test)]
mod tests {
    use super::super::dispatch::Unfused;
    use super::*;

    fn naive_dot(m: usize, n: usize, k: usize, a: &[f64], b: &[f64]) -> std::vec::Vec<f64> {
        let mut c = std::vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|q| a[i * k + q] * b[j * k + q]).sum();
            }
        }
        c
    }

    fn data(len: usize, seed: u64) -> std::vec::Vec<f64> {
        let mut s = seed;
        (0..len)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5
            })
            .collect()
    }

    #[test]
    fn dot_matches_naive_for_ragged_sizes() {
        for (m, n, k) in [
            (1, 1, 1),
            (1, 10, 13),
            (5, 7, 9),
            (9, 4, 33),
            (4, 3, 8),
            (3, 9, 17),
        ] {
            let (a, b) = (data(m * k, 1), data(n * k, 2));
            let mut c = std::vec![f64::NAN; m * n];
            dot::<Unfused, f64>(m, n, k, &a, k, &b, k, &mut |i, j, v| c[i * n + j] = v);
            for (x, y) in c.iter().zip(naive_dot(m, n, k, &a, &b)) {
                assert!((x - y).abs() < 1e-12, "{m}x{n}x{k}: {x} vs {y}");
            }
        }
    }

    #[test]
    fn outer_matches_naive_and_accumulates() {
        for (m, n, k) in [(1, 1, 1), (7, 17, 5), (6, 16, 3), (13, 40, 9), (2, 3, 4)] {
            let (a, b) = (data(k * m, 3), data(k * n, 4));
            let mut c = std::vec![1.0; m * n];
            outer::<Unfused, f64>(m, n, k, &a, Strides { k: m, i: 1 }, &b, n, &mut c, n, true);
            for i in 0..m {
                for j in 0..n {
                    let want = 1.0 + (0..k).map(|q| a[q * m + i] * b[q * n + j]).sum::<f64>();
                    assert!(
                        (c[i * n + j] - want).abs() < 1e-12,
                        "{m}x{n}x{k} at {i},{j}"
                    );
                }
            }
        }
    }
}
