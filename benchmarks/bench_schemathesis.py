"""The longer schemathesis run: every operation of our document, as alice, against a real
cluster (``$SLURMREST_TEST_CLUSTER``), for ``--seconds``; prints its counts and whether it
was clean. The bounded run in the suite is ``tests/test_schemathesis_live.py``.

    SLURMREST_TEST_CLUSTER=var/testcluster .venv/bin/python benchmarks/bench_schemathesis.py --seconds 600
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

from slurmrest.testing.cluster import Cluster

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_headers_conformance,response_schema_conformance")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--examples", type=int, default=100)
    args = parser.parse_args()
    cluster = Cluster.from_environment()
    port = free_port()
    bindir = os.path.dirname(sys.executable)
    server = subprocess.Popen([os.path.join(bindir, "twistd"), "-n", "--pidfile=", "-l", "-",
                               "slurmrest", "-f", cluster.slurm_conf, "-l",
                               f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/livez", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        token = cluster.token("alice", lifespan=args.seconds + 600)
        started = time.monotonic()
        run = subprocess.run(
            [os.path.join(bindir, "schemathesis"), "run", f"{url}/openapi/v3",
             "-H", "X-SLURM-USER-NAME: alice", "-H", f"X-SLURM-USER-TOKEN: {token}",
             "--no-color", "-w", "2", "-n", str(args.examples), "--max-time", str(args.seconds),
             "--phases", "examples,coverage,fuzzing", "--checks", CHECKS,
             "--exclude-operation-id-regex", "update_tres", "--generation-database", "none"],
            capture_output=True, text=True)
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait()
    out = run.stdout + run.stderr
    cases = re.search(r"(\d+) generated", out)
    tested = re.search(r"Tested: (\d+)", out)
    print(f"schemathesis: {cases.group(1) if cases else '?'} cases over "
          f"{tested.group(1) if tested else '?'} operations in {elapsed:.0f} s: "
          f"{'clean' if run.returncode == 0 else 'FAILURES'}")
    if run.returncode != 0:
        print(out[out.find("FAILURES"):][:20000])
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
