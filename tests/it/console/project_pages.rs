//! The console's project pages without a browser: a project created through its form starts with
//! Production; a Stage workspace is added and an OAuth credential created into it through the
//! create-integration flow (which carries the workspace through both steps) is listed under
//! Stage; deleting a workspace or project that still holds credentials is refused with the rules'
//! message; who may see and create projects; every field's problem shown at once.

use axum::http::StatusCode;
use gatehouse_domain::integration::Owner;
use gatehouse_store::IntegrationStore;

use super::helpers::*;
use crate::{
    harness::server::{TestClient, TestResponse},
    identity::helpers::hidden,
};

fn location(res: &TestResponse) -> String {
    res.header("location").unwrap().to_owned()
}

/// Creates a project through the form; its ID.
async fn new_project(c: &TestClient, fields: &[(&str, &str)]) -> String {
    let res = post(c, "/console/projects", fields, StatusCode::SEE_OTHER).await;
    let to = location(&res);
    let rest = to.strip_prefix("/console/projects/").unwrap();
    assert!(rest.ends_with("?done=created"), "{to}");
    rest.trim_end_matches("?done=created").to_owned()
}

/// The ID of the workspace whose section has the title `title` on a project's page.
fn workspace_id(page: &str, title: &str) -> String {
    let heading = page
        .find(&format!("-title\">{title}"))
        .unwrap_or_else(|| panic!("no workspace {title} in:\n{page}"));
    let start = page[..heading].rfind("id=\"ws-").unwrap() + "id=\"ws-".len();
    page[start..heading].to_owned()
}

/// The part of a project's page about one workspace (its section).
fn section<'a>(page: &'a str, workspace_id: &str) -> &'a str {
    let start = page.find(&format!("id=\"ws-{workspace_id}\"")).unwrap();
    let end = page[start..].find("</section>").unwrap();
    &page[start..start + end]
}

