"""``/slurmdb/v0.0.38/qos``: reads against ``sacctmgr -P show qos`` and the real slurmrestd;
writes seen by ``sacctmgr show qos`` afterwards; refused or failing writes change nothing.

Needs ``SLURMREST_TEST_CLUSTER`` (and slurmrestd for the differential tests). Test QOS are
named ``d4tmp…`` and removed again.
"""

from __future__ import annotations

import json
import uuid

import treq
from twisted.trial import unittest

from slurmrest.testing.cluster import Cluster
from tests import differential

QOS = "/slurmdb/v0.0.38/qos"

#: sacctmgr fields of a QOS and where our document has them.
SACCTMGR_FORMAT = ("name,id,description,priority,flags,grptres,maxtres,maxtrespu,mintres,"
                   "maxwall,grpwall,maxjobspu,maxsubmitpa,grpjobs,preempt,preemptmode,"
                   "usagefactor,gracetime")


def wall(minutes: int | None) -> str:
    """sacctmgr's wall clock text of a limit in minutes."""
    if minutes is None:
        return ""
    days, rest = divmod(minutes, 24 * 60)
    text = f"{rest // 60:02d}:{rest % 60:02d}:00"
    return f"{days}-{text}" if days else text


def tres_text(entries: list[dict]) -> str:
    """sacctmgr's TRES text (``cpu=4,gres/gpu=1``) of a list of TRES documents."""
    out = []
    for e in sorted(entries, key=lambda e: e["id"]):
        name = f"{e['type']}/{e['name']}" if e["name"] else e["type"]
        count = e["count"]
        if e["type"] == "mem":
            count = f"{count}M"
        out.append(f"{name}={count}")
    return ",".join(out)


def as_sacctmgr(doc: dict) -> tuple:
    """Our QOS document in the columns of ``SACCTMGR_FORMAT``."""
    limits, mx = doc["limits"], doc["limits"]["max"]
    mode = doc["preempt"]["mode"]
    return (
        doc["name"], str(doc["id"]), doc["description"] or "", str(doc["priority"]),
        ",".join(sorted(FLAG_WORDS[f] for f in doc["flags"])),
        tres_text(mx["tres"]["total"]), tres_text(mx["tres"]["per"]["job"]),
        tres_text(mx["tres"]["per"]["user"]), tres_text(limits["min"]["tres"]["per"]["job"]),
        wall(mx["wall_clock"]["per"]["job"]), wall(mx["wall_clock"]["per"]["qos"]),
        "" if mx["jobs"]["active_jobs"]["per"]["user"] is None
        else str(mx["jobs"]["active_jobs"]["per"]["user"]),
        "" if mx["jobs"]["per"]["account"] is None else str(mx["jobs"]["per"]["account"]),
        "" if mx["active_jobs"]["count"] is None else str(mx["active_jobs"]["count"]),
        ",".join(sorted(doc["preempt"]["list"])),
        ",".join(m.lower() for m in mode) if mode else "cluster",
        f"{doc['usage_factor']:.6f}", seconds(limits["grace_time"]),
    )


def seconds(value: int) -> str:
    """sacctmgr's text of a time in seconds (GraceTime)."""
    return f"{value // 3600:02d}:{value % 3600 // 60:02d}:{value % 60:02d}"


#: slurmrestd's flag names in sacctmgr's words (slurmdb_qos_flags_str).
FLAG_WORDS = dict((("DENY_LIMIT", "DenyOnLimit"), ("ENFORCE_USAGE_THRESHOLD", "EnforceUsageThreshold"),
                   ("NO_RESERVE", "NoReserve"), ("PARTITION_MAXIMUM_NODE", "PartitionMaxNodes"),
                   ("PARTITION_MINIMUM_NODE", "PartitionMinNodes"),
                   ("OVERRIDE_PARTITION_QOS", "OverPartQOS"),
                   ("PARTITION_TIME_LIMIT", "PartitionTimeLimit"),
                   ("REQUIRED_RESERVATION", "RequiresReservation"), ("NO_DECAY", "NoDecay"),
                   ("USAGE_FACTOR_SAFE", "UsageFactorSafe")))


