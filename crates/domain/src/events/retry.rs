//! When to try a delivery again: a schedule of delays with exponential growth, spread by random
//! jitter so that endpoints recovering from an outage are not hit by every retry at once, and a
//! receiver's `Retry-After` honoured within bounds.
//!
//! The default schedule attempts immediately, then after 5 s, 1 min, 5 min, 30 min, 2 h, 5 h,
//! 10 h and 14 h: nine attempts over about 31.6 hours, so an endpoint that is down for a whole day
//! still gets its events.

use rand::Rng;

use crate::{DomainError, Timestamp};

/// Delays before each attempt, in seconds: the first is before the first attempt.
pub const DEFAULT_SCHEDULE: [u32; 9] = [0, 5, 60, 300, 1800, 7200, 18000, 36000, 50400];
/// Jitter: each delay is spread uniformly over ±20 % of itself.
pub const JITTER: f64 = 0.2;
/// `Retry-After` never pushes a retry later than a day.
pub const MAX_RETRY_AFTER: u64 = 86_400;
/// Longest delay a configured schedule may contain (a week).
pub const MAX_SCHEDULED_DELAY: u32 = 7 * 86_400;

/// The retry schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<u32>,
}

impl Default for RetrySchedule {
    fn default() -> Self {
        Self {
            delays: DEFAULT_SCHEDULE.to_vec(),
        }
    }
}

impl RetrySchedule {
    /// A schedule from configuration: 1–30 delays in seconds, each at most a week.
    pub fn new(delays: Vec<u32>) -> Result<Self, DomainError> {
        if delays.is_empty() || delays.len() > 30 {
            return Err(DomainError::new(
                "invalid_retry_schedule",
                "a retry schedule has 1–30 delays (seconds before each attempt)",
            ));
        }
        if delays.iter().any(|d| *d > MAX_SCHEDULED_DELAY) {
            return Err(DomainError::new(
                "invalid_retry_schedule",
                "a retry delay may be at most one week (604800 seconds)",
            ));
        }
        Ok(Self { delays })
    }

    pub fn delays(&self) -> &[u32] {
        &self.delays
    }

    /// How many attempts a delivery gets in all.
    pub fn max_attempts(&self) -> u32 {
        self.delays.len() as u32
    }

    /// The seconds between `now` (just after the `attempts_made`-th failed attempt) and the next
    /// attempt, or `None` when the schedule is exhausted. `retry_after` is what the receiver asked
    /// for; it is honoured when it is longer than the scheduled delay, up to twice that delay (at
    /// least a minute, at most a day).
    pub fn next_delay(&self, attempts_made: u32, retry_after: Option<u64>, rng: &mut impl Rng) -> Option<i64> {
        let scheduled = u64::from(*self.delays.get(attempts_made as usize)?);
        let jittered = jitter(scheduled, rng);
        let delay = match retry_after {
            Some(asked) => {
                let ceiling = scheduled.saturating_mul(2).clamp(60, MAX_RETRY_AFTER);
                asked.clamp(jittered.min(ceiling), ceiling.max(jittered))
            }
            None => jittered,
        };
        Some(delay as i64)
    }
}

fn jitter(delay: u64, rng: &mut impl Rng) -> u64 {
    if delay == 0 {
        return 0;
    }
    let spread = (delay as f64 * JITTER).round() as i64;
    let offset = rng.gen_range(-spread..=spread);
    (delay as i64 + offset).max(1) as u64
}

/// Reads a `Retry-After` value: delay-seconds, or an HTTP date (RFC 9110 §10.2.3) taken relative
/// to `now`. Anything else is ignored.
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs);
    }
    let at = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    Some(u64::try_from(at.unix_timestamp() - now).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    #[test]
    fn the_default_schedule_covers_more_than_a_day() {
        let s = RetrySchedule::default();
        assert_eq!(s.max_attempts(), 9);
        let total: u64 = s.delays().iter().map(|d| u64::from(*d)).sum();
        assert!(total > 24 * 3600, "{total}");
        assert_eq!(s.delays()[0], 0, "the first attempt is immediate");
    }

    #[test]
    fn delays_follow_the_schedule_with_bounded_jitter() {
        let s = RetrySchedule::default();
        let mut rng = StdRng::seed_from_u64(1);
        for (made, scheduled) in DEFAULT_SCHEDULE.iter().enumerate() {
            for _ in 0..200 {
                let d = s.next_delay(made as u32, None, &mut rng).unwrap();
                let lo = (f64::from(*scheduled) * 0.8).floor() as i64;
                let hi = (f64::from(*scheduled) * 1.2).ceil() as i64;
                assert!((lo..=hi).contains(&d), "attempt {made}: {d} not in {lo}..={hi}");
            }
        }
        assert_eq!(s.next_delay(9, None, &mut rng), None, "exhausted after nine attempts");
        assert_eq!(s.next_delay(0, None, &mut rng), Some(0));
    }

    #[test]
    fn jitter_actually_spreads_retries() {
        let s = RetrySchedule::default();
        let mut rng = StdRng::seed_from_u64(7);
        let seen: std::collections::BTreeSet<i64> =
            (0..100).map(|_| s.next_delay(4, None, &mut rng).unwrap()).collect();
        assert!(seen.len() > 20, "only {} distinct delays", seen.len());
    }

    #[test]
    fn retry_after_is_honoured_within_bounds() {
        let s = RetrySchedule::default();
        let mut rng = StdRng::seed_from_u64(3);
        // Longer than scheduled (5 s) but under the ceiling (60 s): honoured exactly.
        assert_eq!(s.next_delay(1, Some(30), &mut rng), Some(30));
        // Absurdly long: capped at max(2 × scheduled, 60 s).
        assert_eq!(s.next_delay(1, Some(1_000_000), &mut rng), Some(60));
        assert_eq!(s.next_delay(5, Some(1_000_000), &mut rng), Some(14_400));
        // Shorter than scheduled: the schedule wins (never retry sooner than planned).
        let d = s.next_delay(3, Some(1), &mut rng).unwrap();
        assert!(d >= 240, "{d}");
        // Retry-After never stretches a retry beyond a day; a scheduled delay may be longer.
        let long = RetrySchedule::new(vec![0, 200_000]).unwrap();
        let d = long.next_delay(1, Some(1_000_000), &mut rng).unwrap();
        assert!((160_000..=240_000).contains(&d), "{d}");
        let mid = RetrySchedule::new(vec![0, 50_000]).unwrap();
        assert_eq!(mid.next_delay(1, Some(1_000_000), &mut rng), Some(86_400));
    }

    #[test]
    fn configured_schedules_are_checked() {
        assert!(RetrySchedule::new(vec![]).is_err());
        assert!(RetrySchedule::new(vec![0; 31]).is_err());
        assert!(RetrySchedule::new(vec![0, 604_801]).is_err());
        assert_eq!(RetrySchedule::new(vec![0, 1, 2]).unwrap().max_attempts(), 3);
    }

    #[test]
    fn retry_after_values_parse() {
        let now = 1_445_412_480; // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(parse_retry_after("120", now), Some(120));
        assert_eq!(parse_retry_after(" 5 ", now), Some(5));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:30:00 GMT", now), Some(120));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), Some(0));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }
}
