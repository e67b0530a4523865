"""The slurmdbd client with the 24.11 tables against a real Slurm 24.11 slurmdbd.

The cluster is testcluster-chroot.sh's (Debian 13 packages in a chroot):
``SLURMREST_TEST_CLUSTER_2411=DIR`` names its directory; without it every test here is
skipped. Every read is decoded to its last byte (``dbd_framing.decode`` refuses leftovers)
and cross-checked with the chroot's own ``sacctmgr -nP`` / ``sacct -nP``; every write is
seen by that ``sacctmgr`` afterwards and removed again. Names made here carry a random tag.
"""

import os
import subprocess
import time
import uuid

from twisted.internet import reactor
from twisted.trial import unittest

from slurmrest.wire import primitives as P
from slurmrest.wire.conf import SlurmConfig
from slurmrest.wire.credentials import TokenMinter
from slurmrest.wire.dbd_client import SlurmdbdClient
from slurmrest.wire.dbd_msgtypes import DbdMsgType as D
from slurmrest.wire.errors import (
    ESLURM_ACCESS_DENIED, SLURM_PROTOCOL_VERSION_ERROR, ProtocolError, SlurmError,
)
from slurmrest.wire.tables import dbd_v24_11 as T
from slurmrest.wire.tables import v22_05, v24_11

ENV = "SLURMREST_TEST_CLUSTER_2411"
VERSION = v24_11.VERSION

