//! Configuration loading: precedence (defaults < file < environment < flags), unknown keys named
//! with their source, `_FILE` secrets, comma-separated lists, and specific errors for bad values.
//! The environment is passed explicitly; the process environment is never touched.

// Test code: a failed expectation should stop the test with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
};

use gatehouse_app::{
    cli::{GlobalArgs, LogFormat},
    config::{self, Config, DEFAULT_TOML, Overrides},
};

fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// A temporary directory holding files the test writes.
struct Files(tempfile::TempDir);

impl Files {
    fn new() -> Self {
        Self(tempfile::tempdir().unwrap())
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

fn with_file(path: &Path) -> GlobalArgs {
    GlobalArgs {
        config: Some(path.to_path_buf()),
        ..GlobalArgs::default()
    }
}

fn load(global: &GlobalArgs, overrides: &Overrides, vars: &[(&str, &str)]) -> anyhow::Result<Arc<Config>> {
    config::load_from(global, overrides, env(vars))
}

fn load_err(global: &GlobalArgs, overrides: &Overrides, vars: &[(&str, &str)]) -> String {
    format!("{:#}", load(global, overrides, vars).unwrap_err())
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn defaults_need_no_configuration() {
    let c = load(&GlobalArgs::default(), &Overrides::default(), &[]).unwrap();
    assert_eq!(c.listen, addr("127.0.0.1:8080"));
    assert_eq!(c.public_url, "http://localhost:8080");
    assert_eq!(c.data_dir, PathBuf::from("./gatehouse-data"));
    assert_eq!(c.database_url, "sqlite://./gatehouse-data/gatehouse.db");
    assert_eq!(c.log_format, LogFormat::Text);
    assert_eq!(c.org_id_suffix(), "GatehouseOrg");
    assert_eq!(c.technical_account_domain(), "gatehouse");
    assert!(c.master_key.is_none() && c.master_key_file.is_none());
    assert_eq!(c.master_key_path(), PathBuf::from("./gatehouse-data/master.key"));
}

#[test]
fn file_then_environment_then_flags() {
    let files = Files::new();
    let file = files.write(
        "gatehouse.toml",
        "listen = \"127.0.0.1:9001\"\ndata_dir = \"/srv/file\"\nlog_format = \"json\"\n[tokens]\naccess_token_lifetime = 600\n",
    );
    let env_vars = [
        ("GATEHOUSE_LISTEN", "127.0.0.1:9002"),
        ("GATEHOUSE_DATA_DIR", "/srv/env"),
        ("GATEHOUSE_TOKENS__ACCESS_TOKEN_LIFETIME", "900"),
    ];
    let flags = Overrides {
        listen: Some("127.0.0.1:9003".into()),
        public_url: None,
    };
    let mut global = with_file(&file);

    let c = load(&global, &Overrides::default(), &[]).unwrap();
    assert_eq!(c.listen, addr("127.0.0.1:9001"), "the file overrides the defaults");
    assert_eq!(c.data_dir, PathBuf::from("/srv/file"));
    assert_eq!(c.log_format, LogFormat::Json);
    assert_eq!(c.tokens.access_token_lifetime, 600);
    assert_eq!(
        c.tokens.refresh_token_lifetime, 1_209_600,
        "keys the file leaves out keep their default"
    );
    assert_eq!(
        c.database_url, "sqlite:///srv/file/gatehouse.db",
        "derived from the final data_dir"
    );

    let c = load(&global, &Overrides::default(), &env_vars).unwrap();
    assert_eq!(c.listen, addr("127.0.0.1:9002"), "the environment overrides the file");
    assert_eq!(c.data_dir, PathBuf::from("/srv/env"));
    assert_eq!(c.tokens.access_token_lifetime, 900);
    assert_eq!(c.public_url, "http://localhost:9002", "on loopback, named localhost");

    global.data_dir = Some("/srv/flag".into());
    global.log_format = Some(LogFormat::Text);
    let c = load(&global, &flags, &env_vars).unwrap();
    assert_eq!(c.listen, addr("127.0.0.1:9003"), "flags override the environment");
    assert_eq!(c.data_dir, PathBuf::from("/srv/flag"));
    assert_eq!(c.log_format, LogFormat::Text);
    assert_eq!(
        c.public_url, "http://localhost:9003",
        "public_url follows the final listen address"
    );
}

#[test]
fn public_url_and_database_url_can_be_set_at_every_level() {
    let c = load(
        &GlobalArgs {
            database_url: Some("postgres://gh@db.internal/gh".into()),
            ..GlobalArgs::default()
        },
        &Overrides {
            listen: None,
            public_url: Some("https://id.example.com/".into()),
        },
        &[("GATEHOUSE_PUBLIC_URL", "https://ignored.example.com")],
    )
    .unwrap();
    assert_eq!(
        c.public_url, "https://id.example.com",
        "trailing slash removed, flag wins"
    );
    assert!(c.uses_postgres());
    let c = load(
        &GlobalArgs::default(),
        &Overrides::default(),
        &[("GATEHOUSE_PUBLIC_URL", "https://id.example.com/base")],
    )
    .unwrap();
    assert_eq!(c.public_url, "https://id.example.com/base");
}

#[test]
fn unknown_keys_in_a_file_are_named_with_the_file() {
    let files = Files::new();
    let top = files.write("top.toml", "listen = \"127.0.0.1:9001\"\nlisten_port = 80\n");
    let e = load_err(&with_file(&top), &Overrides::default(), &[]);
    assert!(e.contains("unknown configuration key listen_port"), "{e}");
    assert!(e.contains(top.to_str().unwrap()), "{e}");

    let nested = files.write("nested.toml", "[events]\nallowed_network = [\"10.0.0.0/8\"]\n");
    let e = load_err(&with_file(&nested), &Overrides::default(), &[]);
    assert!(e.contains("events.allowed_network"), "{e}");
    assert!(e.contains("allowed_networks"), "the known keys are listed: {e}");

    let section = files.write("section.toml", "[tokenz]\naccess_token_lifetime = 5\n");
    let e = load_err(&with_file(&section), &Overrides::default(), &[]);
    assert!(e.contains("unknown configuration key tokenz"), "{e}");
}

#[test]
fn unknown_keys_in_the_environment_are_named_as_variables() {
    let e = load_err(
        &GlobalArgs::default(),
        &Overrides::default(),
        &[("GATEHOUSE_LISTN", "x")],
    );
    assert!(e.contains("GATEHOUSE_LISTN"), "{e}");
    let e = load_err(
        &GlobalArgs::default(),
        &Overrides::default(),
        &[("GATEHOUSE_EVENTS__ALLOWED", "10.0.0.0/8")],
    );
    assert!(e.contains("GATEHOUSE_EVENTS__ALLOWED"), "{e}");
    assert!(e.contains("allowed_networks"), "{e}");
}

#[test]
fn unrelated_and_command_line_variables_are_not_keys() {
    let c = load(
        &GlobalArgs::default(),
        &Overrides::default(),
        &[
            ("GATEHOUSE_CONFIG", "/etc/gatehouse.toml"),
            ("PATH", "/usr/bin"),
            ("gatehouse_listen", "nonsense"),
        ],
    )
    .unwrap();
    assert_eq!(c.listen, addr("127.0.0.1:8080"));
}

#[test]
fn secrets_are_read_from_files() {
    let files = Files::new();
    let url_file = files.write("db_url", "postgres://gh:s3cret-pw@db.internal:5432/gh\n");
    let pw_file = files.write("smtp_pw", "mail-password\n");
    let key_file = files.write("master.key", &format!("{}\n", "ab".repeat(32)));
    let c = load(
        &GlobalArgs::default(),
        &Overrides::default(),
        &[
            ("GATEHOUSE_DATABASE_URL_FILE", url_file.to_str().unwrap()),
            ("GATEHOUSE_SMTP__HOST", "smtp.example.com"),
            ("GATEHOUSE_SMTP__FROM", "Gatehouse <no-reply@example.com>"),
            ("GATEHOUSE_SMTP__USERNAME", "gatehouse"),
            ("GATEHOUSE_SMTP__PASSWORD_FILE", pw_file.to_str().unwrap()),
            ("GATEHOUSE_MASTER_KEY_FILE", key_file.to_str().unwrap()),
        ],
    )
    .unwrap();
    assert_eq!(
        c.database_url, "postgres://gh:s3cret-pw@db.internal:5432/gh",
        "trailing newline dropped"
    );
    let smtp = c.smtp.as_ref().unwrap();
    assert_eq!(smtp.password.as_ref().unwrap().expose(), "mail-password");
    assert_eq!(smtp.port, 587);
    assert_eq!(c.master_key_file.as_deref(), Some(key_file.as_path()));
    assert_eq!(c.master_key_path(), key_file);
    let shown = format!("{c:?}");
    assert!(
        !shown.contains("s3cret-pw") && !shown.contains("mail-password"),
        "{shown}"
    );
    assert!(c.database_url_redacted().contains("***"));
}

#[test]
fn a_secret_set_twice_or_unreadable_is_an_error() {
    let files = Files::new();
    let url_file = files.write("db_url", "postgres://db/gh");
    let e = load_err(
        &GlobalArgs::default(),
        &Overrides::default(),
        &[
            ("GATEHOUSE_DATABASE_URL", "postgres://other/gh"),
            ("GATEHOUSE_DATABASE_URL_FILE", url_file.to_str().unwrap()),
        ],
    );
    assert!(e.contains("GATEHOUSE_DATABASE_URL") && e.contains("not both"), "{e}");
    let e = load_err(
        &GlobalArgs::default(),
        &Overrides::default(),
        &[("GATEHOUSE_DATABASE_URL_FILE", "/nonexistent/gatehouse/db_url")],
    );
    assert!(
        e.contains("GATEHOUSE_DATABASE_URL_FILE") && e.contains("/nonexistent/gatehouse/db_url"),
        "{e}"
    );
    let e = load_err(
        &GlobalArgs::default(),
        &Overrides::default(),
        &[("GATEHOUSE_LISTEN_FILE", url_file.to_str().unwrap())],
    );
    assert!(
        e.contains("GATEHOUSE_LISTEN_FILE"),
        "only secrets have _FILE variants: {e}"
    );
}

#[test]
fn lists_are_comma_separated_in_the_environment_and_arrays_in_files() {
    let c = load(
        &GlobalArgs::default(),
        &Overrides::default(),
        &[("GATEHOUSE_EVENTS__ALLOWED_NETWORKS", "127.0.0.0/8, ::1/128,10.1.2.3/16")],
    )
    .unwrap();
    let nets: Vec<String> = c.events.allowed_networks.iter().map(ToString::to_string).collect();
    assert_eq!(nets, ["127.0.0.0/8", "::1/128", "10.1.0.0/16"]);

    let files = Files::new();
    let f = files.write("nets.toml", "[events]\nallowed_networks = [\"192.168.0.0/16\"]\n");
    let c = load(&with_file(&f), &Overrides::default(), &[]).unwrap();
    assert_eq!(c.events.allowed_networks.len(), 1);

    let e = load_err(
        &GlobalArgs::default(),
        &Overrides::default(),
        &[("GATEHOUSE_EVENTS__ALLOWED_NETWORKS", "127.0.0.0/8,10.0.0.0/33")],
    );
    assert!(e.contains("\"10.0.0.0/33\" is not a network"), "{e}");
    assert!(e.contains("GATEHOUSE_EVENTS__ALLOWED_NETWORKS"), "{e}");
}

#[test]
fn a_bad_listen_address_is_explained() {
    let e = load_err(
        &GlobalArgs::default(),
        &Overrides {
            listen: Some("localhost:80x".into()),
            public_url: None,
        },
        &[],
    );
    assert!(e.contains("\"localhost:80x\" is not a listen address"), "{e}");
    assert!(e.contains("--listen"), "the flag is named: {e}");
    let e = load_err(
        &GlobalArgs::default(),
        &Overrides::default(),
        &[("GATEHOUSE_LISTEN", "8080")],
    );
    assert!(e.contains("GATEHOUSE_LISTEN") && e.contains("IP:PORT"), "{e}");
}

#[test]
fn a_bad_public_url_is_explained() {
    for (url, why) in [
        ("ftp://id.example.com", "must start with http:// or https://"),
        ("id.example.com", "is not a URL"),
        ("https://id.example.com/?x=1", "must not have a query"),
        ("https://user:pw@id.example.com", "must not contain a user name"),
    ] {
        let e = load_err(
            &GlobalArgs::default(),
            &Overrides::default(),
            &[("GATEHOUSE_PUBLIC_URL", url)],
        );
        assert!(e.contains("invalid public_url") && e.contains(why), "{url}: {e}");
        assert!(e.contains("GATEHOUSE_PUBLIC_URL"), "the source is named: {e}");
    }
}

#[test]
fn other_bad_values_get_specific_errors() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("GATEHOUSE_DATABASE_URL", "mysql://db/gh")],
            "must start with sqlite:// or postgres://",
        ),
        (
            &[("GATEHOUSE_DATABASE_MAX_CONNECTIONS", "lots")],
            "GATEHOUSE_DATABASE_MAX_CONNECTIONS",
        ),
        (
            &[("GATEHOUSE_DATABASE_MAX_CONNECTIONS", "0")],
            "database_max_connections",
        ),
        (&[("GATEHOUSE_LOG_FORMAT", "xml")], "GATEHOUSE_LOG_FORMAT"),
        (&[("GATEHOUSE_LOG_LEVEL", "info,=[")], "log_level"),
        (&[("GATEHOUSE_SIGNUP__ENABLED", "maybe")], "GATEHOUSE_SIGNUP__ENABLED"),
        (&[("GATEHOUSE_MASTER_KEY", "too-short")], "invalid master_key"),
        (&[("GATEHOUSE_ORG_ID_SUFFIX", "Acme Org")], "org_id_suffix"),
        (
            &[("GATEHOUSE_TECHNICAL_ACCOUNT_DOMAIN", "bad domain")],
            "technical_account_domain",
        ),
        (
            &[("GATEHOUSE_TOKENS__AUTHORIZATION_CODE_LIFETIME", "3600")],
            "at most 600",
        ),
        (
            &[("GATEHOUSE_TOKENS__ACCESS_TOKEN_LIFETIME", "0")],
            "tokens.access_token_lifetime",
        ),
        (&[("GATEHOUSE_SMTP__HOST", "smtp.example.com")], "from"),
    ];
    for (vars, expected) in cases {
        let e = load_err(&GlobalArgs::default(), &Overrides::default(), vars);
        assert!(e.contains(expected), "{vars:?}: expected {expected:?} in: {e}");
    }
    let files = Files::new();
    let key_file = files.write("k", "x");
    let e = load_err(
        &GlobalArgs::default(),
        &Overrides::default(),
        &[
            ("GATEHOUSE_MASTER_KEY", &"ab".repeat(32)),
            ("GATEHOUSE_MASTER_KEY_FILE", key_file.to_str().unwrap()),
        ],
    );
    assert!(e.contains("not both"), "{e}");
}

