"""Checks deploy/docker-compose.yml for what a Gatehouse cluster needs (docker compose itself is not
on every machine that runs the tests): three nodes from one definition with the same master key and
database URL as secrets, readiness checks, the schema migrated before any node starts, and HAProxy
in front with the repository's deploy/haproxy.cfg. Exits non-zero naming the first problem."""

import sys

import yaml


def fail(message):
    print(f"docker-compose.yml: {message}", file=sys.stderr)
    sys.exit(1)


def main(path):
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    services = doc.get("services") or fail("no services")
    nodes = [name for name in services if name.startswith("gatehouse-")]
    if sorted(nodes) != ["gatehouse-1", "gatehouse-2", "gatehouse-3"]:
        fail(f"expected three nodes gatehouse-1..3, found {nodes}")
    first = services["gatehouse-1"]
    for name in nodes:
        node = services[name]
        if node != first:
            fail(f"{name} differs from gatehouse-1: every node must be the same")
    env = first.get("environment") or {}
    for key in ("GATEHOUSE_MASTER_KEY_FILE", "GATEHOUSE_DATABASE_URL_FILE", "GATEHOUSE_PUBLIC_URL", "GATEHOUSE_LISTEN"):
        if key not in env:
            fail(f"the nodes do not set {key}")
    if set(first.get("secrets") or []) != {"master_key", "database_url"}:
        fail("the nodes must read the master key and the database URL from secrets")
    probe = " ".join(first.get("healthcheck", {}).get("test", []))
    if "/readyz" not in probe:
        fail("the nodes' healthcheck must ask /readyz")
    if first.get("depends_on", {}).get("migrate", {}).get("condition") != "service_completed_successfully":
        fail("the nodes must start after the migration completed")
    if services.get("migrate", {}).get("command") != ["migrate"]:
        fail("the migrate service must run `gatehouse migrate`")
    lb = services.get("haproxy") or fail("no haproxy service")
    if not any(v.startswith("./haproxy.cfg:") for v in lb.get("volumes", [])):
        fail("haproxy must use deploy/haproxy.cfg")
    lb_env = lb.get("environment") or {}
    for n in (1, 2, 3):
        if lb_env.get(f"GATEHOUSE_NODE{n}") != f"gatehouse-{n}:8080":
            fail(f"haproxy's GATEHOUSE_NODE{n} must be gatehouse-{n}:8080")
    for secret in ("master_key", "database_url", "postgres_password"):
        if secret not in (doc.get("secrets") or {}):
            fail(f"the secret {secret} is not declared")
    print("docker-compose.yml: three identical nodes, shared secrets, readiness checks, HAProxy in front")


if __name__ == "__main__":
    main(sys.argv[1])
