"""The GET /jobs cache: reuse while Slurm says "no change", rebuild otherwise, one refresh for
concurrent requests, bounded size. (The loader here stands for the jobs RPC; the same cache
against the real slurmctld is exercised in test_api_jobs_read.)"""

from twisted.internet import defer
from twisted.trial import unittest

from slurmrest.api.job_cache import JobListCache
from slurmrest.wire.errors import NoChange, SlurmError


class Loader:
    """Answers like REQUEST_JOB_INFO: NoChange if ``last_update - 1 >= changed``."""

    def __init__(self):
        self.changed = 100
        self.now = 100
        self.asked = []
        self.pending: list[defer.Deferred] | None = None

    async def __call__(self, last_update):
        self.asked.append(last_update)
        if self.pending is not None:
            d = defer.Deferred()
            self.pending.append(d)
            await d
        if last_update and last_update - 1 >= self.changed:
            raise NoChange()
        return {"last_update": self.now, "records": [{"job_id": self.changed}]}


def build(rec):
    return {"doc": rec["job_id"]}


class JobListCacheTests(unittest.TestCase):
    def get(self, cache, loader, key="alice"):
        return defer.ensureDeferred(cache.get(key, (loader,), convert=build))

    def test_reused_while_unchanged(self):
        cache, loader = JobListCache(), Loader()
        loader.now = 105
        first = self.successResultOf(self.get(cache, loader))
        again = self.successResultOf(self.get(cache, loader))
        self.assertIs(again, first)
        self.assertEqual(loader.asked, [0, 105])
        self.assertEqual((cache.hits, cache.rebuilds), (1, 1))
        self.assertEqual(first.cache, {})

    def test_rebuilt_after_a_change_in_the_same_second(self):
        cache, loader = JobListCache(), Loader()
        first = self.successResultOf(self.get(cache, loader))
        loader.changed = 100  # changed again at the second of the reply: 100 - 1 < 100
        second = self.successResultOf(self.get(cache, loader))
        self.assertIsNot(second, first)
        loader.now, loader.changed = 200, 150
        third = self.successResultOf(self.get(cache, loader))
        self.assertEqual(third.payload, {"jobs": [{"doc": 150}]})

    def test_per_identity(self):
        cache, loader = JobListCache(), Loader()
        loader.now = 105
        a = self.successResultOf(self.get(cache, loader, "alice"))
        b = self.successResultOf(self.get(cache, loader, "bob"))
        self.assertIsNot(a, b)
        self.assertEqual(loader.asked, [0, 0])

    def test_concurrent_requests_share_one_refresh(self):
        cache, loader = JobListCache(), Loader()
        loader.pending = []
        results = [self.get(cache, loader) for _ in range(5)]
        self.assertEqual(len(loader.asked), 1)
        loader.pending[0].callback(None)
        docs = [self.successResultOf(d) for d in results]
        self.assertTrue(all(d is docs[0] for d in docs))

    def test_only_the_same_credential_shares_a_refresh(self):
        # A caller with another token for the same user name must make its own RPC (which
        # slurmctld verifies), not ride on alice's refresh.
        cache, loader = JobListCache(), Loader()
        loader.pending = []
        good = [defer.ensureDeferred(cache.get("alice", (loader,), convert=build,
                                               credential="token-a"))
                for _ in range(3)]
        other = defer.ensureDeferred(cache.get("alice", (loader,), convert=build,
                                               credential="token-b"))
        self.assertEqual(len(loader.asked), 2)
        for d in list(loader.pending):
            d.callback(None)
        results = [self.successResultOf(d) for d in good]
        self.assertTrue(all(r is results[0] for r in results))
        self.assertEqual(self.successResultOf(other).payload, results[0].payload)

    def test_failure_reaches_every_waiter_and_is_not_cached(self):
        cache = JobListCache()
        gate = defer.Deferred()

        async def failing(last_update):
            await gate
            raise SlurmError(2002)

        results = [defer.ensureDeferred(cache.get("alice", (failing,), convert=build))
                   for _ in range(3)]
        gate.callback(None)
        for d in results:
            self.assertEqual(self.failureResultOf(d, SlurmError).value.errno, 2002)
        self.assertEqual(len(cache), 0)

    def test_bounded(self):
        cache, loader = JobListCache(max_entries=2), Loader()
        for user in ("a", "b", "c"):
            self.successResultOf(self.get(cache, loader, user))
        self.assertEqual(len(cache), 2)
        loader.now = 105
        loader.asked.clear()
        self.successResultOf(self.get(cache, loader, "a"))  # evicted: asked from scratch
        self.assertEqual(loader.asked, [0])


