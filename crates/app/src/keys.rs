//! `gatehouse keys generate`: a private key and a self-signed X.509 certificate for a service
//! account, the same shape as `openssl req -x509 -sha256 -nodes -days 365 -newkey rsa:2048`.
//!
//! The private key stays with whoever runs the command (written PKCS#8 PEM, mode 0600); only the
//! certificate is uploaded to Gatehouse (console or `certificates = [...]` in an `apply` file).

use std::{fs::OpenOptions, io::Write, path::Path};

use anyhow::{Context, bail};
use gatehouse_domain::certificate::{self, Certificate};
use rand::{CryptoRng, RngCore};
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, SerialNumber};
use rsa::{
    RsaPrivateKey,
    pkcs8::{EncodePrivateKey, LineEnding},
};
use time::{Duration, OffsetDateTime, format_description::well_known::Rfc3339};

use crate::cli::{KeyAlgorithm, KeysGenerateArgs};

/// The longest validity `keys generate` accepts (ten years).
pub const MAX_DAYS: u32 = 3650;

/// A freshly generated key pair. `Debug` leaves the private key out.
pub struct GeneratedKeys {
    /// PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub private_key_pem: String,
    /// The self-signed certificate as PEM, already checked by Gatehouse's certificate parser.
    pub certificate: Certificate,
}

impl std::fmt::Debug for GeneratedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedKeys")
            .field("private_key_pem", &"<redacted>")
            .field("certificate", &self.certificate)
            .finish()
    }
}

/// Generates a key of `algorithm` and a self-signed SHA-256 certificate for `common_name`, valid
/// from `now` for `days` days. RSA keys come from `rng`; P-256 keys from the system's secure
/// random source (through `rcgen`).
pub fn generate(
    algorithm: KeyAlgorithm,
    common_name: &str,
    days: u32,
    now: OffsetDateTime,
    rng: &mut (impl RngCore + CryptoRng),
) -> anyhow::Result<GeneratedKeys> {
    if days == 0 || days > MAX_DAYS {
        bail!("--days must be between 1 and {MAX_DAYS}");
    }
    let common_name = common_name.trim();
    if common_name.is_empty() || common_name.chars().count() > 64 || common_name.chars().any(char::is_control) {
        bail!("--common-name must be 1–64 printable characters");
    }
    let (key_pair, private_key_pem) = match algorithm {
        KeyAlgorithm::Rsa2048 => rsa_key(2048, rng)?,
        KeyAlgorithm::Rsa3072 => rsa_key(3072, rng)?,
        KeyAlgorithm::Rsa4096 => rsa_key(4096, rng)?,
        KeyAlgorithm::EcP256 => {
            let kp = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).context("generating a P-256 key")?;
            let pem = kp.serialize_pem();
            (kp, pem)
        }
    };

    let now = now.replace_nanosecond(0).unwrap_or(now);
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    params.not_before = now;
    params.not_after = now + Duration::days(i64::from(days));
    let mut serial = [0u8; 16];
    rng.fill_bytes(&mut serial);
    serial[0] = (serial[0] & 0x7f) | 0x01; // positive and exactly 16 bytes long
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    let cert = params.self_signed(&key_pair).context("signing the certificate")?;

    let certificate = certificate::parse(&cert.pem(), now.unix_timestamp())
        .context("the generated certificate did not pass Gatehouse's own checks")?;
    Ok(GeneratedKeys {
        private_key_pem,
        certificate,
    })
}

fn rsa_key(bits: usize, rng: &mut (impl RngCore + CryptoRng)) -> anyhow::Result<(KeyPair, String)> {
    let key = RsaPrivateKey::new(rng, bits).context("generating the RSA key")?;
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .context("encoding the RSA key as PKCS#8")?
        .to_string();
    let kp = KeyPair::from_pkcs8_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256).context("loading the RSA key")?;
    Ok((kp, pem))
}

