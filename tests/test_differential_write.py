"""Submit, update and cancel side by side with the real slurmrestd 22.05 on the test cluster.

The same request goes to both servers (``tests.differential``); the reply documents are
compared field by field, and so are the jobs they make: the same document must yield the same
Slurm job (``scontrol show job``, every field but ids and moments). Where we deliberately
answer another status than slurmrestd (its 500s for refusals) the test says which.

Needs ``SLURMREST_TEST_CLUSTER`` with slurmrestd running; skipped otherwise.
"""

from __future__ import annotations

import uuid

from twisted.trial import unittest

from slurmrest.testing.cluster import Cluster
from tests import differential
from tests.test_api_job_control import parse_show_job

ENV = {"PATH": "/bin:/usr/bin", "LANG": "C"}
SCRIPT = "#!/bin/bash\necho hello from $SLURM_JOB_ID\n"
SUBMIT = "/slurm/v0.0.38/job/submit"

#: scontrol fields that differ between two otherwise identical jobs.
PER_JOB = {"JobId", "ArrayJobId", "HetJobId", "HetJobIdSet", "SubmitTime", "EligibleTime",
           "AccrueTime", "StartTime", "EndTime", "LastSchedEval", "AllocNode:Sid", "StdOut",
           "StdErr", "Dependency", "RunTime"}

#: Our additions to slurmrestd's error entries: its OpenAPI schema's own fields (it fills
#: "error_code" and "error" only on the submit path).
ERROR_ADDITIONS = ("errors/*/error_number", "errors/*/description", "errors/*/source")


