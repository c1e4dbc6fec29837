//! Who may create, see and manage which integrations, and who may edit the services catalog.
//!
//! - OAuth and API Key integrations: anyone signed in, for themselves (personal) or for an
//!   organization in which they are an admin or a developer.
//! - Service Account (JWT) and OAuth Server-to-Server integrations, which act as their organization's
//!   technical account: only an admin of an organization, for that organization.
//! - Seeing and managing: a personal integration's owner; for an organization's integrations, its
//!   admins see all of them, developers the ones they created, members none.
//! - The services catalog: Gatehouse's operators.

use crate::{
    DomainError,
    integration::{Integration, IntegrationType, Owner},
    org::{Membership, Role},
    project::Project,
};

/// Who is acting in the console or its API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The signed-in account; `None` for a service account's token.
    pub account_id: Option<String>,
    /// A Gatehouse operator (manages the services catalog).
    pub operator: bool,
    /// Roles by organization ID.
    pub roles: Vec<(String, Role)>,
}

impl Principal {
    /// A person, with their memberships.
    pub fn account(account_id: &str, operator: bool, memberships: &[Membership]) -> Self {
        Self {
            account_id: Some(account_id.to_owned()),
            operator,
            roles: memberships
                .iter()
                .map(|m| (m.org_id.as_str().to_owned(), m.role))
                .collect(),
        }
    }

    /// A service account's token: an admin of its own organization and nothing else.
    pub fn organization(org_id: &str) -> Self {
        Self {
            account_id: None,
            operator: false,
            roles: vec![(org_id.to_owned(), Role::Admin)],
        }
    }

    pub fn role_in(&self, org_id: &str) -> Option<Role> {
        self.roles.iter().find(|(o, _)| o == org_id).map(|(_, r)| *r)
    }

    /// The organizations in which this principal may create integrations of type `t`.
    pub fn orgs_for(&self, t: IntegrationType) -> Vec<&str> {
        self.roles
            .iter()
            .filter(|(_, r)| match t {
                t if t.is_technical_account() => *r == Role::Admin,
                _ => matches!(r, Role::Admin | Role::Developer),
            })
            .map(|(o, _)| o.as_str())
            .collect()
    }
}

fn refused(code: &'static str, message: impl Into<String>) -> DomainError {
    DomainError::new(code, message)
}

/// May `p` create an integration of type `t` owned by `owner`?
pub fn check_create(p: &Principal, t: IntegrationType, owner: &Owner) -> Result<(), DomainError> {
    match owner {
        Owner::Account(a) => {
            if t.is_technical_account() {
                return Err(refused(
                    "service_account_requires_org_admin",
                    format!(
                        "{} integration belongs to an organization, and only an admin of that organization can \
                         create one. Choose an organization you administer.",
                        article_first(t)
                    ),
                ));
            }
            if p.account_id.as_deref() != Some(a.as_str()) {
                return Err(refused(
                    "forbidden_owner",
                    "A personal integration can only be created by its owner.",
                ));
            }
            Ok(())
        }
        Owner::Organization(o) => match (p.role_in(o), t) {
            (Some(Role::Admin), _) => Ok(()),
            (Some(Role::Developer), t) if t.is_technical_account() => Err(refused(
                "service_account_requires_org_admin",
                format!(
                    "Only an admin of this organization can create {} integration for it: it acts as an admin \
                     there. Ask one of its admins, or create an OAuth or API Key integration instead.",
                    t.with_article()
                ),
            )),
            (Some(Role::Developer), _) => Ok(()),
            (Some(Role::Member), _) => Err(refused(
                "developer_role_required",
                "Members of an organization cannot create integrations for it; an admin can make you a developer.",
            )),
            (None, _) => Err(refused("not_a_member", "You are not a member of this organization.")),
        },
    }
}

/// "A Service Account", "An OAuth Server-to-Server".
fn article_first(t: IntegrationType) -> String {
    let a = t.with_article();
    let mut c = a.chars();
    c.next()
        .map(|first| first.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// May `p` see (and manage) this integration?
pub fn can_see(p: &Principal, i: &Integration) -> bool {
    can_see_owned(p, &i.owner, i.created_by.as_deref())
}

/// May `p` see (and manage) this project, its workspaces and what they hold? The same rule as
/// for integrations: its owner, or its organization's admins, or the developer who created it.
pub fn can_see_project(p: &Principal, project: &Project) -> bool {
    can_see_owned(p, &project.owner, project.created_by.as_deref())
}

fn can_see_owned(p: &Principal, owner: &Owner, created_by: Option<&str>) -> bool {
    match owner {
        Owner::Account(a) => p.account_id.as_deref() == Some(a.as_str()),
        Owner::Organization(o) => match p.role_in(o) {
            Some(Role::Admin) => true,
            Some(Role::Developer) => p.account_id.is_some() && created_by == p.account_id.as_deref(),
            Some(Role::Member) | None => false,
        },
    }
}

/// May `p` create a project owned by `owner`? Whoever may create an OAuth integration there:
/// the owner of a personal project, an organization's admins and developers.
pub fn check_create_project(p: &Principal, owner: &Owner) -> Result<(), DomainError> {
    check_create(p, IntegrationType::Oauth, owner).map_err(|e| match e.code {
        "forbidden_owner" => refused(
            "forbidden_owner",
            "A personal project can only be created by its owner.",
        ),
        "developer_role_required" => refused(
            "developer_role_required",
            "Members of an organization cannot create projects for it; an admin can make you a developer.",
        ),
        _ => e,
    })
}

/// The integrations `p` may see, in the given order.
pub fn visible<'a>(p: &Principal, all: &'a [Integration]) -> Vec<&'a Integration> {
    all.iter().filter(|i| can_see(p, i)).collect()
}

