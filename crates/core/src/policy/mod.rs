//! Who may do what: the one place every authorization decision of Gatehouse is made, for every
//! surface (the console pages, `/api/v1`, the Adobe `/ims` and `/events` paths, `/events/ingress`
//! and `gatehouse apply`).
//!
//! A surface turns a request into a [`Principal`] and asks here before it acts. A yes comes back as
//! a capability — [`ManageIntegration`], [`CreateIntegration`], [`InOrganization`],
//! [`CatalogAdmin`], [`EventsCaller`] — whose fields are private, so the use cases that take one
//! can only be reached through this module. A no comes back as a [`Refusal`].
//!
//! The rules, decided once here:
//! - **Integration tokens only** for the events APIs: an integration acting for itself (a
//!   client-credentials or JWT-bearer token whose subject is the integration). A person's token,
//!   even one issued through that integration, reaches events only through the console with that
//!   person's rights over the integration.
//! - **Members only**, **admin only**: roles as `gatehouse_domain::console::access` and
//!   `gatehouse_domain::org` define them (who may create, see and manage integrations).
//! - **The organization requires MFA**: a person who has not used a second factor in this sign-in
//!   may do nothing on that organization's resources — its integrations, members, settings —
//!   whichever surface they use. A person's access token carries no proof of a second factor, so
//!   it counts as none. Integrations acting for themselves are not people and are not asked.
//! - **Owner of this provider**: only the integration that created a custom event provider changes
//!   it, defines its types and publishes to it; its organization's integrations see it
//!   ([`sees_provider`], [`owns_provider`], [`owns_registration`]).
//! - **Console and identity APIs by token**: the console scope, and a person's or a technical
//!   account's own token (a service account's or an OAuth Server-to-Server integration's)
//!   ([`console_api_token`]); the identity API acts for people only ([`person_api`]).
//! - **Introspection and revocation**: a client introspects its own tokens, and others' only when
//!   an operator allowed it ([`introspects`], [`grant_introspection`]); it revokes only its own
//!   ([`revokes`]).
//! - **Calling a service through the gateway** ([`call_service`]): the API key's integration is
//!   active and subscribed to the service; unless it is an API Key integration (anonymous calls),
//!   it brings an access token of its own — or, for a service that acts for a person, a person's
//!   token issued through it — that carries one of the scopes its subscription grants.
//! - **API keys restricted to domains** ([`api_key_origin`]): an integration whose API key names
//!   allowed domains is used only by calls whose `Origin` (or `Referer`) is one of them — at the
//!   gateway and in the API-key check alike.
//! - **Email domains**: an organization's admins claim, verify and release its email domains;
//!   operators approve a claim without DNS ([`manage_domains`], [`approve_domain`]); an
//!   organization creates enterprise accounts only in domains it has verified
//!   ([`create_enterprise_account`]), so nobody can take over an address at someone else's domain.
//! - **Test events** ([`send_test_event`]): to a registration of one's own that takes deliveries,
//!   of an event type it subscribes to.
//! - **Test tokens from the console** ([`generate_test_token`]): a signed-in admin of the
//!   organization of an OAuth Server-to-Server or Service Account integration (the kinds that get
//!   tokens of their own).
//! - **Operators** edit the services catalog; `gatehouse apply` acts as the operator at the command
//!   line, the only principal that may provision from a file ([`provision`]).
//! - **The operator area** (every account, organization and audit entry, the status page and the
//!   development outbox) is for operators only: a person whose account has the operator role
//!   ([`operate`]). An organization's admins, whatever they manage, and integrations acting for
//!   themselves (a technical account's token) are refused.
//! - **A person's own activity**: the home page shows a person the audit entries of what they did
//!   themselves, nothing of anyone else's ([`own_activity`]).

mod load;
mod principal;
#[cfg(test)]
mod tests;

use gatehouse_domain::{
    console::access,
    gateway::{self, Limits},
    integration::{Integration, IntegrationStatus, IntegrationType, Owner},
    org::{Organization, Role},
    project::Project,
    service::{ActsFor, Service, Subscription},
};

pub use load::person as load_person;
pub use principal::{OrgRole, Principal, Who};

pub use crate::error::{Kind, Refusal};

/// Proof that the principal may see and manage this integration (console pages and API, and the
/// console's events tab).
#[derive(Debug, Clone)]
pub struct ManageIntegration {
    integration: Integration,
}

