"""GET /slurm/v0.0.38/jobs, side by side: the real slurmrestd and slurmrest, same cluster,
same queue, same load.

    python benchmarks/bench_jobs.py [--cluster /tmp/refcluster] [--seconds 10]
        [--connections 1,16] [--jobs 1000] [--ours-url URL] [--servers slurmrestd,slurmrest]
        [--churn CHANGES_PER_SECOND] [--also NAME=URL ...]

Makes sure slurmctld holds at least ``--jobs`` job records (else one held array named
``bench-jobs``, submitted as alice, its tasks split into records, cancelled at the end),
starts slurmrest on a free loopback port (``twistd -n slurmrest``; or uses ``--ours-url``),
then for each server and each connection count runs a bounded load (``wrk`` if installed,
else a keep-alive thread pool) and prints requests/s, p50/p99 latency and the server's
resident memory (current and peak: VmRSS/VmHWM).

Careful on a shared cluster: slurmrestd 22.05.8 was seen to segfault here under 16
connections with 1000 jobs (``--servers slurmrest`` measures ours alone).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PATH = "/slurm/v0.0.38/jobs"
ARRAY_NAME = "bench-jobs"


# -- the cluster ---------------------------------------------------------------------------

def slurm_env(cluster_dir: str) -> dict:
    env = dict(os.environ)
    env["SLURM_CONF"] = os.path.join(cluster_dir, "etc", "slurm.conf")
    return env


def token(cluster_dir: str, user: str, lifespan: int = 3600) -> str:
    out = subprocess.run(["scontrol", "token", f"username={user}", f"lifespan={lifespan}"],
                         env=slurm_env(cluster_dir), capture_output=True, text=True, check=True)
    return out.stdout.strip().split("=", 1)[1]


def job_records(cluster_dir: str) -> int:
    """How many job records slurmctld holds (what GET /jobs lists): ``scontrol show job``
    prints one line per record, an unsplit array's pending tasks being one record."""
    out = subprocess.run(["scontrol", "-o", "show", "job"], env=slurm_env(cluster_dir),
                         capture_output=True, text=True, check=True)
    return sum(1 for line in out.stdout.splitlines() if line.startswith("JobId="))


def submit_arrays(cluster_dir: str, count: int, size: int = 1000) -> list[str]:
    """Held arrays of at most ``size`` tasks (MaxArraySize), ``count`` records in all."""
    ids = []
    while count > 0:
        ids.append(submit_array(cluster_dir, min(count, size)))
        count -= size
    return ids


def submit_array(cluster_dir: str, count: int) -> str:
    """One held array of ``count`` tasks as alice, split into ``count`` job records (an
    update of tasks 1..count-1 splits them off the meta record); returns its job id."""
    out = subprocess.run(
        ["runuser", "-u", "alice", "--", "sbatch", "--parsable", "--hold",
         f"--array=1-{count}", f"--job-name={ARRAY_NAME}", "--output=/dev/null",
         "--chdir=/tmp", "--wrap", "true"],
        env=slurm_env(cluster_dir), capture_output=True, text=True, check=True)
    job_id = out.stdout.strip().split(";")[0]
    if count > 1:
        subprocess.run(["scontrol", "update", f"JobId={job_id}_[1-{count - 1}]",
                        "Comment=bench-jobs"], env=slurm_env(cluster_dir), check=True,
                       capture_output=True)
    return job_id


def cancel(cluster_dir: str, job_id: str) -> None:
    subprocess.run(["scancel", job_id], env=slurm_env(cluster_dir), check=False)


# -- the servers ---------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_pid(port: int) -> int | None:
    """The pid of the process listening on loopback ``port`` (to read its memory)."""
    out = subprocess.run(["ss", "-H", "-ltnp", f"sport = :{port}"], capture_output=True,
                         text=True).stdout
    match = re.search(r"pid=(\d+)", out)
    return int(match.group(1)) if match else None


def memory_kib(pid: int | None) -> dict:
    """VmRSS and VmHWM (peak) of ``pid``, in KiB."""
    out = {}
    if pid is None:
        return out
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def wait_until_answering(url: str, headers: dict, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    parsed = urllib.parse.urlsplit(url)
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=5)
            conn.request("GET", "/slurm/v0.0.38/ping", headers=headers)
            if conn.getresponse().status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def start_ours(cluster_dir: str, port: int, logdir: str) -> subprocess.Popen:
    """``twistd -n slurmrest`` on a loopback port, talking to the cluster."""
    twistd = os.path.join(os.path.dirname(sys.executable), "twistd")
    argv = [twistd, "-n", "--pidfile=", f"--logfile={os.path.join(logdir, 'slurmrest.log')}",
            "slurmrest", f"--slurm-conf={os.path.join(cluster_dir, 'etc', 'slurm.conf')}",
            f"--listen=tcp:{port}:interface=127.0.0.1"]
    env = slurm_env(cluster_dir)
    # The twistd plugin (twisted/plugins/slurmrest_plugin.py) is found through the tree.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    return subprocess.Popen(argv, cwd=logdir, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# -- the load ------------------------------------------------------------------------------

