//! Migrations: the SQLite and PostgreSQL folders must not drift apart (same versions, same names,
//! same tables, columns and indexes), and a database written by a later Gatehouse is refused.

// Test code: a failed expectation should stop the test with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use gatehouse_store::{AsDb, Db, SchemaStatus, StoreError};

use crate::harness::db::TestDatabase;

fn migrations_dir(dialect: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(dialect)
}

/// The `.sql` file names in a migrations folder, sorted.
fn migration_files(dialect: &str) -> Vec<String> {
    let dir = migrations_dir(dialect);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".sql"))
        .collect();
    names.sort();
    names
}

/// Describes how two migration lists differ, or `Ok` when they are the same.
fn compare_lists(sqlite: &[String], postgres: &[String]) -> Result<(), String> {
    let only = |a: &[String], b: &[String]| -> Vec<String> { a.iter().filter(|n| !b.contains(n)).cloned().collect() };
    let (only_sqlite, only_postgres) = (only(sqlite, postgres), only(postgres, sqlite));
    if only_sqlite.is_empty() && only_postgres.is_empty() {
        return Ok(());
    }
    Err(format!(
        "migrations/sqlite and migrations/postgres must hold the same versions and names; \
         only in sqlite: {only_sqlite:?}; only in postgres: {only_postgres:?}"
    ))
}

/// The version of a `<version>_<name>.sql` file, if the name has that shape.
fn version_of(file: &str) -> Option<i64> {
    let stem = file.strip_suffix(".sql")?;
    let (version, name) = stem.split_once('_')?;
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) || !name_ok {
        return None;
    }
    version.parse().ok()
}

#[test]
fn migrations_have_the_same_versions_and_names_on_both_backends() {
    let (sqlite, postgres) = (migration_files("sqlite"), migration_files("postgres"));
    assert!(
        !sqlite.is_empty(),
        "no migrations found in {}",
        migrations_dir("sqlite").display()
    );
    if let Err(why) = compare_lists(&sqlite, &postgres) {
        panic!("{why}");
    }
}

#[test]
fn migrations_drift_check_fails_when_the_lists_differ() {
    let list = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
    let base = list(&["0001_initial.sql", "0002_events.sql"]);
    assert!(compare_lists(&base, &base).is_ok());
    let missing = compare_lists(&base, &list(&["0001_initial.sql"])).unwrap_err();
    assert!(missing.contains("0002_events.sql"), "{missing}");
    let renamed = compare_lists(&base, &list(&["0001_initial.sql", "0002_event.sql"])).unwrap_err();
    assert!(
        renamed.contains("0002_events.sql") && renamed.contains("0002_event.sql"),
        "{renamed}"
    );
    let renumbered = compare_lists(&base, &list(&["0001_initial.sql", "0003_events.sql"])).unwrap_err();
    assert!(renumbered.contains("0003_events.sql"), "{renumbered}");
}

#[test]
fn migrations_are_named_version_underscore_name_with_unique_versions() {
    for dialect in ["sqlite", "postgres"] {
        let files = migration_files(dialect);
        let mut versions = Vec::new();
        for file in &files {
            let version = version_of(file)
                .unwrap_or_else(|| panic!("migrations/{dialect}/{file} must be named <version>_<snake_case_name>.sql"));
            assert!(
                !versions.contains(&version),
                "migrations/{dialect}: version {version} is used twice"
            );
            versions.push(version);
        }
    }
    assert_eq!(version_of("0001_initial.sql"), Some(1));
    assert_eq!(version_of("0001-initial.sql"), None);
    assert_eq!(version_of("initial.sql"), None);
}

/// Tables with their columns, and indexes with their table, as created by a dialect's migrations.
#[derive(Debug, Default, PartialEq)]
struct SchemaShape {
    tables: BTreeMap<String, Vec<String>>,
    indexes: BTreeMap<String, String>,
}

