"""What operations keep between requests: one ``ServerState`` per server (so per cluster).

An operation module declares what it keeps as a ``Slot`` (a name and a factory), and finds it
with ``call.state[SLOT]``: created on first use, typed by its factory, and nothing hung on the
web room's objects. A ``Call`` made outside a server (tests, scripts) gets a fresh state.
"""

from __future__ import annotations

from typing import Callable, Generic, TypeVar

from slurmrest.api.meta import BuildInfoCache

T = TypeVar("T")


class Slot(Generic[T]):
    """One thing a server keeps for an operation: ``factory()`` makes it on first use."""

    __slots__ = ("name", "factory")

    def __init__(self, name: str, factory: Callable[[], T]):
        self.name = name
        self.factory = factory

    def __repr__(self) -> str:
        return f"Slot({self.name!r})"


class ServerState:
    """The controller's build info (``meta`` and several operations need it) and every
    operation's ``Slot``."""

    def __init__(self, build_info: BuildInfoCache | None = None):
        self.build_info = build_info if build_info is not None else BuildInfoCache()
        self._kept: dict[Slot, object] = {}

    def __getitem__(self, slot: Slot[T]) -> T:
        try:
            return self._kept[slot]  # type: ignore[return-value]
        except KeyError:
            value = self._kept[slot] = slot.factory()
            return value

    def get(self, slot: Slot[T]) -> T | None:
        """What ``slot`` holds, without creating it."""
        return self._kept.get(slot)  # type: ignore[return-value]

    def put(self, slot: Slot[T], value: T) -> None:
        self._kept[slot] = value

    def kept(self) -> list[tuple[str, object]]:
        """(slot name, what it holds) of every slot in use (metrics read caches' counters)."""
        return [(slot.name, value) for slot, value in list(self._kept.items())]


class LastAnswer:
    """An operation's last answer and what it was made from: the same source again is the
    same ``Result`` (serialised once)."""

    __slots__ = ("source", "result")

    def __init__(self):
        self.source = self.result = None

    def keep(self, source, result) -> None:
        self.source, self.result = source, result
