//! The operator area's use cases: every account (search, disable and re-enable, reset the
//! password or second factors, sign out everywhere), every organization (members, integrations,
//! claimed domains), the audit log (filters and exports), the status page and the development
//! outbox. Each asks the policy first ([`crate::policy::operate`]); the pages and `/api/v1` share
//! them. Not here: the services catalog, whose use cases are the console's (`console::catalog`).

pub mod accounts;
pub mod audit;
pub mod orgs;
pub mod outbox;
pub mod status;

pub use crate::console::{Caller, OpResult};
