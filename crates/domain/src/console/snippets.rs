//! The copy-ready commands on an integration's credentials page: for each flow its type allows
//! ([`crate::token::client_auth::grants_of`]), the `curl` (and, for a service account's JWT, the
//! `openssl` lines that sign it) against this deployment's real endpoints, with the integration's
//! identifiers and scopes filled in.
//!
//! The commands name secrets by shell variable only (`$CLIENT_SECRET`, the file `private.key`):
//! Gatehouse does not keep a client secret or a generated private key, and a page does not show
//! them again. A test runs the commands exactly as the page shows them.

use url::form_urlencoded;

use crate::{
    Timestamp,
    integration::{Integration, IntegrationType},
    service::Subscription,
    token::scope::IDENTITY_SCOPES,
};

/// How long the claims template's `exp` lies ahead of the time the page was shown, in seconds.
pub const CLAIMS_TEMPLATE_LIFETIME: i64 = 3_600;

/// One copy-ready command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    /// A stable identifier (an HTML `id`, and what tests look for).
    pub id: &'static str,
    pub title: &'static str,
    /// What the command needs and what it does, in a sentence or two.
    pub explanation: String,
    pub command: String,
}

/// The scopes of the integration's subscriptions, each once, in order.
pub fn subscribed_scopes(subscriptions: &[Subscription]) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for s in subscriptions.iter().flat_map(|s| s.scopes.iter()) {
        if !scopes.contains(s) {
            scopes.push(s.clone());
        }
    }
    scopes
}

fn client_credentials(base: &str, client_id: &str, scopes: &[String]) -> Snippet {
    let mut command = format!(
        "curl -sS -X POST '{base}/oauth/token' \\\n  -u \"{client_id}:$CLIENT_SECRET\" \\\n  -d 'grant_type=client_credentials'"
    );
    if !scopes.is_empty() {
        command.push_str(&format!(" \\\n  --data-urlencode 'scope={}'", scopes.join(" ")));
    }
    Snippet {
        id: "curl-client-credentials",
        title: "Client credentials",
        explanation: "Set CLIENT_SECRET to one of this integration's client secrets (shown once when it was made), \
                      then run this: the answer's access_token carries the scopes of the integration's subscriptions."
            .to_owned(),
        command,
    }
}

/// The request Adobe documents for OAuth Server-to-Server: everything in the form body, scopes
/// comma-separated.
fn ims_client_credentials(base: &str, client_id: &str, scopes: &[String]) -> Snippet {
    let mut command = format!(
        "curl -sS -X POST '{base}/ims/token/v3' \\\n  -H 'Content-Type: application/x-www-form-urlencoded' \\\n  -d \
         'grant_type=client_credentials' \\\n  -d 'client_id={client_id}' \\\n  -d \"client_secret=$CLIENT_SECRET\""
    );
    if !scopes.is_empty() {
        command.push_str(&format!(" \\\n  --data-urlencode 'scope={}'", scopes.join(",")));
    }
    Snippet {
        id: "curl-ims-client-credentials",
        title: "Client credentials (Adobe-compatible)",
        explanation: "The same grant as Adobe's OAuth Server-to-Server clients send it: client ID and secret in the \
                      form, scopes comma-separated. The token lives 24 hours (expires_in is in seconds); there is no \
                      refresh token: ask for a new access token when it expires."
            .to_owned(),
        command,
    }
}

/// A service account's JWT claims, as the exchange expects them (compat §2): issued by the
/// organization, about the technical account, for this client at this deployment, with a
/// metascope claim `<base>/s/<scope>: true` per subscribed scope. `exp` is `now` plus
/// [`CLAIMS_TEMPLATE_LIFETIME`].
pub fn claims_template(base: &str, i: &Integration, subscriptions: &[Subscription], now: Timestamp) -> String {
    let mut claims = serde_json::Map::new();
    claims.insert("exp".into(), (now + CLAIMS_TEMPLATE_LIFETIME).into());
    claims.insert("iss".into(), i.org_id().unwrap_or(i.client_id.as_str()).into());
    claims.insert(
        "sub".into(),
        i.technical_account_id.as_deref().unwrap_or(i.client_id.as_str()).into(),
    );
    claims.insert("aud".into(), format!("{base}/c/{}", i.client_id).into());
    for s in subscribed_scopes(subscriptions) {
        claims.insert(format!("{base}/s/{s}"), true.into());
    }
    // A map of strings, numbers and booleans always serializes.
    serde_json::to_string_pretty(&claims).unwrap_or_default()
}

