//! Events: the rules of event providers, event types, registrations and webhook delivery.
//!
//! What lives here is pure: parsing (event codes, webhook URLs, CloudEvents), the outbound address
//! policy (which IP addresses a delivery may reach), the retry schedule, registration health,
//! Standard Webhooks and Adobe-compatible signatures, challenge responses, journal cursors, what an
//! attempt keeps for debugging, and Gatehouse's own event catalogue. Storage, HTTP and the dispatcher's I/O live in the store and
//! web crates; time and randomness are parameters.

pub mod address;
pub mod adobe;
pub mod challenge;
pub mod cloudevent;
pub mod code;
pub mod debug;
pub mod health;
pub mod journal;
pub mod model;
pub mod own;
pub mod retry;
pub mod signature;
pub mod webhook_url;

pub use address::AddressPolicy;
pub use cloudevent::CloudEvent;
pub use code::EventCode;
pub use model::{DeliveryMethod, RegistrationStatus};
pub use webhook_url::WebhookUrl;
