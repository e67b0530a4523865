"""POST /slurm/v0.0.38/job/submit and DELETE /slurm/v0.0.38/job/{id}, side by side: the real
slurmrestd and slurmrest, same cluster, same documents.

    python benchmarks/bench_submit.py [--cluster /tmp/refcluster] [--jobs 200]
        [--connections 1,4] [--ours-url URL]

For each server and each connection count, submits ``--jobs`` held jobs (named
``bench-submit-<random>``, as alice) over keep-alive connections, then cancels each of them
through the same server; prints requests/s and p50/p99 latency of both phases. Everything it
submitted is also scancelled by name at the end. Bounded: at most 2000 jobs per cell.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_jobs import free_port, slurm_env, start_ours, token, wait_until_answering  # noqa: E402

SUBMIT = "/slurm/v0.0.38/job/submit"


def document(name: str) -> bytes:
    return json.dumps({"script": "#!/bin/bash\ntrue\n", "job": {
        "name": name, "environment": {"PATH": "/bin:/usr/bin"}, "hold": True, "time_limit": 1,
        "current_working_directory": "/tmp", "standard_output": "/dev/null"}}).encode()


def run(url: str, headers: dict, requests: list[tuple[str, str, bytes | None]],
        connections: int) -> dict:
    """Send ``requests`` (method, path, body) over ``connections`` keep-alive connections;
    returns rps, p50/p99 (ms), errors and the decoded answers in order."""
    parsed = urllib.parse.urlsplit(url)
    answers: list = [None] * len(requests)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    cursor = iter(range(len(requests)))

    def worker():
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        while True:
            with lock:
                i = next(cursor, None)
            if i is None:
                break
            method, path, body = requests[i]
            start = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
                status, data = 0, b""
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed * 1000)
                if status != 200:
                    errors[0] += 1
            try:
                answers[i] = json.loads(data) if data else None
            except ValueError:
                answers[i] = None
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    latencies.sort()
    return {
        "rps": len(requests) / wall if wall else 0.0,
        "p50_ms": statistics.median(latencies) if latencies else None,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        if latencies else None,
        "errors": errors[0],
        "answers": answers,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cluster", default=os.environ.get("SLURMREST_TEST_CLUSTER",
                                                            "/tmp/refcluster"))
    parser.add_argument("--restd-url", default="http://127.0.0.1:6820")
    parser.add_argument("--ours-url", default=None)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--connections", default="1,4")
    parser.add_argument("--user", default="alice")
    args = parser.parse_args(argv)
    jobs = max(1, min(args.jobs, 2000))
    connections = [max(1, min(int(c), 16)) for c in args.connections.split(",")]
    name = f"bench-submit-{uuid.uuid4().hex[:8]}"
    ours_proc = None
    logdir = tempfile.mkdtemp(prefix="bench-submit-")
    try:
        headers = {"X-SLURM-USER-NAME": args.user,
                   "X-SLURM-USER-TOKEN": token(args.cluster, args.user),
                   "Content-Type": "application/json"}
        ours_url = args.ours_url
        if ours_url is None:
            port = free_port()
            ours_proc = start_ours(args.cluster, port, logdir)
            ours_url = f"http://127.0.0.1:{port}"
        servers = {"slurmrestd": args.restd_url, "slurmrest": ours_url}
        for url in servers.values():
            wait_until_answering(url, headers)
        body = document(name)
        rows = []
        for server, url in servers.items():
            for c in connections:
                submitted = run(url, headers, [("POST", SUBMIT, body)] * jobs, c)
                ids = [a["job_id"] for a in submitted["answers"]
                       if isinstance(a, dict) and isinstance(a.get("job_id"), int)]
                cancelled = run(url, headers,
                                [("DELETE", f"/slurm/v0.0.38/job/{i}", None) for i in ids], c)
                rows.append((server, c, "submit", submitted))
                rows.append((server, c, "cancel", cancelled))
        print(f"{jobs} held jobs per cell, submitted then cancelled through the same server")
        print(f"{'server':12} {'conns':>5} {'phase':>7} {'req/s':>9} {'p50 ms':>8} "
              f"{'p99 ms':>8} {'errors':>6}")
        for server, c, phase, r in rows:
            print(f"{server:12} {c:>5} {phase:>7} {r['rps']:>9.1f} {r['p50_ms']:>8.2f} "
                  f"{r['p99_ms']:>8.2f} {r['errors']:>6}")
        return 0
    finally:
        subprocess.run(["scancel", "-n", name, "-u", args.user], env=slurm_env(args.cluster),
                       check=False)
        if ours_proc is not None:
            ours_proc.send_signal(signal.SIGTERM)
            try:
                ours_proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                ours_proc.kill()


if __name__ == "__main__":
    sys.exit(main())