/// The command: generates, writes both files (refusing to overwrite without `--force`), and
/// prints the fingerprint and expiry.
pub fn generate_cmd(args: &KeysGenerateArgs) -> anyhow::Result<()> {
    if args.key_out == args.cert_out {
        bail!("--key-out and --cert-out must be different files");
    }
    if !args.force {
        for path in [&args.key_out, &args.cert_out] {
            if path.exists() {
                bail!("{} already exists; pass --force to overwrite it", path.display());
            }
        }
    }
    let keys = generate(
        args.algorithm,
        &args.common_name,
        args.days,
        OffsetDateTime::now_utc(),
        &mut rand::rngs::OsRng,
    )?;
    write_file(&args.key_out, keys.private_key_pem.as_bytes(), 0o600, args.force)?;
    write_file(&args.cert_out, keys.certificate.pem.as_bytes(), 0o644, args.force)?;

    let c = &keys.certificate;
    let expires = OffsetDateTime::from_unix_timestamp(c.not_after)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| c.not_after.to_string());
    println!(
        "Private key:  {} (PKCS#8 PEM, mode 0600; keep it secret, never upload it)",
        args.key_out.display()
    );
    println!("Certificate:  {} (upload this one)", args.cert_out.display());
    println!("Key:          {}", c.key);
    println!("Subject:      {}", c.subject);
    println!("SHA-256 fingerprint: {}", c.fingerprint);
    println!("Expires:      {expires}");
    Ok(())
}

fn write_file(path: &Path, contents: &[u8], mode: u32, overwrite: bool) -> anyhow::Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true);
    if overwrite {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        opts.mode(mode);
        let mut file = opts
            .open(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        // An existing file keeps its old mode on open; set it explicitly.
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot set the mode of {}", path.display()))?;
        file.write_all(contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    #[cfg(not(unix))]
    {
        let _ = mode;
        let mut file = opts
            .open(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        file.write_all(contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_domain::certificate::KeyKind;
    use rand::{SeedableRng, rngs::StdRng};

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }

    #[test]
    fn rsa_2048_like_openssl_req() {
        let k = generate(
            KeyAlgorithm::Rsa2048,
            "acme-backend",
            365,
            now(),
            &mut StdRng::seed_from_u64(1),
        )
        .unwrap();
        assert!(k.private_key_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert_eq!(k.certificate.key, KeyKind::Rsa(2048));
        assert_eq!(k.certificate.not_before, 1_800_000_000);
        assert_eq!(k.certificate.not_after, 1_800_000_000 + 365 * 86_400);
        assert!(k.certificate.subject.contains("CN=acme-backend"));
        // What apply and the console check at upload time.
        assert!(certificate::parse(&k.certificate.pem, 1_800_000_001).is_ok());
        assert!(!format!("{k:?}").contains("PRIVATE KEY"));
    }

    #[test]
    fn ec_p256() {
        let k = generate(KeyAlgorithm::EcP256, "ec", 30, now(), &mut StdRng::seed_from_u64(2)).unwrap();
        assert!(k.private_key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(k.certificate.key, KeyKind::EcP256);
    }

    #[test]
    fn bad_arguments_are_refused() {
        let mut rng = StdRng::seed_from_u64(3);
        assert!(generate(KeyAlgorithm::EcP256, "x", 0, now(), &mut rng).is_err());
        assert!(generate(KeyAlgorithm::EcP256, "x", MAX_DAYS + 1, now(), &mut rng).is_err());
        assert!(generate(KeyAlgorithm::EcP256, " ", 1, now(), &mut rng).is_err());
    }

    #[test]
    fn files_are_not_overwritten_without_force() {
        let dir = std::env::temp_dir().join(format!("gatehouse-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("k.pem");
        write_file(&key, b"one", 0o600, false).unwrap();
        assert!(write_file(&key, b"two", 0o600, false).is_err());
        write_file(&key, b"three", 0o600, true).unwrap();
        assert_eq!(std::fs::read(&key).unwrap(), b"three");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
