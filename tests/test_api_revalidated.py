"""The generic per-user cache revalidated with Slurm's ``last_update`` (``api.revalidated``):
reuse while unchanged, rebuild on change, per user, no refresh shared across credentials,
bounded. ``load`` stands for an RPC here (each scripted reply popped in turn, ``None`` for
SLURM_NO_CHANGE_IN_DATA); the real slurmctld is exercised in ``test_api_nodes`` and
``test_server_live``."""

from __future__ import annotations

from twisted.internet import defer
from twisted.trial import unittest

from slurmrest.api.errors import NotModified
from slurmrest.api.job_cache import JOBS
from slurmrest.api.registry import Call, Result
from slurmrest.api.revalidated import RevalidatedCache, cache_slot, current, item_by_name
from slurmrest.api.state import ServerState
from slurmrest.wire.errors import CommunicationError, NoChange


def build(*replies):
    return {"items": [dict(rec) for reply in replies for rec in reply["records"]]}


def scripted(replies):
    calls = []

    async def load(last_update=0):
        calls.append(last_update)
        reply = replies.pop(0)
        if reply is None:
            raise NoChange(1900)
        if isinstance(reply, Exception):
            raise reply
        return reply
    return load, calls


def reply(stamp, *names):
    return {"last_update": stamp, "records": [{"name": n} for n in names]}


