//! Transforms of inputs and targets: standardization, min-max scaling,
//! one-hot encoding, and random shifts of images for augmentation.
//!
//! Scalers are fitted on one set (the training set) and applied to others,
//! so no statistic leaks from validation or test data. Everything works in
//! place on slices of inputs, so a trainer can also apply it to a gathered
//! batch buffer.

use std::prelude::rust_2024::*;
use std::vec;

use rand::{Rng, RngExt};

use super::dataset::InMemory;
use super::error::DataError;
use crate::{Scalar, Tensor};

/// Standardization `x' = (x - mean) / std`, with one statistic per feature
/// or one for all features.
///
/// A standard deviation of zero (a constant feature) is treated as 1, so the
/// feature becomes 0 instead of NaN.
///
/// # Examples
/// ```
/// use constnet::data::Standardize;
/// let mut rows = [[1.0f32, 10.0], [3.0, 30.0]];
/// let scaler = Standardize::fit_per_feature(&rows);
/// scaler.apply_all(&mut rows);
/// assert_eq!(rows, [[-1.0, -1.0], [1.0, 1.0]]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Standardize {
    mean: Vec<f64>,
    std: Vec<f64>,
}

impl Standardize {
    /// One mean and standard deviation for every element.
    pub fn global(mean: f64, std: f64) -> Self {
        Self {
            mean: vec![mean],
            std: vec![nonzero(std)],
        }
    }

    /// Fits one mean and population standard deviation over all elements of `inputs`.
    ///
    /// Gives mean 0 and std 1 for an empty slice.
    pub fn fit_global<X: Tensor>(inputs: &[X]) -> Self {
        let (mean, std) = moments(X::batch_flat(inputs).iter().map(|v| v.to_f64()));
        Self::global(mean, std)
    }

    /// Fits a mean and population standard deviation for each element
    /// position (each feature) of `inputs`.
    pub fn fit_per_feature<X: Tensor>(inputs: &[X]) -> Self {
        let (mean, std) = (0..X::LEN)
            .map(|k| moments(inputs.iter().map(|x| x.as_flat()[k].to_f64())))
            .map(|(m, s)| (m, nonzero(s)))
            .unzip();
        Self { mean, std }
    }

    /// The means: one, or one per feature.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The standard deviations (zeros replaced by 1): one, or one per feature.
    pub fn std(&self) -> &[f64] {
        &self.std
    }

    /// Standardizes one input in place.
    ///
    /// # Panics
    /// If the scaler was fitted per feature on inputs of another length.
    pub fn apply<X: Tensor>(&self, x: &mut X) {
        let per_feature = self.mean.len() > 1;
        assert!(
            !per_feature || self.mean.len() == X::LEN,
            "scaler fitted on {} features applied to {}",
            self.mean.len(),
            X::LEN
        );
        for (k, v) in x.as_flat_mut().iter_mut().enumerate() {
            let k = if per_feature { k } else { 0 };
            *v = X::Elem::from_f64((v.to_f64() - self.mean[k]) / self.std[k]);
        }
    }

    /// Standardizes every input in place.
    ///
    /// # Panics
    /// As [`apply`](Self::apply).
    pub fn apply_all<X: Tensor>(&self, inputs: &mut [X]) {
        inputs.iter_mut().for_each(|x| self.apply(x));
    }
}

/// Min-max scaling per feature to `[0, 1]`: `x' = (x - min) / (max - min)`.
///
/// A constant feature maps to 0. Values outside the fitted range (in test
/// data) map outside `[0, 1]`; they are not clamped.
#[derive(Debug, Clone, PartialEq)]
pub struct MinMax {
    min: Vec<f64>,
    range: Vec<f64>,
}

impl MinMax {
    /// Fits the minimum and maximum of each feature of `inputs`.
    pub fn fit<X: Tensor>(inputs: &[X]) -> Self {
        let (min, range) = (0..X::LEN)
            .map(|k| {
                let values = inputs.iter().map(|x| x.as_flat()[k].to_f64());
                let lo = values.clone().fold(f64::INFINITY, f64::min);
                let hi = values.fold(f64::NEG_INFINITY, f64::max);
                if lo.is_finite() && hi.is_finite() {
                    (lo, nonzero(hi - lo))
                } else {
                    (0.0, 1.0)
                }
            })
            .unzip();
        Self { min, range }
    }

    /// The fitted minimum of each feature.
    pub fn min(&self) -> &[f64] {
        &self.min
    }