impl ManageIntegration {
    pub fn integration(&self) -> &Integration {
        &self.integration
    }

    pub fn into_integration(self) -> Integration {
        self.integration
    }
}

/// Proof that the principal may see and manage this project, its workspaces, and add credentials
/// to them (each credential's own type still needs [`create_integration`]).
#[derive(Debug, Clone)]
pub struct ManageProject {
    project: Project,
}

impl ManageProject {
    pub fn project(&self) -> &Project {
        &self.project
    }

    pub fn into_project(self) -> Project {
        self.project
    }
}

/// Proof that the principal may create a project for this owner.
#[derive(Debug, Clone)]
pub struct CreateProject {
    pub owner: Owner,
}

/// Proof that the principal may create an integration of this type for this owner.
#[derive(Debug, Clone)]
pub struct CreateIntegration {
    pub integration_type: IntegrationType,
    pub owner: Owner,
}

/// Proof that the principal is a member of this organization with this role, having met its
/// second-factor requirement.
#[derive(Debug, Clone)]
pub struct InOrganization {
    role: Role,
}

impl InOrganization {
    pub fn role(&self) -> Role {
        self.role
    }
}

/// Proof that the principal may edit the services catalog.
#[derive(Debug, Clone, Copy)]
pub struct CatalogAdmin(());

/// Proof that the principal may provision from a declarative file (`gatehouse apply`): write
/// organizations, accounts, services, integrations and registrations as the file says.
#[derive(Debug, Clone, Copy)]
pub struct Provision(());

/// Proof that the principal may approve an organization's domain claim without a DNS record.
#[derive(Debug, Clone, Copy)]
pub struct DomainApproval(());

/// Proof that the principal may use the operator area: read every account, organization and audit
/// entry, the status page and the development outbox, and act on any account.
#[derive(Debug, Clone)]
pub struct Operate {
    account_id: Option<String>,
}

impl Operate {
    /// The operator's own account (`None` for the operator at the command line).
    pub fn account_id(&self) -> Option<&str> {
        self.account_id.as_deref()
    }
}

/// Proof that the principal is a person reading the audit entries of their own actions: the
/// rendered actor (`account:<id>`) every such read is limited to.
#[derive(Debug, Clone)]
pub struct OwnActivity {
    actor: String,
}

impl OwnActivity {
    pub fn actor(&self) -> &str {
        &self.actor
    }
}

/// Proof that an organization may create an enterprise account for this address.
#[derive(Debug, Clone)]
pub struct CreateEnterpriseAccount {
    email: gatehouse_domain::account::Email,
}

impl CreateEnterpriseAccount {
    pub fn email(&self) -> &gatehouse_domain::account::Email {
        &self.email
    }
}

/// Proof that a person may mint a short-lived access token of this integration from the console,
/// to try it out (the "Generate access token" button).
#[derive(Debug, Clone)]
pub struct GenerateTestToken {
    integration: Integration,
}

impl GenerateTestToken {
    pub fn integration(&self) -> &Integration {
        &self.integration
    }
}

/// Proof that an integration acts for itself on the events APIs.
#[derive(Debug, Clone)]
pub struct EventsCaller {
    integration: Integration,
}

impl EventsCaller {
    pub fn integration(&self) -> &Integration {
        &self.integration
    }

    pub fn into_integration(self) -> Integration {
        self.integration
    }
}

fn refused(e: gatehouse_domain::DomainError) -> Refusal {
    Refusal::forbidden(e.code, e.message)
}

fn mfa_required(org_name: &str) -> Refusal {
    Refusal::forbidden(
        "mfa_required",
        format!("{org_name} requires two-step verification. Set it up, then sign in again with it."),
    )
}

/// Does the organization `org_id` stay closed to `p` until it uses a second factor?
fn blocked_by_mfa(p: &Principal, org_id: &str) -> bool {
    p.is_person() && !p.second_factor && p.roles.iter().any(|r| r.org_id == org_id && r.requires_mfa)
}

fn org_name<'a>(p: &'a Principal, org_id: &str) -> &'a str {
    p.roles
        .iter()
        .find(|r| r.org_id == org_id)
        .map_or("This organization", |r| r.org_name.as_str())
}

