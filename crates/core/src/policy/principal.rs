//! The principal: who is acting, as every surface describes it to the policy.

use gatehouse_domain::{
    audit::Actor,
    console::access,
    integration::Integration,
    org::{Membership, Organization, Role},
};

/// A role in one organization, with what the policy needs to know of that organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRole {
    pub org_id: String,
    pub org_name: String,
    pub role: Role,
    pub requires_mfa: bool,
}

/// Who is acting.
#[derive(Debug, Clone)]
pub enum Who {
    /// A person, signed in with a session or through an access token issued to them.
    Person {
        account_id: String,
        /// The client an access token was issued to; `None` for a console session.
        via_client: Option<String>,
    },
    /// An integration acting for itself (a client-credentials or JWT-bearer token).
    Integration(Box<Integration>),
    /// Gatehouse's operator at the command line (`gatehouse apply`).
    Operator,
}

/// Who is acting, with their roles and how they authenticated.
#[derive(Debug, Clone)]
pub struct Principal {
    pub who: Who,
    /// A Gatehouse operator (manages the services catalog).
    pub operator: bool,
    pub roles: Vec<OrgRole>,
    /// Did this sign-in use a second factor (`otp`, `hwk`, a recovery code)?
    pub second_factor: bool,
}

impl Principal {
    /// A person with their memberships; `orgs` are the organizations of those memberships.
    pub fn person(
        account_id: &str,
        operator: bool,
        memberships: &[Membership],
        orgs: &[Organization],
        second_factor: bool,
        via_client: Option<String>,
    ) -> Self {
        let roles = memberships
            .iter()
            .map(|m| {
                let org = orgs.iter().find(|o| o.id == m.org_id);
                OrgRole {
                    org_id: m.org_id.as_str().to_owned(),
                    org_name: org.map_or_else(|| m.org_id.as_str().to_owned(), |o| o.name.clone()),
                    role: m.role,
                    requires_mfa: org.is_some_and(|o| o.require_mfa),
                }
            })
            .collect();
        Self {
            who: Who::Person {
                account_id: account_id.to_owned(),
                via_client,
            },
            operator,
            roles,
            second_factor,
        }
    }

    /// An integration acting for itself. A technical account (a service account or an OAuth
    /// Server-to-Server integration) acts as an admin of its organization (that is what it is
    /// for); other integrations hold no role.
    pub fn integration(i: Integration) -> Self {
        let roles = match (i.integration_type.is_technical_account(), i.org_id()) {
            (true, Some(org)) => vec![OrgRole {
                org_id: org.to_owned(),
                org_name: org.to_owned(),
                role: Role::Admin,
                requires_mfa: false,
            }],
            _ => Vec::new(),
        };
        Self {
            who: Who::Integration(Box::new(i)),
            operator: false,
            roles,
            second_factor: false,
        }
    }

    /// A person's access token where the surface needs no more than to know it is one (the
    /// events APIs refuse it without looking at the person's roles).
    pub fn person_token(account_id: &str, client_id: &str) -> Self {
        Self {
            who: Who::Person {
                account_id: account_id.to_owned(),
                via_client: Some(client_id.to_owned()),
            },
            operator: false,
            roles: Vec::new(),
            second_factor: false,
        }
    }

    /// `gatehouse apply` and other operator commands.
    pub fn operator() -> Self {
        Self {
            who: Who::Operator,
            operator: true,
            roles: Vec::new(),
            second_factor: false,
        }
    }

    pub fn is_person(&self) -> bool {
        matches!(self.who, Who::Person { .. })
    }

    /// The person's account ID, if a person is acting.
    pub fn account_id(&self) -> Option<&str> {
        match &self.who {
            Who::Person { account_id, .. } => Some(account_id),
            _ => None,
        }
    }

    pub fn role_in(&self, org_id: &str) -> Option<Role> {
        self.roles.iter().find(|r| r.org_id == org_id).map(|r| r.role)
    }

    /// How the audit log names who acted.
    pub fn actor(&self) -> Actor {
        match &self.who {
            Who::Person { account_id, .. } => Actor::Account(account_id.clone()),
            Who::Integration(i) => Actor::Integration(i.id.clone()),
            Who::Operator => Actor::Cli("apply"),
        }
    }

    /// The domain's view of the principal, for the rules of `gatehouse_domain::console::access`.
    pub fn access(&self) -> access::Principal {
        access::Principal {
            account_id: self.account_id().map(str::to_owned),
            operator: self.operator,
            roles: self.roles.iter().map(|r| (r.org_id.clone(), r.role)).collect(),
        }
    }
}
