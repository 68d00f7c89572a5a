//! Random hyperparameter search: draw each trial's values from uniform or
//! log-uniform ranges, score every trial (train on a training split,
//! evaluate on a validation split), and rank the results.
//!
//! Trial `i` depends only on `(seed, i)`: its values and its own seed come
//! from a generator seeded with both, never from an earlier trial. So trials
//! run in any order and on any thread, and a run over several processes can
//! give each one a range of indices ([`Search::run_indices`]) and merge the
//! outcomes ([`Results::new`]), or let [`Search::run_across`] do both over
//! the ranks of a job; when the objective is deterministic for a trial,
//! every split of the work ranks the same trials the same way.
//!
//! Random rather than grid search after Bergstra and Bengio, [Random Search
//! for Hyper-Parameter Optimization](https://jmlr.org/papers/v13/bergstra12a.html)
//! (JMLR 2012): with the same budget it tries as many distinct values of
//! each parameter as there are trials.
//!
//! # Examples
//! ```
//! use constnet::train::search::Search;
//! let search = Search::new(7)
//!     .log_uniform("lr", 1e-6, 1e-2)
//!     .uniform("momentum", 0.8, 0.99)
//!     .trials(20);
//! // The objective trains with `trial.seed` and returns the validation
//! // score (higher is better here) and anything else worth keeping.
//! let results = search.run(|trial| {
//!     let lr = trial.get("lr");
//!     (-(lr.log10() + 3.0).abs(), ())
//! });
//! let best = &results.outcomes()[0];
//! assert!((1e-4..1e-2).contains(&best.trial.get("lr")));
//! println!("{results}");
//! ```

use std::format;
use std::prelude::rust_2024::*;

use core::fmt;
use core::ops::Range as Indices;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;

#[cfg(feature = "serde")]
use super::collective::{self, Collective};

/// Where a hyperparameter's values come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Range {
    /// Uniform in `[lo, hi)`.
    Uniform {
        /// Smallest value.
        lo: f64,
        /// Upper bound (excluded).
        hi: f64,
    },
    /// `10^U(log10 lo, log10 hi)`: every decade equally likely, as learning
    /// rates and weight decays need. Both bounds are positive.
    LogUniform {
        /// Smallest value.
        lo: f64,
        /// Upper bound (excluded).
        hi: f64,
    },
}

impl Range {
    fn sample(self, rng: &mut StdRng) -> f64 {
        let u: f64 = rng.random();
        match self {
            Range::Uniform { lo, hi } => lo + (hi - lo) * u,
            Range::LogUniform { lo, hi } => {
                let (a, b) = (libm::log10(lo), libm::log10(hi));
                // Rounding can land a hair past `hi`; the range promises `[lo, hi)`.
                libm::pow(10.0, a + (b - a) * u).clamp(lo, hi.next_down())
            }
        }
    }

    fn check(self, name: &str) {
        let (lo, hi, log) = match self {
            Range::Uniform { lo, hi } => (lo, hi, false),
            Range::LogUniform { lo, hi } => (lo, hi, true),
        };
        assert!(
            lo.is_finite() && hi.is_finite() && lo < hi && (!log || lo > 0.0),
            "hyperparameter `{name}`: the range [{lo}, {hi}) must be finite and non-empty{}",
            if log {
                ", with a positive lower bound"
            } else {
                ""
            }
        );
    }
}

/// One trial: its index, its seed and a value per hyperparameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    /// The trial's index, `0..trials`.
    pub index: usize,
    /// The seed for everything random in the trial (initialization,
    /// shuffling, dropout), derived from the search's seed and the index.
    pub seed: u64,
    names: Vec<&'static str>,
    values: Vec<f64>,
}

impl Trial {
    /// The value of hyperparameter `name`.
    ///
    /// # Panics
    /// If the search has no hyperparameter called `name`: a typo in code.
    pub fn get(&self, name: &str) -> f64 {
        match self.names.iter().position(|n| *n == name) {
            Some(k) => self.values[k],
            None => core::panic!(
                "no hyperparameter `{name}`; the search has {:?}",
                self.names
            ),
        }
    }

