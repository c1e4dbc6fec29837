//! Declarative provisioning: `gatehouse apply -f FILE` makes the database match a TOML file of
//! organizations, accounts, services and integrations, and `gatehouse export` writes the database
//! back in the same format.
//!
//! The steps, one module each: [`file`] parses the TOML (shape errors with key path and line),
//! [`validate`] checks the values, [`plan`] compares them with the database and decides every write,
//! [`apply`] runs the writes and their audit entries in one transaction. `apply` is idempotent: a
//! second run of the same file plans no write at all. It never deletes organizations, accounts,
//! services or integrations; lists it is given (memberships, client secrets, certificates,
//! subscriptions) replace what is stored. Keys left out keep the stored value (new objects take
//! the default). The reference for the format is `examples/adobe-like.toml`.

mod apply;
mod event_file;
mod event_plan;
mod export;
mod file;
mod integrations;
mod plan;
mod redirects;
mod validate;

use std::{path::Path, sync::Arc};

use gatehouse_domain::{Timestamp, crypto::MasterKey};
use gatehouse_store::{Store, StoreError};
use rand::{CryptoRng, RngCore};

pub use apply::{Counts, Report};
pub use export::export;
pub use plan::{Action, Change, GeneratedSecret, Kind};
pub use redirects::{check_redirect_pattern, check_redirect_uri};

use crate::{
    cli::{ApplyArgs, ExportArgs},
    config::Config,
};

/// One problem found in a provisioning file: where (key path such as
/// `integrations[1].subscriptions[0].service`, and line/column when known) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
    /// 1-based line and column, for syntax and shape errors.
    pub location: Option<(usize, usize)>,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
            location: None,
        }
    }

    fn render(&self, file: &str) -> String {
        match (self.path.is_empty(), self.location) {
            (true, Some((l, c))) => format!("{file}: line {l}, column {c}: {}", self.message),
            (true, None) => format!("{file}: {}", self.message),
            (false, Some((l, c))) => format!("{file}: {}: {} (line {l}, column {c})", self.path, self.message),
            (false, None) => format!("{file}: {}: {}", self.path, self.message),
        }
    }
}

/// Why `apply` or `export` failed. Nothing was written in any case.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The file has problems; each names the file and the key.
    #[error("{}", render_problems(file, problems))]
    Invalid { file: String, problems: Vec<Problem> },
    #[error("cannot read {file}: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} (nothing was written)")]
    Store(#[from] StoreError),
    /// The policy refused (see `gatehouse_core::policy::provision`).
    #[error("{0} (nothing was written)")]
    Refused(String),
    /// A write's rule refused it in the transaction (e.g. a certificate already on the integration).
    #[error("{0} (nothing was written)")]
    Change(gatehouse_core::Error),
}

impl From<gatehouse_core::Error> for ProvisionError {
    fn from(e: gatehouse_core::Error) -> Self {
        Self::Change(e)
    }
}

fn render_problems(file: &str, problems: &[Problem]) -> String {
    problems.iter().map(|p| p.render(file)).collect::<Vec<_>>().join("\n")
}

/// Settings `apply` takes from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Suffix of generated organization IDs (`GatehouseOrg`).
    pub org_id_suffix: String,
    /// Domain of generated technical accounts (`gatehouse` → `…@techacct.gatehouse`).
    pub technical_account_domain: String,
    /// Plan and report, but write nothing.
    pub dry_run: bool,
    /// Seals the webhook secrets of new event registrations; a file that creates one needs it.
    pub master_key: Option<Arc<MasterKey>>,
    /// The longest an access token lives, in seconds: how long the marker that ends a disabled
    /// account's tokens must be kept.
    pub longest_access_token: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            org_id_suffix: "GatehouseOrg".to_owned(),
            technical_account_domain: "gatehouse".to_owned(),
            dry_run: false,
            master_key: None,
            longest_access_token: gatehouse_domain::token::Lifetimes::default().longest_access_token(),
        }
    }
}

impl Settings {
    pub fn from_config(cfg: &Config, dry_run: bool) -> Self {
        Self {
            org_id_suffix: cfg.org_id_suffix().to_owned(),
            technical_account_domain: cfg.technical_account_domain().to_owned(),
            dry_run,
            master_key: None,
            longest_access_token: gatehouse_core::tokens::TokenSettings::from_settings(&crate::serve::core_settings(
                cfg,
            ))
            .lifetimes
            .longest_access_token(),
        }
    }
}

/// A parsed and checked provisioning file, with its certificates read.
#[derive(Debug)]
pub struct ProvisionFile {
    /// How errors name the file (the path as given).
    pub name: String,
    desired: validate::Desired,
}

