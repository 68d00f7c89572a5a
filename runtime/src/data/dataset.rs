//! The [`Dataset`] trait and [`InMemory`], a dataset held in two `Vec`s.
//!
//! A dataset is indexable: sample `i` is an input (a network's `Input`
//! array) paired with a target (a `usize` class label or a dense array).
//! Batching ([`super::Batches`]) only produces index lists; a trainer turns
//! them into contiguous buffers with [`Dataset::gather_into`].

use std::prelude::rust_2024::*;
use std::vec;

use super::error::DataError;
use super::split;

/// An indexable collection of `(input, target)` samples.
///
/// # Examples
/// ```
/// use constnet::data::{Dataset, InMemory};
/// let data = InMemory::new(vec![[0.0f32, 1.0], [2.0, 3.0], [4.0, 5.0]], vec![0usize, 1, 0])?;
/// let (mut xs, mut ts) = (Vec::new(), Vec::new());
/// data.gather_into(&[2, 0], &mut xs, &mut ts);
/// assert_eq!(xs, [[4.0, 5.0], [0.0, 1.0]]);
/// assert_eq!(ts, [0, 0]);
/// # Ok::<(), constnet::data::DataError>(())
/// ```
pub trait Dataset {
    /// One input sample, such as `[[[f32; 28]; 28]; 1]`.
    type Input;
    /// One target: a class label (`usize`) or a dense array.
    type Target;

    /// Number of samples.
    fn len(&self) -> usize;

    /// Whether there are no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sample `index`.
    ///
    /// # Panics
    /// If `index >= self.len()`.
    fn get(&self, index: usize) -> (&Self::Input, &Self::Target);

    /// Copies the samples at `indices`, in that order, into `xs` and `ts`,
    /// replacing their contents.
    ///
    /// The vectors keep their capacity, so a training loop that reuses them
    /// allocates only for the first batch.
    ///
    /// # Panics
    /// If an index is out of range.
    fn gather_into(&self, indices: &[usize], xs: &mut Vec<Self::Input>, ts: &mut Vec<Self::Target>)
    where
        Self::Input: Clone,
        Self::Target: Clone,
    {
        xs.clear();
        ts.clear();
        xs.reserve(indices.len());
        ts.reserve(indices.len());
        for &i in indices {
            let (x, t) = self.get(i);
            xs.push(x.clone());
            ts.push(t.clone());
        }
    }
}

impl<D: Dataset + ?Sized> Dataset for &D {
    type Input = D::Input;
    type Target = D::Target;

    fn len(&self) -> usize {
        (**self).len()
    }

    fn get(&self, index: usize) -> (&Self::Input, &Self::Target) {
        (**self).get(index)
    }
}

/// A dataset of fixed-shape samples held in memory.
///
/// `X` is normally a network's `Input` type and `T` either `usize` (class
/// labels) or the network's `Output` type (dense targets).
#[derive(Debug, Clone, PartialEq)]
pub struct InMemory<X, T> {
    inputs: Vec<X>,
    targets: Vec<T>,
}

impl<X, T> Default for InMemory<X, T> {
    fn default() -> Self {
        Self {
            inputs: Vec::new(),
            targets: Vec::new(),
        }
    }
}

impl<X, T> InMemory<X, T> {
    /// Pairs inputs with targets.
    ///
    /// # Errors
    /// [`DataError::CountMismatch`] if the two differ in length.
    pub fn new(inputs: Vec<X>, targets: Vec<T>) -> Result<Self, DataError> {
        if inputs.len() != targets.len() {
            return Err(DataError::CountMismatch {
                inputs: inputs.len(),
                targets: targets.len(),
            });
        }
        Ok(Self { inputs, targets })
    }

    /// All inputs, in order.
    pub fn inputs(&self) -> &[X] {
        &self.inputs
    }

    /// All inputs, mutable (for transforms applied in place).
    pub fn inputs_mut(&mut self) -> &mut [X] {
        &mut self.inputs
    }

