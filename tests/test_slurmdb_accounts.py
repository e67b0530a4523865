"""``/slurmdb/.../accounts`` and ``/account/{name}`` against the real cluster: reads agree
with ``sacctmgr -nP show account/assoc`` and with the real slurmrestd; every write is seen by
``sacctmgr`` afterwards; refused writes change nothing. Names made here start with d3tmp."""

from slurmrest.wire.errors import (
    ESLURM_ACCESS_DENIED, ESLURM_JOBS_RUNNING_ON_ASSOC, ESLURM_NO_REMOVE_DEFAULT_ACCOUNT,
    ESLURM_REST_EMPTY_RESULT, ESLURM_REST_INVALID_QUERY,
)
from tests.accounting_live import AccountingLiveTestCase


class AccountReadTests(AccountingLiveTestCase):
    async def test_accounts_match_sacctmgr(self):
        status, doc = await self.ours("GET", "/accounts")
        self.assertEqual(status, 200)
        ours = {(a["name"], a["description"], a["organization"]) for a in doc["accounts"]}
        theirs = {tuple(r) for r in self.sacctmgr("show", "account",
                                                   "format=account,descr,org")}
        self.assertEqual(ours, theirs)
        assocs = {(s["account"], s["cluster"], s["user"] or "", s["partition"] or "")
                  for a in doc["accounts"] for s in a["associations"]}
        self.assertEqual(assocs, {tuple(r) for r in self.sacctmgr(
            "show", "assoc", "format=account,cluster,user,partition")})

    async def test_accounts_same_as_slurmrestd(self):
        for user in ("root", "alice"):
            await self.assert_same_as_restd("/accounts", user=user)
            await self.assert_same_as_restd("/accounts?with_deleted=true", user=user)
            await self.assert_same_as_restd("/account/science", user=user)

    async def test_unknown_account_is_404(self):
        cmp = await self.assert_same_as_restd(f"/account/{self.tag}", status=404)
        self.assertEqual(cmp.reference_status, 500)
        self.assertEqual(cmp.ours["errors"][0]["error_number"], ESLURM_REST_EMPTY_RESULT)

    async def test_v1_prefix(self):
        v0 = await self.ours("GET", "/accounts")
        v1 = await self.ours("GET", "/accounts", prefix="/slurmdb/v1")
        self.assertEqual(v0[0], 200)
        self.assertEqual(v0[1]["accounts"], v1[1]["accounts"])

    async def test_unknown_query_field_is_400(self):
        status, _ = await self.ours("GET", "/accounts?bogus=1")
        self.assertEqual(status, 400)


