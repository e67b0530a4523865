"""The /slurmdb operations of slurmrest on a Slurm 24.11 slurmdbd (``SLURMREST_TEST_CLUSTER_2411``).

slurmrest runs in this process with a slurmdbd client of the 24.11 tables. Its ``/slurmdb/v1``
documents are compared with slurmrestd 24.11's ``v0.0.40`` ones wherever a field is the same
(same path, names compared case-insensitively, slurmrestd's "" for our null), so that the
meaning, not only the shape, agrees; writes through the API are checked with the chroot's
own ``sacctmgr``; ``/slurmdb/v0.0.38`` keeps working for its clients.
"""

import json
import os
import re
import uuid

import treq
from twisted.internet import reactor
from twisted.trial import unittest

from slurmrest import tap
from slurmrest.web.channel import GatewaySite
from slurmrest.wire.conf import SlurmConfig
from slurmrest.wire.credentials import TokenMinter
from slurmrest.wire.dbd_client import SlurmdbdClient
from tests.test_dbd_v24_11_live import Cluster2411

#: How records in lists are matched between the two documents.
RECORD_KEYS = (("account", "user", "partition", "cluster"), ("type", "name"), ("name",),
               ("id",), ("rpc",), ("user",))
#: Leaves whose value moves between two requests (slurmdbd's own RPC counters and times).
MOVING = ("/statistics/rpcs[*", "/statistics/users[*")
#: Where slurmrestd 24.11 spells a value otherwise than 22.05 did (our v1 keeps 22.05's):
#: (path pattern, ours, theirs). Preempt mode 0 is "off" in both; v0.0.40 has no DEFAULT
#: wckey flag (a wckey's is_def is not reported there).
RELEASE_SPELLINGS = (
    ("/qos[*]/preempt/mode", [], ['"DISABLED"']),
    ("/wckeys[*]/flags", ['"DEFAULT"'], []),
)


def _matches(path, pattern):
    """``pattern`` with ``*`` for any text (brackets are literal)."""
    return re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), path) is not None


def _spelled_otherwise(path, ours, theirs):
    return any(_matches(path, pattern) and (ours, theirs) == (a, b)
               for pattern, a, b in RELEASE_SPELLINGS)


def _record_key(record):
    for names in RECORD_KEYS:
        if all(n in record and not isinstance(record[n], (dict, list)) for n in names):
            return "/".join(str(record[n] if record[n] is not None else "") for n in names)
    return None


def leaves(doc, path=""):
    """``path -> value`` of every scalar of a document; keys lower-cased, list records
    keyed by their identifying fields, null as "", and v0.0.40's ``{set, infinite,
    number}`` as the plain number or null of v0.0.38 (unset and infinite: no limit)."""
    if isinstance(doc, dict) and set(doc) == {"set", "infinite", "number"}:
        yield path, doc["number"] if doc["set"] and not doc["infinite"] else ""
    elif isinstance(doc, dict):
        for key, value in doc.items():
            yield from leaves(value, f"{path}/{key.lower()}")
    elif isinstance(doc, list) and doc and all(isinstance(x, dict) for x in doc):
        for i, record in enumerate(doc):
            yield from leaves(record, f"{path}[{_record_key(record) or i}]")
    elif isinstance(doc, list):
        yield path, sorted(json.dumps(x) for x in doc)
    else:
        yield path, "" if doc is None else doc