    /// All targets, in order.
    pub fn targets(&self) -> &[T] {
        &self.targets
    }

    /// All targets, mutable.
    pub fn targets_mut(&mut self) -> &mut [T] {
        &mut self.targets
    }

    /// Takes the inputs and targets apart.
    pub fn into_parts(self) -> (Vec<X>, Vec<T>) {
        (self.inputs, self.targets)
    }

    /// Appends one sample.
    pub fn push(&mut self, input: X, target: T) {
        self.inputs.push(input);
        self.targets.push(target);
    }

    /// Keeps the first `len` samples (all of them if there are fewer).
    pub fn truncate(&mut self, len: usize) {
        self.inputs.truncate(len);
        self.targets.truncate(len);
    }

    /// Iterates over `(input, target)` pairs.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&X, &T)> + '_ {
        self.inputs.iter().zip(&self.targets)
    }

    /// Applies `f` to every input, for example to change its shape or type.
    pub fn map_inputs<Y>(self, f: impl FnMut(X) -> Y) -> InMemory<Y, T> {
        InMemory {
            inputs: self.inputs.into_iter().map(f).collect(),
            targets: self.targets,
        }
    }

    /// Applies `f` to every target, for example to one-hot encode labels.
    pub fn map_targets<U>(self, f: impl FnMut(T) -> U) -> InMemory<X, U> {
        InMemory {
            inputs: self.inputs,
            targets: self.targets.into_iter().map(f).collect(),
        }
    }

    /// Copies the samples at `indices`, in that order, into a new dataset.
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn subset(&self, indices: &[usize]) -> Self
    where
        X: Clone,
        T: Clone,
    {
        let mut out = Self::default();
        self.gather_into(indices, &mut out.inputs, &mut out.targets);
        out
    }

    /// Splits into a training and a validation part, drawing
    /// `round(len * validation)` samples for validation at random (seeded).
    ///
    /// Both parts keep the original relative order.
    /// [`DEFAULT_VALIDATION`](super::DEFAULT_VALIDATION) is the usual fraction.
    ///
    /// # Panics
    /// If `validation` is not within `0.0..=1.0`.
    ///
    /// # Examples
    /// ```
    /// use constnet::data::{Dataset, InMemory, DEFAULT_VALIDATION};
    /// let data = InMemory::new((0..10).map(|i| [i as f32]).collect(), vec![0usize; 10])?;
    /// let (train, val) = data.split(DEFAULT_VALIDATION, 7);
    /// assert_eq!((train.len(), val.len()), (8, 2));
    /// # Ok::<(), constnet::data::DataError>(())
    /// ```
    pub fn split(self, validation: f64, seed: u64) -> (Self, Self) {
        let val = split::split_indices(self.len(), validation, seed).1;
        self.partition(&val)
    }

    /// Moves the samples at `chosen` (ascending, in range) into the second part.
    fn partition(self, chosen: &[usize]) -> (Self, Self) {
        let mut chosen = chosen.iter().copied().peekable();
        let (mut keep, mut take) = (Self::default(), Self::default());
        for (i, (x, t)) in self.inputs.into_iter().zip(self.targets).enumerate() {
            if chosen.next_if_eq(&i).is_some() {
                take.push(x, t);
            } else {
                keep.push(x, t);
            }
        }
        (keep, take)
    }
}

impl<X> InMemory<X, usize> {
    /// Like [`split`](Self::split), but draws the validation part per class,
    /// so each class keeps its proportion in both parts (within one sample).
    ///
    /// # Panics
    /// If `validation` is not within `0.0..=1.0`.
    pub fn stratified_split(self, validation: f64, seed: u64) -> (Self, Self) {
        let val = split::stratified_split_indices(&self.targets, validation, seed).1;
        self.partition(&val)
    }

    /// Checks that every label is below `classes`.
    ///
    /// # Errors
    /// [`DataError::LabelOutOfRange`] for the first label that is not.
    pub fn check_labels(&self, classes: usize) -> Result<(), DataError> {
        match self.targets.iter().position(|&l| l >= classes) {
            None => Ok(()),
            Some(index) => Err(DataError::LabelOutOfRange {
                index,
                label: self.targets.get(index).copied().unwrap_or(0),
                classes,
            }),
        }
    }

