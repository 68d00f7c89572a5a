//! Small datasets built into the crate, so examples and tests need no file:
//! the 8×8 handwritten digits ([`Digits`]) and the diabetes regression set
//! ([`Diabetes`]), both as scikit-learn ships them (feature `datasets`).
//!
//! The gzip files are embedded with `include_bytes!` (64 KB together) and
//! decoded on each load, which takes about a millisecond. Their origin,
//! licence and checksums are in `runtime/data/README.md`; the digits are
//! © E. Alpaydin and C. Kaynak, UCI Machine Learning Repository (1998),
//! CC BY 4.0.

use std::prelude::rust_2024::*;

use std::io::Read;

use flate2::read::GzDecoder;

use super::csv::CsvReader;
use super::dataset::InMemory;
use crate::{Scalar, Tensor};

const DIGITS_GZ: &[u8] = include_bytes!("../../data/digits.csv.gz");
const DIABETES_DATA_GZ: &[u8] = include_bytes!("../../data/diabetes_data_raw.csv.gz");
const DIABETES_TARGET_GZ: &[u8] = include_bytes!("../../data/diabetes_target.csv.gz");

/// The embedded files are fixed and a test reads every one of them, so a
/// decoding failure can only be a broken build of the crate.
const EMBEDDED: &str = "the embedded dataset decodes (checked by the builtin tests)";

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .expect(EMBEDDED);
    text
}

/// The 8×8 handwritten digits: 1,797 images of 64 pixels, 10 classes.
///
/// Needs the `datasets` feature.
///
/// The test set of UCI's *Optical Recognition of Handwritten Digits* (E.
/// Alpaydin and C. Kaynak, 1998, CC BY 4.0), the data of scikit-learn's
/// `load_digits()`: 32×32 bitmaps of 43 writers, each pixel here the count
/// of set pixels in a 4×4 block, so an integer from 0 to 16.
///
/// # Examples
/// ```
/// use constnet::data::{Dataset, Digits};
/// let raw = Digits::load::<[f32; 64]>();
/// assert_eq!(raw.len(), Digits::LEN);
/// let images = Digits::load_scaled::<[[[f32; 8]; 8]; 1]>();
/// assert!(images.inputs()[0][0][0].iter().all(|&v| (0.0..=1.0).contains(&v)));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Digits;

impl Digits {
    /// Number of samples.
    pub const LEN: usize = 1797;
    /// Number of classes (digits 0 to 9).
    pub const CLASSES: usize = 10;
    /// Image side in pixels.
    pub const SIDE: usize = 8;
    /// Largest pixel value.
    pub const MAX: f64 = 16.0;

    /// Every sample with raw pixel values (0 to 16), as `[E; 64]`,
    /// `[[E; 8]; 8]` or `[[[E; 8]; 8]; 1]`, in file order.
    ///
    /// Any other input size fails to build.
    pub fn load<X: Tensor>() -> InMemory<X, usize> {
        const {
            assert!(X::LEN == 64, "Digits holds 8 × 8 = 64 pixels per image");
        };
        let rows = CsvReader::new()
            .read_classes::<X::Elem, 64>(gunzip(DIGITS_GZ).as_bytes())
            .expect(EMBEDDED);
        rows.map_inputs(|row| {
            let mut x = X::zeroed();
            x.as_flat_mut().copy_from_slice(&row);
            x
        })
    }

    /// Like [`load`](Self::load), with pixels divided by 16 into `[0, 1]`.
    pub fn load_scaled<X: Tensor>() -> InMemory<X, usize> {
        let scale = X::Elem::from_f64(1.0 / Self::MAX);
        Self::load::<X>().map_inputs(|mut x| {
            x.as_flat_mut().iter_mut().for_each(|v| *v *= scale);
            x
        })
    }
}

