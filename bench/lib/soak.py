#!/usr/bin/env python3
"""bench/soak's measurements: a sampler that records, every few seconds while the load runs, what
the load generator did and what each Gatehouse process holds; the summary that judges the series
(no error, flat after warm-up); the Markdown section; and the plot (matplotlib, from bench/.venv).
Standard library only except `plot`. 127.0.0.1 only.

  soak.py free-ports N                           -> the first of N consecutive free ports
  soak.py result KEY FILE...                     -> the sum of KEY over the RESULT lines of wrk outputs
  soak.py sample --csv F --interval S --duration S --stats PREFIX --receiver URL
                 --published-before N --proc NAME=PID... [--pg-db DB --pg-server URL]
  soak.py summary --csv F --warmup S --target T --json OUT   -> prints the verdict; exit 1 on an error or growth
  soak.py markdown --json F                      -> the section for bench/results/soak.md
  soak.py plot --csv F --png F --title T         -> RSS, descriptors and connections, and the load over time
"""

import argparse
import glob
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

KINDS = ["cc", "introspect", "authcode", "publish"]
# Requests per counted operation: an authorization-code flow is two requests (authorize, token).
REQUESTS_PER = {"cc": 1, "introspect": 1, "authcode": 2, "publish": 1}
RSS_TOLERANCE = 0.10  # last within 10 % of the post-warm-up median
FD_TOLERANCE = 0.10
FD_SLACK = 4  # descriptors: at least this many either way (a few connections come and go)


def free_ports(n: int) -> int:
    for _ in range(200):
        first = random.randint(20000, 60000 - n)
        sockets = []
        try:
            for p in range(first, first + n):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sockets.append(s)
                s.bind(("127.0.0.1", p))
            return first
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise SystemExit(f"no {n} consecutive free ports found")


def parse_result(path: str) -> dict:
    with open(path) as f:
        lines = [l for l in f if l.startswith("RESULT ")]
    if not lines:
        raise SystemExit(f"{path}: no RESULT line (wrk failed?)")
    out = {}
    for part in lines[-1].split()[1:]:
        k, _, v = part.partition("=")
        out[k] = float(v)
    return out


def read_stats(prefix: str, seen: dict | None = None) -> dict:
    """The counters of every wrk thread, summed. wrk rewrites its files while they are read: a file
    caught half-written would count less than before, so each counter keeps the largest value
    `seen` for it (they only grow)."""
    totals = {f"{k}_{s}": 0 for k in KINDS for s in ("ok", "err")}
    seen = {} if seen is None else seen
    for path in glob.glob(f"{prefix}-*"):
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            text = ""
        for part in text.split():
            k, _, v = part.partition("=")
            if k in totals and v.isdigit():
                seen[(path, k)] = max(seen.get((path, k), 0), int(v))
    for (_, k), v in seen.items():
        if k in totals:
            totals[k] += v
    return totals


def proc_numbers(pid: str) -> tuple[int, int, int]:
    """VmRSS (kB), open descriptors, and how many of them are sockets."""
    rss = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        fds = sockets = 0
        for fd in os.listdir(f"/proc/{pid}/fd"):
            fds += 1
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                    sockets += 1
            except OSError:
                pass
        return rss, fds, sockets
    except OSError:
        return 0, 0, 0  # the process is gone: shows as a drop to 0


def pg_connections(server: str, db: str) -> int:
    out = subprocess.run(
        ["psql", f"{server}/postgres", "-w", "-X", "-q", "-A", "-t", "-c",
         f"select count(*) from pg_stat_activity where datname = '{db}'"],
        capture_output=True, text=True, timeout=10, env={**os.environ, "PGCONNECT_TIMEOUT": "5"},
    )
    return int(out.stdout.strip() or -1) if out.returncode == 0 else -1


def receiver_distinct(url: str) -> int:
    try:
        with urllib.request.urlopen(f"{url}/stats", timeout=5) as res:
            return int(json.load(res)["distinct"])
    except (OSError, ValueError, KeyError):
        return -1


