"""Converted documents kept per user and revalidated with Slurm's own ``last_update``.

slurmctld answers a read RPC asked with the ``last_update`` of the reply we hold with
``SLURM_NO_CHANGE_IN_DATA`` while nothing changed. Keeping, per user, the converted ``Result``
(``cache={}``, so the web room keeps its serialised bytes too) and that ``last_update`` makes
an unchanged answer cost one tiny RPC and nothing else — exactly as fresh as slurmrestd.

Every request makes its own RPC with the caller's credential: that RPC is what authenticates
the caller when the server cannot check tokens itself, so nothing is answered without it,
and a refresh in flight is shared only between callers with the same credential.

Some documents depend on more than one reply (a node's partitions come from the partition
table): each reply is revalidated (in parallel) and the document is reused only when all
are unchanged. Entries are per user, in a small LRU. Single items (GET /node/{name}) are
filtered from the same collection, each with its own kept ``Result``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Awaitable, Callable, Hashable, Protocol, Sequence

from twisted.internet import defer

from slurmrest.api.errors import SHORT, NotModified, Refusal, error_entry
from slurmrest.api.registry import Result
from slurmrest.api.state import Slot
from slurmrest.coalesce import SharedCalls
from slurmrest.wire.errors import NoChange

Load = Callable[[int], Awaitable[dict]]


class Entry:
    """One user's converted collection: the ``last_update`` of each reply it was made from,
    its ``Result``, and the single-item ``Result`` objects made from it so far."""

    def __init__(self, stamps: tuple[int, ...], result: Result):
        self.stamps = stamps
        self.result = result
        self._items: dict[Hashable, Result | None] = {}

    def item(self, name: Hashable, make: Callable[[Result, Hashable], Result | None]
             ) -> Result | None:
        """The kept ``Result`` of one item, ``make(collection, name)`` the first time (None:
        no such item; only names that exist are remembered, so memory stays bounded)."""
        if name in self._items:
            return self._items[name]
        found = make(self.result, name)
        if found is not None:
            self._items[name] = found
        return found


async def _revalidate(load: Load, stamp: int):
    """The reply, or None when it is unchanged since ``stamp``."""
    try:
        return await load(stamp)
    except NoChange:
        if stamp == 0:
            raise
        return None


async def load_all(loads: Sequence[Load], stamps: Sequence[int]) -> list:
    """All RPCs at once (a reply, or None when unchanged since its stamp); the first failure
    cancels the others (their connections closed, their timers stopped)."""
    if len(loads) == 1:
        return [await _revalidate(loads[0], stamps[0])]
    pending = [defer.ensureDeferred(_revalidate(load, stamp))
               for load, stamp in zip(loads, stamps)]
    try:
        return await defer.gatherResults(pending, consumeErrors=True)
    except defer.FirstError as err:
        for d in pending:
            if not d.called:
                d.addErrback(lambda _: None)
                d.cancel()
        err.subFailure.raiseException()
    except BaseException:
        for d in pending:
            d.addErrback(lambda _: None)
            d.cancel()
        raise


class RevalidatedCache:
    """Per-user ``Entry`` made by ``build(*replies) -> payload`` from the replies of
    ``loads`` (each ``load(last_update)`` an RPC raising ``NoChange`` while unchanged),
    bounded to ``max_entries`` users (LRU)."""

    def __init__(self, build: Callable[..., dict], max_entries: int = 32):
        self.build = build
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()
        # A caller that goes away only stops waiting: the refresh runs on and fills the cache.
        self._refreshing = SharedCalls(cancel_abandoned=False)
        #: Requests answered from a kept entry, and entries (re)built (diagnostics, tests).
        self.hits = 0
        self.rebuilds = 0

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: Hashable, loads: Sequence[Load], *,
                  credential: Hashable = None) -> Entry:
        """``key``'s current entry, revalidated with the caller's own ``loads``. Only callers
        with the same ``credential`` (what ``loads`` authenticate with) share a refresh."""
        return await self._refreshing.join((key, credential), lambda: self._refresh(key, loads))

    async def _refresh(self, key, loads) -> Entry:
        entry = self._entries.get(key)
        stamps = entry.stamps if entry is not None else (0,) * len(loads)
        replies = await load_all(loads, stamps)
        if entry is not None and all(reply is None for reply in replies):
            self.hits += 1
            if key in self._entries:
                self._entries.move_to_end(key)
            return entry
        missing = [i for i, reply in enumerate(replies) if reply is None]
        if missing:
            # Some reply changed, another did not: the unchanged one afresh, to build from.
            again = await load_all([loads[i] for i in missing], [0] * len(missing))
            for i, reply in zip(missing, again):
                replies[i] = reply
        return self.put(key, replies)

    def put(self, key: Hashable, replies: Sequence[dict]) -> Entry:
        """Build from full replies (also ones obtained elsewhere, e.g. for a caller's own
        ``update_time``) and keep the result as ``key``'s entry unless a newer one is kept."""
        self.rebuilds += 1
        stamps = tuple(reply.get("last_update") or 0 for reply in replies)
        entry = Entry(stamps, Result(self.build(*replies), cache={}))
        held = self._entries.get(key)
        if held is not None and any(new < old for new, old in zip(stamps, held.stamps)):
            return entry  # a concurrent refresh already kept something newer
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return entry

    def clear(self) -> None:
        self._entries.clear()


