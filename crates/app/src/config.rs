//! Configuration: the embedded `config.default.toml` (the reference documentation for every key),
//! then an optional `--config` file, then `GATEHOUSE_*` environment variables, then CLI flags.
//!
//! Loading merges the sources with figment, deserializes once into [`Config`] (unknown keys are
//! errors that name the key and where it was set), fills in the defaults that depend on other keys,
//! and runs one [`Config::validate`]. The process environment is read, never changed; tests pass
//! their own environment to [`load_from`]. Nothing here opens the database or the key file.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
};

use figment::{
    Figment, Metadata, Profile, Provider,
    error::Kind,
    providers::{Format, Toml},
    value::{Dict, Map, Value},
};
use gatehouse_domain::{
    crypto::MasterKey,
    ids::{OrgId, TechnicalAccount},
    token::keys::SigningAlg,
};
use ipnet::IpNet;
use serde::{Deserialize, Deserializer, de::Error as _};

use crate::cli::{GlobalArgs, LogFormat};

/// The built-in defaults, which double as the documentation of every key.
pub const DEFAULT_TOML: &str = include_str!("../../../config.default.toml");

const ENV_PREFIX: &str = "GATEHOUSE_";
/// Variables with the prefix that are command-line settings rather than configuration keys.
const NOT_KEYS: &[&str] = &["GATEHOUSE_CONFIG"];
/// Variables under this prefix configure Gatehouse's own test suite, not a server.
const TEST_PREFIX: &str = "GATEHOUSE_TEST_";
/// Secrets that `GATEHOUSE_<KEY>_FILE` reads from a file. (The master key has its own key,
/// `master_key_file`, so `GATEHOUSE_MASTER_KEY_FILE` is an ordinary key.)
const FILE_SECRETS: &[&str] = &["database_url", "smtp.password"];

/// Flags of `serve` that override configuration.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<String>,
    pub public_url: Option<String>,
}

/// A secret string: `Debug` shows `***`, and [`Secret::expose`] is the only way to read it.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// The loaded, validated configuration. Each field is documented in `config.default.toml`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(deserialize_with = "socket_addr")]
    pub listen: SocketAddr,
    /// Base URL without a trailing `/`: the token issuer. Filled in from `listen` when not set.
    #[serde(default)]
    pub public_url: String,
    pub data_dir: PathBuf,
    /// A secret (it may hold a password); filled in from `data_dir` when not set.
    #[serde(default)]
    pub database_url: String,
    pub database_max_connections: u32,
    pub log_format: LogFormat,
    pub log_level: String,
    pub master_key: Option<Secret>,
    pub master_key_file: Option<PathBuf>,
    pub org_id_suffix: String,
    pub technical_account_domain: String,
    pub signup: SignupConfig,
    pub tokens: TokensConfig,
    pub ims: ImsConfig,
    pub events: EventsConfig,
    pub sessions: SessionsConfig,
    pub mail_limits: MailLimitsConfig,
    pub domains: DomainsConfig,
    pub smtp: Option<SmtpConfig>,
}

/// Limits on outgoing mail (`[mail_limits]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailLimitsConfig {
    /// Messages one address may receive per window; 0 turns the limit off.
    pub per_recipient: u32,
    /// Messages one client address may cause per window; 0 turns the limit off.
    pub per_client: u32,
    /// The window, in seconds (written as a duration).
    #[serde(deserialize_with = "crate::duration::seconds")]
    pub window: u64,
}

impl MailLimitsConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.window == 0 || self.window > 7 * 86_400 {
            return Err(invalid("mail_limits.window", "must be between 1 second and 7 days"));
        }
        Ok(())
    }
}

/// Verifying organizations' email domains (`[domains]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainsConfig {
    /// The DNS server asked for TXT records, as IP:PORT, or "system" for the system's resolvers.
    pub resolver: String,
}

