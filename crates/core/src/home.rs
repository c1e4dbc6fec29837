//! The signed-in home page: the person's integrations, organizations and recent activity (the
//! audit entries of what they did themselves), and whether the account is still empty.

use gatehouse_domain::{
    audit::{AuditQuery, AuditRecord},
    integration::Integration,
    org::{Organization, Role},
    service::Subscription,
};
use gatehouse_store::{AuditStore, GatewayStore};

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
    /// Per integration (by ID), the last UTC day (days since 1970-01-01) the gateway let one of its
    /// calls through, when it has counted any. Gatehouse records no other use of an integration
    /// (access tokens are not logged), so this is the only "last used" there is to show.
    pub last_gateway_call: std::collections::HashMap<String, i64>,
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
    let mut last_gateway_call = std::collections::HashMap::new();
    let mut conn = state.store.conn().await?;
    for (i, _) in &integrations {
        let last = conn
            .usage_of(&i.id, 0)
            .await?
            .iter()
            .filter(|u| u.outcome == "allowed" && u.requests > 0)
            .map(|u| u.day)
            .max();
        if let Some(day) = last {
            last_gateway_call.insert(i.id.clone(), day);
        }
    }
    Ok(Home {
        integrations,
        last_gateway_call,
        orgs: my_orgs(state, who).await?,
        activity,
    })
}
