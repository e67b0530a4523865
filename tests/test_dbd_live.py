"""The slurmdbd client against the real test cluster (``SLURMREST_TEST_CLUSTER``).

Every read is decoded to its last byte (``dbd_framing.decode`` refuses leftovers) and
cross-checked with ``sacctmgr -nP show`` / ``sacct -nP`` for the same records; every write is
seen by ``sacctmgr show`` afterwards and removed again; a failed write commits nothing.
Names made here carry a random tag; whatever a test adds, its cleanup removes.
"""

import os
import signal
import time
import uuid

from twisted.internet import reactor, task
from twisted.trial import unittest

from slurmrest.testing import bringup
from slurmrest.testing.cluster import Cluster
from slurmrest.wire import primitives as P
from slurmrest.wire.conf import SlurmConfig
from slurmrest.wire.credentials import TokenMinter
from slurmrest.wire.dbd_client import SlurmdbdClient
from slurmrest.wire.dbd_msgtypes import DbdMsgType as D
from slurmrest.wire.errors import (
    ESLURM_ACCESS_DENIED, CommunicationError, SlurmError,
)
from slurmrest.wire.tables import dbd_v22_05 as T

JOB_STATES = ("PENDING", "RUNNING", "SUSPENDED", "COMPLETED", "CANCELLED", "FAILED",
              "TIMEOUT", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY")
ADMIN_LEVELS = {1: "None", 2: "Operator", 3: "Administrator"}
STEP_NAMES = {P.SLURM_BATCH_SCRIPT: "batch", P.SLURM_EXTERN_CONT: "extern"}


def limit(value):
    """A u32 limit as sacctmgr -P prints it: NO_VAL/INFINITE -> ''."""
    return "" if value in (P.NO_VAL, P.INFINITE) else str(value)


def exit_code(status):
    """A wait(2) status as sacct prints ExitCode: ``code:signal``, where sacct shows a shell's
    128+N exit (a job step killed by signal N) as N (print.c)."""
    code, signal = (status >> 8) & 0xFF, status & 0x7F
    if signal:
        code = 0
    return f"{code - 128 if code >= 128 else code}:{signal}"


class LiveDbdTestCase(unittest.TestCase):
    timeout = 120

    def setUp(self):
        self.cluster = Cluster.from_environment()
        self.config = SlurmConfig.load(self.cluster.slurm_conf)
        self.client = SlurmdbdClient(self.config, reactor, read_timeout=20)
        self.addCleanup(self.client.close)
        minter = TokenMinter(self.cluster.jwt_key(), lifespan=600)
        self.root_cred = minter.credential_for(self.config.slurm_user)
        self.alice_cred = minter.credential_for("alice")
        self.root = self.client.bind(self.root_cred)
        self.alice = self.client.bind(self.alice_cred)
        self.tag = f"h5{uuid.uuid4().hex[:8]}"

    def sacctmgr(self, *argv):
        out = self.cluster.run(["sacctmgr", "-nP", *argv]).stdout
        return [line.split("|") for line in out.splitlines() if line.strip()]

    async def tres_names(self):
        names = {}
        for t in await self.root.tres():
            names[t["id"]] = f"{t['type']}/{t['name']}" if t["name"] else t["type"]
        return names

    async def qos_names(self):
        return {q["id"]: q["name"] for q in await self.root.qos({"with_deleted": 1})}


class ReadTests(LiveDbdTestCase):
    async def test_tres_match_sacctmgr(self):
        ours = {(t["type"], t["name"] or "", str(t["id"])) for t in await self.root.tres()}
        theirs = {tuple(row) for row in self.sacctmgr("show", "tres", "format=type,name,id")}
        self.assertEqual(ours, theirs)
        # with_deleted adds TRES_OFFSET's placeholder row 1000 (dynamic_offset, §4.5.2)
        deleted = await self.root.tres({"with_deleted": 1})
        self.assertIn(("dynamic_offset", 1000), {(t["type"], t["id"]) for t in deleted})

    async def test_qos_match_sacctmgr(self):
        ours = {(q["name"], str(q["id"]), str(q["priority"]), limit(q["max_wall_pj"]),
                 limit(q["max_jobs_pu"]), f"{q['usage_factor']:.6f}")
                for q in await self.root.qos()}
        theirs = {tuple(r) for r in self.sacctmgr(
            "show", "qos", "format=name,id,priority,maxwall,maxjobspu,usagefactor")}
        self.assertEqual(ours, theirs)

    async def test_associations_match_sacctmgr(self):
        qos = await self.qos_names()
        ours = set()
        for a in await self.root.associations():
            names = sorted(qos[int(i)] for i in a["qos_list"] or ())
            ours.add((a["cluster"], a["acct"], a["user"] or "", a["partition"] or "",
                      str(a["id"]), a["parent_acct"] or "", str(a["shares_raw"]),
                      limit(a["grp_jobs"]), limit(a["max_jobs"]), limit(a["max_submit_jobs"]),
                      ",".join(names), str(a["lft"])))
        theirs = {tuple(r) for r in self.sacctmgr(
            "show", "assoc", "format=cluster,account,user,partition,id,parentname,fairshare,"
            "grpjobs,maxjobs,maxsubmit,qos,lft")}
        self.assertEqual(ours, theirs)

    async def test_users_match_sacctmgr(self):
        users = await self.root.users({"with_assocs": 1, "with_coords": 1})
        ours = {(u["name"], u["default_acct"] or "", ADMIN_LEVELS[u["admin_level"]])
                for u in users}
        theirs = {tuple(r) for r in self.sacctmgr(
            "show", "user", "format=user,defaultaccount,admin")}
        self.assertEqual(ours, theirs)
        # with_assocs: each user's associations, as sacctmgr show user withassoc lists them
        ours = {(u["name"], a["acct"]) for u in users for a in u["assoc_list"]}
        theirs = {(r[0], r[1]) for r in self.sacctmgr(
            "show", "user", "withassoc", "format=user,account")}
        self.assertEqual(ours, theirs)
        # without with_assocs the list is NULL on the wire (NO_VAL), not empty
        for u in await self.root.users():
            self.assertIsNone(u["assoc_list"])
            self.assertIsNone(u["wckey_list"])

    async def test_accounts_match_sacctmgr(self):
        ours = {(a["name"], a["description"], a["organization"])
                for a in await self.root.accounts({"with_assocs": 1, "with_coords": 1})}
        theirs = {tuple(r) for r in self.sacctmgr(
            "show", "account", "format=account,descr,org")}
        self.assertEqual(ours, theirs)

    async def test_clusters_match_sacctmgr(self):
        tres = await self.tres_names()
        ours = set()
        for c in await self.root.clusters():
            counts = dict(item.split("=") for item in c["tres_str"].split(",") if item)
            ours.add((c["name"], c["control_host"], str(c["control_port"]),
                      str(c["rpc_version"]),
                      ",".join(sorted(f"{tres[int(k)]}={v}" for k, v in counts.items()))))
        theirs = set()
        for name, host, port, rpc, tres_text in self.sacctmgr(
                "show", "cluster", "format=cluster,controlhost,controlport,rpc,tres"):
            # sacctmgr prints mem with a unit (8000M); the wire carries megabytes
            items = [i[:-1] if i.startswith("mem=") and i.endswith("M") else i
                     for i in tres_text.split(",")]
            theirs.add((name, host, port, rpc, ",".join(sorted(items))))
        self.assertEqual(ours, theirs)
        self.assertIn(self.cluster.cluster_name, {c[0] for c in ours})

    async def test_stats(self):
        before = await self.root.stats()
        self.assertIsNone(before["dbd_rollup_stats"]["cluster_name"])
        self.assertEqual(before["dbd_rollup_stats"]["rollup_count"], 3)
        text = self.cluster.run(["sacctmgr", "show", "stats"]).stdout
        after = await self.root.stats()
        self.assertEqual(before["time_start"], after["time_start"])
        counts = {r["id"]: r["cnt"] for r in after["rpc_list"]}
        # our own DBD_GET_STATS is counted, and sacctmgr's in between as well
        self.assertGreaterEqual(counts[D.DBD_GET_STATS],
                                {r["id"]: r["cnt"] for r in before["rpc_list"]}
                                [D.DBD_GET_STATS] + 1)
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("DBD_GET_STATS"):
                self.assertIn(f"count:{counts[D.DBD_GET_STATS] - 1}", line.replace(" ", ""))
        uids = {r["id"] for r in after["user_list"]}
        self.assertIn(0, uids)

    async def test_wckeys_match_sacctmgr(self):
        ours = {(w["name"], w["cluster"], w["user"]) for w in await self.root.wckeys()}
        theirs = {tuple(r) for r in self.sacctmgr(
            "show", "wckey", "format=wckey,cluster,user")}
        self.assertEqual(ours, theirs)

    async def test_config(self):
        pairs = {p["name"]: p["value"] for p in await self.root.config_pairs()}
        self.assertEqual(pairs["DbdPort"], str(self.cluster.dbd_port))

    async def test_job_matches_sacct(self):
        job_id = self.cluster.submit("exit 3", user="alice", name=self.tag)
        self.addCleanup(self.cluster.cancel, job_id)
        self.assertEqual(self.cluster.accounting_state(job_id, until=("FAILED",)), "FAILED")
        # Until slurmctld's job record arrives, slurmdbd holds the placeholder a step start
        # made (job name "allocation", no partition): wait for the real one.
        deadline = time.monotonic() + 30
        while True:
            jobs = await self.root.jobs({"step_list": [{"job_id": job_id}], "flags": 0x5})
            if len(jobs) == 1 and jobs[0]["jobname"] == self.tag and jobs[0]["steps"] or (
                    time.monotonic() > deadline):
                break
            await task.deferLater(reactor, 0.5, lambda: None)
        self.assertEqual(len(jobs), 1)
        job = jobs[0]
        tres = await self.tres_names()
        rows = self.cluster.run(["sacct", "-nP", "-j", str(job_id), "--units=M", "-o",
                                 "JobIDRaw,State,ExitCode,ElapsedRaw,Account,User,Partition,"
                                 "NNodes,NodeList,JobName,AllocTRES,ReqCPUS"]).stdout
        rows = [r.split("|") for r in rows.splitlines() if r.strip()]
        by_id = {r[0]: r for r in rows}
        top = by_id[str(job_id)]
        self.assertEqual(
            [str(job["jobid"]), JOB_STATES[job["state"] & 0xFF], exit_code(job["exitcode"]),
             str(job["elapsed"]), job["account"], job["user"], job["partition"],
             str(job["alloc_nodes"]), job["nodes"], job["jobname"]],
            top[:10])
        self.assertEqual(top[1], "FAILED")
        self.assertEqual(top[2], "3:0")

        def tres_text(simple):
            out = []
            for item in simple.split(","):
                if not item:
                    continue
                k, v = item.split("=")
                if int(v) == P.NO_VAL64:  # unknown (energy): sacct leaves it out
                    continue
                name = tres[int(k)]
                out.append(f"{name}={v}M" if name == "mem" else f"{name}={v}")
            return ",".join(sorted(out))
        self.assertEqual(tres_text(job["tres_alloc_str"]), ",".join(sorted(top[10].split(","))))
        self.assertEqual(str(job["req_cpus"]), top[11])
        self.assertEqual(job["uid"], 2001)
        for step in job["steps"]:
            step_id = STEP_NAMES.get(step["step_id"], str(step["step_id"]))
            row = by_id[f"{job_id}.{step_id}"]
            self.assertEqual([JOB_STATES[step["state"] & 0xFF], exit_code(step["exitcode"]),
                              str(step["elapsed"]), step["nodes"]],
                             [row[1], row[2], row[3], row[8]])
            self.assertIsInstance(step["stats"]["tres_usage_in_max"], str)
        self.assertIn("batch", {STEP_NAMES.get(s["step_id"]) for s in job["steps"]})

    async def test_jobs_window_matches_sacct(self):
        start = int(time.time()) - 7 * 86400
        ours = await self.root.jobs({"usage_start": start, "flags": 0x5,
                                     "cluster_list": [self.cluster.cluster_name]})
        out = self.cluster.run(["sacct", "-nP", "-X", "-a", "-D", "-S",
                                time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(start)),
                                "-o", "JobIDRaw,State,ExitCode"]).stdout
        theirs = set()
        for row in out.splitlines():
            if row.strip():
                job_id, state, code = row.split("|")
                theirs.add((job_id, state.split(" by ")[0], code))  # "CANCELLED by 0"
        self.assertEqual(
            {(str(j["jobid"]), JOB_STATES[j["state"] & 0xFF], exit_code(j["exitcode"]))
             for j in ours},
            theirs)

    async def test_shared_identical_reads(self):
        from twisted.internet import defer
        before = self.client.connections_opened
        results = await defer.gatherResults(
            [defer.ensureDeferred(self.root.associations()) for _ in range(8)])
        self.assertEqual(len({len(r) for r in results}), 1)
        self.assertLessEqual(self.client.connections_opened - before, 1)
        await self.root.associations()
        self.assertLessEqual(self.client.connections_opened - before, 1)  # pooled

    async def test_pooled_connection_sees_later_changes(self):
        # Each connection is one MySQL transaction: without the rollback after each read, a
        # reused connection would answer from its first read's snapshot for ever.
        names = {a["name"] for a in await self.root.accounts()}
        self.assertNotIn(self.tag, names)
        opened = self.client.connections_opened
        self.addCleanup(self.cluster.run, ["sacctmgr", "-i", "delete", "account", self.tag],
                        check=False)
        self.cluster.run(["sacctmgr", "-i", "add", "account", self.tag])
        names = {a["name"] for a in await self.root.accounts()}
        self.assertIn(self.tag, names)
        self.assertEqual(self.client.connections_opened, opened)  # the same connection

    async def test_bad_token_refused_at_init(self):
        forged = TokenMinter(b"not the cluster's key" * 2, lifespan=600)
        with self.assertRaises(SlurmError) as caught:
            await self.client.bind(forged.credential_for("alice")).tres()
        self.assertEqual(caught.exception.errno, -1)
        self.assertEqual(caught.exception.message,
                         "Failed to unpack SLURM_PERSIST_INIT message")
        self.assertEqual(self.client._open, 0)  # closed, nothing pooled

    async def test_alice_reads(self):
        # alice may read her own view; wckeys and stats need Operator / Administrator
        self.assertTrue(await self.alice.tres())
        with self.assertRaises(SlurmError) as caught:
            await self.alice.stats()
        self.assertEqual(caught.exception.errno, ESLURM_ACCESS_DENIED)
        # slurmdbd closed that connection: the next read works on a new one
        self.assertTrue(await self.alice.qos())
        with self.assertRaises(SlurmError) as caught:
            await self.alice.wckeys()
        self.assertEqual(caught.exception.errno, ESLURM_ACCESS_DENIED)

    async def test_problems_match_sacctmgr(self):
        # an account association without users is a problem (sacctmgr show problem)
        acct, cluster = self.tag, self.cluster.cluster_name
        self.addCleanup(self.cluster.run, ["sacctmgr", "-i", "delete", "account", acct],
                        check=False)
        self.cluster.run(["sacctmgr", "-i", "add", "account", acct, f"cluster={cluster}"])
        ours = {(p["cluster"], p["acct"], p["user"] or "")
                for p in await self.root.problems()}
        theirs = {tuple(r[:3]) for r in self.sacctmgr("show", "problem")}
        self.assertIn((cluster, acct, ""), ours)
        self.assertEqual(ours, theirs)


