//! The allowed values of `/api/v1`'s string fields, as OpenAPI enums. The fields stay strings (the
//! domain parses them and answers a precise problem for anything else); these types only give the
//! document the list, and the tests below keep each list equal to the domain's.

use serde::Serialize;
use utoipa::ToSchema;

/// An integration's type.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntegrationTypeName {
    Oauth,
    ServerToServer,
    ServiceAccount,
    ApiKey,
}

/// An OAuth integration's platform.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlatformName {
    Web,
    Spa,
    Native,
}

/// Whether an integration's credentials work.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntegrationStatusName {
    Active,
    Disabled,
}

/// A member's role in an organization.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    Admin,
    Developer,
    Member,
}

/// Whom a service's calls act for.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActsForName {
    User,
    Organization,
}

/// What an operator does to an account.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OperatorActionName {
    Disable,
    Enable,
    PasswordReset,
    MfaReset,
    SignOut,
}

/// What an organization's admin does to one of its enterprise accounts.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OrgAccountActionName {
    Disable,
    Enable,
    PasswordReset,
    MfaReset,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use gatehouse_domain::{
        identity::{enterprise::AdminAction, operator::OperatorAction},
        integration::{IntegrationStatus, IntegrationType, Platform},
        org::Role,
        service::ActsFor,
    };

    use super::*;

    fn name(v: impl Serialize) -> String {
        serde_json::to_value(v).unwrap().as_str().unwrap().to_owned()
    }

    // Each function maps every domain value to its documented name with an exhaustive match, so a
    // value added to the domain does not compile until it is documented; and each documented name
    // parses back to the same value.

    #[test]
    fn integration_types_and_platforms_and_statuses_are_the_domains() {
        for t in IntegrationType::ALL {
            let doc = match t {
                IntegrationType::Oauth => IntegrationTypeName::Oauth,
                IntegrationType::ServerToServer => IntegrationTypeName::ServerToServer,
                IntegrationType::ServiceAccount => IntegrationTypeName::ServiceAccount,
                IntegrationType::ApiKey => IntegrationTypeName::ApiKey,
            };
            assert_eq!(name(doc), t.as_str());
            assert_eq!(IntegrationType::parse(&name(doc)).unwrap(), t);
        }
        for p in [Platform::Web, Platform::Spa, Platform::Native] {
            let doc = match p {
                Platform::Web => PlatformName::Web,
                Platform::Spa => PlatformName::Spa,
                Platform::Native => PlatformName::Native,
            };
            assert_eq!(Platform::parse(&name(doc)).unwrap(), p);
        }
        for s in [IntegrationStatus::Active, IntegrationStatus::Disabled] {
            let doc = match s {
                IntegrationStatus::Active => IntegrationStatusName::Active,
                IntegrationStatus::Disabled => IntegrationStatusName::Disabled,
            };
            assert_eq!(IntegrationStatus::parse(&name(doc)).unwrap(), s);
        }
    }

    #[test]
    fn roles_acts_for_and_account_actions_are_the_domains() {
        for r in [Role::Admin, Role::Developer, Role::Member] {
            let doc = match r {
                Role::Admin => RoleName::Admin,
                Role::Developer => RoleName::Developer,
                Role::Member => RoleName::Member,
            };
            assert_eq!(Role::parse(&name(doc)).unwrap(), r);
        }
        for a in [ActsFor::User, ActsFor::Organization] {
            let doc = match a {
                ActsFor::User => ActsForName::User,
                ActsFor::Organization => ActsForName::Organization,
            };
            assert_eq!(ActsFor::parse(&name(doc)).unwrap(), a);
        }
        for a in OperatorAction::ALL {
            let doc = match a {
                OperatorAction::Disable => OperatorActionName::Disable,
                OperatorAction::Enable => OperatorActionName::Enable,
                OperatorAction::ResetPassword => OperatorActionName::PasswordReset,
                OperatorAction::ResetMfa => OperatorActionName::MfaReset,
                OperatorAction::SignOutEverywhere => OperatorActionName::SignOut,
            };
            assert_eq!(name(doc), a.as_str());
        }
        for a in [
            AdminAction::Disable,
            AdminAction::Enable,
            AdminAction::ResetPassword,
            AdminAction::ResetMfa,
        ] {
            let doc = match a {
                AdminAction::Disable => OrgAccountActionName::Disable,
                AdminAction::Enable => OrgAccountActionName::Enable,
                AdminAction::ResetPassword => OrgAccountActionName::PasswordReset,
                AdminAction::ResetMfa => OrgAccountActionName::MfaReset,
            };
            assert_eq!(AdminAction::parse(&name(doc)).unwrap(), a);
        }
    }
}