JOB_STATES = ("PENDING", "RUNNING", "SUSPENDED", "COMPLETED", "CANCELLED", "FAILED",
              "TIMEOUT", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY")
ADMIN_LEVELS = {1: "None", 2: "Operator", 3: "Administrator"}


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


def _second_release_2411():
    """scripts/test's second-release cluster, when that release is 24.11."""
    from slurmrest.testing import second
    other = second.other_release(second.read_debian_version())
    if other is not None and other.slurm == "24.11":
        return os.environ.get(second.ENVIRONMENT_VARIABLE)
    return None


class Cluster2411:
    """testcluster-chroot.sh's cluster in ``DIR``: its slurm.conf (valid on the host too),
    its JWT key, and its own tools run inside the chroot (``DIR/in-chroot``)."""

    def __init__(self, directory):
        self.dir = directory
        self.slurm_conf = os.path.join(directory, "etc", "slurm.conf")
        self.in_chroot = os.path.join(directory, "in-chroot")
        for path in (self.slurm_conf, self.in_chroot):
            if not os.path.exists(path):
                raise unittest.SkipTest(f"{ENV}={directory}: no {path} (is the 24.11 "
                                        f"cluster up? testcluster-chroot.sh up {directory})")

    @classmethod
    def from_environment(cls):
        directory = os.environ.get(ENV) or _second_release_2411()
        if not directory:
            raise unittest.SkipTest(
                f"no Slurm 24.11 cluster configured: set {ENV}=DIR of a cluster made by "
                f"testcluster-chroot.sh up DIR")
        return cls(directory)

    def jwt_key(self):
        with open(os.path.join(self.dir, "jwt_hs256.key"), "rb") as f:
            return f.read()

    def run(self, argv, user=None, check=True):
        if user is not None:
            argv = ["runuser", "-u", user, "--", *argv]
        return subprocess.run([self.in_chroot, *argv], capture_output=True, text=True,
                              check=check, timeout=120)


class Live2411TestCase(unittest.TestCase):
    timeout = 120

    def setUp(self):
        self.cluster = Cluster2411.from_environment()
        self.config = SlurmConfig.load(self.cluster.slurm_conf)
        self.cluster_name = self.config.cluster_name
        self.client = SlurmdbdClient(self.config, reactor, read_timeout=20, version=VERSION)
        self.addCleanup(self.client.close)
        minter = TokenMinter(self.cluster.jwt_key(), lifespan=600)
        self.root_cred = minter.credential_for(self.config.slurm_user)
        self.alice_cred = minter.credential_for("alice")
        self.root = self.client.bind(self.root_cred)
        self.alice = self.client.bind(self.alice_cred)
        self.tag = f"f2{uuid.uuid4().hex[:8]}"

    def sacctmgr(self, *argv):
        out = self.cluster.run(["sacctmgr", "-nP", *argv]).stdout
        return [line.split("|") for line in out.splitlines() if line.strip()]

    def cleanup_sacctmgr(self, *argv):
        self.addCleanup(self.cluster.run, ["sacctmgr", "-i", *argv], check=False)

    async def tres_names(self):
        return {t["id"]: f"{t['type']}/{t['name']}" if t["name"] else t["type"]
                for t in await self.root.tres()}

    async def qos_names(self):
        return {q["id"]: q["name"] for q in await self.root.qos({"with_deleted": 1})}


class ReadTests(Live2411TestCase):
    async def test_persist_init_is_24_11(self):
        # our init names 0x2A00 and is accepted; the same init in 22.05's protocol is not
        self.assertEqual(self.client.tables.protocol, 0x2A00)
        self.assertTrue(await self.root.tres())
        old = SlurmdbdClient(self.config, reactor, read_timeout=20, version=v22_05.VERSION)
        self.addCleanup(old.close)
        with self.assertRaises(ProtocolError) as caught:
            await old.bind(self.root_cred).tres()
        self.assertEqual(caught.exception.errno, SLURM_PROTOCOL_VERSION_ERROR)
        self.assertIn("Failed to unpack SLURM_PERSIST_INIT", caught.exception.message)

    async def test_tres_match_sacctmgr(self):
        ours = {(t["type"], t["name"] or "", str(t["id"])) for t in await self.root.tres()}
        theirs = {tuple(r) for r in self.sacctmgr("show", "tres", "format=type,name,id")}
        self.assertEqual(ours, theirs)
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
                      ",".join(names), a["lineage"]))
        theirs = {tuple(r) for r in self.sacctmgr(
            "show", "assoc", "format=cluster,account,user,partition,id,parentname,fairshare,"
            "grpjobs,maxjobs,maxsubmit,qos,lineage")}
        self.assertEqual(ours, theirs)

    async def test_association_condition_flags(self):
        # the 22.05 switches folded into 24.11's flags word filter as sacctmgr's do
        ours = {(a["acct"], a["user"]) for a in await self.root.associations(
            {"user_list": ["alice"], "only_defs": 1})}
        theirs = {(r[0], r[1]) for r in self.sacctmgr(
            "show", "assoc", "user=alice", "onlydefaults", "format=account,user")}
        self.assertEqual(ours, theirs)
        self.assertTrue(ours)


    async def test_association_sub_accounts(self):
        # with_sub_accts (ASSOC_COND_FLAG_SUB_ACCTS) follows the lineage to child accounts
        parent, child = self.tag, f"{self.tag}c"
        self.cleanup_sacctmgr("delete", "account", parent)
        self.cleanup_sacctmgr("delete", "account", child)
        self.cluster.run(["sacctmgr", "-i", "add", "account", parent,
                          f"cluster={self.cluster_name}"])
        self.cluster.run(["sacctmgr", "-i", "add", "account", child, f"parent={parent}",
                          f"cluster={self.cluster_name}"])
        alone = {a["acct"] for a in await self.root.associations({"acct_list": [parent]})}
        tree = {a["acct"] for a in await self.root.associations(
            {"acct_list": [parent], "with_sub_accts": 1})}
        self.assertEqual(alone, {parent})
        self.assertEqual(tree, {parent, child})
        self.assertEqual(tree, {r[0] for r in self.sacctmgr(
            "show", "assoc", f"account={parent}", "withsubaccounts", "format=account")})
        lineage = {a["acct"]: a["lineage"] for a in await self.root.associations(
            {"acct_list": [parent], "with_sub_accts": 1})}
        self.assertEqual(lineage, {parent: f"/{parent}/", child: f"/{parent}/{child}/"})

    async def test_users_match_sacctmgr(self):
        users = await self.root.users({"with_assocs": 1, "with_coords": 1})
        ours = {(u["name"], u["default_acct"] or "", ADMIN_LEVELS[u["admin_level"]])
                for u in users}
        theirs = {tuple(r) for r in self.sacctmgr(
            "show", "user", "format=user,defaultaccount,admin")}
        self.assertEqual(ours, theirs)
        ours = {(u["name"], a["acct"]) for u in users for a in u["assoc_list"]}
        theirs = {(r[0], r[1]) for r in self.sacctmgr(
            "show", "user", "withassoc", "format=user,account")}
        self.assertEqual(ours, theirs)
        for u in await self.root.users():  # a NULL assoc_cond; lists NULL, not empty
            self.assertIsNone(u["assoc_list"])
            self.assertIsNone(u["wckey_list"])

    async def test_accounts_match_sacctmgr(self):
        accounts = await self.root.accounts({"with_assocs": 1, "with_coords": 1})
        ours = {(a["name"], a["description"], a["organization"]) for a in accounts}
        theirs = {tuple(r) for r in self.sacctmgr(
            "show", "account", "format=account,descr,org")}
        self.assertEqual(ours, theirs)
        # WASSOC: each account's associations came along
        ours = {(a["name"], s["user"] or "") for a in accounts for s in a["assoc_list"]}
        theirs = {(r[0], r[1]) for r in self.sacctmgr(
            "show", "account", "withassoc", "format=account,user")}
        self.assertEqual(ours, theirs)
        for a in await self.root.accounts({}):  # no WASSOC: NULL lists
            self.assertIsNone(a["assoc_list"])

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
            items = [i[:-1] if i.startswith("mem=") and i.endswith("M") else i
                     for i in tres_text.split(",")]
            theirs.add((name, host, port, rpc, ",".join(sorted(items))))
        self.assertEqual(ours, theirs)
        self.assertIn((self.cluster_name, str(T.PROTOCOL_VERSION)),
                      {(c[0], c[3]) for c in ours})

    async def test_wckeys_match_sacctmgr(self):
        ours = {(w["name"], w["cluster"], w["user"]) for w in await self.root.wckeys()}
        theirs = {tuple(r) for r in self.sacctmgr("show", "wckey",
                                                  "format=wckey,cluster,user")}
        self.assertEqual(ours, theirs)

    async def test_problems_match_sacctmgr(self):
        acct = self.tag
        self.cleanup_sacctmgr("delete", "account", acct)
        self.cluster.run(["sacctmgr", "-i", "add", "account", acct,
                          f"cluster={self.cluster_name}"])
        ours = {(p["cluster"], p["acct"], p["user"] or "")
                for p in await self.root.problems()}
        theirs = {tuple(r[:3]) for r in self.sacctmgr("show", "problem")}
        self.assertIn((self.cluster_name, acct, ""), ours)
        self.assertEqual(ours, theirs)

    async def test_stats(self):
        before = await self.root.stats()
        self.assertEqual(before["dbd_rollup_stats"]["rollup_count"], 3)
        text = self.cluster.run(["sacctmgr", "show", "stats"]).stdout
        after = await self.root.stats()
        self.assertIn(f"({before['time_start']})", text.split("Data since", 1)[1]
                      .splitlines()[0])
        counts = {r["id"]: r["cnt"] for r in after["rpc_list"]}
        self.assertGreaterEqual(counts[D.DBD_GET_STATS],
                                {r["id"]: r["cnt"] for r in before["rpc_list"]}
                                [D.DBD_GET_STATS] + 1)

    async def test_clear_stats_and_reconfig(self):
        # bodiless requests answered with PERSIST_RC 0; clearing restarts the counters
        await self.client.call(D.DBD_CLEAR_STATS, {}, self.root_cred)
        after = await self.root.stats()
        counts = {r["id"]: r["cnt"] for r in after["rpc_list"]}
        self.assertLessEqual(counts.get(D.DBD_GET_STATS, 0), 2)
        text = self.cluster.run(["sacctmgr", "show", "stats"]).stdout
        self.assertIn(f"({after['time_start']})", text.split("Data since", 1)[1]
                      .splitlines()[0])
        message = await self.client.call(D.DBD_RECONFIG, {}, self.root_cred)
        self.assertEqual((message.msg_type, message.body["rc"]), (D.PERSIST_RC, 0))
        self.assertTrue(await self.root.tres())  # still served afterwards

    async def test_config(self):
        ours = {p["name"]: p["value"] for p in await self.root.config_pairs()}
        self.assertEqual(ours["DbdPort"], str(self.config.accounting_storage_port))
        theirs = {}
        for line in self.cluster.run(["sacctmgr", "show", "config"]).stdout.splitlines():
            if " = " in line:
                key, value = (part.strip() for part in line.split(" = ", 1))
                theirs[key] = value
        # slurmdbd's own settings (after "SlurmDBD configuration:") are the pairs we read
        for key in ("DbdPort", "DbdHost", "StorageType", "StoragePort", "SlurmUser"):
            self.assertEqual(ours[key], theirs[key], key)

    async def test_job_and_steps_match_sacct(self):
        # a job of alice's that ran two steps, then the job records and steps as sacct has them
        out = self.cluster.run(
            ["sbatch", "--parsable", "--wait", "-o", "/dev/null", "--wrap",
             "srun true; srun -n1 false; exit 3"], user="alice", check=False)
        job_id = int(out.stdout.strip().split(";")[0])
        jobs = await self.root.jobs({"step_list": [{"job_id": job_id}]})
        self.assertEqual([j["jobid"] for j in jobs], [job_id])
        job = jobs[0]
        columns = ("JobIDRaw,State,ExitCode,ElapsedRaw,Account,User,Partition,NNodes,"
                   "AllocTRES")
        row = self.sacct(["-X", "-j", str(job_id), "-o", columns])[0]
        tres = await self.tres_names()
        alloc = ",".join(sorted(f"{tres[int(k)]}={v}" for k, v in
                                (i.split("=") for i in job["tres_alloc_str"].split(","))))
        sacct_alloc = ",".join(sorted(
            i[:-1] if i.startswith("mem=") and i.endswith("M") else i
            for i in row[8].split(",")))
        self.assertEqual(
            (str(job["jobid"]), JOB_STATES[job["state"] & 0xFF], exit_code(job["exitcode"]),
             str(job["elapsed"]), job["account"], job["user"], job["partition"],
             str(job["alloc_nodes"]), alloc),
            (row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], sacct_alloc))
        steps = self.sacct(["-j", str(job_id), "-o", "JobIDRaw,State,ExitCode"])
        names = {P.SLURM_BATCH_SCRIPT: "batch", P.SLURM_EXTERN_CONT: "extern"}
        ours = {(f"{s['job_id']}.{names.get(s['step_id'], s['step_id'])}",
                 JOB_STATES[s["state"] & 0xFF], exit_code(s["exitcode"]))
                for s in job["steps"]}
        self.assertEqual(ours, {tuple(r) for r in steps if "." in r[0]})
        self.assertEqual(len(job["steps"]), job["steps_count"])

    def sacct(self, argv):
        out = self.cluster.run(["sacct", "-nP", *argv]).stdout
        return [line.split("|") for line in out.splitlines() if line.strip()]

    async def test_array_task_selection_matches_sacct(self):
        # a selected step naming one array task (array_task_id, then the 24.11 array_bitmap)
        out = self.cluster.run(
            ["sbatch", "--parsable", "--wait", "--array=1-3", "-J", self.tag, "-o",
             "/dev/null", "--wrap", "exit $SLURM_ARRAY_TASK_ID"], user="alice", check=False)
        array_id = int(out.stdout.strip().split(";")[0])

        def ours(jobs):
            return {(str(j["jobid"]), f"{j['array_job_id']}_{j['array_task_id']}",
                     JOB_STATES[j["state"] & 0xFF], exit_code(j["exitcode"])) for j in jobs}

        columns = "JobIDRaw,JobID,State,ExitCode"
        whole = await self.root.jobs({"step_list": [{"job_id": array_id}]})
        self.assertEqual(ours(whole), {tuple(r) for r in self.sacct(
            ["-X", "-j", str(array_id), "-o", columns])})
        self.assertEqual(len(whole), 3)
        one = await self.root.jobs({"step_list": [{"job_id": array_id, "array_task_id": 2}]})
        self.assertEqual(ours(one), {tuple(r) for r in self.sacct(
            ["-X", "-j", f"{array_id}_2", "-o", columns])})
        self.assertEqual(len(one), 1)

    async def test_job_condition_fields_match_sacct(self):
        # fields on both sides of the changed step_list: user, name, state, cpus, end fields
        out = self.cluster.run(["sbatch", "--parsable", "--wait", "-J", self.tag, "-o",
                                "/dev/null", "--wrap", "true"], user="bob", check=False)
        job_id = int(out.stdout.strip().split(";")[0])
        start = int(time.time()) - 3600
        cond = {"userid_list": [self.cluster.run(["id", "-u", "bob"]).stdout.strip()],
                "jobname_list": [self.tag], "state_list": ["3"],  # JOB_COMPLETE
                # a state filter needs the window's end, as sacct -s sets it (now)
                "cpus_min": 1, "usage_start": start, "usage_end": int(time.time()) + 1,
                "flags": 0x5,
                "cluster_list": [self.cluster_name], "wckey_list": None}
        self.assertEqual([j["jobid"] for j in await self.root.jobs(cond)], [job_id])
        rows = self.sacct(["-X", "-u", "bob", "--name", self.tag, "-s", "CD",
                                    "-S", time.strftime("%Y-%m-%dT%H:%M:%S",
                                                        time.localtime(start)),
                                    "-E", "now", "-o", "JobIDRaw"])
        self.assertEqual(rows, [[str(job_id)]])
        # a state the job never had, and a name it does not carry: nothing
        self.assertEqual(await self.root.jobs(dict(cond, state_list=["5"])), [])
        self.assertEqual(await self.root.jobs(dict(cond, jobname_list=[self.tag + "x"])), [])

    async def test_jobs_window_matches_sacct(self):
        start = int(time.time()) - 3 * 3600
        ours = await self.root.jobs({"usage_start": start, "flags": 0x5,
                                     "cluster_list": [self.cluster_name]})
        rows = self.sacct(["-X", "-a", "-D", "-S", time.strftime(
            "%Y-%m-%dT%H:%M:%S", time.localtime(start)), "-o", "JobIDRaw,State,ExitCode"])
        self.assertEqual(
            {(str(j["jobid"]), JOB_STATES[j["state"] & 0xFF], exit_code(j["exitcode"]))
             for j in ours},
            {(r[0], r[1].split(" by ")[0], r[2]) for r in rows})

    async def test_usage_matches_sreport(self):
        # accounting records (24.11's accounting_rec has id_alt) of the hours rolled up so
        # far, against sreport; a cluster younger than one whole hour has none yet
        end = int(time.time()) // 3600 * 3600
        start = end - 6 * 3600
        window = {"usage_start": start, "usage_end": end}
        [cluster] = await self.root.clusters(dict(window, cluster_list=[self.cluster_name],
                                                  with_usage=1))
        cpu = [r for r in cluster["accounting_list"] if r["tres_rec"]["id"] == 1]
        if not any(r["alloc_secs"] for r in cpu):
            raise unittest.SkipTest("no CPU time rolled up yet on this cluster (it needs "
                                    "jobs in an hour that has ended)")
        stamp = "%Y-%m-%dT%H:%M:%S"
        span = [f"start={time.strftime(stamp, time.localtime(start))}",
                f"end={time.strftime(stamp, time.localtime(end))}"]
        [[allocated]] = [r for r in (line.split("|") for line in self.cluster.run(
            ["sreport", "-nP", "-t", "seconds", "cluster", "utilization", *span,
             "format=Allocated"]).stdout.splitlines()) if r[0]]
        self.assertEqual(sum(r["alloc_secs"] for r in cpu), int(allocated))
        # sreport counts deleted associations' usage too
        assocs = await self.root.associations(dict(window, with_usage=1, with_deleted=1))
        ours = {}
        for a in assocs:
            if a["user"]:
                secs = sum(r["alloc_secs"] for r in a["accounting_list"] or ()
                           if r["tres_rec"]["id"] == 1)
                if secs:
                    ours[(a["acct"], a["user"])] = secs
        theirs = {}
        for row in self.cluster.run(["sreport", "-nP", "-t", "seconds", "cluster",
                                     "AccountUtilizationByUser", *span,
                                     "format=Account,Login,Used"]).stdout.splitlines():
            account, login, used = row.split("|")
            if login and int(used):
                theirs[(account, login)] = int(used)
        self.assertEqual(ours, theirs)

    async def test_alice_reads(self):
        self.assertTrue(await self.alice.tres())
        with self.assertRaises(SlurmError) as caught:
            await self.alice.stats()
        self.assertEqual(caught.exception.errno, ESLURM_ACCESS_DENIED)
        self.assertTrue(await self.alice.qos())


