//! From the file as written to the desired state: every value parsed into its domain type, the
//! rules that need only the file checked (which keys each integration type takes, password length,
//! duplicates), certificate files read and inspected.
//!
//! Rules that need the database (does that service exist, is that technical account taken) are
//! checked while planning, in [`super::plan`]. Every problem found is reported, each with its key path.

use std::{collections::BTreeSet, path::Path};

use gatehouse_domain::{
    account::{AccountType, Email},
    certificate::{self, Certificate, MAX_PEM_BYTES},
    gateway::{IdentityForwarding, Limits},
    ids::{ClientId, OrgId, TechnicalAccount},
    integration::{self, IntegrationStatus, IntegrationType, MAX_ACTIVE_SECRETS, MAX_CERTIFICATES, Platform},
    org::{self, Role},
    password, secret,
    service::{self, ActsFor, ServiceCode},
    token::keys::SigningAlg,
};

use super::{
    Problem,
    event_file::{self, DProvider, DRegistration},
    file::{
        RawAccount, RawAccountType, RawActsFor, RawFile, RawIntegration, RawIntegrationType, RawOrganization,
        RawPlatform, RawRole, RawService, RawStatus,
    },
    redirects,
};

/// The desired state the file describes. Optional fields are `None` when the file leaves the key
/// out: existing objects then keep their value, new ones take the default.
#[derive(Debug, Default)]
pub struct Desired {
    pub organizations: Vec<DOrg>,
    pub accounts: Vec<DAccount>,
    pub services: Vec<DService>,
    pub integrations: Vec<DIntegration>,
}

#[derive(Debug)]
pub struct DOrg {
    pub path: String,
    pub id: Option<OrgId>,
    pub name: String,
    pub require_mfa: Option<bool>,
}

/// How a file refers to an organization: by ID, or by the name of exactly one organization.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum OrgRef {
    Id(OrgId),
    Name(String),
}

impl std::fmt::Display for OrgRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Id(id) => write!(f, "{id}"),
            Self::Name(n) => write!(f, "{n}"),
        }
    }
}

#[derive(Debug)]
pub struct DMembership {
    pub path: String,
    pub org: OrgRef,
    pub role: Role,
}

/// A password as given. `Debug` hides the plaintext.
pub enum DPassword {
    Plain(String),
    Hash(String),
}

impl std::fmt::Debug for DPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Plain(_) => f.write_str("Plain(<redacted>)"),
            Self::Hash(_) => f.write_str("Hash(..)"),
        }
    }
}

#[derive(Debug)]
pub struct DAccount {
    pub path: String,
    pub email: Email,
    pub account_type: Option<AccountType>,
    pub password: Option<DPassword>,
    /// `None`: the file says nothing about memberships, so they are left alone.
    pub memberships: Option<Vec<DMembership>>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub country: Option<String>,
    pub operator: Option<bool>,
    pub disabled: Option<bool>,
}

