"""Jobs: record → v0.0.38 job document (hand-built records first), job id parsing, the job list
cache, and GET /jobs, /job/{job_id} against the real test cluster (``SLURMREST_TEST_CLUSTER``)."""

from twisted.internet import defer
from twisted.trial import unittest

from slurmrest.api.state import ServerState
from slurmrest.api import job_records, jobs
from slurmrest.api.convert import INFINITE16, MEM_PER_CPU, NICE_OFFSET, NO_VAL, NO_VAL16
from slurmrest.api.registry import REGISTRY, ApiError
from slurmrest.api.runner import run
from tests.records import JOB_RECORD, Bitmap, decoded

# Job 17 of the reference samples (running, one core of n1) as RESPONSE_JOB_INFO decodes it.
JOB17 = decoded(JOB_RECORD, {
    "array_task_id": NO_VAL, "assoc_id": 6, "job_id": 17, "user_id": 2001, "group_id": 2001,
    "job_state": 1, "batch_flag": 1, "show_flags": 0x13, "alloc_sid": 1, "time_limit": 5,
    "nice": NICE_OFFSET, "submit_time": 1795587159, "eligible_time": 1795587159,
    "accrue_time": 1795587159, "start_time": 1795587159, "end_time": 1795587459,
    "last_sched_eval": 1795587159, "priority": 1, "billable_tres": 1.0,
    "cluster": "testcluster", "nodes": "n1", "partition": "debug", "account": "science",
    "site_factor": NICE_OFFSET, "batch_host": "n1", "qos": "normal",
    "job_resrcs": {
        "nhosts": 1, "ncpus": 1, "node_req": 1, "nodes": "n1", "whole_node": 0,
        "threads_per_core": 1, "cr_type": 0x14, "cpu_array_reps": [1], "cpu_array_value": [1],
        "cpus": [1], "cpus_used": [0], "memory_allocated": [100], "memory_used": [0],
        "sockets_per_node": [1], "cores_per_socket": [2], "sock_core_rep_count": [1],
        "core_bitmap": Bitmap(2, "0x1"), "core_bitmap_used": Bitmap(2, "0x0"),
    },
    "name": "rest-single", "user_name": "alice", "alloc_node": "127.0.0.1",
    "node_inx": Bitmap(4, "0x1"), "work_dir": "/var/lib/slurmtest/jobs", "num_cpus": 1,
    "num_nodes": 1, "requeue": 1, "num_tasks": 1, "shared": NO_VAL16, "cpu_freq_min": NO_VAL,
    "cpu_freq_max": NO_VAL, "cpu_freq_gov": NO_VAL, "core_spec": NO_VAL16, "cpus_per_task": 1,
    "pn_min_cpus": 1, "pn_min_memory": MEM_PER_CPU | 100,
    "std_out": "/var/lib/slurmtest/jobs/rest-%j.out",
    "multi_core": {"boards_per_node": 0, "sockets_per_board": 0, "sockets_per_node": NO_VAL16,
                   "cores_per_socket": NO_VAL16, "threads_per_core": NO_VAL16,
                   "ntasks_per_board": 0, "ntasks_per_socket": INFINITE16,
                   "ntasks_per_core": INFINITE16, "plane_size": 0},
    "bitflags": 0x40000 | 0x100000 | 0x100000000,
    "tres_alloc_str": "cpu=1,mem=100M,node=1,billing=1",
    "tres_req_str": "cpu=1,mem=100M,node=1,billing=1", "start_protocol_ver": 0x2600,
})


def job17(**changes) -> dict:
    """JOB17 with other values, as the decoder would give them."""
    return decoded(JOB_RECORD, JOB17, **changes)

