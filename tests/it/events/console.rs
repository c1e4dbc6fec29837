//! The console's Events tab without a browser: providers and event types, registrations created
//! from forms (the challenge's result shown), errors next to their fields, CSRF and permission
//! refusals that change nothing, the attempt log with resend and recover, and the webhook secret
//! shown once on rotation and readable again by the integration's managers.

use axum::http::{Method, StatusCode};
use gatehouse_domain::audit::Actor;
use gatehouse_store::{AuditStore, EventStore};
use serde_json::json;

use super::client::{self, dispatch, dispatcher, posts};
use crate::{
    console::helpers::{World, api, csrf, post, world_on},
    harness::{receiver::TestReceiver, server::TestClient},
};

pub(super) const CODE: &str = "com.acme.invoice.paid";

/// The console world on a server that may reach loopback webhooks, with a service account the
/// admin created (the developer did not create it, so may not manage it).
pub(super) struct Setup {
    pub w: World,
    pub integration: String,
    pub publisher: client::Caller,
    pub receiver: TestReceiver,
}

pub(super) async fn setup() -> Setup {
    let w = world_on(client::server().await).await;
    let sa = api(
        &w.admin.client,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Billing", "integration_type": "server_to_server", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
    let integration = sa["integration"]["id"].as_str().unwrap().to_owned();
    let client_id = sa["integration"]["client_id"].as_str().unwrap().to_owned();
    let secret = sa["client_secret"].as_str().unwrap().to_owned();
    let token = client::token(&w.server, &client_id, &secret).await;
    let publisher = client::Caller {
        client: w.server.new_client(),
        integration_id: integration.clone(),
        client_id,
        org: w.org_id.clone(),
        token,
    };
    Setup {
        w,
        integration,
        publisher,
        receiver: TestReceiver::start().await,
    }
}

impl Setup {
    pub(super) fn base(&self) -> String {
        format!("/console/integrations/{}/events", self.integration)
    }

    pub(super) fn admin(&self) -> &TestClient {
        &self.w.admin.client
    }

    /// A provider with the event type [`CODE`], made through the pages; returns its ID.
    pub(super) async fn provider(&self) -> String {
        let path = format!("{}/providers", self.base());
        post(self.admin(), &path, &[("label", "Invoices")], StatusCode::SEE_OTHER).await;
        let mut conn = self.w.server.store().conn().await.unwrap();
        let providers = conn.list_providers(Some(&self.w.org_id)).await.unwrap();
        let p = providers
            .iter()
            .find(|p| p.owner_integration_id.as_deref() == Some(self.integration.as_str()))
            .unwrap()
            .id
            .clone();
        post(
            self.admin(),
            &format!("{path}/{p}/types"),
            &[
                ("event_code", CODE),
                ("label", "Invoice paid"),
                ("sample", r#"{"amount": 1}"#),
            ],
            StatusCode::SEE_OTHER,
        )
        .await;
        p
    }

    /// Creates a webhook registration through the form; returns (registration ID, page HTML).
    pub(super) async fn register(&self, name: &str, provider: &str) -> (String, String) {
        let url = self.receiver.url("/hook");
        let event = format!("{provider}/{CODE}");
        let created = post(
            self.admin(),
            &self.base(),
            &[
                ("name", name),
                ("delivery_method", "webhook"),
                ("webhook_url", url.as_str()),
                ("event", event.as_str()),
            ],
            StatusCode::SEE_OTHER,
        )
        .await;
        let html = self.follow(&created).await;
        let mut conn = self.w.server.store().conn().await.unwrap();
        let id = conn
            .registrations_of_integration(&self.integration)
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.name == name)
            .unwrap()
            .id;
        (id, html)
    }

    /// The page a post-redirect-get answer sends the browser to; a reload of it changes nothing.
    async fn follow(&self, res: &crate::harness::server::TestResponse) -> String {
        let to = res.header("location").expect("a redirect").to_owned();
        let page = self.admin().get(&to, StatusCode::OK).await;
        assert_eq!(page.header("cache-control"), Some("no-store"), "{to}");
        page.text()
    }

    async fn registration_count(&self) -> usize {
        let mut conn = self.w.server.store().conn().await.unwrap();
        conn.registrations_of_integration(&self.integration)
            .await
            .unwrap()
            .len()
    }
}

/// The first `whsec_…` value in a page.
fn secret_in(html: &str) -> String {
    let start = html.find("whsec_").expect("a webhook secret on the page");
    html[start..].chars().take_while(|c| *c != '<' && *c != '"').collect()
}

#[tokio::test]
async fn events_pages_create_providers_types_and_registrations_with_the_challenge_result() {
    let s = setup().await;
    let page = s.admin().get(&s.base(), StatusCode::OK).await.text();
    assert!(page.contains("id=\"no-registrations\""), "empty state: {page}");
    assert!(
        page.contains("id=\"new-registration\"") && page.contains("gatehouse.integration.created"),
        "Gatehouse's own event types are offered from the start: {page}"
    );
    let overview = s
        .admin()
        .get(&format!("/console/integrations/{}", s.integration), StatusCode::OK)
        .await
        .text();
    assert!(overview.contains(&format!("href=\"{}\"", s.base())), "the Events tab");

    // Event types: a bad code and a bad sample are refused next to their fields.
    let providers = s
        .admin()
        .get(&format!("{}/providers", s.base()), StatusCode::OK)
        .await
        .text();
    assert!(providers.contains("id=\"no-providers\""));
    let p = s.provider().await;
    let bad = post(
        s.admin(),
        &format!("{}/providers/{p}/types", s.base()),
        &[("event_code", "nodots"), ("label", "X")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .text();
    assert!(bad.contains("must have at least two dot-separated parts"), "{bad}");
    let bad = post(
        s.admin(),
        &format!("{}/providers/{p}/types", s.base()),
        &[
            ("event_code", "com.acme.invoice.void"),
            ("label", "Void"),
            ("sample", "{nope"),
        ],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .text();
    assert!(bad.contains("The sample is not valid JSON"), "{bad}");
    let dup = post(
        s.admin(),
        &format!("{}/providers/{p}/types", s.base()),
        &[("event_code", CODE), ("label", "Again")],
        StatusCode::CONFLICT,
    )
    .await
    .text();
    assert!(dup.contains("already has the event type"), "{dup}");
    let providers = s
        .admin()
        .get(&format!("{}/providers", s.base()), StatusCode::OK)
        .await
        .text();
    assert!(providers.contains(CODE) && providers.contains("Invoice paid"));
    assert!(
        !providers.contains("com.acme.invoice.void"),
        "refused types are not stored"
    );

    // A registration: a private-looking bad URL is refused, nothing stored.
    let event = format!("{p}/{CODE}");
    let refused = post(
        s.admin(),
        &s.base(),
        &[
            ("name", "Invoices hook"),
            ("delivery_method", "webhook"),
            ("webhook_url", "ftp://hooks.example.com/x"),
            ("event", event.as_str()),
        ],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .text();
    assert!(refused.contains("id=\"webhook_url-error\""), "{refused}");
    assert!(
        refused.contains("value=\"ftp://hooks.example.com/x\""),
        "what was typed stays"
    );
    let refused = post(
        s.admin(),
        &s.base(),
        &[
            ("name", "Invoices hook"),
            ("delivery_method", "webhook"),
            ("webhook_url", ""),
        ],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .text();
    assert!(refused.contains("id=\"webhook_url-error\""), "{refused}");
    assert_eq!(s.registration_count().await, 0);

    // The challenge passes: active, the secret shown once.
    let (rid, html) = s.register("Invoices hook", &p).await;
    assert!(html.contains("The webhook answered the challenge"), "{html}");
    assert!(html.contains(">Active<"), "{html}");
    let secret = secret_in(&html);
    assert!(secret.len() > 20);
    assert!(s.receiver.requests().iter().any(|r| r.path.contains("challenge=")));
    let again = s
        .admin()
        .get(&format!("{}/registrations/{rid}", s.base()), StatusCode::OK)
        .await
        .text();
    assert!(!again.contains(&secret), "the secret is not on the page again");
    assert!(
        again.contains(&format!("/api/v1/events/registrations/{rid}/journal")),
        "the journal URL"
    );
    assert!(again.contains("id=\"no-attempts\""));

    // The same name again: refused on the name field.
    let taken = post(
        s.admin(),
        &s.base(),
        &[
            ("name", "Invoices hook"),
            ("delivery_method", "journal"),
            ("event", event.as_str()),
        ],
        StatusCode::CONFLICT,
    )
    .await
    .text();
    assert!(taken.contains("id=\"name-error\""), "{taken}");

    // A webhook that does not echo: unverified, with the reason.
    s.receiver.stop_echoing_challenges();
    let url = s.receiver.url("/other");
    let html = post(
        s.admin(),
        &s.base(),
        &[
            ("name", "Silent hook"),
            ("delivery_method", "webhook_batch"),
            ("webhook_url", url.as_str()),
            ("event", event.as_str()),
        ],
        StatusCode::SEE_OTHER,
    )
    .await;
    let html = s.follow(&html).await;
    assert!(html.contains("did not pass the challenge"), "{html}");
    assert!(html.contains(">Unverified<"), "{html}");
    let list = s.admin().get(&s.base(), StatusCode::OK).await.text();
    assert!(list.contains("Invoices hook") && list.contains("Silent hook"));
    assert!(list.contains(">Active<") && list.contains(">Unverified<"));

    // The audit log names the person, not the integration.
    let audit =
        s.w.server
            .store()
            .conn()
            .await
            .unwrap()
            .recent_audit(None, 100)
            .await
            .unwrap();
    let created = audit
        .iter()
        .find(|r| r.entry.action == "event_registration.created")
        .unwrap();
    assert_eq!(
        created.entry.actor,
        Actor::Account(s.w.admin.account.id.clone()).render()
    );
    assert_eq!(created.entry.ip.as_deref(), Some("127.0.0.1"), "with the address");
}

#[tokio::test]
async fn events_pages_refuse_forms_without_csrf_and_people_who_do_not_manage_the_integration() {
    let s = setup().await;
    let p = s.provider().await;
    let (rid, _) = s.register("Invoices hook", &p).await;
    let event = format!("{p}/{CODE}");
    let url = s.receiver.url("/hook");
    let form = [
        ("name", "Sneaky"),
        ("delivery_method", "webhook"),
        ("webhook_url", url.as_str()),
        ("event", event.as_str()),
    ];
    // No CSRF token, and a wrong one: 403, nothing changes.
    csrf(s.admin()).await;
    s.admin().post_form(&s.base(), &form, StatusCode::FORBIDDEN).await;
    let mut wrong = form.to_vec();
    wrong.push(("csrf_token", "not-the-token"));
    s.admin().post_form(&s.base(), &wrong, StatusCode::FORBIDDEN).await;
    let reg = format!("{}/registrations/{rid}", s.base());
    for action in ["delete", "disable", "secret/rotate"] {
        s.admin()
            .post_form(&format!("{reg}/{action}"), &[("x", "y")], StatusCode::FORBIDDEN)
            .await;
    }
    assert_eq!(s.registration_count().await, 1);
    let secret_before = s
        .publisher
        .get(&format!("/api/v1/events/registrations/{rid}/secret"), StatusCode::OK)
        .await
        .json_value();
    assert_eq!(secret_before["previous"], serde_json::Value::Null, "not rotated");

    // The developer did not create this integration; members and outsiders are not admins.
    for who in [&s.w.dev.client, &s.w.member.client, &s.w.outsider.client] {
        who.get(&s.base(), StatusCode::NOT_FOUND).await;
        who.get(&reg, StatusCode::NOT_FOUND).await;
        who.get(&format!("{reg}/secret"), StatusCode::NOT_FOUND).await;
        who.get(&format!("{}/providers", s.base()), StatusCode::NOT_FOUND).await;
        post(who, &s.base(), &form, StatusCode::NOT_FOUND).await;
        post(who, &format!("{reg}/delete"), &[], StatusCode::NOT_FOUND).await;
        post(who, &format!("{reg}/secret/rotate"), &[], StatusCode::NOT_FOUND).await;
    }
    assert_eq!(s.registration_count().await, 1);
    // Signed out: sent to sign in.
    let anon = s.w.server.new_client();
    let res = anon.get(&s.base(), StatusCode::SEE_OTHER).await;
    assert!(res.header("location").unwrap().starts_with("/signin"));

    // A registration of another integration is not reachable through this one's pages.
    let dev_int = api(
        &s.w.dev.client,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Dev app", "integration_type": "api_key"})),
        StatusCode::CREATED,
    )
    .await;
    let other = dev_int["integration"]["id"].as_str().unwrap();
    s.w.dev
        .client
        .get(&format!("/console/integrations/{other}/events"), StatusCode::OK)
        .await;
    s.w.dev
        .client
        .get(
            &format!("/console/integrations/{other}/events/registrations/{rid}"),
            StatusCode::NOT_FOUND,
        )
        .await;
    post(
        &s.w.dev.client,
        &format!("/console/integrations/{other}/events/registrations/{rid}/delete"),
        &[],
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(s.registration_count().await, 1);
}

#[tokio::test]
async fn events_pages_show_attempts_and_resend_creates_a_new_attempt() {
    let s = setup().await;
    let p = s.provider().await;
    let (rid, _) = s.register("Invoices hook", &p).await;
    s.publisher.publish(&p, CODE, "evt-1", json!({"amount": 42})).await;
    let d = dispatcher(&s.w.server, |_| {});
    let report = dispatch(&d, s.w.server.state().now()).await;
    assert_eq!(report.delivered, 1);
    let reg = format!("{}/registrations/{rid}", s.base());
    let log = s.admin().get(&reg, StatusCode::OK).await.text();
    assert!(log.contains("id=\"attempts\""), "{log}");
    assert!(log.contains("<span class=\"tag on\">200</span>"), "{log}");
    assert!(log.contains(" ms</td>") && log.contains("scheduled"));
    assert!(log.contains("id=\"health\">1 attempt, 0 failed"), "{log}");

    let mut conn = s.w.server.store().conn().await.unwrap();
    let attempts = conn
        .attempts_of_registration(&rid, None, 10, &Default::default())
        .await
        .unwrap();
    assert_eq!(attempts.len(), 1);
    let cursor = gatehouse_domain::events::journal::cursor(&rid, attempts[0].event_position);
    drop(conn);
    let event_page = s
        .admin()
        .get(&format!("{reg}/events/{cursor}"), StatusCode::OK)
        .await
        .text();
    assert!(event_page.contains("id=\"delivery-state\">delivered"), "{event_page}");

    // Resend without CSRF: refused; with it: queued, and the dispatcher makes a second attempt.
    s.admin()
        .post_form(
            &format!("{reg}/events/{cursor}/resend"),
            &[("back", "event")],
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(dispatch(&d, s.w.server.state().now()).await.attempted, 0);
    let res = post(
        s.admin(),
        &format!("{reg}/events/{cursor}/resend"),
        &[("back", "event")],
        StatusCode::SEE_OTHER,
    )
    .await;
    assert!(res.header("location").unwrap().ends_with("?done=resent"));
    let report = dispatch(&d, s.w.server.state().now()).await;
    assert_eq!((report.attempted, report.delivered), (1, 1));
    assert_eq!(posts(&s.receiver).len(), 2);
    let event_page = s
        .admin()
        .get(&format!("{reg}/events/{cursor}?done=resent"), StatusCode::OK)
        .await
        .text();
    assert!(event_page.contains(">resend</td>"), "{event_page}");
    assert!(event_page.contains("after 2 attempts"), "{event_page}");
    // A made-up cursor is not found.
    s.admin()
        .get(&format!("{reg}/events/not-a-cursor"), StatusCode::BAD_REQUEST)
        .await;

    // Recover: a bad instant is refused next to its field; a good one queues the failed ones.
    let bad = post(
        s.admin(),
        &format!("{reg}/recover"),
        &[("since", "yesterday")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .text();
    assert!(bad.contains("id=\"since-error\""), "{bad}");
    s.receiver.respond_with(StatusCode::INTERNAL_SERVER_ERROR, 10);
    s.publisher.publish(&p, CODE, "evt-2", json!({"amount": 7})).await;
    let report = dispatch(&d, s.w.server.state().now()).await;
    assert_eq!(report.delivered, 0);
    let log = s.admin().get(&reg, StatusCode::OK).await.text();
    assert!(log.contains("<span class=\"tag off\">500</span>"), "{log}");
    let res = post(
        s.admin(),
        &format!("{reg}/recover"),
        &[("since", "2000-01-01T00:00:00Z")],
        StatusCode::SEE_OTHER,
    )
    .await;
    assert!(
        res.header("location").unwrap().contains("done=recovered"),
        "{:?}",
        res.header("location")
    );
}

#[tokio::test]
async fn events_pages_rotate_the_secret_and_show_the_new_one_once() {
    let s = setup().await;
    let p = s.provider().await;
    let (rid, html) = s.register("Invoices hook", &p).await;
    let first = secret_in(&html);
    let reg = format!("{}/registrations/{rid}", s.base());
    let read = s.admin().get(&format!("{reg}/secret"), StatusCode::OK).await;
    assert_eq!(read.header("cache-control"), Some("no-store"));
    assert_eq!(secret_in(&read.text()), first);

    let rotated = post(s.admin(), &format!("{reg}/secret/rotate"), &[], StatusCode::SEE_OTHER).await;
    let rotated = s.follow(&rotated).await;
    let second = secret_in(&rotated);
    assert_ne!(first, second);
    // A reload reads the secret again; it does not rotate a second time.
    let reloaded = s
        .admin()
        .get(&format!("{reg}/secret?rotated=1"), StatusCode::OK)
        .await
        .text();
    assert_eq!(secret_in(&reloaded), second);
    assert!(rotated.contains("24 hours"), "the overlap is explained: {rotated}");
    let after = s.admin().get(&reg, StatusCode::OK).await.text();
    assert!(!after.contains(&second), "not shown on the registration page again");
    // The secret page shows the current one and the previous one during the overlap.
    let read = s.admin().get(&format!("{reg}/secret"), StatusCode::OK).await.text();
    assert_eq!(secret_in(&read), second);
    assert!(read.contains(&first), "the previous secret still signs: {read}");
    // The API agrees: the pages used the same secrets.
    let api_view = s
        .publisher
        .get(&format!("/api/v1/events/registrations/{rid}/secret"), StatusCode::OK)
        .await
        .json_value();
    assert_eq!(api_view["webhook_secret"], second.as_str());
    assert_eq!(api_view["previous"]["webhook_secret"], first.as_str());
}

#[tokio::test]
async fn events_pages_edit_disable_re_enable_and_delete() {
    let s = setup().await;
    let p = s.provider().await;
    let (rid, _) = s.register("Invoices hook", &p).await;
    let reg = format!("{}/registrations/{rid}", s.base());
    let event = format!("{p}/{CODE}");
    let url = s.receiver.url("/hook");
    let bad = post(
        s.admin(),
        &reg,
        &[
            ("name", "x"),
            ("delivery_method", "webhook"),
            ("webhook_url", url.as_str()),
            ("event", event.as_str()),
        ],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .text();
    assert!(bad.contains("id=\"name-error\""), "{bad}");
    let none = post(
        s.admin(),
        &reg,
        &[
            ("name", "Invoices hook"),
            ("delivery_method", "webhook"),
            ("webhook_url", url.as_str()),
        ],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .text();
    assert!(none.contains("id=\"events-error\""), "{none}");
    post(
        s.admin(),
        &reg,
        &[
            ("name", "Paid invoices"),
            ("delivery_method", "webhook"),
            ("webhook_url", url.as_str()),
            ("event", event.as_str()),
        ],
        StatusCode::SEE_OTHER,
    )
    .await;
    let page = s.admin().get(&reg, StatusCode::OK).await.text();
    assert!(page.contains("Paid invoices"));

    post(s.admin(), &format!("{reg}/disable"), &[], StatusCode::SEE_OTHER).await;
    let page = s.admin().get(&reg, StatusCode::OK).await.text();
    assert!(
        page.contains(">Disabled<") && page.contains("id=\"re-enable\""),
        "{page}"
    );
    // Re-enable runs the challenge: a silent endpoint keeps it unverified, with the reason.
    s.receiver.stop_echoing_challenges();
    let refused = post(
        s.admin(),
        &format!("{reg}/enable"),
        &[],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .text();
    assert!(refused.contains("stays unverified"), "{refused}");
    assert!(refused.contains(">Unverified<"), "{refused}");

    // Deleting asks for the name; without it nothing is deleted.
    let refused = post(
        s.admin(),
        &format!("{reg}/delete"),
        &[("confirm_name", "something else")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .text();
    assert!(refused.contains("id=\"confirm_name-error\""), "{refused}");
    assert_eq!(s.registration_count().await, 1);
    post(
        s.admin(),
        &format!("{reg}/delete"),
        &[("confirm_name", "Paid invoices")],
        StatusCode::SEE_OTHER,
    )
    .await;
    assert_eq!(s.registration_count().await, 0);
    let list = s
        .admin()
        .get(&format!("{}?done=deleted", s.base()), StatusCode::OK)
        .await
        .text();
    assert!(list.contains("Registration deleted") && list.contains("id=\"no-registrations\""));
    s.admin().get(&reg, StatusCode::NOT_FOUND).await;
}
