"""``GET/POST /slurmdb/.../config`` against the real cluster: the dump is the other
operations' answers side by side (and slurmrestd's), a dump loads back changing nothing, a
load is one transaction (everything seen by sacctmgr, or nothing at all), and alice may
neither dump nor load."""

from __future__ import annotations

from tests import differential
from tests.accounting_live import AccountingLiveTestCase

#: What sacctmgr shows of everything POST /config can change.
SHOWS = (("show", "cluster", "format=cluster,flags"),
         ("show", "account", "format=account,descr,org"),
         ("show", "user", "format=user,defaultaccount,adminlevel"),
         ("show", "qos", "format=name,priority,maxjobspu,maxwall,preempt,flags"),
         ("show", "wckey", "format=wckey,cluster,user"),
         ("show", "assoc", "format=cluster,account,user,partition,parentname,share,"
                           "maxjobs,grptres,qos,defaultqos"))


class ConfigTests(AccountingLiveTestCase):
    def everything(self):
        return [sorted(map(tuple, self.sacctmgr(*show))) for show in SHOWS]

    def cleanup(self):
        tag = self.tag
        self.sacctmgr_quiet("delete", "user", f"{tag}u")
        self.sacctmgr_quiet("delete", "account", f"{tag}a")
        self.sacctmgr_quiet("delete", "qos", f"{tag}q")

    async def test_dump_is_the_parts_and_slurmrestds(self):
        status, doc = await self.ours("GET", "/config")
        self.assertEqual(status, 200, doc)
        self.assertEqual([k for k in doc if k not in ("meta", "errors")],
                         ["clusters", "TRES", "accounts", "users", "QOS", "wckeys",
                          "associations"])
        for key, path in (("clusters", "/clusters"), ("TRES", "/tres"),
                          ("accounts", "/accounts"), ("users", "/users"), ("QOS", "/qos"),
                          ("associations", "/associations")):
            part_status, part = await self.ours("GET", path)
            self.assertEqual(part_status, 200)
            self.assertEqual(doc[key], part[key], key)
        self.assertEqual(sorted(a["name"] for a in doc["accounts"]),
                         sorted(row[0] for row in self.sacctmgr("show", "account",
                                                                 "format=account")))
        # slurmrestd's dump: the same, but for its "Nothing found" entry when there are no
        # wckeys (we answer an empty list, as GET /wckeys does)
        cmp = await differential.compare(self.cluster, "/slurmdb/v0.0.38/config", user="root",
                                         ignore=("errors", "errors/*"))
        differential.assert_same(self, cmp)

    async def test_alice_may_not_dump_or_load(self):
        status, doc = await self.ours("GET", "/config", user="alice")
        self.assertEqual(status, 403)
        self.assertEqual(doc["errors"][0]["error"], "Access/permission denied")
        before = self.everything()
        self.addCleanup(self.cleanup)
        status, doc = await self.ours("POST", "/config", {
            "accounts": [{"name": f"{self.tag}a", "description": "x", "organization": "y"}]},
            user="alice")
        self.assertEqual(status, 403, doc)
        self.assertEqual(self.everything(), before)

    async def test_dump_loads_back_changing_nothing(self):
        before = self.everything()
        status, dump = await self.ours("GET", "/config")
        self.assertEqual(status, 200)
        body = {k: v for k, v in dump.items() if k not in ("meta", "errors")}
        status, doc = await self.ours("POST", "/config", body)
        self.assertEqual(status, 200, doc)
        self.assertEqual(doc["errors"], [])
        self.assertEqual(self.everything(), before)

    async def test_load_is_one_transaction(self):
        tag = self.tag
        self.addCleanup(self.cleanup)
        load = {
            "accounts": [{"name": f"{tag}a", "description": "config test",
                          "organization": "tests"}],
            "users": [{"name": f"{tag}u", "default": {"account": f"{tag}a"},
                       "associations": [{"account": f"{tag}a", "cluster": "testcluster",
                                         "user": f"{tag}u"}]}],
            "QOS": [{"name": f"{tag}q", "description": "config test", "priority": 7,
                     "limits": {"max": {"jobs": {"active_jobs": {"per": {"user": 3}}}}}}],
            "associations": [{"account": f"{tag}a", "cluster": "testcluster",
                              "parent_account": "root",
                              "max": {"jobs": {"active": 11}}}],
        }
        before = self.everything()
        # One bad entry (a QOS limit that is not a number): 400, and none of it written.
        bad = dict(load, QOS=[load["QOS"][0], {"name": f"{tag}q2",
                                               "limits": {"max": {"jobs": {"per": {
                                                   "user": "many"}}}}}])
        status, doc = await self.ours("POST", "/config", bad)
        self.assertEqual(status, 400, doc)
        self.assertEqual(self.everything(), before)
        # Refused by slurmdbd in the middle (an association of an account nobody adds):
        # the account, user and QOS written before it in the transaction are gone too.
        late = dict(load, associations=[*load["associations"],
                                        {"account": f"{tag}nosuch", "cluster": "testcluster",
                                         "user": f"{tag}u"}])
        status, doc = await self.ours("POST", "/config", late)
        self.assertIn(status, (400, 404, 409), doc)
        self.assertEqual(self.everything(), before)
        # The whole load: everything seen by sacctmgr.
        status, doc = await self.ours("POST", "/config", load)
        self.assertEqual(status, 200, doc)
        self.assertEqual(self.sacctmgr("show", "account", f"{tag}a", "format=account,descr"),
                         [[f"{tag}a", "config test"]])
        self.assertEqual(self.sacctmgr("show", "user", f"{tag}u", "format=user,defaultaccount"),
                         [[f"{tag}u", f"{tag}a"]])
        self.assertEqual(self.sacctmgr("show", "qos", f"{tag}q", "format=name,priority,maxjobspu"),
                         [[f"{tag}q", "7", "3"]])
        self.assertEqual(self.sacctmgr("show", "assoc", f"account={tag}a", "user=",
                                       "format=account,user,maxjobs"),
                         [[f"{tag}a", "", "11"]])

    async def test_bad_documents(self):
        before = self.everything()
        for body in ([], {"nonsense": []}, {}, {"TRES": []}, {"accounts": "x"},
                     {"accounts": [{"name": 5}]}):
            status, doc = await self.ours("POST", "/config", body)
            self.assertEqual(status, 400, (body, doc))
            self.assertTrue(doc["errors"], body)
        self.assertEqual(self.everything(), before)

    async def test_v1_is_the_same(self):
        status, v38 = await self.ours("GET", "/config")
        status1, v1 = await self.ours("GET", "/config", prefix="/slurmdb/v1")
        self.assertEqual((status, status1), (200, 200))
        self.assertEqual({k: v for k, v in v38.items() if k != "meta"},
                         {k: v for k, v in v1.items() if k != "meta"})

    async def test_user_needs_its_accounts_association(self):
        """slurmdbd answers only "Unspecified error" for a user under an account that has no
        association on the cluster: refused first, with sacctmgr's reason, nothing written."""
        tag = self.tag
        self.addCleanup(self.cleanup)
        status, _ = await self.ours("POST", "/accounts", {"accounts": [
            {"name": f"{tag}a", "description": "x", "organization": "y"}]})
        self.assertEqual(status, 200)
        before = self.everything()
        user = {"name": f"{tag}u", "default": {"account": f"{tag}a"},
                "associations": [{"account": f"{tag}a", "cluster": "testcluster",
                                  "user": f"{tag}u"}]}
        for path, body in (("/users", {"users": [user]}), ("/config", {"users": [user]})):
            status, doc = await self.ours("POST", path, body)
            self.assertEqual(status, 400, doc)
            (entry,) = doc["errors"]
            self.assertEqual(entry["error_number"], 2045)
            self.assertIn("has no association on cluster 'testcluster'", entry["description"])
        self.assertEqual(self.everything(), before)
