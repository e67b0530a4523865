"""Faults under load, against the real daemons (issue 13): slurmctld frozen (SIGSTOP) and
resumed, killed and restarted, and a black hole in its place (a loopback port that accepts
and never answers). During each, a bounded load of reads and held-job submissions: no
request hangs past its timeout, every answer is a status the document lists for its
operation, and afterwards every submission answered 200 exists exactly once in squeue, and
none answered with an error exists unless the error says its outcome is unknown."""

from __future__ import annotations

import json
import os
import signal
import tempfile
import uuid

import treq
from twisted.internet import defer, protocol, reactor
from twisted.internet.task import deferLater
from twisted.trial import unittest

from slurmrest.api.job_control import OUTCOME_UNKNOWN
from slurmrest.api.registry import REGISTRY, load_operations
from slurmrest.tap import make_gateway
from slurmrest.testing import bringup
from slurmrest.testing.cluster import Cluster
from slurmrest.web.channel import GatewaySite
from slurmrest.wire.conf import SlurmConfig
from tests.test_server_live import slurm_conf_copy

MESSAGE_TIMEOUT = 2
#: No answer may take longer than this (the server's own timeouts are a few seconds).
CLIENT_TIMEOUT = 30
READS = ("/slurm/v0.0.38/ping", "/slurm/v0.0.38/jobs", "/slurm/v0.0.38/nodes",
         "/slurm/v1/partitions", "/slurm/v0.0.38/diag")
READS_PER_PATH = 4
SUBMISSIONS = 6
SCRIPT = "#!/bin/sh\nsleep 1\n"


class Silent(protocol.Protocol):
    """Accepts, reads, never answers."""


def documented(method: str, path: str) -> set[int]:
    load_operations()
    family, version, rest = path.strip("/").split("/", 2)
    for op in REGISTRY:
        if op.family == family and op.method == method and op.path == f"/{rest}":
            return {200, 304, *op.error_statuses()}
    raise KeyError(path)