class Churn:
    """Changes one job (its comment) ``rate`` times a second until stopped, so that Slurm's
    job list keeps changing under the load. Bounded: at most 20 changes per second."""

    def __init__(self, cluster_dir: str, job_id: str | None, rate: float):
        if job_id is None:
            raise SystemExit("--churn needs the benchmark's own array (fewer jobs queued "
                             "than --jobs)")
        self.argv = ["scontrol", "update", f"JobId={job_id}_1"]
        self.env = slurm_env(cluster_dir)
        self.interval = 1.0 / min(rate, 20.0)
        self.changes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(self.interval):
            subprocess.run(self.argv + [f"Comment=churn-{self.changes}"], env=self.env,
                           capture_output=True)
            self.changes += 1

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.changes


class MemoryGuard:
    """Samples a server's resident memory during a cell (its peak is VmHWM anyway) and
    stops it (SIGTERM) if it passes ``max_gib``: a bound on what a benchmark may take."""

    def __init__(self, pid: int | None, max_gib: float):
        self.pid, self.limit = pid, max_gib * 1024 * 1024  # KiB
        self.tripped = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while self.pid is not None and not self._stop.wait(0.25):
            if memory_kib(self.pid).get("VmRSS", 0) > self.limit:
                self.tripped = True
                os.kill(self.pid, signal.SIGTERM)
                return

    def stop(self) -> bool:
        self._stop.set()
        self._thread.join()
        return self.tripped


def _parse_wrk_time(text: str) -> float:
    """wrk's "1.23ms" / "456.00us" / "1.2s" → milliseconds."""
    match = re.match(r"([\d.]+)(us|ms|s|m)", text)
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(url: str, headers: dict, connections: int, seconds: int) -> dict:
    argv = ["wrk", "--latency", "-t", str(min(connections, 4)), "-c", str(connections),
            "-d", f"{seconds}s", "--timeout", "30s"]
    for key, value in headers.items():
        argv += ["-H", f"{key}: {value}"]
    out = subprocess.run(argv + [url + PATH], capture_output=True, text=True,
                         timeout=seconds + 60).stdout
    result = {"tool": "wrk"}
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    result["rps"] = float(match.group(1)) if match else 0.0
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        match = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        result[key] = _parse_wrk_time(match.group(1)) if match else None
    match = re.search(r"(\d+) requests in", out)
    result["requests"] = int(match.group(1)) if match else 0
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["errors"] = int(match.group(1)) if match else 0
    match = re.search(r"Socket errors: (.*)", out)
    if match:
        result["socket_errors"] = match.group(1)
    return result


def run_threads(url: str, headers: dict, connections: int, seconds: int) -> dict:
    """Fallback load: one keep-alive connection per thread, bounded by time."""
    parsed = urllib.parse.urlsplit(url)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker():
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        mine = []
        while time.monotonic() < deadline:
            start = time.perf_counter()
            try:
                conn.request("GET", PATH, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
            mine.append((time.perf_counter() - start) * 1000)
            if not ok:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {"tool": "threads", "rps": len(latencies) / elapsed, "requests": len(latencies),
            "p50_ms": q[49] if q else None, "p99_ms": q[98] if q else None,
            "errors": errors[0]}


def check_document(url: str, headers: dict) -> int:
    """One request, decoded: how many jobs the server reports (a sanity check)."""
    parsed = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
    conn.request("GET", PATH, headers=headers)
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"{url}{PATH}: HTTP {response.status}")
    return len(json.loads(body)["jobs"])