#[test]
fn a_missing_or_malformed_file_is_named() {
    let missing = PathBuf::from("/nonexistent/gatehouse.toml");
    let e = load_err(&with_file(&missing), &Overrides::default(), &[]);
    assert!(
        e.contains("/nonexistent/gatehouse.toml") && e.contains("does not exist"),
        "{e}"
    );
    let files = Files::new();
    let bad = files.write("bad.toml", "listen = \"127.0.0.1:1\"\n[tokens\n");
    let e = load_err(&with_file(&bad), &Overrides::default(), &[]);
    assert!(e.contains(bad.to_str().unwrap()) && e.contains("line 2"), "{e}");
}

#[test]
fn the_default_file_documents_every_key() {
    let keys = [
        "listen",
        "public_url",
        "data_dir",
        "database_url",
        "database_max_connections",
        "log_format",
        "log_level",
        "master_key",
        "master_key_file",
        "org_id_suffix",
        "technical_account_domain",
        "[signup]",
        "enabled",
        "[tokens]",
        "access_token_lifetime",
        "refresh_token_lifetime",
        "authorization_code_lifetime",
        "[events]",
        "allowed_networks",
        "[smtp]",
        "host",
        "port",
        "tls",
        "username",
        "password",
        "from",
    ];
    let lines: Vec<&str> = DEFAULT_TOML.lines().collect();
    for key in keys {
        let at = lines
            .iter()
            .position(|l| {
                let l = l.trim_start_matches('#').trim();
                l.starts_with(&format!("{key} =")) || l == key
            })
            .unwrap_or_else(|| panic!("config.default.toml does not mention {key}"));
        assert!(
            key.starts_with('[') || (at > 0 && lines[at - 1].trim_start().starts_with('#')),
            "{key} has no comment above it in config.default.toml"
        );
    }
}

