//! Every error names the file and the offending key; a file with an error writes nothing.

use gatehouse_store::{AccountStore, OrgStore, ServiceStore};

use super::*;
use crate::harness::db::TestDatabase;

const ORG: &str = r#"
[[organizations]]
id = "0123456789abcdef01234567@GatehouseOrg"
name = "Acme"

[[accounts]]
email = "dev@acme.test"
password = "long enough password"
type = "enterprise"
organization = "0123456789abcdef01234567@GatehouseOrg"
role = "developer"

[[services]]
code = "pdf_services"
name = "PDF Services"
allowed_types = ["service_account"]
scopes = ["ent_documentcloud_sdk"]
"#;

/// Applies `ORG` followed by `extra` to a fresh database and returns the error text.
async fn apply_error(extra: &str) -> String {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    let text = format!("{ORG}\n{extra}");
    let err = error_text(apply_text(&store, &text).await);
    assert_eq!(audit_count(&store).await, 0, "an invalid file writes nothing");
    err
}

#[track_caller]
fn assert_mentions(err: &str, parts: &[&str]) {
    for p in parts {
        assert!(err.contains(p), "error should mention {p:?}:\n{err}");
    }
}

#[test]
fn unknown_keys_are_named() {
    let err = error_text(parse(
        "[[integrations]]\nname = \"x\"\ntype = \"api_key\"\nowner = \"a@b.test\"\ncolour = \"red\"\n",
    ));
    assert_mentions(
        &err,
        &["test.toml: integrations[0].colour:", "unknown field `colour`", "line 5"],
    );
    let err = error_text(parse("[[organisations]]\nname = \"x\"\n"));
    assert_mentions(&err, &["test.toml: organisations:", "unknown field"]);
}

#[test]
fn bad_enum_values_are_named() {
    let err = error_text(parse("[[integrations]]\nname = \"x\"\ntype = \"oauth2\"\n"));
    assert_mentions(
        &err,
        &[
            "test.toml: integrations[0].type:",
            "unknown variant `oauth2`",
            "api_key",
        ],
    );
    let err = error_text(parse(
        "[[accounts]]\nemail = \"a@b.test\"\norganization = \"Acme\"\nrole = \"owner\"\n",
    ));
    assert_mentions(&err, &["test.toml: accounts[0].role:", "unknown variant `owner`"]);
}

#[test]
fn toml_syntax_errors_show_line_and_column() {
    let err = error_text(parse("[[organizations]]\nname = \"Acme\"\nid = \n"));
    assert_mentions(&err, &["test.toml: line 3, column 6:"]);
}

#[test]
fn short_passwords_are_refused() {
    let err = error_text(parse("[[accounts]]\nemail = \"a@b.test\"\npassword = \"short\"\n"));
    assert_mentions(&err, &["test.toml: accounts[0].password:", "at least 12 characters"]);
}

#[test]
fn bad_org_ids_are_refused() {
    let err = error_text(parse(
        "[[organizations]]\nid = \"acme@GatehouseOrg\"\nname = \"Acme\"\n",
    ));
    assert_mentions(&err, &["test.toml: organizations[0].id:", "24 hex"]);
}

#[test]
fn bad_values_are_all_reported_at_once() {
    let err = error_text(parse(
        "[[accounts]]\nemail = \"not-an-email\"\npassword = \"short\"\n\n\
         [[services]]\ncode = \"Bad Code\"\nname = \"x\"\nallowed_types = []\n",
    ));
    assert_mentions(
        &err,
        &[
            "accounts[0].email:",
            "accounts[0].password:",
            "services[0].code:",
            "services[0].allowed_types:",
        ],
    );
}

#[test]
fn type_rules_for_keys() {
    let err = error_text(parse(
        "[[integrations]]\nname = \"k\"\ntype = \"api_key\"\nowner = \"a@b.test\"\nclient_secret = \"0123456789abcdefghij\"\n\
         certificates = [\"certs/rsa2048.crt\"]\n",
    ));
    assert_mentions(
        &err,
        &["integrations[0].client_secret:", "integrations[0].certificates:"],
    );
    let err = error_text(parse(
        "[[integrations]]\nname = \"s\"\ntype = \"oauth\"\nowner = \"a@b.test\"\nplatform = \"spa\"\n\
         redirect_uri = \"https://x.test/cb\"\nclient_secret = \"0123456789abcdefghij\"\n",
    ));
    assert_mentions(&err, &["integrations[0].client_secret:", "public clients"]);
    let err = error_text(parse(
        "[[integrations]]\nname = \"w\"\ntype = \"oauth\"\nowner = \"a@b.test\"\nplatform = \"web\"\n\
         redirect_uri = \"/relative\"\nredirect_patterns = [\"https://(\"]\n",
    ));
    assert_mentions(
        &err,
        &["integrations[0].redirect_uri:", "integrations[0].redirect_patterns[0]:"],
    );
}

#[test]
fn private_keys_in_place_of_certificates_are_refused() {
    let err = error_text(parse(
        "[[integrations]]\nname = \"s\"\ntype = \"service_account\"\norganization = \"Acme\"\n\
         certificates = [\"certs/private-pkcs8.key\"]\n",
    ));
    assert_mentions(&err, &["integrations[0].certificates[0]:", "never the private key"]);
}

