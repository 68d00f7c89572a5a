//! `SyntheticDigits`: procedurally drawn 28×28 digit-like images of 10
//! classes, so the quick start and the smoke tests run without any file
//! (feature `synthetic`).
//!
//! # What it is
//! Each class `0`–`9` is a hand-designed glyph of one to three strokes
//! (line segments and elliptic arcs) in a unit box, shaped roughly like the
//! digit. A sample is drawn in five steps:
//!
//! 1. **Jitter**: every stroke's control points move by up to ±0.05 of the box.
//! 2. **Placement**: the box maps to the central 20×20 pixels, as in MNIST.
//! 3. **Affine distortion** about the image centre: rotation up to ±15°,
//!    scale 0.85–1.15 per axis, shear up to ±0.25, translation up to ±2.5 px.
//! 4. **Rendering** with a stroke width of 1.4–3.2 px, anti-aliased over one
//!    pixel (intensity `clamp(width/2 + 0.5 - distance, 0, 1)`), times an
//!    ink level of 0.75–1.
//! 5. **Noise**: Gaussian with standard deviation [`SyntheticDigits::noise`]
//!    (0.08 by default), then clamped to `[0, 1]`.
//!
//! Pixel values lie in `[0, 1]` like MNIST's after scaling, with a white digit
//! on black. Sample `i` depends only on `(seed, i)`, so a set of `n` samples
//! is a prefix of a larger one with the same seed; labels are drawn
//! uniformly per sample (so class counts are near, not exactly, equal).
//!
//! It is **not** MNIST: the glyphs are far more regular than handwriting.
//! But it is not trivial either. Like MNIST, it defeats linear models:
//! softmax regression trained on 5,000 samples fits them all yet scores about
//! 93 % on fresh ones, a nearest-class-mean classifier about 70 % (the tests
//! check that both stay between 50 % and 100 %).

use std::prelude::rust_2024::*;
use std::vec;

use nalgebra::{Matrix2, Vector2};
use rand::rngs::StdRng;
use rand::{Rng, RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};

use super::dataset::InMemory;
use crate::{Scalar, Tensor};

/// Image side in pixels.
const SIDE: usize = 28;
/// Pixels per image.
const PIXELS: usize = SIDE * SIDE;
/// Side of the box the glyph is placed in, and its offset (MNIST's 20×20 in 28×28).
const BOX: f64 = 20.0;
const MARGIN: f64 = 4.0;

/// A stroke in glyph coordinates: `x` to the right, `y` down, both in `[0, 1]`.
#[derive(Clone, Copy)]
enum Stroke {
    /// A straight segment.
    Line([f64; 2], [f64; 2]),
    /// An elliptic arc: centre, radii, start and end angle in degrees
    /// (0° points right, 90° down).
    Arc {
        c: [f64; 2],
        r: [f64; 2],
        from: f64,
        to: f64,
    },
}

use Stroke::{Arc, Line};

/// The glyph of each digit.
const GLYPHS: [&[Stroke]; 10] = [
    &[Arc {
        c: [0.5, 0.5],
        r: [0.28, 0.42],
        from: 0.0,
        to: 360.0,
    }],
    &[
        Line([0.52, 0.06], [0.5, 0.94]),
        Line([0.32, 0.24], [0.52, 0.06]),
    ],
    &[
        Arc {
            c: [0.5, 0.3],
            r: [0.27, 0.22],
            from: 190.0,
            to: 390.0,
        },
        Line([0.734, 0.41], [0.18, 0.92]),
        Line([0.18, 0.92], [0.84, 0.92]),
    ],
    &[
        Arc {
            c: [0.48, 0.29],
            r: [0.26, 0.21],
            from: 200.0,
            to: 450.0,
        },
        Arc {
            c: [0.48, 0.71],
            r: [0.3, 0.21],
            from: -90.0,
            to: 160.0,
        },
    ],
    &[
        Line([0.64, 0.94], [0.64, 0.06]),
        Line([0.64, 0.06], [0.14, 0.66]),
        Line([0.14, 0.66], [0.86, 0.66]),
    ],
    &[
        Line([0.8, 0.08], [0.3, 0.08]),
        Line([0.3, 0.08], [0.26, 0.46]),
        Arc {
            c: [0.5, 0.67],
            r: [0.3, 0.26],
            from: -130.0,
            to: 150.0,
        },
    ],
    &[
        Arc {
            c: [0.68, 0.62],
            r: [0.46, 0.56],
            from: -100.0,
            to: -180.0,
        },
        Arc {
            c: [0.5, 0.7],
            r: [0.27, 0.22],
            from: 0.0,
            to: 360.0,
        },
    ],
    &[
        Line([0.16, 0.08], [0.84, 0.08]),
        Line([0.84, 0.08], [0.4, 0.94]),
    ],
    &[
        Arc {
            c: [0.5, 0.27],
            r: [0.22, 0.2],
            from: 0.0,
            to: 360.0,
        },
        Arc {
            c: [0.5, 0.7],
            r: [0.28, 0.23],
            from: 0.0,
            to: 360.0,
        },
    ],
    &[
        Arc {
            c: [0.48, 0.3],
            r: [0.27, 0.22],
            from: 0.0,
            to: 360.0,
        },
        Line([0.75, 0.3], [0.66, 0.94]),
    ],
];

