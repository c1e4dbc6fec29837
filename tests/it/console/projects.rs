//! Projects and workspaces through `/api/v1/projects`: a project starts with Production, holds
//! credentials by workspace, names are checked and unique, who may see and create follows the
//! integration rules, nothing holding credentials is deleted, and the workspace file has the shape
//! of Adobe's download without any secret.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::helpers::*;

#[tokio::test]
async fn console_projects_hold_credentials_in_workspaces() {
    let w = world().await;
    let c = &w.admin.client;
    let p = api(
        c,
        Method::POST,
        "/api/v1/projects",
        Some(json!({"name": "Storefront", "title": "Store front", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
    let pid = p["id"].as_str().unwrap().to_owned();
    assert_eq!(p["org_id"], w.org_id.as_str());
    assert_eq!(p["workspaces"][0]["name"], "Production", "{p}");
    let production = p["workspaces"][0]["id"].as_str().unwrap().to_owned();

    let stage = api(
        c,
        Method::POST,
        &format!("/api/v1/projects/{pid}/workspaces"),
        Some(json!({"name": "Stage"})),
        StatusCode::CREATED,
    )
    .await;
    let sid = stage["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (stage["title"].as_str(), stage["project_id"].as_str()),
        (Some("Stage"), Some(pid.as_str()))
    );

    // A credential created in Stage takes the project's owner, whatever org_id says.
    let created = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Stage key", "integration_type": "api_key", "workspace_id": sid})),
        StatusCode::CREATED,
    )
    .await;
    let key = &created["integration"];
    assert_eq!(key["workspace_id"], sid.as_str());
    assert_eq!(key["org_id"], w.org_id.as_str());

    let detail = api(c, Method::GET, &format!("/api/v1/projects/{pid}"), None, StatusCode::OK).await;
    let names: Vec<&str> = detail["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["workspace"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Production", "Stage"]);
    assert_eq!(detail["workspaces"][0]["credentials"], json!([]));
    assert_eq!(detail["workspaces"][1]["credentials"][0]["id"], key["id"]);

    // Neither Production nor a workspace holding a credential goes; the project neither.
    let refused = api(
        c,
        Method::DELETE,
        &format!("/api/v1/projects/{pid}/workspaces/{production}"),
        None,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(refused["code"], "production_workspace");
    let refused = api(
        c,
        Method::DELETE,
        &format!("/api/v1/projects/{pid}/workspaces/{sid}"),
        None,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(refused["code"], "not_empty");
    api(
        c,
        Method::DELETE,
        &format!("/api/v1/projects/{pid}"),
        None,
        StatusCode::CONFLICT,
    )
    .await;

    let kid = key["id"].as_str().unwrap();
    api(
        c,
        Method::DELETE,
        &format!("/api/v1/integrations/{kid}"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    api(
        c,
        Method::DELETE,
        &format!("/api/v1/projects/{pid}/workspaces/{sid}"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    api(
        c,
        Method::DELETE,
        &format!("/api/v1/projects/{pid}"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    api(
        c,
        Method::GET,
        &format!("/api/v1/projects/{pid}"),
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn console_an_integration_created_without_a_workspace_gets_a_project_of_its_own() {
    let w = world().await;
    let c = &w.dev.client;
    let created = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Old client", "integration_type": "api_key", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
    let wid = created["integration"]["workspace_id"].as_str().unwrap();
    let projects = api(c, Method::GET, "/api/v1/projects", None, StatusCode::OK).await;
    let all = projects.as_array().unwrap();
    assert_eq!(all.len(), 1, "{projects}");
    assert_eq!(all[0]["title"], "Old client");
    assert_eq!(all[0]["workspaces"][0]["id"], wid);
    assert_eq!(all[0]["workspaces"][0]["name"], "Production");
}

#[tokio::test]
async fn console_projects_follow_the_integration_rules_of_who_sees_and_creates() {
    let w = world().await;
    let p = api(
        &w.admin.client,
        Method::POST,
        "/api/v1/projects",
        Some(json!({"name": "AdminOnly", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
    let pid = p["id"].as_str().unwrap();
    // A developer sees the projects they created, not an admin's; a member and an outsider none.
    for who in [&w.dev, &w.member, &w.outsider] {
        api(
            &who.client,
            Method::GET,
            &format!("/api/v1/projects/{pid}"),
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
        let wid = p["workspaces"][0]["id"].as_str().unwrap();
        // … nor put a credential into it.
        api(
            &who.client,
            Method::POST,
            "/api/v1/integrations",
            Some(json!({"name": "Sneaky", "integration_type": "api_key", "workspace_id": wid})),
            StatusCode::NOT_FOUND,
        )
        .await;
        let listed = api(&who.client, Method::GET, "/api/v1/projects", None, StatusCode::OK).await;
        assert!(!listed.as_array().unwrap().iter().any(|x| x["id"] == pid), "not listed");
    }
    let refused = api(
        &w.member.client,
        Method::POST,
        "/api/v1/projects",
        Some(json!({"name": "Mine", "org_id": w.org_id})),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(refused["code"], "developer_role_required");
    api(
        &w.dev.client,
        Method::POST,
        "/api/v1/projects",
        Some(json!({"name": "DevProject", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
}

#[tokio::test]
async fn console_project_names_are_checked_all_at_once_and_unique() {
    let w = world().await;
    let c = &w.admin.client;
    let bad = api(
        c,
        Method::POST,
        "/api/v1/projects",
        Some(json!({"name": "has space", "title": "\u{7}", "description": "x".repeat(1001)})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let fields: Vec<&str> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "title", "description"], "{bad}");
    api(
        c,
        Method::POST,
        "/api/v1/projects",
        Some(json!({"name": "Twin"})),
        StatusCode::CREATED,
    )
    .await;
    let taken = api(
        c,
        Method::POST,
        "/api/v1/projects",
        Some(json!({"name": "Twin"})),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(taken["code"], "name_taken");
    let none = api(c, Method::GET, "/api/v1/projects", None, StatusCode::OK).await;
    assert_eq!(none.as_array().unwrap().len(), 1, "nothing written by the refusals");
}

#[tokio::test]
async fn console_the_workspace_file_has_adobe_s_shape_and_no_secret() {
    let w = world().await;
    let c = &w.admin.client;
    let created = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Nightly", "integration_type": "service_account", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    let i = &created["integration"];
    let projects = api(c, Method::GET, "/api/v1/projects", None, StatusCode::OK).await;
    let p = &projects[0];
    let (pid, wid) = (p["id"].as_str().unwrap(), p["workspaces"][0]["id"].as_str().unwrap());
    let res = c
        .send(
            c.request(
                Method::GET,
                &format!("/api/v1/projects/{pid}/workspaces/{wid}/download"),
            ),
            StatusCode::OK,
        )
        .await;
    assert!(
        !String::from_utf8_lossy(&res.body).contains(&secret),
        "the file never carries a secret"
    );
    let file = res.json_value();
    let project = &file["project"];
    assert_eq!(project["id"], pid);
    assert_eq!(project["org"]["id"], w.org_id.as_str());
    assert_eq!(project["org"]["ims_org_id"], w.org_id.as_str());
    assert_eq!(project["workspace"]["id"], wid);
    assert_eq!(project["workspace"]["name"], "Production");
    let cred = &project["workspace"]["details"]["credentials"][0];
    assert_eq!(cred["id"], i["id"]);
    assert_eq!(cred["integration_type"], "service");
    assert_eq!(cred["jwt"]["client_id"], i["client_id"]);
    assert_eq!(cred["jwt"]["technical_account_id"], i["technical_account_id"]);
    assert!(project["workspace"]["details"]["services"].is_array());
}
