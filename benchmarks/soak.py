"""A soak: many requests of a realistic mix against one slurmrest process on the real test
cluster, its resident memory sampled; prints the slope after warm-up (the aim: flat).

    SLURMREST_TEST_CLUSTER=var/testcluster .venv/bin/python benchmarks/soak.py [--requests 1000000]

The mix, per round of 100 requests over 4 client threads: reads (ping, jobs, nodes,
partitions, accounting QOS and TRES) 80; submissions of held jobs 5 and their cancels 5;
errors 10 (unknown path 404, bad token 401, bad body 400, out-of-range parameter 400). Half
the threads keep their connection alive, half open one per request; half speak TLS (a
throwaway certificate), half plain HTTP. The count and time are bounded by the arguments.

Submitted jobs stay in slurmctld for MinJobAge (300 s) after their cancel, so the job list,
and the server's kept documents of it, grow during the first minutes of a full mix: judge
the slope of a run longer than that, or of ``--reads-only``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

from slurmrest.testing.cluster import Cluster

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
READS = ("/slurm/v0.0.38/ping", "/slurm/v0.0.38/jobs", "/slurm/v0.0.38/nodes",
         "/slurm/v1/partitions", "/slurmdb/v0.0.38/qos", "/slurmdb/v0.0.38/tres")
SCRIPT = "#!/bin/sh\nsleep 1\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def slope(samples: list[tuple[int, int]]) -> float:
    """Least-squares KiB of resident memory per 100,000 requests."""
    n = len(samples)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in samples) / n
    my = sum(y for _, y in samples) / n
    var = sum((x - mx) ** 2 for x, _ in samples)
    return sum((x - mx) * (y - my) for x, y in samples) / var * 100_000 if var else 0.0


class Client(threading.Thread):
    def __init__(self, soak, index: int):
        super().__init__(daemon=True)
        self.soak, self.tls, self.keep_alive = soak, index % 2 == 1, index // 2 % 2 == 0
        self.index = index
        self.conn = None
        self.statuses: dict[int, int] = {}

    def connection(self):
        if self.conn is None or not self.keep_alive:
            if self.conn is not None:
                self.conn.close()
            if self.tls:
                self.conn = http.client.HTTPSConnection("127.0.0.1", self.soak.tls_port,
                                                        context=self.soak.tls_context,
                                                        timeout=60)
            else:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.soak.port, timeout=60)
        return self.conn

    def ask(self, method, path, body=None, token=None):
        headers = {"X-SLURM-USER-NAME": "alice", "X-SLURM-USER-TOKEN": token or self.soak.token,
                   "Content-Type": "application/json"}
        if not self.keep_alive:
            headers["Connection"] = "close"
        for attempt in (0, 1):
            conn = self.connection()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                break
            except (OSError, http.client.HTTPException):
                self.conn = None  # a kept connection the server closed: once more
                if attempt:
                    raise
        self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
        return response.status, data

    def run(self):
        i = 0
        while self.soak.take():
            i += 1
            step = (i + self.index) % 100
            if step < 80 or (self.soak.reads_only and step < 90):
                self.ask("GET", READS[step % len(READS)])
            elif step < 85:
                body = json.dumps({"script": SCRIPT, "job": {
                    "name": "soak", "hold": True, "environment": {"A": "1"}}})
                status, data = self.ask("POST", "/slurm/v0.0.38/job/submit", body)
                if status == 200:
                    self.soak.held.append(json.loads(data)["job_id"])
            elif step < 90:
                job = self.soak.held.pop() if self.soak.held else 1
                self.ask("DELETE", f"/slurm/v0.0.38/job/{job}")
            elif step < 93:
                self.ask("GET", "/slurm/v0.0.38/no/such/path")
            elif step < 96:
                self.ask("GET", "/slurm/v0.0.38/ping", token="not-a-token")
            elif step < 98:
                self.ask("POST", "/slurm/v0.0.38/job/submit", b"{not json")
            else:
                self.ask("GET", f"/slurm/v0.0.38/jobs?update_time={1 << 70}")


class Soak:
    def __init__(self, requests: int, seconds: float):
        self.left, self.deadline = requests, time.monotonic() + seconds
        self.lock = threading.Lock()
        self.done = 0
        self.held: list[int] = []

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0 or time.monotonic() > self.deadline:
                return False
            self.left -= 1
            self.done += 1
            return True


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=3600)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--reads-only", action="store_true",
                        help="no submissions or cancels (the job list then stays the same)")
    args = parser.parse_args()
    sys.path.insert(0, ROOT)
    from tests.test_server_live import self_signed

    cluster = Cluster.from_environment()
    directory = tempfile.mkdtemp(prefix="slurmrest-soak-")
    cert, key, _ = self_signed(directory)
    soak = Soak(args.requests, args.seconds)
    soak.reads_only = args.reads_only
    soak.port, soak.tls_port = free_port(), free_port()
    soak.tls_context = ssl.create_default_context(cafile=cert)
    soak.tls_context.check_hostname = False
    soak.token = cluster.token("alice", lifespan=int(args.seconds) + 600)
    server = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "twistd"), "-n", "--pidfile=", "-l",
         "/dev/null", "slurmrest", "-f", cluster.slurm_conf,
         # an endpoint string is served as it is: plain HTTP beside the TLS listener
         "-l", f"tcp:{soak.port}:interface=127.0.0.1",
         "--tls-cert", cert, "--tls-key", key, "-l", f"127.0.0.1:{soak.tls_port}"],
        cwd=ROOT)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", soak.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        clients = [Client(soak, i) for i in range(args.threads)]
        started = time.monotonic()
        for c in clients:
            c.start()
        samples = []
        while any(c.is_alive() for c in clients):
            time.sleep(1)
            samples.append((soak.done, rss_kib(server.pid)))
        elapsed = time.monotonic() - started
        for job in soak.held:
            subprocess.run(["scancel", str(job)], env=dict(os.environ, SLURM_CONF=cluster.slurm_conf))
    finally:
        server.terminate()
        server.wait()
    statuses: dict[int, int] = {}
    for c in clients:
        for status, n in c.statuses.items():
            statuses[status] = statuses.get(status, 0) + n
    after = [s for s in samples if s[0] >= soak.done // 5]  # warm-up: the first fifth
    print(f"soak: {soak.done} requests in {elapsed:.0f} s ({soak.done / elapsed:,.0f}/s), "
          f"statuses {dict(sorted(statuses.items()))}")
    if samples:
        print(f"resident memory: {samples[0][1]} KiB at start, {after[0][1] if after else '?'} "
              f"KiB after warm-up, {samples[-1][1]} KiB at the end; slope after warm-up "
              f"{slope(after):+.1f} KiB per 100,000 requests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
