//! Token cutoffs as a token verifier consults them: [`Cutoffs::revokes`] answers from memory,
//! per client, and forgets everything when the catalog generation changes (every cutoff is
//! recorded in an audited commit, which bumps it), so a warm check needs no database round trip —
//! the same freshness as the token service's client cache. Introspection calls it next to the
//! deny-list; the console API checks the store directly (it is not a hot path).

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use gatehouse_domain::console::cutoff::{TokenCutoff, is_cut_off};
use gatehouse_store::{ConsoleStore, Store, StoreError};
use tokio::sync::watch;

type Cache = (i64, HashMap<String, Arc<Vec<TokenCutoff>>>);

pub struct Cutoffs {
    store: Store,
    catalog: watch::Receiver<i64>,
    cache: RwLock<Cache>,
}

impl Cutoffs {
    pub fn new(store: Store, catalog: watch::Receiver<i64>) -> Self {
        let generation = *catalog.borrow();
        Self {
            store,
            cache: RwLock::new((generation, HashMap::new())),
            catalog,
        }
    }

    /// Is a token of `client_id`, issued at `issued_at` with `scopes`, revoked by a cutoff?
    pub async fn revokes(&self, client_id: &str, issued_at: i64, scopes: &[String]) -> Result<bool, StoreError> {
        let generation = *self.catalog.borrow();
        let cached = self
            .cache
            .read()
            .ok()
            .filter(|c| c.0 == generation)
            .and_then(|c| c.1.get(client_id).cloned());
        let cutoffs = match cached {
            Some(c) => c,
            None => {
                let loaded = Arc::new(self.store.conn().await?.token_cutoffs_of(client_id).await?);
                if let Ok(mut cache) = self.cache.write() {
                    if cache.0 != generation {
                        *cache = (generation, HashMap::new());
                    }
                    cache.1.insert(client_id.to_owned(), loaded.clone());
                }
                loaded
            }
        };
        Ok(is_cut_off(&cutoffs, issued_at, scopes))
    }
}