class RevalidatedCacheTests(unittest.TestCase):
    def get(self, cache, key, loads, credential=None):
        return self.successResultOf(defer.ensureDeferred(
            cache.get(key, loads, credential=credential)))

    def test_same_result_while_unchanged_then_rebuilt(self):
        cache = RevalidatedCache(build)
        load, calls = scripted([reply(10, "a"), None, None, reply(20, "a", "b")])
        first = self.get(cache, "alice", (load,)).result
        self.assertIsInstance(first, Result)
        self.assertEqual(first.cache, {})
        self.assertIs(self.get(cache, "alice", (load,)).result, first)
        self.assertIs(self.get(cache, "alice", (load,)).result, first)
        changed = self.get(cache, "alice", (load,)).result
        self.assertIsNot(changed, first)
        self.assertEqual([i["name"] for i in changed.payload["items"]], ["a", "b"])
        self.assertEqual(calls, [0, 10, 10, 10])
        self.assertEqual((cache.hits, cache.rebuilds), (2, 2))

    def test_per_user(self):
        cache = RevalidatedCache(build)
        load, calls = scripted([reply(10, "a"), reply(10, "a", "hidden-from-alice")])
        alice = self.get(cache, "alice", (load,)).result
        bob = self.get(cache, "bob", (load,)).result
        self.assertIsNot(alice, bob)
        self.assertEqual(len(alice.payload["items"]), 1)
        self.assertEqual(len(bob.payload["items"]), 2)
        self.assertEqual(calls, [0, 0])  # bob's first request is a full fetch of his own

    def test_every_request_makes_its_own_rpc_and_failures_are_not_hidden(self):
        cache = RevalidatedCache(build)
        load, calls = scripted([reply(10, "a"), CommunicationError(1802)])
        self.get(cache, "alice", (load,))
        d = defer.ensureDeferred(cache.get("alice", (load,)))
        self.failureResultOf(d, CommunicationError)  # a refused credential: no cached answer
        self.assertEqual(calls, [0, 10])

    def test_two_replies_both_unchanged_to_reuse(self):
        cache = RevalidatedCache(build)
        nodes, node_calls = scripted([reply(10, "n1"), None, None, reply(10, "n1")])
        parts, part_calls = scripted([reply(5, "p"), None, reply(6, "p", "q")])
        first = self.get(cache, "alice", (nodes, parts)).result
        self.assertIs(self.get(cache, "alice", (nodes, parts)).result, first)
        changed = self.get(cache, "alice", (nodes, parts)).result
        self.assertIsNot(changed, first)
        self.assertEqual([i["name"] for i in changed.payload["items"]], ["n1", "p", "q"])
        # The unchanged node table is fetched afresh to rebuild from.
        self.assertEqual(node_calls, [0, 10, 10, 0])
        self.assertEqual(part_calls, [0, 5, 5])

    def test_refresh_shared_only_with_the_same_credential(self):
        cache = RevalidatedCache(build)
        pending = []

        async def load(last_update=0):
            d = defer.Deferred()
            pending.append(d)
            return await d
        a1 = defer.ensureDeferred(cache.get("alice", (load,), credential="token-1"))
        a2 = defer.ensureDeferred(cache.get("alice", (load,), credential="token-1"))
        forged = defer.ensureDeferred(cache.get("alice", (load,), credential="forged"))
        self.assertEqual(len(pending), 2)  # one RPC per credential, not one per user
        pending[0].callback(reply(10, "a"))
        self.assertIs(self.successResultOf(a1), self.successResultOf(a2))
        self.assertNoResult(forged)
        pending[1].errback(CommunicationError(1802))
        self.failureResultOf(forged, CommunicationError)

    def test_cancelled_caller_does_not_cancel_the_shared_refresh(self):
        cache = RevalidatedCache(build)
        pending = defer.Deferred()

        async def load(last_update=0):
            return await pending
        a = defer.ensureDeferred(cache.get("alice", (load,), credential="t"))
        b = defer.ensureDeferred(cache.get("alice", (load,), credential="t"))
        a.cancel()
        self.failureResultOf(a, defer.CancelledError)
        pending.callback(reply(1, "x"))
        self.assertEqual(self.successResultOf(b).result.payload["items"], [{"name": "x"}])

    def test_bounded(self):
        cache = RevalidatedCache(build, max_entries=2)
        load, calls = scripted([reply(1, "a") for _ in range(4)])
        for user in ("a", "b", "c", "a"):
            self.get(cache, user, (load,))
        self.assertEqual(calls, [0, 0, 0, 0])  # "a" was forgotten when "c" came
        self.assertEqual(len(cache), 2)

    def test_older_reply_does_not_replace_a_newer_entry(self):
        cache = RevalidatedCache(build)
        newer = cache.put("alice", (reply(20, "new"),))
        older = cache.put("alice", (reply(10, "old"),))
        load, _ = scripted([None])
        self.assertIs(self.get(cache, "alice", (load,)), newer)
        self.assertEqual(older.result.payload["items"], [{"name": "old"}])

    def test_items_kept_per_name(self):
        cache = RevalidatedCache(build)
        load, _ = scripted([reply(10, "Debug", "long"), None])
        entry = self.get(cache, "alice", (load,))
        make = item_by_name("items", fold_case=True)
        one = entry.item("debug", make)
        self.assertEqual(one.payload, {"items": [{"name": "Debug"}]})
        self.assertEqual(one.cache, {})
        self.assertIsNone(entry.item("nosuch", make))
        self.assertIs(self.get(cache, "alice", (load,)).item("debug", make), one)
        exact = item_by_name("items")
        self.assertIsNone(entry.item("DEBUG", exact))


