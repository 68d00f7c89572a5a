//! Metrics beyond loss and accuracy: the confusion matrix with per-class
//! precision and recall, top-k accuracy, and for regression the mean
//! absolute error, the root mean squared error and R².
//!
//! The [`Trainer`](super::Trainer) records [`Regression`] instead of an
//! accuracy for networks trained with the mean squared error; the functions
//! here compute any of them on a dataset in inference mode.

use std::string::{String, ToString};
use std::vec::Vec;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use super::TrainError;
use super::fault::{Fault, check_batch, first_non_finite};
use crate::data::Dataset;
use crate::loss::{Target, argmax};
use crate::{Network, Scalar, Tensor};

/// Regression metrics over every output element of a set: `MAE = Σ|y − t| / n`,
/// `RMSE = √(Σ(y − t)² / n)` and `R² = 1 − Σ(y − t)² / Σ(t − t̄)²`, with `n`
/// the number of output elements and `t̄` the mean target element.
///
/// R² is 1 for a perfect fit and 0 for predicting the mean; a set whose
/// targets are all equal has R² 1 when predicted exactly and 0 otherwise
/// (scikit-learn's convention).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Regression {
    /// Mean absolute error.
    pub mae: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Coefficient of determination.
    pub r2: f64,
}

/// Running sums from which [`Regression`] follows, in `f64`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct RegressionSums {
    /// Output elements seen.
    pub n: f64,
    /// `Σ|y − t|`.
    pub abs: f64,
    /// `Σ(y − t)²`.
    pub sq: f64,
    /// `Σt`.
    pub t: f64,
    /// `Σt²`.
    pub t2: f64,
}

impl RegressionSums {
    /// Adds one output and its target.
    pub fn add<O: Tensor, T: Target<O>>(&mut self, output: &[O::Elem], target: &T) {
        for (k, y) in output.iter().enumerate() {
            let (y, t) = (y.to_f64(), target.value(k).to_f64());
            let d = y - t;
            self.n += 1.0;
            self.abs += d.abs();
            self.sq += d * d;
            self.t += t;
            self.t2 += t * t;
        }
    }

    /// Adds another set's sums (in order, for reproducible results).
    pub fn merge(&mut self, other: &RegressionSums) {
        self.n += other.n;
        self.abs += other.abs;
        self.sq += other.sq;
        self.t += other.t;
        self.t2 += other.t2;
    }

    /// The metrics; `None` before anything was added.
    pub fn finish(&self) -> Option<Regression> {
        if self.n == 0.0 {
            return None;
        }
        let total = (self.t2 - self.t * self.t / self.n).max(0.0);
        let r2 = if total > 0.0 {
            1.0 - self.sq / total
        } else if self.sq == 0.0 {
            1.0
        } else {
            0.0
        };
        Some(Regression {
            mae: self.abs / self.n,
            rmse: (self.sq / self.n).sqrt(),
            r2,
        })
    }
}

/// Counts of (actual class, predicted class) pairs over a set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    classes: usize,
    /// Row-major: `counts[actual * classes + predicted]`.
    counts: Vec<u64>,
}

impl ConfusionMatrix {
    /// An empty matrix of `classes` classes.
    pub fn new(classes: usize) -> Self {
        ConfusionMatrix {
            classes,
            counts: std::vec![0; classes * classes],
        }
    }

    /// The number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Records one sample.
    ///
    /// # Panics
    /// If a class is out of range.
    pub fn add(&mut self, actual: usize, predicted: usize) {
        assert!(
            actual < self.classes && predicted < self.classes,
            "class out of range"
        );
        self.counts[actual * self.classes + predicted] += 1;
    }

    /// Samples of class `actual` predicted as `predicted`.
    pub fn count(&self, actual: usize, predicted: usize) -> u64 {
        self.counts[actual * self.classes + predicted]
    }

    /// Samples counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Fraction of samples on the diagonal; `None` for an empty matrix.
    pub fn accuracy(&self) -> Option<f64> {
        let right: u64 = (0..self.classes).map(|c| self.count(c, c)).sum();
        ratio(right, self.total())
    }

    /// Of the samples predicted as `class`, the fraction that are;
    /// `None` when none was predicted so.
    pub fn precision(&self, class: usize) -> Option<f64> {
        let predicted: u64 = (0..self.classes).map(|a| self.count(a, class)).sum();
        ratio(self.count(class, class), predicted)
    }

