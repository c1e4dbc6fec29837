//! The identity part of the web settings, built from the configuration: the outbox directory
//! (`<data_dir>/outbox`), the SMTP server when `[smtp]` is set, the sender address, and the
//! session timeouts of `[sessions]`, the mail limits of `[mail_limits]` and the DNS resolver of
//! `[domains]`.

use gatehouse_core::identity::{IdentitySettings, MailLimits, SmtpSecurity, SmtpSettings};
use gatehouse_domain::identity::session::SessionPolicy;

use crate::config::{Config, SmtpTls};

pub fn settings(cfg: &Config) -> IdentitySettings {
    IdentitySettings {
        outbox_dir: cfg.data_dir.join("outbox"),
        smtp: cfg.smtp.as_ref().map(|s| SmtpSettings {
            host: s.host.clone(),
            port: s.port,
            security: match s.tls {
                SmtpTls::Starttls => SmtpSecurity::Starttls,
                SmtpTls::Tls => SmtpSecurity::Tls,
                SmtpTls::None => SmtpSecurity::None,
            },
            username: s.username.clone(),
            password: s.password.as_ref().map(|p| p.expose().to_owned()),
            from: s.from.clone(),
        }),
        // Validated to at most 366 days, so the conversion cannot fail.
        session: SessionPolicy {
            idle_timeout: i64::try_from(cfg.sessions.idle_timeout).unwrap_or(i64::MAX),
            absolute_timeout: i64::try_from(cfg.sessions.absolute_timeout).unwrap_or(i64::MAX),
        },
        mail_limits: MailLimits {
            per_recipient: cfg.mail_limits.per_recipient,
            per_client: cfg.mail_limits.per_client,
            // Validated to at most 7 days.
            window: i64::try_from(cfg.mail_limits.window).unwrap_or(3600),
        },
        // Validated when the configuration was read.
        dns_resolver: cfg.domains.resolver_address().ok().flatten(),
        ..IdentitySettings::default()
    }
}