fn strip_comments(sql: &str) -> String {
    sql.lines()
        .map(|line| line.split_once("--").map_or(line, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Splits `a, b (c, d), e` at the commas outside parentheses.
fn split_top_level(body: &str) -> Vec<String> {
    let (mut parts, mut current, mut depth) = (Vec::new(), String::new(), 0i32);
    for ch in body.chars() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(ch);
    }
    parts.push(current);
    parts
        .into_iter()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect()
}

fn ident(word: &str) -> String {
    word.trim_matches('"').to_lowercase()
}

/// Reads the tables, columns and indexes a migration creates. Deliberately simple: it understands
/// CREATE TABLE, CREATE [UNIQUE] INDEX, ALTER TABLE … ADD [COLUMN] (not ADD CONSTRAINT),
/// ALTER TABLE … RENAME TO (SQLite's table rebuilds) and DROP TABLE/INDEX.
fn apply_shape(shape: &mut SchemaShape, sql: &str) {
    for statement in strip_comments(sql).split(';') {
        let words: Vec<&str> = statement.split_whitespace().collect();
        let upper: Vec<String> = words.iter().map(|w| w.to_uppercase()).collect();
        let upper: Vec<&str> = upper.iter().map(String::as_str).collect();
        match upper.as_slice() {
            ["CREATE", "TABLE", ..] => {
                let name_words = if upper.get(2..5) == Some(&["IF", "NOT", "EXISTS"]) {
                    5
                } else {
                    2
                };
                let name = ident(words[name_words].split('(').next().unwrap_or_default());
                let open = statement.find('(').expect("CREATE TABLE has a column list");
                let close = statement.rfind(')').expect("CREATE TABLE column list is closed");
                let columns = split_top_level(&statement[open + 1..close])
                    .into_iter()
                    .filter_map(|def| {
                        let first = def.split_whitespace().next()?;
                        let constraint = ["PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "CONSTRAINT", "EXCLUDE"];
                        (!constraint.contains(&first.to_uppercase().as_str())).then(|| ident(first))
                    })
                    .collect();
                shape.tables.insert(name, columns);
            }
            ["CREATE", "INDEX", ..] | ["CREATE", "UNIQUE", "INDEX", ..] => {
                let at = upper.iter().position(|w| *w == "INDEX").unwrap_or(1) + 1;
                let skip = if upper.get(at..at + 3) == Some(&["IF", "NOT", "EXISTS"]) {
                    3
                } else {
                    0
                };
                let on = upper.iter().position(|w| *w == "ON").expect("CREATE INDEX … ON table");
                let table = words[on + 1].split('(').next().unwrap_or_default();
                shape.indexes.insert(ident(words[at + skip]), ident(table));
            }
            ["ALTER", "TABLE", _, "ADD", "CONSTRAINT", ..] => {}
            ["ALTER", "TABLE", from, "RENAME", "TO", to] => {
                let (from, to) = (ident(from), ident(to));
                if let Some(columns) = shape.tables.remove(&from) {
                    shape.tables.insert(to.clone(), columns);
                }
                for table in shape.indexes.values_mut() {
                    if *table == from {
                        table.clone_from(&to);
                    }
                }
            }
            ["ALTER", "TABLE", table, "ADD", rest @ ..] => {
                let column = if rest.first() == Some(&"COLUMN") { 1 } else { 0 };
                let column = words[4 + column];
                shape.tables.entry(ident(table)).or_default().push(ident(column));
            }
            ["DROP", "TABLE", .., table] => {
                shape.tables.remove(&ident(table));
            }
            ["DROP", "INDEX", .., index] => {
                shape.indexes.remove(&ident(index));
            }
            _ => {}
        }
    }
}

#[test]
fn migrations_create_the_same_tables_columns_and_indexes_on_both_backends() {
    let (mut sqlite, mut postgres) = (SchemaShape::default(), SchemaShape::default());
    for file in migration_files("sqlite") {
        let read = |dialect: &str| std::fs::read_to_string(migrations_dir(dialect).join(&file)).unwrap();
        apply_shape(&mut sqlite, &read("sqlite"));
        apply_shape(&mut postgres, &read("postgres"));
        // Compared after every file, so a column added in different versions is caught too.
        assert_eq!(sqlite, postgres, "the dialects differ after {file}");
    }
    assert!(sqlite.tables.contains_key("accounts") && sqlite.tables["accounts"].contains(&"email".to_owned()));
}

#[test]
fn migrations_shape_reader_sees_columns_constraints_and_indexes() {
    let mut shape = SchemaShape::default();
    apply_shape(
        &mut shape,
        "-- a comment; with a semicolon\nCREATE TABLE t (\n  a TEXT PRIMARY KEY, -- note, here\n  b INTEGER CHECK (b IN (1, 2)),\n  \
         UNIQUE (a, b),\n  CHECK ((a IS NULL) <> (b IS NULL))\n);\nCREATE INDEX t_b ON t(b);\nALTER TABLE t ADD COLUMN c TEXT;",
    );
    assert_eq!(shape.tables["t"], ["a", "b", "c"]);
    assert_eq!(shape.indexes["t_b"], "t");
}

#[tokio::test]
async fn migrations_embedded_in_this_build_are_the_files_on_disk() {
    let db = TestDatabase::fresh().await;
    let store = db.connect().await;
    let newest_on_disk = migration_files("sqlite").iter().filter_map(|f| version_of(f)).max();
    assert_eq!(
        Some(store.known_schema_version()),
        newest_on_disk,
        "a migration file is not embedded in this build; rebuild the store crate"
    );
}

#[tokio::test]
async fn migrations_refuse_a_schema_newer_than_this_build() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    let known = store.known_schema_version();
    let future = known + 1;
    // What a later Gatehouse leaves behind: a successful migration this build does not know.
    let record = "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                  VALUES ($1, 'from a later gatehouse', TRUE, $2, 0)";
    let mut conn = store.conn().await.unwrap();
    match conn.db() {
        Db::Sqlite(c) => sqlx::query(record)
            .bind(future)
            .bind(vec![0u8; 48])
            .execute(c)
            .await
            .unwrap()
            .rows_affected(),
        Db::Postgres(c) => sqlx::query(record)
            .bind(future)
            .bind(vec![0u8; 48])
            .execute(c)
            .await
            .unwrap()
            .rows_affected(),
    };
    drop(conn);

    assert_eq!(
        store.schema_status().await.unwrap(),
        SchemaStatus::Ahead {
            database: future,
            known
        }
    );
    let err = store.migrate().await.unwrap_err();
    assert!(
        matches!(err, StoreError::SchemaTooNew { database, known: k } if database == future && k == known),
        "got {err:?}"
    );
    assert!(
        err.to_string().contains("upgrade Gatehouse"),
        "the message says what to do: {err}"
    );
    // Refusing changed nothing.
    assert_eq!(
        store.schema_status().await.unwrap(),
        SchemaStatus::Ahead {
            database: future,
            known
        }
    );
    store.ping().await.unwrap();
}

/// Applies this build's migrations up to `last` only, as a Gatehouse of that schema left it.
async fn migrate_until(store: &gatehouse_store::Store, last: i64) {
    let dialect = match store.backend() {
        gatehouse_store::Backend::Sqlite => "sqlite",
        gatehouse_store::Backend::Postgres => "postgres",
    };
    let dir = tempfile::tempdir().unwrap();
    for file in migration_files(dialect) {
        if version_of(&file).is_some_and(|v| v <= last) {
            std::fs::copy(migrations_dir(dialect).join(&file), dir.path().join(&file)).unwrap();
        }
    }
    let migrator = sqlx::migrate::Migrator::new(dir.path()).await.unwrap();
    let mut conn = store.conn().await.unwrap();
    match conn.db() {
        Db::Sqlite(c) => migrator.run_direct(c).await.unwrap(),
        Db::Postgres(c) => migrator.run_direct(c).await.unwrap(),
    }
}

/// Runs one statement on whichever backend, returning the rows affected.
async fn exec(store: &gatehouse_store::Store, sql: &str) -> u64 {
    let mut conn = store.conn().await.unwrap();
    match conn.db() {
        Db::Sqlite(c) => sqlx::query(sql).execute(c).await.unwrap().rows_affected(),
        Db::Postgres(c) => sqlx::query(sql).execute(c).await.unwrap().rows_affected(),
    }
}

async fn texts(store: &gatehouse_store::Store, sql: &str) -> Vec<Vec<String>> {
    use sqlx::Row;
    let mut conn = store.conn().await.unwrap();
    let rows: Vec<Vec<String>> = match conn.db() {
        Db::Sqlite(c) => sqlx::query(sql)
            .fetch_all(c)
            .await
            .unwrap()
            .iter()
            .map(|r| (0..r.len()).map(|i| r.get::<String, _>(i)).collect())
            .collect(),
        Db::Postgres(c) => sqlx::query(sql)
            .fetch_all(c)
            .await
            .unwrap()
            .iter()
            .map(|r| (0..r.len()).map(|i| r.get::<String, _>(i)).collect())
            .collect(),
    };
    rows
}

#[tokio::test]
async fn migration_15_gives_every_integration_a_project_with_a_production_workspace() {
    let db = TestDatabase::fresh().await;
    let store = db.connect().await;
    migrate_until(&store, 14).await;
    // Rows as a Gatehouse before projects wrote them: a personal OAuth integration, and an
    // organization's service account with a secret and a subscription.
    for sql in [
        "INSERT INTO accounts (id, email, account_type, created_at, updated_at) \
         VALUES ('acc-1', 'ada@example.com', 'personal', 100, 100)",
        "INSERT INTO organizations (id, name, created_at, updated_at) \
         VALUES ('0123456789abcdef01234567@GatehouseOrg', 'Acme', 100, 100)",
        "INSERT INTO services (code, name, allowed_types, acts_for, created_at, updated_at) \
         VALUES ('pdf', 'PDF', '[\"oauth\",\"service_account\"]', 'organization', 100, 100)",
        "INSERT INTO integrations (id, client_id, name, integration_type, platform, owner_account_id, created_by, \
         redirect_uri, status, created_at, updated_at) VALUES ('11111111-1111-4111-8111-111111111111', \
         'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'Photo editor', 'oauth', 'web', 'acc-1', 'acc-1', \
         'https://app.example.com/cb', 'active', 200, 300)",
        "INSERT INTO integrations (id, client_id, name, description, integration_type, org_id, technical_account_id, \
         technical_account_email, status, created_at, updated_at) VALUES ('22222222-2222-4222-8222-222222222222', \
         'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 'Nightly export', 'Exports at night', 'service_account', \
         '0123456789abcdef01234567@GatehouseOrg', 'abc@techacct.gatehouse', 'def@techacct.gatehouse', 'active', \
         250, 250)",
        "INSERT INTO client_secrets (id, integration_id, digest, hint, created_at) \
         VALUES ('s-1', '22222222-2222-4222-8222-222222222222', 'digest', 'ab12', 250)",
        "INSERT INTO subscriptions (integration_id, service_code, scopes, created_at, updated_at) \
         VALUES ('22222222-2222-4222-8222-222222222222', 'pdf', '[]', 250, 250)",
    ] {
        assert_eq!(exec(&store, sql).await, 1, "{sql}");
    }

    store.migrate().await.unwrap();
    assert_eq!(store.schema_status().await.unwrap(), SchemaStatus::Current);

    // Each integration is a project of its own, with the same ID, owner, title and description.
    let projects = texts(
        &store,
        "SELECT id, name, title, description, COALESCE(owner_account_id, ''), COALESCE(org_id, '') \
         FROM projects ORDER BY id",
    )
    .await;
    assert_eq!(
        projects,
        [
            [
                "11111111-1111-4111-8111-111111111111",
                "p11111111111141118111111111111111",
                "Photo editor",
                "",
                "acc-1",
                ""
            ],
            [
                "22222222-2222-4222-8222-222222222222",
                "p22222222222242228222222222222222",
                "Nightly export",
                "Exports at night",
                "",
                "0123456789abcdef01234567@GatehouseOrg"
            ],
        ]
    );
    // … holding it in one Production workspace.
    let placed = texts(
        &store,
        "SELECT i.id, w.project_id, w.name, w.title FROM integrations i JOIN workspaces w ON w.id = i.workspace_id \
         ORDER BY i.id",
    )
    .await;
    assert_eq!(placed.len(), 2);
    for row in &placed {
        assert_eq!(
            (&row[1], row[2].as_str(), row[3].as_str()),
            (&row[0], "Production", "Production")
        );
    }
    let workspace_ids = texts(&store, "SELECT id FROM workspaces").await;
    assert!(
        workspace_ids.iter().all(|w| uuid::Uuid::parse_str(&w[0]).is_ok()),
        "workspace IDs are UUIDs: {workspace_ids:?}"
    );
    // Nothing of the integrations was lost, and their credentials still hang on them.
    let kept = texts(
        &store,
        "SELECT client_id, name, integration_type, status, COALESCE(technical_account_id, '') FROM integrations \
         ORDER BY id",
    )
    .await;
    assert_eq!(
        kept,
        [
            [
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                "Photo editor",
                "oauth",
                "active",
                ""
            ],
            [
                "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                "Nightly export",
                "service_account",
                "active",
                "abc@techacct.gatehouse"
            ],
        ]
    );
    // The foreign keys still hold after the rebuild: deleting the integration takes its secret and
    // subscription with it, and its workspace cannot go while it is there.
    let mut conn = store.conn().await.unwrap();
    let refused = match conn.db() {
        Db::Sqlite(c) => sqlx::query("DELETE FROM workspaces").execute(c).await.is_err(),
        Db::Postgres(c) => sqlx::query("DELETE FROM workspaces").execute(c).await.is_err(),
    };
    drop(conn);
    assert!(refused, "a workspace holding integrations is not deleted");
    exec(
        &store,
        "DELETE FROM integrations WHERE id = '22222222-2222-4222-8222-222222222222'",
    )
    .await;
    assert!(texts(&store, "SELECT id FROM client_secrets").await.is_empty());
    assert!(texts(&store, "SELECT service_code FROM subscriptions").await.is_empty());
    // The new credential kind is accepted.
    exec(
        &store,
        "UPDATE integrations SET integration_type = 'server_to_server', platform = NULL \
         WHERE id = '11111111-1111-4111-8111-111111111111'",
    )
    .await;
}

#[tokio::test]
async fn migration_16_lets_server_to_server_subscribe_wherever_service_accounts_do() {
    use gatehouse_domain::integration::IntegrationType::{ApiKey, Oauth, ServerToServer, ServiceAccount};
    use gatehouse_store::ServiceStore;

    let db = TestDatabase::fresh().await;
    let store = db.connect().await;
    migrate_until(&store, 15).await;
    let rows = [
        ("jwt_only", r#"["service_account"]"#),
        ("everyone", r#"["oauth","service_account","api_key"]"#),
        ("people", r#"["oauth"]"#),
        ("both", r#"["service_account","server_to_server"]"#),
    ];
    {
        let mut conn = store.conn().await.unwrap();
        let insert = "INSERT INTO services (code, name, allowed_types, acts_for, created_at, updated_at) \
                      VALUES ($1, $1, $2, 'organization', 1, 1)";
        for (code, types) in rows {
            match conn.db() {
                Db::Sqlite(c) => sqlx::query(insert)
                    .bind(code)
                    .bind(types)
                    .execute(c)
                    .await
                    .unwrap()
                    .rows_affected(),
                Db::Postgres(c) => sqlx::query(insert)
                    .bind(code)
                    .bind(types)
                    .execute(c)
                    .await
                    .unwrap()
                    .rows_affected(),
            };
        }
    }
    store.migrate().await.unwrap();
    let mut conn = store.conn().await.unwrap();
    let allowed: BTreeMap<String, Vec<_>> = conn
        .list_services()
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.code.as_str().to_owned(), s.allowed_types))
        .collect();
    assert_eq!(allowed["jwt_only"], [ServiceAccount, ServerToServer]);
    assert_eq!(allowed["everyone"], [Oauth, ServiceAccount, ApiKey, ServerToServer]);
    assert_eq!(
        allowed["people"],
        [Oauth],
        "services without service accounts are left alone"
    );
    assert_eq!(allowed["both"], [ServiceAccount, ServerToServer], "listed once");
}
