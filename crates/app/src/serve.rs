//! (being written)
use crate::config::Config;
use std::sync::Arc;
pub async fn run(_cfg: Arc<Config>) -> anyhow::Result<()> {
    anyhow::bail!("serve is being written")
}
pub async fn migrate_cmd(_cfg: Arc<Config>) -> anyhow::Result<()> {
    anyhow::bail!("migrate is being written")
}