    /// `(name, value)` for every hyperparameter, in declaration order.
    pub fn values(&self) -> impl Iterator<Item = (&'static str, f64)> + '_ {
        self.names.iter().copied().zip(self.values.iter().copied())
    }
}

/// A random search: hyperparameter ranges, a trial count, a seed and a
/// thread count.
#[derive(Debug, Clone)]
pub struct Search {
    seed: u64,
    trials: usize,
    threads: usize,
    maximize: bool,
    params: Vec<(&'static str, Range)>,
}

impl Search {
    /// A search seeded with `seed`: 10 trials, no hyperparameters yet,
    /// higher scores better, one trial per core at a time.
    pub fn new(seed: u64) -> Self {
        Search {
            seed,
            trials: 10,
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            maximize: true,
            params: Vec::new(),
        }
    }

    /// Adds a hyperparameter drawn uniformly from `[lo, hi)`.
    ///
    /// # Panics
    /// If the range is empty or not finite.
    pub fn uniform(self, name: &'static str, lo: f64, hi: f64) -> Self {
        self.param(name, Range::Uniform { lo, hi })
    }

    /// Adds a hyperparameter drawn log-uniformly from `[lo, hi)`.
    ///
    /// # Panics
    /// If the range is empty or not finite, or `lo` is not positive.
    pub fn log_uniform(self, name: &'static str, lo: f64, hi: f64) -> Self {
        self.param(name, Range::LogUniform { lo, hi })
    }

    /// Adds a hyperparameter with its range.
    ///
    /// # Panics
    /// As [`uniform`](Self::uniform) and [`log_uniform`](Self::log_uniform).
    pub fn param(mut self, name: &'static str, range: Range) -> Self {
        range.check(name);
        self.params.push((name, range));
        self
    }

    /// The number of trials.
    pub fn trials(mut self, trials: usize) -> Self {
        self.trials = trials;
        self
    }

    /// Runs up to `threads` trials at once (at least 1). Give each trial's
    /// training one thread, so the two levels do not compete for cores.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Ranks lower scores first (losses, errors) instead of higher.
    pub fn minimize(mut self) -> Self {
        self.maximize = false;
        self
    }

    /// Trial `index`: a function of the search's seed and `index` alone.
    pub fn trial(&self, index: usize) -> Trial {
        let mut rng = StdRng::seed_from_u64(mix(self.seed, index as u64));
        let seed = rng.random();
        Trial {
            index,
            seed,
            names: self.params.iter().map(|(n, _)| *n).collect(),
            values: self
                .params
                .iter()
                .map(|(_, r)| r.sample(&mut rng))
                .collect(),
        }
    }

    /// Runs every trial through `objective`, which returns the trial's score
    /// (on a validation split) and whatever the caller wants to keep with it
    /// (a learning curve, say), and ranks the outcomes.
    ///
    /// Trials run on a pool of [`threads`](Self::threads) threads; the
    /// ranking is the same for any thread count when `objective` depends
    /// only on its trial.
    pub fn run<T, F>(&self, objective: F) -> Results<T>
    where
        T: Send,
        F: Fn(&Trial) -> (f64, T) + Sync,
    {
        self.run_indices(0..self.trials, objective)
    }

