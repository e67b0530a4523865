"""Partitions: record → v0.0.38 document (hand-built records first), and the operations against
the real test cluster when ``SLURMREST_TEST_CLUSTER`` is set."""

from twisted.internet import defer
from twisted.trial import unittest

from slurmrest.api.state import ServerState
from slurmrest.api import partitions
from slurmrest.api.convert import INFINITE, MEM_PER_CPU, NO_VAL, NO_VAL16
from slurmrest.api.registry import REGISTRY, ApiError, Call, NotModified
from slurmrest.api.runner import run
from tests.records import PARTITION_RECORD, Bitmap, decoded

# The test cluster's partition "debug" as RESPONSE_PARTITION_INFO decodes it (§5.7).
DEBUG = decoded(PARTITION_RECORD, {
    "name": "debug", "max_time": 60, "default_time": 10, "max_nodes": INFINITE,
    "total_nodes": 4, "total_cpus": 8, "max_cpus_per_node": INFINITE, "flags": 0x1,
    "max_share": 1, "over_time_limit": NO_VAL16, "priority_job_factor": 1, "priority_tier": 1,
    "state_up": 3, "resume_timeout": NO_VAL16, "suspend_timeout": NO_VAL16,
    "suspend_time": NO_VAL, "nodes": "n[1-4]", "node_inx": Bitmap(4, "0xF"),
    "tres_fmt_str": "cpu=8,mem=8000M,node=4,billing=8",
})


def debug(**changes) -> dict:
    """DEBUG with other values, as the decoder would give them."""
    return decoded(PARTITION_RECORD, DEBUG, **changes)

# What the real slurmrestd 22.05.8 answered for it (reference sample, meta removed).
DEBUG_DOCUMENT = {
    "flags": ["default"], "preemption_mode": ["disabled"], "allowed_allocation_nodes": "",
    "allowed_accounts": "", "allowed_groups": "", "allowed_qos": "", "alternative": "",
    "billing_weights": "", "default_memory_per_cpu": None, "default_memory_per_node": None,
    "default_time_limit": 10, "denied_accounts": "", "denied_qos": "",
    "preemption_grace_time": 0, "maximum_cpus_per_node": -1, "maximum_memory_per_cpu": None,
    "maximum_memory_per_node": None, "maximum_nodes_per_job": -1, "max_time_limit": 60,
    "min nodes per job": 0, "name": "debug", "nodes": "n[1-4]", "over_time_limit": None,
    "priority_job_factor": 1, "priority_tier": 1, "qos": "", "state": "UP", "total_cpus": 8,
    "total_nodes": 4, "tres": "cpu=8,mem=8000M,node=4,billing=8",
}


class PartitionDocumentTests(unittest.TestCase):
    def test_matches_slurmrestd_sample(self):
        self.assertEqual(partitions.partition_document(DEBUG), DEBUG_DOCUMENT)

    def test_memory_limits(self):
        doc = partitions.partition_document(debug(def_mem_per_cpu=MEM_PER_CPU | 512,
                                                 max_mem_per_cpu=4096))
        self.assertEqual((doc["default_memory_per_cpu"], doc["default_memory_per_node"]),
                         (512, None))
        self.assertEqual((doc["maximum_memory_per_cpu"], doc["maximum_memory_per_node"]),
                         (None, 4096))
        # MEM_PER_CPU alone is "unlimited per CPU": null, like slurmrestd.
        doc = partitions.partition_document(debug(def_mem_per_cpu=MEM_PER_CPU))
        self.assertIsNone(doc["default_memory_per_cpu"])

    def test_flags_states_preemption(self):
        doc = partitions.partition_document(debug(flags=0x2 | 0x10 | 0x40, state_up=2,
                                                 preempt_mode=0x8000 | 0x1))
        self.assertEqual(doc["flags"], ["hidden", "reservation_required", "exclusive_user"])
        self.assertEqual(doc["state"], "DRAIN")
        self.assertEqual(doc["preemption_mode"], ["suspend", "gang_schedule"])
        doc = partitions.partition_document(debug(state_up=1, preempt_mode=NO_VAL16))
        self.assertEqual(doc["state"], "DOWN")
        self.assertEqual(doc["preemption_mode"], ["disabled"])

    def test_unlimited_and_unset_times(self):
        doc = partitions.partition_document(debug(default_time=NO_VAL, max_time=INFINITE,
                                                 over_time_limit=5, max_nodes=2))
        self.assertIsNone(doc["default_time_limit"])
        self.assertEqual(doc["max_time_limit"], -1)
        self.assertEqual(doc["over_time_limit"], 5)
        self.assertEqual(doc["maximum_nodes_per_job"], 2)
        doc = partitions.partition_document(debug(default_time=INFINITE))
        self.assertEqual(doc["default_time_limit"], -1)


