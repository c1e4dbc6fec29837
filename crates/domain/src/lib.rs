//! Gatehouse's domain: the types and rules of identity, integrations, services, tokens and events.
//!
//! Nothing here knows about HTTP or SQL. The clock and randomness are parameters, so every rule
//! (expiry, rotation, generated identifiers) can be tested deterministically.

pub mod account;
pub mod allowed_domains;
pub mod audit;
pub mod certificate;
pub mod console;
pub mod crypto;
pub mod error;
pub mod events;
pub mod gateway;
pub mod identity;
pub mod ids;
pub mod integration;
pub mod org;
pub mod password;
pub mod project;
pub mod redirect;
pub mod rsa_signer;
pub mod secret;
pub mod service;
pub mod token;

pub use error::DomainError;

/// Seconds since the Unix epoch, UTC. Every stored instant uses it, on both backends.
pub type Timestamp = i64;
