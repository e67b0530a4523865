"""The converted job list, kept per identity and refreshed with Slurm's own ``last_update``.

GET /jobs is the hot path. slurmctld answers ``REQUEST_JOB_INFO`` with
``SLURM_NO_CHANGE_IN_DATA`` when ``last_update - 1 >= time of the last job change``; asking
with the ``last_update`` of the reply we hold therefore tells us, for the price of a tiny RPC,
whether that reply is still what Slurm would send. While it is, the converted document — the
very same ``Result`` object, whose ``cache`` dict lets the web room keep the serialised bytes —
is answered again without decoding or converting anything: exactly as fresh as slurmrestd.

Entries are per user (what a user may see depends on who asks: PrivateData, hidden
partitions), in a small LRU. Concurrent requests of the same user share one refresh.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Hashable

from twisted.internet import defer
from twisted.python.failure import Failure

from slurmrest.api.registry import Result
from slurmrest.wire.errors import NoChange


@dataclass
class _Entry:
    last_update: int
    result: Result


class JobListCache:
    """``Result`` of GET /jobs per identity, bounded to ``max_entries`` identities (LRU)."""

    def __init__(self, max_entries: int = 32):
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._refreshing: dict[Hashable, list[defer.Deferred]] = {}
        #: How often a request was answered from the cache, and how often it was rebuilt
        #: (for benchmarks and diagnostics).
        self.hits = 0
        self.rebuilds = 0

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: Hashable, load: Callable[[int], Awaitable[dict]],
                  build: Callable[[dict], Any]) -> Result:
        """The current ``Result`` for ``key``.

        ``load(last_update)`` is the jobs RPC (raising ``NoChange`` when nothing changed);
        ``build(reply)`` converts a reply into the payload dict.
        """
        waiters = self._refreshing.get(key)
        if waiters is not None:
            waiter: defer.Deferred = defer.Deferred()
            waiters.append(waiter)
            return await waiter
        self._refreshing[key] = waiters = []
        try:
            result = await self._refresh(key, load, build)
        except BaseException as exc:
            failure = Failure(exc)
            del self._refreshing[key]
            for waiter in waiters:
                waiter.errback(failure)
            raise
        del self._refreshing[key]
        for waiter in waiters:
            waiter.callback(result)
        return result

    async def _refresh(self, key, load, build) -> Result:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            try:
                reply = await load(entry.last_update)
            except NoChange:
                self.hits += 1
                return entry.result
        else:
            reply = await load(0)
        return self.put(key, reply, build)

    def put(self, key: Hashable, reply: dict, build: Callable[[dict], Any]) -> Result:
        """Convert a full jobs reply obtained elsewhere (e.g. for a caller's own
        ``update_time``) and keep it as ``key``'s current entry."""
        self.rebuilds += 1
        result = Result(build(reply), cache={})
        self._entries[key] = _Entry(reply.get("last_update") or 0, result)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return result

    def clear(self) -> None:
        self._entries.clear()


#: The cache of calls made outside a server (``call.server`` None).
DEFAULT = JobListCache()


def for_call(call) -> JobListCache:
    """The server's cache (its ``jobs_cache``, attached on first use: one per server, so per
    cluster), else ``DEFAULT``."""
    server = call.server
    if server is None:
        return DEFAULT
    cache = getattr(server, "jobs_cache", None)
    if cache is None:
        cache = server.jobs_cache = JobListCache()
    return cache
