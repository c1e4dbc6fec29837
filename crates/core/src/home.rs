//! The signed-in home page: the person's integrations, organizations and recent activity (the
//! audit entries of what they did themselves), and whether the account is still empty.

use gatehouse_domain::{
    audit::{AuditQuery, AuditRecord},
    integration::Integration,
    org::{Organization, Role},
    service::Subscription,
};
use gatehouse_store::AuditStore;

use crate::{
    Core, Error,
    console::{Caller, OpResult, integrations},
    identity::organizations::my_orgs,
    policy,
};

/// How many of the person's own audit entries the home page shows.
pub const RECENT: i64 = 10;

#[derive(Debug, Clone)]
pub struct Home {
    pub integrations: Vec<(Integration, Vec<Subscription>)>,
    /// Per integration (by ID), when it was last used (`crate::tokens::last_used`), when it has
    /// been.
    pub last_used: std::collections::HashMap<String, gatehouse_domain::Timestamp>,
    pub orgs: Vec<(Organization, Role)>,
    pub activity: Vec<AuditRecord>,
}

impl Home {
    /// Nothing made yet: no integration and no organization.
    pub fn is_empty(&self) -> bool {
        self.integrations.is_empty() && self.orgs.is_empty()
    }
}

pub async fn home(state: &Core, caller: &Caller) -> OpResult<Home> {
    let own = policy::own_activity(&caller.principal)?;
    let who = caller
        .person
        .as_ref()
        .ok_or_else(|| Error::internal("a person's caller without a person"))?;
    let activity = state
        .store
        .conn()
        .await?
        .search_audit(&AuditQuery {
            actor: Some(own.actor().to_owned()),
            limit: RECENT,
            ..AuditQuery::default()
        })
        .await?;
    let integrations = integrations::list(state, caller).await?;
    let listed: Vec<Integration> = integrations.iter().map(|(i, _)| i.clone()).collect();
    let last_used = integrations::last_used(state, &listed).await?;
    Ok(Home {
        integrations,
        last_used,
        orgs: my_orgs(state, who).await?,
        activity,
    })
}
