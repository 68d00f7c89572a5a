//! Seeded train/validation splits of sample indices, plain or stratified.
//!
//! Both functions return `(train, validation)` index lists, each ascending,
//! that together hold every index below the dataset length exactly once.
//! [`InMemory::split`](super::InMemory::split) and
//! [`InMemory::stratified_split`](super::InMemory::stratified_split) apply them.

use std::prelude::rust_2024::*;

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// The validation fraction the examples use: 20 %.
pub const DEFAULT_VALIDATION: f64 = 0.2;

/// Splits `0..len` at random: `round(len * validation)` indices go to validation.
///
/// # Panics
/// If `validation` is not within `0.0..=1.0`.
///
/// # Examples
/// ```
/// use constnet::data::split_indices;
/// let (train, val) = split_indices(10, 0.3, 42);
/// assert_eq!((train.len(), val.len()), (7, 3));
/// ```
pub fn split_indices(len: usize, validation: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    check_fraction(validation);
    let mut order: Vec<usize> = (0..len).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed));
    let val_len = share(len, validation).min(len);
    finish(order, val_len)
}

/// Splits `0..labels.len()` so that each class contributes its share to validation.
///
/// Per class `c` with `n_c` samples, validation gets `floor(n_c * validation)`
/// samples plus possibly one more: the remaining
/// `round(len * validation) - Σ floor(…)` samples go to the classes with the
/// largest fractional parts (largest-remainder rounding). So every class is
/// within one sample of its exact proportion, and the total matches
/// [`split_indices`].
///
/// # Panics
/// If `validation` is not within `0.0..=1.0`.
pub fn stratified_split_indices(
    labels: &[usize],
    validation: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    check_fraction(validation);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut by_class: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &label) in labels.iter().enumerate() {
        by_class.entry(label).or_default().push(i);
    }

    // Largest-remainder apportionment of the validation total over the classes.
    let exact: Vec<f64> = by_class
        .values()
        .map(|v| v.len() as f64 * validation)
        .collect();
    let mut quota: Vec<usize> = exact.iter().map(|&q| q.floor() as usize).collect();
    let total = share(labels.len(), validation);
    let mut rest = total.saturating_sub(quota.iter().sum());
    let mut by_remainder: Vec<usize> = (0..quota.len()).collect();
    by_remainder.sort_by(|&a, &b| {
        let (ra, rb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for k in by_remainder {
        if rest == 0 {
            break;
        }
        if (quota[k] as f64) < exact[k] {
            quota[k] += 1;
            rest -= 1;
        }
    }

    let mut train = Vec::with_capacity(labels.len());
    let mut val = Vec::with_capacity(total);
    for (mut members, q) in by_class.into_values().zip(quota) {
        members.shuffle(&mut rng);
        let cut = members.len().saturating_sub(q);
        let (t, v) = members.split_at(cut);
        train.extend_from_slice(t);
        val.extend_from_slice(v);
    }
    train.sort_unstable();
    val.sort_unstable();
    (train, val)
}

/// `round(len * fraction)`.
fn share(len: usize, fraction: f64) -> usize {
    (len as f64 * fraction).round() as usize
}

fn check_fraction(validation: f64) {
    assert!(
        (0.0..=1.0).contains(&validation),
        "validation fraction must be within 0..=1, found {validation}"
    );
}

/// The last `val_len` of a shuffled order become validation; both sorted.
fn finish(mut order: Vec<usize>, val_len: usize) -> (Vec<usize>, Vec<usize>) {
    let mut val = order.split_off(order.len() - val_len);
    order.sort_unstable();
    val.sort_unstable();
    (order, val)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    #[test]
    fn split_covers_every_index_once() {
        let (train, val) = split_indices(1000, DEFAULT_VALIDATION, 1);
        assert_eq!(val.len(), 200);
        let mut all = [train, val].concat();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn split_is_seeded() {
        assert_eq!(split_indices(50, 0.2, 9), split_indices(50, 0.2, 9));
        assert_ne!(split_indices(50, 0.2, 9), split_indices(50, 0.2, 10));
        assert_eq!(split_indices(5, 0.0, 1).1, Vec::<usize>::new());
        assert_eq!(split_indices(5, 1.0, 1).0, Vec::<usize>::new());
        assert_eq!(split_indices(0, 0.5, 1), (vec![], vec![]));
    }

    #[test]
    #[should_panic(expected = "validation fraction")]
    fn split_rejects_bad_fraction() {
        let _ = split_indices(5, 1.5, 0);
    }

    #[test]
    fn stratified_split_keeps_class_proportions() {
        // Unbalanced classes: 503, 211, 97, 13, 1 samples.
        let sizes = [503usize, 211, 97, 13, 1];
        let mut labels: Vec<usize> = sizes
            .iter()
            .enumerate()
            .flat_map(|(c, &n)| vec![c; n])
            .collect();
        labels.shuffle(&mut StdRng::seed_from_u64(5));
        for (fraction, seed) in [(0.2, 0), (0.2, 1), (0.33, 2), (0.05, 3)] {
            let (train, val) = stratified_split_indices(&labels, fraction, seed);
            assert_eq!(train.len() + val.len(), labels.len());
            assert_eq!(val.len(), share(labels.len(), fraction));
            for (c, &n) in sizes.iter().enumerate() {
                let in_val = val.iter().filter(|&&i| labels[i] == c).count();
                let exact = n as f64 * fraction;
                assert!(
                    (in_val as f64 - exact).abs() < 1.0,
                    "class {c}: {in_val} in validation, exact share {exact}"
                );
            }
            let mut all = [train, val].concat();
            all.sort_unstable();
            assert_eq!(all, (0..labels.len()).collect::<Vec<_>>());
        }
    }

    #[test]
    fn stratified_split_is_seeded() {
        let labels: Vec<usize> = (0..300).map(|i| i % 4).collect();
        let a = stratified_split_indices(&labels, 0.2, 7);
        assert_eq!(a, stratified_split_indices(&labels, 0.2, 7));
        assert_ne!(a, stratified_split_indices(&labels, 0.2, 8));
    }
}