class QosTestCase(unittest.TestCase):
    timeout = 120

    def setUp(self):
        self.cluster = Cluster.from_environment()
        self.tag = f"d4tmp{uuid.uuid4().hex[:6]}"
        self.addCleanup(differential.stop_ours)

    def sacctmgr(self, *argv) -> list[list[str]]:
        out = self.cluster.run(["sacctmgr", "-nP", *argv]).stdout
        return [line.split("|") for line in out.splitlines() if line.strip()]

    def show_qos(self, name=None) -> dict[str, tuple]:
        argv = ["show", "qos", f"format={SACCTMGR_FORMAT}"]
        if name:
            argv.insert(2, name)
        rows = {}
        for r in self.sacctmgr(*argv):
            r[4] = ",".join(sorted(r[4].split(","))) if r[4] else ""
            r[14] = ",".join(sorted(r[14].split(","))) if r[14] else ""
            rows[r[0]] = tuple(r)
        return rows

    def forget_later(self, *names):
        for name in names:
            self.addCleanup(self.cluster.run, ["sacctmgr", "-i", "delete", "qos", name],
                            check=False)

    async def request(self, method, path, body=None, user="root", server=None):
        """``method path`` to slurmrest (or to ``server``): (status, decoded document)."""
        url = server or await differential.start_ours(self.cluster)
        headers = {"X-SLURM-USER-NAME": user, "X-SLURM-USER-TOKEN": self.cluster.token(user)}
        data = None
        if body is not None:
            data = json.dumps(body).encode() if not isinstance(body, bytes) else body
            headers["Content-Type"] = "application/json"
        response = await treq.request(method, url + path, headers=headers, data=data,
                                      persistent=False)
        text = await response.content()
        return response.code, json.loads(text) if text else None


class QosReadTests(QosTestCase):
    async def test_documents_match_sacctmgr(self):
        # a QOS with limits of every kind sacctmgr sets, beside the cluster's own
        self.forget_later(self.tag, self.tag + "p")
        self.cluster.run(["sacctmgr", "-i", "add", "qos", self.tag + "p"])
        self.cluster.run(["sacctmgr", "-i", "add", "qos", self.tag, "Description=limits",
                          "Priority=12", "Flags=DenyOnLimit,NoDecay", "GrpTRES=cpu=8,mem=2000",
                          "MaxTRES=cpu=4,node=2", "MaxTRESPU=cpu=6", "MinTRES=cpu=1",
                          "MaxWall=90", "GrpWall=3000", "MaxJobsPU=5", "MaxSubmitJobsPA=9",
                          "GrpJobs=20", f"Preempt={self.tag}p", "PreemptMode=requeue",
                          "UsageFactor=1.5", "GraceTime=120"])
        status, doc = await self.request("GET", QOS)
        self.assertEqual(status, 200)
        ours = {q["name"]: as_sacctmgr(q) for q in doc["QOS"]}
        self.assertEqual(ours, self.show_qos())
        self.assertIn(self.tag, ours)
        status, one = await self.request("GET", f"{QOS}/{self.tag}")
        self.assertEqual(status, 200)
        self.assertEqual([q["name"] for q in one["QOS"]], [self.tag])
        self.assertEqual(one["QOS"][0]["limits"]["max"]["tres"]["per"]["job"],
                         [{"type": "cpu", "name": None, "id": 1, "count": 4},
                          {"type": "node", "name": None, "id": 4, "count": 2}])
        self.assertEqual(one["QOS"][0]["flags"], ["DENY_LIMIT", "NO_DECAY"])

    async def test_differential(self):
        self.forget_later(self.tag, self.tag + "p")
        self.cluster.run(["sacctmgr", "-i", "add", "qos", self.tag + "p"])
        self.cluster.run(["sacctmgr", "-i", "add", "qos", self.tag, "MaxTRES=cpu=4,mem=100",
                          "GrpTRESRunMins=cpu=1000", "MaxTRESMins=cpu=50", "MaxTRESRunMinsPU=cpu=70",
                          "MaxTRESPA=cpu=9", "MaxTRESPerNode=cpu=3",
                          "Flags=NoReserve,UsageFactorSafe", f"Preempt={self.tag}p",
                          "PreemptMode=suspend,gang", "UsageThreshold=0.5",
                          "LimitFactor=2.0", "MinPrioThresh=3", "PreemptExemptTime=60"])
        for path in (QOS, f"{QOS}/{self.tag}", f"{QOS}/normal", f"{QOS}?with_deleted=true"):
            for user in ("root", "alice"):
                cmp = await differential.compare(self.cluster, path, user=user)
                differential.assert_same(self, cmp)
                self.assertTrue(cmp.ours["QOS"], path)
        (doc,) = [q for q in cmp.ours["QOS"] if q["name"] == self.tag]
        self.assertEqual((doc["limits"]["max"]["tres"]["per"]["node"][0]["count"],
                          doc["limits"]["factor"], doc["usage_threshold"],
                          doc["preempt"]["list"], doc["preempt"]["mode"],
                          doc["limits"]["min"]["priority_threshold"]),
                         (3, 2.0, 0.5, [self.tag + "p"], ["SUSPEND", "GANG"], 3))

    async def test_unknown_name(self):
        # slurmrestd: 200 with an empty list; ours says what is wrong
        cmp = await differential.compare(self.cluster, f"{QOS}/{self.tag}-none")
        self.assertEqual((cmp.reference_status, cmp.reference["QOS"]), (200, []))
        self.assertEqual((cmp.our_status, cmp.ours["QOS"]), (404, []))
        self.assertIn(self.tag, cmp.ours["errors"][0]["description"])

    async def test_unknown_query_field(self):
        status, doc = await self.request("GET", f"{QOS}?names=normal")
        self.assertEqual(status, 400)
        status, doc = await self.request("GET", f"{QOS}?with_deleted=maybe")
        self.assertEqual(status, 400)


