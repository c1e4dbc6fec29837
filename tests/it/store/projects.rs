//! Projects and workspaces on both backends: round trips, names unique per owner and per project,
//! Production listed first, and nothing deleted while it holds an integration.

use gatehouse_domain::{
    integration::Owner,
    project::{PRODUCTION, Project, Workspace},
};
use gatehouse_store::{AccountStore, IntegrationStore, OrgStore, ProjectStore, StoreError};

use super::fixtures::*;

fn project(id: &str, name: &str, owner: Owner, at: i64) -> Project {
    Project {
        id: id.into(),
        name: name.into(),
        title: format!("{name} title"),
        description: "about it".into(),
        owner,
        created_by: None,
        created_at: at,
        updated_at: at,
    }
}

fn workspace(id: &str, project_id: &str, name: &str, at: i64) -> Workspace {
    Workspace {
        id: id.into(),
        project_id: project_id.into(),
        name: name.into(),
        title: name.into(),
        description: String::new(),
        created_at: at,
        updated_at: at,
    }
}

#[tokio::test]
async fn projects_and_workspaces_round_trip_and_list_in_order() {
    let (_db, store) = fresh().await;
    let ada = account("ada@example.com");
    let acme = org("Acme");
    let mut tx = begin(&store).await;
    tx.insert_account(&ada).await.unwrap();
    tx.insert_org(&acme).await.unwrap();
    let mine = project("p-2", "Mine", Owner::Account(ada.id.clone()), T0 + 1);
    let ours = project("p-1", "Ours", Owner::Organization(acme.id.to_string()), T0);
    let later = project("p-0", "Later", Owner::Organization(acme.id.to_string()), T0 + 5);
    for p in [&mine, &ours, &later] {
        tx.insert_project(p).await.unwrap();
    }
    // Stage is older than Production, and still listed after it.
    tx.insert_workspace(&workspace("w-stage", "p-1", "Stage", T0 - 1))
        .await
        .unwrap();
    tx.insert_workspace(&workspace("w-prod", "p-1", PRODUCTION, T0))
        .await
        .unwrap();
    tx.insert_workspace(&workspace("w-dev", "p-1", "Dev", T0 + 2))
        .await
        .unwrap();
    commit(tx).await;

    let mut c = conn(&store).await;
    assert_eq!(c.project_by_id("p-2").await.unwrap(), Some(mine.clone()));
    assert_eq!(c.project_by_id("nope").await.unwrap(), None);
    assert_eq!(c.projects_of_account(&ada.id).await.unwrap(), [mine]);
    let of_org: Vec<String> = c
        .projects_of_org(acme.id.as_str())
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(of_org, ["p-1", "p-0"]);
    let names: Vec<String> = c
        .workspaces_of("p-1")
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.name)
        .collect();
    assert_eq!(names, [PRODUCTION, "Stage", "Dev"]);
    assert_eq!(
        c.workspace_by_id("w-dev").await.unwrap(),
        Some(workspace("w-dev", "p-1", "Dev", T0 + 2))
    );
    drop(c);

    let mut edited = ours.clone();
    edited.title = "Renamed".into();
    edited.description = String::new();
    edited.updated_at = T0 + 9;
    edited.name = "Ignored".into();
    let mut ws = workspace("w-dev", "p-1", "Dev", T0 + 2);
    ws.title = "Development".into();
    ws.updated_at = T0 + 9;
    let mut tx = begin(&store).await;
    tx.update_project(&edited).await.unwrap();
    tx.update_workspace(&ws).await.unwrap();
    commit(tx).await;
    let mut c = conn(&store).await;
    let stored = c.project_by_id("p-1").await.unwrap().unwrap();
    assert_eq!(
        (stored.name.as_str(), stored.title.as_str(), stored.updated_at),
        ("Ours", "Renamed", T0 + 9),
        "the name stays; title and description change"
    );
    assert_eq!(c.workspace_by_id("w-dev").await.unwrap().unwrap().title, "Development");
}

#[tokio::test]
async fn project_names_are_unique_per_owner_and_workspace_names_per_project() {
    let (_db, store) = fresh().await;
    let acme = org("Acme");
    let other = org("Other");
    let mut tx = begin(&store).await;
    tx.insert_org(&acme).await.unwrap();
    tx.insert_org(&other).await.unwrap();
    tx.insert_project(&project("p-1", "Shop", Owner::Organization(acme.id.to_string()), T0))
        .await
        .unwrap();
    // Another owner may use the same name.
    tx.insert_project(&project("p-2", "Shop", Owner::Organization(other.id.to_string()), T0))
        .await
        .unwrap();
    tx.insert_workspace(&workspace("w-1", "p-1", "Stage", T0))
        .await
        .unwrap();
    tx.insert_workspace(&workspace("w-2", "p-2", "Stage", T0))
        .await
        .unwrap();
    commit(tx).await;

    let mut tx = begin(&store).await;
    let err = tx
        .insert_project(&project("p-3", "Shop", Owner::Organization(acme.id.to_string()), T0))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "got {err:?}");
    drop(tx);
    let mut tx = begin(&store).await;
    let err = tx
        .insert_workspace(&workspace("w-3", "p-1", "Stage", T0))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "got {err:?}");
}

#[tokio::test]
async fn workspaces_holding_integrations_are_not_deleted_and_projects_take_their_workspaces() {
    let (_db, store) = fresh().await;
    let ada = account("ada@example.com");
    let i = oauth_integration(&ada);
    let mut tx = begin(&store).await;
    tx.insert_account(&ada).await.unwrap();
    insert_integration(&mut tx, &i).await.unwrap();
    tx.insert_workspace(&workspace("w-empty", &i.id, "Stage", T0))
        .await
        .unwrap();
    commit(tx).await;

    let mut c = conn(&store).await;
    let held = c.integrations_of_workspace(&i.workspace_id).await.unwrap();
    assert_eq!(held, std::slice::from_ref(&i));
    assert!(c.integrations_of_workspace("w-empty").await.unwrap().is_empty());
    drop(c);

    let mut tx = begin(&store).await;
    assert!(
        tx.delete_workspace(&i.workspace_id).await.is_err(),
        "it holds an integration"
    );
    drop(tx);
    let mut tx = begin(&store).await;
    assert!(
        tx.delete_project(&i.id).await.is_err(),
        "its workspace holds an integration"
    );
    drop(tx);

    let mut tx = begin(&store).await;
    assert!(tx.delete_workspace("w-empty").await.unwrap());
    assert!(!tx.delete_workspace("w-empty").await.unwrap());
    assert!(tx.delete_integration(&i.id).await.unwrap());
    assert!(tx.delete_project(&i.id).await.unwrap());
    commit(tx).await;
    let mut c = conn(&store).await;
    assert_eq!(
        c.workspace_by_id(&i.workspace_id).await.unwrap(),
        None,
        "gone with its project"
    );
}
