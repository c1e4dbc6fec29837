//! The status page and `/api/v1/operator/status`: version, database backend, migrations, the
//! dispatcher's backlog, the mail transport and the signing keys with their schedule.

use axum::http::{Method, StatusCode};

use super::op_world;
use crate::{console::helpers::api, harness::db::backend_name};

#[tokio::test]
async fn the_status_shows_version_database_migrations_dispatcher_mail_and_signing_keys() {
    let o = op_world().await;
    let c = &o.op.client;
    // Keys are created when first needed; a token service that signs has one.
    o.w.server.state().tokens.key_ring().await.unwrap();
    let s = api(c, Method::GET, "/api/v1/operator/status", None, StatusCode::OK).await;
    assert_eq!(s["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(s["database"], backend_name());
    assert_eq!(s["schema"], "current");
    let known = o.w.server.store().known_schema_version();
    assert_eq!(s["known_schema_version"], known);
    assert_eq!(s["migrations"].as_array().unwrap().last().unwrap()["version"], known);
    assert_eq!(s["dispatcher"]["health"], "idle");
    assert_eq!(s["dispatcher"]["pending"], 0);
    assert_eq!(s["mail"]["transport"], "outbox");
    let dir = o.w.server.data_dir().join("outbox");
    assert_eq!(s["mail"]["outbox_dir"], dir.display().to_string());
    let keys = s["signing_keys"].as_array().unwrap();
    assert!(keys.iter().any(|k| k["state"] == "signing"), "{s}");
    assert!(
        keys.iter()
            .all(|k| k["activates_at"].as_i64() < k["retires_at"].as_i64())
    );
    assert_eq!(s["key_signing_period"], 30 * 86_400);
    let nodes = s["nodes"].as_str().unwrap();
    match backend_name() {
        "postgres" => assert!(nodes.contains("does not record which nodes"), "{nodes}"),
        _ => assert!(nodes.contains("One node"), "{nodes}"),
    }

    let page = c.get("/operator/status", StatusCode::OK).await.text();
    assert!(
        page.contains("Development mode") && page.contains(&dir.display().to_string()),
        "{page}"
    );
    assert!(page.contains("Keeping up") || page.contains("Idle"));
    assert!(
        page.contains("signing") && page.contains("Each key signs for 30 days"),
        "{page}"
    );
    assert!(page.contains("0012"), "the migrations are listed: {page}");
}
