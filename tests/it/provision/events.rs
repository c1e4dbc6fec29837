//! Events in provisioning files: custom event providers with their event types and event
//! registrations, created idempotently, replaced declaratively, exported without secrets, and
//! refused with the key that is wrong.

use gatehouse_app::provision::{self, ProvisionFile};
use gatehouse_domain::{
    events::model::{DeliveryMethod, RegistrationStatus},
    ids::ClientId,
};
use gatehouse_store::{EventStore, IntegrationStore};
use rand::{SeedableRng, rngs::StdRng};

use super::*;
use crate::harness::db::TestDatabase;

const GATEHOUSE: &str = "8c2f1d54-6a0b-4d2e-9f3a-7b1e0c9d4a21";
const PROVIDER: &str = "3f9b7c1e-2d4a-4b8e-9c6f-5a1e7d2b0c94";

async fn integration_id(store: &Store, client_id: &str) -> String {
    store
        .conn()
        .await
        .unwrap()
        .integration_by_client_id(&ClientId::parse(client_id).unwrap())
        .await
        .unwrap()
        .unwrap()
        .id
}

#[tokio::test]
async fn the_example_provisions_event_providers_types_and_registrations_idempotently() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    apply_example(&store).await;
    let sa = integration_id(&store, "e053e1a87cf74c68a6ec8e71d4a82662").await;
    let mut c = store.conn().await.unwrap();
    let p = c
        .provider_by_id(PROVIDER)
        .await
        .unwrap()
        .expect("the provider keeps its given ID");
    assert_eq!(p.label, "Acme campaigns");
    assert_eq!(p.owner_integration_id.as_deref(), Some(sa.as_str()));
    assert_eq!(p.owner_scope.as_deref(), Some("0123456789abcdef01234567@GatehouseOrg"));
    let types = c.event_types_of(PROVIDER).await.unwrap();
    let codes: Vec<&str> = types.iter().map(|t| t.event_code.as_str()).collect();
    assert_eq!(codes.len(), 2, "{codes:?}");
    let launched = types
        .iter()
        .find(|t| t.event_code.as_str() == "com.acme.campaign.launched")
        .unwrap();
    assert_eq!(launched.sample.as_ref().unwrap()["channel"], "email");
    let mut regs = c.registrations_of_integration(&sa).await.unwrap();
    regs.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(regs.len(), 2);
    let journal = &regs[0];
    assert_eq!(journal.name, "Audit journal");
    assert_eq!(journal.delivery_method, DeliveryMethod::Journal);
    let hook = &regs[1];
    assert_eq!(hook.status, RegistrationStatus::Active, "the file vouches for the URL");
    assert_eq!(
        hook.webhook_url.as_deref(),
        Some("https://crm.acme.example/hooks/gatehouse")
    );
    let interests: Vec<(&str, &str)> = hook
        .events_of_interest
        .iter()
        .map(|e| (e.provider_id.as_str(), e.event_code.as_str()))
        .collect();
    assert!(
        interests.contains(&(PROVIDER, "com.acme.campaign.completed")),
        "by label: {interests:?}"
    );
    assert!(interests.contains(&(GATEHOUSE, "gatehouse.credential.rotated")));
    let sealed = c
        .registration_secrets(&hook.id)
        .await
        .unwrap()
        .expect("a sealed secret");
    assert!(!sealed.current.is_empty());
    drop(c);

    // Again: nothing changes, nothing is written.
    let audits = audit_count(&store).await;
    let second = apply_example(&store).await;
    assert!(second.is_unchanged(), "{:?}", second.plan_lines());
    assert_eq!(audit_count(&store).await, audits);

    // The export carries it all but the secret, and applying it changes nothing.
    let e1 = provision::export(&store).await.unwrap();
    assert!(e1.contains("[[integrations.event_providers]]"), "{e1}");
    assert!(e1.contains(&format!("id = \"{PROVIDER}\"")));
    assert!(e1.contains("[[integrations.event_providers.event_types]]"));
    assert!(e1.contains("[[integrations.event_registrations]]"));
    assert!(e1.contains("delivery_method = \"journal\""));
    assert!(!e1.contains("whsec_"), "no webhook secret in an export");
    let exported = ProvisionFile::parse("e1.toml", &e1, &fixtures()).unwrap();
    let again = apply_file(&store, &exported).await.unwrap();
    assert!(again.is_unchanged(), "{:?}", again.plan_lines());
    assert_eq!(provision::export(&store).await.unwrap(), e1);

    // In an empty database the export makes the same providers, types and registrations.
    let target = TestDatabase::fresh().await;
    let target_store = target.store().await;
    apply_file(&target_store, &exported).await.unwrap();
    assert_eq!(provision::export(&target_store).await.unwrap(), e1);
}

