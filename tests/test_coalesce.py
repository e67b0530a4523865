"""``SharedCalls``: concurrent identical work runs once; each caller waits on its own."""

import gc

from twisted.internet import defer
from twisted.trial import unittest

from slurmrest.coalesce import SharedCalls


class Work:
    """Work that finishes when the test says so, counting how often it was started."""

    def __init__(self):
        self.started = 0
        self.running = []

    async def __call__(self):
        self.started += 1
        d = defer.Deferred()
        self.running.append(d)
        return await d


class SharedCallsTests(unittest.TestCase):

    def test_one_run_for_concurrent_callers(self):
        shared, work = SharedCalls(cancel_abandoned=True), Work()
        first, second = shared.join("k", work), shared.join("k", work)
        self.assertEqual((work.started, shared.joined, len(shared)), (1, 1, 1))
        self.assertIn("k", shared)
        work.running[0].callback("done")
        self.assertEqual((self.successResultOf(first), self.successResultOf(second)),
                         ("done", "done"))
        self.assertEqual(len(shared), 0)
        self.assertNotIn("k", shared)

    def test_other_keys_run_apart_and_later_calls_run_again(self):
        shared, work = SharedCalls(cancel_abandoned=True), Work()
        shared.join("a", work)
        shared.join("b", work)
        self.assertEqual(work.started, 2)
        work.running[0].callback(1)
        shared.join("a", work)
        self.assertEqual(work.started, 3)

    def test_work_done_at_once_is_not_kept(self):
        shared = SharedCalls(cancel_abandoned=False)

        async def ready():
            return 7
        self.assertEqual(self.successResultOf(shared.join("k", ready)), 7)
        self.assertEqual(len(shared), 0)

    def test_a_failure_reaches_every_caller_and_is_not_left_unhandled(self):
        shared, work = SharedCalls(cancel_abandoned=True), Work()
        waiters = [shared.join("k", work) for _ in range(3)]
        work.running[0].errback(ValueError("no"))
        for d in waiters:
            self.failureResultOf(d, ValueError)
        del d, waiters
        gc.collect()  # an unhandled failure would be logged (and fail this test) here
        self.assertEqual(len(shared), 0)

    def test_a_caller_leaving_leaves_the_others(self):
        for cancel_abandoned in (True, False):
            shared, work = SharedCalls(cancel_abandoned=cancel_abandoned), Work()
            first, second = shared.join("k", work), shared.join("k", work)
            first.cancel()
            self.failureResultOf(first, defer.CancelledError)
            self.assertFalse(work.running[0].called)
            work.running[0].callback("done")
            self.assertEqual(self.successResultOf(second), "done")

    def test_abandoned_work_is_cancelled_only_when_asked(self):
        shared, work = SharedCalls(cancel_abandoned=True), Work()
        d = shared.join("k", work)
        d.cancel()
        self.failureResultOf(d, defer.CancelledError)
        self.assertTrue(work.running[0].called)  # cancelled with the last caller
        self.assertEqual(len(shared), 0)

        shared, work = SharedCalls(cancel_abandoned=False), Work()
        d = shared.join("k", work)
        d.cancel()
        self.failureResultOf(d, defer.CancelledError)
        self.assertFalse(work.running[0].called)  # runs on: still worth its result
        late = shared.join("k", work)
        self.assertEqual(work.started, 1)
        work.running[0].callback("kept")
        self.assertEqual(self.successResultOf(late), "kept")
