"""/slurmdb side by side: the real slurmrestd and slurmrest, same cluster, same load.

    .venv/bin/python benchmarks/bench_slurmdb.py [--cluster DIR] [--reference URL]
        [--seconds 5] [--connections 1,16] [--records 1000] [--ours URL]
        [--paths jobs,jobs-without-steps,associations,qos,users,diag,tres]
        [--tool auto|wrk|threads]

GET /slurmdb/v0.0.38/{jobs,associations,qos,users,diag,tres} and
``jobs?skip_steps=true`` (named jobs-without-steps); diag as root, the others as
alice; at each connection count, for both servers: requests/s, p50 and p99 latency, and the
ratios (slurmrest's req/s over slurmrestd's; slurmrestd's p50 and p99 over slurmrest's:
above 1, we win; the aim of issue 9 is 20x the throughput at a tenth of the p99).

For /jobs the cluster needs ``--records`` accounting records: the script makes them once
(a job array of tiny tasks named ``bench-slurmdb``, as alice; kept afterwards, so a rerun
finds them) and waits until slurmdbd holds them all finished. slurmrest is started on a free
loopback port (``bench_server.start_ours``) unless ``--ours`` names one; load is ``wrk``
when installed, else a keep-alive thread per connection. An operation this slurmrest does
not have is skipped with a line saying so.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [HERE, ROOT]

from bench_jobs import run_threads  # noqa: E402
from bench_server import micros, start_ours, token, wrk  # noqa: E402

PREFIX = "/slurmdb/v0.0.38"
PATHS = ("jobs", "jobs-without-steps", "associations", "qos", "users", "diag", "tres")
#: Names that stand for a path with a query (the operation is the part before "?").
QUERIES = {"jobs-without-steps": "jobs?skip_steps=true"}
#: Who asks (diag is an administrator's), and the list each answer carries.
USERS = {"diag": "root"}
KEYS = {"jobs": "jobs", "associations": "associations", "qos": "QOS", "users": "users",
        "diag": "statistics", "tres": "TRES"}
ARRAY_NAME = "bench-slurmdb"
FINISHED = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY")


# -- the cluster ---------------------------------------------------------------------------

def slurm_env(conf: str) -> dict:
    return dict(os.environ, SLURM_CONF=conf)


def finished_records(conf: str) -> int:
    """The benchmark array's finished tasks, as slurmdbd holds them (one record each)."""
    out = subprocess.run(["sacct", "-X", "-n", "-P", "-a", "--name", ARRAY_NAME,
                          "-S", "2000-01-01", "-E", "now", "-o", "state"],
                         env=slurm_env(conf), capture_output=True, text=True, check=True)
    return sum(1 for line in out.stdout.splitlines()
               if line.split() and line.split()[0] in FINISHED)


def queued_tasks(conf: str) -> int:
    """The benchmark array's tasks still in slurmctld's queue (``squeue -r``: one line
    each; sacct's record of the unstarted tasks names a range that lags behind)."""
    out = subprocess.run(["squeue", "-h", "-r", "-n", ARRAY_NAME, "-o", "%i"],
                         env=slurm_env(conf), capture_output=True, text=True, check=True)
    return len(out.stdout.split())


def ensure_records(conf: str, wanted: int, timeout: float = 900.0) -> int:
    """At least ``wanted`` finished records of the benchmark array in slurmdbd (submitting
    the shortfall once); how many there are."""
    have = finished_records(conf) + queued_tasks(conf)
    if have < wanted:
        count = wanted - have
        print(f"making {count} accounting records: sbatch --array=0-{count - 1} as alice",
              flush=True)
        subprocess.run(["runuser", "-u", "alice", "--", "sbatch", "--parsable",
                        f"--array=0-{count - 1}", f"--job-name={ARRAY_NAME}", "--time=1",
                        "--output=/dev/null", "--chdir=/tmp", "--wrap", "true"],
                       env=slurm_env(conf), capture_output=True, text=True, check=True)
    deadline = time.monotonic() + timeout
    while True:
        done = finished_records(conf)
        if done >= wanted:
            return done
        if time.monotonic() > deadline:
            raise SystemExit(f"slurmdbd holds {done} finished records of {wanted} after "
                             f"{timeout:g} s")
        print(f"  waiting for slurmdbd: {done}/{wanted} finished", flush=True)
        time.sleep(10)


def reference_url(cluster_dir: str) -> str:
    from slurmrest.testing.cluster import Cluster
    return Cluster(cluster_dir).restd_url.rstrip("/")


def existing_operations() -> set[str]:
    """The GET paths under /slurmdb this slurmrest has."""
    from slurmrest import tap
    from slurmrest.api.registry import REGISTRY
    tap.load_operations()
    return {op.path.lstrip("/") for op in REGISTRY
            if op.family == "slurmdb" and op.method == "GET"}


# -- the load ------------------------------------------------------------------------------

def fetch(url: str, headers: dict) -> tuple[int, dict | None]:
    parsed = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)
    try:
        conn.request("GET", parsed.path, headers=headers)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    try:
        return response.status, json.loads(body)
    except ValueError:
        return response.status, None


def threads(url: str, headers: dict, connections: int, seconds: int) -> dict:
    """The in-script load (``bench_jobs.run_threads``), in this script's units."""
    r = run_threads(url, headers, connections, seconds)
    us = lambda ms: ms * 1000 if ms is not None else None  # noqa: E731
    return {"rps": r["rps"], "p50_us": us(r["p50_ms"]), "p99_us": us(r["p99_ms"]),
            "non2xx": r["errors"], "socket_errors": None}