    /// Scales one input in place.
    ///
    /// # Panics
    /// If the scaler was fitted on inputs of another length.
    pub fn apply<X: Tensor>(&self, x: &mut X) {
        assert_eq!(
            self.min.len(),
            X::LEN,
            "scaler fitted on another input length"
        );
        for ((v, &lo), &r) in x.as_flat_mut().iter_mut().zip(&self.min).zip(&self.range) {
            *v = X::Elem::from_f64((v.to_f64() - lo) / r);
        }
    }

    /// Scales every input in place.
    ///
    /// # Panics
    /// As [`apply`](Self::apply).
    pub fn apply_all<X: Tensor>(&self, inputs: &mut [X]) {
        inputs.iter_mut().for_each(|x| self.apply(x));
    }
}

/// Mean and population standard deviation, in two passes for accuracy.
fn moments(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let (n, sum) = values
        .clone()
        .fold((0usize, 0.0), |(n, s), v| (n + 1, s + v));
    if n == 0 {
        return (0.0, 1.0);
    }
    let mean = sum / n as f64;
    let var = values.map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
    (mean, var.sqrt())
}

fn nonzero(scale: f64) -> f64 {
    if scale == 0.0 || !scale.is_finite() {
        1.0
    } else {
        scale
    }
}

/// The one-hot vector of `label`: 1 at `label`, 0 elsewhere.
///
/// # Panics
/// If `label >= N`; [`one_hot_targets`] checks instead.
///
/// # Examples
/// ```
/// use constnet::data::one_hot;
/// assert_eq!(one_hot::<f32, 4>(2), [0.0, 0.0, 1.0, 0.0]);
/// ```
pub fn one_hot<E: Scalar, const N: usize>(label: usize) -> [E; N] {
    assert!(label < N, "label {label} out of range for {N} classes");
    core::array::from_fn(|k| if k == label { E::ONE } else { E::ZERO })
}

/// Replaces class labels by one-hot vectors.
///
/// # Errors
/// [`DataError::LabelOutOfRange`] for the first label `>= N`.
pub fn one_hot_targets<X, E: Scalar, const N: usize>(
    data: InMemory<X, usize>,
) -> Result<InMemory<X, [E; N]>, DataError> {
    data.check_labels(N)?;
    Ok(data.map_targets(one_hot))
}

/// Shifts an image by `dy` rows and `dx` columns, filling with zeros.
///
/// The last two axes of `X` are height and width; every channel moves alike.
/// A positive `dy` moves the content down, a positive `dx` to the right.
///
/// The rank of `X` must be at least 2: a flat input fails to build.
pub fn shift<X: Tensor>(image: &mut X, dy: isize, dx: isize) {
    const {
        assert!(
            X::SHAPE.len() >= 2,
            "shift needs an input of rank 2 or 3 ([h, w] or [c, h, w])"
        )
    };
    let rank = X::SHAPE.len();
    let (h, w) = (X::SHAPE[rank - 2], X::SHAPE[rank - 1]);
    if h == 0 || w == 0 {
        return;
    }
    for plane in image.as_flat_mut().chunks_exact_mut(h * w) {
        shift_plane(plane, h, w, dy, dx);
    }
}

/// Shifts one `h × w` plane in place, zero fill.
fn shift_plane<E: Scalar>(plane: &mut [E], h: usize, w: usize, dy: isize, dx: isize) {
    let (ady, adx) = (dy.unsigned_abs(), dx.unsigned_abs());
    if ady >= h || adx >= w {
        plane.fill(E::ZERO);
        return;
    }
    for i in 0..h {
        // Moving down, walk rows bottom-up so each source row is read before
        // it is overwritten.
        let y = if dy > 0 { h - 1 - i } else { i };
        let src_y = y as isize - dy;
        let dst = y * w;
        if src_y < 0 || src_y >= h as isize {
            plane[dst..dst + w].fill(E::ZERO);
            continue;
        }
        let src = src_y as usize * w;
        if dx >= 0 {
            plane.copy_within(src..src + w - adx, dst + adx);
            plane[dst..dst + adx].fill(E::ZERO);
        } else {
            plane.copy_within(src + adx..src + w, dst);
            plane[dst + w - adx..dst + w].fill(E::ZERO);
        }
    }
}

/// Shifts an image by a random offset in `-max..=max` along each of height
/// and width (see [`shift`]); the usual MNIST augmentation uses `max = 2`.
pub fn random_shift<X: Tensor, R: Rng + ?Sized>(image: &mut X, max: usize, rng: &mut R) {
    let max = i32::try_from(max).unwrap_or(i32::MAX);
    let dy = rng.random_range(-max..=max) as isize;
    let dx = rng.random_range(-max..=max) as isize;
    shift(image, dy, dx);
}

