"""Watching the RPCs a client makes, without the wire knowing who watches.

A client holds an ``RpcObservers``; whoever assembles the server (``tap``) adds callables to
it, each called as ``observer(daemon, msg_type_name, seconds, error)`` once per RPC that went
out on the wire (a read shared by several callers is one RPC). ``error`` is None on success
(``NoChange`` included: "unchanged since" is an answer), else the Slurm error's name (``ESLURM_ACCESS_DENIED``, ``SLURM_COMMUNICATIONS_CONNECTION_ERROR``)
or the exception's class name. Observers run in the caller's context (so ``contextvars`` of
the request that made the RPC are visible) and must not raise; one that does is logged and
left out of that RPC only.
"""

from __future__ import annotations

import time
from typing import Callable

from twisted.logger import Logger

from slurmrest.wire.errors import NoChange, SlurmError

log = Logger()

Observer = Callable[[str, str, float, "str | None"], None]


class RpcObservers:
    def __init__(self, daemon: str):
        self.daemon = daemon
        self._observers: list[Observer] = []

    def add(self, observer: Observer) -> None:
        self._observers.append(observer)

    def remove(self, observer: Observer) -> None:
        self._observers.remove(observer)

    def __bool__(self) -> bool:
        return bool(self._observers)

    @staticmethod
    def start() -> float:
        return time.perf_counter()

    def done(self, msg_type_name: str, started: float, error: BaseException | None) -> None:
        if not self._observers:
            return
        seconds = time.perf_counter() - started
        name = None
        if error is not None and not isinstance(error, NoChange):  # "unchanged" is an answer
            name = error.name if isinstance(error, SlurmError) else type(error).__name__
        for observer in self._observers:
            try:
                observer(self.daemon, msg_type_name, seconds, name)
            except Exception:
                log.failure("an RPC observer failed")
