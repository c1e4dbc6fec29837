//! What a valid new or edited integration is, and building one: a fresh client ID, a technical
//! account for the types that act as one (service accounts and OAuth Server-to-Server), and the
//! first client secret for the types that have one.
//!
//! Every problem of a submission is reported at once, each with the field it belongs to.

use rand::RngCore;

use crate::{
    DomainError, Timestamp,
    identity::{FieldError, FieldErrors},
    ids::{ClientId, TechnicalAccount, new_row_id},
    integration::{Integration, IntegrationStatus, IntegrationType, Owner, Platform, parse_name},
    redirect::{RedirectUri, parse_patterns},
    token::keys::SigningAlg,
};

use super::secrets::{NewSecret, new_secret};

/// Longest description accepted, in characters.
pub const MAX_DESCRIPTION: usize = 1000;

/// A submitted new integration, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationInput {
    pub name: String,
    pub description: String,
    pub integration_type: IntegrationType,
    pub platform: Option<Platform>,
    pub owner: Owner,
    pub redirect_uri: Option<String>,
    pub redirect_patterns: Vec<String>,
    /// The workspace to create it in; `None` gives it a project of its own
    /// ([`crate::project::own_project`]).
    pub workspace: Option<String>,
}

/// A new integration and, for the types that have one, its first client secret (shown once).
#[derive(Debug)]
pub struct Created {
    pub integration: Integration,
    pub secret: Option<NewSecret>,
}

/// Everything a created integration takes from its surroundings.
#[derive(Debug, Clone, Copy)]
pub struct CreateContext<'a> {
    /// The account creating it (`None` for a service account's token).
    pub creator: Option<&'a str>,
    pub now: Timestamp,
    /// Domain of technical accounts (`<hex>@techacct.<domain>`).
    pub technical_account_domain: &'a str,
    /// The workspace it is created in.
    pub workspace_id: &'a str,
}

/// Parses a description: at most [`MAX_DESCRIPTION`] characters, no control characters but line breaks.
pub fn parse_description(s: &str) -> Result<String, DomainError> {
    let s = s.trim();
    if s.chars().count() > MAX_DESCRIPTION || s.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
        return Err(DomainError::new(
            "invalid_description",
            format!("description must be at most {MAX_DESCRIPTION} characters without control characters"),
        ));
    }
    Ok(s.replace("\r\n", "\n"))
}

/// The redirect settings of an OAuth integration, or the refusal of any for another type.
fn redirect_settings(
    t: IntegrationType,
    platform: Option<Platform>,
    uri: Option<&str>,
    patterns: &[String],
    errors: &mut FieldErrors,
) -> (Option<String>, Vec<String>) {
    let uri = uri.map(str::trim).filter(|u| !u.is_empty());
    if t != IntegrationType::Oauth {
        if platform.is_some() {
            errors.push(FieldError::new(
                "platform",
                "platform_not_applicable",
                "Only OAuth integrations have a platform.",
            ));
        }
        if uri.is_some() || !patterns.is_empty() {
            errors.push(FieldError::new(
                "redirect_uri",
                "redirect_not_applicable",
                "Only OAuth integrations have redirect URIs.",
            ));
        }
        return (None, Vec::new());
    }
    let Some(platform) = platform else {
        errors.push(FieldError::new(
            "platform",
            "platform_required",
            "Choose where the OAuth integration runs: web (a server, with a client secret), spa (a single-page \
             app) or native (a desktop or mobile app).",
        ));
        return (None, Vec::new());
    };
    let uri = match uri {
        None => {
            errors.push(FieldError::new(
                "redirect_uri",
                "redirect_uri_required",
                "An OAuth integration needs a default redirect URI, e.g. https://app.example.com/callback.",
            ));
            None
        }
        Some(u) => match RedirectUri::parse(u, platform) {
            Ok(u) => Some(u.as_str().to_owned()),
            Err(e) => {
                errors.push(FieldError {
                    field: "redirect_uri",
                    error: e,
                });
                None
            }
        },
    };
    let patterns: Vec<String> = patterns
        .iter()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    let patterns = match parse_patterns(&patterns, platform) {
        Ok(list) => list.iter().map(|p| p.as_str().to_owned()).collect(),
        Err(e) => {
            errors.push(FieldError {
                field: "redirect_patterns",
                error: e,
            });
            Vec::new()
        }
    };
    (uri, patterns)
}

