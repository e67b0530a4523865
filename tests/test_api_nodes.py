"""Nodes: record → v0.0.38 document (hand-built records first), node update messages, and the
operations against the real test cluster (``SLURMREST_TEST_CLUSTER``)."""

import time
import uuid

from twisted.internet import defer, reactor
from twisted.internet.task import deferLater
from twisted.trial import unittest

from slurmrest.api.state import ServerState
from slurmrest.api import nodes
from slurmrest.api.convert import NO_VAL, NO_VAL64
from slurmrest.api.registry import REGISTRY, ApiError
from slurmrest.api.runner import run
from tests.records import NODE_RECORD, PARTITION_RECORD, Bitmap, decoded

# Node n1 of the test cluster as RESPONSE_NODE_INFO decodes it (§5.6), running one 1-CPU job.
N1 = decoded(NODE_RECORD, {
    "name": "n1", "node_hostname": "localhost", "node_addr": "127.0.0.1", "port": 6831,
    "next_state": NO_VAL, "node_state": 3, "version": "22.05.8", "cpus": 2, "boards": 1,
    "sockets": 1, "cores": 2, "threads": 1, "real_memory": 2000, "owner": NO_VAL,
    "cpus_efctv": 2, "cpu_load": 21, "free_mem": 22860, "weight": 1, "reason_uid": NO_VAL,
    "boot_time": 1795582601, "last_busy": 1795587156, "slurmd_start_time": 1795587008,
    "select_nodeinfo": {"plugin_id": 109, "alloc_cpus": 1, "alloc_memory": 100,
                        "tres_alloc_fmt_str": "cpu=1,mem=100M", "tres_alloc_weighted": 1.0},
    "arch": "x86_64", "gres_drain": "N/A",
    "os": "Linux 6.18.44-fc-v595 #1 SMP PREEMPT_DYNAMIC @0",
    "tres_fmt_str": "cpu=2,mem=2000M,billing=2",
})


def n1(**changes) -> dict:
    """N1 with other values, as the decoder would give them."""
    return decoded(NODE_RECORD, N1, **changes)

# What the real slurmrestd 22.05.8 answered for it (reference sample, meta removed).
N1_DOCUMENT = {
    "architecture": "x86_64", "burstbuffer_network_address": "", "boards": 1,
    "boot_time": 1795582601, "comment": "", "cores": 2, "cpu_binding": 0, "cpu_load": 21,
    "extra": "", "free_memory": 22860, "cpus": 2, "last_busy": 1795587156, "features": "",
    "active_features": "", "gres": "", "gres_drained": "N/A", "gres_used": "",
    "mcs_label": "", "name": "n1", "next_state_after_reboot": "invalid",
    "address": "127.0.0.1", "hostname": "localhost", "state": "mixed", "state_flags": [],
    "next_state_after_reboot_flags": [],
    "operating_system": "Linux 6.18.44-fc-v595 #1 SMP PREEMPT_DYNAMIC @0", "owner": None,
    "partitions": ["debug"], "port": 6831, "real_memory": 2000, "reason": "",
    "reason_changed_at": 0, "reason_set_by_user": None, "slurmd_start_time": 1795587008,
    "sockets": 1, "threads": 1, "temporary_disk": 0, "weight": 1,
    "tres": "cpu=2,mem=2000M,billing=2", "slurmd_version": "22.05.8", "alloc_memory": 100,
    "alloc_cpus": 1, "idle_cpus": 1, "tres_used": "cpu=1,mem=100M", "tres_weighted": 1.0,
}