/// May `p` edit the services catalog?
pub fn check_catalog_admin(p: &Principal) -> Result<(), DomainError> {
    if p.operator {
        Ok(())
    } else {
        Err(refused(
            "operator_required",
            "Only Gatehouse operators can change the services catalog.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        ids::{ClientId, OrgId},
        integration::IntegrationStatus,
    };

    const ORG: &str = "0123456789abcdef01234567@GatehouseOrg";

    fn person(id: &str, role: Option<Role>) -> Principal {
        let memberships: Vec<Membership> = role
            .map(|role| Membership {
                org_id: OrgId::parse(ORG).unwrap(),
                account_id: id.to_owned(),
                role,
                created_at: 0,
            })
            .into_iter()
            .collect();
        Principal::account(id, false, &memberships)
    }

    fn integration(owner: Owner, created_by: &str) -> Integration {
        Integration {
            id: "i1".into(),
            client_id: ClientId::parse("0123456789abcdef0123456789abcdef").unwrap(),
            name: "x".into(),
            description: String::new(),
            integration_type: IntegrationType::ApiKey,
            platform: None,
            owner,
            created_by: Some(created_by.to_owned()),
            redirect_uri: None,
            redirect_patterns: vec![],
            technical_account_id: None,
            technical_account_email: None,
            id_token_signed_response_alg: None,
            may_introspect: false,
            allowed_domains: Vec::new(),
            workspace_id: "w".into(),
            status: IntegrationStatus::Active,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn anyone_creates_personal_oauth_and_api_key_integrations_but_no_service_accounts() {
        let p = person("a", None);
        let mine = Owner::Account("a".into());
        assert!(check_create(&p, IntegrationType::Oauth, &mine).is_ok());
        assert!(check_create(&p, IntegrationType::ApiKey, &mine).is_ok());
        let e = check_create(&p, IntegrationType::ServiceAccount, &mine).unwrap_err();
        assert_eq!(e.code, "service_account_requires_org_admin");
        let theirs = Owner::Account("b".into());
        assert_eq!(
            check_create(&p, IntegrationType::ApiKey, &theirs).unwrap_err().code,
            "forbidden_owner"
        );
    }

    #[test]
    fn only_org_admins_create_service_accounts() {
        let org = Owner::Organization(ORG.into());
        assert!(check_create(&person("a", Some(Role::Admin)), IntegrationType::ServiceAccount, &org).is_ok());
        let dev = person("d", Some(Role::Developer));
        assert_eq!(
            check_create(&dev, IntegrationType::ServiceAccount, &org)
                .unwrap_err()
                .code,
            "service_account_requires_org_admin"
        );
        assert!(check_create(&dev, IntegrationType::Oauth, &org).is_ok());
        let member = person("m", Some(Role::Member));
        assert_eq!(
            check_create(&member, IntegrationType::ApiKey, &org).unwrap_err().code,
            "developer_role_required"
        );
        assert_eq!(
            check_create(&person("x", None), IntegrationType::ApiKey, &org)
                .unwrap_err()
                .code,
            "not_a_member"
        );
        assert!(check_create(&Principal::organization(ORG), IntegrationType::ServiceAccount, &org).is_ok());
        assert_eq!(
            person("a", Some(Role::Admin)).orgs_for(IntegrationType::ServiceAccount),
            vec![ORG]
        );
        assert!(dev.orgs_for(IntegrationType::ServiceAccount).is_empty());
        // OAuth Server-to-Server acts as the organization's technical account too.
        assert!(dev.orgs_for(IntegrationType::ServerToServer).is_empty());
        let e = check_create(&dev, IntegrationType::ServerToServer, &org).unwrap_err();
        assert_eq!(e.code, "service_account_requires_org_admin");
        assert!(e.message.contains("an OAuth Server-to-Server integration"), "{e:?}");
        assert!(check_create(&person("a", Some(Role::Admin)), IntegrationType::ServerToServer, &org).is_ok());
        let e = check_create(
            &person("a", None),
            IntegrationType::ServerToServer,
            &Owner::Account("a".into()),
        )
        .unwrap_err();
        assert!(e.message.starts_with("An OAuth Server-to-Server integration"), "{e:?}");
        assert_eq!(dev.orgs_for(IntegrationType::Oauth), vec![ORG]);
    }

    #[test]
    fn admins_see_all_developers_their_own_members_none() {
        let by_d = integration(Owner::Organization(ORG.into()), "d");
        let by_e = integration(Owner::Organization(ORG.into()), "e");
        let all = [by_d.clone(), by_e.clone()];
        assert_eq!(visible(&person("a", Some(Role::Admin)), &all).len(), 2);
        assert_eq!(visible(&person("d", Some(Role::Developer)), &all), vec![&by_d]);
        assert!(visible(&person("e", Some(Role::Member)), &all).is_empty());
        assert!(visible(&person("z", None), &all).is_empty());
        assert_eq!(visible(&Principal::organization(ORG), &all).len(), 2);
        let personal = integration(Owner::Account("d".into()), "d");
        assert!(can_see(&person("d", None), &personal));
        assert!(!can_see(&person("a", Some(Role::Admin)), &personal));
    }

    #[test]
    fn only_operators_edit_the_catalog() {
        assert!(check_catalog_admin(&person("a", Some(Role::Admin))).is_err());
        let mut op = person("o", None);
        op.operator = true;
        assert!(check_catalog_admin(&op).is_ok());
    }
}
