#!/usr/bin/env python3
"""Measurements for bench/run that need better than shell resolution: start-to-ready time,
resident memory, free ports, and reading the benchmark client from the provisioning fixture.
Standard library only. Every wait is bounded; every process it starts, it stops.

  gh_bench.py free-port
  gh_bench.py wait-ready URL [TIMEOUT_S]
  gh_bench.py startup BIN WORKDIR RUNS fresh|existing     -> "median_ms min_ms max_ms"
  gh_bench.py rss PID                                      -> "vmrss_kb vmhwm_kb rssanon_kb rssfile_kb"
  gh_bench.py get URL COUNT                                -> GETs URL COUNT times, fails on non-200
  gh_bench.py fixture-client FILE                          -> "client_id client_secret scope"
  gh_bench.py token-shape FILE                             -> the access token's JOSE header and claims
"""

import base64
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import tomllib
import urllib.parse


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_of(url: str, timeout: float = 0.5) -> int:
    """HTTP status of a GET, or 0 when nothing answers."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request("GET", u.path or "/")
        resp = conn.getresponse()
        resp.read()
        return resp.status
    except OSError:
        return 0
    finally:
        conn.close()


def wait_ready(url: str, timeout: float, proc: subprocess.Popen | None = None) -> float:
    """Polls url every millisecond until it answers 200; returns the time that took (s)."""
    start = time.perf_counter()
    deadline = start + timeout
    while time.perf_counter() < deadline:
        if status_of(url) == 200:
            return time.perf_counter() - start
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"gatehouse exited with status {proc.returncode} before {url} answered 200")
        time.sleep(0.001)
    raise SystemExit(f"{url} did not answer 200 within {timeout} s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def one_start(binary: str, data_dir: str, log_path: str) -> float:
    """Spawns `gatehouse serve` and returns seconds from spawn to the first 200 from /readyz."""
    port = free_port()
    with open(log_path, "ab") as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [binary, "serve", "--data-dir", data_dir, "--listen", f"127.0.0.1:{port}"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        try:
            wait_ready(f"http://127.0.0.1:{port}/readyz", 30, proc)
            return time.perf_counter() - t0
        finally:
            stop(proc)


def startup(binary: str, workdir: str, runs: int, mode: str) -> None:
    os.makedirs(workdir, exist_ok=True)
    log_path = os.path.join(workdir, f"startup-{mode}.log")
    samples = []
    if mode == "existing":
        data_dir = os.path.join(workdir, "existing")
        one_start(binary, data_dir, log_path)  # creates it; not measured
        for _ in range(runs):
            samples.append(one_start(binary, data_dir, log_path))
    elif mode == "fresh":
        for i in range(runs):
            data_dir = os.path.join(workdir, f"fresh-{i}")
            samples.append(one_start(binary, data_dir, log_path))
            shutil.rmtree(data_dir, ignore_errors=True)
    else:
        raise SystemExit(f"unknown mode {mode!r}: fresh or existing")
    ms = [s * 1000 for s in samples]
    print(f"{statistics.median(ms):.1f} {min(ms):.1f} {max(ms):.1f}")


def rss(pid: str) -> None:
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()[0] if value.split() else "0"
    print(f"{fields.get('VmRSS', '0')} {fields.get('VmHWM', '0')} {fields.get('RssAnon', '0')} {fields.get('RssFile', '0')}")


def get(url: str, count: int) -> None:
    for _ in range(count):
        status = status_of(url, timeout=5)
        if status != 200:
            raise SystemExit(f"GET {url} answered {status or 'nothing'}")


def fixture_client(path: str) -> None:
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    for integration in doc.get("integrations", []):
        if integration.get("client_id") and integration.get("client_secret"):
            scopes = []
            for sub in integration.get("subscriptions", []):
                scopes.extend(sub.get("scopes", []))
            print(integration["client_id"], integration["client_secret"], " ".join(scopes))
            return
    raise SystemExit(f"{path}: no integration with a client_id and client_secret")


def token_shape(path: str) -> None:
    """Describes the access token of a token response, so a run shows both systems issue the same kind."""
    with open(path) as f:
        response = json.load(f)
    parts = response["access_token"].split(".")
    if len(parts) != 3:
        raise SystemExit("the access token is not a JWS")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    header, claims = decode(parts[0]), decode(parts[1])
    print(
        f"alg={header.get('alg')} typ={header.get('typ')} scope={claims.get('scope')!r} "
        f"claims={','.join(sorted(claims))}"
    )


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit(__doc__)
    cmd, args = argv[0], argv[1:]
    if cmd == "free-port":
        print(free_port())
    elif cmd == "wait-ready":
        wait_ready(args[0], float(args[1]) if len(args) > 1 else 30)
    elif cmd == "startup":
        startup(args[0], args[1], int(args[2]), args[3])
    elif cmd == "rss":
        rss(args[0])
    elif cmd == "get":
        get(args[0], int(args[1]))
    elif cmd == "token-shape":
        token_shape(args[0])
    elif cmd == "fixture-client":
        fixture_client(args[0])
    else:
        raise SystemExit(f"unknown command {cmd!r}\n{__doc__}")


if __name__ == "__main__":
    main(sys.argv[1:])
