//! Organizations' email domains (the rules are in `gatehouse_domain::identity::email_domain`):
//! an admin claims a domain and gets the TXT record to publish, then asks Gatehouse to look it up;
//! an operator may approve a claim instead. Enterprise accounts are created only in verified
//! domains (`super::enterprise::create_account`). Each change writes its audit entry in the same
//! transaction through the writing half shared with `gatehouse apply` (`super::changes`).

use gatehouse_domain::{
    audit::Actor,
    identity::email_domain::{DomainClaim, DomainName, MAX_DOMAINS_PER_ORG, VerifiedBy},
    ids::OrgId,
    org::Organization,
};
use gatehouse_store::{AuditStore, DomainStore, OrgStore};

use super::{
    SignedIn,
    accounts::{OpResult, not_found},
    changes,
};
use crate::{ClientInfo, Core, Error, Kind, policy};

async fn principal(state: &Core, who: &SignedIn) -> OpResult<policy::Principal> {
    Ok(policy::load_person(&state.store, &who.account, who.session.used_second_factor(), None).await?)
}

fn entry(
    state: &Core,
    who: &SignedIn,
    action: &str,
    org: &Organization,
    claim: &DomainClaim,
    client: &ClientInfo,
) -> gatehouse_domain::audit::AuditEntry {
    super::audit::entry(
        state,
        &Actor::Account(who.account.id.clone()),
        action,
        format!("domain:{}", claim.domain),
        client,
    )
    .org(org.id.as_str())
}

fn parse(domain: &str) -> OpResult<DomainName> {
    DomainName::parse(domain).map_err(|e| Error::from(e).on("domain"))
}

async fn find(state: &Core, org: &Organization, domain: &str) -> OpResult<DomainClaim> {
    let domain = DomainName::parse(domain).map_err(|_| not_found("domain claim"))?;
    state
        .store
        .conn()
        .await?
        .domain_claim(org.id.as_str(), domain.as_str())
        .await?
        .ok_or_else(|| not_found("domain claim"))
}

/// The organization's claimed domains, verified or not. Admins only.
pub async fn list(state: &Core, who: &SignedIn, org: &Organization) -> OpResult<Vec<DomainClaim>> {
    policy::manage_domains(&principal(state, who).await?, org)?;
    Ok(state.store.conn().await?.domain_claims_of_org(org.id.as_str()).await?)
}

/// Claims `domain` for the organization; the claim's TXT record then verifies it.
pub async fn claim(
    state: &Core,
    who: &SignedIn,
    org: &Organization,
    domain: &str,
    client: &ClientInfo,
) -> OpResult<DomainClaim> {
    policy::manage_domains(&principal(state, who).await?, org)?;
    let domain = parse(domain)?;
    let claim = DomainClaim::new(org.id.as_str(), domain, &mut rand::thread_rng(), state.now());
    let mut tx = state.store.begin().await?;
    if tx.domain_claims_of_org(org.id.as_str()).await?.len() >= MAX_DOMAINS_PER_ORG {
        return Err(Error::new(
            Kind::Conflict,
            "too_many_domains",
            format!("An organization claims at most {MAX_DOMAINS_PER_ORG} domains. Release one first."),
        ));
    }
    let details = changes::claim_domain(&mut tx, &claim).await?;
    tx.append_audit(&entry(state, who, "domain.claimed", org, &claim, client).details(details))
        .await?;
    tx.commit().await?;
    Ok(claim)
}

/// Looks the claim's TXT record up and marks the claim verified when it is there. A claim verified
/// already stays so.
pub async fn verify(
    state: &Core,
    who: &SignedIn,
    org: &Organization,
    domain: &str,
    client: &ClientInfo,
) -> OpResult<DomainClaim> {
    policy::manage_domains(&principal(state, who).await?, org)?;
    let mut claim = find(state, org, domain).await?;
    if claim.is_verified() {
        return Ok(claim);
    }
    let records = crate::dns::txt_records(state.settings.identity.dns_resolver, &claim.domain.txt_name()).await?;
    if !claim.txt_matches(&records) {
        return Err(Error::new(
            Kind::Invalid,
            "txt_record_not_found",
            format!(
                "No TXT record {} = \"{}\" was found. Publish it, wait for DNS to pick it up, then try again.",
                claim.domain.txt_name(),
                claim.txt_value()
            ),
        )
        .on("domain"));
    }
    claim.verified = Some((state.now(), VerifiedBy::Dns));
    let mut tx = state.store.begin().await?;
    let details = changes::domain_verified(&mut tx, &claim).await?;
    tx.append_audit(&entry(state, who, "domain.verified", org, &claim, client).details(details))
        .await?;
    tx.commit().await?;
    Ok(claim)
}

/// An operator's approval of a claim, without DNS: for domains whose owner cannot publish a record.
pub async fn approve(
    state: &Core,
    who: &SignedIn,
    org_id: &str,
    domain: &str,
    client: &ClientInfo,
) -> OpResult<DomainClaim> {
    policy::approve_domain(&principal(state, who).await?)?;
    let id = OrgId::parse(org_id).map_err(|_| not_found("organization"))?;
    let org = state
        .store
        .conn()
        .await?
        .org_by_id(&id)
        .await?
        .ok_or_else(|| not_found("organization"))?;
    let mut claim = find(state, &org, domain).await?;
    if claim.is_verified() {
        return Ok(claim);
    }
    claim.verified = Some((state.now(), VerifiedBy::Operator));
    let mut tx = state.store.begin().await?;
    let details = changes::domain_verified(&mut tx, &claim).await?;
    tx.append_audit(&entry(state, who, "domain.approved", &org, &claim, client).details(details))
        .await?;
    tx.commit().await?;
    Ok(claim)
}

/// Releases a claim. Accounts already created in the domain stay with the organization.
pub async fn release(
    state: &Core,
    who: &SignedIn,
    org: &Organization,
    domain: &str,
    client: &ClientInfo,
) -> OpResult<()> {
    policy::manage_domains(&principal(state, who).await?, org)?;
    let claim = find(state, org, domain).await?;
    let mut tx = state.store.begin().await?;
    tx.delete_domain_claim(org.id.as_str(), claim.domain.as_str()).await?;
    tx.append_audit(&entry(state, who, "domain.released", org, &claim, client))
        .await?;
    tx.commit().await?;
    Ok(())
}