    /// Number of samples of each class `0..classes`; labels at or above
    /// `classes` are not counted.
    pub fn class_counts(&self, classes: usize) -> Vec<usize> {
        let mut counts = vec![0; classes];
        for &l in &self.targets {
            if let Some(c) = counts.get_mut(l) {
                *c += 1;
            }
        }
        counts
    }
}

impl<X, T> Dataset for InMemory<X, T> {
    type Input = X;
    type Target = T;

    fn len(&self) -> usize {
        self.inputs.len()
    }

    fn get(&self, index: usize) -> (&X, &T) {
        (&self.inputs[index], &self.targets[index])
    }
}

impl<X, T> FromIterator<(X, T)> for InMemory<X, T> {
    fn from_iter<I: IntoIterator<Item = (X, T)>>(iter: I) -> Self {
        let (inputs, targets) = iter.into_iter().unzip();
        Self { inputs, targets }
    }
}

impl<X, T> Extend<(X, T)> for InMemory<X, T> {
    fn extend<I: IntoIterator<Item = (X, T)>>(&mut self, iter: I) {
        for (x, t) in iter {
            self.push(x, t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    fn numbered(n: usize) -> InMemory<[f32; 1], usize> {
        (0..n).map(|i| ([i as f32], i % 3)).collect()
    }

    #[test]
    fn new_rejects_count_mismatch() {
        let err = InMemory::new(vec![[0.0f32; 2]; 3], vec![0usize; 2]).unwrap_err();
        assert!(matches!(
            err,
            DataError::CountMismatch {
                inputs: 3,
                targets: 2
            }
        ));
    }

    #[test]
    fn gather_reuses_capacity() {
        let data = numbered(10);
        let (mut xs, mut ts) = (Vec::new(), Vec::new());
        data.gather_into(&[1, 2, 3, 4], &mut xs, &mut ts);
        let ptr = xs.as_ptr();
        data.gather_into(&[9, 0, 5], &mut xs, &mut ts);
        assert_eq!(xs.as_ptr(), ptr);
        assert_eq!(xs, [[9.0], [0.0], [5.0]]);
        assert_eq!(ts, [0, 0, 2]);
    }

    #[test]
    fn split_partitions_every_sample_once() {
        let (train, val) = numbered(101).split(0.2, 3);
        assert_eq!((train.len(), val.len()), (81, 20));
        let mut all: Vec<f32> = train
            .inputs()
            .iter()
            .chain(val.inputs())
            .map(|x| x[0])
            .collect();
        all.sort_by(f32::total_cmp);
        assert_eq!(all, (0..101).map(|i| i as f32).collect::<Vec<_>>());
        assert!(train.inputs().windows(2).all(|w| w[0][0] < w[1][0]));
        assert_eq!(numbered(101).split(0.2, 3).1, val);
        assert_ne!(numbered(101).split(0.2, 4).1, val);
    }

    #[test]
    fn label_checks_and_counts() {
        let data = numbered(7);
        assert_eq!(data.class_counts(3), [3, 2, 2]);
        assert!(data.check_labels(3).is_ok());
        let err = data.check_labels(2).unwrap_err();
        assert!(matches!(
            err,
            DataError::LabelOutOfRange {
                index: 2,
                label: 2,
                classes: 2
            }
        ));
    }

    #[test]
    fn maps_and_subsets() {
        let data = numbered(4)
            .map_targets(|t| [t as f32])
            .map_inputs(|x| [x[0], 1.0]);
        let sub = data.subset(&[3, 1]);
        assert_eq!(sub.inputs(), [[3.0, 1.0], [1.0, 1.0]]);
        assert_eq!(sub.targets(), [[0.0], [1.0]]);
        assert_eq!(Dataset::len(&&sub), 2);
    }
}
