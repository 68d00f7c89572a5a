//! Minibatches of sample indices, reshuffled every epoch from one seed.
//!
//! [`Batches`] describes the whole run (dataset length, batch size, seed,
//! whether to drop a short last batch); [`Batches::epoch`] gives one epoch's
//! order. Epoch `e`'s order depends only on `(seed, e)`, so a run can be
//! replayed, or resumed at any epoch, from the seed alone.

use std::prelude::rust_2024::*;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// How to cut a dataset of `len` samples into minibatches, epoch after epoch.
///
/// # Examples
/// ```
/// use constnet::data::Batches;
/// let batches = Batches::new(10, 4, 42);
/// let epoch = batches.epoch(0);
/// let sizes: Vec<usize> = epoch.iter().map(|b| b.len()).collect();
/// assert_eq!(sizes, [4, 4, 2]);
/// assert_eq!(batches.drop_last(true).epoch(0).iter().count(), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batches {
    len: usize,
    batch_size: usize,
    seed: u64,
    shuffle: bool,
    drop_last: bool,
}

impl Batches {
    /// Shuffled batches of `batch_size` over `len` samples, keeping the last
    /// short batch.
    ///
    /// # Panics
    /// If `batch_size` is zero.
    pub fn new(len: usize, batch_size: usize, seed: u64) -> Self {
        assert!(batch_size > 0, "batch size must be at least 1");
        Self {
            len,
            batch_size,
            seed,
            shuffle: true,
            drop_last: false,
        }
    }

    /// Batches in index order, every epoch the same (for evaluation).
    ///
    /// # Panics
    /// If `batch_size` is zero.
    pub fn sequential(len: usize, batch_size: usize) -> Self {
        Self::new(len, batch_size, 0).shuffle(false)
    }

    /// Whether to drop the last batch when it is shorter than the batch size.
    pub fn drop_last(self, drop_last: bool) -> Self {
        Self { drop_last, ..self }
    }

    /// Whether to shuffle (the default) or keep index order.
    pub fn shuffle(self, shuffle: bool) -> Self {
        Self { shuffle, ..self }
    }

    /// The batch size.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Number of batches per epoch.
    pub fn num_batches(&self) -> usize {
        if self.drop_last {
            self.len / self.batch_size
        } else {
            self.len.div_ceil(self.batch_size)
        }
    }

    /// Number of samples visited per epoch (all of them unless `drop_last`).
    pub fn samples_per_epoch(&self) -> usize {
        if self.drop_last {
            self.num_batches() * self.batch_size
        } else {
            self.len
        }
    }

    /// The order of epoch `epoch` (counting from 0).
    pub fn epoch(&self, epoch: u64) -> Epoch {
        let mut order = Vec::new();
        self.epoch_into(epoch, &mut order);
        Epoch {
            order,
            batch_size: self.batch_size,
            drop_last: self.drop_last,
        }
    }

    /// Writes the sample order of epoch `epoch` into `order`, reusing its capacity.
    ///
    /// The whole permutation is written; with `drop_last` its last
    /// `len % batch_size` indices are the ones left out.
    pub fn epoch_into(&self, epoch: u64, order: &mut Vec<usize>) {
        order.clear();
        order.extend(0..self.len);
        if self.shuffle {
            order.shuffle(&mut StdRng::seed_from_u64(epoch_seed(self.seed, epoch)));
        }
    }
}

/// Mixes the run seed and the epoch number (SplitMix64 finaliser), so
/// neighbouring seeds and epochs give unrelated generators.
fn epoch_seed(seed: u64, epoch: u64) -> u64 {
    let mut z = seed ^ epoch.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One epoch: a permutation of the sample indices, cut into batches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Epoch {
    order: Vec<usize>,
    batch_size: usize,
    drop_last: bool,
}

impl Epoch {
    /// The full permutation of sample indices, including any dropped tail.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// The batches, in order: slices of sample indices.
    pub fn iter(&self) -> EpochIter<'_> {
        EpochIter {
            rest: &self.order,
            batch_size: self.batch_size,
            drop_last: self.drop_last,
        }
    }
}