impl DomainsConfig {
    /// The resolver's address; `None` for the system's.
    pub fn resolver_address(&self) -> Result<Option<std::net::SocketAddr>, ConfigError> {
        if self.resolver == "system" {
            return Ok(None);
        }
        self.resolver.parse().map(Some).map_err(|_| {
            invalid(
                "domains.resolver",
                format!(
                    "{:?} must be \"system\" or an IP:PORT such as 127.0.0.1:53",
                    self.resolver
                ),
            )
        })
    }
}

/// How long browser sessions last, in seconds (written as durations, see [`crate::duration`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsConfig {
    /// A session ends this long after its last request.
    #[serde(deserialize_with = "crate::duration::seconds")]
    pub idle_timeout: u64,
    /// A session ends this long after sign-in, however busy.
    #[serde(deserialize_with = "crate::duration::seconds")]
    pub absolute_timeout: u64,
}

impl SessionsConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        const MAX: u64 = 366 * 86_400;
        for (key, v) in [
            ("sessions.idle_timeout", self.idle_timeout),
            ("sessions.absolute_timeout", self.absolute_timeout),
        ] {
            if v == 0 {
                return Err(invalid(key, "must be longer than 0 seconds"));
            }
            if v > MAX {
                return Err(invalid(
                    key,
                    format!("must be at most 366 days ({MAX} seconds), not {v}"),
                ));
            }
        }
        if self.idle_timeout > self.absolute_timeout {
            return Err(invalid(
                "sessions.idle_timeout",
                format!(
                    "must not be longer than sessions.absolute_timeout ({} s > {} s): a session always ends at the absolute timeout",
                    self.idle_timeout, self.absolute_timeout
                ),
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignupConfig {
    pub enabled: bool,
}

/// Token lifetimes in seconds, and the algorithm Gatehouse signs its tokens with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokensConfig {
    pub access_token_lifetime: u32,
    pub refresh_token_lifetime: u32,
    pub authorization_code_lifetime: u32,
    /// `"ES256"` or `"RS256"`.
    pub signing_algorithm: String,
}

/// The Adobe-compatible `/ims` surface.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImsConfig {
    /// Bases `B` besides the public URL for which a service-account JWT's `aud` may be `B/c/<client_id>`.
    #[serde(deserialize_with = "url_list")]
    pub accepted_audience_bases: Vec<String>,
    /// The `as` claim of tokens issued on the `/ims` surface.
    #[serde(rename = "as")]
    pub as_: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsConfig {
    /// Networks webhook deliveries may reach although they are private, loopback or link-local.
    #[serde(deserialize_with = "networks")]
    pub allowed_networks: Vec<IpNet>,
    /// Seconds one webhook request may take, connection included.
    pub delivery_timeout: u32,
    /// Seconds before each delivery attempt (see `gatehouse_domain::events::retry`).
    #[serde(deserialize_with = "crate::events::seconds_list")]
    pub retry_schedule: Vec<u32>,
    pub journal_retention_days: u32,
    /// Whether this process runs the dispatcher.
    pub dispatcher: bool,
    pub per_endpoint_concurrency: u32,
    /// Whether deliveries also carry the Adobe-compatible RSA signatures.
    pub adobe_signatures: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    #[serde(default)]
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub from: String,
}

fn default_smtp_port() -> u16 {
    587
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    #[default]
    Starttls,
    Tls,
    None,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url(&self.database_url))
            .field("database_max_connections", &self.database_max_connections)
            .field("log_format", &self.log_format)
            .field("log_level", &self.log_level)
            .field("master_key", &self.master_key)
            .field("master_key_file", &self.master_key_file)
            .field("org_id_suffix", &self.org_id_suffix)
            .field("technical_account_domain", &self.technical_account_domain)
            .field("signup", &self.signup)
            .field("tokens", &self.tokens)
            .field("ims", &self.ims)
            .field("events", &self.events)
            .field("sessions", &self.sessions)
            .field("mail_limits", &self.mail_limits)
            .field("domains", &self.domains)
            .field("smtp", &self.smtp)
            .finish()
    }
}