class WriteTests(Live2411TestCase):
    async def test_account_association_modify_remove(self):
        acct, cluster = self.tag, self.cluster_name
        self.cleanup_sacctmgr("delete", "account", acct)
        txn = await self.client.begin(self.root_cred)
        await txn.call(D.DBD_ADD_ACCOUNTS, {"my_list": [
            {"name": acct, "description": "f2 test", "organization": "f2org"}]})
        await txn.call(D.DBD_ADD_ASSOCS, {"my_list": [
            {"acct": acct, "cluster": cluster, "parent_acct": "root"},
            {"acct": acct, "cluster": cluster, "user": "bob"}]})
        self.assertEqual(self.sacctmgr("show", "account", acct, "format=account"), [])
        await txn.commit()
        self.assertEqual(self.sacctmgr("show", "account", acct, "format=account,descr,org"),
                         [[acct, "f2 test", "f2org"]])
        self.assertEqual(
            sorted(self.sacctmgr("show", "assoc", f"account={acct}", "format=account,user")),
            [[acct, ""], [acct, "bob"]])

        rec = dict(T.ASSOC_REC_NO_CHANGE, max_jobs=7, grp_tres="1=4", comment="f2")
        changed = await self.client.write(D.DBD_MODIFY_ASSOCS, {
            "cond": {"acct_list": [acct], "user_list": ["bob"], "cluster_list": [cluster]},
            "rec": rec}, self.root_cred)
        self.assertEqual(len(changed), 1)
        self.assertEqual(self.sacctmgr("show", "assoc", f"account={acct}", "user=bob",
                                       "format=user,maxjobs,grptres"), [["bob", "7", "cpu=4"]])
        ours = await self.root.associations({"acct_list": [acct], "user_list": ["bob"]})
        self.assertEqual([(a["max_jobs"], a["grp_tres"], a["lineage"]) for a in ours],
                         [(7, "1=4", f"/{acct}/0-bob/")])

        changed = await self.client.write(D.DBD_MODIFY_ACCOUNTS, {
            "cond": {"assoc_cond": {"acct_list": [acct]}}, "rec": {"description": "g"}},
            self.root_cred)
        self.assertEqual(len(changed), 1)
        self.assertEqual(self.sacctmgr("show", "account", acct, "format=descr"), [["g"]])

        removed = await self.client.write(D.DBD_REMOVE_ASSOCS, {
            "acct_list": [acct], "user_list": ["bob"], "cluster_list": [cluster]},
            self.root_cred)
        self.assertEqual(len(removed), 1)
        removed = await self.client.write(D.DBD_REMOVE_ACCOUNTS, {
            "assoc_cond": {"acct_list": [acct], "user_list": []}}, self.root_cred)
        self.assertEqual(removed, [acct])
        self.assertEqual(self.sacctmgr("show", "account", acct, "format=account"), [])

    async def test_user_with_association_coordinator_modify_remove(self):
        acct, user, cluster = self.tag, f"{self.tag}u", self.cluster_name
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

        removed = await self.client.write(D.DBD_REMOVE_ACCOUNT_COORDS, {
            "acct_list": [acct], "cond": {"assoc_cond": {"user_list": [user]}}},
            self.root_cred)
        self.assertEqual(len(removed), 1)
        self.assertEqual(self.sacctmgr("show", "user", user, "withcoord",
                                       "format=user,coordinators"), [[user, ""]])
        removed = await self.client.write(D.DBD_REMOVE_USERS, {
            "assoc_cond": {"user_list": [user]}}, self.root_cred)
        self.assertEqual(removed, [user])
        self.assertEqual(self.sacctmgr("show", "user", user, "format=user"), [])
        await self.client.write(D.DBD_REMOVE_ACCOUNTS, {
            "assoc_cond": {"acct_list": [acct], "user_list": []}}, self.root_cred)

    async def test_failed_write_commits_nothing(self):
        good, bad = self.tag, f"{self.tag}b"
        self.cleanup_sacctmgr("delete", "account", good)
        self.cleanup_sacctmgr("delete", "account", bad)
        txn = await self.client.begin(self.root_cred)
        await txn.call(D.DBD_ADD_ACCOUNTS, {"my_list": [
            {"name": good, "description": "d", "organization": "o"}]})
        # an account without description and organization is refused (rc -1)
        with self.assertRaises(SlurmError):
            await txn.call(D.DBD_ADD_ACCOUNTS, {"my_list": [{"name": bad}]})
        with self.assertRaises(RuntimeError):
            await txn.commit()
        self.assertEqual(self.sacctmgr("show", "account", f"names={good},{bad}",
                                       "format=account"), [])
        self.assertTrue(await self.root.tres())

    async def test_with_deleted_finds_deleted_records(self):
        # records a job refers to are only marked deleted: with_deleted (folded into each
        # condition's flags: ASSOC_COND_FLAG_WITH_DELETED, SLURMDB_ACCT_FLAG_DELETED,
        # QOS_COND_FLAG_WITH_DELETED) finds them, its absence does not
        tag, cluster = self.tag, self.cluster_name
        for kind in ("qos", "account"):
            self.cleanup_sacctmgr("delete", kind, tag)
        self.cleanup_sacctmgr("delete", "user", "bob", f"account={tag}")
        for argv in (["qos", tag], ["account", tag, f"cluster={cluster}"],
                     ["user", "bob", f"account={tag}", f"qos=normal,{tag}"]):
            self.cluster.run(["sacctmgr", "-i", "add", *argv])
        self.cluster.run(["sbatch", "--wait", "-A", tag, "-q", tag, "-o", "/dev/null",
                          "--wrap", "true"], user="bob")
        for argv in (["user", "bob", f"account={tag}"], ["account", tag], ["qos", tag]):
            self.cluster.run(["sacctmgr", "-i", "delete", *argv])
        self.assertEqual(self.sacctmgr("show", "assoc", f"account={tag}", "withdeleted",
                                       "format=account,user"), [[tag, ""], [tag, "bob"]])

        accounts = {"assoc_cond": {"acct_list": [tag]}}
        self.assertEqual(await self.root.accounts(accounts), [])
        deleted = await self.root.accounts(dict(accounts, with_deleted=1))
        self.assertEqual([(a["name"], a["flags"] & 1) for a in deleted], [(tag, 1)])
        self.assertEqual(await self.root.associations({"acct_list": [tag]}), [])
        self.assertEqual(sorted((a["acct"], a["user"] or "") for a in
                                await self.root.associations({"acct_list": [tag],
                                                              "with_deleted": 1})),
                         [(tag, ""), (tag, "bob")])
        self.assertEqual(await self.root.qos({"name_list": [tag]}), [])
        self.assertEqual([q["name"] for q in await self.root.qos(
            {"name_list": [tag], "with_deleted": 1})], [tag])

    async def test_unknown_parent_answers_success(self):
        # 24.11's slurmdbd logs "no association for parent" yet answers rc 0 (22.05 answered
        # ESLURM_INVALID_PARENT_ACCOUNT), and adds nothing: callers must check the parent.
        acct = self.tag
        self.cleanup_sacctmgr("delete", "account", acct)
        txn = await self.client.begin(self.root_cred)
        await txn.call(D.DBD_ADD_ACCOUNTS, {"my_list": [
            {"name": acct, "description": "d", "organization": "o"}]})
        self.assertIsNone(await txn.call(D.DBD_ADD_ASSOCS, {"my_list": [
            {"acct": acct, "cluster": self.cluster_name,
             "parent_acct": f"{acct}-no-such-parent"}]}))
        await txn.commit()
        self.assertEqual(self.sacctmgr("show", "assoc", f"account={acct}", "format=account"),
                         [])

    async def test_qos_with_limits(self):
        name = self.tag
        self.cleanup_sacctmgr("delete", "qos", name)
        rec = dict(T.TABLES.no_change["qos"], name=name, description="f2 qos",
                   max_jobs_pu=3, max_wall_pj=60, priority=5, max_tres_pu="1=2")
        self.assertIsNone(await self.client.write(D.DBD_ADD_QOS, {"my_list": [rec]},
                                                  self.root_cred))
        self.assertEqual(self.sacctmgr("show", "qos", name,
                                       "format=name,descr,maxjobspu,maxwall,priority,maxtrespu"),
                         [[name, "f2 qos", "3", "01:00:00", "5", "cpu=2"]])
        ours = await self.root.qos({"name_list": [name]})
        self.assertEqual([(q["name"], q["max_jobs_pu"], q["max_wall_pj"], q["priority"])
                          for q in ours], [(name, 3, 60, 5)])
        changed = await self.client.write(D.DBD_MODIFY_QOS, {
            "cond": {"name_list": [name]},
            "rec": dict(T.TABLES.no_change["qos"], max_jobs_pu=9)}, self.root_cred)
        self.assertEqual(len(changed), 1)
        self.assertEqual(self.sacctmgr("show", "qos", name, "format=maxjobspu"), [["9"]])
        self.assertEqual(await self.client.write(D.DBD_REMOVE_QOS, {"name_list": [name]},
                                                 self.root_cred), [name])
        self.assertEqual(self.sacctmgr("show", "qos", name, "format=name"), [])

    async def test_wckey(self):
        name, cluster = self.tag, self.cluster_name
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
        # DBD_MODIFY_CLUSTERS: classification 1 (capability); fed_state NO_VAL: unchanged
        changed = await self.client.write(D.DBD_MODIFY_CLUSTERS, {
            "cond": {"cluster_list": [name]},
            "rec": {"classification": 1, "fed_state": P.NO_VAL, "dimensions": 0}},
            self.root_cred)
        self.assertEqual(changed, [name])
        self.assertEqual(self.sacctmgr("show", "cluster", name,
                                       "format=cluster,classification"), [[name, "Capability"]])
        [record] = await self.root.clusters({"cluster_list": [name]})
        self.assertEqual((record["classification"], record["present"]), (1, 1))
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
        self.assertTrue(await self.alice.tres())


