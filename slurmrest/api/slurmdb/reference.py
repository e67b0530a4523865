"""What every accounting (``/slurmdb``) operation shares: slurmdbd's reference tables, kept
for a short time, and the TRES lists they name.

A job's or an association's TRES arrive as ``"1=4,2=1000,1001=2"`` (ids and counts); the
documents name each TRES (``{"type": "cpu", "name": null, "id": 1, "count": 4}``), which
takes slurmdbd's TRES table. Fetching it for every jobs query would double the work, and
slurmdbd cannot say "unchanged", so reference tables are kept for ``REFERENCE_MAX_AGE``
seconds (documented in HACKING.rst), fetched once for all concurrent callers, and forgotten
at once when one of our own writes changes them. TRES and QOS are the same for every user
(``PrivateData`` hides neither), so one copy serves all.
"""

from __future__ import annotations

import time
from typing import Any, Awaitable, Callable

from slurmrest.api.state import Slot
from slurmrest.coalesce import SharedCalls

#: How long a reference table (TRES, QOS) is used without asking slurmdbd again, seconds.
REFERENCE_MAX_AGE = 10.0


class ReferenceTable:
    """One slurmdbd table, shared by every caller, at most ``max_age`` seconds old."""

    def __init__(self, fetch: Callable[[Any], Awaitable[Any]], max_age: float = REFERENCE_MAX_AGE,
                 clock: Callable[[], float] = time.monotonic):
        self._fetch = fetch
        self.max_age = max_age
        self._clock = clock
        self._value = None
        self._fetched = float("-inf")
        self._shared = SharedCalls(cancel_abandoned=False)
        self._generation = 0
        #: How often the table was fetched (tests, benchmarks).
        self.fetches = 0

    async def get(self, call) -> Any:
        if self._value is not None and self._clock() - self._fetched < self.max_age:
            return self._value
        return await self._shared.join(self._generation, lambda: self._load(call))

    async def _load(self, call):
        generation = self._generation
        value = await self._fetch(call)
        self.fetches += 1
        if generation == self._generation:  # not forgotten while it was being fetched
            self._value, self._fetched = value, self._clock()
        return value

    def forget(self) -> None:
        """A write changed the table: the next caller fetches it again."""
        self._value = None
        self._generation += 1


async def _tres_by_id(call) -> dict[int, dict]:
    # Deleted TRES too (slurmrestd's tres_cond has with_deleted=1): old records still name
    # them, and GET /tres lists them (TRES_OFFSET's placeholder 1000 "dynamic_offset").
    return {t["id"]: t for t in await call.slurmdbd.tres({"with_deleted": 1})}


async def _qos_by_id(call) -> dict[int, dict]:
    return {q["id"]: q for q in await call.slurmdbd.qos()}


TRES = Slot("accounting.tres", lambda: ReferenceTable(_tres_by_id))
QOS = Slot("accounting.qos", lambda: ReferenceTable(_qos_by_id))


async def tres_by_id(call) -> dict[int, dict]:
    """slurmdbd's TRES records by id (at most ``REFERENCE_MAX_AGE`` old)."""
    return await call.state[TRES].get(call)


async def qos_by_id(call) -> dict[int, dict]:
    """slurmdbd's QOS records by id (at most ``REFERENCE_MAX_AGE`` old)."""
    return await call.state[QOS].get(call)


def forget(call, *slots: Slot) -> None:
    """After a write of ours: the tables it changed are fetched again on next use."""
    for slot in slots:
        table = call.state.get(slot)
        if table is not None:
            table.forget()


def tres_entry(tres: dict | None, tres_id: int, count: int | None) -> dict:
    """One named TRES, as slurmrestd writes it (an unnamed TRES's name is null)."""
    if tres is None:
        return {"type": None, "name": None, "id": tres_id, "count": count}
    return {"type": tres.get("type") or None, "name": tres.get("name") or None,
            "id": tres_id, "count": count}


def parse_tres(text: str | None) -> list[tuple[int, int]]:
    """``"1=4,2=1000"`` → ``[(1, 4), (2, 1000)]`` in the order given (malformed items are
    skipped, as Slurm's own parser does)."""
    pairs = []
    for item in (text or "").split(","):
        tres_id, sep, count = item.partition("=")
        if not sep:
            continue
        try:
            pairs.append((int(tres_id), int(count)))
        except ValueError:
            continue
    return pairs


def tres_list(text: str | None, by_id: dict[int, dict]) -> list[dict]:
    """A TRES string as slurmrestd's list of named TRES."""
    return [tres_entry(by_id.get(i), i, count) for i, count in parse_tres(text)]


_TRES_KEYS = frozenset({"type", "name", "id", "count"})


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").lower() == (b or "").lower()


def find_tres(entry: dict, by_id: dict[int, dict]) -> int:
    """The id of the TRES a document names, by Slurm's rules (``_find_tres_id``): its id
    (with a type and name that agree, if given), else its type (case-insensitive) and name; a
    type without a name is the first TRES of that type. ValueError with Slurm's words."""
    tres_id, kind, name = entry.get("id"), entry.get("type"), entry.get("name")
    if tres_id is not None and (not isinstance(tres_id, int) or isinstance(tres_id, bool)):
        raise ValueError(f"TRES id must be an integer, not {tres_id!r}")
    for value, what in ((kind, "type"), (name, "name")):
        if value is not None and not isinstance(value, str):
            raise ValueError(f"TRES {what} must be a string, not {value!r}")
    if not kind:
        if tres_id is None:
            raise ValueError("Missing required field 'type'")
        if tres_id not in by_id:
            raise ValueError(f"unknown TRES id {tres_id!r}")
        return tres_id
    for found_id, tres in by_id.items():
        if (tres_id and tres_id == found_id and _same(kind, tres.get("type"))
                and (not name or _same(name, tres.get("name")))) \
                or (not name and _same(kind, tres.get("type"))) \
                or (_same(name, tres.get("name")) and _same(kind, tres.get("type"))):
            if tres_id and tres_id != found_id:
                raise ValueError(
                    f"Requested TRES id({tres_id}) doesn't match TRES type/name"
                    f"({tres.get('type')}/{tres.get('name')}) which id is {found_id}")
            return found_id
    raise ValueError(f"Couldn't find TRES matching name:{name} type:{kind}")


def tres_string(entries: list[dict], by_id: dict[int, dict]) -> str:
    """The other way: a list of TRES documents (by ``id``, or ``type`` and ``name``, as
    ``find_tres``) as slurmdbd's ``"id=count,..."``; ValueError for a TRES slurmdbd does not
    know, a count that is not a non-negative integer, or a field a TRES does not have."""
    if not isinstance(entries, list):
        raise ValueError(f"a TRES list must be a list, not {entries!r}")
    items = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise ValueError(f"a TRES must be an object, not {entry!r}")
        unknown = sorted(set(entry) - _TRES_KEYS)
        if unknown:
            raise ValueError(f"unknown TRES field {unknown[0]!r}")
        tres_id = find_tres(entry, by_id)
        count = entry.get("count")
        if not isinstance(count, int) or isinstance(count, bool):
            raise ValueError(f"TRES {tres_id}: count must be an integer")
        if count < 0:
            raise ValueError(f"TRES {tres_id}: TRES count below 0")
        items.append(f"{tres_id}={count}")
    return ",".join(items)