/// Validates a new integration and builds it, with its first client secret if its type has one.
pub fn create(input: IntegrationInput, ctx: CreateContext<'_>, rng: &mut impl RngCore) -> Result<Created, FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = parse_name(&input.name).map_err(|e| {
        errors.push(FieldError {
            field: "name",
            error: e,
        })
    });
    let description = parse_description(&input.description).map_err(|e| {
        errors.push(FieldError {
            field: "description",
            error: e,
        })
    });
    let t = input.integration_type;
    if t.is_technical_account() && matches!(input.owner, Owner::Account(_)) {
        errors.push(FieldError::new(
            "owner",
            "service_account_requires_org_admin",
            format!(
                "{} integration belongs to an organization; choose one you administer.",
                capitalized(t.with_article())
            ),
        ));
    }
    let (redirect_uri, redirect_patterns) = redirect_settings(
        t,
        input.platform,
        input.redirect_uri.as_deref(),
        &input.redirect_patterns,
        &mut errors,
    );
    let (Ok(name), Ok(description)) = (name, description) else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let technical = t
        .is_technical_account()
        .then(|| TechnicalAccount::generate(rng, ctx.technical_account_domain));
    let integration = Integration {
        id: new_row_id(rng),
        client_id: ClientId::generate(rng),
        name,
        description,
        integration_type: t,
        platform: if t == IntegrationType::Oauth {
            input.platform
        } else {
            None
        },
        owner: input.owner,
        created_by: ctx.creator.map(str::to_owned),
        redirect_uri,
        redirect_patterns,
        technical_account_id: technical.as_ref().map(|a| a.id.clone()),
        technical_account_email: technical.map(|a| a.email),
        id_token_signed_response_alg: None,
        may_introspect: false,
        allowed_domains: Vec::new(),
        workspace_id: ctx.workspace_id.to_owned(),
        status: IntegrationStatus::Active,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    let secret = integration
        .has_secret()
        .then(|| new_secret(&integration.id, ctx.now, None, rng));
    Ok(Created { integration, secret })
}

/// "an OAuth…" → "An OAuth…".
fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|first| first.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// A submitted edit: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntegrationChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub redirect_uri: Option<String>,
    pub redirect_patterns: Option<Vec<String>>,
    /// OAuth: the ID-token algorithm; `Some(None)` goes back to the configured one.
    pub id_token_signed_response_alg: Option<Option<SigningAlg>>,
    /// Whether it may introspect other clients' tokens (the caller's right to change it is the
    /// policy's decision).
    pub may_introspect: Option<bool>,
    /// The web domains its API key may be used from (`Some(vec![])` lifts the restriction).
    pub allowed_domains: Option<Vec<String>>,
}