/// Applies [`random_shift`] to every image of a batch, each with its own offset.
///
/// # Examples
/// ```
/// use constnet::data::random_shift_batch;
/// use rand::{SeedableRng, rngs::StdRng};
/// let mut batch = vec![[[[1.0f32; 28]; 28]; 1]; 4];
/// random_shift_batch(&mut batch, 2, &mut StdRng::seed_from_u64(0));
/// assert!(batch.iter().all(|img| img[0][14][14] == 1.0));
/// ```
pub fn random_shift_batch<X: Tensor, R: Rng + ?Sized>(batch: &mut [X], max: usize, rng: &mut R) {
    for image in batch {
        random_shift(image, max, rng);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use std::vec;

    fn ramp() -> [[[f32; 4]; 3]; 2] {
        let mut img = <[[[f32; 4]; 3]; 2]>::zeroed();
        for (i, v) in img.as_flat_mut().iter_mut().enumerate() {
            *v = i as f32 + 1.0;
        }
        img
    }

    /// The naive definition: out[c][y][x] = in[c][y - dy][x - dx] or 0.
    fn shifted_naive(img: &[[[f32; 4]; 3]; 2], dy: isize, dx: isize) -> [[[f32; 4]; 3]; 2] {
        let mut out = <[[[f32; 4]; 3]; 2]>::zeroed();
        for c in 0..2 {
            for y in 0..3isize {
                for x in 0..4isize {
                    let (sy, sx) = (y - dy, x - dx);
                    if (0..3).contains(&sy) && (0..4).contains(&sx) {
                        out[c][y as usize][x as usize] = img[c][sy as usize][sx as usize];
                    }
                }
            }
        }
        out
    }

    #[test]
    fn shift_matches_naive_definition() {
        for dy in -4..=4 {
            for dx in -5..=5 {
                let mut img = ramp();
                shift(&mut img, dy, dx);
                assert_eq!(img, shifted_naive(&ramp(), dy, dx), "dy {dy} dx {dx}");
            }
        }
    }

    #[test]
    fn random_shift_stays_within_max_and_is_seeded() {
        let mut seen = std::collections::BTreeSet::new();
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..200 {
            let mut img = [[0.0f32; 9]; 9];
            img[4][4] = 1.0;
            random_shift(&mut img, 2, &mut rng);
            let at = img.as_flat().iter().position(|&v| v == 1.0).unwrap();
            let (y, x) = (at / 9, at % 9);
            assert!((2..=6).contains(&y) && (2..=6).contains(&x));
            seen.insert((y, x));
        }
        assert_eq!(seen.len(), 25);
        let mut a = vec![ramp(); 3];
        let mut b = a.clone();
        random_shift_batch(&mut a, 1, &mut StdRng::seed_from_u64(3));
        random_shift_batch(&mut b, 1, &mut StdRng::seed_from_u64(3));
        assert_eq!(a, b);
    }

    #[test]
    fn standardize_fits_on_one_set_and_applies_to_another() {
        let train = [[0.0f64, 5.0], [2.0, 5.0], [4.0, 5.0]];
        let s = Standardize::fit_per_feature(&train);
        assert_eq!(s.mean(), [2.0, 5.0]);
        assert_eq!(s.std()[1], 1.0, "constant feature keeps scale 1");
        let mut test = [[2.0 + s.std()[0], 6.0]];
        s.apply_all(&mut test);
        assert!((test[0][0] - 1.0).abs() < 1e-12);
        assert_eq!(test[0][1], 1.0);

        let g = Standardize::fit_global(&[[1.0f32, 3.0]]);
        assert_eq!((g.mean(), g.std()), (&[2.0][..], &[1.0][..]));
        let mut x = [5.0f32, 2.0];
        Standardize::global(1.0, 2.0).apply(&mut x);
        assert_eq!(x, [2.0, 0.5]);
    }

    #[test]
    fn min_max_maps_fit_range_to_unit() {
        let train = [[1.0f32, 7.0], [3.0, 7.0], [2.0, 7.0]];
        let m = MinMax::fit(&train);
        let mut t = train;
        m.apply_all(&mut t);
        assert_eq!(t, [[0.0, 0.0], [1.0, 0.0], [0.5, 0.0]]);
        assert_eq!(m.min(), [1.0, 7.0]);
    }

    #[test]
    fn one_hot_targets_checks_labels() {
        let data = InMemory::new(vec![[0.0f32]; 2], vec![1usize, 2]).unwrap();
        let hot = one_hot_targets::<_, f32, 3>(data.clone()).unwrap();
        assert_eq!(hot.targets(), [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]);
        let err = one_hot_targets::<_, f32, 2>(data).unwrap_err();
        assert!(matches!(
            err,
            DataError::LabelOutOfRange {
                index: 1,
                label: 2,
                classes: 2
            }
        ));
    }
}
