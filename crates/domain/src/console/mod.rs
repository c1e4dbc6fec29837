//! The developer console's rules: who may create, see and change which integrations
//! ([`access`]), what a valid new or edited integration is ([`integration`]), client-secret
//! rotation ([`secrets`]), certificates and their expiry notices ([`certificates`]), key pairs
//! generated for the developer ([`keypair`]), the credentials file ([`credentials`]), the services
//! catalog as operators edit it ([`catalog`]), the copy-ready token commands of the credentials
//! page ([`snippets`]), and which issued tokens a console change revokes
//! ([`cutoff`]).
//!
//! Pure rules over plain data: the clock and the random source are parameters; storing the
//! result and serving it are the store's and the web layer's jobs.

pub mod access;
pub mod catalog;
pub mod certificates;
pub mod credentials;
pub mod cutoff;
pub mod integration;
pub mod keypair;
pub mod migration;
pub mod secrets;
pub mod snippets;
pub mod workspace_file;

/// The scope an access token needs to call the console API (`/api/v1`) without a session. A
/// service account's token with it acts as an admin of the service account's organization; a
/// user's token acts as that user.
pub const API_SCOPE: &str = "gatehouse.console";