#[derive(Debug)]
pub struct DService {
    pub path: String,
    pub code: ServiceCode,
    pub name: String,
    pub description: Option<String>,
    pub allowed_types: Vec<IntegrationType>,
    pub scopes: Vec<String>,
    pub acts_for: ActsFor,
    pub upstream_url: Option<String>,
    pub identity: Option<IdentityForwarding>,
    pub gateway_path: Option<String>,
    pub limits: Option<Limits>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DOwner {
    Org(OrgRef),
    Account(Email),
}

/// A client secret as given: plaintext (`client_secret`) or digest (`client_secret_sha256`).
pub struct DSecret {
    pub path: String,
    pub digest: String,
    /// The last characters of the plaintext, when it was given.
    pub hint: String,
}

impl std::fmt::Debug for DSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DSecret")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
pub struct DCert {
    pub path: String,
    pub cert: Certificate,
}

#[derive(Debug)]
pub struct DSub {
    pub path: String,
    pub service: ServiceCode,
    pub scopes: Vec<String>,
    pub limits: Option<Limits>,
}

#[derive(Debug)]
pub struct DIntegration {
    pub path: String,
    pub name: String,
    pub integration_type: IntegrationType,
    pub owner: DOwner,
    pub created_by: Option<Email>,
    pub description: Option<String>,
    pub status: Option<IntegrationStatus>,
    pub client_id: Option<ClientId>,
    /// `None`: no secret keys given (keep the active ones, or generate one for a new integration).
    pub secrets: Option<Vec<DSecret>>,
    pub technical_account_id: Option<String>,
    pub technical_account_email: Option<Email>,
    pub certificates: Option<Vec<DCert>>,
    pub subscriptions: Option<Vec<DSub>>,
    pub platform: Option<Platform>,
    pub redirect_uri: Option<String>,
    pub redirect_patterns: Option<Vec<String>>,
    pub id_token_signed_response_alg: Option<SigningAlg>,
    pub may_introspect: Option<bool>,
    /// `None`: the file says nothing about the API key's allowed domains.
    pub allowed_domains: Option<Vec<String>>,
    /// The project (by name) and workspace it lives in; `None`: a project of its own.
    pub placement: Option<(String, String)>,
    /// `None`: the file says nothing about the integration's event providers.
    pub event_providers: Option<Vec<DProvider>>,
    /// `None`: the file says nothing about the integration's event registrations.
    pub event_registrations: Option<Vec<DRegistration>>,
}

/// Shortest client secret accepted when one is given in a file.
pub const MIN_GIVEN_SECRET: usize = 16;

struct Checker<'a> {
    base_dir: &'a Path,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn bad(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem::new(path, message));
    }

    /// Records the error of a parse and returns the value if it parsed.
    fn ok<T, E: std::fmt::Display>(&mut self, path: &str, r: Result<T, E>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.bad(path, e.to_string());
                None
            }
        }
    }

    fn text(&mut self, path: &str, value: Option<String>, max: usize) -> Option<String> {
        let v = value?;
        let v = v.trim().to_owned();
        if v.chars().count() > max || v.chars().any(char::is_control) {
            self.bad(path, format!("must be at most {max} printable characters"));
            return None;
        }
        Some(v)
    }
}

/// Checks the file's values. `base_dir` resolves certificate paths (relative to the file).
pub fn validate(raw: RawFile, base_dir: &Path) -> Result<Desired, Vec<Problem>> {
    let mut c = Checker {
        base_dir,
        problems: Vec::new(),
    };
    let mut d = Desired::default();
    for (i, o) in raw.organizations.into_iter().enumerate() {
        if let Some(o) = organization(&mut c, &format!("organizations[{i}]"), o) {
            d.organizations.push(o);
        }
    }
    for (i, a) in raw.accounts.into_iter().enumerate() {
        if let Some(a) = account(&mut c, &format!("accounts[{i}]"), a) {
            d.accounts.push(a);
        }
    }
    for (i, s) in raw.services.into_iter().enumerate() {
        if let Some(s) = service(&mut c, &format!("services[{i}]"), s) {
            d.services.push(s);
        }
    }
    for (i, x) in raw.integrations.into_iter().enumerate() {
        if let Some(x) = integration(&mut c, &format!("integrations[{i}]"), x) {
            d.integrations.push(x);
        }
    }
    duplicates(&mut c, &d);
    if c.problems.is_empty() { Ok(d) } else { Err(c.problems) }
}

fn duplicates(c: &mut Checker<'_>, d: &Desired) {
    let mut seen = BTreeSet::new();
    for o in &d.organizations {
        let key = match &o.id {
            Some(id) => format!("id {id}"),
            None => format!("name {}", o.name),
        };
        if !seen.insert(key.clone()) {
            let field = if o.id.is_some() { "id" } else { "name" };
            c.bad(
                format!("{}.{field}", o.path),
                format!("organization {key} is listed twice"),
            );
        }
    }
    let mut seen = BTreeSet::new();
    for a in &d.accounts {
        if !seen.insert(a.email.clone()) {
            c.bad(
                format!("{}.email", a.path),
                format!("account {} is listed twice", a.email),
            );
        }
    }
    let mut seen = BTreeSet::new();
    for s in &d.services {
        if !seen.insert(s.code.clone()) {
            c.bad(
                format!("{}.code", s.path),
                format!("service {} is listed twice", s.code),
            );
        }
    }
    let mut seen = BTreeSet::new();
    for x in &d.integrations {
        if let Some(id) = &x.client_id
            && !seen.insert(id.clone())
        {
            c.bad(
                format!("{}.client_id", x.path),
                format!("client ID {id} is listed twice"),
            );
        }
    }
}

