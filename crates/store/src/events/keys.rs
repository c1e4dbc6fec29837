//! Delivery-signing keys.

use gatehouse_domain::Timestamp;

use crate::{
    StoredDeliveryKey,
    backend::{Db, on_db},
    traits::Result,
};

pub async fn insert(db: Db<'_>, k: &StoredDeliveryKey) -> Result<()> {
    on_db!(db, c => {
        sqlx::query("INSERT INTO event_signing_keys (id, private_key_enc, public_pem, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&k.id)
            .bind(&k.private_key_enc)
            .bind(&k.public_pem)
            .bind(k.created_at)
            .execute(&mut *c)
            .await?;
    });
    Ok(())
}

pub async fn list(db: Db<'_>) -> Result<Vec<StoredDeliveryKey>> {
    let rows: Vec<(String, Vec<u8>, String, i64)> = on_db!(db, c => {
        sqlx::query_as("SELECT id, private_key_enc, public_pem, created_at FROM event_signing_keys ORDER BY created_at, id")
            .fetch_all(&mut *c)
            .await?
    });
    Ok(rows
        .into_iter()
        .map(|(id, private_key_enc, public_pem, created_at)| StoredDeliveryKey {
            id,
            private_key_enc,
            public_pem,
            created_at,
        })
        .collect())
}

pub async fn delete_before(db: Db<'_>, created_before: Timestamp) -> Result<u64> {
    let n = on_db!(db, c => {
        sqlx::query("DELETE FROM event_signing_keys WHERE created_at < $1")
            .bind(created_before)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(n)
}
