//! Projects and workspaces in `apply` files: integrations name the project (by name, among their
//! owner's) and workspace they live in; what is missing is created; a second apply changes
//! nothing; a credential is not moved between workspaces; export writes the placement back.

use gatehouse_store::{IntegrationStore, ProjectStore};

use super::*;
use crate::store::fixtures::fresh;

const FILE: &str = r#"
[[organizations]]
id = "0000000000000000000000b7@GatehouseOrg"
name = "Shop"

[[integrations]]
name = "Storefront key"
type = "api_key"
organization = "Shop"
project = "Storefront"

[[integrations]]
name = "Storefront staging key"
type = "api_key"
organization = "Shop"
project = "Storefront"
workspace = "Stage"

[[integrations]]
name = "Loose key"
type = "api_key"
organization = "Shop"
"#;

#[tokio::test]
async fn apply_places_integrations_in_the_projects_and_workspaces_a_file_names() {
    let (_db, store) = fresh().await;
    apply_text(&store, FILE).await.unwrap();
    let mut c = store.conn().await.unwrap();
    let all = c.list_integrations().await.unwrap();
    let by_name = |n: &str| all.iter().find(|i| i.name == n).unwrap().clone();
    let (prod, stage, loose) = (
        by_name("Storefront key"),
        by_name("Storefront staging key"),
        by_name("Loose key"),
    );
    let w_prod = c.workspace_by_id(&prod.workspace_id).await.unwrap().unwrap();
    let w_stage = c.workspace_by_id(&stage.workspace_id).await.unwrap().unwrap();
    assert_eq!((w_prod.name.as_str(), w_stage.name.as_str()), ("Production", "Stage"));
    assert_eq!(w_prod.project_id, w_stage.project_id, "one project for both");
    let project = c.project_by_id(&w_prod.project_id).await.unwrap().unwrap();
    assert_eq!(project.name, "Storefront");
    // Without a project: one of its own.
    let w_loose = c.workspace_by_id(&loose.workspace_id).await.unwrap().unwrap();
    assert_ne!(w_loose.project_id, project.id);
    drop(c);

    // Applying again changes nothing; neither does applying what export wrote.
    assert!(apply_text(&store, FILE).await.unwrap().is_unchanged());
    let exported = gatehouse_app::provision::export(&store).await.unwrap();
    assert!(exported.contains("project = \"Storefront\""), "{exported}");
    assert!(exported.contains("workspace = \"Stage\""), "{exported}");
    assert!(
        apply_text(&store, &exported).await.unwrap().is_unchanged(),
        "{exported}"
    );

    // A credential does not move to another workspace.
    let moved = FILE.replacen(
        "project = \"Storefront\"\n",
        "project = \"Storefront\"\nworkspace = \"Stage\"\n",
        1,
    );
    let err = apply_text(&store, &moved).await.unwrap_err().to_string();
    assert!(err.contains("do not move between workspaces"), "{err}");
    // A workspace named without its project is refused, with the key's path.
    let orphan = FILE.replace(
        "project = \"Storefront\"\nworkspace = \"Stage\"",
        "workspace = \"Stage\"",
    );
    let err = apply_text(&store, &orphan).await.unwrap_err().to_string();
    assert!(err.contains("give project too"), "{err}");
}
