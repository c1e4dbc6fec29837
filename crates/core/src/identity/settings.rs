//! The settings of the hosted sign-in that come from configuration: where mail goes (SMTP or the
//! outbox directory), session timeouts, and the name shown in authenticator apps.

use std::path::PathBuf;

use gatehouse_domain::identity::session::SessionPolicy;

#[derive(Debug, Clone)]
pub struct IdentitySettings {
    /// Where messages are written when no SMTP server is configured (`<data_dir>/outbox`).
    pub outbox_dir: PathBuf,
    /// The SMTP server, when configured.
    pub smtp: Option<SmtpSettings>,
    /// Sender of every message when no SMTP server is configured.
    pub default_from: String,
    pub session: SessionPolicy,
    /// The issuer name shown in authenticator apps next to the account.
    pub totp_issuer: String,
    /// How much mail one recipient and one client address may cause.
    pub mail_limits: MailLimits,
    /// The DNS server asked for domain-verification TXT records; `None`: the system's resolvers.
    pub dns_resolver: Option<std::net::SocketAddr>,
}

/// Limits on outgoing mail in fixed windows of `window` seconds, counted in the database so that
/// they hold across nodes. A limit of 0 turns that limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailLimits {
    pub per_recipient: u32,
    pub per_client: u32,
    pub window: i64,
}

impl Default for MailLimits {
    fn default() -> Self {
        Self {
            per_recipient: 5,
            per_client: 30,
            window: 3600,
        }
    }
}

impl Default for IdentitySettings {
    fn default() -> Self {
        Self {
            outbox_dir: PathBuf::from("./gatehouse-data/outbox"),
            smtp: None,
            default_from: "Gatehouse <no-reply@gatehouse.invalid>".to_owned(),
            session: SessionPolicy::default(),
            totp_issuer: "Gatehouse".to_owned(),
            mail_limits: MailLimits::default(),
            dns_resolver: None,
        }
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    Starttls,
    Tls,
    None,
}

#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .finish()
    }
}
