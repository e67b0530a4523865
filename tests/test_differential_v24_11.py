"""Our ``/slurm/v1`` and ``/slurm/v0.0.38`` documents on Slurm 24.11, against slurmrestd
24.11's v0.0.40 ones (the second release's chroot cluster: ``SLURMREST_TEST_CLUSTER2``).

The shapes differ (v0.0.40 writes numbers as ``{set, infinite, number}`` and states as
lists), so the comparison is by meaning, field by field where both name the same thing:
job ids, states, users, partitions, nodes, times, TRES, limits; node and partition facts.
Also: the same document under /slurm/v1 and /slurm/v0.0.38 on 24.11 as its 22.05 shape
(no field of 22.05's document is missing: fields only 24.11 has are additions).
"""

import json
import uuid

import treq
from twisted.internet import reactor, threads
from twisted.trial import unittest

from slurmrest.testing.second import ChrootCluster

REFERENCE_API = "v0.0.40"


def number(value):
    """v0.0.40's number object (or a plain value) as ours writes it: a plain value."""
    if isinstance(value, dict) and "number" in value:
        if value.get("infinite"):
            return "infinite"
        return value["number"] if value.get("set") else None
    return value


def ours_number(value):
    if isinstance(value, dict) and "number" in value:  # v0.0.38's own number objects
        return number(value)
    return value


