//! The deployment files in `deploy/` that operators copy: the Kubernetes manifest validates against
//! the Kubernetes schemas (strictly: no unknown field), the compose file has three identical nodes
//! with shared secrets behind HAProxy, and HAProxy accepts its configuration.

// Test code: a failed expectation should stop the test with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use crate::harness::{
    browser::{python, repo},
    require_tool,
};

pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

#[test]
fn deploy_the_kubernetes_manifest_validates_strictly() {
    let Some(py) = require_tool(python(&["kubernetes_validate"])) else {
        return;
    };
    let text = run(Command::new(py)
        .args(["-m", "kubernetes_validate", "--strict"])
        .arg(repo().join("deploy/kubernetes/gatehouse.yaml")));
    for kind in ["secret/gatehouse", "deployment/gatehouse", "service/gatehouse"] {
        assert!(text.contains(&format!("passed for resource {kind}")), "{text}");
    }
}

#[test]
fn deploy_the_compose_file_runs_three_identical_nodes_behind_haproxy() {
    let Some(py) = require_tool(python(&["yaml"])) else {
        return;
    };
    run(Command::new(py)
        .arg(repo().join("interop/deploy/check_compose.py"))
        .arg(repo().join("deploy/docker-compose.yml")));
}

#[test]
fn deploy_haproxy_accepts_its_configuration() {
    let found = Command::new("haproxy")
        .arg("-v")
        .output()
        .map_err(|e| format!("haproxy ({e}; apt install haproxy)"));
    let Some(_) = require_tool(found) else { return };
    run(Command::new("haproxy")
        .args(["-c", "-f"])
        .arg(repo().join("deploy/haproxy.cfg"))
        .env("GATEHOUSE_LB_BIND", "127.0.0.1:8080")
        .env("GATEHOUSE_NODE1", "127.0.0.1:8081")
        .env("GATEHOUSE_NODE2", "127.0.0.1:8082")
        .env("GATEHOUSE_NODE3", "127.0.0.1:8083"));
}
