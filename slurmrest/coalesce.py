"""Concurrent identical work runs once: the first caller starts it, later callers with the
same key wait for the same outcome.

Used by both rooms that need it (the wire client shares identical read RPCs in flight; the
operations' caches share a refresh), so it belongs to neither. Each caller gets a Deferred of
its own: a caller that cancels only stops waiting. With ``cancel_abandoned`` the work itself
is cancelled once nobody waits any more (an RPC nobody wants); without it, the work runs on
(a cache refresh still worth keeping).
"""

from __future__ import annotations

from typing import Awaitable, Callable, Hashable

from twisted.internet import defer
from twisted.python.failure import Failure


class _Waiters:
    """One piece of work in flight and the callers waiting for it."""

    __slots__ = ("work", "waiters", "cancel_abandoned")

    def __init__(self, work: defer.Deferred, cancel_abandoned: bool):
        self.work = work
        self.waiters: list[defer.Deferred] = []
        self.cancel_abandoned = cancel_abandoned

    def wait(self) -> defer.Deferred:
        waiter = defer.Deferred(canceller=self._leave)
        self.waiters.append(waiter)
        return waiter

    def _leave(self, waiter: defer.Deferred) -> None:
        if waiter in self.waiters:
            self.waiters.remove(waiter)
        if self.cancel_abandoned and not self.waiters and not self.work.called:
            self.work.cancel()

    def fire(self, result) -> None:
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            if isinstance(result, Failure):
                waiter.errback(result)
            else:
                waiter.callback(result)


class SharedCalls:
    """Work in flight, by key."""

    def __init__(self, *, cancel_abandoned: bool):
        self.cancel_abandoned = cancel_abandoned
        self._running: dict[Hashable, _Waiters] = {}
        #: How many callers joined work already in flight (diagnostics, benchmarks).
        self.joined = 0

    def __len__(self) -> int:
        return len(self._running)

    def join(self, key: Hashable, start: Callable[[], Awaitable]) -> defer.Deferred:
        """The outcome of ``start()`` for ``key``: started now, or already in flight."""
        shared = self._running.get(key)
        if shared is not None:
            self.joined += 1
            return shared.wait()
        work = defer.ensureDeferred(start())
        if work.called:  # finished at once: nothing to share
            return work
        shared = self._running[key] = _Waiters(work, self.cancel_abandoned)
        waiter = shared.wait()

        def done(result):
            if self._running.get(key) is shared:
                del self._running[key]
            shared.fire(result)
            return None  # a failure was handed to every waiter: not unhandled here

        work.addBoth(done)
        return waiter
