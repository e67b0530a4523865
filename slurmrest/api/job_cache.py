"""The converted job list, kept per identity and refreshed with Slurm's own ``last_update``.

GET /jobs is the hot path. slurmctld answers ``REQUEST_JOB_INFO`` with
``SLURM_NO_CHANGE_IN_DATA`` when ``last_update - 1 >= time of the last job change``; asking
with the ``last_update`` of the reply we hold therefore tells us, for the price of a tiny RPC,
whether that reply is still what Slurm would send. While it is, the converted document — the
very same ``Result`` object, whose ``cache`` dict lets the web room keep the serialised bytes —
is answered again without decoding or converting anything: exactly as fresh as slurmrestd.

One thing Slurm computes at pack time without counting it as a change: a pending job's
expected start is reported as ``MAX(expected start, now)``. A list holding such a clamped
time is therefore kept for the second it was made in only (then fetched afresh), so that its
times never lag behind what slurmrestd would print.

When something did change (on a busy cluster, several times a second), most job records did
not: the wire hands back the very record object of an unchanged record (``wire.reuse``: found
by its bytes, not decoded again), and a record equal to the one converted last time reuses
that job document and its serialised JSON/YAML pieces (``Result.items``), so only changed
jobs are converted and serialised again. (The conversion depends on nothing but the record,
so documents and pieces are shared between identities.)

Entries are per user (what a user may see depends on who asks: PrivateData, hidden
partitions), in a small LRU. Concurrent requests of the same user share one refresh. Entries
are read, kept and revalidated through ``revalidated.current``, as the other collections are.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Awaitable, Callable, Hashable, Sequence

from slurmrest.api.registry import Result
from slurmrest.api.state import Slot
from slurmrest.wire.enums import JOB_PENDING, JOB_STATE_BASE
from slurmrest.coalesce import SharedCalls
from slurmrest.wire.errors import NoChange

Convert = Callable[[dict], dict]
Load = Callable[[int], Awaitable[dict]]


@dataclass
class _Entry:
    last_update: int
    result: Result
    #: Some pending job's start time is "now" at pack time (``pack_job``'s MAX(start, now)).
    clamped: bool = False
    #: The records list it was made from (the wire returns the same list object again when
    #: nothing in it changed: the ``Result`` then stays, its serialised bodies with it).
    records: object = None


def _clamped(records, packed_at: int) -> bool:
    return any(rec.get("job_state", 0) & JOB_STATE_BASE == JOB_PENDING
               and 0 < rec.get("start_time", 0) <= packed_at for rec in records)


class JobListCache:
    """``Result`` of GET /jobs per identity, bounded to ``max_entries`` identities (LRU),
    and the job documents of the last conversion, by job."""

    def __init__(self, max_entries: int = 16, clock: Callable[[], float] = time.time):
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        # A caller that goes away only stops waiting: the refresh runs on and fills the cache.
        self._refreshing = SharedCalls(cancel_abandoned=False)
        #: (job_id, array_task_id) → (decoded record, its document, its serialised pieces),
        #: from the last two builds (so that callers who see different lists share them).
        self._documents: dict[tuple, tuple[dict, dict, dict]] = {}
        self._older: dict[tuple, tuple[dict, dict, dict]] = {}
        self._variant: Hashable = None
        #: How often a request was answered from the cache, how often the list was rebuilt,
        #: and how many job documents were reused in rebuilds (benchmarks, diagnostics).
        self.hits = 0
        self.rebuilds = 0
        self.reused = 0

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: Hashable, loads: Sequence[Load], *, convert: Convert,
                  variant: Hashable = None, credential: Hashable = None) -> Result:
        """The current ``Result`` (payload ``{"jobs": [...]}``) for ``key``.

        ``loads``: the jobs RPC alone (``load(last_update)``, raising ``NoChange`` when
        nothing changed); ``convert(record)`` makes one job document. ``variant``: whatever
        else the documents depend on (a different value forgets the documents kept so far).
        ``credential``: what ``load`` authenticates with. Only callers with the same
        credential share a refresh: every answer rides on an RPC that slurmctld verified for
        that very credential, so a bad token for a user's name never gets that user's list
        from someone else's refresh.
        """
        (load,) = loads
        return await self._refreshing.join(
            (key, credential), lambda: self._refresh(key, load, convert, variant))

    async def _refresh(self, key, load, convert, variant) -> Result:
        entry = self._entries.get(key)
        if entry is not None and entry.clamped and self._clock() >= entry.last_update + 1:
            entry = None  # "now" has moved on: Slurm would print other start times
        if entry is not None:
            self._entries.move_to_end(key)
            try:
                reply = await load(entry.last_update)
            except NoChange:
                self.hits += 1
                return entry.result
        else:
            reply = await load(0)
        return self.put(key, (reply,), convert=convert, variant=variant)

    def put(self, key: Hashable, replies: Sequence[dict], *, convert: Convert,
            variant: Hashable = None) -> Result:
        """Convert a full jobs reply (also one obtained elsewhere, e.g. for a caller's own
        ``update_time``) and keep it as ``key``'s current entry."""
        (reply,) = replies
        records = reply.get("records") or ()
        last_update = reply.get("last_update") or 0
        held = self._entries.get(key)
        if (held is not None and records and held.records is records
                and variant == self._variant):
            self.hits += 1  # a full reply, but not one record in it changed
            result = held.result
        else:
            self.rebuilds += 1
            docs, pieces = self._convert(records, convert, variant)
            result = Result({"jobs": docs}, cache={}, items=("jobs", pieces))
        self._entries[key] = _Entry(last_update, result, _clamped(records, last_update),
                                    records)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return result

    def _convert(self, records, convert: Convert, variant) -> tuple[list, list]:
        if variant != self._variant:
            self._documents = self._older = {}
            self._variant = variant
        before, older = self._documents, self._older
        kept: dict[tuple, tuple[dict, dict, dict]] = {}
        docs, pieces = [], []
        for rec in records:
            ident = (rec.get("job_id"), rec.get("array_task_id"))
            known = before.get(ident) or older.get(ident)
            # The wire returns the same object for an unchanged record: no comparison needed.
            if known is not None and (known[0] is rec or known[0] == rec):
                self.reused += 1
            else:
                known = (rec, convert(rec), {})
            kept[ident] = known
            docs.append(known[1])
            pieces.append(known[2])
        # Only the jobs of the latest lists are kept: memory follows the size of the queue.
        if kept.keys() != before.keys():
            self._older = before
        self._documents = kept
        return docs, pieces

    def clear(self) -> None:
        self._entries.clear()
        self._documents = self._older = {}


#: The job list cache of a server (one per server, so per cluster).
JOBS = Slot("jobs", JobListCache)