class AccountWriteTests(AccountingLiveTestCase):
    def setUp(self):
        super().setUp()
        self.addCleanup(self.sacctmgr_quiet, "delete", "user", f"{self.tag}u")
        self.addCleanup(self.sacctmgr_quiet, "delete", "account", self.tag)

    def shown(self):
        return self.sacctmgr("show", "account", self.tag, "format=account,descr,org")

    async def test_add_modify_delete(self):
        status, doc = await self.ours("POST", "/accounts", {"accounts": [
            {"name": self.tag, "description": "temp", "organization": "lab"}]})
        self.assertEqual((status, doc["errors"]), (200, []))
        self.assertEqual(self.shown(), [[self.tag, "temp", "lab"]])
        # adding again re-describes it; what the body leaves out stays
        status, _ = await self.ours("POST", "/accounts", {"accounts": [
            {"name": self.tag, "organization": "lab2"}]})
        self.assertEqual(status, 200)
        self.assertEqual(self.shown(), [[self.tag, "temp", "lab2"]])
        status, doc = await self.ours("GET", f"/account/{self.tag}")
        self.assertEqual(doc["accounts"][0]["organization"], "lab2")
        status, doc = await self.ours("DELETE", f"/account/{self.tag}")
        self.assertEqual((status, doc["removed_associations"]), (200, [self.tag]))
        self.assertEqual(self.shown(), [])
        status, doc = await self.ours("DELETE", f"/account/{self.tag}")
        self.assertEqual(status, 404)
        self.assertEqual(doc["errors"][0]["error_number"], ESLURM_REST_EMPTY_RESULT)

    async def test_new_account_described_by_its_name(self):
        status, _ = await self.ours("POST", "/accounts", {"accounts": [{"name": self.tag}]})
        self.assertEqual(status, 200)
        self.assertEqual(self.shown(), [[self.tag, self.tag, self.tag]])

    async def test_bad_bodies_write_nothing(self):
        bad = [
            {"accounts": [{"name": f"{self.tag}"}, {"name": 5}]},     # second one's type
            {"accounts": [{"name": self.tag, "bogus": 1}]},           # unknown field
            {"accounts": [{"description": "no name"}]},               # required field
            {"accounts": [{"name": self.tag, "flags": ["NOSUCH"]}]},  # unknown flag
            {"accounts": [{"name": self.tag, "coordinators": [{"name": "bob"}]}]},
            {"accounts": {"name": self.tag}},                         # not a list
            {"accounts": []},
            {"account": [{"name": self.tag}]},                        # unknown key
            [{"name": self.tag}],
        ]
        for body in bad:
            status, doc = await self.ours("POST", "/accounts", body)
            self.assertEqual(status, 400, body)
            self.assertEqual(doc["errors"][0]["error_number"], ESLURM_REST_INVALID_QUERY)
            self.assertTrue(doc["errors"][0]["description"])
        status, _ = await self.ours("POST", "/accounts", b"{not json")
        self.assertEqual(status, 400)
        self.assertEqual(self.shown(), [])

    async def test_alice_is_refused(self):
        status, doc = await self.ours("POST", "/accounts", {"accounts": [{"name": self.tag}]},
                                      user="alice")
        self.assertEqual(status, 403)
        self.assertEqual(doc["errors"][0]["error_number"], ESLURM_ACCESS_DENIED)
        self.assertEqual(doc["errors"][0]["error"], "Access/permission denied")
        self.assertEqual(self.shown(), [])
        status, doc = await self.ours("DELETE", "/account/science", user="alice")
        self.assertEqual(status, 403)
        # slurmrestd words the same refusal (with a 500, and without Slurm's description)
        cmp = await self.compare_refusal("POST", "/accounts", {"accounts": [{"name": self.tag}]})
        self.assertEqual(cmp.reference_status, 500)
        self.assertTrue(self.sacctmgr("show", "assoc", "account=science", "format=account"))

    async def test_default_account_of_a_user_is_not_removed(self):
        user = f"{self.tag}u"
        self.cluster.run(["sacctmgr", "-i", "add", "account", self.tag, "cluster=testcluster"])
        self.cluster.run(["sacctmgr", "-i", "add", "user", user, f"account={self.tag}",
                          f"defaultaccount={self.tag}"])
        status, doc = await self.ours("DELETE", f"/account/{self.tag}")
        self.assertEqual(status, 409)
        self.assertEqual(doc["errors"][0]["error_number"], ESLURM_NO_REMOVE_DEFAULT_ACCOUNT)
        self.assertIn(user, doc["errors"][0]["description"])
        self.assertEqual(self.sacctmgr("show", "assoc", f"account={self.tag}", f"user={user}",
                                       "format=account,user"), [[self.tag, user]])

    async def test_account_with_running_jobs_is_not_removed(self):
        self.cluster.run(["sacctmgr", "-i", "add", "account", self.tag, "cluster=testcluster"])
        self.cluster.run(["sacctmgr", "-i", "add", "user", "bob", f"account={self.tag}"])
        self.addCleanup(self.sacctmgr_quiet, "delete", "user", "bob", f"account={self.tag}")
        job = self.cluster.submit("sleep 300", user="bob", name=self.tag,
                                  extra=["-A", self.tag, "-t", "5", "-n", "1"])
        self.addCleanup(self.cluster.wait_for_job_state, job, {None, "CANCELLED"})
        self.addCleanup(self.cluster.cancel, job)
        self.assertEqual(self.cluster.accounting_state(job, until=("RUNNING",)), "RUNNING")
        status, doc = await self.ours("DELETE", f"/account/{self.tag}")
        self.assertEqual(status, 409, doc)
        self.assertEqual(doc["errors"][0]["error_number"], ESLURM_JOBS_RUNNING_ON_ASSOC)
        self.assertIn(str(job), doc["errors"][0]["description"])
        self.assertEqual(self.sacctmgr("show", "assoc", f"account={self.tag}", "user=bob",
                                       "format=account,user"), [[self.tag, "bob"]])