/// A generator of digit-like images; see the [module docs](self) for what
/// they look like.
///
/// Needs the `synthetic` feature.
///
/// # Examples
/// ```
/// use constnet::data::{Dataset, SyntheticDigits};
/// let train = SyntheticDigits::new(200, 1).generate::<[[[f32; 28]; 28]; 1]>();
/// let test = SyntheticDigits::new(50, 2).generate::<[f32; 784]>();
/// assert_eq!((train.len(), test.len()), (200, 50));
/// assert!(train.targets().iter().all(|&l| l < 10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyntheticDigits {
    count: usize,
    seed: u64,
    noise: f64,
}

impl SyntheticDigits {
    /// Number of classes.
    pub const CLASSES: usize = 10;

    /// `count` samples drawn from `seed`. Use different seeds for training
    /// and test sets.
    pub fn new(count: usize, seed: u64) -> Self {
        Self {
            count,
            seed,
            noise: 0.08,
        }
    }

    /// The standard deviation of the Gaussian pixel noise (default 0.08;
    /// negative or non-finite values mean 0).
    pub fn noise(self, std: f64) -> Self {
        let noise = if std.is_finite() { std.max(0.0) } else { 0.0 };
        Self { noise, ..self }
    }

    /// Draws all samples.
    ///
    /// `X::LEN` must be 784 (`[[[E; 28]; 28]; 1]`, `[[E; 28]; 28]` or
    /// `[E; 784]`); any other input type fails to build.
    pub fn generate<X: Tensor>(&self) -> InMemory<X, usize> {
        (0..self.count).map(|i| self.sample(i)).collect()
    }

    /// Draws sample `index` alone: the same image and label as in [`generate`](Self::generate).
    pub fn sample<X: Tensor>(&self, index: usize) -> (X, usize) {
        const {
            assert!(
                X::LEN == PIXELS,
                "SyntheticDigits draws 28 × 28 = 784 pixels"
            )
        };
        let mut rng = StdRng::seed_from_u64(sample_seed(self.seed, index as u64));
        let label = rng.random_range(0..Self::CLASSES);
        let mut x = X::zeroed();
        render(label, self.noise, &mut rng, x.as_flat_mut());
        (x, label)
    }
}