/// The diabetes progression set: 442 patients, 10 baseline variables and a
/// measure of disease progression one year later (25 to 346).
///
/// Needs the `datasets` feature.
///
/// From Efron, Hastie, Johnstone and Tibshirani, "Least Angle Regression"
/// (Annals of Statistics, 2004): the raw, unscaled form of scikit-learn's
/// `load_diabetes()`. The variables differ in scale by two orders of
/// magnitude, so standardize them ([`Standardize`](super::Standardize))
/// before training.
///
/// # Examples
/// ```
/// use constnet::data::{Dataset, Diabetes};
/// let data = Diabetes::load::<f64>();
/// assert_eq!(data.len(), Diabetes::LEN);
/// assert_eq!(Diabetes::FEATURES[2], "bmi");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Diabetes;

impl Diabetes {
    /// Number of patients.
    pub const LEN: usize = 442;
    /// The variables in column order.
    pub const FEATURES: [&'static str; 10] = [
        "age", "sex", "bmi", "bp", "tc", "ldl", "hdl", "tch", "ltg", "glu",
    ];

    /// Every patient's 10 variables and progression, in file order.
    pub fn load<E: Scalar>() -> InMemory<[E; 10], [E; 1]> {
        // The variables are space-separated without a target column; read
        // them as 9 features plus the 10th as "target", then reattach it.
        let features = CsvReader::new()
            .delimiter(b' ')
            .read_targets::<E, 9>(gunzip(DIABETES_DATA_GZ).as_bytes())
            .expect(EMBEDDED);
        let targets = gunzip(DIABETES_TARGET_GZ);
        let targets = targets
            .lines()
            .map(|line| [E::from_f64(line.trim().parse::<f64>().expect(EMBEDDED))]);
        let (inputs, last) = features.into_parts();
        inputs
            .into_iter()
            .zip(last)
            .map(|(head, [tail])| {
                let mut row = [E::ZERO; 10];
                row[..9].copy_from_slice(&head);
                row[9] = tail;
                row
            })
            .zip(targets)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Dataset;

    #[test]
    fn digits_counts_ranges_and_first_row() {
        let data = Digits::load::<[f64; 64]>();
        assert_eq!(data.len(), Digits::LEN);
        assert_eq!(
            data.class_counts(Digits::CLASSES),
            [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
        );
        assert!(
            data.inputs()
                .iter()
                .flatten()
                .all(|&v| (0.0..=16.0).contains(&v) && v.fract() == 0.0)
        );
        let (first, label) = data.get(0);
        assert_eq!(
            first[..16],
            [
                0.0, 0.0, 5.0, 13.0, 9.0, 1.0, 0.0, 0.0, 0.0, 0.0, 13.0, 15.0, 10.0, 15.0, 5.0, 0.0
            ]
        );
        assert_eq!(first.iter().sum::<f64>(), 294.0);
        assert_eq!(*label, 0);
        assert_eq!(*data.get(Digits::LEN - 1).1, 8);
    }

    #[test]
    fn digits_as_images_and_scaled() {
        let images = Digits::load_scaled::<[[[f32; 8]; 8]; 1]>();
        let flat = Digits::load::<[f32; 64]>();
        // Row-major: image row 1 is pixels 8..16.
        assert_eq!(images.inputs()[0][0][1][2], flat.inputs()[0][10] / 16.0);
        let max = images.inputs().iter().flatten().flatten().flatten();
        assert_eq!(max.fold(0.0f32, |a, &b| a.max(b)), 1.0);
    }

    #[test]
    fn diabetes_counts_ranges_and_first_row() {
        let data = Diabetes::load::<f64>();
        assert_eq!(data.len(), Diabetes::LEN);
        assert_eq!(
            data.get(0),
            (
                &[59.0, 2.0, 32.1, 101.0, 157.0, 93.2, 38.0, 4.0, 4.8598, 87.0],
                &[151.0]
            )
        );
        let column = |k: usize| data.inputs().iter().map(move |x| x[k]);
        let range = |it: &mut dyn Iterator<Item = f64>| {
            it.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            })
        };
        assert_eq!(range(&mut column(0)), (19.0, 79.0));
        assert_eq!(range(&mut column(1)), (1.0, 2.0));
        assert_eq!(range(&mut column(2)), (18.0, 42.2));
        assert_eq!(range(&mut column(9)), (58.0, 124.0));
        assert_eq!(
            range(&mut data.targets().iter().map(|t| t[0])),
            (25.0, 346.0)
        );
    }
}
