//! The policy as a table: (principal, action, resource) → allowed, or the precise refusal.

#![allow(clippy::unwrap_used)]

use gatehouse_domain::{
    ids::{ClientId, OrgId},
    integration::{Integration, IntegrationStatus, IntegrationType, Owner},
    org::{Membership, Organization, Role},
};

use super::*;

const ORG: &str = "0123456789abcdef01234567@GatehouseOrg";
const STRICT: &str = "fedcba9876543210fedcba98@GatehouseOrg";

fn org(id: &str, require_mfa: bool) -> Organization {
    Organization {
        id: OrgId::parse(id).unwrap(),
        name: if require_mfa {
            "Strict Inc".into()
        } else {
            "Open Ltd".into()
        },
        require_mfa,
        created_at: 0,
        updated_at: 0,
    }
}

/// A person who is `role` in both organizations (the strict one requires MFA).
fn person(id: &str, role: Option<Role>, second_factor: bool) -> Principal {
    let memberships: Vec<Membership> = role
        .into_iter()
        .flat_map(|role| {
            [ORG, STRICT].map(|o| Membership {
                org_id: OrgId::parse(o).unwrap(),
                account_id: id.to_owned(),
                role,
                created_at: 0,
            })
        })
        .collect();
    Principal::person(
        id,
        false,
        &memberships,
        &[org(ORG, false), org(STRICT, true)],
        second_factor,
        None,
    )
}