fn org_ref(c: &mut Checker<'_>, path: &str, value: &str) -> Option<OrgRef> {
    let value = value.trim();
    if value.contains('@') {
        c.ok(path, OrgId::parse(value)).map(OrgRef::Id)
    } else if value.is_empty() {
        c.bad(path, "must name an organization (its ID, or its name)");
        None
    } else {
        Some(OrgRef::Name(value.to_owned()))
    }
}

fn role(r: RawRole) -> Role {
    match r {
        RawRole::Admin => Role::Admin,
        RawRole::Developer => Role::Developer,
        RawRole::Member => Role::Member,
    }
}

fn organization(c: &mut Checker<'_>, path: &str, o: RawOrganization) -> Option<DOrg> {
    let id = match &o.id {
        Some(id) => Some(c.ok(&format!("{path}.id"), OrgId::parse(id))?),
        None => None,
    };
    let name = c.ok(&format!("{path}.name"), org::parse_org_name(&o.name))?;
    Some(DOrg {
        path: path.to_owned(),
        id,
        name,
        require_mfa: o.require_mfa,
    })
}

fn account(c: &mut Checker<'_>, path: &str, a: RawAccount) -> Option<DAccount> {
    let before = c.problems.len();
    let email = c.ok(&format!("{path}.email"), Email::parse(&a.email));
    let password = match (a.password, a.password_hash) {
        (Some(_), Some(_)) => {
            c.bad(
                format!("{path}.password_hash"),
                "give either password or password_hash, not both",
            );
            None
        }
        (Some(p), None) => c
            .ok(&format!("{path}.password"), password::check_length(&p))
            .map(|()| DPassword::Plain(p)),
        (None, Some(h)) => c
            .ok(&format!("{path}.password_hash"), password::parse_hash(&h))
            .map(DPassword::Hash),
        (None, None) => None,
    };
    let mut memberships = None;
    match (a.organization, a.role) {
        (Some(o), Some(r)) => {
            if let Some(org) = org_ref(c, &format!("{path}.organization"), &o) {
                memberships = Some(vec![DMembership {
                    path: format!("{path}.organization"),
                    org,
                    role: role(r),
                }]);
            }
        }
        (Some(_), None) => c.bad(
            format!("{path}.role"),
            "an account with an organization needs a role: admin, developer or member",
        ),
        (None, Some(_)) => c.bad(
            format!("{path}.organization"),
            "role is given but no organization; add organization = \"<org id>\"",
        ),
        (None, None) => {}
    }
    if let Some(list) = a.memberships {
        let all = memberships.get_or_insert_with(Vec::new);
        for (j, m) in list.into_iter().enumerate() {
            let mpath = format!("{path}.memberships[{j}]");
            if let Some(org) = org_ref(c, &format!("{mpath}.organization"), &m.organization) {
                all.push(DMembership {
                    path: format!("{mpath}.organization"),
                    org,
                    role: role(m.role),
                });
            }
        }
        let mut seen = BTreeSet::new();
        for m in all.iter() {
            if !seen.insert(m.org.clone()) {
                c.problems.push(Problem::new(
                    m.path.clone(),
                    format!("the account is already a member of {}", m.org),
                ));
            }
        }
    }
    let display_name = c.text(&format!("{path}.display_name"), a.display_name, 100);
    let given_name = c.text(&format!("{path}.given_name"), a.given_name, 100);
    let family_name = c.text(&format!("{path}.family_name"), a.family_name, 100);
    let country = c.text(&format!("{path}.country"), a.country, 64);
    if c.problems.len() != before {
        return None;
    }
    Some(DAccount {
        path: path.to_owned(),
        email: email?,
        account_type: a.account_type.map(|t| match t {
            RawAccountType::Personal => AccountType::Personal,
            RawAccountType::Enterprise => AccountType::Enterprise,
        }),
        password,
        memberships,
        display_name,
        given_name,
        family_name,
        country,
        operator: a.operator,
        disabled: a.disabled,
    })
}

