"""A ``Stream`` answer (``api.registry.Stream``) as server-sent events over one HTTP response
(``GatewayRequest.start_stream`` sends the head and hands the stream a ``Sink``).

The head goes out at once (``text/event-stream``, no length: the body ends when the
connection closes, so the connection is not reused); then the stream writes events through a
``Sink``. The sink hands the transport one ``CHUNK`` at a time, as the socket takes them (a
pull producer): the first event of a big queue (every job, megabytes) is one bytes object
shared by every watcher that joins at that moment, never a copy per watcher in the
transport. A client that stops reading is dropped once more than ``max_backlog`` bytes of
later events wait for it: a slow watcher never holds memory without bound.
"""

from __future__ import annotations

from collections import deque

from twisted.internet.interfaces import IPullProducer
from zope.interface import implementer

#: Bytes of events that may wait unsent for one watcher before it is dropped.
DEFAULT_MAX_BACKLOG = 4 * 1024 * 1024
#: What the transport is given at a time.
CHUNK = 256 * 1024


@implementer(IPullProducer)
class Sink:
    """Where a stream writes: ``write(data) -> bool`` (False once the client is gone or was
    dropped), ``close()`` (the end of the response, once what waits is sent)."""

    def __init__(self, request, max_backlog: int, write):
        self.request = request
        self._write = write  # channel.write_now
        self.max_backlog = max_backlog
        self.closed = False
        self._closing = False
        self._pending: deque[memoryview] = deque()
        self._waiting = 0  # bytes in _pending
        self._allowance: int | None = None  # the first write's size: not counted as backlog
        self._producing = False
        #: Whether this sink dropped its client for not reading (tests, diagnostics).
        self.dropped = False

    def _transport(self):
        channel = self.request.channel
        if channel is None or self.request._disconnected:
            return None
        return channel.transport

    def write(self, data: bytes) -> bool:
        transport = self._transport()
        if self.closed or self._closing or transport is None:
            self.closed = True
            return False
        if self._allowance is None:
            self._allowance = len(data)
        if self._waiting - self._allowance > self.max_backlog:
            self.closed = self.dropped = True
            self._pending.clear()
            self._waiting = 0
            transport.abortConnection()
            return False
        self._pending.append(memoryview(data))
        self._waiting += len(data)
        if not self._producing:
            self._producing = True
            # Through the request: the HTTP channel is the transport's producer already.
            self.request.registerProducer(self, False)
        return True

    def resumeProducing(self) -> None:
        """The transport has room: the next chunk."""
        transport = self._transport()
        if transport is None or self.closed:
            self._stop_producing(transport)
            return
        if not self._pending:
            self._stop_producing(transport)
            if self._closing:
                self._finish(transport)
            return
        view = self._pending[0]
        chunk = view[:CHUNK]
        if len(view) > CHUNK:
            self._pending[0] = view[CHUNK:]
        else:
            self._pending.popleft()
        self._waiting -= len(chunk)
        if self._allowance:
            self._allowance = max(0, self._allowance - len(chunk))
        self._write(transport, bytes(chunk))

    def stopProducing(self) -> None:
        self.closed = True
        self._pending.clear()
        self._waiting = 0

    def _stop_producing(self, transport) -> None:
        if self._producing:
            self._producing = False
            if transport is not None:
                self.request.unregisterProducer()

    def close(self) -> None:
        """End the response once what waits has been sent."""
        if self.closed or self._closing:
            return
        self._closing = True
        transport = self._transport()
        if not self._pending or transport is None:
            self._stop_producing(transport)
            self._finish(transport)

    def _finish(self, transport) -> None:
        self.closed = True
        self.request.finished = 1
        if transport is not None:
            transport.loseConnection()
