//! The development outbox: with no SMTP server configured, every message is written to
//! `<data_dir>/outbox/` instead of being sent ([`crate::mail`]). Operators read it here, in the
//! browser, instead of on the server's disk. With SMTP configured there is no outbox to read.

use std::path::PathBuf;

use super::{Caller, OpResult};
use crate::{Core, Error, Kind, policy};

/// Most messages listed, newest first.
pub const MAX_LISTED: usize = 200;

/// A message in the outbox, without its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The file name, which names the message in the URL.
    pub name: String,
    pub to: String,
    pub subject: String,
    /// When it was written (Unix seconds).
    pub at: i64,
}

/// A message with its plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub entry: OutboxEntry,
    pub body: String,
}

/// Where messages go when no SMTP server is configured: the outbox directory, or `None` when
/// mail is sent over SMTP. The pages that tell a person "we sent you a message" say this instead
/// in that mode.
pub fn outbox_dir(state: &Core) -> Option<PathBuf> {
    state
        .settings
        .identity
        .smtp
        .is_none()
        .then(|| state.settings.identity.outbox_dir.clone())
}

fn no_outbox() -> Error {
    Error::new(
        Kind::NotFound,
        "no_outbox",
        "Mail is sent through the configured SMTP server; there is no outbox to read.",
    )
}

/// Names the mail module writes: `<nanoseconds>-<32 hex digits>.eml`. Anything else is not read,
/// so a name cannot reach outside the directory.
pub fn well_formed(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".eml") else {
        return false;
    };
    let Some((stamp, id)) = stem.split_once('-') else {
        return false;
    };
    !stamp.is_empty()
        && stamp.bytes().all(|b| b.is_ascii_digit())
        && id.len() == 32
        && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The stamp in a message's name, in seconds.
fn written_at(name: &str) -> i64 {
    let nanos: i128 = name.split('-').next().and_then(|s| s.parse().ok()).unwrap_or(0);
    i64::try_from(nanos / 1_000_000_000).unwrap_or(0)
}

/// Splits a message into its headers (unfolded) and its body.
fn parse(name: &str, text: &str) -> OutboxMessage {
    let text = text.replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((text.as_str(), ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let header = |k: &str| {
        headers
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    OutboxMessage {
        entry: OutboxEntry {
            name: name.to_owned(),
            to: header("to"),
            subject: header("subject"),
            at: written_at(name),
        },
        body: body.to_owned(),
    }
}

/// The newest messages in the outbox (at most [`MAX_LISTED`]) and the directory they are in.
pub async fn list(state: &Core, caller: &Caller) -> OpResult<(PathBuf, Vec<OutboxEntry>)> {
    policy::operate(&caller.principal)?;
    let dir = outbox_dir(state).ok_or_else(no_outbox)?;
    let mut names = Vec::new();
    match tokio::fs::read_dir(&dir).await {
        Ok(mut entries) => {
            while let Some(e) = entries.next_entry().await.map_err(Error::internal)? {
                let name = e.file_name().to_string_lossy().into_owned();
                if well_formed(&name) {
                    names.push(name);
                }
            }
        }
        // Nothing has been written yet.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::internal(e)),
    }
    // The stamp leads the name: the numeric order of stamps is the order of writing.
    names.sort_by_key(|n| std::cmp::Reverse((written_at_nanos(n), n.clone())));
    names.truncate(MAX_LISTED);
    let mut out = Vec::new();
    for name in names {
        if let Ok(text) = tokio::fs::read_to_string(dir.join(&name)).await {
            out.push(parse(&name, &text).entry);
        }
    }
    Ok((dir, out))
}

fn written_at_nanos(name: &str) -> i128 {
    name.split('-').next().and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// One message of the outbox.
pub async fn read(state: &Core, caller: &Caller, name: &str) -> OpResult<OutboxMessage> {
    policy::operate(&caller.principal)?;
    let dir = outbox_dir(state).ok_or_else(no_outbox)?;
    if !well_formed(name) {
        return Err(Error::not_found("message"));
    }
    match tokio::fs::read_to_string(dir.join(name)).await {
        Ok(text) => Ok(parse(name, &text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::not_found("message")),
        Err(e) => Err(Error::internal(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_mail_modules_names_are_read() {
        assert!(well_formed("1767225600000000000-0123456789abcdef0123456789abcdef.eml"));
        for bad in [
            "../master.key",
            "1-0123456789abcdef0123456789abcdef.eml/../../x",
            ".partial.eml",
            "1767225600-0123456789abcdef0123456789abcdeg.eml",
            "1767225600-0123456789abcdef0123456789abcdef.txt",
            "-0123456789abcdef0123456789abcdef.eml",
        ] {
            assert!(!well_formed(bad), "{bad}");
        }
    }

    #[test]
    fn headers_and_body_are_read() {
        let m = parse(
            "1767225600000000000-0123456789abcdef0123456789abcdef.eml",
            "From: Gatehouse <no-reply@x>\r\nTo: ada@example.com\r\nSubject: Reset your\r\n Gatehouse password\r\n\r\nHello,\r\nlink\r\n",
        );
        assert_eq!(m.entry.to, "ada@example.com");
        assert_eq!(m.entry.subject, "Reset your Gatehouse password");
        assert_eq!(m.entry.at, 1_767_225_600);
        assert_eq!(m.body, "Hello,\nlink\n");
    }
}
