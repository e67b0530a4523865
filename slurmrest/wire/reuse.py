"""Record lists decoded again only where their bytes changed (the job list of a busy queue).

slurmctld sends the whole job list whenever any job changed; most records are byte for byte
what the previous reply held. A record's encoding is self-delimiting: the unpacker, started at
a record's first byte, reads exactly that record's bytes and nothing after them. So when the
new reply holds, at the offset of the next record, the very bytes of a record decoded before,
that record decodes to what it decoded to then, and its end is known without reading it:
``buf.startswith(raw, off)`` (one memcmp) replaces the decode, and the caller gets the *same*
record object as before (read-only, as every reply is), which lets the operations room reuse
whatever it made from it by identity; and when nothing in the list changed, the very list
object returned last time.

Which earlier record to try at each offset: the one that followed the previous record in the
list decoded last (slurmctld keeps its job list in order). A record that does not match is
decoded; its ``key`` (e.g. job id and array task id) finds where the old list goes on, so an
insertion, a removal or a change costs one decode each. A decoded record whose bytes equal
those of the record kept under its key is replaced by that kept object too.

What is kept: the records of the last two lists decoded (their bytes and records), so memory
follows the size of the queue, not the number of replies or callers. A list less than half as
long as the last (GET /job/{id}: one job) is added to it rather than replacing it.
"""

from __future__ import annotations

from operator import is_, itemgetter
from typing import Callable, Sequence

__all__ = ["ReusedRecords"]


class ReusedRecords:
    """The decoder of a counted list of ``element`` records that reuses unchanged ones.

    ``unpack_list(buf, off, end, n) -> (records, off)`` is what the compiled unpacker of a
    ``Counted(..., reuse=ReusedRecords(...))`` field calls."""

    def __init__(self, element, key: Sequence[str]):
        self.element = element
        self._key: Callable[[dict], object] = itemgetter(*key)
        #: key → [raw bytes, record, key of the record that followed it]
        self._known: dict = {}
        self._older: dict = {}
        self._first = None
        #: The list returned last: returned again (the same object) when every record in
        #: it is unchanged and in the same order, so that callers can tell by identity.
        self._records: list = []
        #: Records matched by their bytes without decoding, and records decoded (diagnostics,
        #: benchmarks, tests).
        self.reused = 0
        self.decoded = 0

    def unpack_list(self, buf: bytes, off: int, end: int, n: int):
        unpack = self.element._unpacker()
        key_of = self._key
        known, older = self._known, self._older
        startswith = buf.startswith
        current: dict = {}
        records = []
        candidate = self._first
        first = last = None
        for _ in range(n):
            entry = known.get(candidate) if candidate is not None else None
            if entry is not None and startswith(entry[0], off, end):
                # Unchanged: its entry goes on as it is (only "what follows" may change).
                key = candidate
                raw, record, candidate = entry
                off += len(raw)
                self.reused += 1
            else:
                record, after = unpack(buf, off, end)
                raw = buf[off:after]
                off = after
                self.decoded += 1
                key = key_of(record)
                old = known.get(key) or older.get(key)
                if old is not None:
                    candidate = old[2]  # the old list goes on after this record
                if old is not None and old[0] == raw:
                    raw, record = old[0], old[1]
                entry = [raw, record, None]
            if last is not None:
                last[2] = key
            else:
                first = key
            current[key] = entry
            last = entry
            records.append(record)
        if last is not None:
            last[2] = None
        if len(current) * 2 < len(known):
            # A short list (one job asked for): the long one stays what the next is read by.
            known.update(current)
            return records, off
        previous = self._records
        if len(previous) == len(records) and all(map(is_, previous, records)):
            records = previous  # the very same list: nothing in it changed
        self._older, self._known, self._first = known, current, first
        self._records = records
        return records, off

    def forget(self) -> None:
        self._known, self._older, self._first, self._records = {}, {}, None, []