    /// Runs the trials `indices` only, for spreading one search over
    /// processes: each runs its share and [`Results::new`] merges them.
    pub fn run_indices<T, F>(&self, indices: Indices<usize>, objective: F) -> Results<T>
    where
        T: Send,
        F: Fn(&Trial) -> (f64, T) + Sync,
    {
        let run = |i: usize| {
            let trial = self.trial(i);
            let (score, detail) = objective(&trial);
            Outcome {
                trial,
                score,
                detail,
            }
        };
        let outcomes = if self.threads == 1 {
            indices.map(run).collect()
        } else {
            match rayon::ThreadPoolBuilder::new()
                .num_threads(self.threads)
                .build()
            {
                Ok(pool) => pool.install(|| indices.into_par_iter().map(run).collect()),
                // No threads to be had: the same trials, one after another.
                Err(_) => indices.map(run).collect(),
            }
        };
        Results::new(outcomes, self.maximize)
    }
}

#[cfg(feature = "serde")]
impl Search {
    /// Runs the trials over the ranks of `group` (an MPI job, say): rank
    /// `r` of `R` runs trials `r·n/R .. (r+1)·n/R` on its own threads, and
    /// every rank receives every outcome, ranked as [`run`](Self::run)
    /// ranks them. Each rank must call it alike; rank 0 usually reports.
    ///
    /// # Panics
    /// If a trial's `T` cannot be serialized (postcard: a type whose
    /// length is unknown up front, such as an iterator).
    pub fn run_across<T, F>(&self, group: &dyn Collective, objective: F) -> Results<T>
    where
        T: Send + serde::Serialize + serde::de::DeserializeOwned,
        F: Fn(&Trial) -> (f64, T) + Sync,
    {
        let (rank, ranks) = (group.rank(), group.ranks());
        let mine = rank * self.trials / ranks..(rank + 1) * self.trials / ranks;
        let kept: Vec<(usize, f64, T)> = self
            .run_indices(mine, objective)
            .into_outcomes()
            .into_iter()
            .map(|o| (o.trial.index, o.score, o.detail))
            .collect();
        let bytes = postcard::to_allocvec(&kept)
            .unwrap_or_else(|e| core::panic!("a trial's outcome cannot be serialized: {e}"));
        let mut outcomes = Vec::with_capacity(self.trials);
        for part in collective::gather_bytes(group, &bytes) {
            let theirs: Vec<(usize, f64, T)> = postcard::from_bytes(&part)
                .unwrap_or_else(|e| core::panic!("another rank sent unreadable outcomes: {e}"));
            outcomes.extend(theirs.into_iter().map(|(index, score, detail)| Outcome {
                trial: self.trial(index),
                score,
                detail,
            }));
        }
        Results::new(outcomes, self.maximize)
    }
}

/// SplitMix64 of the seed and trial index, so neighbouring trials get
/// unrelated generators.
fn mix(seed: u64, index: u64) -> u64 {
    let mut z = seed.wrapping_add(index.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One scored trial.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome<T> {
    /// The trial.
    pub trial: Trial,
    /// Its score on the validation split.
    pub score: f64,
    /// What the objective kept besides the score.
    pub detail: T,
}

/// Outcomes ranked best first; `Display` prints them as a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Results<T> {
    outcomes: Vec<Outcome<T>>,
}

impl<T> Results<T> {
    /// Ranks `outcomes` best first (highest score when `maximize`, else
    /// lowest); a NaN score ranks last, and equal scores by trial index.
    pub fn new(mut outcomes: Vec<Outcome<T>>, maximize: bool) -> Self {
        outcomes.sort_by(|a, b| {
            let key = |o: &Outcome<T>| {
                if o.score.is_nan() {
                    f64::INFINITY
                } else if maximize {
                    -o.score
                } else {
                    o.score
                }
            };
            key(a)
                .total_cmp(&key(b))
                .then(a.score.is_nan().cmp(&b.score.is_nan()))
                .then(a.trial.index.cmp(&b.trial.index))
        });
        Results { outcomes }
    }

    /// Every outcome, best first.
    pub fn outcomes(&self) -> &[Outcome<T>] {
        &self.outcomes
    }

    /// The outcomes, best first.
    pub fn into_outcomes(self) -> Vec<Outcome<T>> {
        self.outcomes
    }
}

impl<T> fmt::Display for Results<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self
            .outcomes
            .first()
            .map(|o| o.trial.names.clone())
            .unwrap_or_default();
        write!(f, "{:>4} {:>5} {:>10}", "rank", "trial", "score")?;
        for name in &names {
            write!(f, " {name:>12}")?;
        }
        writeln!(f)?;
        for (rank, o) in self.outcomes.iter().enumerate() {
            write!(f, "{:>4} {:>5} {:>10.4}", rank + 1, o.trial.index, o.score)?;
            for v in &o.trial.values {
                write!(f, " {:>12}", format!("{v:.3e}"))?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search() -> Search {
        Search::new(11)
            .log_uniform("lr", 1e-6, 1e-2)
            .uniform("momentum", 0.5, 0.9)
            .trials(200)
    }

    /// A deterministic objective with a seed-dependent part, as training is.
    fn objective(t: &Trial) -> (f64, u64) {
        let noise = (t.seed % 1000) as f64 * 1e-6;
        (-(t.get("lr").log10() + 3.0).powi(2) + noise, t.seed)
    }

    #[test]
    fn search_draws_inside_its_ranges_and_covers_them() {
        let trials: Vec<Trial> = (0..2000).map(|i| search().trial(i)).collect();
        let lr: Vec<f64> = trials.iter().map(|t| t.get("lr")).collect();
        let m: Vec<f64> = trials.iter().map(|t| t.get("momentum")).collect();
        assert!(lr.iter().all(|v| (1e-6..1e-2).contains(v)));
        assert!(m.iter().all(|v| (0.5..0.9).contains(v)));
        // Log-uniform: each of the four decades holds about a quarter.
        for decade in -6..-2 {
            let lo = 10f64.powi(decade);
            let n = lr.iter().filter(|&&v| (lo..lo * 10.0).contains(&v)).count();
            assert!((400..600).contains(&n), "decade 1e{decade}: {n} of 2000");
        }
        let below = m.iter().filter(|&&v| v < 0.7).count();
        assert!(
            (900..1100).contains(&below),
            "{below} of 2000 below the middle"
        );
    }

    #[test]
    fn search_is_deterministic_per_seed_and_trial() {
        let a = search().threads(1).run(objective);
        let b = search().threads(1).run(objective);
        assert_eq!(a, b);
        let c = Search::new(12)
            .log_uniform("lr", 1e-6, 1e-2)
            .uniform("momentum", 0.5, 0.9)
            .trials(200)
            .threads(1)
            .run(objective);
        assert_ne!(a.outcomes()[0].trial, c.outcomes()[0].trial);
        // Trial i depends on (seed, i) only, not on the trial count.
        assert_eq!(search().trials(5).trial(3), search().trial(3));
    }

    #[test]
    fn search_in_parallel_equals_serial_and_splits_merge() {
        let serial = search().threads(1).run(objective);
        let parallel = search().threads(4).run(objective);
        assert_eq!(serial, parallel);
        let s = search().threads(1);
        let mut parts = s.run_indices(0..70, objective).into_outcomes();
        parts.extend(s.run_indices(70..200, objective).into_outcomes());
        assert_eq!(Results::new(parts, true), serial);
    }

    #[test]
    fn search_ranks_best_first_with_nan_last() {
        let results = search().trials(50).threads(1).run(|t| {
            let score = if t.index == 0 { f64::NAN } else { t.get("lr") };
            (score, ())
        });
        let scores: Vec<f64> = results.outcomes().iter().map(|o| o.score).collect();
        assert!(scores[..49].windows(2).all(|w| w[0] >= w[1]));
        assert!(scores[49].is_nan());
        let minimized = search()
            .trials(50)
            .threads(1)
            .minimize()
            .run(|t| (t.get("lr"), ()));
        assert!(
            minimized
                .outcomes()
                .windows(2)
                .all(|w| w[0].score <= w[1].score)
        );
        let table = format!("{results}");
        assert!(table.starts_with("rank trial      score           lr     momentum\n"));
        assert_eq!(table.lines().count(), 51);
    }

    #[test]
    #[should_panic(
        expected = "hyperparameter `lr`: the range [0, 1) must be finite and non-empty, with a positive lower bound"
    )]
    fn search_refuses_a_log_range_from_zero() {
        let _ = Search::new(0).log_uniform("lr", 0.0, 1.0);
    }
}
