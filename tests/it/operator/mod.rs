//! The home page, the operator area (pages and `/api/v1/operator`) and honest mail, against the
//! real server: who may reach the operator area (and who is refused, with what), what each page and
//! call shows, the account actions and their audit entries, the audit log's filters and exports,
//! the status page, and where mail went when no SMTP server is configured.

// Test code: a failed expectation should stop the test with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod accounts;
mod audit;
mod browser;
mod home;
mod mail;
mod status;

use crate::{
    console::helpers::{Person, World, make_operator, world},
    identity::helpers,
};

/// The console world (an organization Acme with an admin, a developer and a member; an outsider)
/// plus a signed-in Gatehouse operator who belongs to no organization.
pub struct OpWorld {
    pub w: World,
    pub op: Person,
}

pub async fn op_world() -> OpWorld {
    let w = world().await;
    let (client, mut account) = helpers::signed_in(&w.server, "operator@gatehouse.test").await;
    make_operator(&w.server, &account).await;
    account.operator = true;
    OpWorld {
        w,
        op: Person { client, account },
    }
}