fn integration_type(t: RawIntegrationType) -> IntegrationType {
    match t {
        RawIntegrationType::Oauth => IntegrationType::Oauth,
        RawIntegrationType::ServerToServer => IntegrationType::ServerToServer,
        RawIntegrationType::ServiceAccount => IntegrationType::ServiceAccount,
        RawIntegrationType::ApiKey => IntegrationType::ApiKey,
    }
}

fn service(c: &mut Checker<'_>, path: &str, s: RawService) -> Option<DService> {
    let before = c.problems.len();
    let code = c.ok(&format!("{path}.code"), ServiceCode::parse(&s.code));
    let name = s.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        c.bad(
            format!("{path}.name"),
            "service name must be 1–100 printable characters",
        );
    }
    let description = c.text(&format!("{path}.description"), s.description, 2000);
    let mut allowed_types: Vec<IntegrationType> = s.allowed_types.into_iter().map(integration_type).collect();
    // OAuth Server-to-Server replaces the Service Account (JWT) credential: a service that takes
    // one takes its replacement, as migration 0016 made every stored service do. So a file written
    // before that kind existed keeps meaning what it meant, and applying it again does not take
    // the replacement away.
    if allowed_types.contains(&IntegrationType::ServiceAccount) {
        allowed_types.push(IntegrationType::ServerToServer);
    }
    allowed_types.sort();
    allowed_types.dedup();
    if allowed_types.is_empty() {
        c.bad(
            format!("{path}.allowed_types"),
            "list at least one of \"oauth\", \"server_to_server\", \"service_account\", \"api_key\"",
        );
    }
    let mut scopes = Vec::new();
    for (j, scope) in s.scopes.iter().enumerate() {
        let spath = format!("{path}.scopes[{j}]");
        if let Some(scope) = c.ok(&spath, service::parse_scope(scope)) {
            if scopes.contains(&scope) {
                c.bad(spath, format!("scope {scope:?} is listed twice"));
            } else {
                scopes.push(scope);
            }
        }
    }
    let upstream_url = match s.upstream_url {
        Some(u) => match url::Url::parse(&u) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Some(u),
            _ => {
                c.bad(
                    format!("{path}.upstream_url"),
                    format!("{u:?} is not an absolute http(s) URL"),
                );
                None
            }
        },
        None => None,
    };
    let identity = match &s.identity {
        Some(i) => c.ok(&format!("{path}.identity"), IdentityForwarding::parse(i)),
        None => None,
    };
    if let Some(l) = &s.limits {
        c.ok(&format!("{path}.limits"), l.validate());
    }
    if let Some(p) = &s.gateway_path {
        c.ok(
            &format!("{path}.gateway_path"),
            gatehouse_domain::gateway::validate_gateway_path(p),
        );
    }
    let acts_for = match s.acts_for {
        Some(RawActsFor::User) => ActsFor::User,
        Some(RawActsFor::Organization) => ActsFor::Organization,
        None if allowed_types.iter().all(|t| t.is_technical_account()) => ActsFor::Organization,
        None => ActsFor::User,
    };
    if c.problems.len() != before {
        return None;
    }
    Some(DService {
        path: path.to_owned(),
        code: code?,
        name,
        description,
        allowed_types,
        scopes,
        acts_for,
        upstream_url,
        identity,
        gateway_path: s.gateway_path,
        limits: s.limits,
    })
}

