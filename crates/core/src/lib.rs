//! Gatehouse's application core: the use cases of every area, the one authorization policy, the
//! token service, and the runtime they need (hashing and signing pools, mail, the dispatcher, the
//! catalog watch). It knows nothing of HTTP: the web crate parses requests into principals and
//! calls in here; the `app` crate builds the [`Core`] and starts its background jobs.

pub mod catalog;
pub mod client_info;
pub mod clock;
pub mod console;
pub mod dns;
pub mod error;
pub mod events;
pub mod gateway;
pub mod home;
pub mod identity;
pub mod jobs;
pub mod mail;
pub mod operator;
pub mod policy;
pub mod pools;
pub mod settings;
pub mod tokens;

use std::sync::Arc;

use gatehouse_domain::{Timestamp, crypto::MasterKey};
use gatehouse_store::Store;
use tokio::sync::watch;

pub use catalog::CatalogWatch;
pub use client_info::ClientInfo;
pub use clock::Clock;
pub use error::{Error, Kind};
pub use settings::{ImsSettings, Settings, TokenLifetimes};
pub use tokens::TokenService;

/// Everything a use case can reach, one per node; cheap to clone.
#[derive(Clone)]
pub struct Core {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub master_key: Arc<MasterKey>,
    /// The latest catalog generation (cache invalidation); see [`catalog`].
    pub catalog: watch::Receiver<i64>,
    pub catalog_watch: CatalogWatch,
    pub clock: Clock,
    /// In-memory state of the hosted sign-in (sign-in throttles), per node.
    pub identity: Arc<identity::IdentityRuntime>,
    /// The node's events writers' turn-taking on SQLite.
    pub events: events::EventsRuntime,
    /// The node's one token service: every surface issues and verifies tokens through it.
    pub tokens: Arc<TokenService>,
    /// The gateway's limiters, daily counters and usage counts on this node.
    pub gateway: Arc<gateway::GatewayRuntime>,
}

impl Core {
    /// Builds the node's core over a migrated store; `generation` is the catalog generation read at
    /// start-up. Starts nothing: background jobs are started by the caller ([`Core::start`]).
    pub fn new(store: Store, settings: Settings, master_key: MasterKey, clock: Clock, generation: i64) -> Self {
        let settings = Arc::new(settings);
        let master_key = Arc::new(master_key);
        let catalog_watch = CatalogWatch::new(store.clone(), generation);
        let catalog = catalog_watch.subscribe();
        let tokens = Arc::new(TokenService::new(
            store.clone(),
            master_key.clone(),
            clock.clone(),
            catalog.clone(),
            tokens::TokenSettings::from_settings(&settings),
        ));
        Self {
            store,
            settings,
            master_key,
            catalog,
            catalog_watch,
            clock,
            identity: Arc::default(),
            events: events::EventsRuntime::default(),
            tokens,
            gateway: Arc::default(),
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Reads the catalog generation now, so every cache of this node sees a change made elsewhere
    /// (another node, `gatehouse apply`) without waiting for the next poll.
    pub async fn refresh_caches(&self) -> Result<i64, gatehouse_store::StoreError> {
        self.catalog_watch.refresh().await
    }
}
