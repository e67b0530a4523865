"""The read operations, side by side with the real slurmrestd 22.05 on the test cluster.

Needs ``SLURMREST_TEST_CLUSTER`` (a cluster with slurmrestd running); skipped otherwise.
Each test sends the same request to both servers and compares the documents field by field
(``tests.differential``). Where we answer a better status than slurmrestd's 500, the test
says so explicitly.
"""

from twisted.trial import unittest

from tests import differential


class DifferentialReadTests(unittest.TestCase):
    """Collections and single records with the real slurmrestd's answers."""

    timeout = 120

    def setUp(self):
        self.fixture = fixture = differential.standing_jobs()
        self.cluster = fixture["cluster"]
        self.held, self.array = fixture["held"], fixture["array"]
        self.pending, self.detailed = fixture["pending"], fixture["detailed"]
        self.addCleanup(differential.stop_ours)

    async def same(self, path, *, status=None, **kw):
        cmp = await differential.compare(self.cluster, path, **kw)
        differential.assert_same(self, cmp, status=status)
        return cmp

    def assert_schema(self, cmp, collection, schema_name):
        """Both servers' records fit the schema we publish for them."""
        ref = {"$ref": f"#/components/schemas/{schema_name}"}
        for who, doc in (("slurmrest", cmp.ours), ("slurmrestd", cmp.reference)):
            for item in doc[collection]:
                self.assertEqual(differential.schema_mismatches(item, ref), [], who)

    async def test_partitions(self):
        cmp = await self.same("/slurm/v0.0.38/partitions")
        self.assertEqual({p["name"] for p in cmp.ours["partitions"]}, {"debug", "long"})
        self.assert_schema(cmp, "partitions", "v0.0.38_partition")

    async def test_partition(self):
        await self.same("/slurm/v0.0.38/partition/debug")
        await self.same("/slurm/v0.0.38/partition/LONG")  # slurmrestd: case-insensitive

    async def test_partition_unknown(self):
        cmp = await self.same("/slurm/v0.0.38/partition/nosuch", status=404)
        self.assertEqual(cmp.reference_status, 500)
        self.assertEqual(cmp.ours["errors"], cmp.reference["errors"])

    async def test_reservations(self):
        cmp = await self.same("/slurm/v0.0.38/reservations")
        self.assertIn("maint", [r["name"] for r in cmp.ours["reservations"]])
        self.assert_schema(cmp, "reservations", "v0.0.38_reservation")

    async def test_reservation(self):
        await self.same("/slurm/v0.0.38/reservation/maint")

    async def test_reservation_unknown(self):
        cmp = await self.same("/slurm/v0.0.38/reservation/nosuch", status=404)
        self.assertEqual(cmp.reference_status, 500)

    async def test_nodes(self):
        cmp = await self.same("/slurm/v0.0.38/nodes")
        self.assertEqual([n["name"] for n in cmp.ours["nodes"]], ["n1", "n2", "n3", "n4"])
        by_name = {n["name"]: n for n in cmp.ours["nodes"]}
        self.assertEqual(by_name["n3"]["partitions"], ["debug", "long"])
        self.assert_schema(cmp, "nodes", "v0.0.38_node")

    async def test_node(self):
        await self.same("/slurm/v0.0.38/node/n1")

    async def test_node_partitions_are_its_own(self):
        # slurmrestd 22.05 gives n3 the partitions of node index 0 (["debug"]); ours are n3's.
        cmp = await differential.compare(self.cluster, "/slurm/v0.0.38/node/n3",
                                         deviations=True)
        self.assertEqual(cmp.ours["nodes"][0]["partitions"], ["debug", "long"])

    async def test_node_unknown(self):
        cmp = await self.same("/slurm/v0.0.38/node/nosuch", status=404)
        self.assertEqual(cmp.reference_status, 500)
        self.assertEqual(cmp.ours["errors"], cmp.reference["errors"])

    async def test_jobs(self):
        # Others may submit or finish jobs between the two requests: compare the jobs both saw
        # (pending and held ones by value, tests.differential.PENDING_MOMENT_DEPENDENT).
        cmp = await self.same("/slurm/v0.0.38/jobs", partial=True)
        ours = {j["job_id"]: j for j in cmp.ours["jobs"]}
        theirs = {j["job_id"]: j for j in cmp.reference["jobs"]}
        for job_id in (self.held, self.array, self.pending, self.detailed, self.fixture["het"]):
            self.assertEqual((ours[job_id]["job_state"], theirs[job_id]["job_state"]),
                             ("PENDING", "PENDING"))
        self.assertEqual(len(ours), len(cmp.ours["jobs"]))
        self.assert_schema(cmp, "jobs", "v0.0.38_job_response_properties")

    async def test_job(self):
        cmp = await self.same(f"/slurm/v0.0.38/job/{self.held}", strict=True,
                              ignore=("jobs/*/last_sched_evaluation",))
        self.assertEqual(cmp.ours["jobs"][0]["name"], differential.STANDING_JOB_NAME)
        self.assertEqual(cmp.ours["jobs"][0]["job_state"], "PENDING")
        self.assertEqual(cmp.ours["jobs"][0]["state_reason"], "JobHeldUser")

    async def test_detailed_job(self):
        # Held, with the optional values set that a plain job leaves unset: each by value.
        cmp = await self.same(f"/slurm/v0.0.38/job/{self.detailed}", strict=True,
                              ignore=differential.PENDING_MOMENT_DEPENDENT)
        self.assertEqual(cmp.ours["jobs"][0]["nice"], 5)

    async def test_pending_job(self):
        cmp = await self.same(f"/slurm/v0.0.38/job/{self.pending}", strict=True,
                              ignore=differential.PENDING_MOMENT_DEPENDENT)
        self.assertEqual(cmp.ours["jobs"][0]["state_reason"], "BeginTime")

    async def test_array(self):
        cmp = await self.same(f"/slurm/v0.0.38/job/{self.array}", strict=True,
                              ignore=("jobs/*/last_sched_evaluation",))
        meta = [j for j in cmp.ours["jobs"] if j["array_task_id"] is None]
        self.assertEqual(meta[0]["array_task_string"], "1-10%3")

    async def test_running_job(self):
        # A running job has job_resources (cores per socket per node): compared strictly.
        job_id = self.fixture["running"]
        cmp = await differential.compare(self.cluster, f"/slurm/v0.0.38/job/{job_id}",
                                         strict=True, ignore=("jobs/*/last_sched_evaluation",))
        differential.assert_same(self, cmp)
        resources = cmp.ours["jobs"][0]["job_resources"]
        self.assertEqual(resources["allocated_hosts"], 1)
        self.assertEqual(resources["allocated_cores"], 1)
        cores = [c for n in resources["allocated_nodes"] for s in n["sockets"].values()
                 for c in s["cores"].values()]
        self.assertEqual(len(cores), 1)

    async def test_het_job(self):
        leader = self.fixture["het"]
        cmp = await self.same(f"/slurm/v0.0.38/job/{leader}")
        self.assertEqual([j["het_job_offset"] for j in cmp.ours["jobs"]], [0, 1])
        # slurmrestd 22.05 cannot even parse a path with "+" (400); we answer the component,
        # the same record as the leader's list holds for it.
        cmp = await differential.compare(self.cluster, f"/slurm/v0.0.38/job/{leader}+1")
        self.assertEqual(cmp.reference_status, 400)
        self.assertEqual(cmp.our_status, 200)
        self.assertEqual([j["job_id"] for j in cmp.ours["jobs"]], [leader + 1])
        whole = await differential.compare(self.cluster, f"/slurm/v0.0.38/job/{leader}")
        component = differential.diff_documents(
            {"jobs": [whole.reference["jobs"][1]]}, {"jobs": cmp.ours["jobs"]},
            loose=differential.MOMENT_DEPENDENT, ignore=tuple(differential.KNOWN_DEVIATIONS))
        self.assertEqual(component, [])

    async def test_array_task(self):
        # slurmrestd 22.05 refuses every N_T (400); we answer it. Task 4 is still pending
        # inside the array's meta record: that is the record for it (as scontrol shows).
        cmp = await differential.compare(self.cluster, f"/slurm/v0.0.38/job/{self.array}_4")
        self.assertEqual(cmp.reference_status, 400)
        self.assertEqual(cmp.our_status, 200)
        self.assertEqual(cmp.ours["jobs"][0]["array_job_id"], self.array)

    async def test_job_bad_id(self):
        cmp = await self.same("/slurm/v0.0.38/job/abc")
        self.assertEqual(cmp.our_status, 400)

    async def test_job_unknown(self):
        cmp = await self.same("/slurm/v0.0.38/job/9999999", status=404)
        self.assertEqual(cmp.reference_status, 500)

    async def test_jobs_not_modified(self):
        await self.same("/slurm/v0.0.38/jobs?update_time=4000000000")

    async def test_not_modified_everywhere(self):
        for path in ("nodes", "partitions", "reservations", "partition/debug",
                     "reservation/maint"):
            cmp = await self.same(f"/slurm/v0.0.38/{path}?update_time=4000000000")
            self.assertEqual(cmp.our_status, 304, path)

    async def test_v1_is_v0_0_38(self):
        cmp = await differential.compare(self.cluster, "/slurm/v0.0.38/partitions",
                                         our_path="/slurm/v1/partitions")
        differential.assert_same(self, cmp)

    async def test_jobs_bad_update_time(self):
        cmp = await differential.compare(self.cluster, "/slurm/v0.0.38/jobs?update_time=abc")
        self.assertEqual(cmp.our_status, 400)
