"""The first operations' documents (ping, diag, licenses) from decoded Slurm records: the
arithmetic and names slurmrestd uses. Live comparisons are in ``test_server_live``."""

from __future__ import annotations

from twisted.trial import unittest

from slurmrest.api.state import ServerState
from slurmrest.api.diag import STATISTICS_FIELDS, message_type_name, statistics_document
from slurmrest.api.licenses import license_document, licenses_payload
from slurmrest.api.revalidated import RevalidatedCache
from slurmrest.api.meta import BuildInfoCache, meta, slurm_version
from slurmrest.api.ping import controller_mode
from slurmrest.wire.errors import NoChange


class PingTests(unittest.TestCase):
    def test_modes(self):
        self.assertEqual(controller_mode(0, 1), "primary")
        self.assertEqual(controller_mode(1, 2), "backup")
        self.assertEqual([controller_mode(i, 3) for i in range(3)],
                         ["primary", "backup1", "backup2"])


class DiagTests(unittest.TestCase):
    RECORD = {
        "parts_packed": 1, "req_time": 1000, "req_time_start": 700, "server_thread_count": 3,
        "schedule_cycle_sum": 100, "schedule_cycle_counter": 7, "schedule_cycle_depth": 15,
        "schedule_queue_len": 2, "bf_cycle_counter": 4, "bf_cycle_sum": 10, "bf_depth_sum": 9,
        "bf_depth_try_sum": 8, "bf_queue_len_sum": 7, "bf_table_size_sum": 6, "bf_active": 5,
        "rpc_type_id": [1008, 99999], "rpc_type_cnt": [3, 0], "rpc_type_time": [10, 0],
        "rpc_user_id": [0, 987654], "rpc_user_cnt": [2, 1], "rpc_user_time": [5, 1],
    }

    def test_fields_and_order(self):
        self.assertEqual(tuple(statistics_document(self.RECORD)), STATISTICS_FIELDS)

    def test_means_as_slurmrestd_computes_them(self):
        doc = statistics_document(self.RECORD)
        self.assertEqual(doc["schedule_cycle_total"], 7)
        self.assertEqual(doc["schedule_cycle_mean"], 14)          # 100 // 7
        self.assertEqual(doc["schedule_cycle_mean_depth"], 2)     # 15 // 7
        self.assertEqual(doc["schedule_cycle_per_minute"], 1)     # 7 // (300 // 60)
        self.assertEqual(doc["schedule_queue_length"], 2)
        self.assertEqual((doc["bf_cycle_mean"], doc["bf_depth_mean"], doc["bf_depth_mean_try"],
                          doc["bf_queue_len_mean"], doc["bf_table_size_mean"]), (2, 2, 2, 1, 1))
        self.assertIs(doc["bf_active"], True)

    def test_no_division_by_zero(self):
        doc = statistics_document({"req_time": 10, "req_time_start": 0})
        self.assertEqual(doc["schedule_cycle_mean"], 0)
        self.assertEqual(doc["schedule_cycle_per_minute"], 0)
        self.assertEqual(doc["bf_cycle_mean"], 0)

    def test_rpc_rows(self):
        doc = statistics_document(self.RECORD)
        self.assertEqual(doc["rpcs_by_message_type"][0],
                         {"message_type": "REQUEST_PING", "type_id": 1008, "count": 3,
                          "average_time": 3, "total_time": 10})
        self.assertEqual(doc["rpcs_by_message_type"][1]["message_type"], "99999")
        self.assertEqual(doc["rpcs_by_message_type"][1]["average_time"], 0)
        self.assertEqual(doc["rpcs_by_user"][0]["user"], "root")
        self.assertEqual(doc["rpcs_by_user"][1]["user"], "987654")  # no such user: its uid

    def test_message_type_names(self):
        self.assertEqual(message_type_name(2035), "REQUEST_STATS_INFO")


class LicensesTests(unittest.TestCase):
    def test_free_is_computed(self):
        doc = license_document({"name": "matlab", "total": 5, "in_use": 2, "reserved": 1,
                                "remote": 0})
        self.assertEqual(doc, {"LicenseName": "matlab", "Total": 5, "Used": 2, "Free": 3,
                               "Reserved": 1, "Remote": False})
        self.assertEqual(license_document({"name": "x", "total": 1, "in_use": 4})["Free"], 0)


class MetaTests(unittest.TestCase):
    def test_version_block(self):
        self.assertEqual(slurm_version("22.05.8"),
                         {"version": {"major": 22, "micro": 8, "minor": 5}, "release": "22.05.8"})
        self.assertIsNone(slurm_version(None))

    def test_plugins(self):
        self.assertEqual(meta("slurm", "v0.0.38", "22.05.8")["plugin"],
                         {"type": "openapi/v0.0.38", "name": "Slurm OpenAPI v0.0.38"})
        self.assertEqual(meta("slurmdb", "v0.0.38", None),
                         {"plugin": {"type": "openapi/dbv0.0.38",
                                     "name": "Slurm OpenAPI DB v0.0.38"}})


