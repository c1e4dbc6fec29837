//! Gatehouse's integration tests: one binary, run once per storage backend
//! (`GATEHOUSE_TEST_BACKEND=sqlite|postgres`, see scripts/test).

mod harness;

mod architecture;
mod cluster;
mod cluster_chaos;
mod config;
mod console;
mod deploy;
mod events;
mod gateway;
pub(crate) mod identity;
mod migrations;
mod operator;
mod ops;
mod provision;
mod quickstart;
mod security;
mod store;
pub(crate) mod token;