const BASE: &str = r#"
[[organizations]]
id = "0123456789abcdef01234567@GatehouseOrg"
name = "Acme"

[[integrations]]
name = "Billing"
type = "service_account"
organization = "Acme"
client_id = "0f0e0d0c0b0a09080706050403020100"
client_secret = "a-long-enough-client-secret"
"#;

fn with_events(events: &str) -> String {
    format!("{BASE}{events}")
}

const FIRST: &str = r#"
[[integrations.event_providers]]
label = "Invoices"
[[integrations.event_providers.event_types]]
code = "com.acme.invoice.paid"
label = "Invoice paid"
[[integrations.event_providers.event_types]]
code = "com.acme.invoice.void"
label = "Invoice voided"

[[integrations.event_registrations]]
name = "Paid invoices"
delivery_method = "webhook"
webhook_url = "https://hooks.acme.example/paid"
events = [{ provider = "Invoices", code = "com.acme.invoice.paid" }]

[[integrations.event_registrations]]
name = "Everything"
delivery_method = "journal"
events = [
  { provider = "Invoices", code = "com.acme.invoice.paid" },
  { provider = "Invoices", code = "com.acme.invoice.void" },
]
"#;

const SECOND: &str = r#"
[[integrations.event_providers]]
label = "Invoices"
description = "Invoice lifecycle"
[[integrations.event_providers.event_types]]
code = "com.acme.invoice.paid"
label = "Invoice paid (settled)"
sample = '{"amount": 10}'

[[integrations.event_registrations]]
name = "Paid invoices"
delivery_method = "webhook_batch"
webhook_url = "https://hooks.acme.example/paid-batch"
events = [{ provider = "Invoices", code = "com.acme.invoice.paid" }]
status = "disabled"
"#;

#[tokio::test]
async fn event_lists_replace_what_is_stored() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    apply_text(&store, &with_events(FIRST)).await.unwrap();
    let id = integration_id(&store, "0f0e0d0c0b0a09080706050403020100").await;
    let mut c = store.conn().await.unwrap();
    let regs = c.registrations_of_integration(&id).await.unwrap();
    assert_eq!(regs.len(), 2);
    let paid_id = regs.iter().find(|r| r.name == "Paid invoices").unwrap().id.clone();
    let sealed_before = c.registration_secrets(&paid_id).await.unwrap().unwrap();
    drop(c);

    let report = apply_text(&store, &with_events(SECOND)).await.unwrap();
    let lines = report.plan_lines().join("\n");
    for expected in [
        "event provider \"Invoices\": description",
        "event type com.acme.invoice.paid: label, sample",
        "event type com.acme.invoice.void removed",
        "event registration \"Paid invoices\": delivery_method → webhook_batch, webhook_url, status → disabled",
        "event registration \"Everything\" removed",
    ] {
        assert!(lines.contains(expected), "{expected:?} missing from:\n{lines}");
    }
    let mut c = store.conn().await.unwrap();
    let regs = c.registrations_of_integration(&id).await.unwrap();
    assert_eq!(regs.len(), 1);
    assert_eq!(regs[0].id, paid_id, "matched by name, not recreated");
    assert_eq!(regs[0].status, RegistrationStatus::Disabled);
    assert_eq!(regs[0].delivery_method, DeliveryMethod::WebhookBatch);
    assert_eq!(
        c.registration_secrets(&paid_id).await.unwrap().unwrap(),
        sealed_before,
        "the secret is kept"
    );
    let providers = c
        .list_providers(Some("0123456789abcdef01234567@GatehouseOrg"))
        .await
        .unwrap();
    let p = providers.iter().find(|p| p.label == "Invoices").unwrap();
    let types = c.event_types_of(&p.id).await.unwrap();
    assert_eq!(types.len(), 1);
    assert_eq!(types[0].label, "Invoice paid (settled)");
    drop(c);
    assert!(apply_text(&store, &with_events(SECOND)).await.unwrap().is_unchanged());

    // Re-activating through the file; then an empty list removes the providers.
    let active = SECOND.replace("status = \"disabled\"", "status = \"active\"");
    apply_text(&store, &with_events(&active)).await.unwrap();
    let mut c = store.conn().await.unwrap();
    assert_eq!(
        c.registration_by_id(&paid_id).await.unwrap().unwrap().status,
        RegistrationStatus::Active
    );
    drop(c);
    let report = apply_text(&store, &with_events("event_providers = []\nevent_registrations = []\n"))
        .await
        .unwrap();
    assert!(
        report
            .plan_lines()
            .join("\n")
            .contains("event provider \"Invoices\" removed")
    );
    let mut c = store.conn().await.unwrap();
    assert!(c.registrations_of_integration(&id).await.unwrap().is_empty());
}