/// The shell lines that sign the claims in `$CLAIMS` with `private.key` (RS256) into `$JWT`.
fn sign_lines(claims: &str) -> String {
    format!(
        "CLAIMS='{claims}'\n\
         b64url() {{ openssl base64 -A | tr '+/' '-_' | tr -d '='; }}\n\
         HEADER=$(printf '%s' '{{\"alg\":\"RS256\",\"typ\":\"JWT\"}}' | b64url)\n\
         PAYLOAD=$(printf '%s' \"$CLAIMS\" | b64url)\n\
         SIGNATURE=$(printf '%s.%s' \"$HEADER\" \"$PAYLOAD\" | openssl dgst -sha256 -sign private.key | b64url)\n\
         JWT=\"$HEADER.$PAYLOAD.$SIGNATURE\""
    )
}

fn authorize_url(base: &str, path: &str, i: &Integration, scopes: &[String]) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("response_type", "code");
    q.append_pair("client_id", i.client_id.as_str());
    if let Some(r) = &i.redirect_uri {
        q.append_pair("redirect_uri", r);
    }
    q.append_pair("scope", &scopes.join(" "));
    q.append_pair("state", "STATE");
    q.append_pair("code_challenge_method", "S256");
    format!("{base}{path}?{}&code_challenge=$CHALLENGE", q.finish())
}

fn authorization_code(base: &str, i: &Integration, scopes: &[String]) -> Snippet {
    let mut requested: Vec<String> = vec!["openid".into(), "email".into(), "profile".into()];
    if i.has_secret() {
        requested.push(IDENTITY_SCOPES[3].into());
    }
    for s in scopes {
        if !requested.contains(s) {
            requested.push(s.clone());
        }
    }
    let redirect = i.redirect_uri.clone().unwrap_or_else(|| "REDIRECT_URI".into());
    let auth = if i.has_secret() {
        format!("-u \"{}:$CLIENT_SECRET\"", i.client_id)
    } else {
        format!("-d 'client_id={}'", i.client_id)
    };
    let command = format!(
        "VERIFIER=$(openssl rand -base64 48 | tr '+/' '-_' | tr -d '=\\n')\n\
         CHALLENGE=$(printf '%s' \"$VERIFIER\" | openssl dgst -sha256 -binary | openssl base64 -A | tr '+/' '-_' | tr -d '=')\n\
         echo \"Open in a browser and sign in: {url}\"\n\
         # Then set CODE to the code parameter of the redirect to {redirect}\n\
         curl -sS -X POST '{base}/oauth/token' \\\n  {auth} \\\n  -d 'grant_type=authorization_code' \\\n  -d \"code=$CODE\" \\\n  \
         --data-urlencode 'redirect_uri={redirect}' \\\n  -d \"code_verifier=$VERIFIER\"",
        url = authorize_url(base, "/oauth/authorize", i, &requested),
    );
    Snippet {
        id: "curl-authorization-code",
        title: "Authorization code with PKCE (a person signs in)",
        explanation: format!(
            "Makes a PKCE verifier and challenge, prints the sign-in link, then trades the code for the person's \
             tokens.{} The Adobe-compatible paths work the same way: /ims/authorize/v2 and /ims/token/v3.",
            if i.has_secret() {
                " Set CLIENT_SECRET to one of this integration's client secrets."
            } else {
                " A public client sends no secret: PKCE protects the code."
            }
        ),
        command,
    }
}