# What the real slurmrestd 22.05.8 answered for it (reference sample GET /job/17).
JOB17_DOCUMENT = {'account': 'science',
                  'accrue_time': 1795587159,
                  'admin_comment': '',
                  'array_job_id': 0,
                  'array_task_id': None,
                  'array_max_tasks': 0,
                  'array_task_string': '',
                  'association_id': 6,
                  'batch_features': '',
                  'batch_flag': True,
                  'batch_host': 'n1',
                  'flags': ['JOB_ACCRUE_OVER', 'JOB_WAS_RUNNING'],
                  'burst_buffer': '',
                  'burst_buffer_state': '',
                  'cluster': 'testcluster',
                  'cluster_features': '',
                  'command': '',
                  'comment': '',
                  'container': '',
                  'contiguous': False,
                  'core_spec': None,
                  'thread_spec': None,
                  'cores_per_socket': None,
                  'billable_tres': 1.0,
                  'cpus_per_task': None,
                  'cpu_frequency_minimum': None,
                  'cpu_frequency_maximum': None,
                  'cpu_frequency_governor': None,
                  'cpus_per_tres': '',
                  'deadline': 0,
                  'delay_boot': 0,
                  'dependency': '',
                  'derived_exit_code': 0,
                  'eligible_time': 1795587159,
                  'end_time': 1795587459,
                  'excluded_nodes': '',
                  'exit_code': 0,
                  'features': '',
                  'federation_origin': '',
                  'federation_siblings_active': '',
                  'federation_siblings_viable': '',
                  'gres_detail': [],
                  'group_id': 2001,
                  'group_name': 'alice',
                  'job_id': 17,
                  'job_resources': {'nodes': 'n1',
                                    'allocated_cores': 1,
                                    'allocated_hosts': 1,
                                    'allocated_nodes': [{'sockets': {'0': {'cores': {'0': 'allocated'}}},
                                                         'nodename': 'n1',
                                                         'cpus_used': 0,
                                                         'memory_used': 0,
                                                         'memory_allocated': 100}]},
                  'job_state': 'RUNNING',
                  'last_sched_evaluation': 1795587159,
                  'licenses': '',
                  'max_cpus': 0,
                  'max_nodes': 0,
                  'mcs_label': '',
                  'memory_per_tres': '',
                  'name': 'rest-single',
                  'nodes': 'n1',
                  'nice': None,
                  'tasks_per_core': None,
                  'tasks_per_node': 0,
                  'tasks_per_socket': None,
                  'tasks_per_board': 0,
                  'cpus': 1,
                  'node_count': 1,
                  'tasks': 1,
                  'het_job_id': 0,
                  'het_job_id_set': '',
                  'het_job_offset': 0,
                  'partition': 'debug',
                  'prefer': '',
                  'memory_per_node': None,
                  'memory_per_cpu': 100,
                  'minimum_cpus_per_node': 1,
                  'minimum_tmp_disk_per_node': 0,
                  'preempt_time': 0,
                  'pre_sus_time': 0,
                  'priority': 1,
                  'profile': None,
                  'qos': 'normal',
                  'reboot': False,
                  'required_nodes': '',
                  'requeue': True,
                  'resize_time': 0,
                  'restart_cnt': 0,
                  'resv_name': '',
                  'shared': None,
                  'show_flags': ['SHOW_ALL', 'SHOW_DETAIL', 'SHOW_LOCAL'],
                  'sockets_per_board': 0,
                  'sockets_per_node': None,
                  'start_time': 1795587159,
                  'state_description': '',
                  'state_reason': 'None',
                  'standard_error': '',
                  'standard_input': '',
                  'standard_output': '/var/lib/slurmtest/jobs/rest-%j.out',
                  'submit_time': 1795587159,
                  'suspend_time': 0,
                  'system_comment': '',
                  'time_limit': 5,
                  'time_minimum': 0,
                  'threads_per_core': None,
                  'tres_bind': '',
                  'tres_freq': '',
                  'tres_per_job': '',
                  'tres_per_node': '',
                  'tres_per_socket': '',
                  'tres_per_task': '',
                  'tres_req_str': 'cpu=1,mem=100M,node=1,billing=1',
                  'tres_alloc_str': 'cpu=1,mem=100M,node=1,billing=1',
                  'user_id': 2001,
                  'user_name': 'alice',
                  'wckey': '',
                  'current_working_directory': '/var/lib/slurmtest/jobs'}