def wrk_load(url: str, headers: dict, connections: int, seconds: int) -> dict:
    r = wrk(url, headers, connections, seconds, timeout=60)
    r["p50_us"] = micros(r["p50"]) if r.get("p50") else None
    r["p99_us"] = micros(r["p99"]) if r.get("p99") else None
    return r


def ms(us: float | None) -> str:
    return "-" if us is None else f"{us / 1000:.2f}"


def ratio(a, b) -> str:
    return f"{a / b:.1f}x" if a and b else "-"


# -- main ----------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cluster", default=os.environ.get("SLURMREST_TEST_CLUSTER",
                                                            "/tmp/refcluster"))
    parser.add_argument("--reference", help="slurmrestd's URL (default: the cluster's)")
    parser.add_argument("--ours", help="an already running slurmrest (default: start one)")
    parser.add_argument("--seconds", type=int, default=5, help="per cell (at most 60)")
    parser.add_argument("--connections", default="1,16")
    parser.add_argument("--paths", default=",".join(PATHS))
    parser.add_argument("--records", type=int, default=1000,
                        help="accounting records GET /jobs lists at least")
    parser.add_argument("--tool", choices=("auto", "wrk", "threads"), default="auto")
    args = parser.parse_args(argv)
    conf = os.path.join(args.cluster, "etc", "slurm.conf")
    seconds = max(1, min(args.seconds, 60))
    connections = [max(1, min(int(c), 64)) for c in args.connections.split(",")]
    tool = args.tool if args.tool != "auto" else ("wrk" if shutil.which("wrk") else "threads")
    load = wrk_load if tool == "wrk" else threads
    reference = (args.reference or reference_url(args.cluster)).rstrip("/")

    have = existing_operations()
    paths = []
    for name in args.paths.split(","):
        if QUERIES.get(name, name).split("?")[0] in have:
            paths.append(name)
        else:
            print(f"skipped: GET {PREFIX}/{name} does not exist in this slurmrest yet")
    if any(QUERIES.get(p, p).startswith("jobs") for p in paths):
        print(f"accounting records of {ARRAY_NAME}: "
              f"{ensure_records(conf, args.records)} finished", flush=True)
    tokens = {user: token(conf, user) for user in {USERS.get(p, "alice") for p in paths}}

    procs, ours = ([], args.ours.rstrip("/")) if args.ours else start_ours(conf)
    try:
        print(f"slurmrestd {reference}, slurmrest {ours}; load: {tool}, {seconds} s per cell")
        print(f"{'path':<28}{'conns':>6} {'server':<11}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
              f"{'non-2xx':>8}   {'x req/s':>8}{'p50 /':>7}{'p99 /':>7}", flush=True)
        summary = []
        for name in paths:
            user = USERS.get(name, "alice")
            headers = {"X-SLURM-USER-NAME": user, "X-SLURM-USER-TOKEN": tokens[user]}
            path = f"{PREFIX}/{QUERIES.get(name, name)}"
            sizes = {}
            for server, base in (("slurmrestd", reference), ("slurmrest", ours)):
                status, doc = fetch(base + path, headers)
                items = (doc or {}).get(KEYS[QUERIES.get(name, name).split("?")[0]])
                sizes[server] = (status, len(items) if isinstance(items, list) else
                                 "-" if items is None else 1)
            print(f"{path} as {user}: (HTTP status, records) {sizes}", flush=True)
            if sizes["slurmrest"][0] != 200:
                print(f"skipped: {path}: slurmrest answers HTTP {sizes['slurmrest'][0]}")
                continue
            for c in connections:
                rows = {}
                for server, base in (("slurmrestd", reference), ("slurmrest", ours)):
                    r = rows[server] = load(base + path, headers, c, seconds)
                    extra = ""
                    if server == "slurmrest":
                        ref = rows["slurmrestd"]
                        extra = (f"   {ratio(r['rps'], ref['rps']):>8}"
                                 f"{ratio(ref['p50_us'], r['p50_us']):>7}"
                                 f"{ratio(ref['p99_us'], r['p99_us']):>7}")
                        summary.append((path, c, r["rps"] / ref["rps"] if ref["rps"] else None,
                                        ref["p99_us"] / r["p99_us"]
                                        if ref["p99_us"] and r["p99_us"] else None))
                    if r.get("socket_errors"):
                        extra += f"  socket errors: {r['socket_errors']}"
                    if not r["rps"]:
                        extra += "  (no request finished within the cell: more --seconds)"
                    print(f"{path:<28}{c:>6} {server:<11}{r['rps']:>9.1f}"
                          f"{ms(r['p50_us']):>9}{ms(r['p99_us']):>9}{r['non2xx']:>8}{extra}",
                          flush=True)
        print()
        print("slurmrest / slurmrestd (aim: 20x req/s, a tenth of the p99):")
        for path, c, throughput, p99 in summary:
            print(f"  {path:<28}{c:>3} conn(s): "
                  f"{'-' if throughput is None else f'{throughput:.1f}x'} req/s, "
                  f"p99 {'-' if p99 is None else f'1/{p99:.1f}'}")
        return 0
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    sys.exit(main())
