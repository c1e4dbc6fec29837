//! Registration health: the state machine that stops Gatehouse from hammering endpoints that keep
//! failing, and tells their owners.
//!
//! ```text
//!            ≥ 80 % of ≥ 10 attempts in 24 h failed
//!   active ────────────────────────────────────────▶ unstable
//!     ▲                                                 │ 24 h later, judged again:
//!     └──────────── window healthy ◀────────────────────┤
//!                                                       └── still failing ──▶ disabled
//!   any state ── 410 Gone ──▶ disabled
//!   disabled / unverified ── challenge passes (re-enable) ──▶ active
//! ```
//! The thresholds follow Adobe I/O Events' published policy, so receivers moving between the two
//! see the same behaviour.

use super::model::RegistrationStatus;
use crate::Timestamp;

/// The window attempts are counted over.
pub const WINDOW: i64 = 86_400;
/// Fewer attempts than this in the window never change health.
pub const MIN_ATTEMPTS: u64 = 10;
/// How long an unstable registration is watched before it is judged again.
pub const PROBATION: i64 = 86_400;

/// Attempts in the last [`WINDOW`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    pub attempts: u64,
    pub failures: u64,
}

impl Window {
    /// At least [`MIN_ATTEMPTS`] attempts, of which at least 80 % failed.
    pub fn is_failing(self) -> bool {
        self.attempts >= MIN_ATTEMPTS && self.failures.saturating_mul(5) >= self.attempts.saturating_mul(4)
    }
}

/// Why a registration changed state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    BecameUnstable,
    Recovered,
    Disabled,
}

impl Transition {
    pub fn to(self) -> RegistrationStatus {
        match self {
            Self::BecameUnstable => RegistrationStatus::Unstable,
            Self::Recovered => RegistrationStatus::Active,
            Self::Disabled => RegistrationStatus::Disabled,
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Self::BecameUnstable => "at least 80% of the last day's delivery attempts failed",
            Self::Recovered => "deliveries succeed again",
            Self::Disabled => "deliveries kept failing for a day after the registration became unstable",
        }
    }
}

/// Judges a registration after attempts were recorded, at `now`.
pub fn evaluate(
    status: RegistrationStatus,
    unstable_since: Option<Timestamp>,
    window: Window,
    now: Timestamp,
) -> Option<Transition> {
    match status {
        RegistrationStatus::Active if window.is_failing() => Some(Transition::BecameUnstable),
        RegistrationStatus::Unstable => {
            let since = unstable_since.unwrap_or(now);
            if now - since < PROBATION {
                None
            } else if window.is_failing() {
                Some(Transition::Disabled)
            } else {
                Some(Transition::Recovered)
            }
        }
        _ => None,
    }
}

/// The reason recorded when a receiver answers `410 Gone`.
pub const GONE_REASON: &str = "the endpoint answered 410 Gone";

#[cfg(test)]
mod tests {
    use super::*;
    use RegistrationStatus::*;

    const NOW: Timestamp = 1_800_000_000;

    fn w(attempts: u64, failures: u64) -> Window {
        Window { attempts, failures }
    }

    #[test]
    fn active_becomes_unstable_at_eighty_percent_of_ten() {
        assert_eq!(evaluate(Active, None, w(10, 8), NOW), Some(Transition::BecameUnstable));
        assert_eq!(
            evaluate(Active, None, w(100, 80), NOW),
            Some(Transition::BecameUnstable)
        );
        assert_eq!(evaluate(Active, None, w(10, 7), NOW), None, "70 % is not enough");
        assert_eq!(evaluate(Active, None, w(100, 79), NOW), None);
        assert_eq!(
            evaluate(Active, None, w(9, 9), NOW),
            None,
            "fewer than ten attempts never count"
        );
        assert_eq!(evaluate(Active, None, w(0, 0), NOW), None);
    }

    #[test]
    fn unstable_is_judged_again_after_a_day() {
        let since = NOW - PROBATION + 1;
        assert_eq!(
            evaluate(Unstable, Some(since), w(50, 50), NOW),
            None,
            "still on probation"
        );
        assert_eq!(
            evaluate(Unstable, Some(since), w(50, 0), NOW),
            None,
            "recovery waits too"
        );
        let since = NOW - PROBATION;
        assert_eq!(
            evaluate(Unstable, Some(since), w(50, 45), NOW),
            Some(Transition::Disabled)
        );
        assert_eq!(
            evaluate(Unstable, Some(since), w(50, 5), NOW),
            Some(Transition::Recovered)
        );
        assert_eq!(
            evaluate(Unstable, Some(since), w(3, 3), NOW),
            Some(Transition::Recovered)
        );
    }

    #[test]
    fn unverified_and_disabled_do_not_move_by_health() {
        assert_eq!(evaluate(Unverified, None, w(100, 100), NOW), None);
        assert_eq!(evaluate(Disabled, None, w(100, 0), NOW), None);
    }

    #[test]
    fn transitions_name_their_target_and_reason() {
        assert_eq!(Transition::BecameUnstable.to(), Unstable);
        assert_eq!(Transition::Recovered.to(), Active);
        assert_eq!(Transition::Disabled.to(), Disabled);
        assert!(Transition::Disabled.reason().contains("day"));
    }
}
