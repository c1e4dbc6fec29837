//! The console's pages as people use them, in headless Chromium (`interop/browser/pages.mjs`):
//! the projects list and a project with a Production and a Stage workspace, an OAuth
//! Server-to-Server integration's credentials (with a test token generated), its services, the
//! catalog, an event registration with a failed and a delivered attempt, and an attempt's page — each at
//! 1280 px and 390 px, checked with axe-core (no serious or critical violation), without
//! sideways scrolling, without a console error or failed request.
//!
//! Screenshots `<page>-<width>.png` land in `artifacts/screenshots/`; with
//! `GATEHOUSE_UPDATE_SCREENSHOTS=1` (what `scripts/screenshots` sets) in `docs/screenshots/`,
//! which docs/console.md shows.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use gatehouse_store::{EventStore, ProjectStore};
use serde_json::json;

use super::{
    client::{dispatch, dispatcher},
    console::{CODE, setup},
};
use crate::{
    console::helpers::{api, post},
    harness::{
        browser::{chromium, node, repo},
        receiver::Reply,
        require_tool,
    },
};

#[tokio::test]
async fn console_pages_are_accessible_and_fit_from_390_px_to_wide_screens() {
    let Some(()) = require_tool(node(&["playwright-core", "axe-core"], true)) else {
        return;
    };
    let s = setup().await;
    let id = s.integration.clone();
    api(
        s.admin(),
        Method::POST,
        &format!("/api/v1/integrations/{id}/subscriptions"),
        Some(json!({"service": "pdf_services"})),
        StatusCode::CREATED,
    )
    .await;
    let p = s.provider().await;
    let (rid, _) = s.register("Invoices hook", &p).await;
    s.receiver.enqueue(
        Reply::status(StatusCode::SERVICE_UNAVAILABLE)
            .header("retry-after", "1")
            .body("{\"error\": \"maintenance\"}"),
        1,
    );
    s.publisher.publish(&p, CODE, "evt-1", json!({"amount": 42})).await;
    s.publisher.publish(&p, CODE, "evt-2", json!({"amount": 7})).await;
    let d = dispatcher(&s.w.server, |_| {});
    dispatch(&d, s.w.server.state().now()).await;
    let mut conn = s.w.server.store().conn().await.unwrap();
    let attempts = conn
        .attempts_of_registration(&rid, None, 10, &Default::default())
        .await
        .unwrap();
    let failed = attempts
        .iter()
        .find(|a| a.status_code != Some(200))
        .expect("a failed attempt");
    drop(conn);

    // A project with a credential in Production and an empty Stage workspace.
    let created = post(
        s.admin(),
        "/console/projects",
        &[
            ("name", "Storefront"),
            ("title", "Storefront web shop"),
            ("owner", &s.w.org_id),
        ],
        StatusCode::SEE_OTHER,
    )
    .await;
    let project = created
        .header("location")
        .unwrap()
        .trim_end_matches("?done=created")
        .to_owned();
    post(
        s.admin(),
        &format!("{project}/workspaces"),
        &[("workspace_name", "Stage")],
        StatusCode::SEE_OTHER,
    )
    .await;
    let mut conn = s.w.server.store().conn().await.unwrap();
    let project_id = project.trim_start_matches("/console/projects/");
    let production = conn.workspaces_of(project_id).await.unwrap().remove(0);
    drop(conn);
    post(
        s.admin(),
        "/console/integrations",
        &[
            ("integration_type", "oauth"),
            ("name", "Checkout"),
            ("platform", "web"),
            ("redirect_uri", "https://shop.example/callback"),
            ("workspace", &production.id),
        ],
        StatusCode::SEE_OTHER,
    )
    .await;

    let registration = format!("{}/registrations/{rid}", s.base());
    let pages = [
        "projects=/console/projects".to_owned(),
        format!("project={project}"),
        format!("credentials=/console/integrations/{id}/credentials"),
        format!("subscriptions=/console/integrations/{id}/subscriptions"),
        "services=/console/services".to_owned(),
        format!("registration={registration}"),
        format!("attempt={registration}/attempts/{}", failed.id),
    ];
    let screenshots = if std::env::var("GATEHOUSE_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        repo().join("docs/screenshots")
    } else {
        repo().join("artifacts/screenshots")
    };
    let run = tokio::process::Command::new("node")
        .arg(repo().join("interop/browser/pages.mjs"))
        .arg(s.w.server.base_url())
        .env("ADMIN_EMAIL", s.w.admin.account.email.as_str())
        .env("PAGES", pages.join(" "))
        .env("SCREENSHOTS_DIR", &screenshots)
        .env("CHROMIUM", chromium())
        .current_dir(repo())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(240), run)
        .await
        .expect("the browser test finished within 4 minutes")
        .expect("node ran");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "browser test failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("7 passed, 0 failed"), "{stdout}\n{stderr}");
    for name in [
        "projects",
        "project",
        "credentials",
        "credentials-token",
        "subscriptions",
        "services",
        "registration",
        "attempt",
    ] {
        for width in [1280, 390] {
            let shot = screenshots.join(format!("{name}-{width}.png"));
            assert!(shot.is_file(), "screenshot {} missing", shot.display());
        }
    }
}
