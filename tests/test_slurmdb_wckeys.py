"""``/slurmdb/.../wckeys`` and ``/wckey/{name}`` against the real cluster: a wckey added
through the API is seen by ``sacctmgr -nP show wckey`` and by the real slurmrestd as ours
shows it, then removed again; refused writes change nothing. (No TrackWCKey needed:
slurmdbd stores and lists wckeys whatever slurmctld tracks.) Names made here start with
d3tmp."""

from slurmrest.wire.errors import ESLURM_ACCESS_DENIED, ESLURM_REST_EMPTY_RESULT
from tests.accounting_live import AccountingLiveTestCase


class WckeyTests(AccountingLiveTestCase):
    def setUp(self):
        super().setUp()
        self.addCleanup(self.cleanup)

    async def cleanup(self):
        await self.ours("DELETE", f"/wckey/{self.tag}")

    def shown(self):
        return self.sacctmgr("show", "wckey", self.tag, "format=wckey,cluster,user")

    async def test_add_read_delete(self):
        cluster = self.cluster.cluster_name
        status, doc = await self.ours("POST", "/wckeys", {"wckeys": [
            {"name": self.tag, "cluster": cluster, "user": "bob"}]})
        self.assertEqual((status, doc["errors"]), (200, []))
        self.assertEqual(self.shown(), [[self.tag, cluster, "bob"]])
        status, doc = await self.ours("GET", f"/wckey/{self.tag}")
        [wckey] = doc["wckeys"]
        self.assertEqual((wckey["name"], wckey["cluster"], wckey["user"]),
                         (self.tag, cluster, "bob"))
        await self.assert_same_as_restd(f"/wckey/{self.tag}")
        await self.assert_same_as_restd("/wckeys")
        status, all_keys = await self.ours("GET", "/wckeys")
        self.assertEqual({(w["name"], w["cluster"], w["user"]) for w in all_keys["wckeys"]
                          if "DELETED" not in w["flags"]},
                         {tuple(r) for r in self.sacctmgr("show", "wckey",
                                                          "format=wckey,cluster,user")})
        status, doc = await self.ours("DELETE", f"/wckey/{self.tag}")
        self.assertEqual(status, 200)
        self.assertTrue(doc["deleted_wckeys"])
        self.assertEqual(self.shown(), [])
        status, doc = await self.ours("DELETE", f"/wckey/{self.tag}")
        self.assertEqual(status, 404)
        self.assertEqual(doc["errors"][0]["error_number"], ESLURM_REST_EMPTY_RESULT)

    async def test_unknown_wckey_is_404(self):
        await self.assert_same_as_restd(f"/wckey/{self.tag}", status=404)

    async def test_bad_bodies_write_nothing(self):
        cluster = self.cluster.cluster_name
        bad = [
            {"wckeys": [{"name": self.tag, "cluster": cluster}]},                 # no user
            {"wckeys": [{"name": self.tag, "cluster": f"{self.tag}c", "user": "bob"}]},
            {"wckeys": [{"name": self.tag, "cluster": cluster, "user": f"{self.tag}u"}]},
            {"wckeys": [{"name": self.tag, "cluster": cluster, "user": "bob", "id": "x"}]},
            {"wckeys": [{"name": self.tag, "cluster": cluster, "user": "bob", "x": 1}]},
            {"wckeys": [{"name": self.tag, "cluster": cluster, "user": "bob"}, "nope"]},
        ]
        for body in bad:
            status, _ = await self.ours("POST", "/wckeys", body)
            self.assertEqual(status, 400, body)
        self.assertEqual(self.shown(), [])

    async def test_alice_is_refused(self):
        status, doc = await self.ours("POST", "/wckeys", {"wckeys": [
            {"name": self.tag, "cluster": self.cluster.cluster_name, "user": "alice"}]},
            user="alice")
        self.assertEqual(status, 403)
        self.assertEqual(doc["errors"][0]["error_number"], ESLURM_ACCESS_DENIED)
        await self.compare_refusal("POST", "/wckeys", {"wckeys": [
            {"name": self.tag, "cluster": self.cluster.cluster_name, "user": "alice",
             "id": 0}]})
        self.assertEqual(self.shown(), [])
        # reading wckeys is for operators too: slurmrestd answers 500
        await self.assert_same_as_restd("/wckeys", user="alice", status=403,
                                        ignore=("errors/*/description",))
