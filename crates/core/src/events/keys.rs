//! The delivery-signing key ring: the two RSA keys whose signatures every delivery carries as
//! `x-adobe-digital-signature-1/-2`, created and rotated on the schedule of
//! [`gatehouse_domain::events::adobe::plan_keys`], stored sealed with the master key, and the
//! route that serves their public halves at `/events/keys/pub-key-<id>.pem`.
//!
//! Nodes that rotate at the same moment may each add a key; the plan always picks the two newest,
//! so that is harmless.

use std::sync::{Arc, RwLock};

use gatehouse_domain::{
    Timestamp,
    crypto::MasterKey,
    events::adobe::{self, DeliveryKey, KeyAge, key_is_served, public_key_path},
};
use gatehouse_store::{EventStore, Store, StoreError, StoredDeliveryKey};
use tokio::sync::Mutex;

/// How long the loaded ring is trusted before the stored keys are read again (seconds).
const RING_MAX_AGE: i64 = 300;

/// The keys that sign deliveries now.
pub struct Signers {
    pub key1: DeliveryKey,
    pub key2: DeliveryKey,
    valid_until: Timestamp,
}

impl Signers {
    /// The four Adobe signature headers for `body`.
    pub fn headers(&self, body: &[u8]) -> Result<[(&'static str, String); 4], KeyError> {
        let sig1 = self.key1.sign(body).map_err(|e| KeyError(e.message))?;
        // One key live (the first minutes of an installation): the same signature twice.
        let sig2 = if self.key2.id == self.key1.id {
            sig1.clone()
        } else {
            self.key2.sign(body).map_err(|e| KeyError(e.message))?
        };
        Ok([
            ("x-adobe-digital-signature-1", sig1),
            ("x-adobe-digital-signature-2", sig2),
            ("x-adobe-public-key1-path", public_key_path(&self.key1.id)),
            ("x-adobe-public-key2-path", public_key_path(&self.key2.id)),
        ])
    }
}

#[derive(Debug, thiserror::Error)]
#[error("delivery-signing keys: {0}")]
pub struct KeyError(pub String);

impl From<StoreError> for KeyError {
    fn from(e: StoreError) -> Self {
        Self(e.to_string())
    }
}

fn aad(id: &str) -> Vec<u8> {
    format!("event_signing_key:{id}").into_bytes()
}

/// Loads, creates and rotates the delivery-signing keys.
pub struct DeliveryKeys {
    store: Store,
    master_key: Arc<MasterKey>,
    cached: RwLock<Option<Arc<Signers>>>,
    reload: Mutex<()>,
}

impl DeliveryKeys {
    pub fn new(store: Store, master_key: Arc<MasterKey>) -> Self {
        Self {
            store,
            master_key,
            cached: RwLock::new(None),
            reload: Mutex::new(()),
        }
    }

    /// The signing pair at `now`, creating keys when the plan asks for them.
    pub async fn current(&self, now: Timestamp) -> Result<Arc<Signers>, KeyError> {
        if let Some(s) = self.cached_at(now) {
            return Ok(s);
        }
        let _guard = self.reload.lock().await;
        if let Some(s) = self.cached_at(now) {
            return Ok(s);
        }
        let signers = Arc::new(self.load(now).await?);
        if let Ok(mut slot) = self.cached.write() {
            *slot = Some(signers.clone());
        }
        Ok(signers)
    }

    fn cached_at(&self, now: Timestamp) -> Option<Arc<Signers>> {
        let slot = self.cached.read().ok()?;
        slot.as_ref().filter(|s| now < s.valid_until).cloned()
    }

    async fn load(&self, now: Timestamp) -> Result<Signers, KeyError> {
        let mut conn = self.store.conn().await?;
        let mut stored = conn.list_delivery_keys().await?;
        let mut plan = adobe::plan_keys(now, &ages(&stored));
        for _ in 0..plan.create {
            let generated = tokio::task::spawn_blocking(|| adobe::generate_key(&mut rand::rngs::OsRng))
                .await
                .map_err(|e| KeyError(e.to_string()))?
                .map_err(|e| KeyError(e.message))?;
            let id = uuid::Uuid::new_v4().to_string();
            let key = StoredDeliveryKey {
                private_key_enc: self
                    .master_key
                    .encrypt(&mut rand::rngs::OsRng, &generated.private_pkcs8, &aad(&id)),
                public_pem: generated.public_pem,
                created_at: now,
                id,
            };
            conn.insert_delivery_key(&key).await?;
            tracing::info!(key = %key.id, "created a delivery-signing key");
        }
        if plan.create > 0 {
            stored = conn.list_delivery_keys().await?;
            plan = adobe::plan_keys(now, &ages(&stored));
            let retired_before = now - adobe::KEY_LIFETIME - adobe::KEY_RETENTION;
            conn.delete_delivery_keys_before(retired_before).await?;
        }
        let (id1, id2) = plan
            .signing
            .ok_or_else(|| KeyError("no delivery-signing key is live".into()))?;
        let load = |id: &str| -> Result<DeliveryKey, KeyError> {
            let row = stored
                .iter()
                .find(|k| k.id == id)
                .ok_or_else(|| KeyError(format!("key {id} vanished")))?;
            let pkcs8 = self
                .master_key
                .decrypt(&row.private_key_enc, &aad(id))
                .map_err(|e| KeyError(format!("key {id}: {e}")))?;
            DeliveryKey::load(id, &pkcs8).map_err(|e| KeyError(e.message))
        };
        let newest = stored.iter().map(|k| k.created_at).max().unwrap_or(now);
        // Re-read when the next key is due, and at least every few minutes (other nodes rotate too).
        let next_rotation = newest + adobe::KEY_LIFETIME / 2;
        Ok(Signers {
            key1: load(&id1)?,
            key2: load(&id2)?,
            valid_until: next_rotation.min(now + RING_MAX_AGE).max(now + 1),
        })
    }

    /// The PEM of a key that is still served at `now`.
    pub async fn public_pem(&self, id: &str, now: Timestamp) -> Result<Option<String>, KeyError> {
        let mut conn = self.store.conn().await?;
        let keys = conn.list_delivery_keys().await?;
        Ok(keys
            .into_iter()
            .find(|k| k.id == id && key_is_served(k.created_at, now))
            .map(|k| k.public_pem))
    }
}

fn ages(stored: &[StoredDeliveryKey]) -> Vec<KeyAge> {
    stored
        .iter()
        .map(|k| KeyAge {
            id: k.id.clone(),
            created_at: k.created_at,
        })
        .collect()
}
