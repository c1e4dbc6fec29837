//! The token service: one per node ([`crate::Core::tokens`]), shared by every surface that issues or
//! verifies tokens, so a revocation, a disabled integration or a cutoff is seen by all of them at
//! once. It holds the signing-key ring, the client cache, the deny-list and the cutoffs.

pub mod cutoffs;
pub mod grants;
pub mod introspection;
pub mod last_used;
pub mod params;
pub mod purge;
pub mod service;
pub mod user_grants;

pub use params::Params;
pub use service::{Client, Failure, ServiceError, TokenService, TokenSettings};