fn integration(t: IntegrationType, owner: Owner, created_by: &str) -> Integration {
    Integration {
        id: "i1".into(),
        client_id: ClientId::parse("0123456789abcdef0123456789abcdef").unwrap(),
        name: "x".into(),
        description: String::new(),
        integration_type: t,
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

fn in_org(o: &str) -> Owner {
    Owner::Organization(o.into())
}

/// `Ok(())` or the refusal's (kind, code).
fn verdict<T>(r: Result<T, Refusal>) -> Result<(), (Kind, &'static str)> {
    r.map(|_| ()).map_err(|e| (e.kind, e.code))
}

const FORBIDDEN: Kind = Kind::Forbidden;

/// What a case expects: allowed, or the refusal's (kind, code).
type Expected = Result<(), (Kind, &'static str)>;

#[test]
fn managing_an_integration() {
    use IntegrationType::*;
    let admin = person("a", Some(Role::Admin), false);
    let admin_2fa = person("a", Some(Role::Admin), true);
    let dev = person("d", Some(Role::Developer), false);
    let member = person("m", Some(Role::Member), true);
    let outsider = person("x", None, true);
    let sa = Principal::integration(integration(ServiceAccount, in_org(ORG), "a"));
    let table: Vec<(&str, &Principal, Integration, Expected)> = vec![
        ("admin, open org", &admin, integration(Oauth, in_org(ORG), "d"), Ok(())),
        (
            "admin without 2FA, strict org",
            &admin,
            integration(Oauth, in_org(STRICT), "d"),
            Err((FORBIDDEN, "mfa_required")),
        ),
        (
            "admin with 2FA, strict org",
            &admin_2fa,
            integration(Oauth, in_org(STRICT), "d"),
            Ok(()),
        ),
        (
            "developer, own integration",
            &dev,
            integration(ApiKey, in_org(ORG), "d"),
            Ok(()),
        ),
        (
            "developer, another's integration",
            &dev,
            integration(ApiKey, in_org(ORG), "a"),
            Err((Kind::NotFound, "not_found")),
        ),
        (
            "developer without 2FA, own in strict org",
            &dev,
            integration(ApiKey, in_org(STRICT), "d"),
            Err((FORBIDDEN, "mfa_required")),
        ),
        (
            "member",
            &member,
            integration(ApiKey, in_org(ORG), "m"),
            Err((Kind::NotFound, "not_found")),
        ),
        (
            "outsider",
            &outsider,
            integration(ApiKey, in_org(ORG), "a"),
            Err((Kind::NotFound, "not_found")),
        ),
        (
            "owner, personal",
            &outsider,
            integration(ApiKey, Owner::Account("x".into()), "x"),
            Ok(()),
        ),
        (
            "someone else, personal",
            &admin,
            integration(ApiKey, Owner::Account("x".into()), "x"),
            Err((Kind::NotFound, "not_found")),
        ),
        (
            "service account, its organization",
            &sa,
            integration(Oauth, in_org(ORG), "d"),
            Ok(()),
        ),
        (
            "service account, another organization",
            &sa,
            integration(Oauth, in_org(STRICT), "d"),
            Err((Kind::NotFound, "not_found")),
        ),
    ];
    for (case, p, i, expected) in table {
        assert_eq!(verdict(manage_integration(p, i)), expected, "{case}");
    }
}

#[test]
fn creating_an_integration() {
    use IntegrationType::*;
    let admin = person("a", Some(Role::Admin), false);
    let dev = person("d", Some(Role::Developer), true);
    let member = person("m", Some(Role::Member), true);
    let table: Vec<(&str, &Principal, IntegrationType, Owner, Expected)> = vec![
        (
            "admin, service account, open org",
            &admin,
            ServiceAccount,
            in_org(ORG),
            Ok(()),
        ),
        (
            "admin without 2FA, strict org",
            &admin,
            ServiceAccount,
            in_org(STRICT),
            Err((FORBIDDEN, "mfa_required")),
        ),
        (
            "developer, service account",
            &dev,
            ServiceAccount,
            in_org(ORG),
            Err((FORBIDDEN, "service_account_requires_org_admin")),
        ),
        ("developer, OAuth", &dev, Oauth, in_org(STRICT), Ok(())),
        (
            "member, API key",
            &member,
            ApiKey,
            in_org(ORG),
            Err((FORBIDDEN, "developer_role_required")),
        ),
        (
            "personal service account",
            &admin,
            ServiceAccount,
            Owner::Account("a".into()),
            Err((FORBIDDEN, "service_account_requires_org_admin")),
        ),
        (
            "personal for someone else",
            &admin,
            ApiKey,
            Owner::Account("b".into()),
            Err((FORBIDDEN, "forbidden_owner")),
        ),
    ];
    for (case, p, t, owner, expected) in table {
        assert_eq!(verdict(create_integration(p, t, &owner)), expected, "{case}");
    }
    assert_eq!(
        orgs_for_new(&admin, ServiceAccount),
        vec![ORG.to_owned()],
        "the strict org is not offered"
    );
}

#[test]
fn acting_in_an_organization() {
    let table: Vec<(&str, Principal, Organization, bool, Expected)> = vec![
        (
            "member, open org",
            person("m", Some(Role::Member), false),
            org(ORG, false),
            false,
            Ok(()),
        ),
        (
            "member asking for admin",
            person("m", Some(Role::Member), true),
            org(ORG, false),
            true,
            Err((FORBIDDEN, "admin_required")),
        ),
        (
            "admin without 2FA, strict org",
            person("a", Some(Role::Admin), false),
            org(STRICT, true),
            true,
            Err((FORBIDDEN, "mfa_required")),
        ),
        (
            "member without 2FA, strict org",
            person("m", Some(Role::Member), false),
            org(STRICT, true),
            false,
            Err((FORBIDDEN, "mfa_required")),
        ),
        (
            "admin with 2FA, strict org",
            person("a", Some(Role::Admin), true),
            org(STRICT, true),
            true,
            Ok(()),
        ),
        (
            "outsider",
            person("x", None, true),
            org(ORG, false),
            false,
            Err((Kind::NotFound, "not_found")),
        ),
    ];
    for (case, p, o, admin, expected) in table {
        assert_eq!(verdict(in_organization(&p, &o, admin)), expected, "{case}");
    }
}

#[test]
fn only_an_integration_acting_for_itself_uses_the_events_api() {
    let own = Principal::integration(integration(IntegrationType::Oauth, in_org(ORG), "a"));
    assert!(events_caller(&own).is_ok());
    let mut disabled = integration(IntegrationType::Oauth, in_org(ORG), "a");
    disabled.status = IntegrationStatus::Disabled;
    assert_eq!(
        verdict(events_caller(&Principal::integration(disabled))),
        Err((Kind::Unauthorized, "invalid_token"))
    );
    let through_it = Principal::person_token("a", "0123456789abcdef0123456789abcdef");
    assert_eq!(
        verdict(events_caller(&through_it)),
        Err((FORBIDDEN, "integration_token_required")),
        "a person's token issued through the integration"
    );
    assert_eq!(
        verdict(events_caller(&Principal::operator())),
        Err((FORBIDDEN, "integration_token_required"))
    );
}

#[test]
fn only_operators_edit_the_catalog() {
    assert!(catalog_admin(&Principal::operator()).is_ok());
    assert_eq!(
        verdict(catalog_admin(&person("a", Some(Role::Admin), true))),
        Err((FORBIDDEN, "operator_required"))
    );
}

#[test]
fn listings_leave_out_what_the_principal_may_not_manage() {
    let admin = person("a", Some(Role::Admin), false);
    let all = vec![
        integration(IntegrationType::Oauth, in_org(ORG), "d"),
        integration(IntegrationType::Oauth, in_org(STRICT), "d"),
        integration(IntegrationType::Oauth, Owner::Account("z".into()), "z"),
    ];
    let seen = visible_integrations(&admin, all);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].org_id(), Some(ORG));
}

#[test]
fn only_the_operator_at_the_command_line_provisions_from_a_file() {
    assert!(provision(&Principal::operator()).is_ok());
    let mut console_operator = person("o", Some(Role::Admin), true);
    console_operator.operator = true;
    assert_eq!(
        verdict(provision(&console_operator)),
        Err((FORBIDDEN, "operator_cli_required"))
    );
    let sa = Principal::integration(integration(IntegrationType::ServiceAccount, in_org(ORG), "a"));
    assert_eq!(verdict(provision(&sa)), Err((FORBIDDEN, "operator_cli_required")));
}

#[test]
fn a_custom_provider_is_seen_in_its_scope_and_changed_by_its_owner_only() {
    let mut owner = integration(IntegrationType::ServiceAccount, in_org(ORG), "a");
    owner.id = "owner".into();
    let mut colleague = integration(IntegrationType::Oauth, in_org(ORG), "a");
    colleague.id = "colleague".into();
    let mut outsider = integration(IntegrationType::Oauth, in_org(STRICT), "a");
    outsider.id = "outsider".into();
    let custom = gatehouse_domain::events::model::Provider {
        id: "p1".into(),
        label: "Invoices".into(),
        description: String::new(),
        docs_url: None,
        service_code: None,
        owner_integration_id: Some("owner".into()),
        owner_scope: Some(ORG.into()),
        instance_id: None,
        created_at: 0,
        updated_at: 0,
    };
    let public = gatehouse_domain::events::model::Provider {
        owner_integration_id: None,
        owner_scope: None,
        ..custom.clone()
    };
    let table = [
        ("owner", &owner, true, true),
        ("an integration of the same organization", &colleague, true, false),
        ("an integration of another organization", &outsider, false, false),
    ];
    assert!(owns_org_path(&owner, ORG));
    assert!(!owns_org_path(&owner, STRICT));
    for (case, i, sees, owns) in table {
        assert_eq!(sees_provider(i, &custom), sees, "{case} sees");
        assert_eq!(owns_provider(i, &custom), owns, "{case} owns");
        assert!(sees_provider(i, &public), "{case} sees a public provider");
        assert!(!owns_provider(i, &public), "{case} owns no public provider");
    }
}

#[test]
fn console_and_identity_apis_by_token() {
    let console = vec!["openid".to_owned(), "gatehouse.console".to_owned()];
    let openid = vec!["openid".to_owned()];
    let person = Principal::person_token("a", "0123456789abcdef0123456789abcdef");
    let sa = Principal::integration(integration(IntegrationType::ServiceAccount, in_org(ORG), "a"));
    let web_app = Principal::integration(integration(IntegrationType::Oauth, in_org(ORG), "a"));
    let table: Vec<(&str, &Principal, &Vec<String>, Expected)> = vec![
        ("a person's token with the console scope", &person, &console, Ok(())),
        (
            "a person's token without it",
            &person,
            &openid,
            Err((FORBIDDEN, "insufficient_scope")),
        ),
        ("a service account's own token", &sa, &console, Ok(())),
        (
            "a service account's token without the scope",
            &sa,
            &openid,
            Err((FORBIDDEN, "insufficient_scope")),
        ),
        (
            "another integration's own token",
            &web_app,
            &console,
            Err((FORBIDDEN, "token_not_allowed")),
        ),
    ];
    for (case, p, scopes, expected) in table {
        assert_eq!(verdict(console_api_token(p, scopes)), expected, "{case}");
    }
    assert!(person_api(&person).is_ok());
    assert_eq!(verdict(person_api(&sa)), Err((FORBIDDEN, "token_not_allowed")));
}

#[test]
fn a_client_introspects_its_own_tokens_and_others_only_when_allowed_and_revokes_only_its_own() {
    let mut caller = integration(IntegrationType::Oauth, in_org(ORG), "d");
    let own = caller.client_id.to_string();
    let other = "ffffffffffffffffffffffffffffffff";
    assert!(introspects(&caller, &own));
    assert!(!introspects(&caller, other));
    assert!(revokes(&caller, &own));
    assert!(!revokes(&caller, other));
    caller.may_introspect = true;
    assert!(introspects(&caller, other));
    assert!(!revokes(&caller, other), "introspecting is not revoking");
}

#[test]
fn only_operators_allow_an_integration_to_introspect() {
    assert!(grant_introspection(&Principal::operator()).is_ok());
    let mut console_operator = person("o", Some(Role::Admin), true);
    console_operator.operator = true;
    assert!(grant_introspection(&console_operator).is_ok());
    assert_eq!(
        verdict(grant_introspection(&person("a", Some(Role::Admin), true))),
        Err((FORBIDDEN, "operator_required"))
    );
    let sa = Principal::integration(integration(IntegrationType::ServiceAccount, in_org(ORG), "a"));
    assert_eq!(verdict(grant_introspection(&sa)), Err((FORBIDDEN, "operator_required")));
}

mod calling_a_service {
    use gatehouse_domain::{
        gateway::{GatewaySettings, Limits},
        service::{ActsFor, Service, ServiceCode, Subscription},
    };

    use super::*;

    fn service(acts_for: ActsFor) -> Service {
        Service {
            code: ServiceCode::parse("pdf").unwrap(),
            name: "PDF".into(),
            description: String::new(),
            allowed_types: vec![
                IntegrationType::Oauth,
                IntegrationType::ServiceAccount,
                IntegrationType::ApiKey,
            ],
            scopes: vec!["pdf.read".into(), "pdf.write".into()],
            acts_for,
            upstream_url: Some("http://127.0.0.1:9/".into()),
            gateway: GatewaySettings {
                path: None,
                limits: Limits {
                    per_second: Some(5),
                    burst: None,
                    per_day: Some(100),
                    per_month: None,
                },
                ..GatewaySettings::default()
            },
            created_at: 0,
            updated_at: 0,
        }
    }

    fn subscribed(scopes: &[&str]) -> Vec<Subscription> {
        vec![Subscription {
            integration_id: "i1".into(),
            service_code: ServiceCode::parse("pdf").unwrap(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            limits: Limits {
                per_day: Some(1000),
                ..Limits::default()
            },
            created_at: 0,
            updated_at: 0,
        }]
    }

    fn key(t: IntegrationType) -> Integration {
        let mut i = integration(t, in_org(ORG), "dev");
        if t == IntegrationType::ServiceAccount {
            i.technical_account_id = Some("tech@techacct.gatehouse".into());
        }
        i
    }

    fn other() -> Integration {
        let mut i = key(IntegrationType::Oauth);
        i.id = "i2".into();
        i.client_id = ClientId::parse("fedcba9876543210fedcba9876543210").unwrap();
        i
    }

    fn own(i: &Integration) -> Principal {
        Principal::integration(i.clone())
    }

    fn person_via(i: &Integration) -> Principal {
        Principal::person_token("acct-1", i.client_id.as_str())
    }

    type Verdict = Result<(), (Kind, &'static str)>;

    fn call(
        k: &Integration,
        subs: &[Subscription],
        s: &Service,
        token: Option<(&Principal, &[&str])>,
    ) -> Result<CallService, Refusal> {
        let scopes: Vec<String> = token.map_or_else(Vec::new, |(_, s)| s.iter().map(|s| s.to_string()).collect());
        let presented = token.map(|(p, _)| PresentedToken {
            principal: p,
            scopes: &scopes,
        });
        call_service(k, subs, s, presented)
    }

    #[test]
    fn the_policy_table_of_gateway_calls() {
        let oauth = key(IntegrationType::Oauth);
        let sa = key(IntegrationType::ServiceAccount);
        let api_key = key(IntegrationType::ApiKey);
        let mut disabled = key(IntegrationType::Oauth);
        disabled.status = IntegrationStatus::Disabled;
        let for_org = service(ActsFor::Organization);
        let for_user = service(ActsFor::User);
        let subs = subscribed(&["pdf.read"]);
        let forbidden = |c| Err((Kind::Forbidden, c));
        let read: &[&str] = &["pdf.read"];
        let write: &[&str] = &["pdf.write", "openid"];
        let cases: Vec<(&str, Verdict, Verdict)> = vec![
            (
                "own token with a granted scope",
                verdict(call(&oauth, &subs, &for_org, Some((&own(&oauth), read)))),
                Ok(()),
            ),
            (
                "a service account's own token",
                verdict(call(&sa, &subs, &for_org, Some((&own(&sa), read)))),
                Ok(()),
            ),
            (
                "an API Key integration without a token",
                verdict(call(&api_key, &subs, &for_org, None)),
                Ok(()),
            ),
            (
                "a person's token where the service acts for people",
                verdict(call(&oauth, &subs, &for_user, Some((&person_via(&oauth), read)))),
                Ok(()),
            ),
            (
                "a person's token where the service acts for organizations",
                verdict(call(&oauth, &subs, &for_org, Some((&person_via(&oauth), read)))),
                forbidden("integration_token_required"),
            ),
            (
                "a disabled integration",
                verdict(call(&disabled, &subs, &for_org, Some((&own(&disabled), read)))),
                forbidden("integration_disabled"),
            ),
            (
                "no subscription",
                verdict(call(&oauth, &[], &for_org, Some((&own(&oauth), read)))),
                forbidden("not_subscribed"),
            ),
            (
                "no token",
                verdict(call(&oauth, &subs, &for_org, None)),
                Err((Kind::Unauthorized, "token_required")),
            ),
            (
                "another integration's token",
                verdict(call(&oauth, &subs, &for_org, Some((&own(&other()), read)))),
                forbidden("token_of_another_integration"),
            ),
            (
                "a person's token through another integration",
                verdict(call(&oauth, &subs, &for_user, Some((&person_via(&other()), read)))),
                forbidden("token_of_another_integration"),
            ),
            (
                "the operator",
                verdict(call(&oauth, &subs, &for_org, Some((&Principal::operator(), read)))),
                forbidden("token_of_another_integration"),
            ),
            (
                "scopes the subscription does not grant",
                verdict(call(&oauth, &subs, &for_org, Some((&own(&oauth), write)))),
                forbidden("insufficient_scope"),
            ),
        ];
        for (what, got, want) in cases {
            assert_eq!(got, want, "{what}");
        }
    }

    #[test]
    fn a_call_names_whom_it_is_made_as_with_granted_scopes_and_limits() {
        let sa = key(IntegrationType::ServiceAccount);
        let subs = subscribed(&["pdf.read", "pdf.write"]);
        let c = call(
            &sa,
            &subs,
            &service(ActsFor::Organization),
            Some((&own(&sa), &["pdf.write", "openid"])),
        )
        .unwrap();
        assert_eq!(c.subject(), "tech@techacct.gatehouse");
        assert_eq!(c.subject_type(), SubjectType::TechnicalAccount);
        assert_eq!(c.scopes(), ["pdf.write"]);
        assert_eq!(c.org_id(), Some(ORG));
        assert_eq!(
            c.limits(),
            Limits {
                per_second: Some(5),
                burst: None,
                per_day: Some(1000),
                per_month: None,
            }
        );
        let oauth = key(IntegrationType::Oauth);
        let p = call(
            &oauth,
            &subs,
            &service(ActsFor::User),
            Some((&person_via(&oauth), &["pdf.read"])),
        )
        .unwrap();
        assert_eq!((p.subject(), p.subject_type()), ("acct-1", SubjectType::Person));
        let anon = call(&key(IntegrationType::ApiKey), &subs, &service(ActsFor::User), None).unwrap();
        assert_eq!(anon.subject_type(), SubjectType::Integration);
        assert!(anon.scopes().is_empty());
    }
}

#[test]
fn org_admins_manage_domains_and_only_operators_approve_them() {
    let o = org(ORG, false);
    assert!(manage_domains(&person("a", Some(Role::Admin), false), &o).is_ok());
    assert_eq!(
        manage_domains(&person("d", Some(Role::Developer), false), &o)
            .unwrap_err()
            .code,
        "admin_required"
    );
    assert_eq!(
        manage_domains(&person("x", None, false), &o).unwrap_err().kind,
        Kind::NotFound
    );
    assert!(approve_domain(&Principal::operator()).is_ok());
    let mut console_operator = person("op", None, false);
    console_operator.operator = true;
    assert!(approve_domain(&console_operator).is_ok());
    assert_eq!(
        approve_domain(&person("a", Some(Role::Admin), true)).unwrap_err().code,
        "operator_required"
    );
}

#[test]
fn enterprise_accounts_only_in_verified_domains_and_by_admins() {
    use gatehouse_domain::{
        account::Email,
        identity::email_domain::{DomainClaim, DomainName, VerifiedBy},
    };
    let mut claim = DomainClaim::new(
        ORG,
        DomainName::parse("bigcorp.example").unwrap(),
        &mut rand::thread_rng(),
        0,
    );
    let email = Email::parse("ceo@bigcorp.example").unwrap();
    let refusal = create_enterprise_account(Role::Admin, &email, std::slice::from_ref(&claim)).unwrap_err();
    assert_eq!((refusal.kind, refusal.code), (Kind::Forbidden, "domain_not_verified"));
    claim.verified = Some((1, VerifiedBy::Dns));
    assert!(create_enterprise_account(Role::Admin, &email, std::slice::from_ref(&claim)).is_ok());
    assert_eq!(
        create_enterprise_account(Role::Developer, &email, &[claim])
            .unwrap_err()
            .code,
        "admin_required"
    );
}

#[test]
fn only_operators_use_the_operator_area() {
    // A member, a developer and an admin of both organizations, with and without a second factor.
    for role in [None, Some(Role::Member), Some(Role::Developer), Some(Role::Admin)] {
        for mfa in [false, true] {
            assert_eq!(
                verdict(operate(&person("u1", role, mfa))),
                Err((Kind::Forbidden, "operator_required")),
                "{role:?} mfa={mfa}"
            );
        }
    }
    // A service account acts as an admin of its organization, never as an operator.
    let sa = Principal::integration(integration(IntegrationType::ServiceAccount, in_org(ORG), "u1"));
    assert_eq!(verdict(operate(&sa)), Err((Kind::Forbidden, "operator_required")));
    // A person's token, even one issued through an integration, is a person without the role.
    assert_eq!(
        verdict(operate(&Principal::person_token("u1", "c1"))),
        Err((Kind::Forbidden, "operator_required"))
    );
    let mut op = person("op", None, false);
    op.operator = true;
    assert_eq!(operate(&op).unwrap().account_id(), Some("op"));
    assert_eq!(operate(&Principal::operator()).unwrap().account_id(), None);
}

#[test]
fn a_person_reads_only_their_own_activity() {
    assert_eq!(
        own_activity(&person("u1", Some(Role::Admin), false)).unwrap().actor(),
        "account:u1"
    );
    let sa = Principal::integration(integration(IntegrationType::ServiceAccount, in_org(ORG), "u1"));
    assert_eq!(verdict(own_activity(&sa)), Err((Kind::Forbidden, "token_not_allowed")));
    assert_eq!(
        verdict(own_activity(&Principal::operator())),
        Err((Kind::Forbidden, "token_not_allowed"))
    );
}

#[test]
fn an_api_key_restricted_to_domains_is_used_only_from_them() {
    let mut key = integration(IntegrationType::ApiKey, in_org("acme"), "dev");
    assert_eq!(verdict(api_key_origin(&key, None, None)), Ok(()), "unrestricted");
    key.allowed_domains = vec!["app.example.com".into(), "*.example.org".into()];
    let refused = Err((Kind::Forbidden, "domain_not_allowed"));
    assert_eq!(verdict(api_key_origin(&key, None, None)), refused);
    assert_eq!(verdict(api_key_origin(&key, Some("null"), None)), refused);
    assert_eq!(
        verdict(api_key_origin(&key, Some("https://evil.example"), None)),
        refused
    );
    assert_eq!(
        verdict(api_key_origin(
            &key,
            Some("https://evil.example"),
            Some("https://app.example.com/")
        )),
        refused,
        "the Origin wins over the Referer"
    );
    assert_eq!(
        verdict(api_key_origin(&key, Some("https://example.org"), None)),
        refused
    );
    assert_eq!(
        verdict(api_key_origin(&key, Some("https://app.example.com"), None)),
        Ok(())
    );
    assert_eq!(
        verdict(api_key_origin(&key, None, Some("https://a.b.example.org/x"))),
        Ok(())
    );
}

#[test]
fn generating_a_test_token() {
    use IntegrationType::*;
    use gatehouse_domain::integration::Platform;
    let admin = person("a", Some(Role::Admin), true);
    let dev = person("d", Some(Role::Developer), true);
    let admin_by_token = {
        let mut p = person("a", Some(Role::Admin), true);
        p.who = Who::Person {
            account_id: "a".into(),
            via_client: Some("0123456789abcdef0123456789abcdef".into()),
        };
        p
    };
    let sa = integration(ServiceAccount, in_org(ORG), "a");
    let itself = Principal::integration(sa.clone());
    let web = |owner: Owner, by: &str| Integration {
        platform: Some(Platform::Web),
        ..integration(Oauth, owner, by)
    };
    let spa = Integration {
        platform: Some(Platform::Spa),
        ..integration(Oauth, in_org(ORG), "d")
    };
    let disabled = Integration {
        status: IntegrationStatus::Disabled,
        ..integration(ServerToServer, in_org(ORG), "a")
    };
    let table: Vec<(&str, &Principal, Integration, Expected)> = vec![
        ("admin, service account", &admin, sa.clone(), Ok(())),
        (
            "admin, OAuth Server-to-Server",
            &admin,
            integration(ServerToServer, in_org(ORG), "d"),
            Ok(()),
        ),
        (
            "developer who created an OAuth Server-to-Server integration",
            &dev,
            integration(ServerToServer, in_org(ORG), "d"),
            Err((FORBIDDEN, "admin_required")),
        ),
        (
            // A developer who created it before being demoted still sees it, but its token acts as an admin.
            "developer who created a service account",
            &dev,
            integration(ServiceAccount, in_org(ORG), "d"),
            Err((FORBIDDEN, "admin_required")),
        ),
        (
            "admin, Server-to-Server",
            &admin,
            integration(ServerToServer, in_org(ORG), "d"),
            Ok(()),
        ),
        (
            // A web app's tokens are people's, got by signing in: it has no client-credentials grant.
            "developer, own OAuth web app",
            &dev,
            web(in_org(ORG), "d"),
            Err((FORBIDDEN, "test_token_not_available")),
        ),
        (
            "owner, personal OAuth web app",
            &dev,
            web(Owner::Account("d".into()), "d"),
            Err((FORBIDDEN, "test_token_not_available")),
        ),
        (
            "a public client has no token of its own",
            &dev,
            spa,
            Err((FORBIDDEN, "test_token_not_available")),
        ),
        (
            "an API key has no token",
            &dev,
            integration(ApiKey, in_org(ORG), "d"),
            Err((FORBIDDEN, "test_token_not_available")),
        ),
        (
            "a disabled integration",
            &admin,
            disabled,
            Err((FORBIDDEN, "integration_disabled")),
        ),
        (
            "a person's access token cannot mint tokens",
            &admin_by_token,
            sa.clone(),
            Err((FORBIDDEN, "session_required")),
        ),
        (
            "a service account's own token cannot mint tokens",
            &itself,
            sa.clone(),
            Err((FORBIDDEN, "session_required")),
        ),
    ];
    for (case, p, i, expected) in table {
        let m = manage_integration(p, i).unwrap_or_else(|e| panic!("{case}: cannot manage: {e:?}"));
        assert_eq!(verdict(generate_test_token(p, &m)), expected, "{case}");
    }
}

#[test]
fn sending_a_test_event() {
    use gatehouse_domain::events::{
        EventCode,
        model::{DeliveryMethod, EventOfInterest, Registration, RegistrationStatus},
    };
    let own = integration(IntegrationType::ServiceAccount, in_org(ORG), "a");
    let other = Integration {
        id: "i2".into(),
        ..own.clone()
    };
    let reg = |method: DeliveryMethod, status: RegistrationStatus, types: &[&str]| Registration {
        id: "r1".into(),
        integration_id: "i1".into(),
        name: "Hook".into(),
        description: String::new(),
        delivery_method: method,
        webhook_url: Some("https://hooks.example/".into()),
        status,
        unstable_since: None,
        status_reason: None,
        events_of_interest: types
            .iter()
            .map(|c| EventOfInterest {
                provider_id: "p1".into(),
                event_code: EventCode::parse(c).unwrap(),
            })
            .collect(),
        created_at: 0,
        updated_at: 0,
    };
    use DeliveryMethod::*;
    use RegistrationStatus::*;
    let table: Vec<(&str, &Integration, Registration, Expected)> = vec![
        ("own, active", &own, reg(Webhook, Active, &["a.b", "c.d"]), Ok(())),
        ("own, unstable", &own, reg(Webhook, Unstable, &["a.b"]), Ok(())),
        ("own journal", &own, reg(Journal, Active, &["a.b"]), Ok(())),
        (
            "another integration's",
            &other,
            reg(Webhook, Active, &["a.b"]),
            Err((Kind::NotFound, "not_found")),
        ),
        (
            "disabled",
            &own,
            reg(Webhook, Disabled, &["a.b"]),
            Err((FORBIDDEN, "registration_not_active")),
        ),
        (
            "unverified (its webhook never answered the challenge)",
            &own,
            reg(Webhook, Unverified, &["a.b"]),
            Err((FORBIDDEN, "registration_not_active")),
        ),
        (
            "no event type",
            &own,
            reg(Webhook, Active, &[]),
            Err((FORBIDDEN, "no_event_types")),
        ),
    ];
    for (case, caller, r, expected) in table {
        assert_eq!(verdict(send_test_event(caller, &r)), expected, "{case}");
    }
    // The test is of the registration's first event type, so it reaches no one else.
    let leave = send_test_event(&own, &reg(Webhook, Active, &["a.b", "c.d"])).unwrap();
    assert_eq!((leave.provider_id(), leave.event_code()), ("p1", "a.b"));
}

#[test]
fn the_console_api_takes_a_token_under_its_own_clients_key() {
    let sa = integration(IntegrationType::ServerToServer, in_org(ORG), "a");
    let own = sa.client_id.as_str().to_owned();
    let itself = Principal::integration(sa);
    assert_eq!(verdict(console_api_key(&itself, Some(&own))), Ok(()));
    assert_eq!(
        verdict(console_api_key(&itself, None)),
        Err((FORBIDDEN, "api_key_mismatch"))
    );
    assert_eq!(
        verdict(console_api_key(&itself, Some("00000000000000000000000000000000"))),
        Err((FORBIDDEN, "api_key_mismatch"))
    );
    let person = Principal::person_token("acc", "c1");
    assert_eq!(verdict(console_api_key(&person, Some("c1"))), Ok(()));
    assert_eq!(
        verdict(console_api_key(&person, Some(&own))),
        Err((FORBIDDEN, "api_key_mismatch"))
    );
}
