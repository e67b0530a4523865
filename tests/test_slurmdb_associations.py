"""``/slurmdb/.../associations`` and ``/association`` against the real test cluster.

Reads are cross-checked with ``sacctmgr -nP show assoc`` and with the real slurmrestd
(``differential.compare``); every write through the API is seen by ``sacctmgr`` afterwards,
a refused or failing write changes nothing, and whatever a test adds (names starting with
``d2tmp``) its cleanup removes.
"""

from __future__ import annotations

import json
import os
import uuid

from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.trial import unittest

from tests import differential
from tests.accounting_live import AccountingLiveTestCase

V38 = "/slurmdb/v0.0.38"


def wall(minutes: str) -> str:
    """A wall clock limit in minutes as sacctmgr -P prints it (``[D-]HH:MM:SS``)."""
    if minutes in ("", None):
        return ""
    m = int(minutes)
    days, m = divmod(m, 1440)
    text = f"{m // 60:02d}:{m % 60:02d}:00"
    return f"{days}-{text}" if days else text


def tres_text(entries: list[dict]) -> str:
    """An API TRES list as sacctmgr prints it (for TRES without units: cpu, node)."""
    return ",".join(f"{e['type']}{'/' + e['name'] if e['name'] else ''}={e['count']}"
                    for e in entries)


def limit(value) -> str:
    return "" if value is None else str(value)


class LiveAccounting(AccountingLiveTestCase):
    """What both modules of these tests add to tests/accounting_live.py: accounts and users
    made for a test (``d2tmp...``) and removed after it, refusals and schema checks."""

    def setUp(self):
        super().setUp()
        self.tag = f"d2tmp{uuid.uuid4().hex[:6]}"

    def add_account(self, name, parent="root"):
        self.cluster.run(["sacctmgr", "-i", "add", "account", name, f"parent={parent}",
                          f"cluster={self.cluster_name}", "Description=d2", "Organization=d2"])
        self.addCleanup(self.cluster.run, ["sacctmgr", "-i", "delete", "account", name],
                        check=False)

    def remove_user(self, name):
        self.addCleanup(self.cluster.run, ["sacctmgr", "-i", "delete", "user", name],
                        check=False)

    @property
    def cluster_name(self):
        rows = self.sacctmgr("show", "cluster", "format=cluster")
        return rows[0][0]

    async def api(self, method, path, body=None, user="root"):
        """(status, document) of slurmrest answering ``method path`` (a full path)."""
        return await self.ours(method, path, body, user=user, prefix="")

    async def assertFitsReference(self, path, template=None, user="root"):
        """Our answer fails slurmrestd 22.05's own OpenAPI schema only where its answer to
        the same request does (tests/test_reference_schema.py)."""
        from tests import test_reference_schema as reference
        if not os.path.exists(reference.REFERENCE):
            raise unittest.SkipTest(f"no {reference.REFERENCE} (set SLURMREST_SHARED)")
        cmp = await differential.compare(self.cluster, path, user=user)
        self.assertEqual((cmp.reference_status, cmp.our_status), (200, 200), cmp.report())
        theirs = reference.failures(template or path, cmp.reference)
        ours = reference.failures(template or path, cmp.ours)
        self.assertEqual({w: m for w, m in ours.items() if w not in theirs}, {}, path)

    def assertRefused(self, status, doc, expected, *words):
        self.assertEqual(status, expected, doc)
        self.assertTrue(doc["errors"], doc)
        text = json.dumps(doc["errors"])
        for word in words:
            self.assertIn(word, text)


#: sacctmgr's columns for the association fields the API prints.
ASSOC_FORMAT = ("cluster,account,user,partition,share,priority,grpjobs,grpjobsaccrue,"
                "grpsubmit,grpwall,maxjobs,maxjobsaccrue,maxsubmit,maxwall,grptres,maxtres,"
                "maxtrespernode,qos,defaultqos,parentname")


def sacctmgr_row(doc: dict) -> list[str]:
    """An API association as the ASSOC_FORMAT row sacctmgr prints for it."""
    m = doc["max"]
    shares = doc["shares_raw"]
    return [doc["cluster"], doc["account"], doc["user"] or "", doc["partition"] or "",
            "1" if shares is None else str(shares), limit(doc["priority"]),
            limit(m["jobs"]["per"]["count"]), limit(m["jobs"]["per"]["accruing"]),
            limit(m["jobs"]["per"]["submitted"]), wall(m["per"]["account"]["wall_clock"]),
            limit(m["jobs"]["active"]), limit(m["jobs"]["accruing"]), limit(m["jobs"]["total"]),
            wall(m["jobs"]["per"]["wall_clock"]), tres_text(m["tres"]["total"]),
            tres_text(m["tres"]["per"]["job"]), tres_text(m["tres"]["per"]["node"]),
            ",".join(doc["qos"] or []), doc["default"]["qos"] or "",
            doc["parent_account"] or ""]


