"""Submitting, updating, cancelling and signalling jobs on the real test cluster (and, first,
the job id, signal and status rules that need no cluster).

The operations run with a slurmctld client bound to a real JWT; every effect is checked with
Slurm's own tools (``scontrol``, ``squeue``, ``sacct``). Jobs are named ``t-h5b-…``, mostly
held, and cancelled at the end of each test.
"""

from __future__ import annotations

import os
import re
import time
import uuid

from twisted.internet import defer, reactor
from twisted.trial import unittest

from slurmrest.api import job_control
from slurmrest.api.errors import Refusal
from slurmrest.api.registry import REGISTRY, ApiError, Call, Result
from slurmrest.api.runner import run
from slurmrest.testing.cluster import Cluster
from slurmrest.wire.client import SlurmctldClient
from slurmrest.wire.conf import SlurmConfig
from slurmrest.wire.credentials import Credential

ENV = {"PATH": "/bin:/usr/bin", "LANG": "C"}


def parse_show_job(text: str) -> list[dict]:
    """``scontrol -o show job`` output: one dict per line (per job or component)."""
    records = []
    for line in text.splitlines():
        if line.strip():
            records.append({k: v.strip() for k, v in
                            re.findall(r"(\S+?)=(.*?)(?= \S+?=|$)", line.strip())})
    return records


def asynchronous(f):
    def test(self):
        return defer.ensureDeferred(f(self))
    test.__name__ = f.__name__
    test.__doc__ = f.__doc__
    return test


class JobIdSignalAndStatusTests(unittest.TestCase):
    """The parts decided before or after the RPC (no cluster needed)."""

    def test_job_ids(self):
        for spec in ("1", "123", "123_4", "123_[1-3,5]", "123_[1-9%2]", "123_*", "123+1"):
            self.assertEqual(job_control.job_spec(spec), spec)
        for bad in ("", "0", "abc", "12x", "123_", "123_[", "-1", "123+", "1 2", "123_a",
                    "12345678901", "../1"):
            with self.assertRaises(ApiError, msg=bad) as cm:
                job_control.job_spec(bad)
            self.assertEqual((cm.exception.status, cm.exception.errors[0]["error_number"]),
                             (400, 2017))

    def test_signals(self):
        for text, number in (("SIGUSR1", 10), ("USR1", 10), ("kill", 9), ("9", 9),
                             ("SIGTERM", 15), ("63", 63), ("CONT", 18)):
            self.assertEqual(job_control.parse_signal(text), number)
        for bad in ("BOGUS", "0", "64", "-9", "", "USR1x", "SIG"):
            with self.assertRaises(ApiError, msg=bad) as cm:
                job_control.parse_signal(bad)
            self.assertEqual((cm.exception.status, cm.exception.errors[0]["error_number"]),
                             (400, 9000))

    def test_statuses(self):
        for errno, status in ((2002, 403), (2010, 403), (2017, 404), (2000, 400), (2045, 400),
                              (2050, 400), (2027, 503), (2019, 500), (-1, 500)):
            for name in ("submit_job", "update_job", "cancel_job"):
                self.assertEqual(REGISTRY.find(name).status_of(errno), status, (name, errno))

    def test_array_errors(self):
        from slurmrest.wire.msgtypes import MsgType
        from slurmrest.wire.protocol import Message

        from slurmrest.wire.tables.v22_05 import JOB_ARRAY_RESPONSE, PROTOCOL_VERSION
        from tests.records import decoded

        def reply(*entries):
            body = decoded(JOB_ARRAY_RESPONSE, entries=[
                {"error_code": c, "job_array_id": i} for c, i in entries])
            return Message(PROTOCOL_VERSION, 0, MsgType.RESPONSE_JOB_ARRAY_ERRORS, body)

        self.assertEqual(job_control._update_result(reply((0, "7_1-4")), "7").errors, [])
        partial = job_control._update_result(reply((0, "7_1-4"), (2017, "7_5-9")), "7")
        self.assertEqual([(e["error_number"], e["description"]) for e in partial.errors],
                         [(2017, "update of job 7_5-9 refused")])
        with self.assertRaises(Refusal) as cm:
            job_control._update_result(reply((2002, "7_1-2"), (2017, "7_3")), "7")
        self.assertEqual(REGISTRY.find("update_job").status_of(cm.exception.errno), 403)
        self.assertEqual(len(cm.exception.entries), 2)