class FaultsBase(unittest.TestCase):
    timeout = 300

    def setUp(self):
        self.cluster = Cluster.from_environment()
        self.dir = tempfile.mkdtemp(prefix="slurmrest-faults-")
        self.token = self.cluster.token("alice")

    def serve(self, ctld_port: int | None = None) -> str:
        conf = slurm_conf_copy(self.cluster, self.dir, ctld_port or self.cluster.ctld_port,
                               MESSAGE_TIMEOUT)
        gateway = make_gateway(SlurmConfig.load(conf), jwt_key=self.cluster.jwt_key_path,
                               reactor=reactor)
        port = reactor.listenTCP(0, GatewaySite(gateway), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        if gateway.dbd is not None:
            self.addCleanup(gateway.dbd.close)
        return f"http://127.0.0.1:{port.getHost().port}"

    async def ask(self, url: str, method: str, path: str, body=None):
        headers = {"X-SLURM-USER-NAME": "alice", "X-SLURM-USER-TOKEN": self.token,
                   "Content-Type": "application/json"}
        response = await treq.request(method, url + path, headers=headers,
                                      data=json.dumps(body).encode() if body else None,
                                      timeout=CLIENT_TIMEOUT, persistent=False)
        data = await response.content()
        return response.code, (json.loads(data) if data else None)

    async def load(self, url: str) -> list[tuple[str, int, dict]]:
        """The reads and submissions at once: (comment or None, status, document) each."""
        work = []
        for path in READS * READS_PER_PATH:
            work.append((None, "GET", path, None))
        for _ in range(SUBMISSIONS):
            comment = f"fault-{uuid.uuid4().hex}"
            work.append((comment, "POST", "/slurm/v0.0.38/job/submit",
                         {"script": SCRIPT, "job": {"name": "fault", "comment": comment,
                                                    "hold": True, "environment": {"A": "1"}}}))
        answers = await defer.gatherResults([
            defer.ensureDeferred(self.ask(url, method, path, body))
            for _, method, path, body in work])
        out = []
        for (comment, method, path, _), (status, doc) in zip(work, answers):
            self.assertIn(status, documented(method, path), (path, status, doc))
            out.append((comment, status, doc))
        return out

    def jobs_by_comment(self) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        listing = self.cluster.run(["squeue", "-h", "-a", "-o", "%i %k"]).stdout
        for line in listing.splitlines():
            job_id, _, comment = line.strip().partition(" ")
            if comment.startswith("fault-"):
                found.setdefault(comment, []).append(int(job_id))
        return found

    def assertOutcomes(self, answers) -> dict:
        """200 submissions exist once (with their id); refused ones not at all, unless
        their error says the outcome is unknown. Returns the counts."""
        jobs = self.jobs_by_comment()
        counts = {"ok": 0, "unknown": 0, "refused": 0, "reads": 0}
        try:
            for comment, status, doc in answers:
                if comment is None:
                    counts["reads"] += 1
                    continue
                found = jobs.get(comment, [])
                if status == 200:
                    counts["ok"] += 1
                    self.assertEqual(found, [doc["job_id"]], comment)
                elif doc["errors"][0]["error"] == OUTCOME_UNKNOWN:
                    counts["unknown"] += 1
                    self.assertLessEqual(len(found), 1, comment)
                else:
                    counts["refused"] += 1
                    self.assertEqual(found, [], (comment, status, doc))
        finally:
            ids = [str(i) for found in jobs.values() for i in found]
            if ids:
                self.cluster.run(["scancel", *ids], check=False)
        return counts

    async def until_controller_answers(self, url: str) -> None:
        for _ in range(240):
            status, _ = await self.ask(url, "GET", "/slurm/v0.0.38/ping")
            if status == 200:
                return
            await deferLater(reactor, 0.5, lambda: None)
        self.fail("slurmctld did not come back")


class FaultsUnderLoad(FaultsBase):
    async def test_slurmctld_frozen_and_resumed(self):
        url = self.serve()
        await self.until_controller_answers(url)
        pid = self.cluster.daemon_pid("slurmctld")
        os.kill(pid, signal.SIGSTOP)
        try:
            answers = await self.load(url)
        finally:
            os.kill(pid, signal.SIGCONT)
        await self.until_controller_answers(url)
        # What the frozen controller had queued it now does: give it a moment.
        await deferLater(reactor, 2, lambda: None)
        counts = self.assertOutcomes(answers)
        self.assertEqual(counts["ok"] + counts["unknown"] + counts["refused"], SUBMISSIONS)
        self.assertEqual(counts["ok"], 0, counts)  # nothing could answer in time
        # The version was known: every submission was sent, none may claim "nothing made".
        self.assertEqual(counts["unknown"], SUBMISSIONS, counts)

    async def test_slurmctld_killed_and_restarted(self):
        url = self.serve()
        await self.until_controller_answers(url)
        pid = self.cluster.daemon_pid("slurmctld")
        os.kill(pid, signal.SIGTERM)
        try:
            bringup.wait_for(60, "slurmctld to exit", lambda: not bringup.alive(pid))
            answers = await self.load(url)
        finally:
            bringup.start_slurmctld(self.cluster.layout)
            bringup.wait_for(90, "the nodes to register again",
                             lambda: bringup.nodes_registered(self.cluster.layout))
        await self.until_controller_answers(url)
        for comment, status, _ in answers:
            self.assertEqual(status, 503, comment)  # nothing listens: nothing was sent
        counts = self.assertOutcomes(answers)
        self.assertEqual(counts["refused"], SUBMISSIONS)
        # And after the restart, submissions work again.
        answers = await self.load(url)
        counts = self.assertOutcomes(answers)
        self.assertEqual(counts["ok"], SUBMISSIONS, answers)

    async def test_black_hole(self):
        hole = reactor.listenTCP(0, protocol.Factory.forProtocol(Silent),
                                 interface="127.0.0.1")
        self.addCleanup(hole.stopListening)
        url = self.serve(hole.getHost().port)
        answers = await self.load(url)
        for comment, status, doc in answers:
            self.assertEqual(status, 504, (comment, doc))
        # A fresh server learns the Slurm version first (that times out: nothing was sent,
        # plain 504) unless it knew it already; a submission sent is "outcome unknown".
        counts = self.assertOutcomes(answers)
        self.assertEqual(counts["unknown"] + counts["refused"], SUBMISSIONS)


QOS_READS = ("/slurmdb/v0.0.38/qos", "/slurmdb/v0.0.38/tres", "/slurmdb/v1/accounts",
             "/slurmdb/v0.0.38/clusters")
QOS_WRITES = 4


class DatabaseStoppedUnderLoad(FaultsBase):
    """MariaDB stopped under slurmdbd: accounting reads and writes (QOS added as root) at
    once; every answer documented, no hang; afterwards a QOS answered 200 exists, and one
    answered with an error does not (a write that fails commits nothing)."""

    async def ask_as(self, url, method, path, body=None, user="root"):
        token = self.cluster.token(user)
        headers = {"X-SLURM-USER-NAME": user, "X-SLURM-USER-TOKEN": token,
                   "Content-Type": "application/json"}
        response = await treq.request(method, url + path, headers=headers,
                                      data=json.dumps(body).encode() if body else None,
                                      timeout=CLIENT_TIMEOUT, persistent=False)
        data = await response.content()
        return response.code, (json.loads(data) if data else None)

    def qos_names(self) -> set[str]:
        out = self.cluster.run(["sacctmgr", "-n", "-P", "show", "qos", "format=name"]).stdout
        return set(out.split())

    async def test_mariadb_stopped_and_started(self):
        url = self.serve()
        await self.until_controller_answers(url)
        names = [f"flt{uuid.uuid4().hex[:10]}" for _ in range(QOS_WRITES)]
        pid = self.cluster.daemon_pid("mariadbd")
        os.kill(pid, signal.SIGTERM)
        try:
            bringup.wait_for(60, "mariadbd to exit", lambda: not bringup.alive(pid))
            work = [("GET", path, None, "alice") for path in QOS_READS * 3]
            work += [("POST", "/slurmdb/v0.0.38/qos", {"QOS": [{"name": n}]}, "root")
                     for n in names]
            answers = await defer.gatherResults([
                defer.ensureDeferred(self.ask_as(url, m, p, b, u)) for m, p, b, u in work])
            for (method, path, _, _), (status, doc) in zip(work, answers):
                self.assertIn(status, documented(method, path), (path, status, doc))
        finally:
            bringup.start_mariadb(self.cluster.layout)
        # slurmdbd reconnects by itself; wait until it answers again.
        for _ in range(120):
            status, _ = await self.ask_as(url, "GET", "/slurmdb/v0.0.38/qos")
            if status == 200:
                break
            await deferLater(reactor, 0.5, lambda: None)
        else:
            self.fail("accounting did not come back")
        existing = self.qos_names()
        try:
            for name, (status, doc) in zip(names, answers[len(QOS_READS) * 3:]):
                if status == 200:
                    self.assertIn(name, existing)
                else:
                    self.assertNotIn(name, existing, (status, doc))
        finally:
            made = [n for n in names if n in existing]
            if made:
                self.cluster.run(["sacctmgr", "-i", "delete", "qos", *made], check=False)