/// Keys each integration type does not take, with the reason given when one is present anyway.
fn forbidden_keys(x: &RawIntegration, t: IntegrationType) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    let secret_given = x.client_secret.is_some() || x.client_secret_sha256.is_some();
    let oauth_keys = [
        ("platform", x.platform.is_some()),
        ("redirect_uri", x.redirect_uri.is_some()),
        ("redirect_patterns", x.redirect_patterns.is_some()),
        ("id_token_signed_response_alg", x.id_token_signed_response_alg.is_some()),
    ];
    let technical_keys = [
        ("technical_account_id", x.technical_account_id.is_some()),
        ("technical_account_email", x.technical_account_email.is_some()),
    ];
    let certificates_key = ("certificates", x.certificates.is_some());
    let sa_keys = [technical_keys[0], technical_keys[1], certificates_key];
    match t {
        IntegrationType::ApiKey => {
            let why =
                "API key integrations have a client ID only: no secret, certificates, redirects or technical account";
            if x.client_secret.is_some() {
                out.push(("client_secret", why));
            }
            if x.client_secret_sha256.is_some() {
                out.push(("client_secret_sha256", why));
            }
            out.extend(oauth_keys.iter().chain(&sa_keys).filter(|k| k.1).map(|k| (k.0, why)));
        }
        IntegrationType::Oauth => {
            let why = "only server_to_server integrations and service accounts have a technical account, and only \
                       service accounts certificates";
            out.extend(sa_keys.iter().filter(|k| k.1).map(|k| (k.0, why)));
            if matches!(x.platform, Some(RawPlatform::Spa | RawPlatform::Native)) && secret_given {
                let why = "spa and native OAuth integrations are public clients (PKCE) and have no client secret";
                if x.client_secret.is_some() {
                    out.push(("client_secret", why));
                }
                if x.client_secret_sha256.is_some() {
                    out.push(("client_secret_sha256", why));
                }
            }
        }
        IntegrationType::ServiceAccount => {
            let why = "only OAuth integrations have a platform and redirect URIs";
            out.extend(oauth_keys.iter().filter(|k| k.1).map(|k| (k.0, why)));
        }
        IntegrationType::ServerToServer => {
            let why = "only OAuth integrations have a platform and redirect URIs";
            out.extend(oauth_keys.iter().filter(|k| k.1).map(|k| (k.0, why)));
            if certificates_key.1 {
                out.push((
                    "certificates",
                    "server_to_server integrations authenticate with a client secret and have no certificates",
                ));
            }
        }
    }
    out
}

