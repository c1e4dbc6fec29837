//! A fresh, empty database per test on the backend chosen by `GATEHOUSE_TEST_BACKEND`
//! (`sqlite`, the default, or `postgres`), so every test runs unchanged on both backends.
//!
//! SQLite databases are files in a temporary directory; PostgreSQL databases are created with a
//! unique `gh_t_` name through the admin URL (`GATEHOUSE_TEST_POSTGRES_URL`) and dropped again
//! when the [`TestDatabase`] is dropped.

// Harness code fails the test loudly when its set-up cannot be done; that is what tests want.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sqlx::{Connection, PgConnection};

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Prefix of every database the tests create on PostgreSQL; leftovers can be dropped by prefix.
pub const POSTGRES_PREFIX: &str = "gh_t_";

/// Which backend the tests run on: `"sqlite"` or `"postgres"`.
pub fn backend_name() -> &'static str {
    match std::env::var("GATEHOUSE_TEST_BACKEND").as_deref() {
        Ok("postgres") | Ok("postgresql") | Ok("pg") => "postgres",
        Ok("sqlite") | Ok("") | Err(_) => "sqlite",
        Ok(other) => panic!("GATEHOUSE_TEST_BACKEND must be sqlite or postgres, not {other:?}"),
    }
}

fn postgres_admin_url() -> String {
    std::env::var("GATEHOUSE_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// An empty database that exists for as long as this value does.
pub struct TestDatabase {
    /// The URL Gatehouse connects to (`sqlite://…` or `postgres://…`).
    pub url: String,
    /// Keeps the SQLite file's directory alive; removed on drop.
    _dir: Option<tempfile::TempDir>,
    /// The PostgreSQL database to drop on drop: (admin URL, database name).
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// Creates an empty database (no schema yet) on the configured backend.
    pub async fn fresh() -> TestDatabase {
        match backend_name() {
            "postgres" => Self::fresh_postgres().await,
            _ => Self::fresh_sqlite(),
        }
    }

    fn fresh_sqlite() -> TestDatabase {
        let dir = tempfile::Builder::new()
            .prefix("gatehouse-test-")
            .tempdir()
            .expect("create a temporary directory for the SQLite database");
        let url = format!("sqlite://{}", dir.path().join("gatehouse.db").display());
        TestDatabase {
            url,
            _dir: Some(dir),
            postgres: None,
        }
    }

    async fn fresh_postgres() -> TestDatabase {
        let admin = postgres_admin_url();
        let name = format!("{POSTGRES_PREFIX}{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("connect to PostgreSQL at {admin} (set GATEHOUSE_TEST_POSTGRES_URL): {e}"));
        // Concurrent CREATE DATABASE can briefly collide on the template database; retry a few times.
        let mut attempt = 0;
        loop {
            match sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                .execute(&mut conn)
                .await
            {
                Ok(_) => break,
                Err(e) if attempt < 5 => {
                    attempt += 1;
                    eprintln!("CREATE DATABASE {name} failed ({e}); retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await;
                }
                Err(e) => panic!("CREATE DATABASE {name}: {e}"),
            }
        }
        let _ = conn.close().await;
        let mut url = reqwest::Url::parse(&admin).expect("GATEHOUSE_TEST_POSTGRES_URL is a URL");
        url.set_path(&format!("/{name}"));
        TestDatabase {
            url: url.to_string(),
            _dir: None,
            postgres: Some((admin, name)),
        }
    }

    /// A store connected to this database, with every migration applied.
    pub async fn store(&self) -> gatehouse_store::Store {
        let store = self.connect().await;
        store.migrate().await.expect("migrate the test database");
        store
    }

    /// A store connected to this database, without migrating it.
    pub async fn connect(&self) -> gatehouse_store::Store {
        gatehouse_store::Store::connect(&self.url, 5)
            .await
            .unwrap_or_else(|e| panic!("connect to the test database {}: {e}", self.url))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else {
            return;
        };
        // Drop may run inside the test's runtime, where blocking on async work is not allowed;
        // a thread with its own small runtime does the work, and we wait for it so the database
        // is gone before the test process exits. FORCE ends connections the test left open.
        let dropper = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            rt.block_on(async move {
                let Ok(mut conn) = PgConnection::connect(&admin).await else {
                    eprintln!("could not connect to drop test database {name}");
                    return;
                };
                if let Err(e) = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                {
                    eprintln!("could not drop test database {name}: {e}");
                }
                let _ = conn.close().await;
            });
        });
        let _ = dropper.join();
    }
}
