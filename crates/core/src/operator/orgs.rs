//! Every organization, as operators see them: members, integrations and claimed email domains.

use gatehouse_domain::{identity::email_domain::DomainClaim, ids::OrgId, integration::Integration, org::Organization};
use gatehouse_store::{ConsoleStore, DomainStore, OrgStore};

use super::{Caller, OpResult};
use crate::{
    Core, Error,
    identity::organizations::{Member, members},
    policy,
};

/// An organization with how many members, integrations and domain claims it has.
#[derive(Debug, Clone)]
pub struct OrgSummary {
    pub org: Organization,
    pub members: usize,
    pub integrations: usize,
    pub domains: usize,
}

/// One organization in full.
#[derive(Debug, Clone)]
pub struct OrgDetail {
    pub org: Organization,
    pub members: Vec<Member>,
    pub integrations: Vec<Integration>,
    pub domains: Vec<DomainClaim>,
}

/// Every organization, by name; `q` keeps those whose name or ID contains it (case-insensitive).
pub async fn list(state: &Core, caller: &Caller, q: &str) -> OpResult<Vec<OrgSummary>> {
    policy::operate(&caller.principal)?;
    let q = q.trim().to_lowercase();
    let mut conn = state.store.conn().await?;
    let mut orgs = conn.list_orgs().await?;
    orgs.sort_by_key(|a| a.name.to_lowercase());
    let mut out = Vec::new();
    for org in orgs {
        if !q.is_empty() && !org.name.to_lowercase().contains(&q) && !org.id.as_str().to_lowercase().contains(&q) {
            continue;
        }
        out.push(OrgSummary {
            members: conn.memberships_of_org(&org.id).await?.len(),
            integrations: conn.integrations_of_org(org.id.as_str()).await?.len(),
            domains: conn.domain_claims_of_org(org.id.as_str()).await?.len(),
            org,
        });
    }
    Ok(out)
}

/// One organization with its members, integrations and domain claims.
pub async fn get(state: &Core, caller: &Caller, id: &str) -> OpResult<OrgDetail> {
    policy::operate(&caller.principal)?;
    let org_id = OrgId::parse(id).map_err(|_| Error::not_found("organization"))?;
    let org = state
        .store
        .conn()
        .await?
        .org_by_id(&org_id)
        .await?
        .ok_or_else(|| Error::not_found("organization"))?;
    let members = members(state, &org).await?;
    let mut conn = state.store.conn().await?;
    Ok(OrgDetail {
        integrations: conn.integrations_of_org(org.id.as_str()).await?,
        domains: conn.domain_claims_of_org(org.id.as_str()).await?,
        members,
        org,
    })
}