class Reads(LiveAccounting):
    async def setup_limited(self):
        """An account with a user association carrying limits, set with sacctmgr."""
        self.add_account(self.tag)
        self.cluster.run(["sacctmgr", "-i", "add", "user", "bob", f"account={self.tag}",
                          f"cluster={self.cluster_name}", "GrpJobs=5", "MaxJobs=3",
                          "MaxSubmitJobs=9", "GrpTRES=cpu=4,node=2", "MaxTRES=cpu=2",
                          "MaxWall=90", "GrpWall=1500", "Priority=7", "Fairshare=3",
                          "QOS=normal,high", "DefaultQOS=high"])

    async def test_list_matches_sacctmgr(self):
        await self.setup_limited()
        status, doc = await self.api("GET", f"{V38}/associations")
        self.assertEqual(status, 200, doc)
        ours = sorted(sacctmgr_row(a) for a in doc["associations"])
        theirs = sorted(self.sacctmgr("show", "assoc", f"format={ASSOC_FORMAT}"))
        self.assertEqual(ours, theirs)
        mine = [a for a in doc["associations"] if a["account"] == self.tag and a["user"]]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0]["max"]["jobs"]["active"], 3)
        self.assertEqual(mine[0]["qos"], ["high", "normal"])
        self.assertEqual(mine[0]["default"]["qos"], "high")

    async def test_filters_match_sacctmgr(self):
        await self.setup_limited()
        status, doc = await self.api("GET", f"{V38}/associations?account={self.tag}")
        self.assertEqual(status, 200, doc)
        ours = sorted(sacctmgr_row(a) for a in doc["associations"])
        theirs = sorted(self.sacctmgr("show", "assoc", f"account={self.tag}",
                                      f"format={ASSOC_FORMAT}"))
        self.assertEqual(ours, theirs)
        self.assertEqual(len(ours), 2)  # the account's and bob's
        status, doc = await self.api(
            "GET", f"{V38}/association?account={self.tag}&user=BOB&cluster={self.cluster_name}")
        self.assertEqual(status, 200, doc)
        self.assertEqual([(a["account"], a["user"]) for a in doc["associations"]],
                         [(self.tag, "bob")])

    async def test_same_as_slurmrestd(self):
        await self.setup_limited()
        for user in ("root", "alice"):
            for path in (f"{V38}/associations",
                         f"{V38}/associations?account={self.tag}",
                         f"{V38}/associations?user=alice%2Cbob&cluster={self.cluster_name}",
                         f"{V38}/association?account={self.tag}&user=bob",
                         f"{V38}/association?account=science&user=alice",
                         f"{V38}/association?account=science"):  # ambiguous: 400 on both
                cmp = await differential.compare(self.cluster, path, user=user)
                differential.assert_same(self, cmp)

    async def test_fits_reference_schema(self):
        await self.setup_limited()
        await self.assertFitsReference(f"{V38}/associations")
        await self.assertFitsReference(f"{V38}/association?account={self.tag}&user=bob")

    async def test_v1_same_as_v0_0_38(self):
        await self.setup_limited()
        _, old = await self.api("GET", f"{V38}/associations?account={self.tag}")
        status, new = await self.api("GET", f"/slurmdb/v1/associations?account={self.tag}")
        self.assertEqual(status, 200, new)
        self.assertEqual(old["associations"], new["associations"])

    async def test_nothing_found(self):
        # slurmrestd: 500 "Nothing found" without the list; an empty list is the answer
        status, doc = await self.api("GET", f"{V38}/associations?account={self.tag}")
        self.assertEqual((status, doc["associations"]), (200, []))
        status, doc = await self.api("GET", f"{V38}/association?account={self.tag}")
        self.assertRefused(status, doc, 404, "Nothing found")

    async def test_unknown_query_field(self):
        status, doc = await self.api("GET", f"{V38}/associations?acount=science")
        self.assertRefused(status, doc, 400, "acount")