class WriteTests(LiveDbdTestCase):
    def cleanup_sacctmgr(self, *argv):
        self.addCleanup(self.cluster.run, ["sacctmgr", "-i", *argv], check=False)

    async def test_account_user_association_modify_remove(self):
        acct, cluster = self.tag, self.cluster.cluster_name
        self.cleanup_sacctmgr("delete", "account", acct)
        txn = await self.client.begin(self.root_cred)
        await txn.call(D.DBD_ADD_ACCOUNTS, {"my_list": [
            {"name": acct, "description": "h5 test", "organization": "h5org"}]})
        await txn.call(D.DBD_ADD_ASSOCS, {"my_list": [
            {"acct": acct, "cluster": cluster, "parent_acct": "root"},
            {"acct": acct, "cluster": cluster, "user": "bob"}]})
        # before the commit sacctmgr (another connection) sees nothing
        self.assertEqual(self.sacctmgr("show", "account", acct, "format=account"), [])
        await txn.commit()
        self.assertEqual(self.sacctmgr("show", "account", acct, "format=account,descr,org"),
                         [[acct, "h5 test", "h5org"]])
        self.assertEqual(
            sorted(self.sacctmgr("show", "assoc", f"account={acct}", "format=account,user")),
            [[acct, ""], [acct, "bob"]])

        rec = dict(T.ASSOC_REC_NO_CHANGE, max_jobs=7, grp_tres="1=4")
        changed = await self.client.write(D.DBD_MODIFY_ASSOCS, {
            "cond": {"acct_list": [acct], "user_list": ["bob"], "cluster_list": [cluster]},
            "rec": rec}, self.root_cred)
        self.assertEqual(len(changed), 1)
        self.assertEqual(self.sacctmgr("show", "assoc", f"account={acct}", "user=bob",
                                       "format=user,maxjobs,grptres"), [["bob", "7", "cpu=4"]])

        removed = await self.client.write(D.DBD_REMOVE_ASSOCS, {
            "acct_list": [acct], "user_list": ["bob"], "cluster_list": [cluster]},
            self.root_cred)
        self.assertEqual(len(removed), 1)
        removed = await self.client.write(D.DBD_REMOVE_ACCOUNTS, {
            "assoc_cond": {"acct_list": [acct], "user_list": []}}, self.root_cred)
        self.assertEqual(removed, [acct])
        self.assertEqual(self.sacctmgr("show", "account", acct, "format=account"), [])
        # nothing left to remove: an empty answer, not an error
        self.assertEqual(await self.client.write(D.DBD_REMOVE_ACCOUNTS, {
            "assoc_cond": {"acct_list": [acct], "user_list": []}}, self.root_cred), [])

    async def test_user_with_association_coordinator_modify_remove(self):
        acct, user, cluster = self.tag, f"{self.tag}u", self.cluster.cluster_name
        self.cleanup_sacctmgr("delete", "account", acct)
        self.cleanup_sacctmgr("delete", "user", user)
        txn = await self.client.begin(self.root_cred)
        await txn.call(D.DBD_ADD_ACCOUNTS, {"my_list": [
            {"name": acct, "description": "d", "organization": "o"}]})
        await txn.call(D.DBD_ADD_ASSOCS, {"my_list": [
            {"acct": acct, "cluster": cluster, "parent_acct": "root"}]})
        await txn.call(D.DBD_ADD_USERS, {"my_list": [
            {"name": user, "default_acct": acct, "admin_level": 1}]})
        await txn.call(D.DBD_ADD_ASSOCS, {"my_list": [
            {"acct": acct, "cluster": cluster, "user": user, "is_def": 1}]})
        await txn.call(D.DBD_ADD_ACCOUNT_COORDS, {
            "acct_list": [acct], "cond": {"assoc_cond": {"user_list": [user]}}})
        await txn.commit()
        self.assertEqual(self.sacctmgr("show", "user", user, "withcoord",
                                       "format=user,defaultaccount,admin,coordinators"),
                         [[user, acct, "None", acct]])
        ours = await self.root.users({"assoc_cond": {"user_list": [user]},
                                      "with_assocs": 1, "with_coords": 1})
        self.assertEqual([(u["name"], u["default_acct"], [a["acct"] for a in u["assoc_list"]],
                           u["coord_accts"]) for u in ours],
                         [(user, acct, [acct], [{"name": acct, "direct": 1}])])

        changed = await self.client.write(D.DBD_MODIFY_USERS, {
            "cond": {"assoc_cond": {"user_list": [user]}}, "rec": {"admin_level": 2}},
            self.root_cred)
        self.assertEqual(len(changed), 1)
        self.assertEqual(self.sacctmgr("show", "user", user, "format=admin"), [["Operator"]])
        changed = await self.client.write(D.DBD_MODIFY_ACCOUNTS, {
            "cond": {"assoc_cond": {"acct_list": [acct]}}, "rec": {"description": "e"}},
            self.root_cred)
        self.assertEqual(len(changed), 1)
        self.assertEqual(self.sacctmgr("show", "account", acct, "format=descr"), [["e"]])

        removed = await self.client.write(D.DBD_REMOVE_ACCOUNT_COORDS, {
            "acct_list": [acct], "cond": {"assoc_cond": {"user_list": [user]}}},
            self.root_cred)
        self.assertEqual(len(removed), 1)
        removed = await self.client.write(D.DBD_REMOVE_USERS, {
            "assoc_cond": {"user_list": [user]}}, self.root_cred)
        self.assertEqual(removed, [user])
        self.assertEqual(self.sacctmgr("show", "user", user, "format=user"), [])
        await self.client.write(D.DBD_REMOVE_ACCOUNTS, {
            "assoc_cond": {"acct_list": [acct], "user_list": []}}, self.root_cred)

    async def test_failed_write_commits_nothing(self):
        acct = self.tag
        self.cleanup_sacctmgr("delete", "account", acct)
        txn = await self.client.begin(self.root_cred)
        await txn.call(D.DBD_ADD_ACCOUNTS, {"my_list": [
            {"name": acct, "description": "d", "organization": "o"}]})
        with self.assertRaises(SlurmError):
            await txn.call(D.DBD_ADD_ASSOCS, {"my_list": [
                {"acct": acct, "cluster": self.cluster.cluster_name,
                 "parent_acct": f"{acct}-no-such-parent"}]})
        with self.assertRaises(RuntimeError):
            await txn.commit()
        self.assertEqual(self.sacctmgr("show", "account", acct, "format=account"), [])
        # and the pool is not poisoned
        self.assertTrue(await self.root.tres())

    async def test_qos_with_limits(self):
        name = self.tag
        self.cleanup_sacctmgr("delete", "qos", name)
        rec = dict(T.QOS_REC_NO_CHANGE, name=name, description="h5 qos", max_jobs_pu=3,
                   max_wall_pj=60, priority=5, max_tres_pu="1=2")
        self.assertIsNone(await self.client.write(D.DBD_ADD_QOS, {"my_list": [rec]},
                                                  self.root_cred))
        self.assertEqual(self.sacctmgr("show", "qos", name,
                                       "format=name,descr,maxjobspu,maxwall,priority,maxtrespu"),
                         [[name, "h5 qos", "3", "01:00:00", "5", "cpu=2"]])
        ours = [q for q in await self.root.qos({"name_list": [name]})]
        self.assertEqual([(q["name"], q["max_jobs_pu"], q["max_wall_pj"], q["priority"])
                          for q in ours], [(name, 3, 60, 5)])
        changed = await self.client.write(D.DBD_MODIFY_QOS, {
            "cond": {"name_list": [name]}, "rec": dict(T.QOS_REC_NO_CHANGE, max_jobs_pu=9)},
            self.root_cred)
        self.assertEqual(len(changed), 1)
        self.assertEqual(self.sacctmgr("show", "qos", name, "format=maxjobspu"), [["9"]])
        self.assertEqual(await self.client.write(D.DBD_REMOVE_QOS, {"name_list": [name]},
                                                 self.root_cred), [name])
        self.assertEqual(self.sacctmgr("show", "qos", name, "format=name"), [])

    async def test_wckey(self):
        name, cluster = self.tag, self.cluster.cluster_name
        self.cleanup_sacctmgr("delete", "wckey", name)
        await self.client.write(D.DBD_ADD_WCKEYS, {"my_list": [
            {"name": name, "cluster": cluster, "user": "bob", "is_def": 0}]}, self.root_cred)
        self.assertEqual(self.sacctmgr("show", "wckey", name, "format=wckey,cluster,user"),
                         [[name, cluster, "bob"]])
        ours = await self.root.wckeys({"name_list": [name]})
        self.assertEqual([(w["name"], w["cluster"], w["user"]) for w in ours],
                         [(name, cluster, "bob")])
        removed = await self.client.write(D.DBD_REMOVE_WCKEYS, {
            "name_list": [name], "cluster_list": [cluster]}, self.root_cred)
        self.assertEqual(len(removed), 1)
        self.assertEqual(self.sacctmgr("show", "wckey", name, "format=wckey"), [])

    async def test_cluster(self):
        name = self.tag
        self.cleanup_sacctmgr("delete", "cluster", name)
        await self.client.write(D.DBD_ADD_CLUSTERS, {"my_list": [{"name": name}]},
                                self.root_cred)
        self.assertEqual(self.sacctmgr("show", "cluster", name, "format=cluster"), [[name]])
        ours = await self.root.clusters({"cluster_list": [name]})
        self.assertEqual([c["name"] for c in ours], [name])
        removed = await self.client.write(D.DBD_REMOVE_CLUSTERS, {"cluster_list": [name]},
                                          self.root_cred)
        self.assertEqual(removed, [name])
        self.assertEqual(self.sacctmgr("show", "cluster", name, "format=cluster"), [])

    async def test_alice_write_refused(self):
        acct = self.tag
        self.cleanup_sacctmgr("delete", "account", acct)
        with self.assertRaises(SlurmError) as caught:
            await self.client.write(D.DBD_ADD_ACCOUNTS, {"my_list": [
                {"name": acct, "description": "d", "organization": "o"}]}, self.alice_cred)
        self.assertEqual(caught.exception.errno, ESLURM_ACCESS_DENIED)
        self.assertEqual(self.sacctmgr("show", "account", acct, "format=account"), [])
        self.assertTrue(await self.alice.tres())  # a new connection after slurmdbd closed it


