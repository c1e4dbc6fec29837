//! Migrating a Service Account (JWT) credential to OAuth Server-to-Server without downtime, as
//! Adobe's console does it: the credential becomes Server-to-Server in place — same client ID,
//! secrets, technical account and subscriptions — and keeps its certificates, so its JWTs keep
//! working while the application switches to `client_credentials`. Watching the two
//! "last used" timestamps (the JWT's certificates and the client secret's) tells when the JWT is
//! no longer used; deleting the JWT credential then removes the certificates, and with them the
//! JWT grant ([`crate::token::client_auth::check_jwt_bearer_allowed`]).

use crate::{
    DomainError, Timestamp,
    integration::{Integration, IntegrationType},
    service::Service,
};

/// The credential as Server-to-Server, if it may be migrated: a Service Account whose every
/// subscribed service also allows Server-to-Server (`services` are those it subscribes to).
pub fn start(i: &Integration, services: &[Service], now: Timestamp) -> Result<Integration, DomainError> {
    if i.integration_type != IntegrationType::ServiceAccount {
        return Err(DomainError::new(
            "not_a_service_account",
            "Only a Service Account (JWT) credential is migrated to OAuth Server-to-Server.",
        ));
    }
    let blocking: Vec<&str> = services
        .iter()
        .filter(|s| !s.allowed_types.contains(&IntegrationType::ServerToServer))
        .map(|s| s.name.as_str())
        .collect();
    if !blocking.is_empty() {
        return Err(DomainError::new(
            "service_without_server_to_server",
            format!(
                "{} does not allow OAuth Server-to-Server credentials; an operator must allow them first, or \
                 unsubscribe from it.",
                blocking.join(", ")
            ),
        ));
    }
    let mut next = i.clone();
    next.integration_type = IntegrationType::ServerToServer;
    next.updated_at = now;
    Ok(next)
}

/// Whether the JWT credential of a migrated credential may be deleted: it is Server-to-Server and
/// still holds certificates.
pub fn check_finish(i: &Integration, active_certificates: usize) -> Result<(), DomainError> {
    if i.integration_type != IntegrationType::ServerToServer || active_certificates == 0 {
        return Err(DomainError::new(
            "not_migrating",
            "This credential has no JWT credential to delete: only a Service Account migrated to OAuth \
             Server-to-Server keeps one until it is deleted.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        service::{ActsFor, ServiceCode},
        token::client_auth::tests::integration,
    };

    fn service(types: &[IntegrationType]) -> Service {
        Service {
            code: ServiceCode::parse("pdf").unwrap(),
            name: "PDF".into(),
            description: String::new(),
            allowed_types: types.to_vec(),
            scopes: vec![],
            acts_for: ActsFor::Organization,
            upstream_url: None,
            gateway: Default::default(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn a_service_account_becomes_server_to_server_keeping_everything_else() {
        let jwt = integration(IntegrationType::ServiceAccount, None);
        let s2s = start(
            &jwt,
            &[service(&[
                IntegrationType::ServiceAccount,
                IntegrationType::ServerToServer,
            ])],
            9,
        )
        .unwrap();
        assert_eq!(s2s.integration_type, IntegrationType::ServerToServer);
        assert_eq!((s2s.client_id.clone(), s2s.updated_at), (jwt.client_id.clone(), 9));
        assert_eq!(s2s.technical_account_id, jwt.technical_account_id);
    }

    #[test]
    fn only_service_accounts_on_services_allowing_server_to_server_migrate() {
        let jwt = integration(IntegrationType::ServiceAccount, None);
        let e = start(&jwt, &[service(&[IntegrationType::ServiceAccount])], 0).unwrap_err();
        assert_eq!(e.code, "service_without_server_to_server");
        assert!(e.message.contains("PDF"));
        let web = integration(IntegrationType::Oauth, None);
        assert_eq!(start(&web, &[], 0).unwrap_err().code, "not_a_service_account");
    }

    #[test]
    fn the_jwt_credential_is_deleted_once_and_only_after_migrating() {
        let s2s = integration(IntegrationType::ServerToServer, None);
        assert!(check_finish(&s2s, 1).is_ok());
        assert_eq!(check_finish(&s2s, 0).unwrap_err().code, "not_migrating");
        let jwt = integration(IntegrationType::ServiceAccount, None);
        assert_eq!(check_finish(&jwt, 1).unwrap_err().code, "not_migrating");
    }
}