class PutTests(unittest.TestCase):
    def test_put_becomes_the_current_entry(self):
        cache, loader = JobListCache(), Loader()
        loader.now = 105
        stored = cache.put("alice", ({"last_update": 105, "records": [{"job_id": 7}]},),
                           convert=build)
        self.assertEqual(stored.payload, {"jobs": [{"doc": 7}]})
        got = self.successResultOf(defer.ensureDeferred(
            cache.get("alice", (loader,), convert=build)))
        self.assertIs(got, stored)
        self.assertEqual(loader.asked, [105])


class DocumentReuseTests(unittest.TestCase):
    def test_unchanged_records_keep_their_documents(self):
        cache = JobListCache()
        calls = []

        def convert(rec):
            calls.append(rec["job_id"])
            return dict(rec)

        first = cache.put("alice", ({"records": [{"job_id": 1, "x": 1},
                                                 {"job_id": 2, "x": 1}]},), convert=convert)
        second = cache.put("bob", ({"records": [{"job_id": 1, "x": 1},
                                                {"job_id": 2, "x": 2},
                                                {"job_id": 3, "x": 1}]},), convert=convert)
        self.assertEqual(calls, [1, 2, 2, 3])
        self.assertIs(second.payload["jobs"][0], first.payload["jobs"][0])
        self.assertEqual(second.payload["jobs"][1], {"job_id": 2, "x": 2})
        self.assertEqual(cache.reused, 1)

    def test_another_variant_converts_again(self):
        cache = JobListCache()
        calls = []

        def convert(rec):
            calls.append(rec["job_id"])
            return dict(rec)

        cache.put("alice", ({"records": [{"job_id": 1}]},), convert=convert, variant=0x14)
        cache.put("alice", ({"records": [{"job_id": 1}]},), convert=convert, variant=0x11)
        self.assertEqual(calls, [1, 1])

    def test_array_tasks_are_told_apart(self):
        cache = JobListCache()
        docs = cache.put("a", ({"records": [{"job_id": 5, "array_task_id": 1},
                                            {"job_id": 5, "array_task_id": 2}]},),
                         convert=lambda rec: dict(rec)).payload["jobs"]
        self.assertEqual([d["array_task_id"] for d in docs], [1, 2])


class ClampedStartTimeTests(unittest.TestCase):
    """pack_job reports a pending job's expected start as MAX(start, now): such a list is
    only good for the second it was packed in."""

    def test_clamped_list_expires_after_its_second(self):
        now = [100.2]
        cache = JobListCache(clock=lambda: now[0])
        asked = []

        async def load(last_update):
            asked.append(last_update)
            if last_update:
                raise NoChange()
            return {"last_update": 100,
                    "records": [{"job_id": 1, "job_state": 0, "start_time": 100}]}

        first = self.successResultOf(defer.ensureDeferred(cache.get("a", (load,), convert=build)))
        again = self.successResultOf(defer.ensureDeferred(cache.get("a", (load,), convert=build)))
        self.assertIs(again, first)
        now[0] = 101.0
        self.successResultOf(defer.ensureDeferred(cache.get("a", (load,), convert=build)))
        self.assertEqual(asked, [0, 100, 0])

    def test_future_start_or_running_job_is_not_clamped(self):
        now = [500.0]
        cache = JobListCache(clock=lambda: now[0])
        asked = []

        async def load(last_update):
            asked.append(last_update)
            if last_update:
                raise NoChange()
            return {"last_update": 100,
                    "records": [{"job_id": 1, "job_state": 0, "start_time": 900},
                                {"job_id": 2, "job_state": 1, "start_time": 50},
                                {"job_id": 3, "job_state": 0, "start_time": 0}]}

        self.successResultOf(defer.ensureDeferred(cache.get("a", (load,), convert=build)))
        self.successResultOf(defer.ensureDeferred(cache.get("a", (load,), convert=build)))
        self.assertEqual(asked, [0, 100])


class CancellationTests(unittest.TestCase):
    def test_a_caller_going_away_does_not_cancel_the_others(self):
        cache, loader = JobListCache(), Loader()
        loader.pending = []
        loader.now = 105
        first = defer.ensureDeferred(cache.get("alice", (loader,), convert=build))
        second = defer.ensureDeferred(cache.get("alice", (loader,), convert=build))
        first.cancel()
        self.failureResultOf(first, defer.CancelledError)
        loader.pending[0].callback(None)
        result = self.successResultOf(second)
        self.assertEqual(result.payload, {"jobs": [{"doc": 100}]})
        # And the refresh was kept for whoever asks next.
        loader.pending = None
        again = defer.ensureDeferred(cache.get("alice", (loader,), convert=build))
        self.assertIs(self.successResultOf(again), result)

    def test_all_gone_refresh_still_kept(self):
        cache, loader = JobListCache(), Loader()
        loader.pending = []
        only = defer.ensureDeferred(cache.get("alice", (loader,), convert=build))
        only.cancel()
        self.failureResultOf(only, defer.CancelledError)
        loader.pending[0].callback(None)
        self.assertEqual(len(cache), 1)