class NodeDocumentTests(unittest.TestCase):
    def test_matches_slurmrestd_sample(self):
        doc = nodes.node_document(N1, ["debug"])
        self.assertEqual(doc, N1_DOCUMENT)
        self.assertEqual(list(doc), list(N1_DOCUMENT))

    def test_mixed_only_when_partly_allocated(self):
        full = n1(select_nodeinfo=dict(N1["select_nodeinfo"], alloc_cpus=2))
        self.assertEqual(nodes.node_document(full, [])["state"], "allocated")
        idle = n1(node_state=2, select_nodeinfo=dict(N1["select_nodeinfo"], alloc_cpus=0))
        self.assertEqual(nodes.node_document(idle, [])["state"], "idle")

    def test_flags_and_reason(self):
        rec = n1(node_state=2 | 0x200 | 0x800, reason="disk", reason_uid=0, next_state=2,
                 owner=0, select_nodeinfo=dict(N1["select_nodeinfo"], alloc_cpus=0))
        doc = nodes.node_document(rec, [])
        self.assertEqual(doc["state"], "idle")
        self.assertEqual(doc["state_flags"], ["DRAIN", "NOT_RESPONDING"])
        self.assertEqual(doc["reason"], "disk")
        self.assertEqual(doc["reason_set_by_user"], "root")
        self.assertEqual(doc["owner"], "root")
        self.assertEqual(doc["next_state_after_reboot"], "idle")

    def test_partitions_from_node_index_bitmaps(self):
        parts = [decoded(PARTITION_RECORD, name="debug", node_inx=Bitmap(4, "0xF")),
                 decoded(PARTITION_RECORD, name="long", node_inx=Bitmap(4, "0xC"))]
        self.assertEqual(nodes.node_partitions(parts),
                         {0: ["debug"], 1: ["debug"], 2: ["debug", "long"],
                          3: ["debug", "long"]})


class UpdateNodeMessageTests(unittest.TestCase):
    def test_fields(self):
        msg = nodes.update_node_msg("n[1-2]", {
            "state": ["DRAIN"], "reason": "maintenance", "features": ["a", "b"],
            "weight": 5, "comment": "c", "gres": "", "extra": "x", "features_act": "a"})
        self.assertEqual(msg, {"node_names": "n[1-2]", "node_state": 0x200,
                               "reason": "maintenance", "features": "a,b", "weight": 5,
                               "comment": "c", "gres": "", "extra": "x",
                               "features_act": "a"})

    def test_state_words(self):
        self.assertEqual(nodes.parse_node_state("resume"), 0x100)
        self.assertEqual(nodes.parse_node_state(["POWER_DOWN", "POWER_DOWN_FORCE"]),
                         0x800000 | 0x1000)
        self.assertEqual(nodes.parse_node_state("UNDRAIN"), 0x40)
        self.assertEqual(nodes.parse_node_state("DOWN"), 1)

    def test_bad_state(self):
        e = self.assertRaises(ApiError, nodes.update_node_msg, "n1", {"state": "SLEEPY"})
        self.assertEqual(e.status, 400)
        self.assertEqual(e.errors[0]["error_number"], 2028)
        self.assertEqual(e.errors[0]["error"], "Invalid node state specified")

    def test_unknown_field_and_types(self):
        for body in ({"colour": "red"}, {"weight": "heavy"}, {"weight": -1}, {"reason": 3},
                     {"state": []}, [], {"weight": True}):
            e = self.assertRaises(ApiError, nodes.update_node_msg, "n1", body)
            self.assertEqual(e.status, 400, body)


# -- against the real cluster --------------------------------------------------------------