class JobDocumentTests(unittest.TestCase):
    def test_matches_slurmrestd_sample(self):
        doc = job_records.job_document(JOB17)
        expected = dict(JOB17_DOCUMENT)
        # Deliberate fix: slurmrestd reports cpus_per_task only when cpu_freq_min is set;
        # we always do, as the string its OpenAPI document declares.
        self.assertIsNone(expected["cpus_per_task"])
        expected["cpus_per_task"] = "1"
        self.assertEqual(doc, expected)

    def test_key_order_is_slurmrestds(self):
        self.assertEqual(list(job_records.job_document(JOB17)), list(JOB17_DOCUMENT))

    def test_pending_array_meta_record(self):
        rec = job17(job_state=0, array_job_id=20, job_id=20, array_task_id=NO_VAL,
                   array_task_str="0x7FE", array_max_tasks=2, job_resrcs=None, nodes=None,
                   state_reason=1, priority=0, nice=NICE_OFFSET + 10, num_tasks=NO_VAL)
        doc = job_records.job_document(rec)
        self.assertEqual(doc["array_task_string"], "1-10%2")
        self.assertIsNone(doc["array_task_id"])
        self.assertEqual(doc["job_state"], "PENDING")
        self.assertEqual(doc["state_reason"], "Priority")
        self.assertEqual(doc["nice"], 10)
        self.assertIsNone(doc["cpus"])
        self.assertIsNone(doc["tasks"])
        self.assertNotIn("job_resources", doc)

    def test_state_flags_take_precedence(self):
        doc = job_records.job_document(job17(job_state=3 | 0x8000))
        self.assertEqual(doc["job_state"], "COMPLETING")

    def test_special_values(self):
        doc = job_records.job_document(job17(
            core_spec=0x8000 | 2, pn_min_memory=2048, shared=0, contiguous=NO_VAL16,
            priority=NO_VAL, profile=0x1, time_limit=0xFFFFFFFF, cpu_freq_min=2000000,
            group_id=NO_VAL, user_name=None))
        self.assertEqual((doc["core_spec"], doc["thread_spec"]), (None, 2))
        self.assertEqual((doc["memory_per_node"], doc["memory_per_cpu"]), (2048, None))
        self.assertEqual(doc["shared"], "none")
        self.assertIsNone(doc["contiguous"])
        self.assertIsNone(doc["priority"])
        self.assertEqual(doc["profile"], ["None"])
        self.assertIsNone(doc["time_limit"])
        self.assertEqual(doc["cpu_frequency_minimum"], 2000000)
        self.assertIsNone(doc["group_id"])
        self.assertNotIn("group_name", doc)
        self.assertEqual(doc["user_name"], "alice")  # resolved locally from user_id

    def test_cpus_rather_than_cores(self):
        res = job_records.job_resources(JOB17["job_resrcs"], select_type_param=0x1 | 0x10)
        self.assertEqual(res["allocated_cpus"], 1)
        self.assertNotIn("allocated_cores", res)

    def test_allocated_cores_across_nodes(self):
        res = {"nhosts": 2, "ncpus": 3, "nodes": "n[3-4]", "cr_type": 0x14,
               "cpus_used": [0, 0], "memory_allocated": [100, 200], "memory_used": [0, 0],
               "sockets_per_node": [1], "cores_per_socket": [2], "sock_core_rep_count": [2],
               "core_bitmap": (4, "0xE"), "core_bitmap_used": (4, "0x4")}
        nodes = job_records.job_resources(res)["allocated_nodes"]
        self.assertEqual([n["nodename"] for n in nodes], ["n3", "n4"])
        self.assertEqual(nodes[0]["sockets"], {"0": {"cores": {"1": "allocated"}}})
        self.assertEqual(nodes[1]["sockets"],
                         {"0": {"cores": {"0": "allocated_and_in_use", "1": "allocated"}}})
        self.assertEqual(nodes[1]["memory_allocated"], 200)