class PartitionSchemaTests(unittest.TestCase):
    def test_document_matches_the_declared_schema(self):
        from tests.differential import schema_mismatches
        for rec in (DEBUG, debug(default_time=NO_VAL, def_mem_per_cpu=MEM_PER_CPU | 5)):
            self.assertEqual(schema_mismatches(partitions.partition_document(rec),
                                               partitions.PARTITION_SCHEMA), [])


class ScriptedController:
    """Stands for slurmctld's partition RPC (the real one: ``test_api_nodes``'
    ``LiveCachedReadsTests``): answers each ``last_update`` from a script, ``None`` meaning
    SLURM_NO_CHANGE_IN_DATA."""

    def __init__(self, credential, *replies):
        self.credential = credential
        self.replies = list(replies)
        self.asked = []

    async def partitions(self, update_time=0):
        from slurmrest.wire.errors import NoChange
        self.asked.append(update_time)
        reply = self.replies.pop(0)
        if reply is None:
            raise NoChange(1900)
        return reply


class CachedPartitionsTests(unittest.TestCase):
    """GET /partitions and /partition/{name} from the per-user cache: the same Result (and
    single-item Result) while slurmctld says unchanged, rebuilt when it changed, the caller's
    own update_time still a 304."""

    def setUp(self):
        self.server = ServerState()
        self.server.build_info.update({"version": "22.05.8"})  # known: the runner asks no more

    def call(self, ctld, user="alice", **params):
        return Call(params=params, body=None, user=user, slurmctld=ctld, state=self.server)

    def answer(self, handler, call):
        return self.successResultOf(defer.ensureDeferred(
            run(REGISTRY.find(handler.__name__), call)))

    def test_reused_while_unchanged(self):
        first = {"last_update": 100, "records": [DEBUG]}
        changed = {"last_update": 200, "records": [debug(max_time=30)]}
        ctld = ScriptedController("t", first, None, None, None, changed)
        a = self.answer(partitions.get_partitions, self.call(ctld))
        self.assertEqual(a.payload, {"partitions": [DEBUG_DOCUMENT]})
        self.assertIs(self.answer(partitions.get_partitions, self.call(ctld)), a)
        one = self.answer(partitions.get_partition, self.call(ctld, partition_name="DEBUG"))
        self.assertEqual(one.payload, {"partitions": [DEBUG_DOCUMENT]})
        self.assertIs(self.answer(partitions.get_partition,
                               self.call(ctld, partition_name="debug")), one)
        b = self.answer(partitions.get_partitions, self.call(ctld))
        self.assertEqual(b.payload["partitions"][0]["max_time_limit"], 30)
        self.assertEqual(ctld.asked, [0, 100, 100, 100, 100])

    def test_missing_partition_is_404(self):
        ctld = ScriptedController("t", {"last_update": 1, "records": [DEBUG]})
        result = self.answer(partitions.get_partition, self.call(ctld, partition_name="nosuch"))
        self.assertEqual((result.status, result.payload), (404, {"partitions": []}))
        self.assertEqual(result.errors[0]["errno"], 2000)

    def test_callers_update_time(self):
        ctld = ScriptedController("t", None, {"last_update": 100, "records": [DEBUG]}, None)
        d = defer.ensureDeferred(partitions.get_partitions(self.call(ctld, update_time=50)))
        self.failureResultOf(d, NotModified)
        full = self.answer(partitions.get_partitions, self.call(ctld, update_time=40))
        # The full answer to the caller's own time is what the cache now holds.
        self.assertIs(self.answer(partitions.get_partitions, self.call(ctld)), full)
        self.assertEqual(ctld.asked, [50, 40, 100])

    def test_per_user(self):
        ctld = ScriptedController("t", {"last_update": 1, "records": [DEBUG]},
                                  {"last_update": 1, "records": []})
        alice = self.answer(partitions.get_partitions, self.call(ctld))
        bob = self.answer(partitions.get_partitions, self.call(ctld, user="bob"))
        self.assertEqual((len(alice.payload["partitions"]), bob.payload), (1, {"partitions": []}))
        self.assertEqual(ctld.asked, [0, 0])