class DifferentialWriteTests(unittest.TestCase):
    timeout = 120

    def setUp(self):
        self.cluster = Cluster.from_environment()
        if not self.cluster.restd_url:
            raise unittest.SkipTest("no slurmrestd on the test cluster")
        self.tag = f"t-h5b-d-{uuid.uuid4().hex[:8]}"
        self.jobs: list[int] = []
        self.addCleanup(lambda: self.cluster.cancel(*self.jobs))
        self.addCleanup(differential.stop_ours)

    # -- helpers ---------------------------------------------------------------------------
    def show(self, job) -> list[dict]:
        proc = self.cluster.run(["scontrol", "-o", "show", "job", str(job)], check=False)
        return parse_show_job(proc.stdout)

    def assertSameJobs(self, reference_id, our_id, *, also_differ=()):
        """The jobs (every component, every array record) agree field by field."""
        ref, ours = self.show(reference_id), self.show(our_id)
        self.assertEqual(len(ref), len(ours))
        skip = PER_JOB | set(also_differ)
        for r, o in zip(ref, ours):
            r = {k: v for k, v in r.items() if k not in skip}
            o = {k: v for k, v in o.items() if k not in skip}
            self.assertEqual(o, r)

    async def assertSameDocuments(self, *job_ids):
        """Both servers describe each job alike, by value: they are held or pending."""
        for job_id in job_ids:
            cmp = await differential.compare(self.cluster, f"/slurm/v0.0.38/job/{job_id}")
            differential.assert_same(self, cmp)

    async def submit_both(self, body, *, status=None, ignore=(), loose=()):
        cmp = await differential.compare(self.cluster, SUBMIT, method="POST", body=body,
                                         ignore=tuple(ignore) + ERROR_ADDITIONS,
                                         loose=("job_id",) + tuple(loose))
        for doc in (cmp.reference, cmp.ours):
            if isinstance(doc, dict) and isinstance(doc.get("job_id"), int):
                self.jobs.append(doc["job_id"])
        differential.assert_same(self, cmp, status=status)
        return cmp

    def held_job(self) -> int:
        job = self.cluster.submit("true", name=self.tag, extra=["--hold", "-t", "5"])
        self.jobs.append(job)
        return job

    def job(self, **fields) -> dict:
        return {"name": self.tag, "environment": ENV, "current_working_directory": "/tmp",
                **fields}

    # -- submit ----------------------------------------------------------------------------
    async def test_submit_single(self):
        cmp = await self.submit_both({"script": SCRIPT, "job": self.job(
            partition="debug", time_limit=5, tasks=2, memory_per_cpu=120, hold=True,
            comment="same", standard_output="/tmp/t-h5b-%j.out", nice=5,
            mail_type="END", signal="USR1@30", licenses="matlab:1")})
        self.assertEqual(cmp.ours["step_id"], "BATCH")
        self.assertEqual(cmp.ours["errors"][0]["error_number"], 2042)  # held
        self.assertSameJobs(cmp.reference["job_id"], cmp.ours["job_id"])
        await self.assertSameDocuments(cmp.reference["job_id"], cmp.ours["job_id"])

    async def test_submit_field_by_field(self):
        # Each document alone, so that a difference names its field. (Not here: "argv" and
        # "batch_features", which crash slurmrestd 22.05.8 — a double free in jobs.c.)
        for fields in (
                {"exclusive": "user"}, {"nodes": "1-2"}, {"cpus_per_task": 2, "tasks": 2},
                {"requeue": True}, {"no_kill": None}, {"kill_on_invalid_dependency": True},
                {"spread_job": True}, {"minimum_nodes": True}, {"open_mode": "truncate"},
                {"standard_error": "/tmp/e-%j", "standard_input": "/dev/null"},
                {"memory_per_node": "1G"}, {"temporary_disk_per_node": 100},
                {"cores_per_socket": 1, "threads_per_core": 1, "sockets_per_node": 1},
                {"delay_boot": "5:00"}, {"profile": "task"},
                {"account_gather_frequency": "task=30"},
                {"mail_user": "x@y", "mail_type": "ALL"},
                {"time_minimum": 2, "time_limit": 5}, {"tasks_per_node": 1},
                {"account": "physics"}, {"qos": "high"}, {"dependency": "afterok:1"},
                {"oversubscribe": True}, {"minimum_cpus_per_node": 2},
                {"core_specification": 1}, {"thread_specification": 1}, {"wckey": "w"},
                {"licenses": "fluent:1"}, {"get_user_environment": "10L"},
                {"cpu_frequency": "low"}, {"exclude_nodes": "n1", "nodelist": "n2"},
                {"wait_all_nodes": 1}, {"time_limit": "0:30:00", "nice": -0},
                {"PARTITION": "long", "TASKS": "3"}):
            try:
                cmp = await self.submit_both({"script": SCRIPT,
                                              "job": self.job(hold=True, **fields)})
                self.assertSameJobs(cmp.reference["job_id"], cmp.ours["job_id"])
                await self.assertSameDocuments(cmp.reference["job_id"], cmp.ours["job_id"])
            except self.failureException as e:
                self.fail(f"{fields}: {e}")

    async def test_submit_where_slurmrestd_errs(self):
        # requeue=false: slurmrestd sets requeue whatever the value; "nodes" as a list: it
        # parses the counts and drops them. We do what the document says.
        cmp = await self.submit_both({"script": SCRIPT, "job": self.job(
            hold=True, requeue=False, nodes=[2, 3])})
        [ref], [ours] = self.show(cmp.reference["job_id"]), self.show(cmp.ours["job_id"])
        self.assertEqual((ref["Requeue"], ours["Requeue"]), ("1", "0"))
        self.assertEqual((ref["NumNodes"], ours["NumNodes"]), ("1", "2-3"))
        self.assertSameJobs(cmp.reference["job_id"], cmp.ours["job_id"],
                            also_differ={"Requeue", "NumNodes", "NumCPUs", "NumTasks", "TRES"})

    async def test_submit_refusals_with_better_statuses(self):
        for fields, number, status in (({"prefer": "x"}, 2133, 400),
                                       ({"constraints": "nofeat"}, 2029, 400),
                                       ({"reservation": "maint"}, 2052, 403)):
            cmp = await self.submit_both({"script": SCRIPT, "job": self.job(**fields)},
                                         status=status)
            self.assertEqual(cmp.reference_status, 500)  # slurmrestd
            self.assertEqual(cmp.ours["errors"][0]["error_number"], number)

    async def test_submit_sample_bodies(self):
        # the bodies of the reference samples (single, held), with our name and directory
        for job in (self.job(partition="debug", standard_output="/tmp/rest-%j.out",
                             time_limit=5, hold=True),
                    self.job(hold=True)):
            cmp = await self.submit_both({"script": SCRIPT, "job": job})
            self.assertSameJobs(cmp.reference["job_id"], cmp.ours["job_id"])

    async def test_submit_yaml_body(self):
        # the reference sample yaml-body, held and with our name
        import treq

        body = (f"script: |\n  #!/bin/bash\n  true\njob:\n  name: {self.tag}\n  hold: true\n"
                "  environment:\n    PATH: /bin:/usr/bin\n"
                "  current_working_directory: /tmp\n").encode()
        ids = []
        for base in (self.cluster.restd_url, await differential.start_ours(self.cluster)):
            headers = {"X-SLURM-USER-NAME": "alice",
                       "X-SLURM-USER-TOKEN": self.cluster.token("alice"),
                       "Content-Type": "application/x-yaml"}
            response = await treq.post(base + SUBMIT, data=body, headers=headers,
                                       persistent=False)
            document = await response.json()
            self.assertEqual(response.code, 200, document)
            ids.append(document["job_id"])
            self.jobs.append(document["job_id"])
        self.assertSameJobs(*ids)

    async def test_submit_hetjob(self):
        cmp = await self.submit_both({"script": SCRIPT, "jobs": [
            self.job(partition="debug", tasks=1, hold=True),
            self.job(partition="long", tasks=2, hold=True)]})
        self.assertEqual(len(self.show(cmp.ours["job_id"])), 2)
        self.assertSameJobs(cmp.reference["job_id"], cmp.ours["job_id"])
        await self.assertSameDocuments(cmp.ours["job_id"])

    async def test_submit_array(self):
        cmp = await self.submit_both({"script": SCRIPT, "job": self.job(
            array="1-6%2", hold=True, standard_output="/tmp/t-h5b-%A_%a.out")})
        self.assertSameJobs(cmp.reference["job_id"], cmp.ours["job_id"])
        await self.assertSameDocuments(cmp.ours["job_id"])

    async def test_submit_unknown_field(self):
        cmp = await self.submit_both({"script": SCRIPT, "job": self.job(bogus_field=1)},
                                     ignore=("errors", "errors/*"))
        self.assertEqual(cmp.our_status, 400)
        self.assertIn('Unknown key "bogus_field"', cmp.ours["errors"][0]["description"])

    async def test_submit_no_environment(self):
        cmp = await self.submit_both({"script": SCRIPT, "job": {"name": self.tag}},
                                     ignore=("errors", "errors/*"))
        self.assertEqual(cmp.ours["errors"][0]["error_number"], 2127)

    async def test_submit_no_script(self):
        # slurmrestd: 500; a request without a script is the client's mistake: 400
        cmp = await self.submit_both({"job": self.job()}, status=400)
        self.assertEqual(cmp.reference_status, 500)
        self.assertEqual(cmp.ours["errors"][0]["error_code"],
                         cmp.reference["errors"][0]["error_code"])

    async def test_submit_bad_partition(self):
        # slurmrestd: 500; Slurm's ESLURM_INVALID_PARTITION_NAME is the request's fault: 400
        cmp = await self.submit_both({"script": SCRIPT, "job": self.job(partition="nosuch")},
                                     status=400)
        self.assertEqual(cmp.reference_status, 500)
        self.assertEqual(cmp.ours["errors"][0]["error"], "Invalid partition name specified")

    # -- update ----------------------------------------------------------------------------
    async def test_update(self):
        ref_job, our_job = self.held_job(), self.held_job()
        body = {"comment": "updated via REST", "time_limit": 7, "name": f"{self.tag}-u",
                "nice": 2}
        cmp = await differential.compare(self.cluster, f"/slurm/v0.0.38/job/{ref_job}",
                                         method="POST", body=body,
                                         our_path=f"/slurm/v0.0.38/job/{our_job}")
        differential.assert_same(self, cmp)
        self.assertEqual(cmp.ours["errors"], [])
        # slurmrestd 22.05 drops "name" from updates (it asks slurm_option_isset for "name",
        # an option called "job-name"); we rename the job.
        self.assertSameJobs(ref_job, our_job, also_differ={"JobName"})
        [ref], [rec] = self.show(ref_job), self.show(our_job)
        self.assertEqual((rec["TimeLimit"], rec["Comment"], rec["Nice"]),
                         ("00:07:00", "updated via REST", "2"))
        self.assertEqual((ref["JobName"], rec["JobName"]), (self.tag, f"{self.tag}-u"))

    async def test_update_field_by_field(self):
        for fields, differ in (
                ({"partition": "long"}, ()), ({"time_minimum": 2}, ()), ({"qos": "high"}, ()),
                ({"account": "physics"}, ()), ({"dependency": "afterok:1"}, ()),
                ({"licenses": "matlab:1"}, ()), ({"begin_time": "now+1hour"}, ()),
                ({"hold": False, "begin_time": "now+1hour"}, ()), ({"tasks": 2}, ()),
                ({"cpus_per_task": 2}, ()), ({"memory_per_cpu": 150}, ()),
                ({"memory_per_node": "1G"}, ()), ({"nodes": "1-2"}, ()),
                ({"standard_output": "/tmp/x.out"}, ()), ({"wckey": "w"}, ()),
                ({"current_working_directory": "/var/tmp"}, ()), ({"nodelist": "n2"}, ()),
                ({"exclude_nodes": "n1"}, ()),
                # slurmrestd drops mail_type from updates (slurm_option_isset("mail_type")
                # on an option named "mail-type") and sets requeue whatever the value
                ({"mail_type": "END", "mail_user": "a@b"}, ("MailType", "MailUser")),
                ({"requeue": False}, ("Requeue",))):
            ref_job, our_job = self.held_job(), self.held_job()
            cmp = await differential.compare(self.cluster, f"/slurm/v0.0.38/job/{ref_job}",
                                             method="POST", body=fields,
                                             our_path=f"/slurm/v0.0.38/job/{our_job}")
            try:
                differential.assert_same(self, cmp)
                self.assertSameJobs(ref_job, our_job, also_differ=differ)
                await self.assertSameDocuments(our_job)
            except self.failureException as e:
                self.fail(f"{fields}: {e}")
        [rec] = self.show(our_job)
        self.assertEqual(rec["Requeue"], "0")

    async def test_update_refusals_with_better_statuses(self):
        detail = ("errors/*/description", "errors/*/source", "errors/*/error_code")
        for fields, status in (({"exclusive": "user"}, 403), ({"time_limit": "UNLIMITED"}, 403),
                               ({"constraints": "nofeat"}, 400)):
            job = self.held_job()
            cmp = await differential.compare(self.cluster, f"/slurm/v0.0.38/job/{job}",
                                             method="POST", body=fields, ignore=detail)
            differential.assert_same(self, cmp, status=status)
            self.assertEqual(cmp.reference_status, 500)

    async def test_update_by_another_user(self):
        job = self.held_job()
        cmp = await differential.compare(self.cluster, f"/slurm/v0.0.38/job/{job}",
                                         method="POST", body={"comment": "bob tries"},
                                         user="bob", ignore=("errors/*/description",
                                                             "errors/*/source",
                                                             "errors/*/error_code"))
        differential.assert_same(self, cmp, status=403)  # slurmrestd: 500
        self.assertEqual(cmp.reference_status, 500)

    # -- cancel ----------------------------------------------------------------------------
    async def test_cancel_and_again(self):
        ref_job, our_job = self.held_job(), self.held_job()
        for _ in range(2):  # the second time: already done, still a success
            cmp = await differential.compare(self.cluster, f"/slurm/v0.0.38/job/{ref_job}",
                                             method="DELETE",
                                             our_path=f"/slurm/v0.0.38/job/{our_job}")
            differential.assert_same(self, cmp)
        self.assertEqual(self.show(our_job)[0]["JobState"], "CANCELLED")
        self.assertSameJobs(ref_job, our_job)

    async def test_cancel_errors(self):
        job = self.held_job()
        detail = ("errors/*/description", "errors/*/source", "errors/*/error_code")
        cmp = await differential.compare(self.cluster, f"/slurm/v0.0.38/job/{job}?signal=BOGUS",
                                         method="DELETE", ignore=detail)
        differential.assert_same(self, cmp)
        cmp = await differential.compare(self.cluster, f"/slurm/v0.0.38/job/{job}",
                                         method="DELETE", user="bob", ignore=detail)
        differential.assert_same(self, cmp, status=403)  # slurmrestd: 500
        cmp = await differential.compare(self.cluster, "/slurm/v0.0.38/job/999999999",
                                         method="DELETE", ignore=detail)
        differential.assert_same(self, cmp, status=404)  # slurmrestd: 500
        self.assertEqual(self.show(job)[0]["JobState"], "PENDING")