#[tokio::test]
async fn a_project_gets_production_a_stage_workspace_and_a_credential_created_into_stage() {
    let w = world().await;
    let c = &w.admin.client;
    let list = c.get("/console/projects", StatusCode::OK).await.text();
    assert!(
        list.contains("href=\"/console/projects\" aria-current=\"page\">Projects</a>"),
        "Projects is in the console's navigation: {list}"
    );
    assert!(list.contains("You have no projects yet") && list.contains("name=\"csrf_token\""));
    assert!(
        list.contains(&format!("<option value=\"{}\"", w.org_id)),
        "the admin may choose Acme"
    );

    let id = new_project(
        c,
        &[
            ("name", "Storefront"),
            ("title", "Storefront web shop"),
            ("description", "The checkout of the shop."),
            ("owner", &w.org_id),
        ],
    )
    .await;
    let path = format!("/console/projects/{id}");
    let page = c.get(&format!("{path}?done=created"), StatusCode::OK).await.text();
    assert!(page.contains("<h1>Storefront web shop</h1>") && page.contains("The checkout of the shop."));
    assert!(page.contains("Acme") && page.contains("Storefront"));
    assert!(page.contains("created with its Production workspace"), "{page}");
    let production = workspace_id(&page, "Production");
    assert!(page.contains(&format!(
        "href=\"/console/integrations/new?workspace={production}\">Add credential"
    )));
    assert!(
        !section(&page, &production).contains("Delete workspace"),
        "Production is deleted only with its project"
    );
    let list = c.get("/console/projects", StatusCode::OK).await.text();
    assert!(
        list.contains(&format!("href=\"{path}\">Storefront web shop</a>")),
        "{list}"
    );

    // A Stage workspace, listed after Production.
    let res = post(
        c,
        &format!("{path}/workspaces"),
        &[("workspace_name", "Stage"), ("workspace_title", "")],
        StatusCode::SEE_OTHER,
    )
    .await;
    let page = c.get(&path, StatusCode::OK).await.text();
    let stage = workspace_id(&page, "Stage");
    assert_eq!(location(&res), format!("{path}?done=workspace#ws-{stage}"));
    assert!(page.find(&format!("id=\"ws-{production}\"")) < page.find(&format!("id=\"ws-{stage}\"")));
    assert!(section(&page, &stage).contains("No credentials in this workspace yet"));

    // The create flow keeps the workspace: the type choice, then the form, then the credential.
    let choose = c
        .get(&format!("/console/integrations/new?workspace={stage}"), StatusCode::OK)
        .await
        .text();
    assert_eq!(hidden(&choose, "workspace"), stage);
    assert!(
        choose.contains("In project <strong>Storefront web shop</strong>") && choose.contains("<strong>Stage</strong>")
    );
    let form = c
        .get(
            &format!("/console/integrations/new?type=oauth&workspace={stage}"),
            StatusCode::OK,
        )
        .await
        .text();
    assert_eq!(hidden(&form, "workspace"), stage);
    assert!(form.contains("In project <a href=\"/console/projects/"), "{form}");
    assert!(
        !form.contains("<select id=\"owner\""),
        "the credential takes the project's owner"
    );
    assert!(form.contains(&format!(
        "href=\"/console/integrations/new?workspace={stage}\">← Choose another type"
    )));
    let created = post(
        c,
        "/console/integrations",
        &[
            ("integration_type", "oauth"),
            ("name", "Checkout"),
            ("platform", "web"),
            ("redirect_uri", "https://shop.example/cb"),
            ("workspace", &stage),
        ],
        StatusCode::SEE_OTHER,
    )
    .await;
    let to = location(&created);
    let integration = to
        .strip_prefix("/console/integrations/")
        .and_then(|r| r.split('/').next())
        .unwrap()
        .to_owned();
    let stored = w
        .server
        .store()
        .conn()
        .await
        .unwrap()
        .integration_by_id(&integration)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.workspace_id, stage);
    assert_eq!(stored.owner, Owner::Organization(w.org_id.clone()));

    let page = c.get(&path, StatusCode::OK).await.text();
    let in_stage = section(&page, &stage);
    assert!(
        in_stage.contains(&format!("href=\"/console/integrations/{integration}\">Checkout</a>")),
        "{in_stage}"
    );
    assert!(in_stage.contains("OAuth") && in_stage.contains("Active"));
    assert!(!section(&page, &production).contains("Checkout"));

    // Its overview names the project and workspace, linking to the project.
    let overview = c
        .get(&format!("/console/integrations/{integration}"), StatusCode::OK)
        .await
        .text();
    assert!(
        overview.contains(&format!(
            "<nav class=\"breadcrumb\" aria-label=\"Breadcrumb\"><a href=\"{path}\">Storefront web shop</a>"
        )) && overview.contains(&format!("href=\"{path}#ws-{stage}\">Stage</a>")),
        "{overview}"
    );

    // Stage and the project hold a credential: the rules refuse to delete them, and say why.
    let refused = post(
        c,
        &format!("{path}/workspaces/{stage}/delete"),
        &[],
        StatusCode::CONFLICT,
    )
    .await
    .text();
    assert!(refused.contains("There is a problem") && refused.contains(&format!("href=\"#ws-{stage}\"")));
    assert!(
        section(&refused, &stage).contains("This workspace still holds 1 credential; delete it first."),
        "{refused}"
    );
    let refused = post(c, &format!("{path}/delete"), &[], StatusCode::CONFLICT)
        .await
        .text();
    assert!(refused.contains("href=\"#delete_project\""));
    assert!(
        refused.contains("This project still holds 1 credential; delete it first."),
        "{refused}"
    );
    let refused = post(
        c,
        &format!("{path}/workspaces/{production}/delete"),
        &[],
        StatusCode::CONFLICT,
    )
    .await
    .text();
    assert!(refused.contains("The Production workspace is deleted only with its project."));

    // The title and description change; the name stays.
    let res = post(
        c,
        &format!("{path}/edit"),
        &[("title", "Shop"), ("description", "")],
        StatusCode::SEE_OTHER,
    )
    .await;
    assert_eq!(location(&res), format!("{path}?done=saved"));
    let page = c.get(&path, StatusCode::OK).await.text();
    assert!(page.contains("<h1>Shop</h1>") && page.contains("<code class=\"ident\">Storefront</code>"));

    // Once empty, Stage and then the project go.
    post(
        c,
        &format!("/console/integrations/{integration}/delete"),
        &[("confirm_name", "Checkout")],
        StatusCode::SEE_OTHER,
    )
    .await;
    let res = post(
        c,
        &format!("{path}/workspaces/{stage}/delete"),
        &[],
        StatusCode::SEE_OTHER,
    )
    .await;
    assert_eq!(location(&res), format!("{path}?done=workspace_deleted"));
    let res = post(c, &format!("{path}/delete"), &[], StatusCode::SEE_OTHER).await;
    assert_eq!(location(&res), "/console/projects?deleted=Shop");
    let list = c.get(&location(&res), StatusCode::OK).await.text();
    assert!(list.contains("was deleted") && !list.contains(&path), "{list}");
    c.get(&path, StatusCode::NOT_FOUND).await;

    // Without the CSRF token nothing happens.
    c.post_form("/console/projects", &[("name", "X")], StatusCode::FORBIDDEN)
        .await;
}