/// A configuration value that failed validation: which key, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {key}: {message}")]
pub struct ConfigError {
    pub key: &'static str,
    pub message: String,
}

fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key,
        message: message.into(),
    }
}

impl Config {
    /// Suffix of generated organization IDs (`<24 hex>@<suffix>`), default `GatehouseOrg`.
    pub fn org_id_suffix(&self) -> &str {
        &self.org_id_suffix
    }

    /// Domain of technical accounts (`<hex>@techacct.<domain>`), default `gatehouse`.
    pub fn technical_account_domain(&self) -> &str {
        &self.technical_account_domain
    }

    /// Is the database PostgreSQL (rather than the embedded SQLite)?
    pub fn uses_postgres(&self) -> bool {
        self.database_url.starts_with("postgres://") || self.database_url.starts_with("postgresql://")
    }

    /// The database URL with any password replaced by `***`, for messages and logs.
    pub fn database_url_redacted(&self) -> String {
        redact_url(&self.database_url)
    }

    /// Where the master key is read from when `master_key` is not set.
    pub fn master_key_path(&self) -> PathBuf {
        self.master_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("master.key"))
    }

    /// Fills in defaults that depend on other keys (`public_url` from `listen`, `database_url`
    /// from `data_dir`) and normalises `public_url`.
    fn apply_derived_defaults(&mut self) {
        if self.public_url.trim().is_empty() {
            // On loopback the public URL names the host `localhost`: browsers accept it as a
            // WebAuthn origin (an IP address is not one), so passkeys work on a local install.
            self.public_url = if self.listen.ip().is_loopback() {
                format!("http://localhost:{}", self.listen.port())
            } else {
                format!("http://{}", self.listen)
            };
        }
        self.public_url = self.public_url.trim().trim_end_matches('/').to_owned();
        // A server reachable only on this machine (it listens on loopback and names itself by a
        // loopback address) is a local install: its webhooks may reach local receivers unless
        // the networks are set. Behind a proxy the public URL names the proxy, and nothing changes.
        if self.events.allowed_networks.is_empty() && self.local_only() {
            self.events.allowed_networks = ["127.0.0.0/8", "::1/128"]
                .iter()
                .filter_map(|n| n.parse().ok())
                .collect();
        }
        if self.database_url.trim().is_empty() {
            self.database_url = sqlite_url(&self.data_dir.join("gatehouse.db"));
        }
    }

    /// Is this server reachable only from this machine: listening on loopback, with a public URL
    /// whose host is a loopback address or `localhost`?
    pub fn local_only(&self) -> bool {
        let host_is_loopback = url::Url::parse(&self.public_url)
            .ok()
            .and_then(|u| {
                u.host().map(|h| match h {
                    url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
                    url::Host::Ipv4(a) => a.is_loopback(),
                    url::Host::Ipv6(a) => a.is_loopback(),
                })
            })
            .unwrap_or(false);
        self.listen.ip().is_loopback() && host_is_loopback
    }

    /// Checks every rule a value must satisfy beyond its type. Called once, after loading.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_public_url(&self.public_url)?;
        if self.data_dir.as_os_str().is_empty() {
            return Err(invalid("data_dir", "must not be empty"));
        }
        let db = &self.database_url;
        if !(db.starts_with("sqlite:") || self.uses_postgres()) {
            return Err(invalid(
                "database_url",
                format!("{:?} must start with sqlite:// or postgres://", redact_url(db)),
            ));
        }
        if !(1..=1000).contains(&self.database_max_connections) {
            return Err(invalid("database_max_connections", "must be between 1 and 1000"));
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log_level) {
            return Err(invalid(
                "log_level",
                format!("{:?} is not a level or filter directive: {e}", self.log_level),
            ));
        }
        match (&self.master_key, &self.master_key_file) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "master_key",
                    "set either master_key or master_key_file, not both",
                ));
            }
            (Some(k), None) => {
                MasterKey::parse(k.expose()).map_err(|e| invalid("master_key", e.message))?;
            }
            (None, Some(p)) if p.as_os_str().is_empty() => {
                return Err(invalid("master_key_file", "must not be empty"));
            }
            _ => {}
        }
        let sample_org = format!("{}@{}", "0".repeat(24), self.org_id_suffix);
        if self.org_id_suffix.starts_with('@') || OrgId::parse(&sample_org).is_err() {
            return Err(invalid(
                "org_id_suffix",
                format!("{:?} must be 1–64 letters, digits, '.' or '-'", self.org_id_suffix),
            ));
        }
        let d = &self.technical_account_domain;
        let domain_ok = !d.is_empty()
            && !d.starts_with('.')
            && !d.ends_with('.')
            && TechnicalAccount::parse_id(&format!("0@techacct.{d}")).is_ok();
        if !domain_ok {
            return Err(invalid(
                "technical_account_domain",
                format!("{d:?} must be a domain name such as gatehouse or example.com"),
            ));
        }
        self.tokens.validate()?;
        self.events.validate()?;
        self.ims.validate()?;
        self.sessions.validate()?;
        self.mail_limits.validate()?;
        self.domains.resolver_address()?;
        if let Some(smtp) = &self.smtp {
            smtp.validate()?;
        }
        Ok(())
    }
}