/// SplitMix64 of the seed and index, so neighbouring samples get unrelated generators.
fn sample_seed(seed: u64, index: u64) -> u64 {
    let mut z = seed.wrapping_add(index.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Draws one `digit` into `out` (784 pixels, row-major).
fn render<E: Scalar, R: Rng + ?Sized>(digit: usize, noise: f64, rng: &mut R, out: &mut [E]) {
    let centre = Vector2::new(SIDE as f64 / 2.0, SIDE as f64 / 2.0);
    let affine = random_affine(rng);
    let shift = Vector2::new(rng.random_range(-2.5..=2.5), rng.random_range(-2.5..=2.5));
    let to_pixels = |p: [f64; 2]| {
        let placed = Vector2::new(MARGIN + BOX * p[0], MARGIN + BOX * p[1]);
        affine * (placed - centre) + centre + shift
    };
    let half_width = rng.random_range(0.7..=1.6);
    let ink = rng.random_range(0.75..=1.0);

    // Distance from each pixel centre to the nearest stroke; each segment
    // only updates the pixels near its bounding box.
    let mut dist = [f64::INFINITY; PIXELS];
    let reach = half_width + 1.0;
    for &stroke in GLYPHS.get(digit).copied().unwrap_or(&[]) {
        let points = polyline(jitter(stroke, rng));
        for pair in points.windows(2) {
            let (a, b) = (to_pixels(pair[0]), to_pixels(pair[1]));
            let lo = |u: f64, v: f64| ((u.min(v) - reach).floor().max(0.0)) as usize;
            let hi =
                |u: f64, v: f64| ((u.max(v) + reach).ceil().clamp(0.0, SIDE as f64 - 1.0)) as usize;
            for y in lo(a.y, b.y)..=hi(a.y, b.y) {
                for x in lo(a.x, b.x)..=hi(a.x, b.x) {
                    let d = segment_distance(Vector2::new(x as f64, y as f64), a, b);
                    let slot = &mut dist[y * SIDE + x];
                    *slot = slot.min(d);
                }
            }
        }
    }

    let normal = Normal::new(0.0, noise).ok();
    for (o, &d) in out.iter_mut().zip(&dist) {
        let mut v = ink * (half_width + 0.5 - d).clamp(0.0, 1.0);
        if let Some(n) = &normal {
            v += n.sample(rng);
        }
        *o = E::from_f64(v.clamp(0.0, 1.0));
    }
}

/// Rotation · shear · scale, each drawn from the ranges in the module docs.
fn random_affine<R: Rng + ?Sized>(rng: &mut R) -> Matrix2<f64> {
    let angle = rng.random_range(-15.0f64..=15.0).to_radians();
    let (sin, cos) = angle.sin_cos();
    let rotation = Matrix2::new(cos, -sin, sin, cos);
    let shear = Matrix2::new(1.0, rng.random_range(-0.25..=0.25), 0.0, 1.0);
    let scale = Matrix2::new(
        rng.random_range(0.85..=1.15),
        0.0,
        0.0,
        rng.random_range(0.85..=1.15),
    );
    rotation * shear * scale
}

/// Moves a stroke's control points by up to ±0.05.
fn jitter<R: Rng + ?Sized>(stroke: Stroke, rng: &mut R) -> Stroke {
    let mut j = |v: f64| v + rng.random_range(-0.05..=0.05);
    match stroke {
        Line(a, b) => Line([j(a[0]), j(a[1])], [j(b[0]), j(b[1])]),
        Arc { c, r, from, to } => Arc {
            c: [j(c[0]), j(c[1])],
            r: [j(r[0]).max(0.05), j(r[1]).max(0.05)],
            from,
            to,
        },
    }
}

/// The stroke as points joined by straight segments (arcs: one per 15°).
fn polyline(stroke: Stroke) -> Vec<[f64; 2]> {
    match stroke {
        Line(a, b) => vec![a, b],
        Arc { c, r, from, to } => {
            let steps = ((to - from).abs() / 15.0).ceil().max(1.0) as usize;
            (0..=steps)
                .map(|k| {
                    let t = (from + (to - from) * k as f64 / steps as f64).to_radians();
                    [c[0] + r[0] * t.cos(), c[1] + r[1] * t.sin()]
                })
                .collect()
        }
    }
}

/// Euclidean distance from `p` to the segment `a`–`b`.
fn segment_distance(p: Vector2<f64>, a: Vector2<f64>, b: Vector2<f64>) -> f64 {
    let ab = b - a;
    let len2 = ab.norm_squared();
    let t = if len2 > 0.0 {
        ((p - a).dot(&ab) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (p - (a + ab * t)).norm()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Dataset;
    use std::vec;

    type Image = [[[f32; 28]; 28]; 1];

    #[test]
    fn synthetic_is_deterministic_per_seed() {
        let a = SyntheticDigits::new(20, 5).generate::<Image>();
        assert_eq!(a, SyntheticDigits::new(20, 5).generate::<Image>());
        assert_ne!(a, SyntheticDigits::new(20, 6).generate::<Image>());
        // A smaller set is a prefix of a larger one.
        let small = SyntheticDigits::new(7, 5).generate::<Image>();
        assert_eq!(small, a.subset(&(0..7).collect::<Vec<_>>()));
        // The flat and the CNN shapes hold the same pixels.
        let flat = SyntheticDigits::new(3, 5).generate::<[f32; 784]>();
        assert_eq!(flat.inputs()[2][..], a.inputs()[2].as_flat()[..]);
    }

    #[test]
    fn synthetic_pixels_and_labels_are_in_range() {
        let data = SyntheticDigits::new(300, 1).generate::<[f64; 784]>();
        assert!(
            data.inputs()
                .iter()
                .flatten()
                .all(|&v| (0.0..=1.0).contains(&v))
        );
        let counts = data.class_counts(10);
        assert!(counts.iter().all(|&c| (15..=50).contains(&c)), "{counts:?}");
        // Ink covers a plausible part of each image, as in MNIST (~19 % of pixels > 0.5).
        let mean_ink: f64 = data
            .inputs()
            .iter()
            .map(|x| x.iter().filter(|&&v| v > 0.5).count() as f64 / 784.0)
            .sum::<f64>()
            / 300.0;
        assert!((0.08..0.35).contains(&mean_ink), "{mean_ink}");
        let clean = SyntheticDigits::new(5, 1)
            .noise(0.0)
            .generate::<[f64; 784]>();
        assert!(
            clean
                .inputs()
                .iter()
                .flatten()
                .filter(|&&v| v == 0.0)
                .count()
                > 5 * 400
        );
    }

    /// Accuracy of a nearest-class-mean classifier (a linear classifier)
    /// fitted on `train` and scored on `test`.
    fn nearest_mean_accuracy(
        train: &InMemory<[f32; 784], usize>,
        test: &InMemory<[f32; 784], usize>,
    ) -> f64 {
        let mut means = vec![[0.0f64; 784]; 10];
        let counts = train.class_counts(10);
        for (x, &t) in train.iter() {
            for (m, &v) in means[t].iter_mut().zip(x) {
                *m += f64::from(v) / counts[t] as f64;
            }
        }
        let correct = test
            .iter()
            .filter(|&(x, &t)| {
                let dist = |m: &[f64; 784]| -> f64 {
                    m.iter()
                        .zip(x)
                        .map(|(a, &b)| (a - f64::from(b)).powi(2))
                        .sum()
                };
                let best = (0..10).min_by(|&a, &b| dist(&means[a]).total_cmp(&dist(&means[b])));
                best == Some(t)
            })
            .count();
        correct as f64 / test.len() as f64
    }

    /// Test accuracy of softmax regression (a linear model) trained by
    /// plain SGD for a few epochs. On 5,000 samples and 20 epochs it reaches
    /// 100 % on the training set and about 93 % on the test set.
    fn softmax_regression_accuracy(
        train: &InMemory<[f32; 784], usize>,
        test: &InMemory<[f32; 784], usize>,
        epochs: usize,
    ) -> f64 {
        let mut w = vec![[0.0f32; 785]; 10];
        let logits = |w: &[[f32; 785]], x: &[f32; 784]| -> Vec<f32> {
            w.iter()
                .map(|wk| wk[784] + wk.iter().zip(x).map(|(a, b)| a * b).sum::<f32>())
                .collect()
        };
        for _ in 0..epochs {
            for (x, &t) in train.iter() {
                let z = logits(&w, x);
                let mut p = vec![0.0f32; 10];
                crate::loss::softmax_row(&z, &mut p);
                for (k, wk) in w.iter_mut().enumerate() {
                    let g = 0.1 * (p[k] - if k == t { 1.0 } else { 0.0 });
                    for (wi, &xi) in wk.iter_mut().zip(x) {
                        *wi -= g * xi;
                    }
                    wk[784] -= g;
                }
            }
        }
        let correct = test
            .iter()
            .filter(|&(x, &t)| crate::loss::argmax(&logits(&w, x)) == t)
            .count();
        correct as f64 / test.len() as f64
    }

    #[test]
    fn synthetic_is_learnable_but_not_linearly_perfect() {
        let train = SyntheticDigits::new(1000, 10).generate::<[f32; 784]>();
        let test = SyntheticDigits::new(300, 11).generate::<[f32; 784]>();
        for (name, acc) in [
            ("nearest class mean", nearest_mean_accuracy(&train, &test)),
            (
                "softmax regression",
                softmax_regression_accuracy(&train, &test, 3),
            ),
        ] {
            assert!(acc > 0.5, "{name}: far above chance (10 %): {acc}");
            assert!(
                acc < 1.0,
                "{name}: a linear classifier must not be perfect: {acc}"
            );
            std::println!("{name}: test accuracy {acc:.3}");
        }
    }
}
