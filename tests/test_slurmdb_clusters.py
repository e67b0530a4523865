"""``/slurmdb/.../clusters`` and ``/cluster/{name}`` against the real cluster: reads agree
with ``sacctmgr -nP show cluster`` and with the real slurmrestd; a fake second cluster is
added and removed again (seen by ``sacctmgr``); the cluster of our slurmctld is never
removed or reset. Names made here start with d3tmp."""

from slurmrest.wire.errors import ESLURM_ACCESS_DENIED, ESLURM_REST_EMPTY_RESULT
from tests.accounting_live import AccountingLiveTestCase


class ClusterReadTests(AccountingLiveTestCase):
    async def test_clusters_match_sacctmgr(self):
        status, doc = await self.ours("GET", "/clusters")
        self.assertEqual(status, 200)
        ours = {(c["name"], c["controller"]["host"], str(c["controller"]["port"]),
                 str(c["rpc_version"])) for c in doc["clusters"]}
        theirs = {tuple(r) for r in self.sacctmgr(
            "show", "cluster", "format=cluster,controlhost,controlport,rpc")}
        self.assertEqual(ours, theirs)
        [tres] = self.sacctmgr("show", "cluster", self.cluster.cluster_name, "format=tres")
        [mine] = [c for c in doc["clusters"] if c["name"] == self.cluster.cluster_name]
        names = {"cpu": "cpu", "mem": "mem", "node": "node", "billing": "billing"}
        shown = dict(item.split("=") for item in tres[0].split(","))
        for t in mine["tres"]:
            if t["type"] in names and t["type"] in shown:
                self.assertEqual(shown[t["type"]].rstrip("M"), str(t["count"]))

    async def test_clusters_same_as_slurmrestd(self):
        for user in ("root", "alice"):
            await self.assert_same_as_restd("/clusters", user=user)
            await self.assert_same_as_restd(f"/cluster/{self.cluster.cluster_name}",
                                            user=user)

    async def test_unknown_cluster_is_404(self):
        cmp = await self.assert_same_as_restd(f"/cluster/{self.tag}", status=404)
        self.assertEqual(cmp.reference_status, 500)


class ClusterWriteTests(AccountingLiveTestCase):
    def setUp(self):
        super().setUp()
        self.addCleanup(self.sacctmgr_quiet, "delete", "cluster", self.tag)

    def shown(self, name):
        return self.sacctmgr("show", "cluster", name, "format=cluster,controlhost,controlport")

    async def test_add_and_delete_a_second_cluster(self):
        status, doc = await self.ours("POST", "/clusters", {"clusters": [{"name": self.tag}]})
        self.assertEqual((status, doc["errors"]), (200, []))
        self.assertEqual(self.shown(self.tag), [[self.tag, "", "0"]])
        status, doc = await self.ours("GET", f"/cluster/{self.tag}")
        self.assertEqual(doc["clusters"][0]["name"], self.tag)
        await self.assert_same_as_restd(f"/cluster/{self.tag}")
        status, doc = await self.ours("DELETE", f"/cluster/{self.tag}")
        self.assertEqual((status, doc["deleted_clusters"]), (200, [self.tag]))
        self.assertEqual(self.shown(self.tag), [])
        status, doc = await self.ours("DELETE", f"/cluster/{self.tag}")
        self.assertEqual(status, 404)
        self.assertEqual(doc["errors"][0]["error_number"], ESLURM_REST_EMPTY_RESULT)

    async def test_our_cluster_is_neither_reset_nor_removed(self):
        name = self.cluster.cluster_name
        before = self.shown(name)
        status, _ = await self.ours("POST", "/clusters", {"clusters": [{"name": name}]})
        self.assertEqual(status, 409)
        status, doc = await self.ours("DELETE", f"/cluster/{name}")
        self.assertEqual(status, 409)
        self.assertIn("slurmctld", doc["errors"][0]["description"])
        self.assertEqual(self.shown(name), before)

    async def test_bad_bodies_write_nothing(self):
        bad = [
            {"clusters": [{"name": self.tag, "nodes": "n1"}]},      # reported by slurmctld
            {"clusters": [{"name": self.tag, "flags": ["NOSUCH"]}]},
            {"clusters": [{"name": self.tag}, {"name": 3}]},
            {"clusters": [{"name": self.tag}, {"name": self.tag}]},
            {"clusters": [{}]},
            {"clusters": [{"name": self.tag}], "extra": 1},
        ]
        for body in bad:
            status, doc = await self.ours("POST", "/clusters", body)
            self.assertEqual(status, 400, body)
        self.assertEqual(self.shown(self.tag), [])

    async def test_alice_is_refused(self):
        status, doc = await self.ours("POST", "/clusters", {"clusters": [{"name": self.tag}]},
                                      user="alice")
        self.assertEqual(status, 403)
        self.assertEqual(doc["errors"][0]["error_number"], ESLURM_ACCESS_DENIED)
        await self.compare_refusal("POST", "/clusters", {"clusters": [{"name": self.tag}]})
        self.assertEqual(self.shown(self.tag), [])