impl TokensConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("tokens.access_token_lifetime", self.access_token_lifetime),
            ("tokens.refresh_token_lifetime", self.refresh_token_lifetime),
            ("tokens.authorization_code_lifetime", self.authorization_code_lifetime),
        ];
        for (key, v) in positive {
            if v == 0 {
                return Err(invalid(key, "must be at least 1 second"));
            }
        }
        if SigningAlg::parse(&self.signing_algorithm).is_err() {
            return Err(invalid(
                "tokens.signing_algorithm",
                format!("{:?} must be \"ES256\" or \"RS256\"", self.signing_algorithm),
            ));
        }
        if self.authorization_code_lifetime > 600 {
            return Err(invalid(
                "tokens.authorization_code_lifetime",
                "must be at most 600 seconds (RFC 6749 §4.1.2)",
            ));
        }
        Ok(())
    }
}

impl ImsConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        for base in &self.accepted_audience_bases {
            check_public_url(base).map_err(|e| invalid("ims.accepted_audience_bases", e.message))?;
        }
        let as_ok = (1..=64).contains(&self.as_.len())
            && self
                .as_
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !as_ok {
            return Err(invalid(
                "ims.as",
                format!(
                    "{:?} must be 1–64 letters, digits, '-' or '_', such as ims-na1",
                    self.as_
                ),
            ));
        }
        Ok(())
    }
}

impl SmtpConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.host.trim().is_empty() {
            return Err(invalid("smtp.host", "must not be empty"));
        }
        if self.port == 0 {
            return Err(invalid("smtp.port", "must be a port number between 1 and 65535"));
        }
        if !self.from.contains('@') {
            return Err(invalid(
                "smtp.from",
                format!(
                    "{:?} must be an address such as Gatehouse <no-reply@example.com>",
                    self.from
                ),
            ));
        }
        if self.password.is_some() && self.username.is_none() {
            return Err(invalid("smtp.username", "is required when smtp.password is set"));
        }
        Ok(())
    }
}

fn check_public_url(s: &str) -> Result<(), ConfigError> {
    let bad = |why: &str| invalid("public_url", format!("{s:?} {why}"));
    let url = url::Url::parse(s).map_err(|e| bad(&format!("is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must start with http:// or https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not have a query (?…) or fragment (#…)"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not contain a user name or password"));
    }
    Ok(())
}

/// `sqlite://<path>`, escaping the characters SQLite URLs treat specially.
fn sqlite_url(path: &Path) -> String {
    let p = path
        .to_string_lossy()
        .replace('%', "%25")
        .replace('?', "%3F")
        .replace('#', "%23");
    format!("sqlite://{p}")
}

/// Hides the password in a database URL.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

fn socket_addr<'de, D: Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
    let s = String::deserialize(d)?;
    s.trim().parse().map_err(|_| {
        D::Error::custom(format!(
            "{s:?} is not a listen address: expected IP:PORT such as 127.0.0.1:8080 or [::1]:8080"
        ))
    })
}

/// A list given either as a list (TOML) or as one comma-separated string (environment).
#[derive(Deserialize)]
#[serde(untagged)]
enum ListOrCsv {
    List(Vec<String>),
    Csv(String),
}

/// A list of base URLs; a trailing `/` is removed from each.
fn url_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let items = match ListOrCsv::deserialize(d)? {
        ListOrCsv::List(v) => v,
        ListOrCsv::Csv(s) => s.split(',').map(str::to_owned).collect(),
    };
    Ok(items
        .iter()
        .map(|s| s.trim().trim_end_matches('/').to_owned())
        .filter(|s| !s.is_empty())
        .collect())
}

