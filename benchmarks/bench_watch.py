"""Watching instead of polling: ``--watchers`` clients on ``GET /slurm/v1/jobs?watch=true``
while one job's comment changes ``--rate`` times a second; prints the delay from a change in
slurmctld to its event at the watchers (median, p99), and the server's CPU and memory.

    .venv/bin/python benchmarks/bench_watch.py [--cluster DIR] [--watchers 100]
        [--seconds 20] [--rate 5] [--user alice] [--ours-url URL] [--settle 2]

Starts slurmrest (``twistd -n slurmrest``) on a free loopback port unless ``--ours-url`` is
given (then CPU/memory are those of the process listening there), submits one held job as
the user (cancelled at the end) and changes its comment with ``scontrol update``. The delay
of a change is measured from the moment ``scontrol update`` returned (slurmctld has applied
it then) to the moment a watcher parsed the event. Bounded: at most 500 watchers, 120 s.
Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_jobs import (free_port, listening_pid, slurm_env, start_ours, token,  # noqa: E402
                        wait_until_answering)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> tuple[float, float]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0]) / 1024
    return out.get("VmRSS", 0.0), out.get("VmHWM", 0.0)


class Watchers:
    """``count`` event-stream connections read in one thread; ``seen[marker]`` lists when
    each watcher first saw an event carrying ``marker``."""

    def __init__(self, url: str, headers: dict, count: int):
        parsed = urllib.parse.urlsplit(url)
        request = ("GET /slurm/v1/jobs?watch=true HTTP/1.1\r\nHost: localhost\r\n"
                   "Accept: text/event-stream\r\n"
                   + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()
        self.selector = selectors.DefaultSelector()
        self.seen: dict[str, list[float]] = {}
        self.events = 0
        self.closed = 0
        self.lock = threading.Lock()
        self._stop = threading.Event()
        for _ in range(count):
            s = socket.create_connection((parsed.hostname, parsed.port))
            s.sendall(request)
            s.setblocking(False)
            self.selector.register(s, selectors.EVENT_READ, [bytearray(), {}])
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop.is_set():
            for key, _ in self.selector.select(timeout=0.2):
                try:
                    data = key.fileobj.recv(1 << 20)
                except BlockingIOError:
                    continue
                if not data:
                    self.selector.unregister(key.fileobj)
                    key.fileobj.close()
                    self.closed += 1
                    continue
                now = time.monotonic()
                buffer = key.data[0]
                start = max(0, len(buffer) - 1)
                buffer += data  # a bytearray: the first event of a big queue comes in pieces
                end = buffer.rfind(b"\n\n", start)
                if end < 0:
                    continue
                blocks = bytes(buffer[:end]).split(b"\n\n")
                del buffer[:end + 2]
                for block in blocks:
                    if b"event: " not in block:
                        continue
                    self.events += 1
                    at = block.find(b'"comment":"bench-watch-')
                    if at >= 0:
                        marker = block[at + 11:block.index(b'"', at + 11)].decode()
                        first = key.data[1].setdefault(marker, now) == now
                        if first:  # a later change of another field shows it again
                            with self.lock:
                                self.seen.setdefault(marker, []).append(now)

    def stop(self):
        self._stop.set()
        self.thread.join()
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cluster", default=os.environ.get("SLURMREST_TEST_CLUSTER",
                                                            "/tmp/refcluster"))
    parser.add_argument("--ours-url", default=None)
    parser.add_argument("--watchers", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--user", default="alice")
    parser.add_argument("--settle", type=float, default=2.0,
                        help="seconds for every watcher to read its first event (all jobs) "
                             "before the changes start (max 60)")
    args = parser.parse_args(argv)
    args.cluster = os.path.abspath(args.cluster)
    count = max(1, min(args.watchers, 500))
    seconds = max(2, min(args.seconds, 120))
    interval = 1.0 / max(0.1, min(args.rate, 20.0))
    env = slurm_env(args.cluster)
    logdir = tempfile.mkdtemp(prefix="bench-watch-")
    proc = None
    job_id = None
    try:
        headers = {"X-SLURM-USER-NAME": args.user,
                   "X-SLURM-USER-TOKEN": token(args.cluster, args.user)}
        url = args.ours_url
        if url is None:
            port = free_port()
            proc = start_ours(args.cluster, port, logdir)
            url = f"http://127.0.0.1:{port}"
        wait_until_answering(url, headers)
        pid = listening_pid(urllib.parse.urlsplit(url).port)
        job_id = subprocess.run(
            ["runuser", "-u", args.user, "--", "sbatch", "--parsable", "--hold",
             "--job-name=bench-watch", "--output=/dev/null", "--chdir=/tmp", "--wrap", "true"],
            env=env, capture_output=True, text=True, check=True).stdout.strip().split(";")[0]
        watchers = Watchers(url, headers, count)
        time.sleep(max(0.0, min(args.settle, 60.0)))  # every watcher has its first event
        rss_before = rss_mib(pid)[0]
        cpu_before, started = cpu_seconds(pid), time.monotonic()
        changes: dict[str, float] = {}
        n = 0
        while time.monotonic() - started < seconds:
            marker = f"bench-watch-{n}"
            subprocess.run(["scontrol", "update", f"JobId={job_id}", f"Comment={marker}"],
                           env=env, capture_output=True, check=True)
            changes[marker] = time.monotonic()
            n += 1
            time.sleep(max(0.0, started + n * interval - time.monotonic()))
        time.sleep(1.0)  # the last events arrive
        elapsed = time.monotonic() - started
        cpu = (cpu_seconds(pid) - cpu_before) / elapsed
        rss, hwm = rss_mib(pid)
        watchers.stop()
        delays = sorted((t - changes[m]) * 1000 for m, ts in watchers.seen.items()
                        if m in changes for t in ts)
        expected = len(changes) * count
        q = statistics.quantiles(delays, n=100) if len(delays) > 1 else [0.0] * 99
        print(f"{count} watchers of {args.user}'s jobs, {len(changes)} changes in "
              f"{elapsed:.1f} s ({len(changes) / elapsed:.1f}/s), {watchers.events} events read")
        print(f"delivered: {len(delays)} of {expected} (change x watcher); watchers closed "
              f"early: {watchers.closed}")
        print(f"delay change -> event: median {statistics.median(delays):.1f} ms, "
              f"p99 {q[98]:.1f} ms, max {delays[-1]:.1f} ms" if delays else "no events")
        print(f"server CPU: {cpu * 100:.1f}% of one core; RSS {rss:.1f} MiB "
              f"(+{rss - rss_before:.1f} during the run), peak {hwm:.1f} MiB")
        return 0
    finally:
        if job_id:
            subprocess.run(["scancel", job_id], env=env, check=False)
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