class JobIdTests(unittest.TestCase):
    def test_forms(self):
        self.assertEqual(jobs.parse_job_id("123"), (123, None, None))
        self.assertEqual(jobs.parse_job_id("123_4"), (123, 4, None))
        self.assertEqual(jobs.parse_job_id("123+1"), (123, None, 1))

    def test_bad(self):
        for text in ("abc", "12abc", "0", "", "1_", "1+", "1_2_3", "-5", str(NO_VAL)):
            e = self.assertRaises(ApiError, jobs.parse_job_id, text)
            self.assertEqual(e.status, 400)
            self.assertEqual(e.errors[0]["error_number"], 9002)
            self.assertEqual(e.errors[0]["description"], f"Unable to find JobId={text}")


# -- against the real cluster --------------------------------------------------------------


def deferLater(seconds):
    from twisted.internet import reactor, task
    return task.deferLater(reactor, seconds, lambda: None)


class LiveJobTests(unittest.TestCase):
    """GET /jobs and /job/{id} handlers with the real slurmctld (wire client bound to a real
    token), on jobs these tests submit (held, named h5a-read)."""

    timeout = 90

    def setUp(self):
        from slurmrest.testing.cluster import Cluster
        from slurmrest.wire.client import SlurmctldClient
        from slurmrest.wire.conf import SlurmConfig
        from slurmrest.wire.credentials import Credential

        self.cluster = Cluster.from_environment()
        self.client = SlurmctldClient(SlurmConfig.load(self.cluster.slurm_conf))
        self.tokens = {}
        self.server = ServerState()

        def as_user(user):
            if user not in self.tokens:
                self.tokens[user] = self.cluster.token(user)
            return self.client.bind(Credential(self.tokens[user], user))

        self.as_user = as_user

    def call(self, user="alice", **params):
        from slurmrest.api.registry import Call
        return Call(params=params, user=user, slurmctld=self.as_user(user), state=self.server)

    def submit(self, *extra):
        job_id = self.cluster.submit("true", name="h5a-read", extra=["--hold", "-t", "5",
                                                                    *extra])
        self.addCleanup(self.cluster.cancel, job_id)
        return job_id

    async def settled(self):
        """Two GET /jobs in a row answered with the very same document: the cache at work.
        (Others' jobs and the scheduler change the queue at times, so a few tries.)"""
        from slurmrest.api import job_cache
        cache = self.call().state[job_cache.JOBS]
        for _ in range(40):
            first = await jobs.get_jobs(self.call())
            hits = cache.hits
            again = await jobs.get_jobs(self.call())
            if again is first:
                self.assertEqual(cache.hits, hits + 1)
                return first
            await deferLater(0.25)
        self.fail("GET /jobs never answered twice from the cache in 10 s")

    async def test_jobs_cached_until_slurm_reports_a_change(self):
        job_id = self.submit()
        first = await self.settled()
        mine = [j for j in first.payload["jobs"] if j["job_id"] == job_id]
        self.assertEqual(mine[0]["name"], "h5a-read")
        self.assertEqual(mine[0]["job_state"], "PENDING")
        self.cluster.run(["scontrol", "update", f"JobId={job_id}", "Comment=h5a-changed"])
        changed = await jobs.get_jobs(self.call())
        self.assertFalse(changed is first, "a changed queue answered from the cache")
        mine = [j for j in changed.payload["jobs"] if j["job_id"] == job_id]
        self.assertEqual(mine[0]["comment"], "h5a-changed")

    async def test_jobs_per_user(self):
        first = await jobs.get_jobs(self.call("alice"))
        other = await jobs.get_jobs(self.call("bob"))
        self.assertIsNot(other, first)

    async def test_a_bad_token_never_rides_on_anothers_refresh(self):
        # Tokens passed through unchecked (no jwt_key in the server): a request naming alice
        # with a forged token, made while alice's own refresh is in flight, must be refused by
        # slurmctld, not answered from alice's refresh or cache.
        from slurmrest.api.registry import Call
        from slurmrest.wire.credentials import Credential
        from slurmrest.wire.errors import CommunicationError

        forged = Call(params={}, user="alice", state=self.server,
                      slurmctld=self.client.bind(Credential("forged.token.value", "alice")))
        honest = defer.ensureDeferred(jobs.get_jobs(self.call("alice")))
        refused = defer.ensureDeferred(jobs.get_jobs(forged))
        self.assertIn("jobs", (await honest).payload)
        with self.assertRaises(CommunicationError):
            await refused
        with self.assertRaises(CommunicationError):  # also once alice's list is cached
            await jobs.get_jobs(forged)

    async def test_jobs_not_modified_with_update_time(self):
        from slurmrest.api.registry import NotModified
        with self.assertRaises(NotModified):
            await jobs.get_jobs(self.call(update_time=4_000_000_000))
        doc = await jobs.get_jobs(self.call(update_time=1))
        self.assertIsInstance(doc.payload["jobs"], list)
        # That full answer is now the cached one.
        from slurmrest.api import job_cache
        self.assertEqual(self.call().state[job_cache.JOBS].rebuilds, 1)

    async def test_job_and_unknown_job(self):
        job_id = self.submit()
        doc = await jobs.get_job(self.call(job_id=str(job_id)))
        self.assertEqual([j["job_id"] for j in doc["jobs"]], [job_id])
        self.assertEqual(doc["jobs"][0]["state_reason"], "JobHeldUser")
        self.assertEqual(doc["jobs"][0]["user_name"], "alice")
        self.assertEqual(doc["jobs"][0]["group_name"], "alice")
        missing = await run(REGISTRY.find("get_job"), self.call(job_id="60000000"))
        self.assertEqual(missing.status, 404)
        self.assertEqual(missing.errors[0]["error_number"], 2017)

    async def test_array_tasks(self):
        array = self.submit("--array=1-6%2")
        # Split tasks 1-2 into records of their own; 3-6 stay in the meta record.
        self.cluster.run(["scontrol", "update", f"JobId={array}_[1-2]", "Comment=split"])
        whole = await jobs.get_job(self.call(job_id=str(array)))
        self.assertEqual(len(whole["jobs"]), 3)
        task2 = await jobs.get_job(self.call(job_id=f"{array}_2"))
        self.assertEqual([(j["array_job_id"], j["array_task_id"]) for j in task2["jobs"]],
                         [(array, 2)])
        task5 = await jobs.get_job(self.call(job_id=f"{array}_5"))
        self.assertEqual(task5["jobs"][0]["array_task_string"], "3-6%2")
        self.assertIsNone(task5["jobs"][0]["array_task_id"])
        absent = await run(REGISTRY.find("get_job"), self.call(job_id=f"{array}_9"))
        self.assertEqual(absent.status, 404)

    async def test_het_job_components(self):
        out = self.cluster.run(
            ["sbatch", "--parsable", "-J", "h5a-read", "--hold", "-t", "5", "-o", "/dev/null",
             "-n1", "-p", "debug", ":", "-n2", "-p", "long", "--wrap", "true"], user="alice")
        leader = int(out.stdout.strip().split(";")[0])
        self.addCleanup(self.cluster.cancel, leader)
        whole = await jobs.get_job(self.call(job_id=str(leader)))
        self.assertEqual([j["het_job_offset"] for j in whole["jobs"]], [0, 1])
        self.assertEqual({j["het_job_id"] for j in whole["jobs"]}, {leader})
        second = await jobs.get_job(self.call(job_id=f"{leader}+1"))
        self.assertEqual([(j["job_id"], j["het_job_offset"], j["partition"])
                          for j in second["jobs"]], [(leader + 1, 1, "long")])
        first = await jobs.get_job(self.call(job_id=f"{leader}+0"))
        self.assertEqual([j["job_id"] for j in first["jobs"]], [leader])


class JobSchemaTests(unittest.TestCase):
    def test_documents_match_the_declared_schema(self):
        from tests.differential import schema_mismatches
        for rec in (JOB17, job17(job_resrcs=None, array_task_id=3, group_id=NO_VAL)):
            self.assertEqual(schema_mismatches(job_records.job_document(rec),
                                               job_records.JOB_SCHEMA), [])
        bad = dict(job_records.job_document(JOB17), job_id="17", surprise=1)
        self.assertEqual(sorted(schema_mismatches(bad, job_records.JOB_SCHEMA)),
                         ["job_id: string, schema says integer", "surprise: not in the schema"])
