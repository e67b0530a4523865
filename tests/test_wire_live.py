"""The codec against the real slurmctld of the test cluster (``SLURMREST_TEST_CLUSTER``).

Requests are encoded by ``protocol.encode`` and sent with a small blocking socket helper run
in a thread, so these tests see the raw reply bytes and can insist that every body decodes
to its exact last byte. What slurmctld says is cross-checked with Slurm's own commands.
"""

import json
import socket
import struct
import time
import uuid

from twisted.internet import threads
from twisted.trial import unittest

from slurmrest.testing.cluster import Cluster
from slurmrest.wire import primitives as P
from slurmrest.wire.credentials import Credential
from slurmrest.wire.msgtypes import MsgType as M
from slurmrest.wire import protocol
from slurmrest.wire.protocol import protocol_for

SHOW_JOBS = P.SHOW_ALL | P.SHOW_DETAIL | P.SHOW_LOCAL
RECEIVE_TIMEOUT = 30
PROTOCOL_22_05 = protocol_for(0x2600)


def exchange(port, frame):
    """One RPC the way Slurm does it: connect, one write, read one framed reply, close."""
    with socket.create_connection(("127.0.0.1", port), timeout=RECEIVE_TIMEOUT) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(frame)
        data = bytearray()
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            data += chunk
    if len(data) < 4:
        raise ConnectionError(f"no reply ({len(data)} bytes): the request was refused")
    (length,) = struct.unpack(">I", data[:4])
    if length != len(data) - 4:
        raise ConnectionError(f"reply length {length} but {len(data) - 4} bytes came")
    return bytes(data[4:])