/// May `p` see and manage `i`? Integrations `p` cannot see are "not found", so IDs cannot be probed.
pub fn manage_integration(p: &Principal, i: Integration) -> Result<ManageIntegration, Refusal> {
    if !access::can_see(&p.access(), &i) {
        return Err(Refusal::not_found("integration"));
    }
    if let Some(org) = i.org_id()
        && blocked_by_mfa(p, org)
    {
        return Err(mfa_required(org_name(p, org)));
    }
    Ok(ManageIntegration { integration: i })
}

/// May `p` mint a test token of the integration it manages? Only a person in a console session
/// (not through an access token: a token must not mint tokens), only for an active integration
/// that gets tokens of its own (OAuth Server-to-Server or a service account: OAuth integrations
/// get people's tokens, API keys none), and only an admin of its organization: its token acts as
/// an admin there, so a developer who could see it would otherwise gain an admin's power.
pub fn generate_test_token(p: &Principal, m: &ManageIntegration) -> Result<GenerateTestToken, Refusal> {
    let i = &m.integration;
    if !matches!(p.who, Who::Person { via_client: None, .. }) {
        return Err(Refusal::forbidden(
            "session_required",
            "Test tokens are generated in the console, signed in; an access token cannot generate one.",
        ));
    }
    if !i.integration_type.is_technical_account() {
        return Err(Refusal::forbidden(
            "test_token_not_available",
            "Only OAuth Server-to-Server and Service Account integrations get tokens of their own; sign in through \
             an OAuth integration to get a person's token.",
        ));
    }
    if i.status != IntegrationStatus::Active {
        return Err(Refusal::forbidden(
            "integration_disabled",
            "This integration is disabled: enable it to get a token.",
        ));
    }
    if i.org_id().is_none_or(|o| p.role_in(o) != Some(Role::Admin)) {
        return Err(Refusal::forbidden(
            "admin_required",
            format!(
                "Only an admin of {} can generate a technical account's token: it acts as an admin there.",
                i.org_id().map_or("its organization", |o| org_name(p, o))
            ),
        ));
    }
    Ok(GenerateTestToken { integration: i.clone() })
}

/// Adobe's Console API takes an access token with its own client ID as `x-api-key`: a token
/// presented under another client's key is refused, and a console session (no token) is not
/// enough.
pub fn console_api_key(p: &Principal, api_key: Option<&str>) -> Result<(), Refusal> {
    let client = match &p.who {
        Who::Integration(i) => Some(i.client_id.as_str()),
        Who::Person { via_client, .. } => via_client.as_deref(),
        Who::Operator => None,
    };
    match client {
        None => Err(Refusal::new(
            Kind::Unauthorized,
            "not_signed_in",
            "Send an access token with the gatehouse.console scope: Authorization: Bearer <token>.",
        )),
        Some(c) if api_key == Some(c) => Ok(()),
        Some(_) => Err(Refusal::forbidden(
            "api_key_mismatch",
            "x-api-key must be the client ID the access token was issued to.",
        )),
    }
}

/// May `p` see and manage the project `project`? Projects `p` cannot see are "not found"; an
/// organization that requires MFA stays closed until `p` used a second factor.
pub fn manage_project(p: &Principal, project: Project) -> Result<ManageProject, Refusal> {
    if !access::can_see_project(&p.access(), &project) {
        return Err(Refusal::not_found("project"));
    }
    if let Some(org) = project.org_id()
        && blocked_by_mfa(p, org)
    {
        return Err(mfa_required(org_name(p, org)));
    }
    Ok(ManageProject { project })
}

/// The projects of `all` that `p` may see and manage, in order.
pub fn visible_projects(p: &Principal, all: Vec<Project>) -> Vec<Project> {
    let rules = p.access();
    all.into_iter()
        .filter(|x| access::can_see_project(&rules, x) && !x.org_id().is_some_and(|o| blocked_by_mfa(p, o)))
        .collect()
}

/// May `p` create a project owned by `owner`?
pub fn create_project(p: &Principal, owner: &Owner) -> Result<CreateProject, Refusal> {
    access::check_create_project(&p.access(), owner).map_err(refused)?;
    if let Owner::Organization(org) = owner
        && blocked_by_mfa(p, org)
    {
        return Err(mfa_required(org_name(p, org)));
    }
    Ok(CreateProject { owner: owner.clone() })
}

/// May `p` create an integration of type `t` in the project it manages? The type's own rule for
/// the project's owner ([`create_integration`]).
pub fn create_in_project(p: &Principal, m: &ManageProject, t: IntegrationType) -> Result<CreateIntegration, Refusal> {
    create_integration(p, t, &m.project.owner)
}

