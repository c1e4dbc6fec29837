//! Organization membership rules: who may change what, and the invariant that an organization
//! always keeps at least one admin. Every change is checked against the current member list
//! before it is written, so the rule holds however the change arrives (page, API, provisioning).

use crate::{
    DomainError,
    org::{Membership, Role},
};

/// A change to an organization's members, made by `actor` (an account ID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MembershipChange<'a> {
    /// Give `account_id` the role `role`.
    SetRole { account_id: &'a str, role: Role },
    /// Remove `account_id` from the organization.
    Remove { account_id: &'a str },
    /// The actor leaves.
    Leave,
    /// The actor makes `to` an admin and takes `actor_role` themselves.
    TransferAdmin { to: &'a str, actor_role: Role },
    /// Invite someone (by email) with `role`.
    Invite { role: Role },
}

fn role_of(members: &[Membership], account_id: &str) -> Option<Role> {
    members.iter().find(|m| m.account_id == account_id).map(|m| m.role)
}

/// May this role manage members, invitations and the organization's settings?
pub fn can_manage(role: Role) -> bool {
    role == Role::Admin
}

/// May this role see the organization's member list? Every member may.
pub fn can_view_members(role: Option<Role>) -> bool {
    role.is_some()
}

fn not_member() -> DomainError {
    DomainError::new("not_a_member", "That account is not a member of this organization.")
}

fn not_admin() -> DomainError {
    DomainError::new(
        "admin_required",
        "Only an admin of this organization can manage its members.",
    )
}

fn last_admin() -> DomainError {
    DomainError::new(
        "last_admin",
        "An organization must keep at least one admin. Make another member an admin first.",
    )
}

/// The roles after the change, or why it is not allowed.
pub fn check_change(members: &[Membership], actor: &str, change: &MembershipChange<'_>) -> Result<(), DomainError> {
    let actor_role = role_of(members, actor)
        .ok_or_else(|| DomainError::new("not_a_member", "You are not a member of this organization."))?;
    let mut after: Vec<(String, Role)> = members.iter().map(|m| (m.account_id.clone(), m.role)).collect();
    let set = |after: &mut Vec<(String, Role)>, id: &str, role: Option<Role>| match role {
        Some(r) => after.iter_mut().filter(|(a, _)| a == id).for_each(|(_, x)| *x = r),
        None => after.retain(|(a, _)| a != id),
    };
    match change {
        MembershipChange::SetRole { account_id, role } => {
            if !can_manage(actor_role) {
                return Err(not_admin());
            }
            role_of(members, account_id).ok_or_else(not_member)?;
            set(&mut after, account_id, Some(*role));
        }
        MembershipChange::Remove { account_id } => {
            if !can_manage(actor_role) {
                return Err(not_admin());
            }
            role_of(members, account_id).ok_or_else(not_member)?;
            set(&mut after, account_id, None);
        }
        MembershipChange::Leave => set(&mut after, actor, None),
        MembershipChange::TransferAdmin {
            to,
            actor_role: new_role,
        } => {
            if !can_manage(actor_role) {
                return Err(not_admin());
            }
            if *to == actor {
                return Err(DomainError::new(
                    "transfer_to_self",
                    "Choose another member to make admin.",
                ));
            }
            role_of(members, to).ok_or_else(not_member)?;
            set(&mut after, to, Some(Role::Admin));
            set(&mut after, actor, Some(*new_role));
        }
        MembershipChange::Invite { .. } => {
            return if can_manage(actor_role) {
                Ok(())
            } else {
                Err(not_admin())
            };
        }
    }
    if !after.iter().any(|(_, r)| *r == Role::Admin) {
        return Err(last_admin());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::OrgId;

    fn m(id: &str, role: Role) -> Membership {
        Membership {
            org_id: OrgId::parse("0123456789abcdef01234567@GatehouseOrg").unwrap(),
            account_id: id.into(),
            role,
            created_at: 0,
        }
    }

    fn members() -> Vec<Membership> {
        vec![m("ann", Role::Admin), m("dev", Role::Developer), m("mem", Role::Member)]
    }

    fn code(r: Result<(), DomainError>) -> &'static str {
        r.err().map(|e| e.code).unwrap_or("ok")
    }

    #[test]
    fn admins_manage_and_others_do_not() {
        let ms = members();
        let promote = MembershipChange::SetRole {
            account_id: "mem",
            role: Role::Developer,
        };
        assert_eq!(code(check_change(&ms, "ann", &promote)), "ok");
        assert_eq!(code(check_change(&ms, "dev", &promote)), "admin_required");
        assert_eq!(code(check_change(&ms, "outsider", &promote)), "not_a_member");
        let remove = MembershipChange::Remove { account_id: "dev" };
        assert_eq!(code(check_change(&ms, "ann", &remove)), "ok");
        assert_eq!(code(check_change(&ms, "mem", &remove)), "admin_required");
        let ghost = MembershipChange::Remove { account_id: "ghost" };
        assert_eq!(code(check_change(&ms, "ann", &ghost)), "not_a_member");
        let invite = MembershipChange::Invite { role: Role::Member };
        assert_eq!(code(check_change(&ms, "ann", &invite)), "ok");
        assert_eq!(code(check_change(&ms, "dev", &invite)), "admin_required");
    }

    #[test]
    fn the_last_admin_cannot_go() {
        let ms = members();
        assert_eq!(code(check_change(&ms, "ann", &MembershipChange::Leave)), "last_admin");
        let demote = MembershipChange::SetRole {
            account_id: "ann",
            role: Role::Member,
        };
        assert_eq!(code(check_change(&ms, "ann", &demote)), "last_admin");
        let remove = MembershipChange::Remove { account_id: "ann" };
        assert_eq!(code(check_change(&ms, "ann", &remove)), "last_admin");
        // Anyone else may leave.
        assert_eq!(code(check_change(&ms, "mem", &MembershipChange::Leave)), "ok");
    }

    #[test]
    fn with_two_admins_one_may_leave() {
        let mut ms = members();
        ms.push(m("bob", Role::Admin));
        assert_eq!(code(check_change(&ms, "ann", &MembershipChange::Leave)), "ok");
        let demote = MembershipChange::SetRole {
            account_id: "ann",
            role: Role::Member,
        };
        assert_eq!(code(check_change(&ms, "bob", &demote)), "ok");
    }

    #[test]
    fn admin_can_be_transferred() {
        let ms = members();
        let t = MembershipChange::TransferAdmin {
            to: "mem",
            actor_role: Role::Developer,
        };
        assert_eq!(code(check_change(&ms, "ann", &t)), "ok");
        assert_eq!(code(check_change(&ms, "dev", &t)), "admin_required");
        let to_self = MembershipChange::TransferAdmin {
            to: "ann",
            actor_role: Role::Member,
        };
        assert_eq!(code(check_change(&ms, "ann", &to_self)), "transfer_to_self");
        let to_ghost = MembershipChange::TransferAdmin {
            to: "ghost",
            actor_role: Role::Member,
        };
        assert_eq!(code(check_change(&ms, "ann", &to_ghost)), "not_a_member");
    }
}
