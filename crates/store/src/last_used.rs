//! When each credential was last used, on both backends: `integrations.last_used_at` and
//! `client_secrets.last_used_at`. Recording is bookkeeping that nodes write at most once a minute
//! per credential (commit it unaudited: it is nobody's change and must not bump the catalog
//! generation); a timestamp never moves backwards, whichever node writes last.

use std::collections::HashMap;

use async_trait::async_trait;
use gatehouse_domain::Timestamp;

use crate::{
    AsDb, LastUsedStore,
    backend::on_db,
    lists::{MAX_LIST, in_list_width, padded, placeholders},
    traits::Result,
};

#[async_trait]
impl<T: AsDb> LastUsedStore for T {
    async fn record_last_used(
        &mut self,
        integrations: &[(String, Timestamp)],
        secrets: &[(String, Timestamp)],
    ) -> Result<()> {
        for (table, rows) in [("integrations", integrations), ("client_secrets", secrets)] {
            let sql = format!(
                "UPDATE {table} SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)"
            );
            for (id, at) in rows {
                on_db!(self.db(), c => {
                    sqlx::query(&sql).bind(id).bind(*at).execute(&mut *c).await?.rows_affected()
                });
            }
        }
        Ok(())
    }

    async fn integrations_last_used(&mut self, ids: &[String]) -> Result<HashMap<String, Timestamp>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(MAX_LIST) {
            let sql = format!(
                "SELECT id, last_used_at FROM integrations WHERE last_used_at IS NOT NULL AND id IN ({})",
                placeholders(1, in_list_width(chunk.len()))
            );
            let rows: Vec<(String, Timestamp)> = on_db!(self.db(), c => {
                let mut q = sqlx::query_as(&sql);
                for id in padded(chunk) {
                    q = q.bind(id);
                }
                q.fetch_all(&mut *c).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }
}