class RevalidatedCacheTests(unittest.TestCase):
    """The build info and licenses caches: kept documents are revalidated with Slurm's own
    ``last_update`` (``NoChange`` = still current). ``load`` stands for the RPC here; the
    real slurmctld's answers are checked in ``test_server_live``."""

    def loader(self, replies):
        calls = []

        async def load(last_update=0):
            calls.append(last_update)
            reply = replies.pop(0)
            if reply is None:
                raise NoChange(1900)
            return reply
        return load, calls

    async def test_build_info_kept_then_revalidated(self):
        now = [1000.0]
        cache = BuildInfoCache(max_age=30, clock=lambda: now[0])
        first = {"version": "22.05.8", "last_update": 500, "control_machine": ["a"]}
        second = {"version": "22.05.8", "last_update": 900, "control_machine": ["a", "b"]}
        load, calls = self.loader([first, None, second])
        self.assertIs((await cache.get(load)), first)
        self.assertIs((await cache.get(load)), first)  # young: no RPC at all
        now[0] += 31
        self.assertIs((await cache.get(load)), first)  # unchanged since 500
        self.assertIs((await cache.get(load)), first)  # and young again
        now[0] += 31
        self.assertIs((await cache.get(load)), second)
        self.assertEqual(calls, [0, 500, 500])

    async def test_licenses_per_user_same_result_while_unchanged(self):
        lic = {"last_update": 700, "licenses": [{"name": "m", "total": 2, "in_use": 1}]}
        more = {"last_update": 800, "licenses": [{"name": "m", "total": 2, "in_use": 2}]}
        cache = RevalidatedCache(licenses_payload, max_entries=2)
        load, calls = self.loader([lic, None, lic, more])
        a = (await cache.get("alice", (load,))).result
        self.assertEqual(a.payload["licenses"][0]["Used"], 1)
        self.assertIs((await cache.get("alice", (load,))).result, a)
        b = (await cache.get("bob", (load,))).result  # another user: fetched for them
        self.assertIsNot(b, a)
        changed = (await cache.get("alice", (load,))).result
        self.assertEqual(changed.payload["licenses"][0]["Used"], 2)
        self.assertEqual(calls, [0, 700, 0, 700])
        self.assertEqual(cache.hits, 1)

    async def test_licenses_cache_is_bounded(self):
        cache = RevalidatedCache(licenses_payload, max_entries=2)
        load, calls = self.loader([{"last_update": 1, "licenses": []} for _ in range(4)])
        for user in ("a", "b", "c", "a"):
            await cache.get(user, (load,))
        self.assertEqual(calls, [0, 0, 0, 0])  # "a" was forgotten when "c" came
        self.assertEqual(len(cache), 2)


class DiagSharingTests(unittest.TestCase):
    """One stats reply (shared by concurrent callers) makes one document; a new reply a new
    one."""

    async def call(self, server, reply):
        from slurmrest.api.diag import diag
        from slurmrest.api.registry import Call

        class Ctld:
            async def stats(self):
                return reply
        call = Call({}, slurmctld=Ctld()) if server is None else Call({}, slurmctld=Ctld(),
                                                                      state=server)
        return await diag(call)

    async def test_same_reply_same_result(self):
        server = ServerState()
        first = dict(DiagTests.RECORD)
        a, b = await self.call(server, first), await self.call(server, first)
        self.assertIs(a, b)
        self.assertEqual(a.payload["statistics"]["server_thread_count"], 3)
        second = dict(first, server_thread_count=9)
        c = await self.call(server, second)
        self.assertIsNot(c, a)
        self.assertEqual(c.payload["statistics"]["server_thread_count"], 9)
        self.assertEqual((await self.call(None, first)).payload, a.payload)  # outside a server


class PingResultTests(unittest.TestCase):
    """Every controller pinged (a down one is DOWN with its error number); the build info
    revalidated with the caller's credential on every ping (a no-change reply while it is
    unchanged); an unchanged answer is the same Result (serialised once)."""

    async def test_two_controllers_one_down(self):
        from slurmrest.api.ping import ping
        from slurmrest.api.registry import Call
        from slurmrest.wire.errors import CommunicationError, NoChange

        class Ctld:
            pinged = []
            revalidated = []

            async def build_info(self, last_update=0):
                self.revalidated.append(last_update)
                raise NoChange()

            async def ping(self, index):
                self.pinged.append(index)
                if index == 1:
                    raise CommunicationError(1800)
                return {"return_code": 0}

        server = ServerState(BuildInfoCache())
        server.build_info.update({"version": "22.05.8", "control_machine": ["c1", "c2"],
                                  "last_update": 100})
        first = await ping(Call({}, slurmctld=Ctld(), state=server))
        second = await ping(Call({}, slurmctld=Ctld(), state=server))
        self.assertIs(first, second)
        self.assertEqual(first.payload, {"pings": [
            {"hostname": "c1", "ping": "UP", "status": 0, "mode": "primary"},
            {"hostname": "c2", "ping": "DOWN", "status": 1800, "mode": "backup"}]})
        self.assertEqual(sorted(Ctld.pinged), [0, 0, 1, 1])
        self.assertEqual(Ctld.revalidated, [100, 100])
