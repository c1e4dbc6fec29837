//! Validation in one round: a form with several problems reports every one of them at once, next
//! to its field and in the summary, and creates nothing.

use axum::http::StatusCode;

use super::helpers::*;

fn field_errors(html: &str) -> Vec<String> {
    html.match_indices("class=\"field-error\" id=\"")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

#[tokio::test]
async fn console_the_create_form_reports_every_problem_at_once() {
    let w = world().await;
    // A service account with no name and no organization chosen.
    let html = post(
        &w.admin.client,
        "/console/integrations",
        &[
            ("integration_type", "service_account"),
            ("name", ""),
            ("description", ""),
        ],
        StatusCode::FORBIDDEN,
    )
    .await
    .text();
    assert_eq!(field_errors(&html), ["name-error", "owner-error"], "{html}");
    assert!(html.contains("id=\"error-summary\""));
    // An OAuth web app with no name, no platform-specific redirect and a bad pattern.
    let html = post(
        &w.dev.client,
        "/console/integrations",
        &[
            ("integration_type", "oauth"),
            ("name", ""),
            ("platform", "web"),
            ("redirect_uri", "not a url"),
            ("redirect_patterns", "https://*"),
        ],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .text();
    assert_eq!(
        field_errors(&html),
        ["name-error", "redirect_uri-error", "redirect_patterns-error"],
        "{html}"
    );
    assert!(
        api(
            &w.dev.client,
            axum::http::Method::GET,
            "/api/v1/integrations",
            None,
            StatusCode::OK
        )
        .await
        .as_array()
        .is_none_or(|a| a.is_empty()),
        "nothing was created"
    );
}