def sample(a) -> None:
    procs = [p.split("=", 1) for p in a.proc]
    cols = ["elapsed_s", "requests_per_s"]
    cols += [f"{k}_{s}" for k in KINDS for s in ("ok", "err")]
    cols += ["events_published", "events_received"]
    for name, _ in procs:
        cols += [f"rss_kb_{name}", f"fds_{name}", f"sockets_{name}"]
    if a.pg_db:
        cols.append("pg_connections")
    start = time.monotonic()
    seen: dict = {}
    prev = read_stats(a.stats, seen)
    prev_t = 0.0
    with open(a.csv, "w") as out:
        out.write(",".join(cols) + "\n")
        k = 0
        while k * a.interval <= a.duration:
            due = start + k * a.interval
            time.sleep(max(0.0, due - time.monotonic()))
            elapsed = time.monotonic() - start
            cur = read_stats(a.stats, seen)
            delta = {key: cur[key] - prev[key] for key in cur}
            requests = sum((delta[f"{kk}_ok"] + delta[f"{kk}_err"]) * REQUESTS_PER[kk] for kk in KINDS)
            rate = requests / (elapsed - prev_t) if elapsed > prev_t else 0.0
            row = [f"{elapsed:.1f}", f"{rate:.0f}"] + [str(delta[f"{kk}_{s}"]) for kk in KINDS for s in ("ok", "err")]
            row += [str(a.published_before + cur["publish_ok"]), str(receiver_distinct(a.receiver))]
            for _, pid in procs:
                row += [str(x) for x in proc_numbers(pid)]
            if a.pg_db:
                row.append(str(pg_connections(a.pg_server, a.pg_db)))
            out.write(",".join(row) + "\n")
            out.flush()
            summary = f"  {elapsed:6.0f} s: {rate:,.0f} req/s, errors {sum(delta[f'{kk}_err'] for kk in KINDS)}, " + ", ".join(
                f"{name} {int(row[cols.index(f'rss_kb_{name}')]) / 1024:.1f} MB / {row[cols.index(f'fds_{name}')]} fds"
                for name, _ in procs)
            if a.pg_db:
                summary += f", PostgreSQL connections {row[-1]}"
            print(summary, flush=True)
            prev, prev_t = cur, elapsed
            k += 1


def at_rest(a) -> None:
    """Descriptors and sockets of each process with no load: before the load and after it, once
    idle connections have been closed. A leak keeps what it took; a pool gives it back."""
    procs = [p.split("=", 1) for p in a.proc]
    take = lambda: {name: dict(zip(("rss_kb", "fds", "sockets"), proc_numbers(pid))) for name, pid in procs}
    out = take()
    # After the load, HAProxy closes its idle connections to the nodes gradually (half of them every
    # pool-purge-delay), so the count is taken again every 5 s until it is back within the allowance
    # of the count before the load, or stops falling, or --settle seconds have passed.
    if a.baseline and os.path.exists(a.baseline):
        base = json.load(open(a.baseline))
        ok = lambda o: all(o[n]["sockets"] <= base[n]["sockets"] + max(base[n]["sockets"] * FD_TOLERANCE, FD_SLACK) for n in o)
        deadline = time.monotonic() + a.settle
        still = 0
        while not ok(out) and time.monotonic() < deadline and still < 4:
            time.sleep(5)
            prev, out = out, take()
            still = still + 1 if sum(v["sockets"] for v in out.values()) >= sum(v["sockets"] for v in prev.values()) else 0
    json.dump(out, open(a.out, "w"))
    print("  at rest: " + ", ".join(f"{n} {v['fds']} fds ({v['sockets']} sockets)" for n, v in out.items()), flush=True)


def read_csv(path: str) -> list[dict]:
    with open(path) as f:
        header = f.readline().strip().split(",")
        return [dict(zip(header, (float(x) for x in line.strip().split(",")))) for line in f if line.strip()]


