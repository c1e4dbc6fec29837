//! Gatehouse's storage: one trait per aggregate (see [`traits`]) and one implementation that runs
//! the same SQL on two drivers, embedded SQLite or PostgreSQL, chosen at run time from the URL.
//!
//! Reads go through a [`Conn`]; writes go through a [`Tx`], whose [`Tx::commit`] refuses to commit
//! a change that wrote no audit entry, so the audit trail cannot be forgotten.

mod backend;
mod error;
pub mod migrate;
mod node_changes;
mod node_wakeups;
mod rows;
pub mod traits;

mod accounts;
mod audit;
mod consents;
mod console;
mod domains;
mod events;
mod gateway;
mod integrations;
mod last_used;
mod lists;
mod mfa;
mod one_time;
mod ops;
mod orgs;
mod passkeys;
mod projects;
mod services;
mod sessions;
mod signing_keys;
mod throttles;
mod tokens;

pub use backend::{AsDb, Backend, Conn, Db, Store, Tx, WAL_AUTOCHECKPOINT_PAGES};
pub use error::StoreError;
pub use migrate::SchemaStatus;
pub use traits::*;
