//! Numbers written for people: wall times in a unit that fits
//! ([`Elapsed`]) and counts with their noun in the right number
//! ([`count`]). The trainer's progress lines and the examples print
//! through these, so every run reports time and counts the same way.
//!
//! Both are [`Display`](core::fmt::Display) values that allocate nothing.

use core::fmt;
use core::time::Duration;

/// A wall time written in a unit that fits: `3.4 ms`, `850 ms`, `12.3 s`,
/// `2 min 5 s`, `1 h 12 min`.
///
/// Below 10 ms it shows tenths of a millisecond, below 1 s whole
/// milliseconds, below a minute tenths of a second, below an hour minutes
/// and seconds, and above that hours and minutes. Each value is rounded to
/// the nearest unit shown, and a value that rounds up to the next range is
/// written in that range (`999.7 ms` is `1.0 s`, not `1000 ms`).
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use constnet_runtime::text::Elapsed;
///
/// assert_eq!(Elapsed(Duration::from_millis(850)).to_string(), "850 ms");
/// assert_eq!(Elapsed(Duration::from_millis(12_345)).to_string(), "12.3 s");
/// assert_eq!(Elapsed(Duration::from_secs(125)).to_string(), "2 min 5 s");
/// assert_eq!(Elapsed::secs(0.0034).to_string(), "3.4 ms");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Elapsed(pub Duration);

impl Elapsed {
    /// The wall time of `seconds` (as `EpochRecord::seconds` holds it); a
    /// negative or NaN value counts as zero, one too large for a
    /// [`Duration`] as its maximum.
    pub fn secs(seconds: f64) -> Elapsed {
        let d = if seconds.is_nan() || seconds <= 0.0 {
            Duration::ZERO
        } else {
            Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX)
        };
        Elapsed(d)
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Integer arithmetic on nanoseconds, rounded half up per unit, so
        // that the range is chosen from the value as it will be shown.
        let nanos = self.0.as_nanos();
        let round = |unit: u128| (nanos + unit / 2) / unit;
        let tenth_ms = round(100_000);
        if tenth_ms < 100 {
            return write!(f, "{}.{} ms", tenth_ms / 10, tenth_ms % 10);
        }
        let ms = round(1_000_000);
        if ms < 1_000 {
            return write!(f, "{ms} ms");
        }
        let tenth_s = round(100_000_000);
        if tenth_s < 600 {
            return write!(f, "{}.{} s", tenth_s / 10, tenth_s % 10);
        }
        let s = round(1_000_000_000);
        if s < 3_600 {
            return write!(f, "{} min {} s", s / 60, s % 60);
        }
        let min = round(60_000_000_000);
        write!(f, "{} h {} min", min / 60, min % 60)
    }
}

/// `n` followed by `one` when `n` is 1, else by `many`: `1 epoch`,
/// `2 epochs`, `0 epochs`.
///
/// Both forms are given, since English plurals are not always `+ s`
/// (`batch`, `batches`). `n` is any integer type.
///
/// # Examples
/// ```
/// use constnet_runtime::text::count;
///
/// assert_eq!(count(1usize, "epoch", "epochs").to_string(), "1 epoch");
/// assert_eq!(count(3u64, "batch", "batches").to_string(), "3 batches");
/// ```
pub fn count<'a, N>(n: N, one: &'a str, many: &'a str) -> Count<'a, N>
where
    N: fmt::Display + PartialEq + From<u8>,
{
    Count { n, one, many }
}

/// A number with its noun, made by [`count`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count<'a, N> {
    n: N,
    one: &'a str,
    many: &'a str,
}

impl<N: fmt::Display + PartialEq + From<u8>> fmt::Display for Count<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noun = if self.n == N::from(1) {
            self.one
        } else {
            self.many
        };
        write!(f, "{} {noun}", self.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    fn shown(nanos: u64) -> std::string::String {
        Elapsed(Duration::from_nanos(nanos)).to_string()
    }

    #[test]
    fn elapsed_picks_the_unit_from_the_rounded_value() {
        const MS: u64 = 1_000_000;
        const S: u64 = 1_000 * MS;
        assert_eq!(shown(0), "0.0 ms");
        assert_eq!(shown(40_000), "0.0 ms");
        assert_eq!(shown(50_000), "0.1 ms");
        assert_eq!(shown(3_449_999), "3.4 ms");
        assert_eq!(shown(9_949_999), "9.9 ms");
        assert_eq!(shown(9_950_000), "10 ms");
        assert_eq!(shown(850 * MS), "850 ms");
        assert_eq!(shown(999_499_999), "999 ms");
        assert_eq!(shown(999_500_000), "1.0 s");
        assert_eq!(shown(S), "1.0 s");
        assert_eq!(shown(12_345 * MS), "12.3 s");
        assert_eq!(shown(59_949 * MS), "59.9 s");
        assert_eq!(shown(59_950 * MS), "1 min 0 s");
        assert_eq!(shown(125 * S), "2 min 5 s");
        assert_eq!(shown(3_599 * S), "59 min 59 s");
        assert_eq!(shown(3_599 * S + 500 * MS), "1 h 0 min");
        assert_eq!(shown(4_320 * S), "1 h 12 min");
        assert_eq!(shown(100 * 3_600 * S), "100 h 0 min");
    }

    #[test]
    fn elapsed_from_seconds_clamps_what_is_not_a_duration() {
        assert_eq!(Elapsed::secs(0.85).to_string(), "850 ms");
        assert_eq!(Elapsed::secs(-1.0), Elapsed(Duration::ZERO));
        assert_eq!(Elapsed::secs(f64::NAN), Elapsed(Duration::ZERO));
        assert_eq!(Elapsed::secs(f64::INFINITY), Elapsed(Duration::MAX));
        // The largest duration still prints.
        assert!(Elapsed(Duration::MAX).to_string().ends_with(" min"));
    }

    #[test]
    fn count_uses_the_singular_for_one_only() {
        assert_eq!(count(0usize, "epoch", "epochs").to_string(), "0 epochs");
        assert_eq!(count(1usize, "epoch", "epochs").to_string(), "1 epoch");
        assert_eq!(count(2usize, "epoch", "epochs").to_string(), "2 epochs");
        assert_eq!(count(1u64, "batch", "batches").to_string(), "1 batch");
        assert_eq!(count(12u32, "batch", "batches").to_string(), "12 batches");
    }
}
