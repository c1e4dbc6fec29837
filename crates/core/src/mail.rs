//! Outgoing mail: verification links, invitations and password resets. With `[smtp]` configured
//! messages go through that server (lettre, STARTTLS/TLS/none as configured); without it each
//! message is written as an `.eml` file to `<data_dir>/outbox/` and its path is logged, so
//! development needs no mail server and tests read links from the files. Either way the message
//! leaves in the background, after the request that caused it has been answered.

use std::path::PathBuf;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Body, Mailbox, header::ContentTransferEncoding, header::ContentType},
    transport::smtp::authentication::Credentials,
};

use crate::identity::settings::{IdentitySettings, SmtpSecurity};

/// A message to one recipient: plain text only (links are easy to copy, nothing is rendered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid address: {0}")]
    Address(String),
    #[error("cannot build the message: {0}")]
    Build(String),
    #[error("cannot write to the outbox: {0}")]
    Outbox(#[from] std::io::Error),
    #[error("SMTP: {0}")]
    Smtp(String),
}

/// Where a message went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    Smtp,
    Outbox(PathBuf),
}

fn build(settings: &IdentitySettings, mail: &Mail) -> Result<Message, MailError> {
    let from_text = settings
        .smtp
        .as_ref()
        .map_or(settings.default_from.as_str(), |s| s.from.as_str());
    let from: Mailbox = from_text
        .parse()
        .map_err(|e| MailError::Address(format!("{from_text}: {e}")))?;
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|e| MailError::Address(format!("{}: {e}", mail.to)))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        // 8bit keeps long links on one line (readable, and copyable from the outbox files);
        // lettre would wrap lines over 76 characters with quoted-printable soft breaks. Every
        // body here is Gatehouse's own text with lines far below SMTP's 998-byte limit.
        .body(Body::dangerous_pre_encoded(
            crlf(&mail.body).into_bytes(),
            ContentTransferEncoding::EightBit,
        ))
        .map_err(|e| MailError::Build(e.to_string()))
}

fn crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// Sends (or keeps) one message.
pub async fn send(settings: &IdentitySettings, mail: &Mail) -> Result<Delivered, MailError> {
    let message = build(settings, mail)?;
    match &settings.smtp {
        Some(smtp) => {
            let builder = match smtp.security {
                SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host),
                SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host),
                SmtpSecurity::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)),
            }
            .map_err(|e| MailError::Smtp(e.to_string()))?;
            let mut builder = builder.port(smtp.port);
            if let (Some(user), Some(pw)) = (&smtp.username, &smtp.password) {
                builder = builder.credentials(Credentials::new(user.clone(), pw.clone()));
            }
            builder
                .build()
                .send(message)
                .await
                .map_err(|e| MailError::Smtp(e.to_string()))?;
            tracing::info!(subject = %mail.subject, "sent a message over SMTP");
            Ok(Delivered::Smtp)
        }
        None => {
            let dir = settings.outbox_dir.clone();
            tokio::fs::create_dir_all(&dir).await?;
            let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
            let name = format!("{stamp}-{}.eml", uuid::Uuid::new_v4().simple());
            let path = dir.join(name);
            // Written aside and renamed, so a reader of the outbox never sees half a message.
            let partial = dir.join(format!(".{}.partial", uuid::Uuid::new_v4().simple()));
            tokio::fs::write(&partial, message.formatted()).await?;
            tokio::fs::rename(&partial, &path).await?;
            tracing::info!(path = %path.display(), subject = %mail.subject, "no SMTP server configured; kept the message in the outbox");
            Ok(Delivered::Outbox(path))
        }
    }
}

/// Sends in the background, with SMTP or to the outbox alike: the answer to the request that
/// caused the message takes the same time whether or not it sends one (so its timing does not
/// tell whether an address has an account), and never waits for (or fails on) a slow mail
/// server. Failures are logged.
pub fn send_logged(settings: &IdentitySettings, mail: Mail) {
    let settings = settings.clone();
    tokio::spawn(async move {
        if let Err(e) = send(&settings, &mail).await {
            tracing::error!(error = %e, subject = %mail.subject, "could not send a message");
        }
    });
}

/// The messages Gatehouse sends.
pub mod messages {
    use super::Mail;

    pub fn verify_email(to: &str, link: &str) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: "Confirm your email address for Gatehouse".to_owned(),
            body: format!(
                "Hello,\n\nplease confirm that this is your email address by opening this link within 48 hours:\n\n\
                 {link}\n\nIf you did not create a Gatehouse account, ignore this message.\n"
            ),
        }
    }

    pub fn already_registered(to: &str, signin: &str, reset: &str) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: "You already have a Gatehouse account".to_owned(),
            body: format!(
                "Hello,\n\nsomeone (probably you) tried to create a Gatehouse account with this address, but it \
                 already has one.\n\nSign in: {signin}\nForgot your password? {reset}\n\n\
                 If this was not you, ignore this message; nothing has changed.\n"
            ),
        }
    }

    pub fn password_reset(to: &str, link: &str) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: "Reset your Gatehouse password".to_owned(),
            body: format!(
                "Hello,\n\nopen this link within one hour to choose a new password. It works once:\n\n{link}\n\n\
                 If you did not ask for this, ignore this message; your password has not changed.\n"
            ),
        }
    }

    pub fn account_setup(to: &str, org_name: &str, admin: &str, link: &str) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: format!("Your {org_name} account on Gatehouse"),
            body: format!(
                "Hello,\n\n{admin} created a Gatehouse account for you, managed by the organization {org_name}.\n\n\
                 Choose your password within 7 days (the link works once):\n\n{link}\n"
            ),
        }
    }

    pub fn invitation(to: &str, org_name: &str, inviter: &str, role: &str, link: &str) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: format!("{inviter} invited you to {org_name} on Gatehouse"),
            body: format!(
                "Hello,\n\n{inviter} invited you to join the organization {org_name} on Gatehouse as {role}.\n\n\
                 Accept the invitation within 7 days (the link works once):\n\n{link}\n"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn without_smtp_messages_land_in_the_outbox() {
        let dir = std::env::temp_dir().join(format!("gatehouse-outbox-{}", uuid::Uuid::new_v4().simple()));
        let settings = IdentitySettings {
            outbox_dir: dir.clone(),
            ..IdentitySettings::default()
        };
        let mail = messages::verify_email("ada@example.com", "http://x/verify-email/abc");
        let Delivered::Outbox(path) = send(&settings, &mail).await.unwrap() else {
            panic!("expected the outbox")
        };
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("To: ada@example.com"), "{text}");
        assert!(text.contains("http://x/verify-email/abc"), "{text}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn bad_addresses_are_refused() {
        let mail = Mail {
            to: "not an address".into(),
            subject: "s".into(),
            body: "b".into(),
        };
        assert!(matches!(
            send(&IdentitySettings::default(), &mail).await,
            Err(MailError::Address(_))
        ));
    }
}
