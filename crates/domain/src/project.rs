//! Projects and workspaces: how a developer groups credentials. A project belongs to an
//! organization or a personal account and holds workspaces — [`PRODUCTION`] first, then any
//! others such as "Stage"; every integration (credential), with its subscriptions and event
//! registrations, lives in exactly one workspace.
//!
//! An integration created without naming a workspace gets a project of its own with a Production
//! workspace ([`own_project`]), exactly as the migration that introduced projects turned every
//! existing integration into one.

use rand::RngCore;

use crate::{
    DomainError, Timestamp,
    console::integration::parse_description,
    identity::{FieldError, FieldErrors},
    ids::new_row_id,
    integration::Owner,
};

/// The workspace every project starts with.
pub const PRODUCTION: &str = "Production";
/// Longest project or workspace name, in characters.
pub const MAX_NAME: usize = 45;
/// Longest title, in characters.
pub const MAX_TITLE: usize = 100;
/// At most this many workspaces per project.
pub const MAX_WORKSPACES: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: String,
    /// Letters and digits, unique among its owner's projects (what tools and files refer to).
    pub name: String,
    /// What people read.
    pub title: String,
    pub description: String,
    pub owner: Owner,
    pub created_by: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Project {
    pub fn org_id(&self) -> Option<&str> {
        match &self.owner {
            Owner::Organization(o) => Some(o),
            Owner::Account(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub id: String,
    pub project_id: String,
    /// Letters and digits, unique in its project.
    pub name: String,
    pub title: String,
    pub description: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Workspace {
    pub fn is_production(&self) -> bool {
        self.name == PRODUCTION
    }
}

/// A name: 1–[`MAX_NAME`] ASCII letters and digits (the shape Adobe's console gives project and
/// workspace names, so the names travel between the two).
pub fn parse_name(what: &str, s: &str) -> Result<String, DomainError> {
    let s = s.trim();
    if s.is_empty() || s.len() > MAX_NAME || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(DomainError::new(
            "invalid_name",
            format!("{what} name must be 1–{MAX_NAME} letters and digits (no spaces), e.g. \"Stage\""),
        ));
    }
    Ok(s.to_owned())
}

/// A title: 1–[`MAX_TITLE`] printable characters.
pub fn parse_title(s: &str) -> Result<String, DomainError> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > MAX_TITLE || s.chars().any(char::is_control) {
        return Err(DomainError::new(
            "invalid_title",
            format!("title must be 1–{MAX_TITLE} printable characters"),
        ));
    }
    Ok(s.to_owned())
}

/// A submitted project or workspace: the title defaults to the name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Input {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
}

struct Parsed {
    name: String,
    title: String,
    description: String,
}

fn parse_input(what: &str, input: &Input) -> Result<Parsed, FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = parse_name(what, &input.name).map_err(|e| {
        errors.push(FieldError {
            field: "name",
            error: e,
        })
    });
    let title = match input.title.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => parse_title(t).map_err(|e| {
            errors.push(FieldError {
                field: "title",
                error: e,
            })
        }),
        None => name.clone().map_err(|_| ()),
    };
    let description = parse_description(input.description.as_deref().unwrap_or("")).map_err(|e| {
        errors.push(FieldError {
            field: "description",
            error: e,
        })
    });
    match (name, title, description) {
        (Ok(name), Ok(title), Ok(description)) if errors.is_empty() => Ok(Parsed {
            name,
            title,
            description,
        }),
        _ => Err(errors),
    }
}

/// A new project with its Production workspace.
pub fn new_project(
    input: &Input,
    owner: Owner,
    creator: Option<&str>,
    now: Timestamp,
    rng: &mut impl RngCore,
) -> Result<(Project, Workspace), FieldErrors> {
    let p = parse_input("project", input)?;
    let project = Project {
        id: new_row_id(rng),
        name: p.name,
        title: p.title,
        description: p.description,
        owner,
        created_by: creator.map(str::to_owned),
        created_at: now,
        updated_at: now,
    };
    let production = production_of(&project, rng);
    Ok((project, production))
}

fn production_of(project: &Project, rng: &mut impl RngCore) -> Workspace {
    Workspace {
        id: new_row_id(rng),
        project_id: project.id.clone(),
        name: PRODUCTION.to_owned(),
        title: PRODUCTION.to_owned(),
        description: String::new(),
        created_at: project.created_at,
        updated_at: project.created_at,
    }
}

/// The project an integration created without a workspace gets: titled after it, named `p` and
/// its ID's hex digits (unique by construction), with a Production workspace.
pub fn own_project(
    integration_title: &str,
    description: &str,
    owner: Owner,
    creator: Option<&str>,
    now: Timestamp,
    rng: &mut impl RngCore,
) -> (Project, Workspace) {
    let id = new_row_id(rng);
    let project = Project {
        name: format!("p{}", id.replace('-', "")),
        id,
        title: integration_title.to_owned(),
        description: description.to_owned(),
        owner,
        created_by: creator.map(str::to_owned),
        created_at: now,
        updated_at: now,
    };
    let production = production_of(&project, rng);
    (project, production)
}

