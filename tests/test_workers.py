"""Many cores: etc/systemd/slurmrest-worker@.service runs one process per instance on the
same addresses (``--reuse-port``). Its command, run for real twice against the test cluster:
both processes bind the same port, both serve, and connections reach both.
"""

from __future__ import annotations

import http.client
import os
import re
import shlex
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from twisted.trial import unittest

from tests.test_deploy_systemd import UNITS, unit_settings

VENV_BIN = Path(os.sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WorkerTemplateTests(unittest.TestCase):
    timeout = 90

    def test_instances_share_the_port(self):
        from slurmrest.testing.cluster import Cluster
        cluster = Cluster.from_environment()
        command = unit_settings(UNITS / "slurmrest-worker@.service")["ExecStart"][0]
        self.assertIn("--reuse-port", command)
        port = free_port()
        logs = tempfile.mkdtemp(prefix="slurmrest-workers-")
        procs = []
        for instance in (1, 2):
            text = (command.replace("/opt/slurmrest/bin/", f"{VENV_BIN}/")
                    .replace("${SLURM_CONF}", cluster.slurm_conf)
                    .replace("/var/log/slurmrest", logs).replace("%i", str(instance)))
            text = re.sub(r"-l \[::1\]:6820", "", text).replace("127.0.0.1:6820",
                                                                 f"127.0.0.1:{port}")
            env = dict(os.environ, SLURM_CONF=cluster.slurm_conf)
            procs.append(subprocess.Popen(shlex.split(text), env=env, cwd=logs,
                                          stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
            self.addCleanup(self._stop, procs[-1])
        token = cluster.token("alice")
        deadline = time.monotonic() + 30
        while True:
            try:
                self.assertEqual(self._ping(port, token), 200)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        time.sleep(1.0)
        self.assertEqual([p.poll() for p in procs], [None, None])  # both bound and running
        for _ in range(40):
            self.assertEqual(self._ping(port, token), 200)
        for proc in procs:  # their access logs written out
            self._stop(proc)
        # The kernel spread the connections: both access logs have requests in them.
        counts = [len(Path(logs, f"access-{i}.log").read_text().splitlines()) for i in (1, 2)]
        self.assertEqual(sum(counts), 41)
        self.assertTrue(all(counts), counts)

    @staticmethod
    def _ping(port: int, token: str) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", "/slurm/v0.0.38/ping",
                         headers={"X-SLURM-USER-NAME": "alice", "X-SLURM-USER-TOKEN": token})
            return conn.getresponse().status
        finally:
            conn.close()

    @staticmethod
    def _stop(proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