fn integration(c: &mut Checker<'_>, path: &str, x: RawIntegration) -> Option<DIntegration> {
    let before = c.problems.len();
    let t = integration_type(x.integration_type);
    for (key, why) in forbidden_keys(&x, t) {
        c.bad(format!("{path}.{key}"), why);
    }
    let name = c.ok(&format!("{path}.name"), integration::parse_name(&x.name));
    let owner = match (&x.organization, &x.owner) {
        (Some(_), Some(_)) => {
            c.bad(format!("{path}.owner"), "give either organization or owner, not both");
            None
        }
        (Some(o), None) => org_ref(c, &format!("{path}.organization"), o).map(DOwner::Org),
        (None, Some(email)) => {
            if t.is_technical_account() {
                c.bad(
                    format!("{path}.owner"),
                    format!(
                        "{} must belong to an organization, not a person; use organization = \"<org id>\" \
                         instead of owner",
                        if t == IntegrationType::ServiceAccount {
                            "a service account"
                        } else {
                            "a server_to_server integration"
                        }
                    ),
                );
                None
            } else {
                c.ok(&format!("{path}.owner"), Email::parse(email)).map(DOwner::Account)
            }
        }
        (None, None) => {
            c.bad(
                format!("{path}.organization"),
                "an integration needs an owner: organization = \"<org id>\" or owner = \"<email>\"",
            );
            None
        }
    };
    let created_by = match &x.created_by {
        Some(e) => c.ok(&format!("{path}.created_by"), Email::parse(e)),
        None => None,
    };
    let description = c.text(&format!("{path}.description"), x.description.clone(), 2000);
    let client_id = match &x.client_id {
        Some(id) => c.ok(&format!("{path}.client_id"), ClientId::parse(id)),
        None => None,
    };
    let secrets = secrets(c, path, &x);
    let technical_account_id = match &x.technical_account_id {
        Some(id) => c.ok(&format!("{path}.technical_account_id"), TechnicalAccount::parse_id(id)),
        None => None,
    };
    let technical_account_email = match &x.technical_account_email {
        Some(e) => c.ok(&format!("{path}.technical_account_email"), Email::parse(e)),
        None => None,
    };
    let certificates = x.certificates.as_ref().map(|list| certificates(c, path, list));
    let subscriptions = x.subscriptions.map(|list| {
        let mut out: Vec<DSub> = Vec::new();
        for (j, s) in list.into_iter().enumerate() {
            let spath = format!("{path}.subscriptions[{j}]");
            let Some(code) = c.ok(&format!("{spath}.service"), ServiceCode::parse(&s.service)) else {
                continue;
            };
            if out.iter().any(|o| o.service == code) {
                c.bad(format!("{spath}.service"), format!("service {code} is listed twice"));
                continue;
            }
            let mut scopes = Vec::new();
            for (k, scope) in s.scopes.iter().enumerate() {
                if let Some(scope) = c.ok(&format!("{spath}.scopes[{k}]"), service::parse_scope(scope)) {
                    scopes.push(scope);
                }
            }
            if let Some(l) = &s.limits {
                c.ok(&format!("{spath}.limits"), l.validate());
            }
            out.push(DSub {
                path: spath,
                service: code,
                scopes,
                limits: s.limits,
            });
        }
        out
    });
    let platform = x.platform.map(|p| match p {
        RawPlatform::Web => Platform::Web,
        RawPlatform::Spa => Platform::Spa,
        RawPlatform::Native => Platform::Native,
    });
    let mut redirect_uri = None;
    let mut redirect_patterns = None;
    if t == IntegrationType::Oauth {
        match platform {
            None => c.bad(
                format!("{path}.platform"),
                "OAuth integrations need platform = \"web\", \"spa\" or \"native\"",
            ),
            Some(p) => match &x.redirect_uri {
                None => c.bad(
                    format!("{path}.redirect_uri"),
                    "OAuth integrations need a default redirect URI",
                ),
                Some(u) => redirect_uri = c.ok(&format!("{path}.redirect_uri"), redirects::check_redirect_uri(p, u)),
            },
        }
        if let Some(list) = &x.redirect_patterns {
            let mut ok = Vec::new();
            for (j, p) in list.iter().enumerate() {
                if let Some(p) = c.ok(
                    &format!("{path}.redirect_patterns[{j}]"),
                    redirects::check_redirect_pattern(platform.unwrap_or(Platform::Web), p),
                ) {
                    ok.push(p);
                }
            }
            redirect_patterns = Some(ok);
        }
    }
    // A value that does not parse is a problem, so the integration is refused below.
    let id_token_signed_response_alg = x
        .id_token_signed_response_alg
        .as_deref()
        .and_then(|a| c.ok(&format!("{path}.id_token_signed_response_alg"), SigningAlg::parse(a)));
    let allowed_domains = x.allowed_domains.as_deref().and_then(|d| {
        c.ok(
            &format!("{path}.allowed_domains"),
            gatehouse_domain::allowed_domains::parse_allowed_domains(d),
        )
    });
    let placement = match (&x.project, &x.workspace) {
        (None, None) => None,
        (None, Some(_)) => {
            c.bad(
                format!("{path}.workspace"),
                "a workspace is named with its project: give project too",
            );
            None
        }
        (Some(p), w) => {
            let project = c.ok(
                &format!("{path}.project"),
                gatehouse_domain::project::parse_name("project", p),
            );
            let workspace = c.ok(
                &format!("{path}.workspace"),
                gatehouse_domain::project::parse_name(
                    "workspace",
                    w.as_deref().unwrap_or(gatehouse_domain::project::PRODUCTION),
                ),
            );
            project.zip(workspace)
        }
    };
    let event_providers = x
        .event_providers
        .map(|list| event_file::providers(&mut c.problems, path, list));
    let event_registrations = x
        .event_registrations
        .map(|list| event_file::registrations(&mut c.problems, path, list));
    if c.problems.len() != before {
        return None;
    }
    Some(DIntegration {
        path: path.to_owned(),
        name: name?,
        integration_type: t,
        owner: owner?,
        created_by,
        description,
        status: x.status.map(|s| match s {
            RawStatus::Active => IntegrationStatus::Active,
            RawStatus::Disabled => IntegrationStatus::Disabled,
        }),
        client_id,
        secrets,
        technical_account_id,
        technical_account_email,
        certificates,
        subscriptions,
        platform,
        redirect_uri,
        redirect_patterns,
        id_token_signed_response_alg,
        may_introspect: x.may_introspect,
        allowed_domains,
        placement,
        event_providers,
        event_registrations,
    })
}