#[tokio::test]
async fn projects_are_seen_and_created_by_whom_the_rules_allow() {
    let w = world().await;
    let admin = &w.admin.client;
    let id = new_project(admin, &[("name", "Internal"), ("owner", &w.org_id)]).await;
    let path = format!("/console/projects/{id}");
    let page = admin.get(&path, StatusCode::OK).await.text();
    let production = workspace_id(&page, "Production");

    // A developer of the organization sees only the projects they created: the admin's is "not
    // found", and so is adding a credential to it.
    let dev = &w.dev.client;
    dev.get(&path, StatusCode::NOT_FOUND).await;
    dev.get(
        &format!("/console/integrations/new?workspace={production}"),
        StatusCode::NOT_FOUND,
    )
    .await;
    dev.get(
        &format!("/console/integrations/new?type=api_key&workspace={production}"),
        StatusCode::NOT_FOUND,
    )
    .await;
    post(
        dev,
        "/console/integrations",
        &[
            ("integration_type", "api_key"),
            ("name", "Sneak"),
            ("workspace", &production),
        ],
        StatusCode::NOT_FOUND,
    )
    .await;
    post(
        dev,
        &format!("{path}/workspaces"),
        &[("workspace_name", "Stage")],
        StatusCode::NOT_FOUND,
    )
    .await;
    post(dev, &format!("{path}/delete"), &[], StatusCode::NOT_FOUND).await;
    assert!(
        !dev.get("/console/projects", StatusCode::OK)
            .await
            .text()
            .contains(&path)
    );
    w.outsider.client.get(&path, StatusCode::NOT_FOUND).await;

    // A developer may create one for the organization, which its admins then see.
    let mine = new_project(dev, &[("name", "DevTools"), ("owner", &w.org_id)]).await;
    dev.get(&format!("/console/projects/{mine}"), StatusCode::OK).await;
    let list = admin.get("/console/projects", StatusCode::OK).await.text();
    assert!(list.contains(&path) && list.contains(&format!("/console/projects/{mine}")));

    // A member may not: the organization is not offered, and a submission naming it is refused
    // on the owner field.
    let member = &w.member.client;
    let list = member.get("/console/projects", StatusCode::OK).await.text();
    assert!(!list.contains(&format!("<option value=\"{}\"", w.org_id)));
    let refused = post(
        member,
        "/console/projects",
        &[("name", "Mine"), ("owner", &w.org_id)],
        StatusCode::FORBIDDEN,
    )
    .await
    .text();
    assert!(
        refused.contains("Members of an organization cannot create projects for it"),
        "{refused}"
    );
    assert!(refused.contains("href=\"#owner\"") && refused.contains("id=\"owner-error\""));
    assert!(refused.contains("value=\"Mine\""), "the submitted values are kept");
    // A personal project is theirs to create.
    let personal = new_project(member, &[("name", "Mine"), ("owner", "personal")]).await;
    let page = member
        .get(&format!("/console/projects/{personal}"), StatusCode::OK)
        .await
        .text();
    assert!(page.contains("Personal (yours)"));
    // ... and a service account cannot go into it.
    let personal_production = workspace_id(&page, "Production");
    let choose = member
        .get(
            &format!("/console/integrations/new?workspace={personal_production}"),
            StatusCode::OK,
        )
        .await
        .text();
    assert!(choose.contains("this is a\n          personal project"), "{choose}");
    admin
        .get(&format!("/console/projects/{personal}"), StatusCode::NOT_FOUND)
        .await;
}

#[tokio::test]
async fn project_forms_show_every_problem_at_once() {
    let w = world().await;
    let c = &w.dev.client;
    let long_title = "t".repeat(101);
    let long_description = "d".repeat(1001);
    let bad = post(
        c,
        "/console/projects",
        &[
            ("name", "no spaces"),
            ("title", &long_title),
            ("description", &long_description),
            ("owner", "personal"),
        ],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .text();
    for field in ["name", "title", "description"] {
        assert!(
            bad.contains(&format!("href=\"#{field}\"")),
            "{field} in the summary: {bad}"
        );
        assert!(bad.contains(&format!("id=\"{field}-error\"")), "{field}'s message");
    }
    assert_eq!(bad.matches("aria-invalid=\"true\"").count(), 3, "{bad}");
    assert!(bad.contains("value=\"no spaces\""), "the submitted values are kept");

    let id = new_project(c, &[("name", "Tools"), ("owner", "personal")]).await;
    let taken = post(
        c,
        "/console/projects",
        &[("name", "Tools"), ("owner", "personal")],
        StatusCode::CONFLICT,
    )
    .await
    .text();
    assert!(taken.contains("A project of that name exists already") && taken.contains("href=\"#name\""));

    let path = format!("/console/projects/{id}");
    let bad = post(
        c,
        &format!("{path}/workspaces"),
        &[("workspace_name", "Stage two"), ("workspace_title", &long_title)],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .text();
    assert!(
        bad.contains("href=\"#workspace_name\"") && bad.contains("href=\"#workspace_title\""),
        "{bad}"
    );
    assert!(bad.contains("id=\"workspace_name-error\"") && bad.contains("id=\"workspace_title-error\""));
    assert!(bad.contains("value=\"Stage two\""));
    let taken = post(
        c,
        &format!("{path}/workspaces"),
        &[("workspace_name", "Production")],
        StatusCode::CONFLICT,
    )
    .await
    .text();
    assert!(taken.contains("A workspace of that name exists already") && taken.contains("href=\"#workspace_name\""));

    let bad = post(
        c,
        &format!("{path}/edit"),
        &[("title", ""), ("description", &long_description)],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .text();
    assert!(
        bad.contains("href=\"#title\"") && bad.contains("href=\"#description\""),
        "{bad}"
    );
    assert!(bad.contains("Title must be 1–100 printable characters."));
}
