//! Configuration: the embedded `config.default.toml` (the reference documentation), then an
//! optional `--config` file, then `GATEHOUSE_*` environment variables, then CLI flags.
//! (Owned by the configuration/serve work; this is the interface other modules rely on.)

use std::{path::PathBuf, sync::Arc};

use crate::cli::GlobalArgs;

/// Flags of `serve` that override configuration.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<String>,
    pub public_url: Option<String>,
}

/// The loaded, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: String,
}

pub fn load(_global: &GlobalArgs, _overrides: &Overrides) -> anyhow::Result<Arc<Config>> {
    anyhow::bail!("configuration loading is being written")
}
