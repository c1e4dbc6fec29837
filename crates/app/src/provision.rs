//! (being written)
use crate::{
    cli::{ApplyArgs, ExportArgs},
    config::Config,
};
use std::sync::Arc;
pub async fn apply_cmd(_cfg: Arc<Config>, _a: &ApplyArgs) -> anyhow::Result<()> {
    anyhow::bail!("apply is being written")
}
pub async fn export_cmd(_cfg: Arc<Config>, _a: &ExportArgs) -> anyhow::Result<()> {
    anyhow::bail!("export is being written")
}