/// The integrations of `all` that `p` may see and manage, in order.
pub fn visible_integrations(p: &Principal, all: Vec<Integration>) -> Vec<Integration> {
    let rules = p.access();
    all.into_iter()
        .filter(|i| access::can_see(&rules, i) && !i.org_id().is_some_and(|o| blocked_by_mfa(p, o)))
        .collect()
}

/// May `p` create an integration of type `t` owned by `owner`?
pub fn create_integration(p: &Principal, t: IntegrationType, owner: &Owner) -> Result<CreateIntegration, Refusal> {
    access::check_create(&p.access(), t, owner).map_err(refused)?;
    if let Owner::Organization(org) = owner
        && blocked_by_mfa(p, org)
    {
        return Err(mfa_required(org_name(p, org)));
    }
    Ok(CreateIntegration {
        integration_type: t,
        owner: owner.clone(),
    })
}

/// The organizations in which `p` may create integrations of type `t` now.
pub fn orgs_for_new(p: &Principal, t: IntegrationType) -> Vec<String> {
    p.access()
        .orgs_for(t)
        .into_iter()
        .filter(|o| !blocked_by_mfa(p, o))
        .map(str::to_owned)
        .collect()
}

/// May `p` act in `org` (as a member; `admin` asks for the admin role)? Non-members get "not
/// found": an organization's existence is not revealed to outsiders.
pub fn in_organization(p: &Principal, org: &Organization, admin: bool) -> Result<InOrganization, Refusal> {
    let Some(role) = p.role_in(org.id.as_str()) else {
        return Err(Refusal::not_found("organization"));
    };
    if org.require_mfa && p.is_person() && !p.second_factor {
        return Err(mfa_required(&org.name));
    }
    if admin && role != Role::Admin {
        return Err(Refusal::forbidden(
            "admin_required",
            format!("Only an admin of {} can do this.", org.name),
        ));
    }
    Ok(InOrganization { role })
}

/// May `p` claim, verify and release `org`'s email domains? Its admins only (outsiders: "not
/// found").
pub fn manage_domains(p: &Principal, org: &Organization) -> Result<InOrganization, Refusal> {
    in_organization(p, org, true)
}

/// May `p` approve a domain claim without a DNS record? Operators only: a console operator, or the
/// operator at the command line (`gatehouse apply`).
pub fn approve_domain(p: &Principal) -> Result<DomainApproval, Refusal> {
    if p.operator || matches!(p.who, Who::Operator) {
        return Ok(DomainApproval(()));
    }
    Err(Refusal::forbidden(
        "operator_required",
        "Only a Gatehouse operator can approve a domain without its DNS record.",
    ))
}

/// May an organization, whose member has `role` there, create an enterprise account for `email`,
/// given the organization's domain `claims`? Admins only, and only in a domain the organization
/// has verified. Checked before anything is looked up about the address, so the refusal says
/// nothing of whether it has an account.
pub fn create_enterprise_account(
    role: Role,
    email: &gatehouse_domain::account::Email,
    claims: &[gatehouse_domain::identity::email_domain::DomainClaim],
) -> Result<CreateEnterpriseAccount, Refusal> {
    if role != Role::Admin {
        return Err(Refusal::forbidden(
            "admin_required",
            "Only an admin of this organization can create enterprise accounts for it.",
        ));
    }
    gatehouse_domain::identity::email_domain::check_account_domain(email, claims).map_err(refused)?;
    Ok(CreateEnterpriseAccount { email: email.clone() })
}

/// May `p` edit the services catalog?
pub fn catalog_admin(p: &Principal) -> Result<CatalogAdmin, Refusal> {
    access::check_catalog_admin(&p.access()).map_err(refused)?;
    Ok(CatalogAdmin(()))
}

/// May `p` use the operator area? A person whose account has the operator role (by session, or by
/// a token issued to them with the console scope, as for the catalog), or the operator at the
/// command line. Nobody else, whatever their roles in organizations.
pub fn operate(p: &Principal) -> Result<Operate, Refusal> {
    match &p.who {
        Who::Person { account_id, .. } if p.operator => Ok(Operate {
            account_id: Some(account_id.clone()),
        }),
        Who::Operator => Ok(Operate { account_id: None }),
        Who::Person { .. } | Who::Integration(_) => Err(Refusal::forbidden(
            "operator_required",
            "Only a Gatehouse operator can use the operator area.",
        )),
    }
}