/// Every command that applies to `i` with its `subscriptions` at the deployment `base` (the
/// public URL, without a trailing slash), in the order the page shows them. `now` dates the
/// service account's claims template.
pub fn snippets(base: &str, i: &Integration, subscriptions: &[Subscription], now: Timestamp) -> Vec<Snippet> {
    let scopes = subscribed_scopes(subscriptions);
    let client_id = i.client_id.as_str();
    let mut out = Vec::new();
    match i.integration_type {
        IntegrationType::ServiceAccount => {
            let sign = sign_lines(&claims_template(base, i, subscriptions, now));
            out.push(Snippet {
                id: "curl-jwt-exchange",
                title: "Service account JWT exchange (Adobe-compatible)",
                explanation: "Signs the claims below with the private key of one of this integration's certificates \
                              (in the file private.key), then exchanges the JWT for an access token. Set \
                              CLIENT_SECRET to one of this integration's client secrets. The claims expire an hour \
                              after this page was shown; change exp (seconds since 1970) for a later use."
                    .to_owned(),
                command: format!(
                    "{sign}\ncurl -sS -X POST '{base}/ims/exchange/jwt' \\\n  -d 'client_id={client_id}' \\\n  -d \
                     \"client_secret=$CLIENT_SECRET\" \\\n  -d \"jwt_token=$JWT\""
                ),
            });
            out.push(Snippet {
                id: "curl-jwt-bearer",
                title: "JWT bearer grant (RFC 7523)",
                explanation: "The same signed claims on the standard token endpoint: the assertion alone \
                              authenticates the service account."
                    .to_owned(),
                command: format!(
                    "{sign}\ncurl -sS -X POST '{base}/oauth/token' \\\n  -d \
                     'grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer' \\\n  -d \"assertion=$JWT\""
                ),
            });
        }
        IntegrationType::ServerToServer => {
            out.push(ims_client_credentials(base, client_id, &scopes));
            out.push(client_credentials(base, client_id, &scopes));
        }
        IntegrationType::Oauth => out.push(authorization_code(base, i, &scopes)),
        IntegrationType::ApiKey => {
            if let Some(s) = subscriptions.first() {
                out.push(Snippet {
                    id: "curl-api-key",
                    title: "Call a service with the API key",
                    explanation: "API Key integrations get no token: requests carry the client ID in the x-api-key \
                                  header and are anonymous. Add the path of the service's API after its code."
                        .to_owned(),
                    command: format!(
                        "curl -sS '{base}/services/{}/' \\\n  -H 'x-api-key: {client_id}'",
                        s.service_code
                    ),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{
        ids::ClientId,
        integration::{IntegrationStatus, Owner, Platform},
        service::ServiceCode,
    };

    fn integration(t: IntegrationType, platform: Option<Platform>) -> Integration {
        Integration {
            id: "i1".into(),
            client_id: ClientId::parse("0123456789abcdef0123456789abcdef").unwrap(),
            name: "x".into(),
            description: String::new(),
            integration_type: t,
            platform,
            owner: Owner::Organization("0123456789abcdef01234567@GatehouseOrg".into()),
            created_by: None,
            redirect_uri: Some("https://app.example/cb?x=1".into()),
            redirect_patterns: vec![],
            technical_account_id: Some("ta@techacct.gatehouse".into()),
            technical_account_email: None,
            id_token_signed_response_alg: None,
            may_introspect: false,
            allowed_domains: vec![],
            workspace_id: "w".into(),
            status: IntegrationStatus::Active,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn sub(code: &str, scopes: &[&str]) -> Subscription {
        Subscription {
            integration_id: "i1".into(),
            service_code: ServiceCode::parse(code).unwrap(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            limits: Default::default(),
            created_at: 0,
            updated_at: 0,
        }
    }

    fn ids(v: &[Snippet]) -> Vec<&str> {
        v.iter().map(|s| s.id).collect()
    }

    #[test]
    fn each_type_gets_the_flows_it_may_use_and_no_other() {
        let base = "https://id.example";
        let subs = [sub("pdf_services", &["ent_documentcloud_sdk"])];
        let sa = snippets(base, &integration(IntegrationType::ServiceAccount, None), &subs, 0);
        assert_eq!(ids(&sa), ["curl-jwt-exchange", "curl-jwt-bearer"]);
        let s2s = snippets(base, &integration(IntegrationType::ServerToServer, None), &subs, 0);
        assert_eq!(ids(&s2s), ["curl-ims-client-credentials", "curl-client-credentials"]);
        let web = snippets(
            base,
            &integration(IntegrationType::Oauth, Some(Platform::Web)),
            &subs,
            0,
        );
        assert_eq!(ids(&web), ["curl-authorization-code"]);
        let spa = snippets(
            base,
            &integration(IntegrationType::Oauth, Some(Platform::Spa)),
            &subs,
            0,
        );
        assert_eq!(ids(&spa), ["curl-authorization-code"]);
        assert!(
            !spa[0].command.contains("CLIENT_SECRET"),
            "a public client has no secret"
        );
        assert!(
            spa[0]
                .command
                .contains("-d 'client_id=0123456789abcdef0123456789abcdef'")
        );
        let key = snippets(base, &integration(IntegrationType::ApiKey, None), &subs, 0);
        assert_eq!(ids(&key), ["curl-api-key"]);
        assert!(snippets(base, &integration(IntegrationType::ApiKey, None), &[], 0).is_empty());
    }

    #[test]
    fn the_claims_template_names_every_claim_the_exchange_checks() {
        let base = "https://id.example";
        let i = integration(IntegrationType::ServiceAccount, None);
        let subs = [
            sub("pdf_services", &["ent_documentcloud_sdk"]),
            sub("stock", &["stock_search"]),
        ];
        let c: serde_json::Value = serde_json::from_str(&claims_template(base, &i, &subs, 1_000)).unwrap();
        assert_eq!(c["exp"], 1_000 + CLAIMS_TEMPLATE_LIFETIME);
        assert_eq!(c["iss"], "0123456789abcdef01234567@GatehouseOrg");
        assert_eq!(c["sub"], "ta@techacct.gatehouse");
        assert_eq!(c["aud"], "https://id.example/c/0123456789abcdef0123456789abcdef");
        assert_eq!(c["https://id.example/s/ent_documentcloud_sdk"], true);
        assert_eq!(c["https://id.example/s/stock_search"], true);
    }

    #[test]
    fn server_to_server_sends_what_adobe_documents() {
        let i = integration(IntegrationType::ServerToServer, None);
        let subs = [sub("pdf_services", &["openid", "pdf_read"])];
        let s = snippets("https://id.example", &i, &subs, 0);
        let cmd = &s[0].command;
        assert!(cmd.contains("'https://id.example/ims/token/v3'"), "{cmd}");
        assert!(cmd.contains("-d 'grant_type=client_credentials'"), "{cmd}");
        assert!(cmd.contains("-d 'client_id=0123456789abcdef0123456789abcdef'"), "{cmd}");
        assert!(cmd.contains("-d \"client_secret=$CLIENT_SECRET\""), "{cmd}");
        assert!(cmd.contains("--data-urlencode 'scope=openid,pdf_read'"), "{cmd}");
    }

    #[test]
    fn the_authorize_link_encodes_the_redirect_and_asks_for_pkce() {
        let i = integration(IntegrationType::Oauth, Some(Platform::Web));
        let s = snippets("https://id.example", &i, &[sub("cc", &["cc_files"])], 0);
        let cmd = &s[0].command;
        assert!(
            cmd.contains("redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1"),
            "{cmd}"
        );
        assert!(
            cmd.contains("scope=openid+email+profile+offline_access+cc_files"),
            "{cmd}"
        );
        assert!(cmd.contains("code_challenge_method=S256") && cmd.contains("code_challenge=$CHALLENGE"));
        assert!(cmd.contains("-u \"0123456789abcdef0123456789abcdef:$CLIENT_SECRET\""));
    }
}