#[test]
fn session_timeouts_are_durations_in_seconds_or_with_units() {
    let c = load(&GlobalArgs::default(), &Overrides::default(), &[]).unwrap();
    assert_eq!(
        (c.sessions.idle_timeout, c.sessions.absolute_timeout),
        (43_200, 604_800)
    );
    let files = Files::new();
    let file = files.write(
        "gatehouse.toml",
        "[sessions]\nidle_timeout = 900\nabsolute_timeout = \"1d12h\"\n",
    );
    let c = load(&with_file(&file), &Overrides::default(), &[]).unwrap();
    assert_eq!((c.sessions.idle_timeout, c.sessions.absolute_timeout), (900, 129_600));
    let c = load(
        &with_file(&file),
        &Overrides::default(),
        &[
            ("GATEHOUSE_SESSIONS__IDLE_TIMEOUT", "30m"),
            ("GATEHOUSE_SESSIONS__ABSOLUTE_TIMEOUT", "7200"),
        ],
    )
    .unwrap();
    assert_eq!((c.sessions.idle_timeout, c.sessions.absolute_timeout), (1800, 7200));
}

#[test]
fn bad_session_timeouts_name_their_key() {
    let none = GlobalArgs::default();
    let o = Overrides::default();
    let e = load_err(&none, &o, &[("GATEHOUSE_SESSIONS__IDLE_TIMEOUT", "0")]);
    assert!(
        e.contains("sessions.idle_timeout") && e.contains("longer than 0"),
        "{e}"
    );
    let e = load_err(&none, &o, &[("GATEHOUSE_SESSIONS__ABSOLUTE_TIMEOUT", "0s")]);
    assert!(
        e.contains("sessions.absolute_timeout") && e.contains("longer than 0"),
        "{e}"
    );
    let e = load_err(
        &none,
        &o,
        &[
            ("GATEHOUSE_SESSIONS__IDLE_TIMEOUT", "2d"),
            ("GATEHOUSE_SESSIONS__ABSOLUTE_TIMEOUT", "1d"),
        ],
    );
    assert!(
        e.contains("sessions.idle_timeout")
            && e.contains("sessions.absolute_timeout")
            && e.contains("172800 s > 86400 s"),
        "{e}"
    );
    let e = load_err(&none, &o, &[("GATEHOUSE_SESSIONS__IDLE_TIMEOUT", "ten minutes")]);
    assert!(
        e.contains("GATEHOUSE_SESSIONS__IDLE_TIMEOUT") && e.contains("is not a duration"),
        "{e}"
    );
    let e = load_err(&none, &o, &[("GATEHOUSE_SESSIONS__ABSOLUTE_TIMEOUT", "400d")]);
    assert!(e.contains("sessions.absolute_timeout") && e.contains("366 days"), "{e}");
    let files = Files::new();
    let file = files.write("g.toml", "[sessions]\nidle_timeout = \"12h\"\nlifetime = 5\n");
    let e = load_err(&with_file(&file), &o, &[]);
    assert!(e.contains("lifetime"), "{e}");
}