#[tokio::test]
async fn event_mistakes_are_refused_with_their_key_and_nothing_is_written() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    let cases = [
        (
            r#"
[[integrations.event_registrations]]
name = "Hook"
delivery_method = "webhook"
webhook_url = "https://hooks.acme.example/x"
events = [{ provider = "Nobody", code = "com.acme.x.y" }]
"#,
            "integrations[0].event_registrations[0].events[0].provider",
            "no event provider \"Nobody\" this integration can see",
        ),
        (
            r#"
[[integrations.event_registrations]]
name = "Hook"
delivery_method = "journal"
webhook_url = "https://hooks.acme.example/x"
events = [{ provider = "8c2f1d54-6a0b-4d2e-9f3a-7b1e0c9d4a21", code = "gatehouse.integration.created" }]
"#,
            "integrations[0].event_registrations[0].webhook_url",
            "takes no webhook_url",
        ),
        (
            r#"
[[integrations.event_registrations]]
name = "Hook"
delivery_method = "webhook"
events = [{ provider = "8c2f1d54-6a0b-4d2e-9f3a-7b1e0c9d4a21", code = "gatehouse.integration.created" }]
"#,
            "integrations[0].event_registrations[0].webhook_url",
            "needs a webhook_url",
        ),
        (
            r#"
[[integrations.event_registrations]]
name = "Hook"
delivery_method = "journal"
events = [{ provider = "8c2f1d54-6a0b-4d2e-9f3a-7b1e0c9d4a21", code = "gatehouse.no.such" }]
"#,
            "integrations[0].event_registrations[0].events[0].code",
            "has no event type gatehouse.no.such",
        ),
        (
            r#"
[[integrations.event_providers]]
label = "Invoices"
[[integrations.event_providers.event_types]]
code = "nodots"
label = "X"
"#,
            "integrations[0].event_providers[0].event_types[0].code",
            "at least two dot-separated parts",
        ),
        (
            r#"
[[integrations.event_providers]]
label = "Invoices"
[[integrations.event_providers.event_types]]
code = "com.acme.a.b"
label = "X"
sample = "{nope"
"#,
            "integrations[0].event_providers[0].event_types[0].sample",
            "is not valid JSON",
        ),
        (
            r#"
[[integrations.event_registrations]]
name = "Hook"
delivery_method = "webhook"
webhook_url = "ftp://hooks.acme.example/x"
events = [{ provider = "8c2f1d54-6a0b-4d2e-9f3a-7b1e0c9d4a21", code = "gatehouse.integration.created" }]
colour = "blue"
"#,
            "integrations[0].event_registrations[0].colour",
            "unknown field",
        ),
    ];
    for (events, key, message) in cases {
        let e = error_text(apply_text(&store, &with_events(events)).await);
        assert!(e.contains(key) && e.contains(message), "{key} / {message}:\n{e}");
    }
    assert_eq!(audit_count(&store).await, 0, "nothing was written");

    // A registration needs the master key to seal its secret.
    let file = parse(&with_events(FIRST)).unwrap();
    let e = error_text(provision::apply(&store, &file, now(), &mut StdRng::from_entropy(), &Settings::default()).await);
    assert!(e.contains("needs the master key"), "{e}");
    assert_eq!(audit_count(&store).await, 0);
}