impl ProvisionFile {
    /// Reads and checks `path`; certificate paths in it are relative to its directory.
    pub fn load(path: &Path) -> Result<Self, ProvisionError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ProvisionError::Read {
            file: name.clone(),
            source,
        })?;
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        Self::parse(&name, &text, base)
    }

    /// Checks `text`, naming it `name` in errors; certificate paths are relative to `base_dir`.
    pub fn parse(name: &str, text: &str, base_dir: &Path) -> Result<Self, ProvisionError> {
        let invalid = |problems| ProvisionError::Invalid {
            file: name.to_owned(),
            problems,
        };
        let raw = file::parse(text).map_err(|p| invalid(vec![p]))?;
        let desired = validate::validate(raw, base_dir).map_err(invalid)?;
        Ok(Self {
            name: name.to_owned(),
            desired,
        })
    }
}

impl ProvisionFile {
    /// Does the file list event registrations (whose new secrets need the master key)?
    pub fn declares_registrations(&self) -> bool {
        self.desired
            .integrations
            .iter()
            .any(|x| x.event_registrations.as_ref().is_some_and(|r| !r.is_empty()))
    }
}

/// Makes the database match `file`: plans every change against the current state, then (unless
/// `settings.dry_run`) runs all writes with their audit entries in one transaction. When nothing
/// differs nothing is written, not even an audit entry.
pub async fn apply<R: RngCore + CryptoRng>(
    store: &Store,
    file: &ProvisionFile,
    now: Timestamp,
    rng: &mut R,
    settings: &Settings,
) -> Result<Report, ProvisionError> {
    let invalid = |problems| ProvisionError::Invalid {
        file: file.name.clone(),
        problems,
    };
    if settings.dry_run {
        let mut conn = store.conn().await?;
        let cur = plan::Current::load(&mut conn, &file.desired).await?;
        let plan = plan::plan(&file.desired, &cur, now, rng, settings).map_err(invalid)?;
        return Ok(Report::new(plan, true));
    }
    // The command line is the operator; the policy says what the operator may do.
    let allowed = gatehouse_core::policy::provision(&gatehouse_core::policy::Principal::operator())
        .map_err(|r| ProvisionError::Refused(r.message))?;
    // Read and write in the same transaction, so the plan cannot be overtaken by another writer.
    let mut tx = store.begin().await?;
    let cur = plan::Current::load(&mut tx, &file.desired).await?;
    let plan = plan::plan(&file.desired, &cur, now, rng, settings).map_err(invalid)?;
    if !plan.steps.is_empty() {
        apply::run(&mut tx, &plan.steps, &allowed, settings).await?;
        tx.commit().await?;
    }
    Ok(Report::new(plan, false))
}

async fn open_store(cfg: &Config) -> anyhow::Result<Store> {
    if cfg.database_url.starts_with("sqlite:") && cfg.database_url.contains(&*cfg.data_dir.to_string_lossy()) {
        std::fs::create_dir_all(&cfg.data_dir)
            .map_err(|e| anyhow::anyhow!("cannot create the data directory {}: {e}", cfg.data_dir.display()))?;
    }
    let store = Store::connect(&cfg.database_url, 2).await?;
    store.migrate().await?;
    Ok(store)
}

fn unix_now() -> Timestamp {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// `gatehouse apply -f FILE [--dry-run]`.
pub async fn apply_cmd(cfg: Arc<Config>, args: &ApplyArgs) -> anyhow::Result<()> {
    let file = ProvisionFile::load(&args.file)?;
    let store = open_store(&cfg).await?;
    let mut settings = Settings::from_config(&cfg, args.dry_run);
    if file.declares_registrations() {
        // The same key `serve` uses (generated into the data directory on first use).
        let (key, _) = crate::crypto::load_master_key(&cfg)?;
        settings.master_key = Some(Arc::new(key));
    }
    let report = apply(&store, &file, unix_now(), &mut rand::rngs::OsRng, &settings).await?;
    store.close().await;

    if report.dry_run {
        println!("Dry run: nothing was written.");
    }
    for line in report.plan_lines() {
        println!("{line}");
    }
    for w in &report.warnings {
        println!("warning: {w}");
    }
    println!("{}", report.summary());
    if report.is_unchanged() {
        println!("Nothing to change: the database already matches {}.", file.name);
    }
    if !report.generated_secrets.is_empty() {
        // Printed once, to standard output only: never logged, never exported.
        println!();
        println!("Generated client secrets (shown only now; Gatehouse keeps only their SHA-256 digests):");
        for s in &report.generated_secrets {
            println!("  {} (client ID {}): {}", s.integration, s.client_id, s.secret);
        }
    }
    Ok(())
}

/// `gatehouse export [-o FILE]`.
pub async fn export_cmd(cfg: Arc<Config>, args: &ExportArgs) -> anyhow::Result<()> {
    let store = open_store(&cfg).await?;
    let text = export(&store).await?;
    store.close().await;
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?
        }
        None => print!("{text}"),
    }
    Ok(())
}