class Writes(LiveAccounting):
    def assoc_rows(self, account, user=None):
        argv = ["show", "assoc", f"account={account}", "format=account,user,maxjobs,grpjobs,"
                "grptres,maxwall,qos,defaultqos,priority"]
        rows = self.sacctmgr(*argv)
        return [r for r in rows if user is None or r[1] == user]

    def entry(self, **extra):
        return dict({"account": self.tag, "cluster": self.cluster_name, "user": "bob"}, **extra)

    async def test_add_modify_delete(self):
        self.add_account(self.tag)
        status, doc = await self.api("POST", f"{V38}/associations", {"associations": [
            self.entry(max={"jobs": {"active": 4, "per": {"count": 8, "wall_clock": 30}},
                            "tres": {"total": [{"type": "cpu", "count": 6},
                                               {"type": "node", "count": 2}]}},
                       qos=["normal", "high"], default={"qos": "normal"}, priority=3)]})
        self.assertEqual(status, 200, doc)
        self.assertEqual(doc["errors"], [])
        self.assertEqual(self.assoc_rows(self.tag, "bob"),
                         [[self.tag, "bob", "4", "8", "cpu=6,node=2", "00:30:00",
                           "high,normal", "normal", "3"]])
        # modify: a limit changed, one cleared (null), the TRES list replaced, QOS untouched
        status, doc = await self.api("POST", f"{V38}/associations", {"associations": [
            self.entry(max={"jobs": {"active": 9, "per": {"count": None}},
                            "tres": {"total": [{"type": "cpu", "count": 12}]}})]})
        self.assertEqual(status, 200, doc)
        self.assertEqual(self.assoc_rows(self.tag, "bob"),
                         [[self.tag, "bob", "9", "", "cpu=12", "00:30:00", "high,normal",
                           "normal", "3"]])
        # the API reads back what sacctmgr shows
        status, doc = await self.api(
            "GET", f"{V38}/association?account={self.tag}&user=bob")
        self.assertEqual(status, 200, doc)
        (assoc,) = doc["associations"]
        self.assertEqual(assoc["max"]["jobs"]["active"], 9)
        self.assertIsNone(assoc["max"]["jobs"]["per"]["count"])
        self.assertEqual([(t["type"], t["count"]) for t in assoc["max"]["tres"]["total"]],
                         [("cpu", 12)])
        # delete it, then again: gone, and the second time is a 404 that removes nothing
        status, doc = await self.api(
            "DELETE", f"{V38}/association?account={self.tag}&user=bob")
        self.assertEqual(status, 200, doc)
        self.assertEqual(len(doc["removed_associations"]), 1)
        self.assertIn(self.tag, doc["removed_associations"][0])
        self.assertEqual(self.assoc_rows(self.tag, "bob"), [])
        status, doc = await self.api(
            "DELETE", f"{V38}/association?account={self.tag}&user=bob")
        self.assertRefused(status, doc, 404, "Nothing found")
        self.assertEqual(len(self.assoc_rows(self.tag)), 1)  # the account's own is kept

    async def test_account_association_and_delete_many(self):
        self.add_account(self.tag)
        child = f"{self.tag}c"
        self.cluster.run(["sacctmgr", "-i", "add", "account", child, f"parent={self.tag}",
                          f"cluster={self.cluster_name}"])
        self.addCleanup(self.cluster.run, ["sacctmgr", "-i", "delete", "account", child],
                        check=False)
        status, doc = await self.api("POST", f"{V38}/associations", {"associations": [
            {"account": child, "cluster": self.cluster_name, "max": {"jobs": {"active": 11}}},
            self.entry(account=child), self.entry(account=child, user="alice")]})
        self.assertEqual(status, 200, doc)
        rows = self.assoc_rows(child)
        # the users' associations inherit the account's limit (as sacctmgr shows it)
        self.assertEqual(sorted((r[1], r[2]) for r in rows),
                         [("", "11"), ("alice", "11"), ("bob", "11")])
        status, doc = await self.api(
            "DELETE", f"{V38}/association?account={child}&user=alice%2Cbob")
        self.assertRefused(status, doc, 400, "ambiguous")
        self.assertEqual(len(self.assoc_rows(child)), 3)  # nothing removed
        status, doc = await self.api(
            "DELETE", f"{V38}/associations?account={child}&user=alice%2Cbob")
        self.assertEqual(status, 200, doc)
        self.assertEqual(len(doc["removed_associations"]), 2)
        self.assertEqual([r[1] for r in self.assoc_rows(child)], [""])

    async def test_answer_posted_back_changes_nothing(self):
        """A GET answer sent back as it is (meta, usage, flags and all) is a no-op."""
        self.add_account(self.tag)
        self.cluster.run(["sacctmgr", "-i", "add", "user", "bob", f"account={self.tag}",
                          f"cluster={self.cluster_name}", "GrpJobs=5", "MaxJobs=3",
                          "GrpTRES=cpu=4,node=2", "MaxWall=90", "QOS=normal,high",
                          "DefaultQOS=high", "Priority=7"])
        before = self.sacctmgr("show", "assoc", f"account={self.tag}",
                               f"format={ASSOC_FORMAT}")
        status, doc = await self.api("GET", f"{V38}/associations?account={self.tag}")
        self.assertEqual(status, 200, doc)
        status, answer = await self.api("POST", f"{V38}/associations", doc)
        self.assertEqual(status, 200, answer)
        self.assertEqual(self.sacctmgr("show", "assoc", f"account={self.tag}",
                                       f"format={ASSOC_FORMAT}"), before)
        # by TRES id as well as by type: the same limits
        status, answer = await self.api("POST", f"{V38}/associations", {"associations": [
            self.entry(max={"tres": {"total": [{"id": 1, "count": 4},
                                               {"type": "node", "count": 2}]}})]})
        self.assertEqual(status, 200, answer)
        self.assertEqual(self.sacctmgr("show", "assoc", f"account={self.tag}",
                                       f"format={ASSOC_FORMAT}"), before)

    async def test_account_association_added(self):
        """An entry without a user is the account's association (slurmrestd: "Missing
        required field 'user'" beside a 200)."""
        self.add_account(self.tag)
        status, doc = await self.api("DELETE", f"{V38}/associations?account={self.tag}")
        self.assertEqual((status, len(doc["removed_associations"])), (200, 1), doc)
        self.assertEqual(self.assoc_rows(self.tag), [])
        status, doc = await self.api("POST", f"{V38}/associations", {"associations": [
            {"account": self.tag, "cluster": self.cluster_name, "parent_account": "science",
             "max": {"jobs": {"total": 21}}}]})
        self.assertEqual((status, doc["errors"]), (200, []), doc)
        rows = self.sacctmgr("show", "assoc", f"account={self.tag}",
                             "format=account,user,parentname,maxsubmit")
        self.assertEqual(rows, [[self.tag, "", "science", "21"]])
        # a modification that names another parent moves the account
        status, doc = await self.api("POST", f"{V38}/associations", {"associations": [
            {"account": self.tag, "cluster": self.cluster_name, "parent_account": "root"}]})
        self.assertEqual(status, 200, doc)
        rows = self.sacctmgr("show", "assoc", f"account={self.tag}",
                             "format=account,user,parentname,maxsubmit")
        self.assertEqual(rows, [[self.tag, "", "root", "21"]])

    async def test_failing_write_changes_nothing(self):
        self.add_account(self.tag)
        before = self.sacctmgr("show", "assoc", "format=account,user,maxjobs")
        # the second entry names an account that does not exist: slurmdbd refuses it
        status, doc = await self.api("POST", f"{V38}/associations", {"associations": [
            self.entry(max={"jobs": {"active": 2}}),
            self.entry(account=f"{self.tag}nosuch")]})
        self.assertGreaterEqual(status, 400, doc)
        self.assertLess(status, 500, doc)
        self.assertIn(f"{self.tag}nosuch", json.dumps(doc["errors"]))
        self.assertEqual(self.sacctmgr("show", "assoc", "format=account,user,maxjobs"), before)
        # a modification followed by a failing entry: the modification is rolled back too
        self.cluster.run(["sacctmgr", "-i", "add", "user", "bob", f"account={self.tag}",
                          f"cluster={self.cluster_name}", "MaxJobs=5"])
        status, doc = await self.api("POST", f"{V38}/associations", {"associations": [
            self.entry(max={"jobs": {"active": 7}}),
            self.entry(account=f"{self.tag}nosuch")]})
        self.assertGreaterEqual(status, 400, doc)
        self.assertEqual([r[2] for r in self.assoc_rows(self.tag, "bob")], ["5"])

    async def test_bad_bodies_write_nothing(self):
        self.add_account(self.tag)
        before = self.sacctmgr("show", "assoc", "format=account,user,maxjobs")
        bad = [
            ({"associations": [self.entry(max={"jobs": {"active": "four"}})]}, "active"),
            ({"associations": [self.entry(max={"jobs": {"activ": 4}})]}, "activ"),
            ({"associations": [self.entry(colour="blue")]}, "colour"),
            ({"associations": [{"cluster": self.cluster_name, "user": "bob"}]}, "account"),
            ({"associations": [self.entry(account=None)]}, "account"),
            ({"associations": [self.entry(qos=["nosuchqos"])]}, "nosuchqos"),
            ({"associations": [self.entry(max={"tres": {"total": [
                {"type": "nosuchtres", "count": 1}]}})]}, "nosuchtres"),
            ({"associations": [self.entry(), "bob"]}, "associations/1"),
            ({"associations": [self.entry(max={"jobs": {"active": True}})]}, "active"),
            ({"associations": [self.entry(max={"jobs": {"active": -1}})]}, "active"),
            ({"associations": self.entry()}, "list"),
            ({"assocs": [self.entry()]}, "assocs"),
            ([self.entry()], "object"),
        ]
        for body, word in bad:
            status, doc = await self.api("POST", f"{V38}/associations", body)
            self.assertRefused(status, doc, 400, word)
        status, doc = await self.api("POST", f"{V38}/associations", b"{not json")
        self.assertEqual(status, 400, doc)
        self.assertEqual(self.sacctmgr("show", "assoc", "format=account,user,maxjobs"), before)

    async def test_delete_with_active_job_refused(self):
        """slurmdbd refuses to remove an association with a running job (one it has the
        start record of): 409 naming the job, and nothing removed."""
        self.add_account(self.tag)
        self.cluster.run(["sacctmgr", "-i", "add", "user", "alice", f"account={self.tag}",
                          f"cluster={self.cluster_name}"])
        job = None
        for _ in range(20):  # slurmctld learns of the new association from slurmdbd
            proc = self.cluster.run(["sbatch", "--parsable", "-A", self.tag, "-t", "5",
                                     "-o", "/dev/null", "--wrap", "sleep 300"],
                                    user="alice", check=False)
            if proc.returncode == 0:
                job = proc.stdout.strip().split(";")[0]
                break
            await deferLater(reactor, 0.5)
        self.assertIsNotNone(job, "sbatch never accepted the new account")
        self.addCleanup(self.cluster.cancel, job)
        self.cluster.wait_for_job_state(int(job), "RUNNING", timeout=60)
        for _ in range(40):  # the start record reaches slurmdbd
            out = self.cluster.run(["sacct", "-nPX", "-j", job, "-o", "state"]).stdout
            if "RUNNING" in out:
                break
            await deferLater(reactor, 0.25)
        status, doc = await self.api(
            "DELETE", f"{V38}/association?account={self.tag}&user=alice")
        self.assertRefused(status, doc, 409, "Job(s) active", f"JobID = {job} ", self.tag)
        self.assertEqual(len(self.assoc_rows(self.tag, "alice")), 1)

    async def test_delete_without_filter_refused(self):
        before = self.sacctmgr("show", "assoc", "format=account,user")
        for path in ("associations", "association", "associations?account=&user=",
                     "associations?cluster=,"):
            status, doc = await self.api("DELETE", f"{V38}/{path}")
            self.assertRefused(status, doc, 400, "refusing to remove every association")
        status, doc = await self.api("DELETE", f"{V38}/associations?account={self.tag}")
        self.assertRefused(status, doc, 404, "Nothing found")
        self.assertEqual(self.sacctmgr("show", "assoc", "format=account,user"), before)

    async def test_alice_refused(self):
        self.add_account(self.tag)
        before = self.sacctmgr("show", "assoc", "format=account,user,maxjobs")
        status, doc = await self.api("POST", f"{V38}/associations", {
            "associations": [self.entry()]}, user="alice")
        self.assertRefused(status, doc, 403, "Access/permission denied")
        status, doc = await self.api(
            "DELETE", f"{V38}/association?account=physics&user=bob", user="alice")
        self.assertRefused(status, doc, 403, "Access/permission denied")
        self.assertEqual(self.sacctmgr("show", "assoc", "format=account,user,maxjobs"), before)
        # the same entries as slurmrestd's (its status: 500)
        await self.compare_refusal("POST", "/associations", {"associations": [self.entry()]})
        self.assertEqual(self.sacctmgr("show", "assoc", "format=account,user,maxjobs"), before)
        # she may read them, as with slurmrestd
        status, doc = await self.api("GET", f"{V38}/associations", user="alice")
        self.assertEqual(status, 200, doc)

    async def test_writes_as_slurmrestd(self):
        """The same POST to both servers gives the same document, and the same record."""
        self.add_account(self.tag)
        body = {"associations": [self.entry(max={"jobs": {"active": 4}}, qos=["normal"])]}
        cmp = await differential.compare(self.cluster, f"{V38}/associations", user="root",
                                         method="POST", body=body)
        differential.assert_same(self, cmp)
        self.assertEqual([r[2] for r in self.assoc_rows(self.tag, "bob")], ["4"])