class OutageTests(LiveDbdTestCase):
    """slurmdbd stopped and frozen; always restarted / resumed afterwards."""

    async def test_frozen_slurmdbd_times_out(self):
        client = SlurmdbdClient(self.config, reactor, read_timeout=1.5, connect_timeout=1.5)
        self.addCleanup(client.close)
        root = client.bind(self.root_cred)
        self.assertTrue(await root.tres())  # one pooled connection, initialised
        pid = self.cluster.daemon_pid("slurmdbd")
        os.kill(pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            with self.assertRaises(CommunicationError) as caught:
                await root.qos()
            self.assertTrue(caught.exception.timeout)
            self.assertLess(time.monotonic() - started, 10)
            with self.assertRaises(CommunicationError) as caught:  # a new connection's init
                await client.bind(self.alice_cred).qos()
            self.assertTrue(caught.exception.timeout)
        finally:
            os.kill(pid, signal.SIGCONT)
        self.assertTrue(await root.qos())

    async def test_stopped_slurmdbd_connect_error(self):
        pid = self.cluster.daemon_pid("slurmdbd")
        os.kill(pid, signal.SIGTERM)
        try:
            bringup.wait_for(30, "slurmdbd to exit", lambda: not bringup.alive(pid))
            with self.assertRaises(CommunicationError) as caught:
                await self.client.bind(self.alice_cred).tres()
            self.assertEqual(caught.exception.errno, 1001)
            self.assertFalse(caught.exception.timeout)
        finally:
            bringup.start_slurmdbd(self.cluster.layout)
        self.assertTrue(await self.root.tres())