# -- main ----------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cluster", default=os.environ.get("SLURMREST_TEST_CLUSTER",
                                                            "/tmp/refcluster"))
    parser.add_argument("--restd-url", default="http://127.0.0.1:6820")
    parser.add_argument("--ours-url", default=None,
                        help="use a running slurmrest instead of starting one")
    parser.add_argument("--seconds", type=int, default=10, help="per cell (max 60)")
    parser.add_argument("--connections", default="1,16")
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--user", default="alice")
    parser.add_argument("--tool", choices=("auto", "wrk", "threads"), default="auto")
    parser.add_argument("--servers", default="slurmrestd,slurmrest",
                        help="which to measure (comma-separated)")
    parser.add_argument("--also", action="append", default=[], metavar="NAME=URL",
                        help="also measure another running server the same way (e.g. the "
                             "previous commit's slurmrest, for a before/after in one run)")
    parser.add_argument("--churn", type=float, default=0.0,
                        help="also change one bench job this many times per second during "
                             "each cell (a busy queue: every answer may need a rebuild)")
    parser.add_argument("--max-rss-gib", type=float, default=7.5,
                        help="stop a measured server whose resident memory passes this "
                             "(slurmrestd needs gigabytes for 10k jobs)")
    args = parser.parse_args(argv)
    args.cluster = os.path.abspath(args.cluster)
    seconds = max(1, min(args.seconds, 60))
    connections = [max(1, min(int(c), 64)) for c in args.connections.split(",")]
    tool = args.tool
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "threads"
    load = run_wrk if tool == "wrk" else run_threads

    submitted = None
    arrays: list[str] = []
    ours_proc = None
    logdir = tempfile.mkdtemp(prefix="bench-jobs-")
    try:
        queued = job_records(args.cluster)
        if queued < args.jobs or args.churn:
            # With --churn the queue needs a job of our own to change (one more record).
            arrays = submit_arrays(args.cluster, max(1, args.jobs - queued))
            submitted = arrays[0]
            time.sleep(2)
        headers = {"X-SLURM-USER-NAME": args.user,
                   "X-SLURM-USER-TOKEN": token(args.cluster, args.user)}
        ours_url = args.ours_url
        if ours_url is None and "slurmrest" in args.servers.split(","):
            port = free_port()
            ours_proc = start_ours(args.cluster, port, logdir)
            ours_url = f"http://127.0.0.1:{port}"
        wanted = set(args.servers.split(","))
        servers = {name: url for name, url in
                   (("slurmrestd", args.restd_url), ("slurmrest", ours_url)) if name in wanted}
        servers.update(item.split("=", 1) for item in args.also)
        for name, url in servers.items():
            wait_until_answering(url, headers)
        counts = {name: check_document(url, headers) for name, url in servers.items()}
        print(f"jobs in the answer: {counts}  (job records: {job_records(args.cluster)}; "
              f"load: {tool}, {seconds} s per cell"
              + (f"; queue changed {args.churn:g}/s" if args.churn else "") + ")")
        results = {}
        for name, url in servers.items():
            pid = listening_pid(urllib.parse.urlsplit(url).port)
            for c in connections:
                churn = Churn(args.cluster, submitted, args.churn) if args.churn else None
                guard = MemoryGuard(pid, args.max_rss_gib)
                r = load(url, headers, c, seconds)
                r["stopped_for_memory"] = guard.stop()
                if churn is not None:
                    r["changes"] = churn.stop()
                r.update(memory_kib(pid))
                # slurmrestd 22.05.8 has been seen to segfault under 16 connections here.
                r["died"] = pid is not None and not os.path.exists(f"/proc/{pid}")
                results[(name, c)] = r
                if r["died"]:
                    print(f"!! {name} (pid {pid}) died during the {c}-connection run"
                          + (f" (stopped: resident memory passed {args.max_rss_gib} GiB)"
                             if r["stopped_for_memory"] else ""))
                    break
        print()
        print(f"{'server':12} {'conns':>5} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} "
              f"{'errors':>6} {'RSS MiB':>8} {'peak MiB':>8}")
        for (name, c), r in results.items():
            rss = r.get("VmRSS", 0) / 1024
            hwm = r.get("VmHWM", 0) / 1024
            p50 = f"{r['p50_ms']:.1f}" if r.get("p50_ms") is not None else "-"
            p99 = f"{r['p99_ms']:.1f}" if r.get("p99_ms") is not None else "-"
            print(f"{name:12} {c:>5} {r['rps']:>9.1f} {p50:>9} {p99:>9} {r['errors']:>6} "
                  f"{rss:>8.1f} {hwm:>8.1f}" + ("  DIED" if r["died"] else "")
                  + (f"  socket errors: {r['socket_errors']}" if r.get("socket_errors") else ""))
        print()
        for c in connections:
            ref = results.get(("slurmrestd", c))
            for name in servers:
                if name == "slurmrestd" or ref is None or (name, c) not in results:
                    continue
                ours = results[(name, c)]
                ratio = ours["rps"] / ref["rps"] if ref["rps"] else float("inf")
                print(f"{c:>3} connection(s): {name} / slurmrestd = {ratio:.1f}x req/s")
        return 0
    finally:
        if ours_proc is not None:
            ours_proc.send_signal(signal.SIGTERM)
            try:
                ours_proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                ours_proc.kill()
        for job_id in arrays:
            cancel(args.cluster, job_id)
        shutil.rmtree(logdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
