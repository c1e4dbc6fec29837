//! Loading the master key: from `master_key`, from `master_key_file`, or from `<data_dir>/master.key`,
//! which is generated (32 random bytes, base64, mode 0600) on first start. The key itself and the
//! encryption live in `gatehouse_domain::crypto`.

use std::{
    io::{ErrorKind, Write},
    os::unix::fs::{OpenOptionsExt, PermissionsExt},
    path::Path,
};

use anyhow::Context;
use gatehouse_domain::crypto::MasterKey;

use crate::config::Config;

/// Where the key came from, for the startup log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Config,
    File,
    Generated,
}

/// Returns the master key the configuration points at, generating the default key file when it
/// does not exist yet. An explicitly configured `master_key_file` must exist: generating a new key
/// there would silently make every secret already encrypted unreadable.
pub fn load_master_key(cfg: &Config) -> anyhow::Result<(MasterKey, KeySource)> {
    if let Some(k) = &cfg.master_key {
        let key = MasterKey::parse(k.expose()).map_err(|e| anyhow::anyhow!("invalid master_key: {e}"))?;
        return Ok((key, KeySource::Config));
    }
    let path = cfg.master_key_path();
    if cfg.master_key_file.is_some() {
        return Ok((read_key_file(&path)?, KeySource::File));
    }
    match create_key_file(&path)? {
        Some(key) => Ok((key, KeySource::Generated)),
        None => Ok((read_key_file(&path)?, KeySource::File)),
    }
}

fn read_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the master key file {}", path.display()))?;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            path = %path.display(),
            "the master key file can be read by other users; restrict it with chmod 600"
        );
    }
    MasterKey::parse(&text).map_err(|e| anyhow::anyhow!("the master key file {}: {e}", path.display()))
}

/// Creates the key file with a new key, readable by its owner only. Returns `None` if it already
/// exists (possibly created a moment ago by another process sharing the data directory).
fn create_key_file(path: &Path) -> anyhow::Result<Option<MasterKey>> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    let mut file = match file {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(None),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot create the master key file {}", path.display()));
        }
    };
    let (key, text) = MasterKey::generate(&mut rand::rngs::OsRng);
    let written = file
        .write_all(format!("{text}\n").as_bytes())
        .and_then(|()| file.sync_all());
    if let Err(e) = written {
        // Do not leave a truncated key behind for the next start to trip over.
        let _ = std::fs::remove_file(path);
        return Err(e).with_context(|| format!("cannot write the master key file {}", path.display()));
    }
    Ok(Some(key))
}
