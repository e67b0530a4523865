"""What the live tests of the accounting records (accounts, clusters, wckeys) share: the
cluster, requests to our in-process slurmrest, and ``sacctmgr -nP`` as the cross-check.

Names added by these tests start with ``d3tmp`` and a random tag; every test removes what it
added (through ``sacctmgr`` when the API under test may have failed to).
"""

from __future__ import annotations

import json
import uuid

from twisted.trial import unittest

from slurmrest.testing.cluster import Cluster
from tests import differential

V = "/slurmdb/v0.0.38"


class AccountingLiveTestCase(unittest.TestCase):
    timeout = 120

    def setUp(self):
        self.cluster = Cluster.from_environment()
        self.tag = f"d3tmp{uuid.uuid4().hex[:6]}"

    async def tearDown(self):
        await differential.stop_ours()

    async def ours(self, method: str, path: str, body=None, *, user: str = "root",
                   prefix: str = V):
        """(status, document) of slurmrest answering ``method prefix+path`` as ``user``."""
        url = await differential.start_ours(self.cluster)
        headers = {"X-SLURM-USER-NAME": user, "X-SLURM-USER-TOKEN": self.cluster.token(user)}
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        status, raw = await differential._request(url + prefix + path, method, headers, data)
        return status, differential._decode(raw)

    def sacctmgr(self, *argv) -> list[list[str]]:
        out = self.cluster.run(["sacctmgr", "-nP", *argv]).stdout
        return [line.split("|") for line in out.splitlines() if line.strip()]

    def sacctmgr_quiet(self, *argv) -> None:
        """A cleanup step: ``sacctmgr -i``, whatever it answers."""
        self.cluster.run(["sacctmgr", "-i", *argv], check=False)

    async def assert_same_as_restd(self, path: str, *, user: str = "root", status=None,
                                   ignore=()):
        cmp = await differential.compare(self.cluster, V + path, user=user, ignore=ignore)
        differential.assert_same(self, cmp, status=status)
        return cmp

    async def compare_refusal(self, method: str, path: str, body):
        """A write alice may not make, sent to both servers: the same entries (ours with
        Slurm's description beside them), 403 here, nothing written by either."""
        cmp = await differential.compare(self.cluster, V + path, user="alice", method=method,
                                         body=body, ignore=("errors/*/description",))
        differential.assert_same(self, cmp, status=403)
        return cmp
