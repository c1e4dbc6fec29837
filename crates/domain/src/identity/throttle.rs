//! Brute-force protection: failed sign-in attempts are counted per key (the normalised email
//! address, and separately the client IP), and after a few free failures each further attempt
//! must wait a delay that doubles, up to a ceiling. There is no permanent lockout, which an
//! attacker could trigger on purpose: the count is forgotten some time after the last failure,
//! and a success clears it.
//!
//! This is plain data with the clock passed in. The counts live in the database
//! (`gatehouse_core::identity::throttles`), so every node of a deployment shares them and N nodes
//! allow exactly the attempts one would; [`ThrottlePolicy::admit`] decides each attempt. Unknown
//! and known emails are counted alike, so the delay reveals nothing.

use crate::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures allowed before any delay.
    pub free_failures: u32,
    /// The first delay, in seconds; each further failure doubles it.
    pub base_delay: i64,
    /// The longest delay, in seconds.
    pub max_delay: i64,
    /// Seconds after the last failure when the count is forgotten.
    pub forget_after: i64,
}

impl ThrottlePolicy {
    /// Per account: 5 free failures, then 1 s, 2 s, 4 s, … up to 15 minutes; forgotten after a day.
    pub const ACCOUNT: Self = Self {
        free_failures: 5,
        base_delay: 1,
        max_delay: 15 * 60,
        forget_after: 24 * 3600,
    };
    /// Per IP address (many people may share one behind NAT): 20 free failures, then growing
    /// delays up to 5 minutes; forgotten after an hour.
    pub const IP: Self = Self {
        free_failures: 20,
        base_delay: 1,
        max_delay: 5 * 60,
        forget_after: 3600,
    };

    /// Failures between two `gatehouse.signin.failed` events after the first.
    pub const ALERT_EVERY: u32 = 10;

    /// Is this failure count "repeated failures" worth telling the account's organizations about?
    /// The last free failure is (the moment delays begin), and then every [`Self::ALERT_EVERY`]th
    /// failure after it — never once per failure, so an attack cannot flood the receivers.
    pub fn alerts_at(&self, failures: u32) -> bool {
        failures >= self.free_failures.max(1)
            && (failures - self.free_failures.max(1)).is_multiple_of(Self::ALERT_EVERY)
    }

    /// Decides an attempt for a key whose stored count is `count` (failures, last failure):
    /// `Ok(n)` with the count to store while the attempt runs — it counts as a failure until it
    /// succeeds, so attempts made at the same moment on several nodes cannot all slip through —
    /// or `Err(seconds)` to wait.
    pub fn admit(&self, count: Option<(u32, Timestamp)>, now: Timestamp) -> Result<u32, i64> {
        let Some((failures, last)) = count else { return Ok(1) };
        if now - last >= self.forget_after {
            return Ok(1);
        }
        let ready_at = last + self.delay_after(failures);
        if now >= ready_at {
            Ok(failures.saturating_add(1))
        } else {
            Err(ready_at - now)
        }
    }

    /// The delay owed after `failures` failures.
    pub fn delay_after(&self, failures: u32) -> i64 {
        if failures <= self.free_failures {
            return 0;
        }
        let doublings = (failures - self.free_failures - 1).min(30);
        self.base_delay.saturating_mul(1i64 << doublings).min(self.max_delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admit_counts_each_attempt_and_then_makes_it_wait() {
        let p = ThrottlePolicy::ACCOUNT;
        let mut count = None;
        for n in 1..=p.free_failures + 1 {
            assert_eq!(p.admit(count, 100), Ok(n), "attempt {n} is free");
            count = Some((n, 100));
        }
        // Six failures owe one second after the last.
        assert_eq!(p.admit(count, 100), Err(1));
        assert_eq!(p.admit(count, 101), Ok(p.free_failures + 2));
        // A count is forgotten a day after its last failure.
        assert_eq!(p.admit(Some((50, 100)), 100 + p.forget_after), Ok(1));
    }

    const P: ThrottlePolicy = ThrottlePolicy {
        free_failures: 3,
        base_delay: 2,
        max_delay: 30,
        forget_after: 1000,
    };

    #[test]
    fn delays_grow_after_the_free_failures_up_to_the_ceiling() {
        let delays: Vec<i64> = (0..=9).map(|n| P.delay_after(n)).collect();
        assert_eq!(delays, [0, 0, 0, 0, 2, 4, 8, 16, 30, 30]);
        assert_eq!(ThrottlePolicy::ACCOUNT.delay_after(u32::MAX), 900);
    }

    #[test]
    fn repeated_failures_alert_at_the_threshold_and_then_every_tenth() {
        let at: Vec<u32> = (0..=40).filter(|n| ThrottlePolicy::ACCOUNT.alerts_at(*n)).collect();
        assert_eq!(at, [5, 15, 25, 35]);
    }

    #[test]
    fn a_throttled_key_waits_and_then_may_try_again() {
        // Three free failures are stored; the fourth attempt is admitted, and after it a delay is owed.
        assert_eq!(P.admit(Some((3, 100)), 100), Ok(4));
        assert_eq!(P.admit(Some((4, 100)), 100), Err(2));
        assert_eq!(P.admit(Some((4, 100)), 102), Ok(5));
        assert_eq!(P.admit(Some((5, 102)), 103), Err(3));
        assert_eq!(P.admit(None, 100), Ok(1), "a key never seen starts afresh");
    }

    #[test]
    fn there_is_no_permanent_lockout() {
        assert_eq!(P.admit(Some((50, 49)), 50), Err(29), "the ceiling applies");
        assert_eq!(P.admit(Some((50, 49)), 49 + 30), Ok(51));
        assert_eq!(
            P.admit(Some((50, 49)), 49 + 1000),
            Ok(1),
            "forgotten after a quiet period"
        );
    }
}