def series_verdict(values: list[float], tolerance: float, slack: float, pooled: bool = False) -> dict:
    """RSS: flat when the last sample is within the tolerance of the post-warm-up median. Descriptors and
    connections under load are the connections in flight and pooled, which rise and fall with the
    answers' latency (a busier machine holds more at once), so for them (pooled=True) a single peak
    says nothing: the median of the last quarter is compared with the first quarter's, and what
    shows a leak for certain is the count at rest after the load (see `at_rest`)."""
    median = statistics.median(values)
    if pooled:
        q = max(1, len(values) // 4)
        ref = statistics.median(values[:q])
        allowed = max(ref * tolerance, slack)
        grew = statistics.median(values[-q:]) > ref + allowed
        flat = not grew
    else:
        allowed = max(median * tolerance, slack)
        flat = abs(values[-1] - median) <= allowed
        grew = values[-1] > median + allowed
    return {
        "first": values[0], "last": values[-1], "max": max(values), "min": min(values), "median": median,
        "flat": flat, "grew": grew,
    }


def summary(a) -> None:
    rows = read_csv(a.csv)
    info = json.load(open(a.json)) if os.path.exists(a.json) else {}
    after = [r for r in rows if r["elapsed_s"] > a.warmup]
    if len(after) < 2:
        raise SystemExit(f"fewer than two samples after the {a.warmup:.0f} s warm-up: run longer or sample more often")
    names = [c[len("rss_kb_"):] for c in rows[0] if c.startswith("rss_kb_")]
    metrics = {}
    for n in names:
        metrics[f"RSS {n} (kB)"] = series_verdict([r[f"rss_kb_{n}"] for r in after], RSS_TOLERANCE, 0)
        metrics[f"descriptors {n}"] = series_verdict([r[f"fds_{n}"] for r in after], FD_TOLERANCE, FD_SLACK, pooled=True)
        metrics[f"sockets {n}"] = series_verdict([r[f"sockets_{n}"] for r in after], FD_TOLERANCE, FD_SLACK, pooled=True)
    if "pg_connections" in rows[0]:
        metrics["PostgreSQL connections"] = series_verdict([r["pg_connections"] for r in after], FD_TOLERANCE, FD_SLACK, pooled=True)
    if a.rest_before and a.rest_after and os.path.exists(a.rest_before) and os.path.exists(a.rest_after):
        before, after_load = json.load(open(a.rest_before)), json.load(open(a.rest_after))
        for n in names:
            for key, label in (("fds", "descriptors"), ("sockets", "sockets")):
                b, e = before[n][key], after_load[n][key]
                kept = e > b + max(b * FD_TOLERANCE, FD_SLACK)
                metrics[f"{label} {n} at rest"] = {
                    "first": b, "last": e, "max": max(b, e), "min": min(b, e), "median": e,
                    "flat": not kept, "grew": kept,
                }
    info["warmup_s"] = a.warmup
    info["samples_after_warmup"] = len(after)
    info["metrics"] = metrics
    for m, v in metrics.items():
        if m.startswith("RSS") and v["min"] == 0:
            v["grew"] = v["flat"] = False  # the process was gone at some sample
            print(f"  {m}: the process was gone at some sample")
    info["growth"] = [m for m, v in metrics.items() if v["grew"]]
    info["not_flat"] = [m for m, v in metrics.items() if not v["flat"]]
    rates = [r["requests_per_s"] for r in rows[1:]]
    info["achieved_rps_median"] = statistics.median(rates) if rates else 0
    json.dump(info, open(a.json, "w"), indent=1)
    print(f"  after the {a.warmup:.0f} s warm-up ({len(after)} samples); flat = RSS: last within "
          f"{RSS_TOLERANCE:.0%} of the median; descriptors and connections: the last quarter's median within "
          f"{FD_TOLERANCE:.0%} or {FD_SLACK} of the first quarter's, and at rest after the load (first = before "
          f"the load, last = after it) within as much of before:")
    for m, v in metrics.items():
        if m.startswith("RSS"):
            fmt = lambda x: f"{x / 1024:.1f} MB"
        else:
            fmt = lambda x: f"{x:.0f}"
        print(f"    {m:32} first {fmt(v['first'])}, last {fmt(v['last'])}, max {fmt(v['max'])}, "
              f"median {fmt(v['median'])}: {'flat' if v['flat'] else ('GREW' if v['grew'] else 'not flat (fell)')}")
    sys.exit(1 if info["growth"] else 0)


def markdown(a) -> None:
    i = json.load(open(a.json))
    mb = lambda kb: f"{kb / 1024:.1f} MB"
    lines = [
        "",
        f"## {i['date']} — soak, {i['target']}, Gatehouse {i['rev']}",
        "",
        f"Machine: {i['machine']}. Command: `{i['command']}`",
        "",
        f"Mix per 10 operations: 4 client_credentials tokens, 4 introspections, 1 authorization-code flow "
        f"(2 requests), 1 event published; {i['connections']} connections. Maximum (closed loop, "
        f"{i['max_seconds']} s): **{i['max_rps']:,.0f} requests/s** (p99 {i['max_p99_ms']:.1f} ms, "
        f"{i['max_errors']} errors). Soak: {i['soak_minutes']} min at **{i['soak_rps']:,.0f} requests/s** "
        f"(half; median achieved {i['achieved_rps_median']:,.0f}/s), p99 {i['soak_p99_ms']:.1f} ms.",
        "",
        "| Kind | Done | Errors |",
        "|---|---|---|",
    ]
    for k in KINDS:
        lines.append(f"| {k} | {i['done'][k]:,} | {i['errors'][k]:,} |")
    lines.append(f"| socket errors (wrk) | — | {i['socket_errors']:,} |")
    lines += [
        "",
        f"Events: {i['events_published']:,} published with 202, {i['events_received']:,} received "
        f"({'all' if i['events_received'] >= i['events_published'] else 'NOT ALL'}, after {i['drain_s']:.0f} s of draining).",
        "",
        f"After the {i['warmup_s']:.0f} s warm-up ({i['samples_after_warmup']} samples every {i['sample_s']} s):",
        "",
        "| Series | First | Last | Max | Median | Flat |",
        "|---|---|---|---|---|---|",
    ]
    for m, v in i["metrics"].items():
        f = mb if m.startswith("RSS") else (lambda x: f"{x:.0f}")
        verdict = "yes" if v["flat"] else ("**grew**" if v["grew"] else "fell")
        lines.append(f"| {m.replace(' (kB)', '')} | {f(v['first'])} | {f(v['last'])} | {f(v['max'])} | {f(v['median'])} | {verdict} |")
    lines += ["", f"Verdict: **{i['verdict']}**. Series: `{i['csv']}`, plot: `{i['png']}`.", ""]
    print("\n".join(lines))


def plot(a) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_csv(a.csv)
    t = [r["elapsed_s"] / 60 for r in rows]
    names = [c[len("rss_kb_"):] for c in rows[0] if c.startswith("rss_kb_")]
    has_pg = "pg_connections" in rows[0]
    fig, axes = plt.subplots(3, 1, figsize=(10, 9), sharex=True)
    ax = axes[0]
    for n in names:
        ax.plot(t, [r[f"rss_kb_{n}"] / 1024 for r in rows], marker=".", label=n)
    ax.set_ylabel("RSS (MB)")
    ax.set_ylim(bottom=0)
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    ax = axes[1]
    for n in names:
        line, = ax.plot(t, [r[f"fds_{n}"] for r in rows], marker=".", label=f"{n}: open descriptors")
        ax.plot(t, [r[f"sockets_{n}"] for r in rows], linestyle="--", color=line.get_color(), label=f"{n}: sockets")
    if has_pg:
        ax.plot(t, [r["pg_connections"] for r in rows], color="black", marker=".", label="PostgreSQL connections (database)")
    ax.set_ylabel("descriptors / connections")
    ax.set_ylim(bottom=0)
    ax.legend(loc="best", fontsize="small", ncol=2)
    ax.grid(alpha=0.3)
    ax = axes[2]
    ax.plot(t, [r["requests_per_s"] for r in rows], color="black", label="requests/s")
    errors = [sum(r[f"{k}_err"] for k in KINDS) for r in rows]
    ax.set_ylabel("requests/s")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax2 = ax.twinx()
    ax2.plot(t, [r["events_published"] - r["events_received"] for r in rows], color="tab:orange",
             label="events not yet delivered")
    ax2.plot(t, errors, color="tab:red", marker="x", linestyle="none", label="errors in the interval")
    ax2.set_ylabel("events / errors")
    ax2.set_ylim(bottom=0)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="best", fontsize="small")
    axes[-1].set_xlabel("minutes")
    fig.suptitle(a.title)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(a.png)), exist_ok=True)
    fig.savefig(a.png, dpi=100)


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    cmd = sys.argv[1]
    if cmd == "free-ports":
        print(free_ports(int(sys.argv[2])))
        return
    if cmd == "result":
        key = sys.argv[2]
        v = sum(parse_result(p).get(key, 0) for p in sys.argv[3:])
        print(f"{v:.2f}" if key.endswith("_ms") else round(v))
        return
    ap = argparse.ArgumentParser(prog=f"soak.py {cmd}")
    if cmd == "sample":
        ap.add_argument("--csv", required=True)
        ap.add_argument("--interval", type=float, required=True)
        ap.add_argument("--duration", type=float, required=True)
        ap.add_argument("--stats", required=True)
        ap.add_argument("--receiver", required=True)
        ap.add_argument("--published-before", type=int, default=0)
        ap.add_argument("--proc", action="append", default=[])
        ap.add_argument("--pg-db")
        ap.add_argument("--pg-server", default="postgres://postgres@127.0.0.1:5432")
        sample(ap.parse_args(sys.argv[2:]))
    elif cmd == "summary":
        ap.add_argument("--csv", required=True)
        ap.add_argument("--warmup", type=float, required=True)
        ap.add_argument("--json", required=True)
        ap.add_argument("--rest-before")
        ap.add_argument("--rest-after")
        summary(ap.parse_args(sys.argv[2:]))
    elif cmd == "at-rest":
        ap.add_argument("--proc", action="append", default=[])
        ap.add_argument("--out", required=True)
        ap.add_argument("--baseline")
        ap.add_argument("--settle", type=float, default=120)
        at_rest(ap.parse_args(sys.argv[2:]))
    elif cmd == "markdown":
        ap.add_argument("--json", required=True)
        markdown(ap.parse_args(sys.argv[2:]))
    elif cmd == "plot":
        ap.add_argument("--csv", required=True)
        ap.add_argument("--png", required=True)
        ap.add_argument("--title", required=True)
        plot(ap.parse_args(sys.argv[2:]))
    else:
        raise SystemExit(f"unknown command {cmd!r}\n{__doc__}")


if __name__ == "__main__":
    main()