    /// Of the samples of `class`, the fraction predicted so; `None` when
    /// the set has none.
    pub fn recall(&self, class: usize) -> Option<f64> {
        let actual: u64 = (0..self.classes).map(|p| self.count(class, p)).sum();
        ratio(self.count(class, class), actual)
    }
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

impl core::fmt::Display for ConfusionMatrix {
    /// Rows are actual classes, columns predicted ones, then each class's
    /// precision and recall.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let width = self
            .counts
            .iter()
            .map(|c| c.to_string().len())
            .max()
            .unwrap_or(1)
            .max(self.classes.to_string().len())
            .max(3);
        let mut header = String::from("actual\\predicted");
        for p in 0..self.classes {
            header.push_str(&std::format!(" {p:>width$}"));
        }
        writeln!(f, "{header}  precision  recall")?;
        let pct = |v: Option<f64>| v.map_or("-".into(), |v| std::format!("{:.2}%", 100.0 * v));
        for a in 0..self.classes {
            let mut row = std::format!("{a:>16}");
            for p in 0..self.classes {
                row.push_str(&std::format!(" {:>width$}", self.count(a, p)));
            }
            writeln!(
                f,
                "{row}  {:>9}  {:>6}",
                pct(self.precision(a)),
                pct(self.recall(a))
            )?;
        }
        Ok(())
    }
}

/// The class an output predicts: the argmax, or for a single output
/// whether it exceeds ½.
fn predicted<E: Scalar>(output: &[E]) -> usize {
    if output.len() == 1 {
        usize::from(output[0] > E::from_f64(0.5))
    } else {
        argmax(output)
    }
}

/// The class a target names: its label, or the argmax of a dense target.
fn actual<O: Tensor, T: Target<O>>(target: &T) -> usize {
    match target.class() {
        Some(c) => c,
        None if O::LEN == 1 => usize::from(target.value(0) > O::Elem::from_f64(0.5)),
        None => {
            let values: Vec<O::Elem> = (0..O::LEN).map(|k| target.value(k)).collect();
            argmax(&values)
        }
    }
}

/// Runs `net` over `data` in batches of `batch` in inference mode, calling
/// `f` with each output and its target; checks the parameters and every
/// batch's inputs as [`evaluate`](super::evaluate) does.
fn for_each_output<N, D>(
    net: &N,
    data: &D,
    batch: usize,
    mut f: impl FnMut(&[N::Elem], &D::Target),
) -> Result<(), TrainError>
where
    N: Network + Sync,
    D: Dataset<Input = N::Input>,
    D::Target: Target<N::Output> + Clone,
    N::Input: Send,
{
    if batch == 0 {
        return Err(TrainError::ZeroBatch);
    }
    if data.is_empty() {
        return Err(TrainError::EmptyEvaluation { set: "evaluation" });
    }
    let stop = |fault| TrainError::NonFiniteEvaluation {
        loss: f64::NAN,
        fault,
    };
    if let Some(t) = first_non_finite(net.params(), N::TENSORS) {
        return Err(stop(Fault::Parameter { tensor: t.name }));
    }
    let (mut xs, mut ts, mut ys) = (Vec::new(), Vec::new(), Vec::new());
    for start in (0..data.len()).step_by(batch) {
        let indices: Vec<usize> = (start..(start + batch).min(data.len())).collect();
        data.gather_into(&indices, &mut xs, &mut ts);
        check_batch::<N, D::Target>(&xs, &ts).map_err(|fault| stop(shift(fault, start)))?;
        ys.resize(xs.len(), <N::Output as Tensor>::zeroed());
        crate::inference::predict_batch(net, &xs, &mut ys);
        for (y, t) in ys.iter().zip(&ts) {
            f(y.as_flat(), t);
        }
    }
    Ok(())
}

/// A batch's fault with its sample index made a dataset index.
fn shift(fault: Fault, start: usize) -> Fault {
    match fault {
        Fault::Input { index } => Fault::Input {
            index: start + index,
        },
        Fault::Target { index } => Fault::Target {
            index: start + index,
        },
        other => other,
    }
}

/// The confusion matrix of `net` on `data`, in inference mode, in batches
/// of `batch`. A network with one output has two classes (output above ½
/// or not); dense targets count as the class of their largest element.
///
/// # Errors
/// As [`evaluate`](super::evaluate): non-finite parameters or inputs, a zero
/// batch, an empty set, a label outside the classes.
pub fn confusion_matrix<N, D>(
    net: &N,
    data: &D,
    batch: usize,
) -> Result<ConfusionMatrix, TrainError>
where
    N: Network + Sync,
    D: Dataset<Input = N::Input>,
    D::Target: Target<N::Output> + Clone,
    N::Input: Send,
{
    let classes = N::OUTPUT_LEN.max(2);
    let mut matrix = ConfusionMatrix::new(classes);
    let mut misfit = None;
    let mut index = 0;
    for_each_output(net, data, batch, |y, t| {
        let a = actual::<N::Output, _>(t);
        if a >= classes {
            misfit.get_or_insert((index, a));
        } else {
            matrix.add(a, predicted(y));
        }
        index += 1;
    })?;
    match misfit {
        Some((index, label)) => Err(TrainError::Label {
            index,
            label,
            classes,
        }),
        None => Ok(matrix),
    }
}

