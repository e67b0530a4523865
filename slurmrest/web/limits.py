"""The limits a production HTTP server keeps against slow and hostile clients, each with a
sane default and configurable (``twistd slurmrest --limit name=value``), each answered with
its own status:

- ``request_seconds``: time to receive a whole request, head and body, from its first byte
  (not only idle time: a client trickling a byte every few seconds is cut off): 408.
- ``max_headers`` and ``max_head_bytes``: header count, and bytes of request line plus
  headers: 431 (414 when the request line alone is too long).
- ``max_connections`` and ``max_connections_per_address``: open connections overall and from
  one client address: 503 with Retry-After, then the connection is closed.
- ``max_in_flight_per_user``: requests of one user being answered at once: 429 with
  Retry-After.
- ``drain_seconds``: how long an answer may sit unread in our send buffer. Once that buffer
  is past the transport's size, Twisted stops reading the connection (no further request of
  it is parsed, so nothing more is queued behind the answer); a client that then reads
  nothing for ``drain_seconds`` is disconnected. One slow reader so holds at most one
  answer, for at most that long.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class Limits:
    request_seconds: float = 30.0
    max_headers: int = 100
    max_head_bytes: int = 16384
    max_connections: int = 4096
    max_connections_per_address: int = 256
    max_in_flight_per_user: int = 64
    drain_seconds: float = 60.0
    #: What Retry-After says on a 429 or 503.
    retry_after_seconds: int = 1

    def with_settings(self, settings: list[str]) -> "Limits":
        """These limits with ``name=value`` settings applied (ValueError on a bad one)."""
        types = {f.name: f.type for f in fields(self)}
        changes = {}
        for setting in settings:
            name, _, text = setting.partition("=")
            name = name.strip().replace("-", "_")
            if name not in types:
                raise ValueError(f"unknown limit {name!r} (known: {', '.join(sorted(types))})")
            value = float(text) if types[name] in (float, "float") else int(text)
            if value <= 0:
                raise ValueError(f"limit {name} must be positive")
            changes[name] = value
        return replace(self, **changes)


DEFAULT_LIMITS = Limits()


class Counter:
    """How many of something each key holds at once, each key at most ``limit``."""

    def __init__(self, limit: int):
        self.limit = limit
        self.held: dict = {}

    def acquire(self, key) -> bool:
        n = self.held.get(key, 0)
        if n >= self.limit:
            return False
        self.held[key] = n + 1
        return True

    def release(self, key) -> None:
        n = self.held.get(key, 0) - 1
        if n > 0:
            self.held[key] = n
        else:
            self.held.pop(key, None)

    def total(self) -> int:
        return sum(self.held.values())
