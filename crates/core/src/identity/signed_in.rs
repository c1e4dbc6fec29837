//! A signed-in person as the use cases see them: the account and the session they are using.

use gatehouse_domain::{Timestamp, account::Account, identity::session::Session};

#[derive(Debug, Clone)]
pub struct SignedIn {
    pub account: Account,
    pub session: Session,
}

impl SignedIn {
    /// Seconds since the person last proved who they are.
    pub fn auth_age(&self, now: Timestamp) -> i64 {
        now - self.session.auth_time
    }
}
