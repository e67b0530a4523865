"""The schemathesis findings of issue 13, each a 400 from the edge now, against the real
cluster (and nothing reaches Slurm: no job is created)."""

from __future__ import annotations

import json
import uuid

from twisted.trial import unittest

from slurmrest.api import validation
from tests import differential


class EdgeRefusalTests(unittest.TestCase):
    def setUp(self):
        from slurmrest.testing.cluster import Cluster

        self.cluster = Cluster.from_environment()

    async def tearDown(self):
        await differential.stop_ours()

    async def ask(self, method: str, path: str, body: bytes | None = None):
        url = await differential.start_ours(self.cluster)
        headers = {"X-SLURM-USER-NAME": "alice",
                   "X-SLURM-USER-TOKEN": self.cluster.token("alice"),
                   "Content-Type": "application/json"}
        status, data = await differential._request(url + path, method, headers, body)
        return status, json.loads(data)

    async def test_update_time_beyond_64_bits(self):
        for path in ("/slurm/v0.0.38/partition/debug", "/slurm/v0.0.38/jobs",
                     "/slurm/v1/nodes"):
            status, doc = await self.ask("GET", f"{path}?update_time={1 << 64}")
            self.assertEqual(status, 400, path)
            self.assertIn("update_time: out of range", doc["errors"][0]["description"])
            status, _ = await self.ask("GET", f"{path}?update_time={'9' * 5000}")
            self.assertEqual(status, 400, path)

    def squeue_comments(self) -> str:
        return self.cluster.run(["squeue", "-h", "-a", "-o", "%k"]).stdout

    async def test_submission_with_unencodable_name_reaches_no_one(self):
        comment = f"edge-{uuid.uuid4().hex}"
        body = ('{"script": "#!/bin/sh\\ntrue\\n", "job": {"name": "x\\ud800", '
                '"comment": "%s", "hold": true, "environment": {"A": "1"}}}' % comment)
        status, doc = await self.ask("POST", "/slurm/v0.0.38/job/submit", body.encode())
        self.assertEqual(status, 400)
        self.assertEqual(doc["errors"][0]["description"],
                         "body/job/name: is not encodable text (a lone surrogate)")
        self.assertNotIn(comment, self.squeue_comments())

    async def test_integers_beyond_slurm_in_a_body(self):
        body = json.dumps({"script": "#!/bin/sh\ntrue\n",
                           "job": {"nice": 1 << 70, "environment": {"A": "1"}}})
        status, doc = await self.ask("POST", "/slurm/v0.0.38/job/submit", body.encode())
        self.assertEqual((status, doc["errors"][0]["description"]),
                         (400, "body/job/nice: integer beyond 64 bits"))

    async def test_many_bad_elements_few_entries(self):
        body = json.dumps({"script": "#!/bin/sh\ntrue\n",
                           "job": {"argv": [1] * 100_000, "environment": {"A": "1"}}})
        status, doc = await self.ask("POST", "/slurm/v0.0.38/job/submit", body.encode())
        self.assertEqual(status, 400)
        self.assertEqual(len(doc["errors"]), validation.MAX_PROBLEMS + 1)

    async def test_accounting_name_its_tables_cannot_hold(self):
        # U+0091 is not in MySQL's latin1 (cp1252): slurmdbd answers MySQL's 1267.
        status, doc = await self.ask("GET", "/slurmdb/v0.0.38/account/%C2%91x")
        self.assertEqual(status, 400, doc)
        status, doc = await self.ask("GET", "/slurmdb/v0.0.38/account/%F0%9F%98%80")
        self.assertEqual(status, 400, doc)
        self.assertIn("beyond U+FFFF", doc["errors"][0]["description"])