class LiveNodeTests(unittest.TestCase):
    """The node operations with the real slurmctld (handlers called directly, the wire client
    bound to a real token)."""

    timeout = 60

    def setUp(self):
        from slurmrest.testing.cluster import Cluster
        from slurmrest.wire.client import SlurmctldClient
        from slurmrest.wire.conf import SlurmConfig
        from slurmrest.wire.credentials import Credential

        self.cluster = Cluster.from_environment()
        client = SlurmctldClient(SlurmConfig.load(self.cluster.slurm_conf))

        def as_user(user):
            return client.bind(Credential(self.cluster.token(user), user))

        self.as_user = as_user

    def call(self, user, **params):
        from slurmrest.api.registry import Call
        body = params.pop("body", None)
        return Call(params=params, body=body, user=user, slurmctld=self.as_user(user))

    async def test_nodes_and_partitions(self):
        doc = await nodes.get_nodes(self.call("alice"))
        by_name = {n["name"]: n for n in doc.payload["nodes"]}
        self.assertEqual(sorted(by_name), ["n1", "n2", "n3", "n4"])
        self.assertEqual(by_name["n1"]["partitions"], ["debug"])
        self.assertEqual(by_name["n4"]["partitions"], ["debug", "long"])
        self.assertEqual(by_name["n2"]["cpus"], 2)
        self.assertIn(by_name["n2"]["state"], ("idle", "mixed", "allocated", "down"))

    async def test_not_modified(self):
        from slurmrest.api.registry import NotModified
        with self.assertRaises(NotModified):
            await nodes.get_nodes(self.call("alice", update_time=4_000_000_000))

    async def test_unknown_node(self):
        result = await run(REGISTRY.find("get_node"), self.call("alice", node_name="h5a-nosuch"))
        self.assertEqual(result.status, 404)
        self.assertEqual(result.errors, [{"error": "Invalid node name specified", "errno": 2018}])

    async def test_update_needs_an_administrator(self):
        with self.assertRaises(ApiError) as ctx:
            await run(REGISTRY.find("update_node"),
                      self.call("alice", node_name="n4", body={"comment": "alice was here"}))
        self.assertEqual(ctx.exception.status, 403)
        self.assertIn(ctx.exception.errors[0]["error_number"], (2002, 2010))

    async def test_update_comment_as_root(self):
        call = self.call("root", node_name="n4", body={"comment": "h5a test comment"})
        self.addCleanup(lambda: defer.ensureDeferred(nodes.update_node(
            self.call("root", node_name="n4", body={"comment": ""}))))
        self.assertEqual(await nodes.update_node(call), {})
        doc = await nodes.get_node(self.call("alice", node_name="n4"))
        self.assertEqual(doc.payload["nodes"][0]["comment"], "h5a test comment")

    async def test_invalid_state_from_slurm(self):
        # MIXED is a word we know, but not a state one may set: slurmctld refuses it.
        with self.assertRaises(ApiError) as ctx:
            await run(REGISTRY.find("update_node"),
                      self.call("root", node_name="n4", body={"state": "MIXED"}))
        self.assertEqual(ctx.exception.status, 400)
        self.assertEqual(ctx.exception.errors[0]["error_number"], 2028)

    async def test_update_unknown_node(self):
        with self.assertRaises(ApiError) as ctx:
            await run(REGISTRY.find("update_node"),
                      self.call("root", node_name="h5a-nosuch", body={"comment": "x"}))
        self.assertEqual(ctx.exception.status, 404)

    async def test_delete_unknown_node(self):
        # Passed through: slurmctld answers ESLURM_INVALID_NODE_NAME with its own text.
        with self.assertRaises(ApiError) as ctx:
            await run(REGISTRY.find("delete_node"), self.call("root", node_name="h5a-nosuch"))
        self.assertEqual(ctx.exception.status, 404)
        error = ctx.exception.errors[0]
        self.assertEqual((error["error_number"], error["error"]),
                         (2018, "Invalid node name specified"))
        self.assertEqual(error["description"], "failed to delete nodes h5a-nosuch")


NO_ROOM = ("the test cluster has no room for a dynamic node: its slurm.conf needs "
           "MaxNodeCount above the number of configured nodes (python -m "
           "slurmrest.testing.cluster sets it; testcluster.sh does not)")