/// May `p` read the audit entries of their own actions? Any person, and only theirs.
pub fn own_activity(p: &Principal) -> Result<OwnActivity, Refusal> {
    match &p.who {
        Who::Person { .. } => Ok(OwnActivity {
            actor: p.actor().render(),
        }),
        Who::Integration(_) | Who::Operator => Err(Refusal::forbidden(
            "token_not_allowed",
            "Only a person has their own activity to read.",
        )),
    }
}

/// May `p` provision from a declarative file? Only Gatehouse's operator at the command line, who
/// holds the database and the master key already; no person or integration, whatever their roles
/// (a console operator edits the catalog through the console, not through `apply`).
pub fn provision(p: &Principal) -> Result<Provision, Refusal> {
    match p.who {
        Who::Operator => Ok(Provision(())),
        Who::Person { .. } | Who::Integration(_) => Err(Refusal::forbidden(
            "operator_cli_required",
            "Provisioning from a file is for Gatehouse's operator at the command line (gatehouse apply).",
        )),
    }
}

/// May an integration see this event provider? Gatehouse's own and other public providers are
/// seen by all; a custom one by the integrations of its owner's organization (or account).
pub fn sees_provider(caller: &Integration, provider: &gatehouse_domain::events::model::Provider) -> bool {
    let scope = gatehouse_domain::events::model::provider_scope(&caller.owner);
    provider.owner_scope.is_none() || provider.owner_scope.as_deref() == Some(scope.as_str())
}

/// Does an integration own this event provider (may change it, define its types, publish to it)?
pub fn owns_provider(caller: &Integration, provider: &gatehouse_domain::events::model::Provider) -> bool {
    provider.owner_integration_id.as_deref() == Some(caller.id.as_str())
}

/// Does `org` in an Adobe-style events path (`/events/{org}/...`) name the integration's
/// organization, or for a personal integration its account scope?
pub fn owns_org_path(caller: &Integration, org: &str) -> bool {
    org == gatehouse_domain::events::model::provider_scope(&caller.owner) || Some(org) == caller.org_id()
}

/// May the integration `caller` learn about a token issued to `token_client_id` (RFC 7662 §4)?
/// Its own tokens, always; another client's only when an operator allowed it to introspect (a
/// resource server). A refusal is answered `active: false`, so it says nothing about the token.
pub fn introspects(caller: &Integration, token_client_id: &str) -> bool {
    caller.client_id.as_str() == token_client_id || caller.may_introspect
}

/// May the integration `caller` revoke a token issued to `token_client_id` (RFC 7009 §2.1)? Only
/// its own; the introspection permission does not extend to revocation.
pub fn revokes(caller: &Integration, token_client_id: &str) -> bool {
    caller.client_id.as_str() == token_client_id
}

/// May `p` allow an integration to introspect other clients' tokens? Only operators: it opens
/// every client's tokens' claims to it.
pub fn grant_introspection(p: &Principal) -> Result<(), Refusal> {
    if p.operator || matches!(p.who, Who::Operator) {
        Ok(())
    } else {
        Err(Refusal::forbidden(
            "operator_required",
            "Only a Gatehouse operator allows an integration to introspect other clients' tokens.",
        ))
    }
}

/// Proof that a test event may be sent to a registration, of the event type it names.
#[derive(Debug, Clone)]
pub struct SendTestEvent {
    provider_id: String,
    event_code: String,
}

impl SendTestEvent {
    pub fn provider_id(&self) -> &str {
        &self.provider_id
    }

    pub fn event_code(&self) -> &str {
        &self.event_code
    }
}