fn networks<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    let items = match ListOrCsv::deserialize(d)? {
        ListOrCsv::List(v) => v,
        ListOrCsv::Csv(s) => s.split(',').map(str::to_owned).collect(),
    };
    items
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>().map(|n| n.trunc()).map_err(|_| {
                D::Error::custom(format!(
                    "{s:?} is not a network in CIDR notation such as 10.0.0.0/8 or ::1/128"
                ))
            })
        })
        .collect()
}

/// Loads the configuration from the built-in defaults, `--config`, the process environment and
/// the command-line flags.
pub fn load(global: &GlobalArgs, overrides: &Overrides) -> anyhow::Result<Arc<Config>> {
    load_from(global, overrides, std::env::vars())
}

/// Like [`load`], with the environment given explicitly (tests pass their own).
pub fn load_from(
    global: &GlobalArgs,
    overrides: &Overrides,
    env: impl IntoIterator<Item = (String, String)>,
) -> anyhow::Result<Arc<Config>> {
    let mut figment = Figment::new().merge(Named::new(
        Toml::string(DEFAULT_TOML),
        Metadata::named("built-in defaults (config.default.toml)"),
    ));
    if let Some(path) = &global.config {
        if !path.is_file() {
            anyhow::bail!("configuration file {} does not exist or is not a file", path.display());
        }
        let md = Metadata::named(format!("configuration file {}", path.display()));
        figment = figment.merge(Named::new(Toml::file_exact(path), md));
    }
    figment = figment.merge(EnvVars::new(env)).merge(Flags::new(global, overrides));

    let mut config: Config = figment.extract_lossy().map_err(|e| describe(&figment, e))?;
    config.apply_derived_defaults();
    if let Err(e) = config.validate() {
        let source = figment
            .find_metadata(e.key)
            .map(|md| format!(" (set by {})", where_set(md, e.key)))
            .unwrap_or_default();
        anyhow::bail!("invalid {}{source}: {}", e.key, e.message);
    }
    Ok(Arc::new(config))
}

/// Names a key the way its source spells it: `GATEHOUSE_EVENTS__X`, `--listen`, or `events.x` in a file.
fn where_set(md: &Metadata, key: &str) -> String {
    let parts: Vec<&str> = key.split('.').collect();
    let spelled = md.interpolate(&Profile::Default, &parts);
    format!("{spelled} in {}", md.name)
}

/// Turns figment's errors into one message that names the offending key and where it was set.
fn describe(figment: &Figment, err: figment::Error) -> anyhow::Error {
    let mut lines = Vec::new();
    for e in err {
        let line = match &e.kind {
            Kind::UnknownField(field, expected) => {
                // figment's path sometimes already ends with the unknown key.
                let mut path = e.path.clone();
                if path.last() != Some(field) {
                    path.push(field.clone());
                }
                let section_path = &path[..path.len() - 1];
                let key = path.join(".");
                let source = figment
                    .find_metadata(&key)
                    .map(|md| where_set(md, &key))
                    .unwrap_or_else(|| key.clone());
                let section = if section_path.is_empty() {
                    "at the top level".to_owned()
                } else {
                    format!("in [{}]", section_path.join("."))
                };
                format!(
                    "unknown configuration key {source}; the keys {section} are: {}",
                    expected.join(", ")
                )
            }
            _ => e.to_string(),
        };
        lines.push(line);
    }
    anyhow::anyhow!("{}", lines.join("\n"))
}