fn secrets(c: &mut Checker<'_>, path: &str, x: &RawIntegration) -> Option<Vec<DSecret>> {
    if x.client_secret.is_none() && x.client_secret_sha256.is_none() {
        return None;
    }
    let mut out: Vec<DSecret> = Vec::new();
    if let Some(s) = &x.client_secret {
        let spath = format!("{path}.client_secret");
        let printable = s.chars().all(|ch| ch.is_ascii_graphic());
        if s.len() < MIN_GIVEN_SECRET || s.len() > 512 || !printable {
            c.bad(
                spath,
                format!("a client secret must be {MIN_GIVEN_SECRET}–512 visible ASCII characters without spaces"),
            );
        } else {
            out.push(DSecret {
                path: spath,
                digest: secret::digest(s),
                hint: secret::hint(s),
            });
        }
    }
    if let Some(d) = &x.client_secret_sha256 {
        let (list, many) = d.to_list();
        for (j, d) in list.iter().enumerate() {
            let dpath = if many {
                format!("{path}.client_secret_sha256[{j}]")
            } else {
                format!("{path}.client_secret_sha256")
            };
            if let Some(digest) = c.ok(&dpath, secret::parse_digest(d)) {
                if out.iter().any(|s| s.digest == digest) {
                    c.bad(dpath, "this secret is listed twice");
                } else {
                    out.push(DSecret {
                        path: dpath,
                        digest,
                        hint: String::new(),
                    });
                }
            }
        }
    }
    if out.len() > MAX_ACTIVE_SECRETS {
        c.bad(
            format!("{path}.client_secret_sha256"),
            format!("at most {MAX_ACTIVE_SECRETS} client secrets may be active at once"),
        );
    }
    Some(out)
}

fn certificates(c: &mut Checker<'_>, path: &str, list: &[String]) -> Vec<DCert> {
    let mut out: Vec<DCert> = Vec::new();
    for (j, entry) in list.iter().enumerate() {
        let cpath = format!("{path}.certificates[{j}]");
        let (pem, origin) = if entry.contains("-----BEGIN") {
            (entry.clone(), String::new())
        } else {
            let file = c.base_dir.join(entry.trim());
            match std::fs::metadata(&file) {
                // A device or FIFO reports no size and may never end (`/dev/zero`, `/dev/stdin`):
                // reading it would block or exhaust memory instead of failing.
                Ok(m) if !m.is_file() => {
                    c.bad(
                        cpath,
                        format!(
                            "{}: not a regular file; give the path of a PEM certificate file",
                            entry.trim()
                        ),
                    );
                    continue;
                }
                Ok(m) if m.len() > MAX_PEM_BYTES as u64 => {
                    c.bad(
                        cpath,
                        format!("{}: {}", entry.trim(), certificate::CertificateError::TooLarge),
                    );
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    c.bad(cpath, format!("cannot read certificate file {}: {e}", file.display()));
                    continue;
                }
            }
            match std::fs::read_to_string(&file) {
                Ok(text) => (text, format!("{}: ", entry.trim())),
                Err(e) => {
                    c.bad(cpath, format!("cannot read certificate file {}: {e}", file.display()));
                    continue;
                }
            }
        };
        match certificate::inspect(&pem) {
            Ok(cert) => {
                if out.iter().any(|o| o.cert.fingerprint == cert.fingerprint) {
                    c.bad(cpath, format!("{origin}this certificate is listed twice"));
                } else {
                    out.push(DCert { path: cpath, cert });
                }
            }
            Err(e) => c.bad(cpath, format!("{origin}{e}")),
        }
    }
    if out.len() > MAX_CERTIFICATES {
        c.bad(
            format!("{path}.certificates"),
            format!("at most {MAX_CERTIFICATES} certificates may be active at once"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<Problem> {
        let raw = super::super::file::parse(text).expect("the file parses");
        validate(raw, Path::new("/")).expect_err("the file is refused")
    }

    #[test]
    fn a_certificate_path_that_is_not_a_regular_file_is_refused_without_reading_it() {
        // `/dev/zero` reports a size of 0 and never ends: it used to be read until memory ran out.
        for path in ["/dev/zero", "/tmp"] {
            if !Path::new(path).exists() {
                continue;
            }
            let p = problems(&format!(
                "[[integrations]]\nname = \"s\"\ntype = \"service_account\"\nowner = \"a@b.test\"\n\
                 certificates = [\"{path}\"]\n"
            ));
            let cert = p
                .iter()
                .find(|p| p.path == "integrations[0].certificates[0]")
                .unwrap_or_else(|| panic!("no problem names the certificate: {p:?}"));
            assert!(cert.message.contains("not a regular file"), "{}", cert.message);
        }
    }
}
