"""A ``Stream`` answer (``api.registry.Stream``) as server-sent events over one HTTP response
(``GatewayRequest.start_stream`` sends the head and hands the stream a ``Sink``).

The head goes out at once (``text/event-stream``, no length: the body ends when the
connection closes, so the connection is not reused); then the stream writes events through a
``Sink``. A client that stops reading is dropped once more than ``max_backlog`` bytes wait
for it in the transport (before its next event): a slow watcher never holds memory without
bound.
"""

from __future__ import annotations

#: Bytes that may wait unsent for one watcher before it is dropped.
DEFAULT_MAX_BACKLOG = 4 * 1024 * 1024


def backlog(transport) -> int:
    """Bytes written to ``transport`` and not yet taken by the socket."""
    queued = getattr(transport, "dataBuffer", b"")
    return (len(queued) - getattr(transport, "offset", 0)
            + getattr(transport, "_tempDataLen", 0))


class Sink:
    """Where a stream writes: ``write(data) -> bool`` (False once the client is gone or was
    dropped), ``close()`` (the end of the response)."""

    def __init__(self, request, max_backlog: int, write):
        self.request = request
        self._write = write  # channel.write_now
        self.max_backlog = max_backlog
        self.closed = False
        #: Whether this sink dropped its client for not reading (tests, diagnostics).
        self.dropped = False

    def write(self, data: bytes) -> bool:
        transport = self.request.channel.transport if self.request.channel else None
        if self.closed or transport is None or self.request._disconnected:
            self.closed = True
            return False
        # What still waits from before, not this write: a first event (every job of a big
        # queue) may be larger than the bound. Memory: at most the bound plus one event.
        if backlog(transport) > self.max_backlog:
            self.closed = self.dropped = True
            transport.abortConnection()
            return False
        self._write(transport, data)
        return True

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.request.finished = 1
        channel = self.request.channel
        if channel is not None and channel.transport is not None:
            channel.transport.loseConnection()