/// A provider with its metadata replaced, so messages name keys as `events.allowed_networks`.
struct Named<P> {
    inner: P,
    metadata: Metadata,
}

impl<P: Provider> Named<P> {
    fn new(inner: P, metadata: Metadata) -> Self {
        let metadata = metadata.interpolater(|_: &Profile, keys: &[&str]| keys.join("."));
        Self { inner, metadata }
    }
}

impl<P: Provider> Provider for Named<P> {
    fn metadata(&self) -> Metadata {
        self.metadata.clone()
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        self.inner
            .data()
            .map_err(|e| figment::Error::from(format!("{}: {e}", self.metadata.name)))
    }
}

/// `GATEHOUSE_*` variables: `__` separates nested keys; values stay strings and are converted to
/// the key's type when extracted; `GATEHOUSE_<KEY>_FILE` reads one of [`FILE_SECRETS`] from a file.
struct EnvVars {
    vars: Vec<(String, String)>,
}

impl EnvVars {
    fn new(env: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut vars: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| {
                k.starts_with(ENV_PREFIX) && !k.starts_with(TEST_PREFIX) && !NOT_KEYS.contains(&k.as_str())
            })
            .collect();
        vars.sort();
        Self { vars }
    }
}

fn env_name(keys: &[&str]) -> String {
    format!("{ENV_PREFIX}{}", keys.join("__").to_uppercase())
}

impl Provider for EnvVars {
    fn metadata(&self) -> Metadata {
        Metadata::named("the environment").interpolater(|_: &Profile, keys: &[&str]| env_name(keys))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut dict = Dict::new();
        for (name, value) in &self.vars {
            let rest = name[ENV_PREFIX.len()..].to_lowercase();
            let mut path: Vec<String> = rest.split("__").map(str::to_owned).collect();
            if path.iter().any(String::is_empty) {
                return Err(format!("{name}: an empty key (check the \"__\" separators)").into());
            }
            let dotted = path.join(".");
            let value = match dotted.strip_suffix("_file") {
                Some(base) if FILE_SECRETS.contains(&base) => {
                    let text =
                        std::fs::read_to_string(value).map_err(|e| format!("{name}: cannot read {value}: {e}"))?;
                    path = base.split('.').map(str::to_owned).collect();
                    let plain = env_name(&path.iter().map(String::as_str).collect::<Vec<_>>());
                    if self.vars.iter().any(|(k, _)| *k == plain) {
                        return Err(format!("set either {plain} or {name}, not both").into());
                    }
                    text.trim_end_matches(['\n', '\r']).to_owned()
                }
                _ => value.clone(),
            };
            insert_nested(&mut dict, &path, Value::from(value)).map_err(|()| {
                figment::Error::from(format!(
                    "{name} conflicts with another GATEHOUSE_ variable for the same section"
                ))
            })?;
        }
        Ok(Profile::Default.collect(dict))
    }
}

fn insert_nested(dict: &mut Dict, path: &[String], value: Value) -> Result<(), ()> {
    match path {
        [] => Err(()),
        [last] => {
            if dict.contains_key(last) {
                return Err(());
            }
            dict.insert(last.clone(), value);
            Ok(())
        }
        [first, rest @ ..] => {
            let entry = dict.entry(first.clone()).or_insert_with(|| Value::from(Dict::new()));
            match entry {
                Value::Dict(_, inner) => insert_nested(inner, rest, value),
                _ => Err(()),
            }
        }
    }
}

/// Command-line flags, named as `--data-dir` in messages.
struct Flags {
    dict: Dict,
}