class Api2411TestCase(unittest.TestCase):
    timeout = 120

    def setUp(self):
        self.cluster = Cluster2411.from_environment()
        self.config = SlurmConfig.load(self.cluster.slurm_conf)
        self.cluster_name = self.config.cluster_name
        self.restd_url = self._restd_url()
        dbd = SlurmdbdClient(self.config, reactor, read_timeout=20)  # learns 24.11
        self.addCleanup(dbd.close)
        gateway = tap.make_gateway(self.config, jwt_key=os.path.join(
            self.cluster.dir, "jwt_hs256.key"), reactor=reactor, dbd=dbd)
        port = reactor.listenTCP(0, GatewaySite(gateway), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.base = f"http://127.0.0.1:{port.getHost().port}"
        minter = TokenMinter(self.cluster.jwt_key(), lifespan=600)
        self.tokens = {u: minter.credential_for(u).token for u in ("root", "alice")}
        self.tag = f"f2{uuid.uuid4().hex[:8]}"

    def _restd_url(self):
        with open(os.path.join(self.cluster.dir, "env.sh")) as f:
            for line in f:
                if line.startswith("export SLURMRESTD_URL="):
                    return line.split("=", 1)[1].strip()
        return None

    async def request(self, method, url, body=None, user="root"):
        headers = {"X-SLURM-USER-NAME": user, "X-SLURM-USER-TOKEN": self.tokens[user]}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        response = await treq.request(method, url, headers=headers, data=data,
                                      persistent=False)
        text = await response.content()
        return response.code, json.loads(text) if text else None

    async def ours(self, method, path, body=None, user="root"):
        return await self.request(method, f"{self.base}/slurmdb/v1{path}", body, user)

    def sacctmgr(self, *argv):
        out = self.cluster.run(["sacctmgr", "-nP", *argv]).stdout
        return [line.split("|") for line in out.splitlines() if line.strip()]

    def cleanup_sacctmgr(self, *argv):
        self.addCleanup(self.cluster.run, ["sacctmgr", "-i", *argv], check=False)


class DifferentialTests(Api2411TestCase):
    """Our /slurmdb/v1 against slurmrestd 24.11's /slurmdb/v0.0.40, field by field."""

    async def compare(self, path, records, user="root"):
        if not self.restd_url:
            raise unittest.SkipTest("the 24.11 cluster runs no slurmrestd")
        status, ours = await self.ours("GET", path, user=user)
        theirs_status, theirs = await self.request(
            "GET", f"{self.restd_url}/slurmdb/v0.0.40{path}", user=user)
        self.assertEqual((status, theirs_status), (200, 200), (ours, theirs))
        self.assertEqual(ours["errors"], [])
        a = {k: v for k, v in leaves(ours) if not k.startswith("/meta/")}
        b = {k: v for k, v in leaves(theirs) if not k.startswith("/meta/")}
        common = {k for k in set(a) & set(b)
                  if not any(_matches(k, m + "*") for m in MOVING)}
        differ = sorted((k, a[k], b[k]) for k in common
                        if a[k] != b[k] and not _spelled_otherwise(k, a[k], b[k]))
        self.assertEqual(differ, [], path)
        # the same records on both sides, and their values compared, not only counted
        for key in records:
            self.assertEqual({k.split("]")[0] for k in a if k.startswith(key)},
                             {k.split("]")[0] for k in b if k.startswith(key)}, key)
        return common

    async def test_qos(self):
        # one QOS with limits set, so that values (not only "no limit") are compared
        self.cleanup_sacctmgr("delete", "qos", self.tag)
        self.cluster.run(["sacctmgr", "-i", "add", "qos", self.tag, "priority=5",
                          "maxwall=60", "maxjobspu=3", "maxtrespu=cpu=2", "grpjobs=9",
                          "usagefactor=2", "flags=DenyOnLimit", "preempt=normal"])
        common = await self.compare("/qos", ["/qos["])
        q = f"/qos[{self.tag}]"
        for leaf in ("/qos[normal]/id", "/qos[normal]/description", f"{q}/priority",
                     f"{q}/limits/max/wall_clock/per/job", f"{q}/limits/max/jobs/per/user",
                     f"{q}/limits/max/jobs/active_jobs/per/user",
                     f"{q}/limits/max/tres/per/user[cpu/]/count", f"{q}/usage_factor",
                     f"{q}/flags", f"{q}/preempt/list"):
            self.assertIn(leaf, common)

    async def test_tres(self):
        common = await self.compare("/tres", ["/tres["])
        self.assertIn("/tres[cpu/]/id", common)
        self.assertIn("/tres[cpu/]/count", common)

    async def test_accounts(self):
        common = await self.compare("/accounts", ["/accounts["])
        self.assertIn("/accounts[physics]/organization", common)
        self.assertIn("/accounts[physics]/description", common)

    async def test_clusters(self):
        common = await self.compare("/clusters", ["/clusters["])
        for leaf in ("/clusters[tc2411]/nodes", "/clusters[tc2411]/rpc_version",
                     "/clusters[tc2411]/controller/port", "/clusters[tc2411]/tres[cpu/]/count"):
            self.assertIn(leaf.replace("tc2411", self.cluster_name), common)

    async def test_wckeys(self):
        cluster = self.cluster_name
        self.cleanup_sacctmgr("delete", "wckey", self.tag)
        self.cluster.run(["sacctmgr", "-i", "add", "user", "bob", f"wckey={self.tag}",
                          f"cluster={cluster}"])
        common = await self.compare("/wckeys", ["/wckeys["])
        self.assertIn(f"/wckeys[{self.tag}]/user", common)

    async def test_diag(self):
        # (which RPC types are counted moves with every request, a clear stats empties the
        # rollups: only the start time is sure to be there on both sides)
        common = await self.compare("/diag", [])
        self.assertIn("/statistics/time_start", common)


class V0038Tests(Api2411TestCase):
    """/slurmdb/v0.0.38 kept for its clients on 24.11: its values as sacctmgr's."""

    async def test_qos_and_accounts(self):
        status, doc = await self.request("GET", f"{self.base}/slurmdb/v0.0.38/qos")
        self.assertEqual(status, 200)
        self.assertEqual({(q["name"], str(q["id"]), str(q["priority"])) for q in doc["QOS"]},
                         {tuple(r) for r in self.sacctmgr("show", "qos",
                                                          "format=name,id,priority")})
        status, doc = await self.request("GET", f"{self.base}/slurmdb/v0.0.38/accounts")
        self.assertEqual(status, 200)
        self.assertEqual({(a["name"], a["description"], a["organization"])
                          for a in doc["accounts"]},
                         {tuple(r) for r in self.sacctmgr("show", "account",
                                                          "format=account,descr,org")})


class WriteTests(Api2411TestCase):
    async def test_account(self):
        self.cleanup_sacctmgr("delete", "account", self.tag)
        status, doc = await self.ours("POST", "/accounts", {"accounts": [
            {"name": self.tag, "description": "temp", "organization": "lab"}]})
        self.assertEqual((status, doc["errors"]), (200, []))
        self.assertEqual(self.sacctmgr("show", "account", self.tag, "format=account,descr,org"),
                         [[self.tag, "temp", "lab"]])
        status, doc = await self.ours("GET", f"/account/{self.tag}")
        self.assertEqual(doc["accounts"][0]["organization"], "lab")
        status, doc = await self.ours("DELETE", f"/account/{self.tag}")
        self.assertEqual((status, doc["removed_associations"]), (200, [self.tag]))
        self.assertEqual(self.sacctmgr("show", "account", self.tag, "format=account"), [])

    async def test_qos(self):
        self.cleanup_sacctmgr("delete", "qos", self.tag)
        status, doc = await self.ours("POST", "/qos", {"QOS": [
            {"name": self.tag, "description": "f2", "priority": 7,
             "limits": {"max": {"wall_clock": {"per": {"job": 60}},
                                "jobs": {"active_jobs": {"per": {"user": 3}}}}}}]})
        self.assertEqual((status, doc["errors"]), (200, []))
        self.assertEqual(self.sacctmgr("show", "qos", self.tag,
                                       "format=name,descr,priority,maxwall,maxjobspu"),
                         [[self.tag, "f2", "7", "01:00:00", "3"]])
        status, doc = await self.ours("POST", "/qos", {"QOS": [{"name": self.tag,
                                                                "priority": 9}]})
        self.assertEqual((status, doc["errors"]), (200, []))
        self.assertEqual(self.sacctmgr("show", "qos", self.tag, "format=priority,maxjobspu"),
                         [["9", "3"]])
        status, doc = await self.ours("DELETE", f"/qos/{self.tag}")
        self.assertEqual((status, doc["removed_qos"]), (200, [self.tag]))
        self.assertEqual(self.sacctmgr("show", "qos", self.tag, "format=name"), [])

    async def test_wckey(self):
        cluster = self.cluster_name
        self.cleanup_sacctmgr("delete", "wckey", self.tag)
        status, doc = await self.ours("POST", "/wckeys", {"wckeys": [
            {"name": self.tag, "cluster": cluster, "user": "bob"}]})
        self.assertEqual((status, doc["errors"]), (200, []))
        self.assertEqual(self.sacctmgr("show", "wckey", self.tag, "format=wckey,cluster,user"),
                         [[self.tag, cluster, "bob"]])
        status, doc = await self.ours("DELETE", f"/wckey/{self.tag}")
        self.assertEqual(status, 200, doc)
        self.assertEqual(self.sacctmgr("show", "wckey", self.tag, "format=wckey"), [])

    async def test_alice_refused(self):
        self.cleanup_sacctmgr("delete", "account", self.tag)
        status, doc = await self.ours("POST", "/accounts", {"accounts": [
            {"name": self.tag, "description": "d", "organization": "o"}]}, user="alice")
        self.assertEqual(status, 403, doc)
        self.assertEqual(self.sacctmgr("show", "account", self.tag, "format=account"), [])
