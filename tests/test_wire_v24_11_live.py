"""Slurm 24.11's tables against a live 24.11 slurmctld (the second release's cluster, in a
chroot: ``SLURMREST_TEST_CLUSTER2``; skipped with the reason when there is none).

Every reply goes through ``SlurmctldClient``, whose decoder refuses a body that does not end
exactly at its last byte; what slurmctld says is cross-checked with 24.11's own tools run
inside the chroot (``squeue``, ``scontrol``, ``sinfo``, ``sdiag``).
"""

import json
import uuid

from twisted.internet import reactor, threads
from twisted.trial import unittest

from slurmrest.testing.second import ChrootCluster
from slurmrest.wire import primitives as P
from slurmrest.wire.client import SlurmctldClient
from slurmrest.wire.conf import SlurmConfig
from slurmrest.wire.credentials import TokenMinter
from slurmrest.wire import enums as E
from slurmrest.wire.enums import NODE_RESUME, NODE_STATE_DRAIN
from slurmrest.wire.errors import SlurmError
from slurmrest.wire.tables import v24_11


class LiveTables2411Tests(unittest.TestCase):

    timeout = 120

    def setUp(self):
        self.cluster = ChrootCluster.from_environment()
        self.client = SlurmctldClient(SlurmConfig.load(self.cluster.slurm_conf), reactor)
        minter = TokenMinter(self.cluster.jwt_key())
        self.root = self.client.bind(minter.credential_for("root"))
        self.alice = self.client.bind(minter.credential_for("alice"))
        self.tag = f"wire2411-{uuid.uuid4().hex[:8]}"
        self.jobs = []
        self.addCleanup(lambda: self.cluster.cancel(*self.jobs))

    def tool(self, *argv, user=None):
        return threads.deferToThread(lambda: self.cluster.run(argv, user=user).stdout)

    async def tool_json(self, *argv):
        return json.loads(await self.tool(*argv))

    async def held_job(self, extra=()):
        job_id = await threads.deferToThread(
            self.cluster.submit, "sleep 300", "alice", self.tag, ["--hold", *extra])
        self.jobs.append(job_id)
        return job_id

    async def test_the_client_learns_24_11(self):
        """Told no version, the client speaks 22.05 first, is refused in a 24.11 header,
        and speaks 24.11 from then on; meta's release comes from build info."""
        self.assertEqual(self.client.version, 0x2600)
        self.assertEqual(await self.root.ping(), 0)
        self.assertIs(self.client.slurm_version, v24_11.VERSION)
        info = await self.root.build_info()
        version = (await self.tool("scontrol", "version")).split()[1]
        self.assertEqual(info["version"], version)
        self.assertTrue(version.startswith("24.11."))
        self.assertEqual(info["cluster_name"], self.cluster.cluster_name)
        self.assertEqual(info["slurmctld_port"], self.cluster.ctld_port)
        self.assertEqual(info["prolog"], [])  # lists in 24.11 (a string in 22.05)

    async def test_jobs_running_pending_held_and_array(self):
        running = await threads.deferToThread(
            self.cluster.submit, "sleep 120", "alice", self.tag, ["-N1"])
        self.jobs.append(running)
        held = await self.held_job()
        array = await threads.deferToThread(
            self.cluster.submit, "sleep 120", "bob", self.tag, ["--array=1-3", "-N2"])
        self.jobs.append(array)
        # 24.11 packs user_name only once slurmctld has resolved it: compare user ids.
        ours = {(r["job_id"], r["job_state"] & E.JOB_STATE_BASE, r["name"], r["user_id"],
                 r["array_task_str"] is not None)
                for r in (await self.root.jobs())["records"] if r["name"] == self.tag}
        squeue = (await self.tool_json("squeue", "--json"))["jobs"]
        theirs = {(j["job_id"], _STATES[j["job_state"][0]], j["name"], j["user_id"],
                   j["array_task_string"] != "")
                  for j in squeue if j["name"] == self.tag}
        self.assertEqual(ours, theirs)
        one = (await self.alice.job(held))["records"]
        alice = int(await self.tool("id", "-u", "alice"))
        self.assertEqual([(r["job_id"], r["user_id"], r["priority"]) for r in one],
                         [(held, alice, 0)])
        self.assertEqual(one[0]["show_flags"], v24_11.OLD.JOB_SHOW_FLAGS)

    async def test_steps(self):
        job_id = await threads.deferToThread(
            self.cluster.submit, "sleep 120", "alice", self.tag, ["-N1"])
        self.jobs.append(job_id)
        steps = []
        for _ in range(40):
            steps = (await self.root.job_steps(job_id))["steps"]
            if steps:
                break
            await threads.deferToThread(__import__("time").sleep, 0.25)
        self.assertEqual([s["step_id"]["job_id"] for s in steps], [job_id])

    async def test_nodes_and_partitions(self):
        nodes = (await self.root.nodes())["records"]
        scontrol = (await self.tool_json("scontrol", "show", "node", "--json"))["nodes"]
        self.assertEqual(sorted((n["name"], n["cpus"], n["real_memory"]) for n in nodes),
                         sorted((n["name"], n["cpus"], n["real_memory"]) for n in scontrol))
        self.assertEqual((await self.root.node("n2"))["records"][0]["name"], "n2")
        parts = (await self.root.partitions())["records"]
        sinfo = await self.tool("sinfo", "-h", "-o", "%R %D")
        self.assertEqual(sorted(f"{p['name']} {p['total_nodes']}" for p in parts),
                         sorted(sinfo.split("\n")[:-1]))

    async def test_hidden_nodes(self):
        """A FUTURE node is hidden from our SHOW_ALL read: 24.11 leaves its record out and
        sets its bit; it decodes as a blank record in its place, as 22.05 sent it."""
        self.addCleanup(self.cluster.run, ["scontrol", "update", "nodename=n4",
                                           "state=resume"], check=False)
        await self.tool("scontrol", "update", "nodename=n4", "state=future")
        info = await self.root.nodes()
        self.assertEqual(info["hidden_nodes"].indexes(), [3])
        self.assertEqual([n["name"] for n in info["records"]], ["n1", "n2", "n3", None])
        sinfo = await self.tool("sinfo", "-h", "-N", "-o", "%N")
        self.assertEqual(sorted(set(sinfo.split())), ["n1", "n2", "n3"])

    async def test_reservations_and_licenses(self):
        name = self.tag
        await self.tool("scontrol", "create", "reservation", f"reservationname={name}",
                        "starttime=now+1hour", "duration=10", "nodes=n4", "users=alice",
                        "flags=maint")
        self.addCleanup(self.cluster.run, ["scontrol", "delete", f"reservationname={name}"],
                        check=False)
        resv = {r["name"]: r for r in (await self.root.reservations())["records"]}
        self.assertEqual((resv[name]["node_list"], resv[name]["users"]), ("n4", "alice"))
        licenses = (await self.root.licenses())["licenses"]
        out = await self.tool("scontrol", "-o", "show", "licenses")
        self.assertEqual(sorted(l["name"] for l in licenses),
                         sorted(w.split("=")[1] for w in out.split()
                                if w.startswith("LicenseName=")))

    async def test_diag(self):
        stats = await self.root.stats()
        sdiag = await self.tool_json("sdiag", "--json")
        self.assertEqual(stats["parts_packed"], 1)
        self.assertLessEqual(stats["req_time_start"],
                             sdiag["statistics"]["req_time_start"]["number"])
        self.assertEqual(len(stats["rpc_type_id"]), stats["rpc_type_size"])

    async def test_submit_update_cancel(self):
        uid, gid = (int(x) for x in (await self.tool("id", "-u", "alice")).split()
                    + (await self.tool("id", "-g", "alice")).split())
        desc = {"script": "#!/bin/sh\nsleep 300\n", "environment": ["PATH=/bin:/usr/bin"],
                "work_dir": "/tmp", "partition": "debug", "name": self.tag,
                "user_id": uid, "group_id": gid, "std_out": "/dev/null", "min_nodes": 1,
                "time_limit": 5, "priority": 0}
        reply = await self.alice.submit_batch(desc)
        job_id = reply["job_id"]
        self.jobs.append(job_id)
        self.assertEqual(reply["step_id"], 0xFFFFFFFB)
        line = await self.tool("squeue", "-h", "-j", str(job_id), "-o", "%j|%u|%P|%l|%T")
        self.assertEqual(line.strip(), f"{self.tag}|alice|debug|5:00|PENDING")
        await self.alice.update_job({"job_id": job_id, "time_limit": 7})
        line = await self.tool("squeue", "-h", "-j", str(job_id), "-o", "%l")
        self.assertEqual(line.strip(), "7:00")
        self.assertEqual(await self.alice.kill_job(str(job_id)), {"return_code": 0})
        state = await self.tool("scontrol", "-o", "show", "job", str(job_id))
        self.assertIn("JobState=CANCELLED", state)

    async def test_submit_as_someone_else_is_refused(self):
        uid = int(await self.tool("id", "-u", "bob"))
        desc = {"script": "#!/bin/sh\ntrue\n", "environment": ["A=1"], "work_dir": "/tmp",
                "name": self.tag, "user_id": uid, "group_id": uid}
        with self.assertRaises(SlurmError) as caught:
            await self.alice.submit_batch(desc)
        self.assertEqual(caught.exception.errno, 2010)

    async def test_small_reads(self):
        alice = int(await self.tool("id", "-u", "alice"))
        held = await self.held_job()
        mine = (await self.root.job_user(alice))["records"]
        self.assertIn(held, [r["job_id"] for r in mine])
        self.assertEqual({r["user_id"] for r in mine}, {alice})
        self.assertEqual((await self.root.control_status())["backup_inx"], 0)
        self.assertEqual(await self.root.fed_info(), {"federation": None})
        token = (await self.root.auth_token("alice", 60))["token"]
        self.assertEqual(TokenMinter(self.cluster.jwt_key()).verify(token)["sun"], "alice")

    async def test_stats_reset(self):
        """A reset is an RC in 24.11; the counters start again (sdiag agrees)."""
        self.assertEqual(await self.root.stats(True), {"return_code": 0})
        sdiag = await self.tool_json("sdiag", "--json")
        stats = await self.root.stats()
        self.assertEqual(stats["req_time_start"],
                         sdiag["statistics"]["req_time_start"]["number"])

    async def test_submit_het(self):
        uid = int(await self.tool("id", "-u", "alice"))
        common = {"environment": ["A=1"], "work_dir": "/tmp", "name": self.tag,
                  "user_id": uid, "group_id": uid, "priority": 0}
        reply = await self.alice.submit_het([
            {**common, "script": "#!/bin/sh\ntrue\n", "partition": "debug"},
            {**common, "partition": "long"}])
        job_id = reply["job_id"]
        self.jobs.append(job_id)
        out = await self.tool("squeue", "-h", "-j", str(job_id), "-o", "%i|%P|%j")
        self.assertEqual(sorted(out.split()),
                         [f"{job_id}+0|debug|{self.tag}", f"{job_id}+1|long|{self.tag}"])

    async def test_update_node(self):
        reason = f"{self.tag} drained"
        self.addCleanup(self.cluster.run, ["scontrol", "update", "nodename=n3",
                                           "state=resume"], check=False)
        await self.root.update_node({"node_names": "n3", "node_state": NODE_STATE_DRAIN,
                                     "reason": reason})
        out = await self.tool("sinfo", "-h", "-n", "n3", "-o", "%E|%T")
        self.assertEqual(out.strip().split("|")[0], reason)
        self.assertIn(out.strip().split("|")[1], ("drained", "draining"))
        await self.root.update_node({"node_names": "n3", "node_state": NODE_RESUME})
        out = await self.tool("sinfo", "-h", "-n", "n3", "-o", "%T")
        self.assertIn(out.strip().rstrip("*"), ("idle", "mixed", "allocated"))


_STATES = {"PENDING": E.JOB_PENDING, "RUNNING": E.JOB_RUNNING, "COMPLETED": E.JOB_COMPLETE,
           "CANCELLED": E.JOB_CANCELLED}
