//! The OpenAPI description of the console's resources under `/api/v1` ([`ConsoleApi`], merged into
//! `/api/v1/openapi.json`) and of the two ways to authenticate ([`Authentication`]).

use utoipa::{
    Modify, OpenApi,
    openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme},
};

use super::{certificates, credentials, integrations, projects, secrets, services, subscriptions, usage};

/// The OpenAPI description of the console's routes (merged into `/api/v1/openapi.json`).
#[derive(OpenApi)]
#[openapi(
    paths(
        integrations::list,
        integrations::create,
        integrations::read,
        integrations::update,
        integrations::delete,
        integrations::redirect_check,
        integrations::migrate,
        integrations::delete_jwt_credential,
        projects::list,
        projects::create,
        projects::read,
        projects::update,
        projects::delete,
        projects::list_workspaces,
        projects::create_workspace,
        projects::read_workspace,
        projects::update_workspace,
        projects::delete_workspace,
        projects::download,
        secrets::list,
        secrets::add,
        secrets::revoke,
        certificates::list,
        certificates::upload,
        certificates::generate,
        certificates::remove,
        subscriptions::list,
        subscriptions::create,
        subscriptions::update,
        subscriptions::delete,
        services::list,
        services::read,
        services::create,
        services::replace,
        services::delete,
        credentials::download,
        usage::usage,
        usage::set_limits,
    ),
    modifiers(&Authentication),
    tags(
        (name = "projects", description = "Projects and their workspaces, which hold integrations (credentials)"),
        (name = "integrations", description = "Integrations (credentials): OAuth, Service Account, API Key"),
        (name = "credentials", description = "Client secrets, certificates and the credentials file"),
        (name = "subscriptions", description = "An integration's subscriptions to services"),
        (name = "services", description = "The services catalog (edited and deleted by operators)"),
        (name = "gateway", description = "The API gateway: an integration's usage and its own limits per service"),
    )
)]
pub struct ConsoleApi;

/// Documents the two ways to call the console's routes (and the identity API's, `crate::api`): the
/// session cookie or a bearer token.
pub struct Authentication;

impl Modify for Authentication {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "console_session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "gatehouse_session",
                "The console's session cookie (__Host-gatehouse_session on https). POST, PUT, PATCH and DELETE also \
                 send the gatehouse_csrf cookie's value in x-csrf-token.",
            ))),
        );
        components.add_security_scheme(
            "access_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token with the gatehouse.console scope: a service account's token acts as an \
                         admin of its organization, a token issued to a person as that person.",
                    ))
                    .build(),
            ),
        );
        let either = vec![
            SecurityRequirement::new("console_session", Vec::<String>::new()),
            SecurityRequirement::new("access_token", Vec::<String>::new()),
        ];
        for item in doc.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                op.security = Some(either.clone());
            }
        }
    }
}