/// The fraction of `data` whose class is among the `k` largest outputs of
/// `net` (ties broken toward the lower index), in inference mode.
///
/// # Errors
/// As [`confusion_matrix`].
pub fn top_k_accuracy<N, D>(net: &N, data: &D, k: usize, batch: usize) -> Result<f64, TrainError>
where
    N: Network + Sync,
    D: Dataset<Input = N::Input>,
    D::Target: Target<N::Output> + Clone,
    N::Input: Send,
{
    let (mut hits, mut n) = (0usize, 0usize);
    for_each_output(net, data, batch, |y, t| {
        let class = actual::<N::Output, _>(t);
        let rank = if y.len() == 1 {
            usize::from(predicted(y) != class)
        } else {
            let score = y.get(class).copied().unwrap_or(N::Elem::MAX);
            // Outputs ranked above the target's: larger, or equal and earlier.
            y.iter()
                .enumerate()
                .filter(|&(i, &v)| v > score || (v == score && i < class))
                .count()
        };
        hits += usize::from(rank < k);
        n += 1;
    })?;
    Ok(hits as f64 / n as f64)
}

/// MAE, RMSE and R² of `net` on `data` (see [`Regression`]), in inference
/// mode.
///
/// # Errors
/// As [`confusion_matrix`], without the label check.
pub fn regression_metrics<N, D>(net: &N, data: &D, batch: usize) -> Result<Regression, TrainError>
where
    N: Network + Sync,
    D: Dataset<Input = N::Input>,
    D::Target: Target<N::Output> + Clone,
    N::Input: Send,
{
    let mut sums = RegressionSums::default();
    for_each_output(net, data, batch, |y, t| sums.add::<N::Output, _>(y, t))?;
    sums.finish()
        .ok_or(TrainError::EmptyEvaluation { set: "evaluation" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn regression_sums_match_hand_computed() {
        // y = [1, 2, 4], t = [1, 3, 3]: |d| = 0, 1, 1; d² = 0, 1, 1;
        // t̄ = 7/3, Σ(t − t̄)² = 16/9 + 4/9 + 4/9 = 8/3, R² = 1 − 2 / (8/3) = 0.25.
        let mut sums = RegressionSums::default();
        for (y, t) in [(1.0f64, 1.0f64), (2.0, 3.0), (4.0, 3.0)] {
            sums.add::<[f64; 1], [f64; 1]>(&[y], &[t]);
        }
        let m = sums.finish().unwrap();
        assert!((m.mae - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.rmse - (2.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!((m.r2 - 0.25).abs() < 1e-12);
        assert_eq!(RegressionSums::default().finish(), None);
        let mut flat = RegressionSums::default();
        flat.add::<[f64; 2], [f64; 2]>(&[2.0, 2.0], &[2.0, 2.0]);
        assert_eq!(flat.finish().unwrap().r2, 1.0);
    }

    #[test]
    fn confusion_matrix_gives_precision_and_recall() {
        let mut m = ConfusionMatrix::new(3);
        for (a, p) in [(0, 0), (0, 0), (0, 1), (1, 1), (2, 1), (2, 2)] {
            m.add(a, p);
        }
        assert_eq!(m.total(), 6);
        assert_eq!(m.accuracy(), Some(4.0 / 6.0));
        assert_eq!(m.precision(1), Some(1.0 / 3.0));
        assert_eq!(m.recall(0), Some(2.0 / 3.0));
        assert_eq!(ConfusionMatrix::new(2).precision(0), None);
        let text = m.to_string();
        assert!(text.starts_with("actual\\predicted"), "{text}");
        assert!(text.contains("33.33%"), "{text}");
        assert_eq!(text.lines().count(), 4);
    }

    #[test]
    fn predicted_and_actual_classes() {
        assert_eq!(predicted(&[0.2f32, 0.7, 0.1]), 1);
        assert_eq!(predicted(&[0.7f32]), 1);
        assert_eq!(actual::<[f32; 3], _>(&[0.0f32, 0.0, 1.0]), 2);
        assert_eq!(actual::<[f32; 3], usize>(&1), 1);
    }
}