#[test]
fn server_to_server_takes_no_certificates_platform_or_owner() {
    let err = error_text(parse(
        "[[integrations]]\nname = \"s\"\ntype = \"server_to_server\"\nowner = \"dev@acme.test\"\n\
         platform = \"web\"\ncertificates = [\"certs/rsa2048.crt\"]\n",
    ));
    assert_mentions(
        &err,
        &[
            "integrations[0].platform:",
            "integrations[0].certificates: server_to_server integrations authenticate with a client secret",
            "integrations[0].owner: a server_to_server integration must belong to an organization",
        ],
    );
}

#[tokio::test]
async fn a_missing_service_is_named() {
    let err = apply_error(
        r#"
        [[integrations]]
        name = "Acme backend"
        type = "service_account"
        organization = "0123456789abcdef01234567@GatehouseOrg"
        subscriptions = [{ service = "pdf_services" }]

        [[integrations]]
        name = "Acme other"
        type = "service_account"
        organization = "0123456789abcdef01234567@GatehouseOrg"
        subscriptions = [{ service = "pdf" }]
        "#,
    )
    .await;
    assert_mentions(
        &err,
        &[
            r#"test.toml: integrations[1].subscriptions[0].service: no service "pdf" (define it under [[services]] or in the database)"#,
        ],
    );
}

#[tokio::test]
async fn a_service_account_owned_by_a_person_is_refused() {
    let err = apply_error(
        r#"
        [[integrations]]
        name = "Mine"
        type = "service_account"
        owner = "dev@acme.test"
        "#,
    )
    .await;
    assert_mentions(
        &err,
        &["test.toml: integrations[0].owner:", "must belong to an organization"],
    );
}

#[tokio::test]
async fn a_subscription_the_service_does_not_allow_is_refused() {
    let err = apply_error(
        r#"
        [[integrations]]
        name = "Web"
        type = "oauth"
        owner = "dev@acme.test"
        platform = "web"
        redirect_uri = "https://app.acme.test/callback"
        subscriptions = [{ service = "pdf_services" }]
        "#,
    )
    .await;
    assert_mentions(
        &err,
        &[
            "test.toml: integrations[0].subscriptions[0].service:",
            "service_not_allowed_for_integration_type",
            "pdf_services",
            "oauth",
        ],
    );
}

#[tokio::test]
async fn references_to_missing_objects_are_named() {
    let err = apply_error(
        r#"
        [[accounts]]
        email = "x@acme.test"
        organization = "ffffffffffffffffffffffff@GatehouseOrg"
        role = "member"

        [[integrations]]
        name = "K"
        type = "api_key"
        owner = "nobody@acme.test"
        "#,
    )
    .await;
    assert_mentions(
        &err,
        &[
            "accounts[1].organization: no organization \"ffffffffffffffffffffffff@GatehouseOrg\"",
            "integrations[0].owner: no account \"nobody@acme.test\"",
        ],
    );
}

#[tokio::test]
async fn a_file_whose_last_integration_is_invalid_writes_nothing() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    let text = format!(
        "{ORG}\n{}",
        r#"
        [[integrations]]
        name = "Fine"
        type = "service_account"
        organization = "0123456789abcdef01234567@GatehouseOrg"
        certificates = ["certs/rsa2048.crt"]
        subscriptions = [{ service = "pdf_services" }]

        [[integrations]]
        name = "Broken"
        type = "api_key"
        owner = "dev@acme.test"
        subscriptions = [{ service = "pdf_services" }]
        "#
    );
    let err = error_text(apply_text(&store, &text).await);
    assert!(err.contains("integrations[1].subscriptions[0].service"), "{err}");
    let mut c = store.conn().await.unwrap();
    assert!(c.list_orgs().await.unwrap().is_empty());
    assert!(c.list_accounts().await.unwrap().is_empty());
    assert!(c.list_services().await.unwrap().is_empty());
    assert_eq!(audit_count(&store).await, 0);
}

#[tokio::test]
async fn an_integration_cannot_change_type_or_owner() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    let base = format!(
        "{ORG}\n[[integrations]]\nname = \"K\"\ntype = \"api_key\"\nowner = \"dev@acme.test\"\nclient_id = \"kkkkkkkkkkkkkkkk\"\n"
    );
    apply_text(&store, &base).await.unwrap();
    let err = error_text(
        apply_text(
            &store,
            &base
                .replace("api_key", "service_account")
                .replace("owner = \"dev@acme.test\"", "organization = \"Acme\""),
        )
        .await,
    );
    assert!(
        err.contains("integrations[0].type:") && err.contains("cannot change"),
        "{err}"
    );
    let err = error_text(
        apply_text(
            &store,
            &base.replace("owner = \"dev@acme.test\"", "organization = \"Acme\""),
        )
        .await,
    );
    assert!(
        err.contains("integrations[0].organization:") && err.contains("owner cannot change"),
        "{err}"
    );
}