class JobControlTests(unittest.TestCase):
    timeout = 180

    def setUp(self):
        self.cluster = Cluster.from_environment()
        self.client = SlurmctldClient(SlurmConfig.load(self.cluster.slurm_conf), reactor)
        self.jobs: list[int] = []
        self.tag = f"t-h5b-{uuid.uuid4().hex[:8]}"
        self.addCleanup(lambda: self.cluster.cancel(*self.jobs))

    # -- helpers ---------------------------------------------------------------------------
    def ctld(self, user="alice"):
        return self.client.bind(Credential(self.cluster.token(user), user))

    async def submit(self, body, user="alice") -> Result:
        result = await run(REGISTRY.find("submit_job"), Call(params={}, body=body, user=user,
                                                               slurmctld=self.ctld(user)))
        self.jobs.append(result.payload["job_id"])
        return result

    async def update(self, job_id, body, user="alice"):
        return await run(REGISTRY.find("update_job"), Call(
            params={"job_id": str(job_id)}, body=body, user=user, slurmctld=self.ctld(user)))

    async def cancel(self, job_id, signal=None, user="alice"):
        params = {"job_id": str(job_id)}
        if signal is not None:
            params["signal"] = signal
        return await run(REGISTRY.find("cancel_job"),
                         Call(params=params, user=user, slurmctld=self.ctld(user)))

    async def refused(self, coroutine) -> ApiError:
        try:
            await coroutine
        except ApiError as e:
            return e
        self.fail("the operation was not refused")

    def show(self, job) -> list[dict]:
        proc = self.cluster.run(["scontrol", "-o", "show", "job", str(job)], check=False)
        return parse_show_job(proc.stdout)

    def squeue_names(self, name) -> list[str]:
        proc = self.cluster.run(["squeue", "-h", "-r", "-a", "-n", name, "-o", "%i %P %T"])
        return sorted(line.strip() for line in proc.stdout.splitlines() if line.strip())

    def job(self, name=None, **fields) -> dict:
        return {"name": name or self.tag, "environment": ENV, **fields}

    def path(self, stem) -> str:
        return os.path.join(self.cluster.layout.path("jobs"), f"{self.tag}-{stem}")

    def wait_for_file(self, path, text, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(path) and text in open(path).read():
                return open(path).read()
            time.sleep(0.25)
        self.fail(f"{path} never contained {text!r}")

    # -- submit ----------------------------------------------------------------------------
    @asynchronous
    async def test_submit_single_with_its_fields(self):
        out = self.path("single-%j.out")
        result = await self.submit({"script": "#!/bin/bash\ntrue\n", "job": self.job(
            partition="long", time_limit=3, current_working_directory="/tmp",
            standard_output=out, tasks=2, memory_per_cpu=150, hold=True, comment="c1",
            nice=7)})
        job_id = result.payload["job_id"]
        self.assertIsInstance(job_id, int)
        self.assertEqual(result.payload["step_id"], "BATCH")
        self.assertEqual(result.payload["job_submit_user_msg"], "")
        # held: slurmctld accepts with ESLURM_JOB_HELD, which slurmrestd lists in "errors"
        self.assertEqual([e["error_number"] for e in result.errors], [2042])
        [rec] = self.show(job_id)
        self.assertEqual(rec["JobName"], self.tag)
        self.assertEqual(rec["UserId"], "alice(2001)")
        self.assertEqual(rec["Partition"], "long")
        self.assertEqual(rec["TimeLimit"], "00:03:00")
        self.assertEqual(rec["WorkDir"], "/tmp")
        self.assertEqual(rec["StdOut"], out.replace("%j", str(job_id)))
        self.assertEqual(rec["NumTasks"], "2")
        self.assertEqual(rec["MinMemoryCPU"], "150M")
        self.assertEqual(rec["Priority"], "0")
        self.assertEqual(rec["Reason"], "JobHeldUser")
        self.assertEqual(rec["Comment"], "c1")
        self.assertEqual(rec["Nice"], "7")
        self.assertEqual(rec["JobState"], "PENDING")

    @asynchronous
    async def test_environment_reaches_the_running_job(self):
        out = self.path("env.out")
        result = await self.submit({
            "script": "#!/bin/bash\necho \"var=$T_H5B_VAR name=$SLURM_JOB_NAME\"\n",
            "job": self.job(environment={**ENV, "T_H5B_VAR": "forty two"}, time_limit=1,
                            standard_output=out)})
        job_id = result.payload["job_id"]
        self.cluster.wait_for_job_state(job_id, {"COMPLETED"}, timeout=90)
        self.assertEqual(open(out).read().strip(), f"var=forty two name={self.tag}")

    @asynchronous
    async def test_hetjob_components(self):
        result = await self.submit({"script": "#!/bin/bash\ntrue\n", "jobs": [
            self.job(partition="debug", tasks=1, hold=True),
            self.job(partition="long", tasks=2, hold=True)]})
        job_id = result.payload["job_id"]
        self.assertEqual(self.squeue_names(self.tag),
                         [f"{job_id}+0 debug PENDING", f"{job_id}+1 long PENDING"])
        recs = self.show(job_id)
        self.assertEqual([r["NumTasks"] for r in recs], ["1", "2"])
        self.assertEqual({r["HetJobId"] for r in recs}, {str(job_id)})

    @asynchronous
    async def test_hetjob_with_one_bad_component_submits_nothing(self):
        body = {"script": "#!/bin/bash\ntrue\n", "jobs": [
            self.job(partition="debug", hold=True), self.job(partition="nosuch", hold=True)]}
        e = await self.refused(self.submit(body))
        self.assertEqual(e.status, 400)
        self.assertEqual(e.errors[0]["error_number"], 2000)
        self.assertEqual(e.errors[0]["error"], "Invalid partition name specified")
        # a component that fails our own checks: refused before any RPC
        body["jobs"][1] = self.job(partition="long", hold=True, bogus=1)
        e = await self.refused(self.submit(body))
        self.assertEqual((e.status, e.errors[0]["source"]), (400, "jobs[1].bogus"))
        self.assertEqual(self.squeue_names(self.tag), [])

    @asynchronous
    async def test_array_forms(self):
        result = await self.submit({"script": "#!/bin/bash\ntrue\n",
                                    "job": self.job(array="1-4%2", hold=True)})
        job_id = result.payload["job_id"]
        self.assertEqual(self.squeue_names(self.tag),
                         sorted(f"{job_id}_{i} debug PENDING" for i in range(1, 5)))
        [rec] = self.show(job_id)
        self.assertEqual(rec["ArrayTaskId"], "1-4%2")
        for spec, shown in (("1,3,5", "1,3,5"), ("0-15:4", "0,4,8,12")):
            result = await self.submit({"script": "#!/bin/bash\ntrue\n",
                                        "job": self.job(name=f"{self.tag}-x", array=spec,
                                                        hold=True)})
            [rec] = self.show(result.payload["job_id"])
            self.assertEqual(rec["ArrayTaskId"], shown)

    @asynchronous
    async def test_bad_submissions(self):
        script = "#!/bin/bash\ntrue\n"
        cases = [
            ({"script": script, "job": self.job(bogus_field=1)}, 9001, "job.bogus_field"),
            ({"job": self.job()}, 2009, "script"),
            ({"script": "", "job": self.job()}, 2009, "script"),
            ({"script": script, "job": {"name": self.tag}}, 2127, "job.environment"),
            ({"script": script, "job": self.job(tasks="x")}, 9202, "job.tasks"),
        ]
        for body, number, source in cases:
            e = await self.refused(self.submit(body))
            self.assertEqual((e.status, e.errors[0]["error_number"], e.errors[0]["source"]),
                             (400, number, source), body)
        e = await self.refused(self.submit({"script": script,
                                            "job": self.job(partition="nosuch")}))
        self.assertEqual((e.status, e.errors[0]["error_number"]), (400, 2000))
        # bob has no association with account science
        e = await self.refused(self.submit({"script": script,
                                            "job": self.job(account="science", hold=True)},
                                           user="bob"))
        self.assertEqual((e.status, e.errors[0]["error_number"]), (400, 2045))
        self.assertEqual(self.squeue_names(self.tag), [])

    # -- update ----------------------------------------------------------------------------
    @asynchronous
    async def test_update_fields_and_hold_release(self):
        result = await self.submit({"script": "#!/bin/bash\ntrue\n", "job": self.job(
            hold=True, time_limit=5, begin_time="now+2hours")})
        job_id = result.payload["job_id"]
        renamed = f"{self.tag}-renamed"
        self.jobs.append(job_id)
        out = await self.update(job_id, {"time_limit": 7, "name": renamed,
                                         "comment": "updated via REST", "nice": 3})
        self.assertEqual((out.payload, out.errors), ({}, []))
        [rec] = self.show(job_id)
        self.assertEqual((rec["TimeLimit"], rec["JobName"], rec["Comment"], rec["Nice"]),
                         ("00:07:00", renamed, "updated via REST", "3"))
        self.assertEqual(rec["Priority"], "0")
        await self.update(job_id, {"hold": False})
        [rec] = self.show(job_id)
        self.assertNotEqual(rec["Priority"], "0")
        # released, still pending for its begin time (the scheduler may not have looked yet)
        self.assertEqual(rec["JobState"], "PENDING")
        self.assertIn(rec["Reason"], ("None", "BeginTime"))
        await self.update(job_id, {"hold": True})
        [rec] = self.show(job_id)
        self.assertEqual((rec["Priority"], rec["Reason"]), ("0", "JobHeldUser"))
        await self.update(job_id, {"partition": "long"})
        self.assertEqual(self.show(job_id)[0]["Partition"], "long")

    @asynchronous
    async def test_update_array_tasks_by_job_id_string(self):
        result = await self.submit({"script": "#!/bin/bash\ntrue\n",
                                    "job": self.job(array="1-3", hold=True, time_limit=5)})
        job_id = result.payload["job_id"]
        await self.update(f"{job_id}_2", {"time_limit": 4})
        limits = {r["ArrayTaskId"]: r["TimeLimit"] for r in self.show(job_id)}
        self.assertEqual(limits.get("2"), "00:04:00")
        self.assertIn("00:05:00", [v for k, v in limits.items() if k != "2"])

    @asynchronous
    async def test_update_array_throttle(self):
        result = await self.submit({"script": "#!/bin/bash\ntrue\n",
                                    "job": self.job(array="1-6%2", hold=True)})
        job_id = result.payload["job_id"]
        await self.update(job_id, {"array": "%4"})
        self.assertEqual(self.show(job_id)[0]["ArrayTaskId"], "1-6%4")

    @asynchronous
    async def test_update_array_with_some_tasks_missing(self):
        result = await self.submit({"script": "#!/bin/bash\ntrue\n",
                                    "job": self.job(array="1-4", hold=True)})
        job_id = result.payload["job_id"]
        # slurmctld answers RESPONSE_JOB_ARRAY_ERRORS: tasks 1-4 changed, 5-9 do not exist
        out = await self.update(f"{job_id}_[1-9]", {"comment": "some"})
        self.assertEqual([(e["error_number"], e["description"]) for e in out.errors],
                         [(2017, f"update of job {job_id}_5-9 refused")])
        self.assertEqual({r["Comment"] for r in self.show(job_id)}, {"some"})
        # every task named is missing: the whole update failed
        e = await self.refused(self.update(f"{job_id}_7", {"comment": "none"}))
        self.assertEqual((e.status, e.errors[0]["error_number"]), (404, 2017))

    @asynchronous
    async def test_bad_updates(self):
        result = await self.submit({"script": "#!/bin/bash\ntrue\n",
                                    "job": self.job(hold=True)})
        job_id = result.payload["job_id"]
        e = await self.refused(self.update(job_id, {"time_limit": "soon"}))
        self.assertEqual((e.status, e.errors[0]["source"]), (400, "time_limit"))
        e = await self.refused(self.update("abc", {"time_limit": 3}))
        self.assertEqual((e.status, e.errors[0]["error_number"]), (400, 2017))
        e = await self.refused(self.update(job_id, {"comment": "bob tries"}, user="bob"))
        self.assertEqual(e.status, 403)
        self.assertIn(e.errors[0]["error_number"], (2002, 2010))
        self.assertNotEqual(self.show(job_id)[0].get("Comment"), "bob tries")
        e = await self.refused(self.update(999999999, {"time_limit": 3}))
        self.assertEqual((e.status, e.errors[0]["error_number"]), (404, 2017))

    # -- cancel and signal -----------------------------------------------------------------
    @asynchronous
    async def test_cancel_held_job_twice(self):
        result = await self.submit({"script": "#!/bin/bash\ntrue\n",
                                    "job": self.job(hold=True)})
        job_id = result.payload["job_id"]
        self.assertEqual(await self.cancel(job_id), {})
        self.assertEqual(self.show(job_id)[0]["JobState"], "CANCELLED")
        self.assertEqual(await self.cancel(job_id), {})  # ESLURM_ALREADY_DONE is success
        self.assertEqual(self.cluster.accounting_state(job_id, until=("CANCELLED by 2001",)),
                         "CANCELLED by 2001")

    @asynchronous
    async def test_cancel_array_tasks(self):
        result = await self.submit({"script": "#!/bin/bash\ntrue\n",
                                    "job": self.job(array="1-4", hold=True)})
        job_id = result.payload["job_id"]

        def pending():
            proc = self.cluster.run(["squeue", "-h", "-r", "-t", "PD", "-j", str(job_id),
                                     "-o", "%i"])
            return sorted(proc.stdout.split())

        await self.cancel(f"{job_id}_2")
        self.assertEqual(pending(), [f"{job_id}_1", f"{job_id}_3", f"{job_id}_4"])
        await self.cancel(f"{job_id}_[3-4]")
        self.assertEqual(pending(), [f"{job_id}_1"])
        await self.cancel(f"{job_id}_*")
        self.assertEqual(pending(), [])

    @asynchronous
    async def test_signal_reaches_a_running_job(self):
        mark = self.path("signal.txt")
        script = ("#!/bin/bash\n"
                  f"trap 'echo got-usr1 >> {mark}; exit 0' USR1\n"
                  f"echo ready > {mark}\n"
                  "for i in $(seq 120); do sleep 1; done\n")
        result = await self.submit({"script": script, "job": self.job(
            time_limit=3, standard_output=self.path("signal.out"))})
        job_id = result.payload["job_id"]
        self.cluster.wait_for_job_state(job_id, {"RUNNING"}, timeout=90)
        self.wait_for_file(mark, "ready")
        self.assertEqual(await self.cancel(job_id, signal="SIGUSR1"), {})
        self.assertIn("got-usr1", self.wait_for_file(mark, "got-usr1"))
        self.assertEqual(self.cluster.wait_for_job_state(job_id, {"COMPLETED"}, timeout=60),
                         "COMPLETED")

    @asynchronous
    async def test_bad_cancels(self):
        result = await self.submit({"script": "#!/bin/bash\ntrue\n",
                                    "job": self.job(hold=True)})
        job_id = result.payload["job_id"]
        for bogus in ("BOGUS", "0", "64", "-9", "USR1x"):
            e = await self.refused(self.cancel(job_id, signal=bogus))
            self.assertEqual((e.status, e.errors[0]["error_number"]), (400, 9000), bogus)
        e = await self.refused(self.cancel("12x"))
        self.assertEqual((e.status, e.errors[0]["error_number"]), (400, 2017))
        e = await self.refused(self.cancel(job_id, user="bob"))
        self.assertEqual((e.status, e.errors[0]["error_number"]), (403, 2002))
        e = await self.refused(self.cancel(999999999))
        self.assertEqual((e.status, e.errors[0]["error_number"]), (404, 2017))
        self.assertEqual(self.show(job_id)[0]["JobState"], "PENDING")