class CurrentTests(unittest.TestCase):
    """``current``: the one path of every revalidated collection (nodes, partitions,
    reservations, licenses, jobs) from a caller to its kept answer."""

    def setUp(self):
        self.state = ServerState()

    def call(self, credential="t", **params):
        class Controller:
            pass
        ctld = Controller()
        ctld.credential = credential
        return Call(params=params, user="alice", slurmctld=ctld, state=self.state)

    async def test_kept_answer_revalidated_with_the_callers_rpcs(self):
        nodes, node_calls = scripted([reply(10, "n1"), None])
        parts, part_calls = scripted([reply(5, "p"), None])
        first = await current(self.call(), ITEMS, (nodes, parts))
        self.assertIs(await current(self.call(), ITEMS, (nodes, parts)), first)
        self.assertEqual((node_calls, part_calls), ([0, 10], [0, 5]))

    async def test_update_time_asks_the_first_rpc_and_304_leaves_the_others(self):
        nodes, _ = scripted([None])
        left = []
        pending = defer.Deferred(canceller=left.append)

        def parts(last_update):
            return pending
        with self.assertRaises(NotModified):
            await current(self.call(update_time=7), ITEMS, (nodes, parts))
        self.assertEqual(left, [pending])

    async def test_update_time_full_answer_becomes_the_kept_one(self):
        nodes, node_calls = scripted([reply(10, "n1"), None])
        parts, part_calls = scripted([reply(5, "p"), None])
        full = await current(self.call(update_time=3), ITEMS, (nodes, parts))
        self.assertEqual(full.result.payload["items"], [{"name": "n1"}, {"name": "p"}])
        self.assertIs(await current(self.call(), ITEMS, (nodes, parts)), full)
        # The caller's time went to the first RPC only; the others were fetched whole.
        self.assertEqual((node_calls, part_calls), ([3, 10], [0, 5]))

    async def test_the_job_list_the_same_way(self):
        jobs, calls = scripted([{"last_update": 9, "records": [{"job_id": 1}]}, None])

        def convert(rec):
            return {"id": rec["job_id"]}
        first = await current(self.call(), JOBS, (jobs,), convert=convert)
        self.assertEqual(first.payload, {"jobs": [{"id": 1}]})
        self.assertIs(await current(self.call(), JOBS, (jobs,), convert=convert), first)
        self.assertEqual(calls, [0, 9])
        with self.assertRaises(NotModified):
            await current(self.call(update_time=9), JOBS, (scripted([None])[0],),
                          convert=convert)

    async def test_refresh_shared_only_by_the_same_credential(self):
        pending = []

        async def load(last_update=0):
            d = defer.Deferred()
            pending.append(d)
            return await d
        a = defer.ensureDeferred(current(self.call("t1"), ITEMS, (load,)))
        b = defer.ensureDeferred(current(self.call("t1"), ITEMS, (load,)))
        c = defer.ensureDeferred(current(self.call("t2"), ITEMS, (load,)))
        self.assertEqual(len(pending), 2)
        for d in pending:
            d.callback(reply(1, "x"))
        self.assertIs(await a, await b)
        self.assertEqual((await c).result.payload, {"items": [{"name": "x"}]})


ITEMS = cache_slot("test.items", build)


class CollectionTests(unittest.TestCase):
    """``Collection``: a revalidated collection and its single-item route, declared once."""

    def setUp(self):
        from slurmrest.api.revalidated import Collection
        self.replies = [reply(10, "Debug", "long"), None, None]
        load, self.calls = scripted(self.replies)
        self.collection = Collection("items", build, lambda call: (load,), missing=2000,
                                     fold_case=True)
        self.state = ServerState()

    def wait(self, coro):
        return self.successResultOf(defer.ensureDeferred(coro))

    def test_all_and_one_from_the_same_kept_collection(self):
        call = Call(params={}, user="alice", state=self.state)
        every = self.wait(self.collection.all(call))
        self.assertEqual([d["name"] for d in every.payload["items"]], ["Debug", "long"])
        one = self.wait(self.collection.one(call, "DEBUG"))  # xstrcasecmp
        self.assertEqual(one.payload, {"items": [{"name": "Debug"}]})
        self.assertIs(self.wait(self.collection.one(call, "debug")), one)
        self.assertEqual(self.calls, [0, 10, 10])  # each answer revalidated by its own RPC

    def test_unknown_name_is_slurms_errno_with_an_empty_list(self):
        from slurmrest.api.errors import Refusal
        call = Call(params={}, user="alice", state=self.state)
        failure = self.failureResultOf(defer.ensureDeferred(self.collection.one(call, "nosuch")),
                                       Refusal)
        self.assertEqual(failure.value.errno, 2000)
        self.assertEqual(failure.value.payload, {"items": []})
