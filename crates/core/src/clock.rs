//! The source of "now" for every use case: the system clock in production, a manual one in tests.

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

use gatehouse_domain::Timestamp;

/// The source of "now". The system clock in production; tests can use a manual one and move it.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    pub fn system() -> Self {
        Self { manual: None }
    }

    /// A clock that stands still at `start` until [`Clock::advance`] moves it.
    pub fn manual(start: Timestamp) -> Self {
        Self {
            manual: Some(Arc::new(AtomicI64::new(start))),
        }
    }

    /// Seconds since the Unix epoch.
    pub fn now(&self) -> Timestamp {
        match &self.manual {
            Some(t) => t.load(Ordering::SeqCst),
            None => time::OffsetDateTime::now_utc().unix_timestamp(),
        }
    }

    /// Moves a manual clock forward; does nothing to the system clock.
    pub fn advance(&self, seconds: i64) {
        if let Some(t) = &self.manual {
            t.fetch_add(seconds, Ordering::SeqCst);
        }
    }
}
