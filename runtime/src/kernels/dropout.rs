//! Inverted dropout (Srivastava et al., 2014): while training, each unit is
//! kept with probability `1 - p` and scaled by `1 / (1 - p)`; at inference
//! dropout is the identity.
//!
//! Masks are not stored: unit `i` of sample `s` is kept when a hash of
//! `(seed, layer, s, i)` says so. Backward recomputes the same mask, a
//! sample's mask does not depend on how a batch is split across threads, and
//! a fixed seed gives a fixed mask (what gradient checks need).

use crate::Scalar;

/// SplitMix64's finalizer: a fast, well-mixed 64-bit hash.
#[inline(always)]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The mask factor of unit `i` of sample `sample`: `0` or `1 / (1 - p)`.
#[inline(always)]
pub fn factor<E: Scalar>(p: f64, seed: u64, layer: u32, sample: usize, i: usize) -> E {
    let key = mix(seed ^ mix(((layer as u64) << 40) ^ sample as u64)).wrapping_add(i as u64);
    let u = (mix(key) >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
    if u < p {
        E::ZERO
    } else {
        E::from_f64(1.0 / (1.0 - p))
    }
}

/// Training forward over a batch whose first sample has index `first_sample`.
///
/// # Shapes
/// - `x`, `y`: `[batch, N]`
pub fn forward_train<E: Scalar, const N: usize>(
    p: f64,
    seed: u64,
    layer: u32,
    first_sample: usize,
    x: &[[E; N]],
    y: &mut [[E; N]],
) {
    for (s, (x, y)) in x.iter().zip(y.iter_mut()).enumerate() {
        for (i, (yv, &xv)) in y.iter_mut().zip(x).enumerate() {
            *yv = xv * factor::<E>(p, seed, layer, first_sample + s, i);
        }
    }
}

/// Inference forward: a copy.
pub fn forward_eval<E: Scalar, const N: usize>(x: &[[E; N]], y: &mut [[E; N]]) {
    y.copy_from_slice(x);
}

/// Training backward with the same mask as [`forward_train`]. Overwrites `dx`.
pub fn backward<E: Scalar, const N: usize>(
    p: f64,
    seed: u64,
    layer: u32,
    first_sample: usize,
    dy: &[[E; N]],
    dx: &mut [[E; N]],
) {
    forward_train(p, seed, layer, first_sample, dy, dx);
}

/// Training backward in place: `dy = dy ⊙ mask`.
pub fn backward_in_place<E: Scalar, const N: usize>(
    p: f64,
    seed: u64,
    layer: u32,
    first_sample: usize,
    dy: &mut [[E; N]],
) {
    for (s, row) in dy.iter_mut().enumerate() {
        for (i, v) in row.iter_mut().enumerate() {
            *v *= factor::<E>(p, seed, layer, first_sample + s, i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_about_one_minus_p_and_scales() {
        let x = [[1.0f64; 1000]; 4];
        let mut y = [[0.0; 1000]; 4];
        forward_train(0.3, 7, 0, 0, &x, &mut y);
        let kept = y.iter().flatten().filter(|&&v| v != 0.0).count();
        assert!((2650..=2950).contains(&kept), "kept {kept} of 4000");
        assert!(
            y.iter()
                .flatten()
                .all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-12)
        );
    }

    #[test]
    fn masks_depend_on_sample_index_not_on_split() {
        let x = [[1.0f32; 16]; 4];
        let mut whole = [[0.0; 16]; 4];
        forward_train(0.5, 3, 1, 0, &x, &mut whole);
        let mut tail = [[0.0; 16]; 2];
        forward_train(0.5, 3, 1, 2, &x[2..], &mut tail);
        assert_eq!(&whole[2..], &tail[..]);
    }
}
