"""ping, diag, licenses, nodes, partitions and reservations side by side: the real slurmrestd and
slurmrest, same cluster, same load.

    python benchmarks/bench_server.py [--cluster /tmp/refcluster] [--reference URL]
        [--seconds 5] [--connections 1,16] [--paths ping,diag] [--ours URL] [--workers N]

Starts slurmrest (``twistd -n slurmrest``) on a free loopback port, then runs ``wrk`` (bounded
by --seconds) per server, endpoint and connection count, and prints requests/s and latency
percentiles. Also measures the in-memory cost of the web room alone (no slurmctld): an
authenticated request through the HTTP channel to a trivial operation.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATHS = ("ping", "diag", "licenses", "nodes", "partitions", "reservations")


def token(conf: str, user: str) -> str:
    out = subprocess.run(["scontrol", "token", f"username={user}", "lifespan=3600"],
                         env=dict(os.environ, SLURM_CONF=conf), capture_output=True, text=True,
                         check=True)
    return out.stdout.strip().split("=", 1)[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_ours(conf: str, workers: int = 1) -> tuple[list[subprocess.Popen], str]:
    """``workers`` slurmrest processes on one free port (``--reuse-port`` when several)."""
    port = free_port()
    argv = [os.path.join(os.path.dirname(sys.executable), "twistd"), "-n", "--pidfile=",
            "-l", "/dev/null", "slurmrest", "-f", conf, "-l", f"127.0.0.1:{port}"]
    if workers > 1:
        argv.append("--reuse-port")
    procs = [subprocess.Popen(argv, env=dict(os.environ, PYTHONPATH=ROOT), cwd=ROOT)
             for _ in range(workers)]
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            time.sleep(0.5 if workers > 1 else 0)  # let the others bind too
            return procs, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    for proc in procs:
        proc.kill()
    raise SystemExit("slurmrest did not start")


def wrk(url: str, headers: dict, connections: int, seconds: int,
        timeout: int | None = None) -> dict:
    """``timeout``: wrk's per-request timeout in seconds (wrk's default, 2 s, otherwise;
    requests slower than it count as socket errors, not latencies)."""
    argv = ["wrk", "--latency", "-t", "1", "-c", str(connections), "-d", f"{seconds}s"]
    if timeout is not None:
        argv += ["--timeout", f"{timeout}s"]
    for k, v in headers.items():
        argv += ["-H", f"{k}: {v}"]
    out = subprocess.run(argv + [url], capture_output=True, text=True, timeout=seconds + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p50": lat.get("50"), "p99": lat.get("99"),
            "non2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else None}


def micros(text: str) -> float:
    """wrk's latency text (``779.00us``, ``1.12ms``, ``2.00s``) in microseconds."""
    for unit, scale in (("us", 1), ("ms", 1e3), ("s", 1e6)):
        if text.endswith(unit):
            return float(text[:-len(unit)]) * scale
    return float(text)


def in_memory(n: int = 5000) -> float:
    """Requests/s through the HTTP channel to a trivial operation (no slurmctld)."""
    sys.path.insert(0, ROOT)
    from twisted.internet.testing import MemoryReactorClock, StringTransport

    from slurmrest.api.meta import BuildInfoCache
    from slurmrest.api.registry import Registry, operation
    from slurmrest.web.auth import Authenticator
    from slurmrest.web.channel import GatewaySite
    from slurmrest.web.gateway import Gateway
    from slurmrest.wire.credentials import TokenMinter

    reg = Registry()

    @operation("GET", "/ping", operation_id="ping", summary="", registry=reg)
    async def ping(call):
        return {"pings": [{"hostname": "h", "ping": "UP", "status": 0, "mode": "primary"}]}

    class NoClient:
        def bind(self, c):
            return c

    minter = TokenMinter(os.urandom(32))
    known = BuildInfoCache()
    known.update({"version": "22.05.8"})
    site = GatewaySite(Gateway(NoClient(), Authenticator(minter), registry=reg, build_info=known),
                       reactor=MemoryReactorClock())
    raw = (b"GET /slurm/v1/ping HTTP/1.1\r\nX-SLURM-USER-NAME: alice\r\nX-SLURM-USER-TOKEN: "
           + minter.mint("alice").encode() + b"\r\n\r\n")
    channel = site.buildProtocol(None)
    transport = StringTransport()
    channel.makeConnection(transport)
    start = time.perf_counter()
    for _ in range(n):
        channel.dataReceived(raw)
        transport.clear()
    return n / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cluster", default=os.environ.get("SLURMREST_TEST_CLUSTER", "/tmp/refcluster"))
    parser.add_argument("--reference", default="http://127.0.0.1:6820")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", default="1,16")
    parser.add_argument("--paths", default=",".join(PATHS))
    parser.add_argument("--ours", help="an already running slurmrest (default: start one)")
    parser.add_argument("--workers", type=int, default=1,
                        help="slurmrest processes sharing the port (--reuse-port)")
    args = parser.parse_args()
    conf = os.path.join(args.cluster, "etc", "slurm.conf")
    headers = {"X-SLURM-USER-NAME": "alice", "X-SLURM-USER-TOKEN": token(conf, "alice")}
    print(f"web room alone, in memory: {in_memory():.0f} req/s")
    procs, ours = ([], args.ours) if args.ours else start_ours(conf, args.workers)
    try:
        print(f"{'server':<12}{'path':<28}{'conns':>6}{'req/s':>10}{'p50':>10}{'p99':>10}"
              f"{'non-2xx':>9}{'x rps':>8}{'/ p50':>8}")
        for name in args.paths.split(","):
            path = f"/slurm/v0.0.38/{name}"
            for connections in (int(c) for c in args.connections.split(",")):
                rows = {}
                for server, base in (("slurmrestd", args.reference), ("slurmrest", ours)):
                    r = rows[server] = wrk(base + path, headers, connections, args.seconds)
                    ratio = ""
                    if server == "slurmrest" and rows["slurmrestd"]["rps"]:
                        # throughput: ours / theirs; latency: their p50 / ours (both: >1 = we win)
                        ratio = (f"{r['rps'] / rows['slurmrestd']['rps']:>8.2f}"
                                 f"{micros(rows['slurmrestd']['p50']) / micros(r['p50']):>8.2f}")
                    print(f"{server:<12}{path:<28}{connections:>6}{r['rps']:>10.0f}"
                          f"{r['p50']:>10}{r['p99']:>10}{r['non2xx']:>9}{ratio}", flush=True)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
