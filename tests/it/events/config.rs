//! The `[events]` configuration: defaults, environment variables (comma-separated lists), the
//! rules values must satisfy, and the dispatcher settings derived from them.

use gatehouse_app::{
    cli::GlobalArgs,
    config::{self, Overrides},
    events::dispatch_settings,
};

fn load(vars: &[(&str, &str)]) -> anyhow::Result<std::sync::Arc<config::Config>> {
    let env = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
    config::load_from(&GlobalArgs::default(), &Overrides::default(), env)
}

#[test]
fn defaults_deliver_for_a_day_and_a_half_and_allow_no_private_network() {
    // A deployment's public URL names it beyond this machine: no private network is allowed.
    let deployed = load(&[("GATEHOUSE_PUBLIC_URL", "https://id.example.com")]).unwrap();
    assert!(deployed.events.allowed_networks.is_empty());
    // A local install (loopback, with a loopback public URL) may reach receivers on this machine only.
    let c = load(&[]).unwrap();
    let e = &c.events;
    let local: Vec<String> = e.allowed_networks.iter().map(ToString::to_string).collect();
    assert_eq!(local, ["127.0.0.0/8", "::1/128"]);
    assert_eq!(e.delivery_timeout, 10);
    assert_eq!(e.retry_schedule, [0, 5, 60, 300, 1800, 7200, 18000, 36000, 50400]);
    assert_eq!(e.journal_retention_days, 7);
    assert!(e.dispatcher && e.adobe_signatures);
    let s = dispatch_settings(&c);
    assert_eq!(s.timeout.as_secs(), 10);
    assert_eq!(s.retry.max_attempts(), 9);
    assert_eq!(s.journal_retention, 7 * 86_400);
    assert_eq!(s.per_endpoint, 32);
}

#[test]
fn the_environment_sets_every_events_key() {
    let c = load(&[
        ("GATEHOUSE_EVENTS__ALLOWED_NETWORKS", "127.0.0.0/8,::1/128"),
        ("GATEHOUSE_EVENTS__DELIVERY_TIMEOUT", "3"),
        ("GATEHOUSE_EVENTS__RETRY_SCHEDULE", "0, 1,2"),
        ("GATEHOUSE_EVENTS__JOURNAL_RETENTION_DAYS", "30"),
        ("GATEHOUSE_EVENTS__DISPATCHER", "false"),
        ("GATEHOUSE_EVENTS__PER_ENDPOINT_CONCURRENCY", "4"),
        ("GATEHOUSE_EVENTS__ADOBE_SIGNATURES", "false"),
    ])
    .unwrap();
    let e = &c.events;
    assert_eq!(e.allowed_networks.len(), 2);
    assert_eq!(e.retry_schedule, [0, 1, 2]);
    let s = dispatch_settings(&c);
    assert_eq!((s.timeout.as_secs(), s.per_endpoint, s.adobe_signatures), (3, 4, false));
    assert_eq!(s.journal_retention, 30 * 86_400);
    assert!(!e.dispatcher);
}

#[test]
fn bad_values_name_their_key() {
    for (var, value, key) in [
        ("GATEHOUSE_EVENTS__DELIVERY_TIMEOUT", "0", "events.delivery_timeout"),
        ("GATEHOUSE_EVENTS__DELIVERY_TIMEOUT", "61", "events.delivery_timeout"),
        ("GATEHOUSE_EVENTS__RETRY_SCHEDULE", "", "events.retry_schedule"),
        (
            "GATEHOUSE_EVENTS__RETRY_SCHEDULE",
            "0,5,soon",
            "GATEHOUSE_EVENTS__RETRY_SCHEDULE",
        ),
        ("GATEHOUSE_EVENTS__RETRY_SCHEDULE", "0,999999", "events.retry_schedule"),
        (
            "GATEHOUSE_EVENTS__JOURNAL_RETENTION_DAYS",
            "0",
            "events.journal_retention_days",
        ),
        (
            "GATEHOUSE_EVENTS__PER_ENDPOINT_CONCURRENCY",
            "0",
            "events.per_endpoint_concurrency",
        ),
    ] {
        let e = format!("{:#}", load(&[(var, value)]).unwrap_err());
        assert!(e.contains(key), "{var}={value}: {e}");
    }
}