class LiveDynamicNodeTests(unittest.TestCase):
    """Node update and delete over HTTP (slurmrest in this process), end to end: dynamic
    nodes made with ``scontrol create`` and checked with scontrol and sinfo. Needs a cluster
    with MaxNodeCount (room for dynamic nodes); fails, not skips, without."""

    timeout = 120

    def setUp(self):
        from slurmrest.testing.cluster import Cluster
        from slurmrest.wire.client import SlurmctldClient
        from slurmrest.wire.conf import SlurmConfig
        from slurmrest.wire.credentials import Credential
        from tests import differential

        self.cluster = Cluster.from_environment()
        self.tag = f"n1-{uuid.uuid4().hex[:8]}"
        self.ctld = SlurmctldClient(SlurmConfig.load(self.cluster.slurm_conf)).bind(
            Credential(self.cluster.token("root"), "root"))
        self.addCleanup(lambda: defer.ensureDeferred(differential.stop_ours()))

    # -- helpers ---------------------------------------------------------------------------
    async def http(self, method, path, user="root", body=None):
        """``method /slurm/v0.0.38path`` as ``user``: (status, document)."""
        import json

        import treq

        from tests import differential

        base = await differential.start_ours(self.cluster)
        headers = {"X-SLURM-USER-NAME": user, "X-SLURM-USER-TOKEN": self.cluster.token(user)}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        response = await treq.request(method, f"{base}/slurm/v0.0.38{path}", headers=headers,
                                      data=data, persistent=False)
        return response.code, json.loads(await response.content())

    async def blank_slots(self, show_flags):
        """Records of the node table without a name (empty slots, hidden nodes)."""
        reply = await self.ctld.nodes(0, show_flags=show_flags)
        return [rec for rec in reply["records"] if rec.get("name") is None], reply["records"]

    def scontrol_node(self, name):
        """``scontrol --future show node NAME``: the CompletedProcess (FUTURE nodes too)."""
        return self.cluster.run(["scontrol", "--future", "-o", "show", "node", name],
                                check=False)

    async def make_dynamic_node(self, suffix=""):
        """A FUTURE dynamic node (deleted again at cleanup); fails without room for one."""
        blank, _ = await self.blank_slots(0x1 | 0x2 | 0x80)  # ALL, DETAIL, FUTURE
        if not blank:
            self.fail(NO_ROOM)
        name = f"dyn-{self.tag}{suffix}"
        # Port 9 (discard) on loopback: nothing answers there; a resumed node is deleted long
        # before slurmctld would give up on it (SlurmdTimeout).
        self.cluster.run(["scontrol", "create", f"NodeName={name}", "CPUs=1", "RealMemory=100",
                          "NodeAddr=127.0.0.1", "NodeHostname=localhost", "Port=9",
                          "State=FUTURE"])
        self.addCleanup(self.delete_left_over, name)
        proc = self.scontrol_node(name)
        if proc.returncode != 0:  # create_nodes says success even when the table is full
            self.fail(f"scontrol create made no node {name} ({proc.stdout.strip()}); " + NO_ROOM)
        return name

    def delete_left_over(self, name):
        """Cleanup: delete the node if the test did not; retried while slurmctld still counts
        it reserved (that flag is refreshed every 5 s). A node left behind would use up the
        cluster's room for dynamic nodes, so that is an error."""
        deadline = time.monotonic() + 20
        while self.scontrol_node(name).returncode == 0:
            proc = self.cluster.run(["scontrol", "delete", f"nodename={name}"], check=False)
            if proc.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"dynamic node {name} left behind: {proc.stderr.strip()}")
            time.sleep(0.5)

    async def node_names(self):
        status, doc = await self.http("GET", "/nodes", user="alice")
        self.assertEqual(status, 200, doc)
        return [n["name"] for n in doc["nodes"]]

    def wait_for(self, predicate, what, timeout=30, interval=0.5):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                self.fail(f"not {what} after {timeout}s")
            time.sleep(interval)

    # -- the tests -------------------------------------------------------------------------
    async def test_get_nodes_skips_blank_slots(self):
        blank, records = await self.blank_slots(0x1 | 0x2)
        if not blank:
            self.fail(NO_ROOM)
        named = sorted(rec["name"] for rec in records if rec.get("name") is not None)
        names = await self.node_names()
        self.assertNotIn(None, names)
        self.assertNotIn("", names)
        self.assertEqual(sorted(names), named)
        self.assertTrue({"n1", "n2", "n3", "n4"} <= set(names), names)
        # The partitions' node index bitmaps span the blank slots too.
        status, doc = await self.http("GET", "/node/n4", user="alice")
        self.assertEqual((status, doc["nodes"][0]["partitions"]), (200, ["debug", "long"]))

    async def test_delete_dynamic_node_as_root(self):
        name = await self.make_dynamic_node()
        # FUTURE nodes are hidden from node info: resume it (through the API) to see it go.
        status, doc = await self.http("POST", f"/node/{name}", body={"state": "RESUME"})
        self.assertEqual(status, 200, doc)
        self.assertIn(name, await self.node_names())
        status, doc = await self.http("DELETE", f"/node/{name}")
        self.assertEqual((status, doc["errors"]), (200, []))
        proc = self.scontrol_node(name)
        self.assertNotEqual(proc.returncode, 0, proc.stdout)
        self.assertIn(f"Node {name} not found", proc.stdout + proc.stderr)
        self.assertNotIn(name, await self.node_names())
        status, doc = await self.http("GET", f"/node/{name}", user="alice")
        self.assertEqual(status, 404, doc)

    async def test_delete_a_node_list(self):
        # Slurm reads a node list there: one request deletes both.
        first, second = await self.make_dynamic_node("-1"), await self.make_dynamic_node("-2")
        status, doc = await self.http("DELETE", f"/node/dyn-{self.tag}-%5B1-2%5D")
        self.assertEqual((status, doc["errors"]), (200, []))
        for name in (first, second):
            self.assertNotEqual(self.scontrol_node(name).returncode, 0, name)

    async def test_delete_a_partly_refused_list(self):
        # Slurm deletes what it can and answers with the refusal of the rest.
        name = await self.make_dynamic_node()
        status, doc = await self.http("DELETE", f"/node/{name},nosuch-{self.tag}")
        self.assertEqual(status, 404, doc)
        self.assertEqual(doc["errors"][0]["description"],
                         f"failed to delete nodes nosuch-{self.tag}")
        self.assertNotEqual(self.scontrol_node(name).returncode, 0, name)

    async def test_delete_needs_an_administrator(self):
        name = await self.make_dynamic_node()
        status, doc = await self.http("DELETE", f"/node/{name}", user="alice")
        self.assertEqual(status, 403, doc)
        self.assertEqual(doc["errors"][0]["error_number"], 2010)  # ESLURM_USER_ID_MISSING
        self.assertEqual(self.scontrol_node(name).returncode, 0)

    async def test_delete_unknown_node(self):
        status, doc = await self.http("DELETE", f"/node/nosuch-{self.tag}")
        self.assertEqual(status, 404, doc)
        self.assertEqual(doc["errors"][0]["error_number"], 2018)
        self.assertEqual(doc["errors"][0]["description"],
                         f"failed to delete nodes nosuch-{self.tag}")

    async def test_delete_reserved_node_is_busy(self):
        name = await self.make_dynamic_node()
        resv = f"resv-{self.tag}"
        self.cluster.run(["scontrol", "create", "reservation", f"ReservationName={resv}",
                          f"Nodes={name}", "StartTime=now", "Duration=10", "Users=root",
                          "Flags=ignore_jobs"])
        self.addCleanup(self.cluster.run, ["scontrol", "delete", f"reservation={resv}"],
                        check=False)
        # slurmctld flags the nodes of active reservations every 5 seconds.
        self.wait_for(lambda: "RESERVED" in self.scontrol_node(name).stdout,
                      f"{name} flagged RESERVED")
        status, doc = await self.http("DELETE", f"/node/{name}")
        self.assertEqual(status, 409, doc)
        error = doc["errors"][0]
        self.assertEqual((error["error_number"], error["error"]),
                         (2016, "Requested nodes are busy"))
        self.assertEqual(error["description"], f"failed to delete nodes {name}")
        self.assertEqual(self.scontrol_node(name).returncode, 0)

    async def test_drain_and_resume(self):
        reason = f"slurmrest-api-test {self.tag}"

        def states():
            out = self.cluster.run(["sinfo", "-N", "-n", "n4", "-h", "-o", "%T"]).stdout
            return set(out.split())

        def reasons():
            return self.cluster.run(["sinfo", "-R", "-N", "-n", "n4", "-h", "-o", "%E"]).stdout

        # ALWAYS resume, whatever happens below.
        self.addCleanup(self.cluster.run, ["scontrol", "update", "nodename=n4",
                                           "state=resume"], check=False)
        status, doc = await self.http("POST", "/node/n4",
                                      body={"state": "DRAIN", "reason": reason})
        self.assertEqual((status, doc["errors"]), (200, []))
        self.assertTrue(states() <= {"drained", "draining"} and states(), states())
        self.assertIn(reason, reasons())
        status, doc = await self.http("GET", "/node/n4", user="alice")
        node = doc["nodes"][0]
        self.assertIn("DRAIN", node["state_flags"])
        self.assertEqual((node["reason"], node["reason_set_by_user"]), (reason, "root"))
        status, doc = await self.http("POST", "/node/n4", body={"state": "RESUME"})
        self.assertEqual((status, doc["errors"]), (200, []))
        # idle, unless another user's job runs there (a shared cluster)
        self.assertTrue(states() and not any("drain" in s for s in states()), states())
        self.assertNotIn(reason, reasons())