class LearningTests(unittest.TestCase):
    """A client told no release learns each slurmdbd's from its first connection."""

    timeout = 60

    async def learnt(self, cluster, user="alice", key=None):
        config = SlurmConfig.load(cluster.slurm_conf)
        minter = TokenMinter(key or cluster.jwt_key(), lifespan=600)
        client = SlurmdbdClient(config, reactor, read_timeout=20)
        self.addCleanup(client.close)
        self.assertFalse(client.learnt)
        tres = await client.bind(minter.credential_for(user)).tres({"with_deleted": 1})
        self.assertTrue(tres)
        return client

    async def test_24_11_slurmdbd(self):
        cluster = Cluster2411.from_environment()
        client = await self.learnt(cluster)
        self.assertIs(client.slurm_version, VERSION)
        self.assertEqual(client.connections_opened, 2)  # 22.05 refused (1005), then 24.11
        # a refused token is an error, not a reason to guess another release
        config = SlurmConfig.load(cluster.slurm_conf)
        other = SlurmdbdClient(config, reactor, read_timeout=20)
        self.addCleanup(other.close)
        forged = TokenMinter(b"not the cluster's key" * 2, lifespan=600)
        with self.assertRaises(SlurmError) as caught:
            await other.bind(forged.credential_for("alice")).tres()
        self.assertNotEqual(caught.exception.errno, SLURM_PROTOCOL_VERSION_ERROR)
        self.assertFalse(other.learnt)
        # told 22.05 only: refused, and said so
        fixed = SlurmdbdClient(config, reactor, read_timeout=20, version=v22_05.VERSION)
        self.addCleanup(fixed.close)
        minter = TokenMinter(cluster.jwt_key(), lifespan=600)
        with self.assertRaises(SlurmError) as caught:
            await fixed.bind(minter.credential_for("alice")).tres()
        self.assertEqual(caught.exception.errno, SLURM_PROTOCOL_VERSION_ERROR)

    async def test_22_05_slurmdbd(self):
        from slurmrest.testing.cluster import Cluster
        client = await self.learnt(Cluster.from_environment())
        self.assertIs(client.slurm_version, v22_05.VERSION)
        self.assertEqual(client.connections_opened, 1)