impl<'a> IntoIterator for &'a Epoch {
    type Item = &'a [usize];
    type IntoIter = EpochIter<'a>;

    fn into_iter(self) -> EpochIter<'a> {
        self.iter()
    }
}

/// Iterator over the batches of an [`Epoch`].
#[derive(Debug, Clone)]
pub struct EpochIter<'a> {
    rest: &'a [usize],
    batch_size: usize,
    drop_last: bool,
}

impl<'a> Iterator for EpochIter<'a> {
    type Item = &'a [usize];

    fn next(&mut self) -> Option<&'a [usize]> {
        if self.rest.is_empty() || (self.drop_last && self.rest.len() < self.batch_size) {
            return None;
        }
        let (batch, rest) = self.rest.split_at(self.batch_size.min(self.rest.len()));
        self.rest = rest;
        Some(batch)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = if self.drop_last {
            self.rest.len() / self.batch_size
        } else {
            self.rest.len().div_ceil(self.batch_size)
        };
        (n, Some(n))
    }
}

impl ExactSizeIterator for EpochIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_once_per_epoch() {
        for (len, batch) in [(0, 3), (1, 3), (10, 3), (12, 4), (100, 7), (5, 10)] {
            let batches = Batches::new(len, batch, 11);
            for e in 0..3 {
                let epoch = batches.epoch(e);
                let mut seen: Vec<usize> = epoch.iter().flatten().copied().collect();
                assert_eq!(epoch.iter().len(), batches.num_batches());
                assert!(epoch.iter().all(|b| !b.is_empty() && b.len() <= batch));
                seen.sort_unstable();
                assert_eq!(
                    seen,
                    (0..len).collect::<Vec<_>>(),
                    "len {len} batch {batch}"
                );
            }
        }
    }

    #[test]
    fn same_seed_same_order_different_seeds_differ() {
        let a = Batches::new(100, 8, 1);
        assert_eq!(a.epoch(0), Batches::new(100, 8, 1).epoch(0));
        assert_eq!(a.epoch(5), a.epoch(5));
        assert_ne!(a.epoch(0).order(), Batches::new(100, 8, 2).epoch(0).order());
        assert_ne!(a.epoch(0).order(), a.epoch(1).order());
    }

    #[test]
    fn drop_last_drops_only_the_tail() {
        let keep = Batches::new(23, 5, 3);
        let drop = keep.drop_last(true);
        assert_eq!((keep.num_batches(), drop.num_batches()), (5, 4));
        assert_eq!(drop.samples_per_epoch(), 20);
        let (k, d) = (keep.epoch(2), drop.epoch(2));
        let kb: Vec<&[usize]> = k.iter().collect();
        let db: Vec<&[usize]> = d.iter().collect();
        assert_eq!(kb[..4], db[..]);
        assert_eq!(kb[4].len(), 3);
        assert!(db.iter().all(|b| b.len() == 5));
        // An exact multiple drops nothing.
        assert_eq!(
            Batches::new(20, 5, 0)
                .drop_last(true)
                .epoch(0)
                .iter()
                .flatten()
                .count(),
            20
        );
    }

    #[test]
    fn sequential_keeps_index_order() {
        let epoch = Batches::sequential(7, 3).epoch(4);
        let batches: Vec<&[usize]> = epoch.iter().collect();
        assert_eq!(batches, [&[0, 1, 2][..], &[3, 4, 5], &[6]]);
    }

    #[test]
    #[should_panic(expected = "batch size")]
    fn zero_batch_size_panics() {
        let _ = Batches::new(3, 0, 0);
    }

    #[test]
    fn epoch_into_reuses_the_buffer() {
        let batches = Batches::new(50, 8, 9);
        let mut order = Vec::new();
        batches.epoch_into(3, &mut order);
        let ptr = order.as_ptr();
        batches.epoch_into(4, &mut order);
        assert_eq!(order.as_ptr(), ptr);
        assert_eq!(order, batches.epoch(4).order());
    }
}