/// May `caller` send a test event to `registration`? Only to its own; only while the
/// registration takes deliveries (active or unstable — a journal registration always does; a
/// disabled or unverified webhook is re-enabled first, which challenges it); and only of an event
/// type the registration subscribes to (its first), so a test reaches nobody else.
pub fn send_test_event(
    caller: &Integration,
    registration: &gatehouse_domain::events::model::Registration,
) -> Result<SendTestEvent, Refusal> {
    use gatehouse_domain::events::model::DeliveryMethod;
    if !owns_registration(caller, registration) {
        return Err(Refusal::not_found("registration"));
    }
    if registration.delivery_method != DeliveryMethod::Journal && !registration.status.receives_pushes() {
        return Err(Refusal::forbidden(
            "registration_not_active",
            format!(
                "{} is {}: re-enable it (its webhook is challenged again) before sending a test event.",
                registration.name,
                registration.status.as_str()
            ),
        ));
    }
    let Some(first) = registration.events_of_interest.first() else {
        return Err(Refusal::forbidden(
            "no_event_types",
            "This registration subscribes to no event type: choose one before sending a test event.",
        ));
    };
    Ok(SendTestEvent {
        provider_id: first.provider_id.clone(),
        event_code: first.event_code.as_str().to_owned(),
    })
}

/// Does this registration belong to the integration?
pub fn owns_registration(caller: &Integration, registration: &gatehouse_domain::events::model::Registration) -> bool {
    registration.integration_id == caller.id
}

/// May `p`, calling with an access token that carries `scopes`, use the console's JSON API? The
/// token needs the console scope, and must be a person's (acting as that person) or a service
/// account's own (acting as an admin of its organization); other integrations' tokens have no one
/// to act for there.
pub fn console_api_token(p: &Principal, scopes: &[String]) -> Result<(), Refusal> {
    use gatehouse_domain::console::API_SCOPE;
    if !scopes.iter().any(|s| s == API_SCOPE) {
        return Err(Refusal::forbidden(
            "insufficient_scope",
            format!("The access token lacks the scope {API_SCOPE} that this API requires."),
        ));
    }
    match &p.who {
        Who::Person { .. } => Ok(()),
        Who::Integration(i) if i.integration_type.is_technical_account() && i.org_id().is_some() => Ok(()),
        Who::Integration(_) | Who::Operator => Err(Refusal::forbidden(
            "token_not_allowed",
            "Only a technical account's token (OAuth Server-to-Server or Service Account) or a token issued to a \
             person can call this API.",
        )),
    }
}

/// May `p` use the identity API, which acts for a person (their account, their organizations)?
pub fn person_api(p: &Principal) -> Result<(), Refusal> {
    if p.is_person() {
        Ok(())
    } else {
        Err(Refusal::forbidden(
            "token_not_allowed",
            "This API acts for a person: use the console session or a token issued to a person. A service \
             account's token cannot use it.",
        ))
    }
}

/// May `p` use the events APIs (`/api/v1/events`, the Adobe `/events` paths, `/events/ingress`)?
/// Only an integration acting for itself, and only an active one.
pub fn events_caller(p: &Principal) -> Result<EventsCaller, Refusal> {
    match &p.who {
        Who::Integration(i) if i.status == gatehouse_domain::integration::IntegrationStatus::Active => {
            Ok(EventsCaller {
                integration: (**i).clone(),
            })
        }
        Who::Integration(_) => Err(Refusal::new(
            Kind::Unauthorized,
            "invalid_token",
            "The access token's integration is disabled.",
        )),
        Who::Person { .. } | Who::Operator => Err(Refusal::forbidden(
            "integration_token_required",
            "The events API takes an integration's own access token (client credentials, or a service \
             account's JWT exchange). A token issued to a person cannot use it; people manage events in the \
             console.",
        )),
    }
}

/// Whom a call through the gateway is made as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectType {
    /// A person, through a token issued to them by the integration.
    Person,
    /// A service account's technical account.
    TechnicalAccount,
    /// The integration itself (an API Key integration, or an OAuth integration's own token).
    Integration,
}

impl SubjectType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Person => "person",
            Self::TechnicalAccount => "technical_account",
            Self::Integration => "integration",
        }
    }
}

/// Proof that a call may go through the gateway to a service, with whom it is made as, the scopes
/// it carries there and the limits that apply to it.
#[derive(Debug, Clone)]
pub struct CallService {
    integration_id: String,
    client_id: String,
    org_id: Option<String>,
    subject: String,
    subject_type: SubjectType,
    scopes: Vec<String>,
    limits: Limits,
}

impl CallService {
    pub fn integration_id(&self) -> &str {
        &self.integration_id
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn org_id(&self) -> Option<&str> {
        self.org_id.as_deref()
    }

    /// The person's account ID, the technical account, or the client ID.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    pub fn subject_type(&self) -> SubjectType {
        self.subject_type
    }

