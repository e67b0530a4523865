"""``/slurmdb/v0.0.38/tres``: GET against ``sacctmgr -P show tres withdeleted`` and the real
slurmrestd; POST refused as slurmrestd 22.05 refuses it (status 501, not 500), bad bodies 400.

Needs ``SLURMREST_TEST_CLUSTER`` (and slurmrestd for the differential tests).
"""

from __future__ import annotations

from tests import differential
from tests.test_slurmdb_qos import QosTestCase

TRES = "/slurmdb/v0.0.38/tres"


class TresTests(QosTestCase):
    def show_tres(self):
        return [tuple(r) for r in self.sacctmgr("show", "tres", "withdeleted",
                                                 "format=type,name,id")]

    async def test_matches_sacctmgr(self):
        status, doc = await self.request("GET", TRES, user="alice")
        self.assertEqual(status, 200)
        ours = [(t["type"], t["name"] or "", str(t["id"])) for t in doc["TRES"]]
        self.assertEqual(sorted(ours), sorted(self.show_tres()))
        # the deleted placeholder slurmrestd lists too (its tres_cond has with_deleted=1)
        self.assertIn(("dynamic_offset", "", "1000"), ours)

    async def test_differential(self):
        for user in ("alice", "root"):
            for prefix in ("/slurmdb/v0.0.38", "/slurmdb/v1"):
                cmp = await differential.compare(self.cluster, "/slurmdb/v0.0.38/tres",
                                                 user=user, our_path=f"{prefix}/tres")
                differential.assert_same(self, cmp)
                self.assertGreaterEqual(len(cmp.ours["TRES"]), 9)

    async def test_post_refused(self):
        before = self.show_tres()
        body = {"TRES": [{"type": "gres", "name": "d4tmp", "count": 1}]}
        cmp = await differential.compare(self.cluster, TRES, user="root", method="POST",
                                         body=body)
        differential.assert_same(self, cmp, status=501)  # slurmrestd: 500
        self.assertEqual(cmp.ours["errors"][0]["description"],
                         "Updating TRES is not currently supported.")
        for bad in ({"TRES": {"type": "cpu"}}, {"TRES": [5]}, {"TRES": [{"name": "x"}]},
                    {"TRES": [{"type": "cpu", "colour": 1}]}, {"other": []}, []):
            status, doc = await self.request("POST", TRES, bad)
            self.assertEqual(status, 400, (bad, doc))
        status, doc = await self.request("POST", TRES, body, user="alice")
        self.assertEqual(status, 501)
        self.assertEqual(self.show_tres(), before)