class Differential2411Tests(unittest.TestCase):

    timeout = 120

    def setUp(self):
        self.cluster = ChrootCluster.from_environment()
        if not self.cluster.restd_url:
            raise unittest.SkipTest("the 24.11 cluster has no slurmrestd to compare with")
        from slurmrest.tap import make_gateway
        from slurmrest.web.channel import GatewaySite
        from slurmrest.wire.conf import SlurmConfig
        self.gateway = make_gateway(SlurmConfig.load(self.cluster.slurm_conf),
                                    jwt_key=self.cluster.jwt_key_path, reactor=reactor)
        self.port = reactor.listenTCP(0, GatewaySite(self.gateway), interface="127.0.0.1")
        self.ours = f"http://127.0.0.1:{self.port.getHost().port}"
        self.addCleanup(self.port.stopListening)
        if self.gateway.dbd is not None:
            self.addCleanup(self.gateway.dbd.close)
        self.tag = f"diff2411-{uuid.uuid4().hex[:8]}"
        self.jobs = []
        self.addCleanup(lambda: self.cluster.cancel(*self.jobs))

    async def get(self, base, path, user="root"):
        token = await threads.deferToThread(self.cluster.token, user)
        headers = {"X-SLURM-USER-NAME": user, "X-SLURM-USER-TOKEN": token}
        response = await treq.get(base + path, headers=headers, persistent=False)
        body = await response.content()
        self.assertEqual(response.code, 200, body[:500])
        return json.loads(body)

    async def both(self, what, user="root"):
        theirs = await self.get(self.cluster.restd_url, f"/slurm/{REFERENCE_API}/{what}", user)
        ours = await self.get(self.ours, f"/slurm/v1/{what}", user)
        return theirs, ours

    async def submit(self, *extra, user="alice", command="sleep 300"):
        job_id = await threads.deferToThread(self.cluster.submit, command, user, self.tag,
                                             list(extra))
        self.jobs.append(job_id)
        return job_id

    async def test_jobs_mean_the_same(self):
        held = await self.submit("--hold", "-t", "7")
        running = await self.submit("-N1", "-t", "5")
        array = await self.submit("--array=1-3", "-N2", user="bob")
        theirs, ours = await self.both("jobs")
        fields = ("job_id", "name", "user_name", "group_name", "account", "partition",
                  "qos", "nodes", "tres_req_str", "array_job_id", "array_task_id",
                  "submit_time", "time_limit", "priority", "node_count", "cpus",
                  "batch_flag", "state_reason")

        def facts(job, convert):
            out = {f: convert(job.get(f)) for f in fields}
            state = job["job_state"]
            out["job_state"] = state[0] if isinstance(state, list) else state
            return out

        mine = {j["job_id"]: facts(j, ours_number) for j in ours["jobs"]
                if j["name"] == self.tag}
        reference = {j["job_id"]: facts(j, number) for j in theirs["jobs"]
                     if j["name"] == self.tag}
        # The array's tasks get records of their own when they start: one may do so
        # between the two requests. Any other job is in both.
        for extra in set(mine) ^ set(reference):
            self.assertEqual({**mine, **reference}[extra]["array_job_id"], array)
        for job_id in (held, running):
            self.assertIn(job_id, mine)
            self.assertIn(job_id, reference)
        self.assertTrue(any(f["array_job_id"] == array for f in mine.values()))
        for job_id, expected in reference.items():
            if job_id not in mine:
                continue
            got = mine[job_id]
            for key, value in expected.items():
                if key in ("job_state", "nodes", "state_reason") and \
                        expected["job_state"] != got["job_state"]:
                    continue  # the job moved between the two requests
                self.assertEqual(got[key], value, f"job {job_id} {key}")

    async def test_nodes_mean_the_same(self):
        theirs, ours = await self.both("nodes")

        def facts(node, convert):
            out = {f: convert(node.get(f)) for f in (
                "name", "hostname", "address", "cpus", "sockets", "cores", "threads",
                "real_memory", "tmp_disk", "weight", "partitions", "tres", "boards",
                "reason")}
            features = node.get("features")  # a comma list in v0.0.38, a list in v0.0.40
            out["features"] = sorted(features.split(",") if isinstance(features, str)
                                     and features else features or [])
            return out

        self.assertEqual(sorted((facts(n, ours_number) for n in ours["nodes"]),
                                key=lambda f: f["name"]),
                         sorted((facts(n, number) for n in theirs["nodes"]),
                                key=lambda f: f["name"]))

    async def test_partitions_mean_the_same(self):
        theirs, ours = await self.both("partitions")
        mine = {p["name"]: p for p in ours["partitions"]}
        for part in theirs["partitions"]:
            got = mine[part["name"]]
            self.assertEqual(got["nodes"], part["nodes"]["configured"])
            self.assertEqual(got["total_cpus"], part["cpus"]["total"])
            self.assertEqual(got["total_nodes"], part["nodes"]["total"])
            self.assertEqual(got["max_time_limit"], number(part["maximums"]["time"]))

    async def test_submit_update_cancel_through_v1(self):
        """The 22.05-shaped write documents work on 24.11 (its job_desc, its identity rule:
        the caller's credential, SLURM_AUTH_NOBODY on the wire)."""
        token = await threads.deferToThread(self.cluster.token, "alice")
        headers = {"X-SLURM-USER-NAME": "alice", "X-SLURM-USER-TOKEN": token,
                   "Content-Type": "application/json"}
        doc = {"job": {"name": self.tag, "partition": "debug", "time_limit": 3, "hold": True,
                       "current_working_directory": "/tmp",
                       "environment": {"PATH": "/bin:/usr/bin"}},
               "script": "#!/bin/sh\nsleep 30\n"}
        response = await treq.post(self.ours + "/slurm/v1/job/submit", json.dumps(doc).encode(),
                                   headers=headers, persistent=False)
        answer = json.loads(await response.content())
        self.assertEqual(response.code, 200, answer)
        job_id = answer["job_id"]
        self.jobs.append(job_id)
        line = await threads.deferToThread(lambda: self.cluster.run(
            ["squeue", "-h", "-j", str(job_id), "-o", "%j|%u|%l|%r"]).stdout.strip())
        self.assertEqual(line, f"{self.tag}|alice|3:00|JobHeldUser")
        response = await treq.post(self.ours + f"/slurm/v1/job/{job_id}",
                                   json.dumps({"time_limit": 4}).encode(), headers=headers,
                                   persistent=False)
        self.assertEqual(response.code, 200, await response.content())
        line = await threads.deferToThread(lambda: self.cluster.run(
            ["squeue", "-h", "-j", str(job_id), "-o", "%l"]).stdout.strip())
        self.assertEqual(line, "4:00")
        response = await treq.delete(self.ours + f"/slurm/v1/job/{job_id}", headers=headers,
                                     persistent=False)
        self.assertEqual(response.code, 200, await response.content())
        state = await threads.deferToThread(lambda: self.cluster.run(
            ["scontrol", "-o", "show", "job", str(job_id)]).stdout)
        self.assertIn("JobState=CANCELLED", state)

    async def test_v0_0_38_is_the_22_05_shape(self):
        """On 24.11, /slurm/v0.0.38 answers what slurmrestd 22.05.8's OpenAPI document
        says (failing it only where slurmrestd 22.05's own answers do: ``EXEMPT``), and
        /slurm/v1 the same document; meta names the real release."""
        from tests.test_reference_schema import EXEMPT, failures
        await self.submit("--hold")
        await self.submit("-N1")
        for what in ("jobs", "nodes", "partitions", "diag", "ping", "licenses",
                     "reservations"):
            v1 = await self.get(self.ours, f"/slurm/v1/{what}")
            old = await self.get(self.ours, f"/slurm/v0.0.38/{what}")
            self.assertEqual(sorted(v1), sorted(old), what)
            self.assertEqual(old["meta"]["Slurm"]["release"].split(".")[:2], ["24", "11"])
            broken = {w: m for w, m in failures(f"/slurm/v0.0.38/{what}", old).items()
                      if w not in EXEMPT}
            self.assertEqual(broken, {}, what)
