//! (being written)
pub fn generate_cmd(_a: &crate::cli::KeysGenerateArgs) -> anyhow::Result<()> {
    anyhow::bail!("keys generate is being written")
}