class UnneededPartitionsTests(unittest.TestCase):
    """GET /nodes asks for nodes and partitions at once; when the nodes answer ends the
    request (304), the partitions RPC still in flight is cancelled, not left running (its
    connection open, its timer set). A stand-in controller: the real one answers too soon
    to catch the RPC in flight every time."""

    def test_not_modified_cancels_the_partitions_rpc(self):
        from slurmrest.api.registry import Call, NotModified
        from slurmrest.wire.errors import NoChange

        cancelled = []
        pending = defer.Deferred(canceller=cancelled.append)

        class Controller:
            def partitions(self, update_time):
                return pending

            async def nodes(self, update_time):
                raise NoChange(1900)

        d = defer.ensureDeferred(nodes.get_nodes(
            Call(params={"update_time": 1}, body=None, user="alice", slurmctld=Controller())))
        self.failureResultOf(d, NotModified)
        self.assertEqual(cancelled, [pending])


class SlurmRefusalTests(unittest.TestCase):
    """Slurm's refusals of node update and delete as HTTP statuses, Slurm's text kept."""

    def refusal(self, errno, message=None):
        from slurmrest.wire.errors import SlurmError
        return nodes._refusal(SlurmError(errno, message), "slurm_delete_node")

    def test_statuses(self):
        for name in ("update_node", "delete_node"):
            op = REGISTRY.find(name)
            for errno, status in ((2010, 403), (2002, 403), (2018, 404), (2016, 409),
                                  (2028, 400), (1, 400)):
                self.assertEqual(op.status_of(self.refusal(errno).errno), status, errno)

    def test_slurm_text_is_the_description(self):
        err = self.refusal(2002, "Node deletion only compatible with select/cons_tres")
        self.assertEqual(err.entries, [{
            "error_number": 2002, "error": "Access/permission denied",
            "description": "Node deletion only compatible with select/cons_tres",
            "source": "slurm_delete_node"}])

    def test_talking_to_slurmctld_failures_stay(self):
        from slurmrest.wire.errors import CommunicationError
        err = CommunicationError(1800)
        self.assertIs(nodes._refusal(err, "slurm_delete_node"), err)