def cache_slot(name: str, build: Callable[..., dict], max_entries: int = 32
               ) -> Slot[RevalidatedCache]:
    """A server's ``RevalidatedCache`` of documents made by ``build`` (one per server, so
    per cluster): ``call.state[slot]``."""
    return Slot(name, lambda: RevalidatedCache(build, max_entries))


def credential_of(call) -> Hashable:
    """What the caller's RPCs authenticate with (the key of shared refreshes)."""
    return getattr(call.slurmctld, "credential", None)


def item_by_name(collection: str, fold_case: bool = False
                 ) -> Callable[[Result, str], Result | None]:
    """``Entry.item``'s ``make`` for documents found by their ``name`` (``fold_case``: as
    slurmrestd's ``xstrcasecmp``; the name asked for is then already lower case)."""
    def make(result: Result, name: str) -> Result | None:
        found = [doc for doc in result.payload[collection]
                 if ((doc.get("name") or "").lower() if fold_case else doc.get("name")) == name]
        return Result({collection: found}, cache={}) if found else None
    return make


class Kept(Protocol):
    """What ``current`` reads and fills (``RevalidatedCache``, ``job_cache.JobListCache``):
    ``get`` revalidates the caller's kept answer with the caller's own ``loads``, ``put``
    keeps one made from full replies. ``how``: what else the answer is made with."""

    async def get(self, key: Hashable, loads: Sequence[Load], *, credential: Hashable = None,
                  **how): ...

    def put(self, key: Hashable, replies: Sequence[dict], **how): ...


async def current(call, slot: Slot[Kept], loads: Sequence[Load], **how):
    """The caller's kept answer of a revalidated collection (the server's cache ``slot``),
    made from the replies of ``loads`` (each ``load(last_update)`` an RPC raising
    ``NoChange`` while unchanged; their answer is what authenticates the caller).

    The caller's own ``update_time`` keeps its meaning: asked of the first RPC, 304 when
    unchanged since then, else the full answer, which becomes the kept one. Without it the
    kept answer is revalidated (a refresh shared with callers of the same credential)."""
    cache = call.state[slot]
    update_time = call.params.get("update_time")
    if update_time:
        return cache.put(call.user, await _full_replies(loads, update_time), **how)
    return await cache.get(call.user, loads, credential=credential_of(call), **how)


async def _full_replies(loads: Sequence[Load], update_time: int) -> list[dict]:
    """Every reply whole, at once, the first asked with the caller's ``update_time``: it
    alone decides 304 (the others are then left: their connections closed unless another
    caller shares them)."""
    others = [defer.ensureDeferred(load(0)) for load in loads[1:]]
    try:
        first = await loads[0](update_time)
    except BaseException as e:
        for d in others:
            d.addErrback(lambda _: None)
            d.cancel()
        if isinstance(e, NoChange):
            raise NotModified() from None
        raise
    return [first, *[await d for d in others]]


class Collection:
    """A revalidated collection and its single-item route, declared once per operation
    module: the server's kept documents (``slot``, a ``RevalidatedCache`` of ``build``), the
    RPCs they are made from (``loads(call)``), and how one item is found (by ``name``,
    case-folded as slurmrestd's ``xstrcasecmp`` with ``fold_case``). An unknown name is
    Slurm's ``missing`` errno with slurmrestd's document (its error entry, an empty list);
    the operation's error map decides the status."""

    def __init__(self, key: str, build: Callable[..., dict],
                 loads: Callable[[object], Sequence[Load]], *, missing: int,
                 fold_case: bool = False, max_entries: int = 32):
        self.key = key
        self.slot = cache_slot(key, build, max_entries)
        self.loads = loads
        self.missing = missing
        self.fold_case = fold_case
        self._find = item_by_name(key, fold_case)

    async def current(self, call) -> Entry:
        """The caller's kept entry, revalidated with the caller's own RPCs."""
        return await current(call, self.slot, self.loads(call))

    async def all(self, call) -> Result:
        return (await self.current(call)).result

    async def one(self, call, name: str) -> Result:
        """The item called ``name``, filtered from the caller's kept collection."""
        found = (await self.current(call)).item(name.lower() if self.fold_case else name,
                                               self._find)
        if found is None:
            raise Refusal(self.missing, [error_entry(self.missing, form=SHORT)],
                          payload={self.key: []})
        return found
