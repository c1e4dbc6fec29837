//! The journal (both paths), recovery and the attempt logs, Gatehouse's own events published in
//! the caller's transaction, and the Adobe-compatible management surface.

use axum::http::StatusCode;
use gatehouse_domain::events::{
    model::GATEHOUSE_PROVIDER_ID,
    own::{Audience, OwnEventKind},
};
use gatehouse_store::AuditStore;
use serde_json::{Value, json};

use super::client::*;
use crate::harness::receiver::{Reply, TestReceiver};

const CODE: &str = "com.acme.invoice.paid";

/// The `Link` header lines of a response, as (relation, target).
fn links(res: &crate::harness::server::TestResponse) -> Vec<(String, String)> {
    res.headers
        .get_all("link")
        .iter()
        .map(|v| {
            let v = v.to_str().unwrap();
            let target = v[v.find('<').unwrap() + 1..v.find('>').unwrap()].to_owned();
            let rel = v[v.find("rel=\"").unwrap() + 5..v.len() - 1].to_owned();
            (rel, target)
        })
        .collect()
}

fn next(res: &crate::harness::server::TestResponse) -> String {
    links(res).into_iter().find(|(r, _)| r == "next").unwrap().1
}

#[tokio::test]
async fn the_journal_pages_with_cursors_and_links() {
    let server = server().await;
    let a = caller(&server).await;
    let p = a.provider(&[CODE]).await;
    let r = a.register("Journal", "journal", None, &p, CODE).await;
    let id = r["id"].as_str().unwrap();
    let path = format!("/api/v1/events/registrations/{id}/journal");

    // Empty: 204 with retry-after and a next link that reads from the same place.
    let res = a.get(&path, StatusCode::NO_CONTENT).await;
    assert_eq!(res.header("retry-after"), Some("10"));
    let rels: Vec<String> = links(&res).into_iter().map(|(r, _)| r).collect();
    assert_eq!(rels, ["next", "events", "latest", "page", "seek"]);
    assert!(
        next(&res).starts_with(&format!("{path}?since=gh1.")),
        "root-relative: {}",
        next(&res)
    );

    for i in 0..5 {
        a.publish(&p, CODE, &format!("e{i}"), json!({"i": i})).await;
    }
    let res = a.get(&format!("{path}?limit=2"), StatusCode::OK).await;
    let body = res.json_value();
    let events = body["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["event"]["id"], "e0");
    assert_eq!(events[0]["event"]["recipient_client_id"], a.client_id.as_str());
    assert_eq!(body["_page"]["count"], 2);
    assert_eq!(body["_page"]["last"], events[1]["position"]);
    let n = next(&res);
    assert!(n.contains("&limit=2"), "{n}");
    let res = a.get(&n, StatusCode::OK).await;
    let ids: Vec<String> = res.json_value()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["e2", "e3"]);
    let res = a.get(&next(&res), StatusCode::OK).await;
    assert_eq!(res.json_value()["events"][0]["event"]["id"], "e4");
    // At the end: 204, and next stays put until something new arrives.
    let end = a.get(&next(&res), StatusCode::NO_CONTENT).await;
    let stay = next(&end);
    a.get(&stay, StatusCode::NO_CONTENT).await;
    a.publish(&p, CODE, "e5", json!({})).await;
    let res = a.get(&stay, StatusCode::OK).await;
    assert_eq!(res.json_value()["events"][0]["event"]["id"], "e5");

    // latest jumps to the end; since wins over latest (Adobe's client sends both).
    let latest = a.get(&format!("{path}?latest=true"), StatusCode::NO_CONTENT).await;
    a.publish(&p, CODE, "e6", json!({})).await;
    let after = a
        .get(&format!("{}&latest=true", next(&latest)), StatusCode::OK)
        .await
        .json_value();
    let ids: Vec<&str> = after["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["e6"]);
    // seek: everything from the last hour.
    let seek = a.get(&format!("{path}?seek=-PT1H"), StatusCode::OK).await.json_value();
    assert_eq!(seek["events"].as_array().unwrap().len(), 7);
}

#[tokio::test]
async fn journal_reads_refuse_foreign_and_forged_positions() {
    let server = server().await;
    let a = caller(&server).await;
    let mate = colleague(&server, &a).await;
    let p = a.provider(&[CODE]).await;
    let r1 = a.register("One", "journal", None, &p, CODE).await;
    let r2 = a.register("Two", "journal", None, &p, CODE).await;
    a.publish(&p, CODE, "e0", json!({})).await;
    a.publish(&p, CODE, "e1", json!({})).await;
    let (id1, id2) = (r1["id"].as_str().unwrap(), r2["id"].as_str().unwrap());
    let path1 = format!("/api/v1/events/registrations/{id1}/journal");
    let page = a.get(&path1, StatusCode::OK).await.json_value();
    let cursor = page["events"][0]["position"].as_str().unwrap().to_owned();

    // Another registration's journal with this cursor: never issued there.
    let res = a
        .get(
            &format!("/api/v1/events/registrations/{id2}/journal?since={cursor}"),
            StatusCode::BAD_REQUEST,
        )
        .await
        .json_value();
    assert_eq!(res["code"], "invalid_cursor");
    for bad in ["nonsense", "gh1.1.0000000000000000", "gh1.999999999.abc"] {
        let res = a
            .get(&format!("{path1}?since={bad}"), StatusCode::BAD_REQUEST)
            .await
            .json_value();
        assert_eq!(res["code"], "invalid_cursor", "{bad}");
    }
    for (query, code) in [
        ("limit=0", "invalid_limit"),
        ("limit=5000", "invalid_limit"),
        ("latest=maybe", "invalid_latest"),
        ("seek=yesterday", "invalid_seek"),
        (&format!("since={cursor}&seek=-PT1H") as &str, "invalid_query"),
    ] {
        let res = a
            .get(&format!("{path1}?{query}"), StatusCode::BAD_REQUEST)
            .await
            .json_value();
        assert_eq!(res["code"], code, "{query}");
    }
    // Someone else's registration: not found, even in the same organization.
    mate.get(&path1, StatusCode::NOT_FOUND).await;

    // Past retention the position is gone: 410 (retention keeps the newest event, so positions
    // stay comparable).
    let d = dispatcher(&server, |_| {});
    d.purge(server.state().now() + 8 * 86_400).await.unwrap();
    let res = a
        .get(&format!("{path1}?since={cursor}"), StatusCode::GONE)
        .await
        .json_value();
    assert_eq!(res["code"], "position_expired");
}

#[tokio::test]
async fn resend_and_recover_queue_deliveries_again_and_the_logs_show_them() {
    let server = server().await;
    let a = caller(&server).await;
    let receiver = TestReceiver::start().await;
    let p = a.provider(&[CODE]).await;
    let r = a
        .register("Hook", "webhook", Some(&receiver.url("/in")), &p, CODE)
        .await;
    let id = r["id"].as_str().unwrap();
    receiver.set_default(Reply::status(StatusCode::GONE));
    a.publish(&p, CODE, "e0", json!({})).await;
    a.publish(&p, CODE, "e1", json!({})).await;
    let d = dispatcher(&server, |_| {});
    let t0 = server.state().now();
    dispatch(&d, t0).await;
    let reg = a
        .get(&format!("/api/v1/events/registrations/{id}"), StatusCode::OK)
        .await
        .json_value();
    assert_eq!(reg["status"], "disabled");

    receiver.set_default(Reply::status(StatusCode::OK));
    a.post_empty(&format!("/api/v1/events/registrations/{id}/enable"), StatusCode::OK)
        .await;
    let since = gatehouse_domain::events::cloudevent::format_time(t0 - 60);
    let res = a
        .post(
            &format!("/api/v1/events/registrations/{id}/recover"),
            &json!({"since": since}),
            StatusCode::ACCEPTED,
        )
        .await
        .json_value();
    assert_eq!(res["queued"], 2);
    let rep = dispatch(&d, server.state().now()).await;
    assert_eq!(rep.delivered, 2);

    let journal = a
        .get(&format!("/api/v1/events/registrations/{id}/journal"), StatusCode::OK)
        .await
        .json_value();
    let position = journal["events"][0]["position"].as_str().unwrap().to_owned();
    a.post_empty(
        &format!("/api/v1/events/registrations/{id}/events/{position}/resend"),
        StatusCode::ACCEPTED,
    )
    .await;
    let rep = dispatch(&d, server.state().now()).await;
    assert_eq!(rep.delivered, 1);
    let per_event = a
        .get(
            &format!("/api/v1/events/registrations/{id}/events/{position}/attempts"),
            StatusCode::OK,
        )
        .await
        .json_value();
    assert_eq!(per_event["state"], "delivered");
    let triggers: Vec<&str> = per_event["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["trigger"].as_str().unwrap())
        .collect();
    assert_eq!(triggers, ["scheduled", "recover", "resend"]);
    let codes: Vec<i64> = per_event["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [410, 200, 200]);

    let log = a
        .get(
            &format!("/api/v1/events/registrations/{id}/attempts?limit=2"),
            StatusCode::OK,
        )
        .await
        .json_value();
    assert_eq!(log["data"].as_array().unwrap().len(), 2);
    let before = log["next_before"].as_i64().unwrap();
    let older = a
        .get(
            &format!("/api/v1/events/registrations/{id}/attempts?before={before}"),
            StatusCode::OK,
        )
        .await
        .json_value();
    assert_eq!(older["data"].as_array().unwrap().len(), 3);

    // Bad input changes nothing.
    let res = a
        .post(
            &format!("/api/v1/events/registrations/{id}/recover"),
            &json!({"since": "last week"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await
        .json_value();
    assert_eq!(res["code"], "invalid_since");
    let res = a
        .post_empty(
            &format!("/api/v1/events/registrations/{id}/events/bogus/resend"),
            StatusCode::BAD_REQUEST,
        )
        .await
        .json_value();
    assert_eq!(res["code"], "invalid_cursor");
}

#[tokio::test]
async fn own_events_commit_with_the_change_that_causes_them() {
    let server = server().await;
    let a = caller(&server).await;
    let stranger = caller(&server).await;
    let watch = a
        .register(
            "Watch",
            "journal",
            None,
            GATEHOUSE_PROVIDER_ID,
            "gatehouse.integration.created",
        )
        .await;
    let other = stranger
        .register(
            "Other",
            "journal",
            None,
            GATEHOUSE_PROVIDER_ID,
            "gatehouse.integration.created",
        )
        .await;
    let now = server.state().now();
    async fn publish(tx: &mut gatehouse_store::Tx, org: &str, n: &str, now: i64) {
        gatehouse_core::events::publish_own(
            tx,
            OwnEventKind::IntegrationCreated,
            Audience::Organization(org.to_owned()),
            &format!("integration:{n}"),
            json!({"integration_id": n}),
            now,
        )
        .await
        .unwrap();
    }
    // Rolled back: no event.
    {
        let mut tx = server.store().begin().await.unwrap();
        publish(&mut tx, &a.org, "rolled-back", now).await;
    }
    // Committed with its change.
    let mut tx = server.store().begin().await.unwrap();
    publish(&mut tx, &a.org, "kept", now).await;
    tx.append_audit(&gatehouse_domain::audit::AuditEntry::new(
        now,
        &gatehouse_domain::audit::Actor::System,
        "integration.created",
        "integration:kept",
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let wid = watch["id"].as_str().unwrap();
    let j = a
        .get(&format!("/api/v1/events/registrations/{wid}/journal"), StatusCode::OK)
        .await
        .json_value();
    let events = j["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    let e = &events[0]["event"];
    assert_eq!(e["type"], "gatehouse.integration.created");
    assert_eq!(e["subject"], "integration:kept");
    assert_eq!(e["source"], format!("urn:uuid:{GATEHOUSE_PROVIDER_ID}"));
    let oid = other["id"].as_str().unwrap();
    stranger
        .get(
            &format!("/api/v1/events/registrations/{oid}/journal"),
            StatusCode::NO_CONTENT,
        )
        .await;
    let mut conn = server.store().conn().await.unwrap();
    assert_eq!(super::fixtures::read_journal(&mut conn, wid, 0, 10).await.len(), 1);
}

#[tokio::test]
async fn the_compatible_surface_speaks_hal_and_checks_its_path() {
    let server = server().await;
    let a = caller(&server).await;
    let stranger = caller(&server).await;
    // The form from before projects existed still works; the links name the real workspace.
    let ws = format!("/events/{}/{}/default", a.org, a.integration_id);
    let real_ws = {
        use gatehouse_store::{IntegrationStore, ProjectStore};
        let mut c = server.store().conn().await.unwrap();
        let i = c.integration_by_id(&a.integration_id).await.unwrap().unwrap();
        let w = c.workspace_by_id(&i.workspace_id).await.unwrap().unwrap();
        format!("/events/{}/{}/{}", a.org, w.project_id, w.id)
    };
    let p = a
        .post(
            &format!("{ws}/providers"),
            &json!({"label": "Compat"}),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(p.header("content-type"), Some("application/hal+json"));
    let p = p.json_value();
    let pid = p["id"].as_str().unwrap();
    assert_eq!(p["source"], format!("urn:uuid:{pid}"));
    assert!(
        p["_links"]["rel:update"]["href"]
            .as_str()
            .unwrap()
            .ends_with(&format!("{real_ws}/providers/{pid}"))
    );
    use base64::Engine;
    let sample = base64::engine::general_purpose::STANDARD.encode(r#"{"amount": 1}"#);
    let m = a
        .post(
            &format!("{ws}/providers/{pid}/eventmetadata"),
            &json!({"event_code": CODE, "label": "Paid", "description": "An invoice was paid", "sample_event_template": sample}),
            StatusCode::CREATED,
        )
        .await
        .json_value();
    assert_eq!(m["event_code"], CODE);
    let echoed = base64::engine::general_purpose::STANDARD
        .decode(m["sample_event_template"].as_str().unwrap())
        .unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&echoed).unwrap(), json!({"amount": 1}));
    let s = a
        .get(
            &format!("/events/providers/{pid}/eventmetadata/{CODE}/sample_event"),
            StatusCode::OK,
        )
        .await
        .json_value();
    assert_eq!(s["format"], "cloud_events");
    let listed = a
        .get(
            &format!("/events/{}/providers?eventmetadata=true", a.org),
            StatusCode::OK,
        )
        .await
        .json_value();
    let mine = listed["_embedded"]["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == pid)
        .unwrap()
        .clone();
    assert_eq!(mine["_embedded"]["eventmetadata"][0]["event_code"], CODE);
    let filtered = a
        .get(
            &format!(
                "/events/{}/providers?providerMetadataIds=gatehouse&providerMetadataIds=none",
                a.org
            ),
            StatusCode::OK,
        )
        .await
        .json_value();
    let ids: Vec<&str> = filtered["_embedded"]["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [GATEHOUSE_PROVIDER_ID]);
    a.get("/events/providermetadata", StatusCode::OK).await;

    let body = json!({
        "client_id": a.client_id, "name": "Compat journal", "delivery_type": "journal",
        "events_of_interest": [{"provider_id": pid, "event_code": CODE}],
    });
    let r = a
        .post(&format!("{ws}/registrations"), &body, StatusCode::CREATED)
        .await
        .json_value();
    assert_eq!(r["webhook_status"], "verified");
    assert_eq!(r["enabled"], true);
    assert_eq!(r["events_of_interest"][0]["event_label"], "Paid");
    let journal = r["_links"]["rel:events"]["href"].as_str().unwrap();
    assert!(journal.starts_with(&format!(
        "{}/events/organizations/{}/integrations/{}/",
        server.base_url(),
        a.org,
        a.integration_id
    )));
    let res = a
        .post(&format!("{ws}/registrations"), &body, StatusCode::CONFLICT)
        .await;
    assert_eq!(res.header("x-conflicting-id"), r["registration_id"].as_str());

    // Publishing through the ingress: OK when someone receives it, 204 when nobody does.
    let ev = json!({"id": "c1", "source": format!("urn:uuid:{pid}"), "type": CODE, "data": {}});
    let res = a
        .post_raw(
            "/events/ingress",
            "application/cloudevents+json",
            &ev.to_string(),
            StatusCode::OK,
        )
        .await;
    assert_eq!(res.text(), "OK");
    let j = a.get(journal, StatusCode::OK).await.json_value();
    assert_eq!(j["events"][0]["event"]["specversion"], "1.0");
    a.delete(
        &format!("{ws}/registrations/{}", r["registration_id"].as_str().unwrap()),
        StatusCode::NO_CONTENT,
    )
    .await;
    let ev = json!({"id": "c2", "source": format!("urn:uuid:{pid}"), "type": CODE, "data": {}});
    a.post_raw(
        "/events/ingress",
        "application/cloudevents+json",
        &ev.to_string(),
        StatusCode::NO_CONTENT,
    )
    .await;
    let res = a
        .post_raw(
            "/events/ingress",
            "application/cloudevents+json",
            "not json",
            StatusCode::BAD_REQUEST,
        )
        .await
        .json_value();
    assert_eq!(res["code"], "invalid_cloudevent");

    // Paths that are not the caller's.
    a.get(
        &format!("/events/{}/{}/default/registrations", stranger.org, a.integration_id),
        StatusCode::FORBIDDEN,
    )
    .await;
    a.get(
        &format!("/events/{}/{}/default/registrations", a.org, stranger.integration_id),
        StatusCode::FORBIDDEN,
    )
    .await;
    a.get(
        &format!("/events/{}/{}/other/registrations", a.org, a.integration_id),
        StatusCode::NOT_FOUND,
    )
    .await;
    // The project and workspace the credential lives in name its paths; another credential's
    // workspace, even under the caller's project, does not.
    let placement = |id: String| {
        let store = server.store().clone();
        async move {
            use gatehouse_store::{IntegrationStore, ProjectStore};
            let mut c = store.conn().await.unwrap();
            let i = c.integration_by_id(&id).await.unwrap().unwrap();
            let w = c.workspace_by_id(&i.workspace_id).await.unwrap().unwrap();
            (w.project_id, w.id)
        }
    };
    let (project, workspace) = placement(a.integration_id.clone()).await;
    let (_, theirs) = placement(stranger.integration_id.clone()).await;
    a.get(
        &format!("/events/{}/{project}/{workspace}/registrations", a.org),
        StatusCode::OK,
    )
    .await;
    a.get(
        &format!("/events/{}/{project}/{theirs}/registrations", a.org),
        StatusCode::NOT_FOUND,
    )
    .await;
    stranger
        .get(&format!("/events/providers/{pid}"), StatusCode::NOT_FOUND)
        .await;
    let wrong_client = json!({
        "client_id": stranger.client_id, "name": "Theirs", "delivery_type": "journal",
        "events_of_interest": [{"provider_id": pid, "event_code": CODE}],
    });
    a.post(&format!("{ws}/registrations"), &wrong_client, StatusCode::FORBIDDEN)
        .await;
    let v: Value = a
        .get(&format!("/events/{}/registrations", a.org), StatusCode::OK)
        .await
        .json_value();
    assert_eq!(v["page"]["totalElements"], 0);
}