class NodeSchemaTests(unittest.TestCase):
    def test_document_matches_the_declared_schema(self):
        from tests.differential import schema_mismatches
        self.assertEqual(schema_mismatches(nodes.node_document(N1, ["debug"]),
                                           nodes.NODE_SCHEMA), [])


class LiveCachedReadsTests(unittest.TestCase):
    """GET /nodes, /partitions, /reservations and their single items through a real server:
    a repeated request is answered from the per-user cache (its ``hits`` counter), a real
    change shows up on the very next request and agrees with ``scontrol``, and a cached
    answer never reaches a caller whose own RPC slurmctld refuses."""

    timeout = 120

    def setUp(self):
        from tests import test_server_live as live
        self.live = live.LiveBase("run")
        self.live.setUp()
        self.live.addCleanup = self.addCleanup
        self.cluster = self.live.cluster

    async def start(self, conf=None):
        (base,) = await self.live.start(
            ["-f", conf or self.cluster.slurm_conf, "-l", "tcp:0:interface=127.0.0.1"])
        return base

    async def get_json(self, url, headers=None):
        import json
        response, body = await self.live.get(url, headers)
        return response.code, (json.loads(body) if body else None), body

    def scontrol(self, *argv) -> dict:
        """One record of ``scontrol -o show …`` as a dict."""
        line = self.cluster.run(["scontrol", "-o", "show", *argv]).stdout.strip()
        return dict(f.split("=", 1) for f in line.split() if "=" in f)

    def run_root(self, *argv):
        self.cluster.run(list(argv))

    async def test_repeated_reads_are_served_from_the_cache(self):
        base = await self.start()
        gateway = self.live.gateway
        from slurmrest.api import licenses, nodes, partitions, reservations
        for path, slot in (("nodes", nodes.NODES), ("partitions", partitions.PARTITIONS),
                           ("reservations", reservations.RESERVATIONS),
                           ("licenses", licenses.LICENSES)):
            cache = None
            # slurmctld answers "no change" only once the reply we hold was packed in a
            # later second than the last change (and other engineers' jobs change nodes
            # too): a few tries, a little apart.
            for attempt in range(6):
                if attempt:
                    await deferLater(reactor, 0.6, lambda: None)
                code, _, raw_first = await self.get_json(f"{base}/slurm/v0.0.38/{path}")
                self.assertEqual(code, 200, raw_first[:300])
                cache = gateway.state[slot]
                hits = cache.hits
                code, _, raw_second = await self.get_json(f"{base}/slurm/v0.0.38/{path}")
                self.assertEqual(code, 200)
                if cache.hits > hits:
                    self.assertEqual(raw_first, raw_second, path)  # the very same bytes
                    break
            else:
                self.fail(f"{path}: never answered from the cache")
        code, doc, _ = await self.get_json(f"{base}/slurm/v0.0.38/node/n4")
        self.assertEqual(code, 200)
        self.assertEqual([n["name"] for n in doc["nodes"]], ["n4"])
        self.assertEqual(doc["nodes"][0]["partitions"], ["debug", "long"])
        code, doc, _ = await self.get_json(f"{base}/slurm/v0.0.38/partition/LONG")
        self.assertEqual((code, [p["name"] for p in doc["partitions"]]), (200, ["long"]))
        code, doc, _ = await self.get_json(f"{base}/slurm/v0.0.38/reservation/maint")
        self.assertEqual((code, [r["name"] for r in doc["reservations"]]), (200, ["maint"]))
        code, doc, _ = await self.get_json(f"{base}/slurm/v0.0.38/node/nosuch")
        self.assertEqual((code, doc["nodes"], doc["errors"][0]["errno"]), (404, [], 2018))
        # Another user has an entry of their own.
        bob = {"X-SLURM-USER-NAME": "bob", "X-SLURM-USER-TOKEN": self.cluster.token("bob")}
        code, doc, _ = await self.get_json(f"{base}/slurm/v0.0.38/nodes", bob)
        self.assertEqual(code, 200)
        self.assertEqual(len(gateway.state[nodes.NODES]), 2)

    async def node_shown(self, base, name):
        _, doc, _ = await self.get_json(f"{base}/slurm/v0.0.38/nodes")
        (node,) = [n for n in doc["nodes"] if n["name"] == name]
        _, one, _ = await self.get_json(f"{base}/slurm/v0.0.38/node/{name}")
        self.assertEqual(one["nodes"], [node])  # the single item agrees with the collection
        return node

    async def test_drained_node_shows_up_at_once(self):
        from twisted.internet.threads import deferToThread
        base = await self.start()
        before = await self.node_shown(base, "n4")
        self.assertNotIn("DRAIN", before["state_flags"])
        self.addCleanup(self.cluster.run,
                        ["scontrol", "update", "nodename=n4", "state=resume"], check=False)
        await deferToThread(self.run_root, "scontrol", "update", "nodename=n4",
                            "state=drain", "reason=p2-test")
        drained = await self.node_shown(base, "n4")
        shown = await deferToThread(self.scontrol, "node", "n4")
        self.assertIn("DRAIN", drained["state_flags"])
        self.assertIn("DRAIN", shown["State"])
        self.assertEqual((drained["reason"], shown["Reason"]), ("p2-test", "p2-test"))
        self.assertEqual(drained["reason_set_by_user"], "root")
        await deferToThread(self.run_root, "scontrol", "update", "nodename=n4", "state=resume")
        resumed = await self.node_shown(base, "n4")
        self.assertNotIn("DRAIN", resumed["state_flags"])
        self.assertEqual(resumed["reason"], "")

    async def test_partition_change_shows_up_at_once(self):
        from twisted.internet.threads import deferToThread

        async def long_partition():
            _, doc, _ = await self.get_json(f"{base}/slurm/v0.0.38/partitions")
            (part,) = [p for p in doc["partitions"] if p["name"] == "long"]
            _, one, _ = await self.get_json(f"{base}/slurm/v0.0.38/partition/long")
            self.assertEqual(one["partitions"], [part])
            _, nodes_doc, _ = await self.get_json(f"{base}/slurm/v0.0.38/nodes")
            return part, nodes_doc

        base = await self.start()
        original = (await deferToThread(self.scontrol, "partition", "long"))["MaxTime"]
        part, _ = await long_partition()
        self.addCleanup(self.cluster.run,
                        ["scontrol", "update", "partitionname=long", f"maxtime={original}"])
        await deferToThread(self.run_root, "scontrol", "update", "partitionname=long",
                            "maxtime=4-00:00:00")
        changed, _ = await long_partition()
        self.assertEqual(changed["max_time_limit"], 4 * 24 * 60)
        self.assertEqual((await deferToThread(self.scontrol, "partition", "long"))["MaxTime"],
                         "4-00:00:00")
        # The nodes' partition lists come from the partition table: a change there alone
        # must also rebuild the node document (n3 leaves "long" here).
        hits = self.live.gateway.state[nodes.NODES].hits
        await deferToThread(self.run_root, "scontrol", "update", "partitionname=long",
                            "nodes=n4")
        self.addCleanup(self.cluster.run,
                        ["scontrol", "update", "partitionname=long", "nodes=n[3-4]"])
        _, nodes_doc = await long_partition()
        by_name = {n["name"]: n["partitions"] for n in nodes_doc["nodes"]}
        self.assertEqual((by_name["n3"], by_name["n4"]), (["debug"], ["debug", "long"]))
        self.assertEqual(self.live.gateway.state[nodes.NODES].hits, hits)
        await deferToThread(self.run_root, "scontrol", "update", "partitionname=long",
                            "nodes=n[3-4]")
        _, nodes_doc = await long_partition()
        by_name = {n["name"]: n["partitions"] for n in nodes_doc["nodes"]}
        self.assertEqual(by_name["n3"], ["debug", "long"])

    async def test_forged_token_is_refused_even_when_cached(self):
        import os
        import re
        text = open(self.cluster.slurm_conf).read()
        text = re.sub(r"jwt_key=\S+", f"jwt_key={self.live.dir}/no-such-key", text)
        conf = os.path.join(self.live.dir, "slurm.conf")
        with open(conf, "w") as f:
            f.write(text)
        base = await self.start(conf)
        paths = ("nodes", "node/n1", "partitions", "partition/debug", "reservations",
                 "reservation/maint", "licenses")
        for path in paths:  # alice's real token fills her entries
            code, _, body = await self.get_json(f"{base}/slurm/v0.0.38/{path}")
            self.assertEqual(code, 200, (path, body[:300]))
        forged = {"X-SLURM-USER-NAME": "alice", "X-SLURM-USER-TOKEN": "forged.token.value"}
        for path in paths:
            code, doc, body = await self.get_json(f"{base}/slurm/v0.0.38/{path}", forged)
            self.assertEqual(code, 502, (path, body[:300]))
            self.assertEqual([k for k in doc if k not in ("meta", "errors", "warnings")], [])
            self.assertNotIn(b"forged.token.value", body)
        code, _, _ = await self.get_json(f"{base}/slurm/v0.0.38/nodes")  # alice still served
        self.assertEqual(code, 200)


