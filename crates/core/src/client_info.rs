//! Where a request came from, for audit entries and security events.

/// The peer address and the `User-Agent` of a request (the web crate fills it in).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}