class LiveCodecTests(unittest.TestCase):

    timeout = 180

    def setUp(self):
        self.cluster = Cluster.from_environment()
        self.alice = Credential(self.cluster.token("alice"), "alice")
        self.tag = f"wirelive-{uuid.uuid4().hex[:8]}"
        self.jobs = []
        self.addCleanup(self._cancel_jobs)

    def _cancel_jobs(self):
        if self.jobs:
            self.cluster.run(["scancel", *map(str, self.jobs)], check=False)

    async def raw(self, msg_type, body=None, credential=None):
        frame = PROTOCOL_22_05.encode(msg_type, body, credential or self.alice)
        return await threads.deferToThread(exchange, self.cluster.ctld_port, frame)

    async def call(self, msg_type, body=None, credential=None, expect=None):
        """Send, decode, and check the body decodes to its exact last byte."""
        payload = await self.raw(msg_type, body, credential)
        message = PROTOCOL_22_05.decode(payload)
        (body_length,) = struct.unpack_from(">I", payload, 6)  # 22.05 header: after type
        table = PROTOCOL_22_05.table(message.msg_type)
        if table is not None:
            record, end = table.unpack(payload[len(payload) - body_length:])
            self.assertEqual(end, body_length, f"{message.msg_type.name} not fully decoded")
            self.assertEqual(record, message.body)
        if expect is not None:
            self.assertEqual(message.msg_type, expect, message.body)
        return message

    def submit_held(self, name=None, extra=()):
        job_id = self.cluster.submit("sleep 300", user="alice", name=name or self.tag,
                                     extra=["--hold", *extra])
        self.jobs.append(job_id)
        return job_id

    def squeue(self):
        out = self.cluster.run(["squeue", "--json"]).stdout
        return {j["job_id"]: j for j in json.loads(out)["jobs"]}

    # -- small messages -------------------------------------------------------------------

    async def test_ping_reply_is_the_reference_frame(self):
        """§8.1: the ping reply is exactly these 32 bytes after the length prefix."""
        payload = await self.raw(M.REQUEST_PING)
        self.assertEqual(payload, bytes.fromhex(
            "2600" "0000" "1f41" "00000004" "0000" "0000" "0000"
            "00000066" "00000000" "00000000" "00000000"))
        message = PROTOCOL_22_05.decode(payload)
        self.assertEqual((message.msg_type, message.body),
                         (M.RESPONSE_SLURM_RC, {"return_code": 0}))

    async def test_build_info(self):
        message = await self.call(M.REQUEST_BUILD_INFO, {"last_update": 0},
                                  expect=M.RESPONSE_BUILD_INFO)
        conf = message.body
        self.assertEqual(conf["cluster_name"], self.cluster.cluster_name)
        self.assertEqual(conf["slurmctld_port"], self.cluster.ctld_port)
        self.assertEqual(conf["version"], "22.05.8")
        self.assertEqual(conf["select_type"], "select/cons_tres")
        self.assertEqual(len(conf["control_addr"]), len(conf["control_machine"]))
        self.assertIn("jwt_key=", conf["authalt_params"])
        # last_update - 1 >= the config's time -> "no change"
        again = await self.call(M.REQUEST_BUILD_INFO, {"last_update": conf["last_update"] + 1},
                                expect=M.RESPONSE_SLURM_RC)
        self.assertEqual(again.body["return_code"], 1900)

    async def test_stats_control_status_fed_info(self):
        await self.call(M.REQUEST_PING, expect=M.RESPONSE_SLURM_RC)  # so a ping is counted
        stats = await self.call(M.REQUEST_STATS_INFO, {"command_id": P.STAT_COMMAND_GET},
                                expect=M.RESPONSE_STATS_INFO)
        self.assertEqual(stats.body["parts_packed"], 1)
        self.assertEqual(len(stats.body["rpc_type_id"]), stats.body["rpc_type_size"])
        self.assertIn(M.REQUEST_PING, stats.body["rpc_type_id"])
        self.assertLessEqual(stats.body["req_time_start"], stats.body["req_time"])
        denied = await self.call(M.REQUEST_STATS_INFO, {"command_id": P.STAT_COMMAND_RESET},
                                 expect=M.RESPONSE_SLURM_RC)
        self.assertEqual(denied.body["return_code"], 2002)  # only operators may reset
        status = await self.call(M.REQUEST_CONTROL_STATUS, expect=M.RESPONSE_CONTROL_STATUS)
        self.assertEqual(status.body["backup_inx"], 0)
        self.assertGreater(status.body["control_time"], 0)
        fed = await self.call(M.REQUEST_FED_INFO, expect=M.RESPONSE_FED_INFO)
        self.assertEqual(fed.body, {"federation": None})

    async def test_licenses(self):
        message = await self.call(M.REQUEST_LICENSE_INFO, {}, expect=M.RESPONSE_LICENSE_INFO)
        totals = {lic["name"]: lic["total"] for lic in message.body["licenses"]}
        self.assertEqual(totals, {"matlab": 5, "fluent": 2})
        self.assertEqual(message.body["num_lic"], 2)

    async def test_reservations(self):
        message = await self.call(M.REQUEST_RESERVATION_INFO, {},
                                  expect=M.RESPONSE_RESERVATION_INFO)
        by_name = {r["name"]: r for r in message.body["records"]}
        self.assertIn("maint", by_name)
        maint = by_name["maint"]
        shown = self.cluster.run(["scontrol", "-o", "show", "reservation", "maint"]).stdout
        fields = dict(item.split("=", 1) for item in shown.split() if "=" in item)
        self.assertEqual(maint["node_list"], fields["Nodes"])
        self.assertEqual(maint["node_cnt"], int(fields["NodeCnt"]))
        self.assertTrue(maint["flags"] & 1)  # RESERVE_FLAG_MAINT
        self.assertLess(maint["start_time"], maint["end_time"])

    async def test_partitions(self):
        message = await self.call(M.REQUEST_PARTITION_INFO, {"show_flags": P.SHOW_ALL},
                                  expect=M.RESPONSE_PARTITION_INFO)
        parts = {p["name"]: p for p in message.body["records"]}
        shown = self.cluster.run(["scontrol", "-o", "show", "partition"]).stdout.splitlines()
        expected = {}
        for line in shown:
            fields = dict(item.split("=", 1) for item in line.split() if "=" in item)
            expected[fields["PartitionName"]] = fields
        self.assertEqual(set(parts), set(expected))
        for name, fields in expected.items():
            self.assertEqual(parts[name]["nodes"], fields["Nodes"])
            self.assertEqual(parts[name]["total_cpus"], int(fields["TotalCPUs"]))
            self.assertEqual(parts[name]["total_nodes"], int(fields["TotalNodes"]))
            self.assertEqual(bool(parts[name]["flags"] & 1), fields["Default"] == "YES")
        self.assertEqual(parts["long"]["node_inx"].indexes(), [2, 3])

    async def test_nodes(self):
        message = await self.call(M.REQUEST_NODE_INFO,
                                  {"show_flags": P.SHOW_ALL | P.SHOW_DETAIL},
                                  expect=M.RESPONSE_NODE_INFO)
        nodes = {n["name"]: n for n in message.body["records"] if n["name"] is not None}
        shown = self.cluster.run(["scontrol", "-o", "show", "node"]).stdout.splitlines()
        self.assertEqual(len(nodes), len(shown))
        for line in shown:
            fields = dict(item.split("=", 1) for item in line.split() if "=" in item)
            node = nodes[fields["NodeName"]]
            self.assertEqual(node["cpus"], int(fields["CPUTot"]))
            self.assertEqual(node["cpus_efctv"], int(fields["CPUEfctv"]))
            self.assertEqual(node["real_memory"], int(fields["RealMemory"]))
            self.assertEqual(node["version"], fields["Version"])
            self.assertEqual(node["select_nodeinfo"]["plugin_id"], P.SELECT_PLUGIN_CONS_TRES)
        single = await self.call(M.REQUEST_NODE_INFO_SINGLE,
                                 {"node_name": "n2", "show_flags": P.SHOW_ALL | P.SHOW_DETAIL},
                                 expect=M.RESPONSE_NODE_INFO)
        self.assertEqual([n["name"] for n in single.body["records"]], ["n2"])

    async def test_node_changes_are_refused_to_users(self):
        """Non-admins get ESLURM_USER_ID_MISSING; nothing on the cluster changes."""
        for msg_type in (M.REQUEST_UPDATE_NODE, M.REQUEST_DELETE_NODE):
            message = await self.call(msg_type, {"node_names": f"{self.tag}-node",
                                                 "node_state": 0x200, "reason": "test"})
            self.assertIn(message.msg_type, (M.RESPONSE_SLURM_RC, M.RESPONSE_SLURM_RC_MSG))
            self.assertEqual(message.body["return_code"], 2010)

    async def test_auth_token(self):
        message = await self.call(M.REQUEST_AUTH_TOKEN, {"lifespan": 60},
                                  expect=M.RESPONSE_AUTH_TOKEN)
        token = message.body["token"]
        self.assertEqual(token.count("."), 2)
        ping = await self.call(M.REQUEST_PING, credential=Credential(token),
                               expect=M.RESPONSE_SLURM_RC)
        self.assertEqual(ping.body["return_code"], 0)

    # -- jobs -----------------------------------------------------------------------------

    async def test_job_info_matches_squeue(self):
        ids = [self.submit_held() for _ in range(2)]
        ids.append(self.submit_held(extra=["--array=1-3", "-p", "long"]))
        message = await self.call(M.REQUEST_JOB_INFO, {"show_flags": SHOW_JOBS},
                                  expect=M.RESPONSE_JOB_INFO)
        mine = {r["job_id"]: r for r in message.body["records"] if r["name"] == self.tag}
        self.assertEqual(set(mine), set(ids))
        self.assertEqual(message.body["record_count"], len(message.body["records"]))
        reference = self.squeue()
        for job_id, record in mine.items():
            ref = reference[job_id]
            self.assertEqual(record["name"], ref["name"])
            self.assertEqual(record["partition"], ref["partition"])
            self.assertEqual(record["job_state"] & 0xFF, 0)  # PENDING
            self.assertEqual(ref["job_state"], "PENDING")
            self.assertEqual(record["priority"], 0)  # held
            self.assertEqual(record["user_id"], 2001)
            self.assertEqual(record["select_jobinfo"], {"plugin_id": P.SELECT_PLUGIN_CONS_TRES})
        meta = mine[ids[2]]
        self.assertEqual(meta["array_job_id"], ids[2])
        self.assertEqual(P.bitstr_to_indexes(meta["array_task_str"]), [1, 2, 3])
        # the explicit id list form, and the single and per-user requests
        listed = await self.call(M.REQUEST_JOB_INFO, {"show_flags": SHOW_JOBS,
                                                     "job_ids": ids[:2]})
        self.assertEqual(sorted(r["job_id"] for r in listed.body["records"]), ids[:2])
        single = await self.call(M.REQUEST_JOB_INFO_SINGLE,
                                 {"job_id": ids[0], "show_flags": SHOW_JOBS},
                                 expect=M.RESPONSE_JOB_INFO)
        self.assertEqual([r["job_id"] for r in single.body["records"]], [ids[0]])
        user = await self.call(M.REQUEST_JOB_USER_INFO, {"user_id": 2001,
                                                        "show_flags": SHOW_JOBS},
                               expect=M.RESPONSE_JOB_INFO)
        self.assertTrue(set(ids) <= {r["job_id"] for r in user.body["records"]})
        missing = await self.call(M.REQUEST_JOB_INFO_SINGLE,
                                  {"job_id": P.MAX_JOB_ID, "show_flags": SHOW_JOBS},
                                  expect=M.RESPONSE_SLURM_RC)
        self.assertEqual(missing.body["return_code"], 2017)

    async def test_submit_update_kill(self):
        """Our own job_desc (§5.10 defaults) is accepted, updated and cancelled."""
        desc = {"name": self.tag, "script": "#!/bin/sh\nsleep 300\n",
                "environment": ["PATH=/usr/bin:/bin"], "work_dir": self.cluster.dir,
                "std_out": "/dev/null", "priority": 0, "time_limit": 5}
        submitted = await self.call(M.REQUEST_SUBMIT_BATCH_JOB, desc,
                                    expect=M.RESPONSE_SUBMIT_BATCH_JOB)
        job_id = submitted.body["job_id"]
        self.jobs.append(job_id)
        self.assertEqual(submitted.body["step_id"], P.SLURM_BATCH_SCRIPT)
        record = (await self.call(M.REQUEST_JOB_INFO_SINGLE,
                                  {"job_id": job_id, "show_flags": SHOW_JOBS})).body["records"][0]
        self.assertEqual(record["time_limit"], 5)
        self.assertEqual(record["account"], "science")  # USE_DEFAULT_ACCT did its job
        self.assertEqual(record["partition"], "debug")  # and USE_DEFAULT_PART
        comment = f"{self.tag} comment"
        updated = await self.call(M.REQUEST_UPDATE_JOB, {"job_id_str": str(job_id),
                                                        "comment": comment},
                                  expect=M.RESPONSE_SLURM_RC)
        self.assertEqual(updated.body["return_code"], 0)
        shown = self.cluster.run(["scontrol", "-o", "show", "job", str(job_id)]).stdout
        self.assertIn(f"Comment={comment}", shown)
        killed = await self.call(M.REQUEST_KILL_JOB, {"sjob_id": str(job_id), "signal": 9,
                                                      "flags": P.KILL_FULL_JOB},
                                 expect=M.RESPONSE_SLURM_RC)
        self.assertEqual(killed.body["return_code"], 0)
        again = await self.call(M.REQUEST_KILL_JOB, {"sjob_id": str(job_id), "signal": 9,
                                                     "flags": P.KILL_FULL_JOB})
        self.assertEqual(again.body["return_code"], 2021)  # ESLURM_ALREADY_DONE

    async def test_job_desc_fields_reach_slurmctld(self):
        """Distinct values in many job_desc fields come back where scontrol shows them, so
        no two same-typed neighbours are swapped in either table."""
        now = int(time.time())
        desc = {
            "name": self.tag, "script": "#!/bin/sh\ntrue\n", "environment": ["PATH=/bin"],
            "argv": ["/tmp/x.sh", "arg1"], "work_dir": "/tmp", "std_out": "/tmp/o-%j",
            "std_err": "/tmp/e-%j", "std_in": "/dev/null", "priority": 0, "time_limit": 7,
            "time_min": 3, "num_tasks": 2, "ntasks_per_node": 1, "cpus_per_task": 1,
            "nice": P.bias(5), "comment": "hello", "mail_type": 3,
            "mail_user": "alice@example.org", "begin_time": now + 3600,
            "deadline": now + 86400, "licenses": "matlab:1", "requeue": 0,
            "pn_min_memory": 100, "exc_nodes": "n1", "account": "science",
            "partition": "debug", "delay_boot": 30, "req_switch": 1, "wait4switch": 60,
            "contiguous": 0, "shared": 0,
        }
        submitted = await self.call(M.REQUEST_SUBMIT_BATCH_JOB, desc,
                                    expect=M.RESPONSE_SUBMIT_BATCH_JOB)
        job_id = submitted.body["job_id"]
        self.jobs.append(job_id)
        shown = self.cluster.run(["scontrol", "-o", "show", "job", str(job_id)]).stdout
        for expected in ("TimeLimit=00:07:00", "TimeMin=00:03:00", "NumTasks=2", "Nice=5",
                         "Comment=hello", "MailType=BEGIN,END", "MailUser=alice@example.org",
                         "Licenses=matlab:1", "Requeue=0", "MinMemoryNode=100M",
                         "ExcNodeList=n1", "Command=/tmp/x.sh arg1", "WorkDir=/tmp",
                         f"StdErr=/tmp/e-{job_id}", "StdIn=/dev/null",
                         f"StdOut=/tmp/o-{job_id}", "DelayBoot=00:00:30",
                         "Switches=1@00:01:00", "OverSubscribe=NO", "Account=science",
                         "NtasksPerN:B:S:C=1:", "CPUs/Task=1", "Priority=0"):
            self.assertIn(expected, shown)
        record = (await self.call(M.REQUEST_JOB_INFO_SINGLE,
                                  {"job_id": job_id, "show_flags": SHOW_JOBS})).body["records"][0]
        for key in ("time_limit", "time_min", "num_tasks", "nice", "comment", "mail_type",
                    "mail_user", "licenses", "requeue", "pn_min_memory", "exc_nodes",
                    "std_out", "std_err", "std_in", "work_dir", "delay_boot", "req_switch",
                    "wait4switch", "ntasks_per_node", "cpus_per_task", "deadline"):
            self.assertEqual(record[key], desc[key], key)
        self.assertEqual(record["eligible_time"], desc["begin_time"])
        self.assertEqual(record["command"], "/tmp/x.sh arg1")
        self.assertTrue(record["bitflags"] & P.USE_DEFAULT_QOS)
        # An update with the same table: only the fields given change.
        updated = await self.call(M.REQUEST_UPDATE_JOB, {"job_id": job_id, "time_limit": 9},
                                  expect=M.RESPONSE_SLURM_RC)
        self.assertEqual(updated.body["return_code"], 0)
        shown = self.cluster.run(["scontrol", "-o", "show", "job", str(job_id)]).stdout
        self.assertIn("TimeLimit=00:09:00", shown)
        self.assertIn("TimeMin=00:03:00", shown)
        self.assertIn("Comment=hello", shown)

    async def test_array_update_errors(self):
        job_id = self.submit_held(extra=["--array=1-3"])
        message = await self.call(M.REQUEST_UPDATE_JOB, {"job_id_str": f"{job_id}_[1-3,9]",
                                                        "comment": "x"},
                                  expect=M.RESPONSE_JOB_ARRAY_ERRORS)
        self.assertEqual(message.body["entries"], [
            {"error_code": 0, "job_array_id": f"{job_id}_1-3"},
            {"error_code": 2017, "job_array_id": f"{job_id}_9"}])

    async def test_het_submission(self):
        component = {"name": self.tag, "script": "#!/bin/sh\ntrue\n",
                     "environment": ["PATH=/bin"], "work_dir": self.cluster.dir,
                     "std_out": "/dev/null", "priority": 0}
        message = await self.call(M.REQUEST_SUBMIT_BATCH_HET_JOB,
                                  {"job_descs": [component, dict(component, script=None)]},
                                  expect=M.RESPONSE_SUBMIT_BATCH_JOB)
        leader = message.body["job_id"]
        self.jobs.append(leader)
        records = (await self.call(M.REQUEST_JOB_INFO_SINGLE,
                                   {"job_id": leader, "show_flags": SHOW_JOBS})).body["records"]
        self.assertEqual(sorted((r["het_job_id"], r["het_job_offset"]) for r in records),
                         [(leader, 0), (leader, 1)])
        self.assertEqual(records[0]["het_job_id_set"], f"{leader}-{leader + 1}")

    async def test_running_job_resources_and_steps(self):
        """SHOW_DETAIL brings job_resources for a running job; its steps decode too."""
        job_id = self.cluster.submit("sleep 120", user="alice", name=self.tag,
                                     extra=["-p", "debug", "-t", "5"])
        self.jobs.append(job_id)
        try:
            await threads.deferToThread(self.cluster.wait_for_job_state, job_id, "RUNNING", 60)
        except TimeoutError:
            raise unittest.SkipTest("the cluster is too busy to start a job within 60 s")
        record = (await self.call(M.REQUEST_JOB_INFO_SINGLE,
                                  {"job_id": job_id, "show_flags": SHOW_JOBS})).body["records"][0]
        resources = record["job_resrcs"]
        self.assertIsNotNone(resources)
        self.assertEqual(resources["nodes"], record["nodes"])
        self.assertEqual(len(resources["cpus"]), resources["nhosts"])
        self.assertEqual(sum(resources["cpus"]), record["num_cpus"])
        self.assertIsNotNone(record["node_inx"])
        without = (await self.call(M.REQUEST_JOB_INFO_SINGLE,
                                   {"job_id": job_id, "show_flags": P.SHOW_LOCAL})).body
        self.assertIsNone(without["records"][0]["job_resrcs"])
        steps = await self.call(M.REQUEST_JOB_STEP_INFO,
                                {"step_id": {"job_id": job_id}, "show_flags": P.SHOW_ALL},
                                expect=M.RESPONSE_JOB_STEP_INFO)
        step_ids = {s["step_id"]["step_id"] for s in steps.body["steps"]}
        self.assertIn(P.SLURM_BATCH_SCRIPT, step_ids)
        for step in steps.body["steps"]:
            self.assertEqual(step["step_id"]["job_id"], job_id)
        cancel = await self.call(M.REQUEST_CANCEL_JOB_STEP,
                                 {"step_id": {"job_id": job_id, "step_id": 4000},
                                  "signal": 15})
        self.assertIn(cancel.msg_type, (M.RESPONSE_SLURM_RC, M.RESPONSE_SLURM_RC_MSG))
        self.assertNotEqual(cancel.body["return_code"], 0)  # no such step

    async def test_whole_queue_decodes(self):
        """Everything in the queue right now (other people's jobs too) decodes exactly."""
        message = await self.call(M.REQUEST_JOB_INFO, {"show_flags": SHOW_JOBS},
                                  expect=M.RESPONSE_JOB_INFO)
        self.assertEqual(len(message.body["records"]), message.body["record_count"])
        steps = await self.call(M.REQUEST_JOB_STEP_INFO, {"show_flags": P.SHOW_ALL},
                                expect=M.RESPONSE_JOB_STEP_INFO)
        self.assertEqual(len(steps.body["steps"]), steps.body["job_step_count"])