/// A new workspace of `project`.
pub fn new_workspace(
    project: &Project,
    existing: usize,
    input: &Input,
    now: Timestamp,
    rng: &mut impl RngCore,
) -> Result<Workspace, FieldErrors> {
    let p = parse_input("workspace", input)?;
    if existing >= MAX_WORKSPACES {
        let mut errors = FieldErrors::new();
        errors.push(FieldError::new(
            "name",
            "too_many_workspaces",
            format!("A project has at most {MAX_WORKSPACES} workspaces; delete one first."),
        ));
        return Err(errors);
    }
    Ok(Workspace {
        id: new_row_id(rng),
        project_id: project.id.clone(),
        name: p.name,
        title: p.title,
        description: p.description,
        created_at: now,
        updated_at: now,
    })
}

/// An edit of a project or workspace: each field present replaces the current one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub title: Option<String>,
    pub description: Option<String>,
}

fn apply_changes(title: &mut String, description: &mut String, changes: &Changes) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    if let Some(t) = &changes.title {
        match parse_title(t) {
            Ok(t) => *title = t,
            Err(e) => errors.push(FieldError {
                field: "title",
                error: e,
            }),
        }
    }
    if let Some(d) = &changes.description {
        match parse_description(d) {
            Ok(d) => *description = d,
            Err(e) => errors.push(FieldError {
                field: "description",
                error: e,
            }),
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

pub fn edit_project(current: &Project, changes: &Changes, now: Timestamp) -> Result<Project, FieldErrors> {
    let mut next = current.clone();
    apply_changes(&mut next.title, &mut next.description, changes)?;
    next.updated_at = now;
    Ok(next)
}

pub fn edit_workspace(current: &Workspace, changes: &Changes, now: Timestamp) -> Result<Workspace, FieldErrors> {
    let mut next = current.clone();
    apply_changes(&mut next.title, &mut next.description, changes)?;
    next.updated_at = now;
    Ok(next)
}

/// Why a workspace cannot be deleted, if it cannot: the Production workspace stays while its
/// project does, and a workspace holding credentials is emptied first (deleting a credential ends
/// its tokens, so it is a step of its own, never a side effect).
pub fn check_delete_workspace(w: &Workspace, credentials: usize) -> Result<(), DomainError> {
    if w.is_production() {
        return Err(DomainError::new(
            "production_workspace",
            "The Production workspace is deleted only with its project.",
        ));
    }
    check_empty("workspace", credentials)
}

/// Why a project cannot be deleted, if it cannot: it must hold no credentials.
pub fn check_delete_project(credentials: usize) -> Result<(), DomainError> {
    check_empty("project", credentials)
}

fn check_empty(what: &str, credentials: usize) -> Result<(), DomainError> {
    if credentials > 0 {
        return Err(DomainError::new(
            "not_empty",
            format!(
                "This {what} still holds {credentials} credential{}; delete {} first.",
                if credentials == 1 { "" } else { "s" },
                if credentials == 1 { "it" } else { "them" }
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    fn owner() -> Owner {
        Owner::Organization("o".into())
    }

    #[test]
    fn names_are_letters_and_digits() {
        assert!(parse_name("project", "Stage2").is_ok());
        for bad in ["", "has space", "dash-ed", "ünï", &"a".repeat(46)] {
            assert_eq!(parse_name("project", bad).unwrap_err().code, "invalid_name", "{bad:?}");
        }
    }

    #[test]
    fn a_new_project_starts_with_production_and_a_title_defaulting_to_its_name() {
        let mut rng = StdRng::seed_from_u64(1);
        let input = Input {
            name: "Storefront".into(),
            ..Input::default()
        };
        let (p, w) = new_project(&input, owner(), Some("a"), 10, &mut rng).unwrap();
        assert_eq!(p.title, "Storefront");
        assert_eq!((w.name.as_str(), w.project_id.as_str()), (PRODUCTION, p.id.as_str()));
        assert!(w.is_production());
    }

    #[test]
    fn every_problem_of_a_submission_is_reported_at_once() {
        let mut rng = StdRng::seed_from_u64(1);
        let input = Input {
            name: "no spaces".into(),
            title: Some("\u{7}".into()),
            description: Some("x".repeat(2000)),
        };
        let errors = new_project(&input, owner(), None, 0, &mut rng).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "title", "description"]);
    }

    #[test]
    fn an_integration_s_own_project_has_a_unique_name() {
        let mut rng = StdRng::seed_from_u64(2);
        let (p, _) = own_project("My app", "", owner(), None, 0, &mut rng);
        assert_eq!(p.title, "My app");
        assert!(parse_name("project", &p.name).is_ok());
        assert_eq!(p.name, format!("p{}", p.id.replace('-', "")));
    }

    #[test]
    fn production_and_non_empty_workspaces_are_not_deleted() {
        let mut rng = StdRng::seed_from_u64(3);
        let (p, prod) = new_project(
            &Input {
                name: "P".into(),
                ..Input::default()
            },
            owner(),
            None,
            0,
            &mut rng,
        )
        .unwrap();
        assert_eq!(
            check_delete_workspace(&prod, 0).unwrap_err().code,
            "production_workspace"
        );
        let stage = new_workspace(
            &p,
            1,
            &Input {
                name: "Stage".into(),
                ..Input::default()
            },
            0,
            &mut rng,
        )
        .unwrap();
        assert_eq!(check_delete_workspace(&stage, 2).unwrap_err().code, "not_empty");
        assert!(check_delete_workspace(&stage, 0).is_ok());
        assert!(
            new_workspace(
                &p,
                MAX_WORKSPACES,
                &Input {
                    name: "X".into(),
                    ..Input::default()
                },
                0,
                &mut rng
            )
            .is_err()
        );
    }
}