/// Applies an edit to `current`; the type, platform, owner and credentials never change.
pub fn edit(current: &Integration, changes: &IntegrationChanges, now: Timestamp) -> Result<Integration, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut next = current.clone();
    if let Some(n) = &changes.name {
        match parse_name(n) {
            Ok(n) => next.name = n,
            Err(e) => errors.push(FieldError {
                field: "name",
                error: e,
            }),
        }
    }
    if let Some(d) = &changes.description {
        match parse_description(d) {
            Ok(d) => next.description = d,
            Err(e) => errors.push(FieldError {
                field: "description",
                error: e,
            }),
        }
    }
    if changes.redirect_uri.is_some() || changes.redirect_patterns.is_some() {
        let uri = changes.redirect_uri.as_deref().or(current.redirect_uri.as_deref());
        let patterns = changes.redirect_patterns.as_ref().unwrap_or(&current.redirect_patterns);
        let (uri, patterns) = redirect_settings(current.integration_type, current.platform, uri, patterns, &mut errors);
        next.redirect_uri = uri;
        next.redirect_patterns = patterns;
    }
    if let Some(alg) = changes.id_token_signed_response_alg {
        if alg.is_some() && current.integration_type != IntegrationType::Oauth {
            errors.push(FieldError::new(
                "id_token_signed_response_alg",
                "id_token_alg_not_applicable",
                "Only OAuth integrations receive ID tokens.",
            ));
        }
        next.id_token_signed_response_alg = alg;
    }
    if let Some(may) = changes.may_introspect {
        next.may_introspect = may;
    }
    if let Some(domains) = &changes.allowed_domains {
        match crate::allowed_domains::parse_allowed_domains(domains) {
            Ok(d) => next.allowed_domains = d,
            Err(e) => errors.push(FieldError {
                field: "allowed_domains",
                error: e,
            }),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    next.updated_at = now;
    Ok(next)
}

/// The integration with a new status (a no-op change still moves `updated_at`).
pub fn set_status(current: &Integration, status: IntegrationStatus, now: Timestamp) -> Integration {
    let mut next = current.clone();
    next.status = status;
    next.updated_at = now;
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    fn ctx() -> CreateContext<'static> {
        CreateContext {
            creator: Some("acc"),
            now: 1_000,
            technical_account_domain: "gatehouse",
            workspace_id: "w",
        }
    }

    fn input(t: IntegrationType) -> IntegrationInput {
        IntegrationInput {
            name: "  My app ".into(),
            description: String::new(),
            integration_type: t,
            platform: None,
            owner: Owner::Organization("0123456789abcdef01234567@GatehouseOrg".into()),
            redirect_uri: None,
            redirect_patterns: vec![],
            workspace: None,
        }
    }

    fn fields(e: &FieldErrors) -> Vec<&str> {
        e.iter().map(|f| f.field).collect()
    }

    #[test]
    fn technical_account_kinds_get_a_technical_account_and_a_secret() {
        for t in [IntegrationType::ServiceAccount, IntegrationType::ServerToServer] {
            technical_account_and_secret(t);
        }
    }

    fn technical_account_and_secret(t: IntegrationType) {
        let c = create(input(t), ctx(), &mut StdRng::seed_from_u64(1)).unwrap();
        let i = &c.integration;
        assert_eq!((i.integration_type, i.platform), (t, None));
        assert_eq!(i.name, "My app");
        assert_eq!(i.client_id.as_str().len(), 32);
        assert!(
            i.technical_account_id
                .as_deref()
                .unwrap()
                .ends_with("@techacct.gatehouse")
        );
        assert!(
            i.technical_account_email
                .as_deref()
                .unwrap()
                .ends_with("@techacct.gatehouse")
        );
        let s = c.secret.unwrap();
        assert!(s.plaintext.starts_with("ghs_"));
        assert_eq!(s.stored.integration_id, i.id);
        assert_eq!(i.created_by.as_deref(), Some("acc"));
    }

    #[test]
    fn api_keys_have_no_secret_and_no_redirects() {
        let c = create(input(IntegrationType::ApiKey), ctx(), &mut StdRng::seed_from_u64(2)).unwrap();
        assert!(c.secret.is_none());
        assert!(c.integration.technical_account_id.is_none());
        let mut bad = input(IntegrationType::ApiKey);
        bad.platform = Some(Platform::Web);
        bad.redirect_uri = Some("https://x.example/cb".into());
        let e = create(bad, ctx(), &mut StdRng::seed_from_u64(2)).unwrap_err();
        assert_eq!(fields(&e), vec!["platform", "redirect_uri"]);
    }

    #[test]
    fn oauth_needs_a_platform_and_a_valid_redirect_and_reports_every_problem() {
        let mut bad = input(IntegrationType::Oauth);
        bad.name = String::new();
        let e = create(bad.clone(), ctx(), &mut StdRng::seed_from_u64(3)).unwrap_err();
        assert_eq!(fields(&e), vec!["name", "platform"]);
        bad.platform = Some(Platform::Web);
        bad.redirect_uri = Some("http://app.example.com/cb".into());
        bad.redirect_patterns = vec!["https://.*".into()];
        let e = create(bad, ctx(), &mut StdRng::seed_from_u64(3)).unwrap_err();
        assert_eq!(fields(&e), vec!["name", "redirect_uri", "redirect_patterns"]);
        assert_eq!(e[2].error.code, "invalid_redirect_pattern");
    }

    #[test]
    fn only_confidential_oauth_clients_get_a_secret() {
        for (platform, secret) in [(Platform::Web, true), (Platform::Spa, false), (Platform::Native, false)] {
            let mut i = input(IntegrationType::Oauth);
            i.platform = Some(platform);
            i.redirect_uri = Some("https://app.example.com/cb".into());
            i.redirect_patterns = vec!["https://app\\.example\\.com/.*".into(), "  ".into()];
            let c = create(i, ctx(), &mut StdRng::seed_from_u64(4)).unwrap();
            assert_eq!(c.secret.is_some(), secret, "{platform:?}");
            assert_eq!(c.integration.redirect_patterns.len(), 1);
        }
    }

    #[test]
    fn personal_service_accounts_are_refused() {
        for t in [IntegrationType::ServiceAccount, IntegrationType::ServerToServer] {
            let mut i = input(t);
            i.owner = Owner::Account("acc".into());
            let e = create(i, ctx(), &mut StdRng::seed_from_u64(5)).unwrap_err();
            assert_eq!(fields(&e), vec!["owner"]);
            assert!(
                e[0].error.message.starts_with(&format!("A{}", &t.with_article()[1..])),
                "{e:?}"
            );
        }
    }

    #[test]
    fn server_to_server_has_no_platform_and_no_redirects() {
        let mut bad = input(IntegrationType::ServerToServer);
        bad.platform = Some(Platform::Web);
        bad.redirect_uri = Some("https://x.example/cb".into());
        let e = create(bad, ctx(), &mut StdRng::seed_from_u64(7)).unwrap_err();
        assert_eq!(fields(&e), vec!["platform", "redirect_uri"]);
    }

    #[test]
    fn edits_change_only_what_is_given_and_validate_it() {
        let mut i = input(IntegrationType::Oauth);
        i.platform = Some(Platform::Spa);
        i.redirect_uri = Some("https://app.example.com/cb".into());
        let c = create(i, ctx(), &mut StdRng::seed_from_u64(6)).unwrap().integration;
        let changed = edit(
            &c,
            &IntegrationChanges {
                description: Some("hello".into()),
                redirect_patterns: Some(vec!["https://app\\.example\\.com/x/.*".into()]),
                ..Default::default()
            },
            2_000,
        )
        .unwrap();
        assert_eq!(changed.name, c.name);
        assert_eq!(changed.redirect_uri, c.redirect_uri);
        assert_eq!(changed.redirect_patterns, vec!["https://app\\.example\\.com/x/.*"]);
        assert_eq!(changed.updated_at, 2_000);
        let e = edit(
            &c,
            &IntegrationChanges {
                redirect_patterns: Some(vec!["https://example.com/.*".into()]),
                ..Default::default()
            },
            2_000,
        )
        .unwrap_err();
        assert_eq!(fields(&e), vec!["redirect_patterns"]);
    }
}