class QosWriteTests(QosTestCase):
    async def test_add_modify_delete(self):
        a, b = self.tag + "a", self.tag + "b"
        self.forget_later(a, b)
        body = {"QOS": [
            {"name": b, "description": "preempted"},
            {"name": a, "description": "with limits", "priority": 7, "flags": ["DENY_LIMIT"],
             "usage_factor": 2.0,
             "limits": {"grace_time": 30,
                        "max": {"tres": {"per": {"job": [{"type": "cpu", "count": 4}],
                                                 "user": [{"type": "mem", "count": 1000}]}},
                                "wall_clock": {"per": {"job": 60}},
                                "jobs": {"active_jobs": {"per": {"user": 3}}}}},
             "preempt": {"list": [], "mode": ["REQUEUE"]}}]}
        status, doc = await self.request("POST", QOS, body)
        self.assertEqual((status, doc["errors"]), (200, []))
        row = self.show_qos(a)[a]
        self.assertEqual(row[2:6], ("with limits", "7", "DenyOnLimit", ""))
        self.assertEqual((row[6], row[7], row[9], row[11], row[15], row[16]),
                         ("cpu=4", "mem=1000M", "01:00:00", "3", "requeue", "2.000000"))
        self.assertEqual(row[17], "00:00:30")
        self.assertIn(b, self.show_qos(b))

        # modify: only what is given changes (flags and preempt mode stay), TRES limits
        # replaced, a preempt list by name; the lowercase key of slurmrestd's spec works too
        status, doc = await self.request("POST", QOS, {"qos": [
            {"name": a, "priority": 9, "preempt": {"list": [b]},
             "limits": {"max": {"tres": {"per": {"job": [{"type": "cpu", "count": 2}]}},
                                "wall_clock": {"per": {"job": None}}}}}]})
        self.assertEqual((status, doc["errors"]), (200, []))
        row = self.show_qos(a)[a]
        self.assertEqual((row[3], row[4], row[6], row[9], row[14], row[15]),
                         ("9", "DenyOnLimit", "cpu=2", "", b, "requeue"))
        status, doc = await self.request("GET", f"{QOS}/{a}")
        self.assertEqual(as_sacctmgr(doc["QOS"][0]), self.show_qos(a)[a])
        # by id as well
        qos_id = doc["QOS"][0]["id"]
        status, doc = await self.request("POST", QOS, {"QOS": [{"id": qos_id,
                                                                "description": "by id"}]})
        self.assertEqual(status, 200, doc)
        self.assertEqual(self.show_qos(a)[a][2], "by id")

        status, doc = await self.request("DELETE", f"{QOS}/{a}")
        self.assertEqual((status, doc["removed_qos"]), (200, [a]))
        self.assertNotIn(a, self.show_qos())
        status, doc = await self.request("DELETE", f"{QOS}/{a}")
        self.assertEqual(status, 404)
        self.assertNotIn("removed_qos", doc)
        self.assertEqual(doc["errors"][0]["error_number"], 9003)
        self.assertIn(b, self.show_qos())

    async def test_failing_write_changes_nothing(self):
        a, b = self.tag + "a", self.tag + "b"
        self.forget_later(a, b)
        before = self.show_qos()
        # the second entry refused by our checks: an unknown TRES
        status, doc = await self.request("POST", QOS, {"QOS": [
            {"name": a}, {"name": b, "limits": {"max": {"tres": {"total": [
                {"type": "gres", "name": "nosuch", "count": 1}]}}}}]})
        self.assertEqual(status, 400)
        self.assertIn("QOS[1]", doc["errors"][0]["description"])
        self.assertIn("Couldn't find TRES", doc["errors"][0]["description"])
        # the second refused by slurmdbd, after the first was added in the same transaction:
        # a QOS preempting itself
        self.cluster.run(["sacctmgr", "-i", "add", "qos", b])
        before = self.show_qos()
        status, doc = await self.request("POST", QOS, {"QOS": [
            {"name": a, "description": "must not stay"},
            {"name": b, "preempt": {"list": [b]}}]})
        self.assertEqual(status, 400, doc)
        self.assertEqual(doc["errors"][0]["source"], "slurmdb_qos_modify")
        self.assertEqual(self.show_qos(), before)

    async def test_bad_bodies(self):
        before = self.show_qos()
        t = self.tag
        for body, words in (
                ({"QOS": [{"name": t, "priority": "high"}]}, "'priority'"),
                ({"QOS": [{"name": t, "priority": -1}]}, "out of range"),
                ({"QOS": [{"name": t, "priority": 2 ** 40}]}, "out of range"),
                ({"QOS": [{"name": t, "colour": "red"}]}, "Unknown field 'colour'"),
                ({"QOS": [{"name": t, "limits": {"max": {"wall": 3}}}]},
                 "Unknown field 'limits/max/wall'"),
                ({"QOS": [{"name": t, "limits": 5}]}, "must be an object"),
                ({"QOS": [{"name": t, "flags": ["FAST"]}]}, "Unknown flag"),
                ({"QOS": [{"name": t, "flags": "DENY_LIMIT"}]}, "'flags'"),
                ({"QOS": [{"name": t, "usage_factor": True}]}, "'usage_factor'"),
                ({"QOS": [{"name": t, "preempt": {"list": ["nosuchqos"]}}]}, "nosuchqos"),
                ({"QOS": [{"name": t, "limits": {"max": {"tres": {"total": [
                    {"type": "cpu", "count": -2}]}}}}]}, "below 0"),
                ({"QOS": [{"name": t, "limits": {"max": {"tres": {"total": [
                    {"type": "cpu"}]}}}}]}, "count"),
                ({"QOS": [{"description": "no name"}]}, "without a name"),
                ({"QOS": [{"id": 999999, "description": "x"}]}, "not found"),
                ({"QOS": [{"name": t}, {"name": t}]}, "twice"),
                ({"QOS": ["normal"]}, "dictionary"),
                ({"QOS": {"name": t}}, "list"),
                ({"qoses": [{"name": t}]}, "qoses"),
                ({}, "not found"),
                ([], "object"),
        ):
            status, doc = await self.request("POST", QOS, body)
            self.assertEqual(status, 400, (body, doc))
            self.assertIn(words, doc["errors"][0]["description"], body)
        status, doc = await self.request("POST", QOS, b"{not json")
        self.assertEqual(status, 400)
        self.assertEqual(self.show_qos(), before)

    async def test_alice_refused(self):
        self.forget_later(self.tag)
        before = self.show_qos()
        status, doc = await self.request("POST", QOS, {"QOS": [{"name": self.tag}]},
                                         user="alice")
        self.assertEqual(status, 403)
        self.assertEqual((doc["errors"][0]["error"], doc["errors"][0]["source"]),
                         ("Access/permission denied", "slurmdb_qos_add"))
        status, doc = await self.request("POST", QOS, {"QOS": [{"name": "normal",
                                                                "priority": 3}]},
                                         user="alice")
        self.assertEqual((status, doc["errors"][0]["source"]), (403, "slurmdb_qos_modify"))
        status, doc = await self.request("DELETE", f"{QOS}/normal", user="alice")
        self.assertEqual(status, 403)
        self.assertEqual(doc["errors"][0]["error"], "Access/permission denied")
        self.assertEqual(self.show_qos(), before)
        # root still can, right after (slurmdbd closed alice's connections, not ours)
        status, doc = await self.request("POST", QOS, {"QOS": [{"name": self.tag}]})
        self.assertEqual(status, 200)
        self.assertIn(self.tag, self.show_qos())

    async def test_written_like_slurmrestd(self):
        # The same body written by both servers gives the same QOS.
        theirs, ours = self.tag + "r", self.tag + "o"
        self.forget_later(theirs, ours)
        entry = {"description": "same", "priority": 4, "flags": ["NO_RESERVE"],
                 "usage_factor": 0.5, "usage_threshold": 0.25,
                 "limits": {"factor": 1.5, "max": {
                     "tres": {"total": [{"type": "cpu", "count": 16}],
                              "minutes": {"per": {"job": [{"type": "cpu", "count": 100}]}}},
                     "accruing": {"per": {"user": 2}}}},
                 "preempt": {"mode": ["CANCEL"], "exempt_time": 30}}
        status, doc = await self.request("POST", QOS, {"QOS": [dict(entry, name=theirs)]},
                                         server=self.cluster.restd_url)
        self.assertEqual(status, 200, doc)
        status, doc = await self.request("POST", QOS, {"QOS": [dict(entry, name=ours)]})
        self.assertEqual(status, 200, doc)
        _, docs = await self.request("GET", QOS)
        by_name = {q["name"]: q for q in docs["QOS"]}
        mine, reference = dict(by_name[ours]), dict(by_name[theirs])
        for d in (mine, reference):
            d.pop("name"), d.pop("id")
        self.assertEqual(mine, reference)