impl Flags {
    fn new(global: &GlobalArgs, overrides: &Overrides) -> Self {
        let mut dict = Dict::new();
        let mut set = |key: &str, v: Option<String>| {
            if let Some(v) = v {
                dict.insert(key.to_owned(), Value::from(v));
            }
        };
        set(
            "data_dir",
            global.data_dir.as_ref().map(|p| p.to_string_lossy().into_owned()),
        );
        set("database_url", global.database_url.clone());
        set(
            "log_format",
            global.log_format.map(|f| match f {
                LogFormat::Text => "text".to_owned(),
                LogFormat::Json => "json".to_owned(),
            }),
        );
        set("listen", overrides.listen.clone());
        set("public_url", overrides.public_url.clone());
        Self { dict }
    }
}

impl Provider for Flags {
    fn metadata(&self) -> Metadata {
        Metadata::named("the command line")
            .interpolater(|_: &Profile, keys: &[&str]| format!("--{}", keys.join("-").replace('_', "-")))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.dict.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
        vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn defaults_load_and_derive_dependent_keys() {
        let c = load_from(&GlobalArgs::default(), &Overrides::default(), env(&[])).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(
            c.public_url, "http://localhost:8080",
            "a WebAuthn origin, so passkeys work"
        );
        assert_eq!(c.data_dir, PathBuf::from("./gatehouse-data"));
        assert_eq!(c.database_url, "sqlite://./gatehouse-data/gatehouse.db");
        assert_eq!(c.org_id_suffix(), "GatehouseOrg");
        assert_eq!(c.technical_account_domain(), "gatehouse");
        assert_eq!(c.tokens.access_token_lifetime, 3600);
        assert_eq!(c.tokens.refresh_token_lifetime, 14 * 24 * 3600);
        assert_eq!(c.tokens.authorization_code_lifetime, 60);
        assert_eq!(
            c.events.allowed_networks,
            ["127.0.0.0/8".parse::<IpNet>().unwrap(), "::1/128".parse().unwrap()],
            "a local install delivers webhooks to local receivers"
        );
        assert!(c.smtp.is_none());
        assert!(c.signup.enabled);
    }

    #[test]
    fn loopback_webhooks_are_allowed_by_default_only_on_a_local_install() {
        let load = |vars: &[(&str, &str)]| load_from(&GlobalArgs::default(), &Overrides::default(), env(vars)).unwrap();
        // Behind a proxy on the same machine: the public URL names the proxy.
        let proxied = load(&[("GATEHOUSE_PUBLIC_URL", "https://id.example.com")]);
        assert!(proxied.events.allowed_networks.is_empty());
        // Listening beyond loopback.
        let open = load(&[("GATEHOUSE_LISTEN", "0.0.0.0:8080")]);
        assert!(open.events.allowed_networks.is_empty());
        assert_eq!(
            open.public_url, "http://0.0.0.0:8080",
            "not on loopback: the listen address"
        );
        // Networks set explicitly are kept as they are.
        let set = load(&[("GATEHOUSE_EVENTS__ALLOWED_NETWORKS", "10.0.0.0/8")]);
        assert_eq!(set.events.allowed_networks, ["10.0.0.0/8".parse::<IpNet>().unwrap()]);
        let localhost = load(&[("GATEHOUSE_PUBLIC_URL", "http://localhost:8080")]);
        assert_eq!(localhost.events.allowed_networks.len(), 2);
    }

    #[test]
    fn debug_output_hides_secrets() {
        let c = load_from(
            &GlobalArgs::default(),
            &Overrides::default(),
            env(&[
                ("GATEHOUSE_DATABASE_URL", "postgres://gh:hunter2secret@db/gh"),
                ("GATEHOUSE_MASTER_KEY", &"ab".repeat(32)),
            ]),
        )
        .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2secret"), "{shown}");
        assert!(!shown.contains(&"ab".repeat(32)), "{shown}");
        assert!(c.uses_postgres());
    }

    #[test]
    fn sqlite_urls_escape_special_characters() {
        assert_eq!(
            sqlite_url(Path::new("/tmp/a?b#c%d/x.db")),
            "sqlite:///tmp/a%3Fb%23c%25d/x.db"
        );
    }
}