class CachedNodesTests(unittest.TestCase):
    """GET /nodes and /node/{name} from the per-user cache: both the node and the partition
    table revalidated at once (a stand-in controller answers each ``last_update`` from a
    script, ``None`` meaning unchanged; the real one: ``LiveCachedReadsTests``)."""

    def test_reused_only_while_both_tables_are_unchanged(self):
        from slurmrest.api.registry import Call
        from slurmrest.wire.errors import NoChange

        asked = {"nodes": [], "partitions": []}

        def partition(name):  # holding n1 (node index 0)
            return decoded(PARTITION_RECORD, name=name, node_inx=Bitmap(4, "0x1"))

        script = {
            "nodes": [{"last_update": 10, "records": [N1]}, None, None, None,
                      {"last_update": 10, "records": [N1]}],
            "partitions": [{"last_update": 5, "records": [partition("debug")]}, None, None,
                           {"last_update": 6, "records": [partition("debug"), partition("all")]}],
        }

        class Controller:
            credential = "t"

            async def answer(self, table, update_time):
                asked[table].append(update_time)
                reply = script[table].pop(0)
                if reply is None:
                    raise NoChange(1900)
                return reply

            def nodes(self, update_time=0):
                return self.answer("nodes", update_time)

            def partitions(self, update_time=0):
                return self.answer("partitions", update_time)

        server = ServerState()

        def answer(handler, **params):
            call = Call(params=params, body=None, user="alice", slurmctld=Controller(), state=server)
            return self.successResultOf(defer.ensureDeferred(handler(call)))

        first = answer(nodes.get_nodes)
        self.assertEqual(first.payload, {"nodes": [N1_DOCUMENT]})
        self.assertIs(answer(nodes.get_nodes), first)
        one = answer(nodes.get_node, node_name="n1")
        self.assertEqual(one.payload, {"nodes": [N1_DOCUMENT]})
        # Only the partitions changed: the node table is fetched afresh and all rebuilt.
        changed = answer(nodes.get_nodes)
        self.assertEqual(changed.payload["nodes"][0]["partitions"], ["debug", "all"])
        self.assertEqual(asked, {"nodes": [0, 10, 10, 10, 0], "partitions": [0, 5, 5, 5]})
        self.assertEqual(server[nodes.NODES].hits, 2)
