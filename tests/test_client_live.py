"""The slurmctld client against the real test cluster (``SLURMREST_TEST_CLUSTER``), every
answer cross-checked with Slurm's own tools (squeue, scontrol, sinfo, sdiag, sacct).

The cluster is shared: jobs are named uniquely and cancelled in cleanup, node n4 is drained
only briefly and always resumed.
"""

import functools
import json
import os
import pwd
import re
import time
import uuid

import jwt
from twisted.internet import defer, reactor
from twisted.trial import unittest

from slurmrest.testing.cluster import Cluster
from slurmrest.wire.client import SlurmctldClient
from slurmrest.wire.conf import SlurmConfig
from slurmrest.wire.credentials import Credential, TokenMinter
from slurmrest.wire.errors import CommunicationError, NoChange, SlurmError
from slurmrest.wire.msgtypes import MsgType
from slurmrest.wire.primitives import NO_VAL

NODE_STATE_DRAIN = 0x200
NODE_RESUME = 0x100
JOB_STATES = ("PENDING", "RUNNING", "SUSPENDED", "COMPLETED", "CANCELLED", "FAILED",
              "TIMEOUT", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY")
DRAIN_REASON = "slurmrest-test"


def live(method):
    """Run an ``async def`` test on the real reactor."""
    @functools.wraps(method)
    def run(self):
        return defer.ensureDeferred(method(self))
    return run


def scontrol_fields(text):
    """``Key=Value`` pairs of one ``scontrol -o`` line (values without blanks)."""
    return dict(item.split("=", 1) for item in text.split() if "=" in item)


class LiveTestCase(unittest.TestCase):
    timeout = 120

    def setUp(self):
        self.cluster = Cluster.from_environment()
        self.config = SlurmConfig.load(self.cluster.slurm_conf)
        self.client = SlurmctldClient(self.config, reactor)
        self.minter = TokenMinter(self.cluster.jwt_key(), lifespan=600)
        self.alice = self.client.bind(self.minter.credential_for("alice"))
        self.slurm = self.client.bind(self.minter.credential_for(self.config.slurm_user))
        self.tag = f"slurmrest-live-{uuid.uuid4().hex[:8]}"

    def submit(self, *extra, name=None, wrap="sleep 300"):
        job_id = self.cluster.submit(wrap, user="alice", name=name or self.tag,
                                     extra=list(extra))
        self.addCleanup(self.cluster.cancel, job_id)
        return job_id

    def run_tool(self, *argv, **kwargs):
        return self.cluster.run(list(argv), **kwargs).stdout

    def sacct(self, job_id, states, timeout=90):
        """``JobName|User|Partition|State`` of the job in slurmdbd, polled until its state is
        one of ``states`` and its record is complete (slurmdbd fills it in stages)."""
        deadline = time.monotonic() + timeout
        while True:
            out = self.run_tool("sacct", "-n", "-X", "-P", "-j", str(job_id), "-o",
                                "JobName,User,Partition,State")
            for line in out.splitlines():
                name, user, partition, state = line.split("|")
                if name == self.tag and state.split()[0] in states:
                    return name, user, partition, state.split()[0]
            if time.monotonic() > deadline:
                self.fail(f"sacct never showed job {job_id} in {states}: {out!r}")
            time.sleep(0.5)

    def user_name(self, job):
        """slurmctld may send a NULL user_name; Slurm's tools then look the uid up."""
        return job["user_name"] or pwd.getpwuid(job["user_id"]).pw_name


class ControllerTests(LiveTestCase):
    @live
    async def test_ping_minted_token(self):
        self.assertEqual(await self.alice.ping(0), 0)

    @live
    async def test_ping_scontrol_token(self):
        ctld = self.client.bind(Credential(self.cluster.token("alice"), "alice"))
        self.assertEqual(await ctld.ping(0), 0)
        # and without a user name beside it: the token's own user
        ctld = self.client.bind(Credential(self.cluster.token("bob"), None))
        self.assertEqual(await ctld.ping(0), 0)

    @live
    async def test_build_info(self):
        info = await self.alice.build_info()
        config = scontrol_fields(" ".join(
            line.replace(" = ", "=").replace(" ", "") if " = " in line else ""
            for line in self.run_tool("scontrol", "show", "config").splitlines()))
        self.assertEqual(info["cluster_name"], config["ClusterName"])
        self.assertEqual(info["version"], config["SLURM_VERSION"])
        self.assertEqual(info["slurmctld_port"], self.cluster.ctld_port)
        self.assertEqual(len(info["control_machine"]), len(self.config.controllers))

    @live
    async def test_control_status(self):
        status = await self.alice.control_status(0)
        self.assertEqual(status["backup_inx"], 0)
        self.assertGreater(status["control_time"], 0)
        self.assertLessEqual(status["control_time"], time.time())

    @live
    async def test_stats_match_sdiag(self):
        before = self.run_tool("sdiag")
        stats = await self.alice.stats()
        since = int(re.search(r"Data since .*\((\d+)\)", before).group(1))
        submitted = int(re.search(r"Jobs submitted:\s+(\d+)", before).group(1))
        self.assertEqual(stats["parts_packed"], 1)
        self.assertEqual(stats["req_time_start"], since)
        self.assertGreaterEqual(stats["jobs_submitted"], submitted)
        self.assertGreaterEqual(stats["req_time"], since)
        self.assertEqual(len(stats["rpc_type_id"]), stats["rpc_type_size"])
        self.assertIn(int(MsgType.REQUEST_STATS_INFO), stats["rpc_type_id"])

    @live
    async def test_licenses_match_scontrol(self):
        reply = await self.alice.licenses()
        ours = {lic["name"]: lic["total"] for lic in reply["licenses"]}
        theirs = {}
        for line in self.run_tool("scontrol", "-o", "show", "licenses").splitlines():
            fields = scontrol_fields(line)
            theirs[fields["LicenseName"]] = int(fields["Total"])
        self.assertEqual(ours, theirs)
        self.assertEqual(reply["num_lic"], len(theirs))

    @live
    async def test_fed_info_not_federated(self):
        self.assertEqual(await self.alice.fed_info(), {"federation": None})

    @live
    async def test_auth_token(self):
        reply = await self.alice.auth_token(lifespan=120)
        claims = self.minter.verify(reply["token"])
        self.assertEqual(claims["sun"], "alice")
        self.assertLessEqual(claims["exp"] - time.time(), 121)


class NodeAndPartitionTests(LiveTestCase):
    @live
    async def test_nodes_match_scontrol(self):
        reply = await self.alice.nodes()
        ours = {n["name"]: n for n in reply["records"] if n["name"]}
        theirs = {}
        for line in self.run_tool("scontrol", "-o", "show", "node").splitlines():
            fields = scontrol_fields(line)
            theirs[fields["NodeName"]] = fields
        self.assertEqual(sorted(ours), sorted(theirs))
        for name, fields in theirs.items():
            self.assertEqual(ours[name]["cpus"], int(fields["CPUTot"]))
            self.assertEqual(ours[name]["real_memory"], int(fields["RealMemory"]))
            base = fields["State"].split("+")[0]
            # MIXED is computed client-side by scontrol (SHOW_MIXED); the wire says ALLOCATED.
            wire_base = ("UNKNOWN", "DOWN", "IDLE", "ALLOCATED", "ERROR", "MIXED",
                         "FUTURE")[ours[name]["node_state"] & 0xF]
            self.assertIn(base, (wire_base, "MIXED" if wire_base == "ALLOCATED" else None))

    @live
    async def test_single_node(self):
        reply = await self.alice.node("n2")
        self.assertEqual([n["name"] for n in reply["records"]], ["n2"])
        self.assertEqual(reply["records"][0]["port"], self.cluster.slurmd_ports[1])

    @live
    async def test_partitions_match_scontrol(self):
        reply = await self.alice.partitions()
        ours = {p["name"]: p for p in reply["records"]}
        theirs = {}
        for line in self.run_tool("scontrol", "-o", "show", "partition").splitlines():
            fields = scontrol_fields(line)
            theirs[fields["PartitionName"]] = fields
        self.assertEqual(sorted(ours), sorted(theirs))
        for name, fields in theirs.items():
            self.assertEqual(ours[name]["nodes"], fields["Nodes"])

    @live
    async def test_partitions_unchanged_is_no_change(self):
        reply = await self.alice.partitions()
        with self.assertRaises(NoChange):
            await self.alice.partitions(update_time=reply["last_update"])

    @live
    async def test_reservations_match_scontrol(self):
        reply = await self.alice.reservations()
        ours = {r["name"]: r for r in reply["records"]}
        theirs = {}
        for line in self.run_tool("scontrol", "-o", "show", "reservation").splitlines():
            if line.startswith("ReservationName="):
                fields = scontrol_fields(line)
                theirs[fields["ReservationName"]] = fields
        self.assertEqual(sorted(ours), sorted(theirs))
        for name, fields in theirs.items():
            self.assertEqual(ours[name]["node_list"], fields["Nodes"])

    @live
    async def test_drain_and_resume_node(self):
        node = "n4"
        self.addCleanup(self.cluster.run, ["scontrol", "update", f"nodename={node}",
                                           "state=resume"], check=False)
        await self.slurm.update_node({"node_names": node, "node_state": NODE_STATE_DRAIN,
                                      "reason": DRAIN_REASON})
        sinfo = self.run_tool("sinfo", "-h", "-n", node, "-o", "%T|%E").strip()
        state, reason = sinfo.split("|")
        self.assertIn(state, ("drained", "draining"))
        self.assertEqual(reason, DRAIN_REASON)
        (record,) = (await self.alice.node(node))["records"]
        self.assertTrue(record["node_state"] & NODE_STATE_DRAIN)
        self.assertEqual(record["reason"], DRAIN_REASON)
        await self.slurm.update_node({"node_names": node, "node_state": NODE_RESUME})
        state = self.run_tool("sinfo", "-h", "-n", node, "-o", "%T").strip()
        self.assertNotIn("drain", state)

    @live
    async def test_update_node_needs_an_administrator(self):
        with self.assertRaises(SlurmError) as caught:
            await self.alice.update_node({"node_names": "n4"})
        self.assertEqual(caught.exception.errno, 2010)  # ESLURM_USER_ID_MISSING

    @live
    async def test_delete_unknown_node(self):
        with self.assertRaises(SlurmError) as caught:
            await self.slurm.delete_node("slurmrest-no-such-node")
        self.assertNotEqual(caught.exception.errno, 0)
        self.assertNotIsInstance(caught.exception, CommunicationError)


class JobTests(LiveTestCase):
    def squeue(self, *job_ids):
        out = self.run_tool("squeue", "--json", "-j", ",".join(map(str, job_ids)))
        return {job["job_id"]: job for job in json.loads(out)["jobs"]}

    @live
    async def test_jobs_match_squeue(self):
        ids = [self.submit("--hold"), self.submit("--hold", "-p", "long")]
        for credential in (self.minter.credential_for("alice"),
                           Credential(self.cluster.token("alice"), "alice")):
            reply = await self.client.jobs(credential)
            self.assertEqual(reply["record_count"], len(reply["records"]))
            ours = {job["job_id"]: job for job in reply["records"] if job["job_id"] in ids}
            theirs = self.squeue(*ids)
            self.assertEqual(sorted(ours), sorted(ids))
            for job_id in ids:
                self.assertEqual(ours[job_id]["name"], theirs[job_id]["name"])
                self.assertEqual(JOB_STATES[ours[job_id]["job_state"] & 0xFF],
                                 theirs[job_id]["job_state"])
                self.assertEqual(ours[job_id]["partition"], theirs[job_id]["partition"])
                self.assertEqual(self.user_name(ours[job_id]), theirs[job_id]["user_name"])
                self.assertEqual(ours[job_id]["user_id"], pwd.getpwnam("alice").pw_uid)
                self.assertEqual(ours[job_id]["priority"], 0)  # held

    @live
    async def test_job_single_and_user(self):
        job_id = self.submit("--hold")
        reply = await self.alice.job(job_id)
        self.assertEqual([job["job_id"] for job in reply["records"]], [job_id])
        self.assertEqual(reply["records"][0]["name"], self.tag)
        mine = await self.alice.job_user(pwd.getpwnam("alice").pw_uid)
        self.assertIn(job_id, [job["job_id"] for job in mine["records"]])
        self.assertTrue(all(self.user_name(job) == "alice" for job in mine["records"]))

    @live
    async def test_unknown_job(self):
        with self.assertRaises(SlurmError) as caught:
            await self.alice.job(0x3FFFFF0)
        self.assertEqual(caught.exception.errno, 2017)

    @live
    async def test_jobs_unchanged_is_no_change(self):
        # Other people share the cluster: the queue may change between two calls; try a few
        # times and require that an unchanged queue answers NoChange at least once.
        for _ in range(5):
            reply = await self.alice.jobs()
            try:
                await self.alice.jobs(update_time=reply["last_update"])
            except NoChange:
                return
            time.sleep(1)
        self.fail("jobs(update_time=last_update) never answered NoChange")

    @live
    async def test_job_steps_of_a_running_job(self):
        job_id = self.submit("-p", "debug", "-t", "2", wrap="sleep 60")
        self.cluster.wait_for_job_state(job_id, "RUNNING", timeout=60)
        for _ in range(20):  # the batch step appears shortly after the job starts
            reply = await self.alice.job_steps(job_id=job_id)
            steps = [s["step_id"] for s in reply["steps"]]
            if steps:
                break
            time.sleep(0.5)
        self.assertTrue(steps)
        self.assertTrue(all(step["job_id"] == job_id for step in steps))
        theirs = self.run_tool("squeue", "-h", "-s", "-j", str(job_id), "-o", "%i").split()
        self.assertIn(f"{job_id}.batch", theirs)

    @live
    async def test_submit_batch_runs_and_is_accounted(self):
        alice = pwd.getpwnam("alice")
        output = os.path.join(self.cluster.dir, "jobs", f"{self.tag}-%j.out")
        desc = {"script": "#!/bin/sh\necho hi\n", "environment": ["PATH=/bin:/usr/bin"],
                "work_dir": "/tmp", "partition": "debug", "name": self.tag,
                "user_id": alice.pw_uid, "group_id": alice.pw_gid, "std_out": output,
                "min_nodes": 1, "time_limit": 1}
        reply = await self.alice.submit_batch(desc)
        job_id = reply["job_id"]
        self.addCleanup(self.cluster.cancel, job_id)
        self.assertEqual(reply["step_id"], 0xFFFFFFFB)  # SLURM_BATCH_SCRIPT
        self.assertIn(reply["error_code"], (0, 2068))
        self.assertEqual(self.sacct(job_id, ("COMPLETED",)),
                         (self.tag, "alice", "debug", "COMPLETED"))
        path = output.replace("%j", str(job_id))
        self.addCleanup(lambda: os.path.exists(path) and os.unlink(path))
        with open(path) as f:
            self.assertEqual(f.read(), "hi\n")

    @live
    async def test_submit_het_job(self):
        alice = pwd.getpwnam("alice")
        common = {"environment": ["PATH=/bin:/usr/bin"], "work_dir": "/tmp", "name": self.tag,
                  "user_id": alice.pw_uid, "group_id": alice.pw_gid, "priority": 0,
                  "std_out": "/dev/null", "min_nodes": 1, "time_limit": 1}
        descs = [{**common, "script": "#!/bin/sh\ntrue\n", "partition": "debug"},
                 {**common, "partition": "long"}]
        reply = await self.alice.submit_het(descs)
        job_id = reply["job_id"]
        self.addCleanup(self.cluster.cancel, job_id)
        out = self.run_tool("squeue", "-h", "-j", str(job_id), "-o", "%i|%P|%j")
        self.assertEqual(sorted(out.split()),
                         [f"{job_id}+0|debug|{self.tag}", f"{job_id}+1|long|{self.tag}"])
        records = (await self.alice.job(job_id))["records"]
        self.assertEqual(sorted((r["het_job_offset"], r["partition"]) for r in records),
                         [(0, "debug"), (1, "long")])
        self.assertTrue(all(r["het_job_id"] == job_id for r in records))

    @live
    async def test_submit_as_someone_else_is_refused(self):
        bob = pwd.getpwnam("bob")
        desc = {"script": "#!/bin/sh\ntrue\n", "environment": ["A=1"], "work_dir": "/tmp",
                "name": self.tag, "user_id": bob.pw_uid, "group_id": bob.pw_gid}
        with self.assertRaises(SlurmError) as caught:
            await self.alice.submit_batch(desc)
        self.assertEqual(caught.exception.errno, 2010)

    @live
    async def test_update_job_time_limit(self):
        job_id = self.submit("--hold", "-t", "10")
        message = await self.alice.update_job({"job_id": job_id, "time_limit": 7})
        self.assertEqual(message.msg_type, MsgType.RESPONSE_SLURM_RC)
        fields = scontrol_fields(self.run_tool("scontrol", "-o", "show", "job", str(job_id)))
        self.assertEqual(fields["TimeLimit"], "00:07:00")
        (record,) = (await self.alice.job(job_id))["records"]
        self.assertEqual(record["time_limit"], 7)

    @live
    async def test_kill_job(self):
        job_id = self.submit("--hold")
        await self.alice.kill_job(str(job_id))
        self.assertEqual(self.cluster.wait_for_job_state(job_id, "CANCELLED", timeout=30),
                         "CANCELLED")
        (record,) = (await self.alice.job(job_id))["records"]
        self.assertEqual(JOB_STATES[record["job_state"] & 0xFF], "CANCELLED")
        squeue = self.run_tool("squeue", "-h", "-t", "all", "-j", str(job_id), "-o", "%T")
        self.assertEqual(squeue.strip(), "CANCELLED")
        self.assertEqual(self.sacct(job_id, ("CANCELLED",))[3], "CANCELLED")
        with self.assertRaises(SlurmError) as caught:  # done already
            await self.alice.kill_job(str(job_id))
        self.assertEqual(caught.exception.errno, 2021)  # ESLURM_ALREADY_DONE

    @live
    async def test_kill_someone_elses_job(self):
        job_id = self.submit("--hold")
        bob = self.client.bind(self.minter.credential_for("bob"))
        with self.assertRaises(SlurmError) as caught:
            await bob.kill_job(str(job_id))
        self.assertEqual(caught.exception.errno, 2002)  # ESLURM_ACCESS_DENIED
        self.assertEqual(self.cluster.job_state(job_id), "PENDING")


class CredentialTests(LiveTestCase):
    async def assertRejected(self, credential):
        with self.assertRaises(CommunicationError) as caught:
            await self.client.ping(credential, 0)
        self.assertEqual(caught.exception.errno, 1802)
        self.assertFalse(caught.exception.timeout)
        self.assertNotIn(credential.token, str(caught.exception))
        self.assertNotIn(credential.token, repr(caught.exception))

    @live
    async def test_other_users_token_is_rejected(self):
        await self.assertRejected(Credential(self.minter.mint("bob"), "alice"))
        await self.assertRejected(Credential(self.cluster.token("bob"), "alice"))

    @live
    async def test_expired_token_is_rejected(self):
        now = int(time.time())
        token = jwt.encode({"iat": now - 120, "exp": now - 60, "sun": "alice"},
                           self.cluster.jwt_key(), algorithm="HS256")
        await self.assertRejected(Credential(token, "alice"))

    @live
    async def test_wrong_key_is_rejected(self):
        forged = TokenMinter(b"not-the-cluster-key-at-all-32byt").mint("alice")
        await self.assertRejected(Credential(forged, "alice"))

    @live
    async def test_slurm_user_token_may_act_as_alice(self):
        proxy = self.client.bind(Credential(self.minter.mint(self.config.slurm_user), "alice"))
        self.assertEqual(await proxy.ping(0), 0)
        # ... and then it is alice, not an administrator:
        with self.assertRaises(SlurmError) as caught:
            await proxy.update_node({"node_names": "n4"})
        self.assertEqual(caught.exception.errno, 2010)
        await self.slurm.update_node({"node_names": "n4"})  # the SlurmUser itself may

    @live
    async def test_coalesced_reads_against_the_real_controller(self):
        before = self.client.counters["connections"]
        replies = await defer.gatherResults([
            defer.ensureDeferred(self.alice.nodes()) for _ in range(8)])
        self.assertEqual(self.client.counters["connections"] - before, 1)
        self.assertTrue(all(reply is replies[0] for reply in replies))
        # MaxNodeCount leaves blank records (name None) for the empty slots of the node table.
        names = [r["name"] for r in replies[0]["records"] if r["name"] is not None]
        self.assertEqual(sorted(names), self.cluster.nodes)


class CommandLineTests(LiveTestCase):
    """``python -m slurmrest.rpc`` against the cluster."""

    def rpc(self, *argv, check=True):
        import subprocess
        import sys
        return subprocess.run(
            [sys.executable, "-m", "slurmrest.rpc", "-f", self.cluster.slurm_conf,
             "--user", "alice", *argv],
            capture_output=True, text=True, check=check, timeout=60, env=self.cluster.env)

    def test_nodes_json(self):
        reply = json.loads(self.rpc("--json", "nodes").stdout)
        # MaxNodeCount leaves blank records (name None) for the empty slots of the node table.
        names = [n["name"] for n in reply["records"] if n["name"] is not None]
        self.assertEqual(sorted(names), self.cluster.nodes)

    def test_ping_summary(self):
        self.assertIn(": UP", self.rpc("ping").stdout)

    def test_job_summary_and_errors(self):
        job_id = self.submit("--hold")
        out = self.rpc("job", str(job_id)).stdout
        self.assertIn(self.tag, out)
        self.assertIn("PENDING", out)
        proc = self.rpc("job", "67108800", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("ESLURM_INVALID_JOB_ID", proc.stderr)

    def test_rejected_token_exit_status(self):
        token = TokenMinter(b"not-the-cluster-key-at-all-32byt").mint("alice")
        proc = self.rpc("--token", token, "ping", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("DOWN", proc.stdout)
        self.assertNotIn(token, proc.stdout + proc.stderr)


class FailoverTests(LiveTestCase):
    """Failover across ``SlurmctldHost`` entries, against the real slurmctld: the primary of a
    copied slurm.conf is a loopback address where nothing listens (IPv4, then IPv6), the real
    controller is its backup."""

    def client_with_dead_primary(self, dead_address):
        text = open(self.cluster.slurm_conf).read()
        real = re.search(r"^SlurmctldHost=.*$", text, re.M | re.I).group(0)
        text = text.replace(real, f"SlurmctldHost=deadprimary({dead_address})\n{real}", 1)
        config = SlurmConfig.from_text(text, path=self.cluster.slurm_conf)
        self.assertEqual([c.address for c in config.controllers][0], dead_address)
        client = SlurmctldClient(config, reactor)
        return client, client.bind(self.minter.credential_for("alice"))

    async def fail_over(self, dead_address):
        client, alice = self.client_with_dead_primary(dead_address)
        reply = await alice.partitions()
        names = {p["name"] for p in reply["records"]}
        self.assertEqual(names, {"debug", "long"})
        # Two connection attempts: the refused primary, then the backup that answered.
        self.assertEqual(client.counters["connections"], 2)
        # Asking the dead primary alone is a connect failure (1800), not a hang.
        with self.assertRaises(CommunicationError) as caught:
            await alice.ping(0)
        self.assertEqual(caught.exception.errno, 1800)
        self.assertEqual(await alice.ping(1), 0)

    @live
    async def test_failover_from_a_dead_ipv4_primary(self):
        await self.fail_over("127.0.0.2")

    @live
    async def test_failover_from_a_dead_ipv6_primary(self):
        await self.fail_over("::1")