    /// The token's scopes that the subscription grants on this service (empty for anonymous calls).
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// The service's default limits with the subscription's overrides.
    pub fn limits(&self) -> Limits {
        self.limits
    }
}

/// The access token a gateway call brings, as the node's token verifier checked it: who it stands
/// for (an integration acting for itself, or a person through a client) and its scopes.
#[derive(Debug, Clone, Copy)]
pub struct PresentedToken<'a> {
    pub principal: &'a Principal,
    pub scopes: &'a [String],
}

/// May the API key of `key` be used by a call with these `Origin` and `Referer` headers? Always,
/// when the integration names no allowed domains; otherwise only from one of them
/// (`gatehouse_domain::allowed_domains`).
pub fn api_key_origin(key: &Integration, origin: Option<&str>, referer: Option<&str>) -> Result<(), Refusal> {
    use gatehouse_domain::allowed_domains::{DomainRefusal, check_origin};
    check_origin(&key.allowed_domains, origin, referer).map_err(|why| {
        let message = match why {
            DomainRefusal::NoOrigin => {
                "This API key may be used only from its allowed domains, and the call names no web origin \
                 (Origin or Referer)."
            }
            DomainRefusal::NotAllowed => "This API key may not be used from this web origin (Origin or Referer).",
        };
        Refusal::forbidden("domain_not_allowed", message)
    })
}

/// May the integration whose API key is `key` call `service` through the gateway, with `token`?
/// `subscriptions` are the integration's. Refusals name what is missing: a disabled integration,
/// no subscription, no token, a token of another integration or of a person where the service acts
/// for an organization, or no scope the subscription grants.
pub fn call_service(
    key: &Integration,
    subscriptions: &[Subscription],
    service: &Service,
    token: Option<PresentedToken<'_>>,
) -> Result<CallService, Refusal> {
    if key.status != IntegrationStatus::Active {
        return Err(Refusal::forbidden(
            "integration_disabled",
            "The integration of this API key is disabled.",
        ));
    }
    let subscription = subscriptions
        .iter()
        .find(|s| s.service_code == service.code)
        .filter(|_| service.allows(key.integration_type));
    let Some(subscription) = subscription else {
        return Err(Refusal::forbidden(
            "not_subscribed",
            format!("The integration of this API key is not subscribed to {}.", service.name),
        ));
    };
    let mut call = CallService {
        integration_id: key.id.clone(),
        client_id: key.client_id.as_str().to_owned(),
        org_id: key.org_id().map(str::to_owned),
        subject: key.client_id.as_str().to_owned(),
        subject_type: SubjectType::Integration,
        scopes: Vec::new(),
        limits: service.gateway.limits.overridden_by(subscription.limits),
    };
    if !gateway::needs_token(key.integration_type) {
        return Ok(call);
    }
    let Some(token) = token else {
        return Err(Refusal::new(
            Kind::Unauthorized,
            "token_required",
            format!(
                "{} needs an access token of the API key's integration (Authorization: Bearer).",
                service.name
            ),
        ));
    };
    match &token.principal.who {
        Who::Integration(i) if i.id == key.id => {
            if let (true, Some(t)) = (i.integration_type.is_technical_account(), &i.technical_account_id) {
                call.subject = t.clone();
                call.subject_type = SubjectType::TechnicalAccount;
            }
        }
        Who::Person {
            account_id,
            via_client: Some(client),
        } if client == key.client_id.as_str() => {
            if service.acts_for != ActsFor::User {
                return Err(Refusal::forbidden(
                    "integration_token_required",
                    format!(
                        "{} acts for an organization: use the integration's own token, not a person's.",
                        service.name
                    ),
                ));
            }
            call.subject = account_id.clone();
            call.subject_type = SubjectType::Person;
        }
        Who::Integration(_) | Who::Person { .. } | Who::Operator => {
            return Err(Refusal::forbidden(
                "token_of_another_integration",
                "The access token was not issued to the API key's integration.",
            ));
        }
    }
    call.scopes = token
        .scopes
        .iter()
        .filter(|s| subscription.scopes.contains(s) && service.scopes.contains(s))
        .cloned()
        .collect();
    if call.scopes.is_empty() && !service.scopes.is_empty() {
        return Err(Refusal::forbidden(
            "insufficient_scope",
            format!(
                "The access token carries none of the scopes {} grants this integration: {}.",
                service.name,
                subscription.scopes.join(" ")
            ),
        ));
    }
    Ok(call)
}
