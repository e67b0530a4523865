"""HTTP plumbing: a channel that admits each request when its headers are in, before any
body byte is read, and a request that never shows Twisted's HTML error pages.

Twisted's ``HTTPChannel`` reads the whole body and only then calls ``Request.process``. We
hook ``allHeadersReceived``: a refused request is processed at once as if it had no body,
its answer says ``Connection: close``, and the connection closes after it, so the unread
body is never parsed (nor taken for the next request).

The per-request path is kept short: ``process`` goes straight to the gateway (no resource
traversal), an answer is one ``write`` of status line, headers and body (``send``; the
``Date`` text is made once a second), and the access log is off unless asked for, and then
one cheap line per request (``AccessLog``).
"""

from __future__ import annotations

import os
import pwd
import re
import socket
import struct
import time

from twisted.internet import defer, tcp
from twisted.logger import Logger
from twisted.web import http, resource, server
# Taken once: every attribute read through ``http.`` goes through a deprecation proxy.
from twisted.web.http import NO_BODY_CODES, RESPONSES, datetimeToString

from slurmrest.web import errors, event_stream
from slurmrest.web.access_log import access_line, operation_label
from slurmrest.web.content import encode
from slurmrest.web.gateway import SERVER, Admission, Gateway
from slurmrest.web.limits import DEFAULT_LIMITS, Counter
from slurmrest.web.metrics import RequestRpcs

log = Logger()

_PEERCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


def peer_user(transport) -> str | None:
    """The user at the other end of a transport's UNIX socket, else None."""
    sock = getattr(transport, "socket", None)
    return socket_peer_user(sock) if sock is not None else None


def socket_peer_user(sock) -> str | None:
    """The user at the other end of a UNIX socket (SO_PEERCRED), else None."""
    if getattr(sock, "family", None) != socket.AF_UNIX:
        return None
    try:
        _, uid, _ = _PEERCRED.unpack(
            sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size))
        return pwd.getpwuid(uid).pw_name
    except (OSError, KeyError):
        return None


def _address_of(peer) -> str:
    """Whom a connection counts against: its host (one key for all UNIX-socket peers)."""
    return getattr(peer, "host", None) or "local"


_date = [0, b""]


def write_now(transport, data: bytes) -> None:
    """``transport.write``, but straight to the socket when nothing is queued before it:
    the answer leaves now rather than on the reactor's next turn (and the socket is not
    watched for writability just for that). Only plain TCP; what the socket does not take
    at once, and any error, is left to the transport as usual."""
    if (type(transport) is tcp.Server and not transport.dataBuffer
            and not transport._tempDataBuffer and transport.connected
            and not transport.disconnecting):
        try:
            sent = transport.socket.send(data)
        except OSError:  # would block, or broken: the transport finds out its own way
            sent = 0
        if sent == len(data):
            return
        data = data[sent:]
    transport.write(data)


def http_date(now: float | None = None) -> bytes:
    """The ``Date`` header's text for this second (formatted once a second, not per request)."""
    second = int(time.time() if now is None else now)
    if _date[0] != second:
        _date[0], _date[1] = second, datetimeToString(second)
    return _date[1]


#: What the fast parser takes as it is; anything else goes through Twisted's parser.
_TARGET = re.compile(rb"[\x21-\xb0]+")
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_METHODS = frozenset({b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"PATCH", b"OPTIONS"})
_VERSIONS = frozenset({b"HTTP/1.1", b"HTTP/1.0"})
_BODY_HEADERS = frozenset({b"content-length", b"transfer-encoding"})
_HEAD_END = b"\r\n\r\n"
_BARE_LF = re.compile(rb"(?<!\r)\n")
#: Header names seen, and whether the fast parser takes them.
_NAMES: dict[bytes, bool] = {}


def parse_head(data: bytes, max_headers: int):
    """A request that is all head (no body), as one ``data``: (method, target, version,
    [(name, value)]); None when Twisted's own parser must decide (a body, folded or odd
    headers, anything it might refuse)."""
    lines = data[:-4].split(b"\r\n")
    first = lines[0].split(b" ")
    if len(first) != 3:
        return None
    method, target, version = first
    if method not in _METHODS or version not in _VERSIONS or not _TARGET.fullmatch(target):
        return None
    if len(lines) > max_headers + 1:
        return None
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        known = _NAMES.get(name)
        if known is None:
            known = bool(colon and _TOKEN.fullmatch(name) and name.lower() not in _BODY_HEADERS)
            if len(_NAMES) < 1024:  # clients use few names; a flood of new ones is not kept
                _NAMES[name] = known
        if not known or not colon:
            return None
        value = value.strip(b" \t")
        if b"\r" in value or b"\n" in value or b"\x00" in value:
            return None
        headers.append((name, value))
    return method, target, version, headers


#: The fast path relies on HTTPChannel's parser state (private names). Checked once: a
#: Twisted that renamed them gets Twisted's own parser for every request, never an error.
FAST_HEAD_PARSING = all(hasattr(http.HTTPChannel, name) for name in (
    "line_mode", "_buffer", "_busyReceiving", "persistent", "_HTTPChannel__first_line",
    "totalHeadersSize", "maxHeaders", "allHeadersReceived", "allContentReceived"))


class GatewayChannel(http.HTTPChannel):
    #: Set by ``inet`` to the process user; UNIX-socket peers are found per connection.
    local_user: str | None = None
    _peer = None
    _host = None

    def dataReceived(self, data):
        # The usual request arrives whole, head only, on an idle connection: parse it here
        # in one go instead of line by line (same checks, same state as Twisted's parser).
        if (FAST_HEAD_PARSING and self.line_mode and not self._buffer
                and not self._busyReceiving and not getattr(self, "_handlingRequest", True)
                and self.persistent
                and self._HTTPChannel__first_line == 1
                and len(data) <= self.totalHeadersSize and data.endswith(_HEAD_END)
                and data.find(_HEAD_END) == len(data) - 4):
            head = parse_head(data, self.maxHeaders)
            if head is not None:
                self.resetTimeout()
                self._head_received(*head)
                return
        if self._refused_connection:
            return
        if self.line_mode and _BARE_LF.search(self._buffer[-1:] + data[:self.totalHeadersSize]
                                              .split(_HEAD_END, 1)[0]):
            # Twisted waits for a CRLF that never comes: say why instead of staying silent.
            self._answer_and_close(400, "Bad request", "lines of a request head end with CRLF")
            return
        if self._request_timer is None and self.line_mode is not None:
            # A request begins: it has limits.request_seconds to arrive whole.
            self._request_timer = self.callLater(self.limits.request_seconds,
                                                 self._request_too_slow)
        super().dataReceived(data)
        decoder = getattr(self, "_transferDecoder", None)
        if getattr(decoder, "state", None) == "BODY" and self.requests:
            # A chunk that declares more than the body may hold is refused on its header.
            request = self.requests[-1]
            if request._received + decoder.length > self.site.gateway.max_body_size:
                request.refuse_too_large()

    # -- limits (web.limits) ------------------------------------------------------------

    _request_timer = None
    _refused_connection = False
    _address_key = None

    @property
    def limits(self):
        site = getattr(self, "site", None)
        return site.gateway.limits if site is not None else DEFAULT_LIMITS

    def _request_too_slow(self):
        self._request_timer = None
        self._answer_and_close(408, "Request timeout",
                               f"the whole request must arrive within "
                               f"{self.limits.request_seconds:g} seconds")

    def _stop_request_timer(self):
        timer, self._request_timer = self._request_timer, None
        if timer is not None and timer.active():
            timer.cancel()

    def allContentReceived(self):
        self._stop_request_timer()
        super().allContentReceived()

    _drain_timer = None

    def pauseProducing(self):
        """Our send buffer is full (the client does not read): it has drain_seconds."""
        super().pauseProducing()
        if self._drain_timer is None:
            self._drain_timer = self.callLater(self.limits.drain_seconds, self._not_draining)

    def resumeProducing(self):
        timer, self._drain_timer = self._drain_timer, None
        if timer is not None and timer.active():
            timer.cancel()
        super().resumeProducing()

    def _not_draining(self):
        self._drain_timer = None
        if self.transport is not None:
            self.transport.abortConnection()  # nothing can be said to one who does not read

    def _respondToBadRequestAndDisconnect(self):
        """Twisted's bare 400: a JSON answer, 431/414 when the head is too large."""
        if (self._receivedHeaderCount > self.maxHeaders
                or self._receivedHeaderSize > self.totalHeadersSize):
            self._head_too_large()
        else:
            self._answer_and_close(400, "Bad request", "the request is not valid HTTP/1.1")

    def _maybeChooseTransferDecoder(self, header, data):
        # Twisted's int() of a Content-Length of thousands of digits raises from deep in
        # the parser (a traceback in our log per request, for anyone to flood it).
        if header.lower() == b"content-length" and len(data.strip()) > 18:
            self._answer_and_close(400, "Bad request", "Content-Length is not a valid length")
            return False
        return super()._maybeChooseTransferDecoder(header, data)

    def lineLengthExceeded(self, line):
        self._head_too_large()

    def _head_too_large(self):
        limits = self.limits
        if self._HTTPChannel__first_line:
            self._answer_and_close(414, "URI too long", f"the request line may have at most "
                                   f"{limits.max_head_bytes} bytes")
        else:
            self._answer_and_close(431, "Request header fields too large",
                                   f"at most {limits.max_headers} headers and "
                                   f"{limits.max_head_bytes} bytes of head")

    def _answer_and_close(self, status: int, error: str, description: str,
                          headers: dict | None = None) -> None:
        """An answer of the connection itself (no request object), then hang up."""
        self._stop_request_timer()
        if self.transport is None or getattr(self.transport, "disconnecting", False):
            return
        failure = errors.failure(status, error, description, headers=headers)
        site = getattr(self, "site", None)
        body = encode(site.gateway.envelope(Admission(), None, failure.errors)
                      if site is not None else {"errors": failure.errors}, "application/json")
        extra = b"".join(b"%s: %s\r\n" % (k.encode(), v.encode())
                         for k, v in failure.headers.items())
        self.transport.write(b"HTTP/1.1 %d %s\r\nServer: %s\r\nDate: %s\r\n%s"
                             b"Connection: close\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s"
                             % (status, RESPONSES.get(status, b"Error"), SERVER, http_date(),
                                extra, len(body), body))
        self.persistent = False
        self._refused_connection = True
        self.loseConnection()

    def _head_received(self, method, target, version, headers):
        request = self.requestFactory(self, len(self.requests))
        self.requests.append(request)
        raw = request.requestHeaders
        for name, value in headers:
            raw.addRawHeader(name, value)
        self._command, self._path, self._version = method, target, version
        self.length = 0
        self.allHeadersReceived()
        self.allContentReceived()

    def connectionMade(self):
        super().connectionMade()
        limits = self.limits
        self.maxHeaders = limits.max_headers
        self.totalHeadersSize = self.MAX_LENGTH = limits.max_head_bytes
        if self.local_user is None:
            self.local_user = peer_user(self.transport)
        site = getattr(self, "site", None)
        if site is not None:
            site.gateway.metrics.connections_open += 1
            key = _address_of(self.getPeer())
            if site.connections.total() >= limits.max_connections:
                self._too_many_connections("the server")
            elif not site.connections.acquire(key):
                self._too_many_connections("one address")
            else:
                self._address_key = key

    def _too_many_connections(self, whom: str) -> None:
        limit = (self.limits.max_connections if whom == "the server"
                 else self.limits.max_connections_per_address)
        self._answer_and_close(503, "Too many connections",
                               f"{whom} may have at most {limit} connections open",
                               headers={"Retry-After": str(self.limits.retry_after_seconds)})

    def connectionLost(self, reason):
        self._stop_request_timer()
        timer, self._drain_timer = self._drain_timer, None
        if timer is not None and timer.active():
            timer.cancel()
        site = getattr(self, "site", None)
        if site is not None:
            site.gateway.metrics.connections_open -= 1
            key, self._address_key = self._address_key, None
            if key is not None:
                site.connections.release(key)
        super().connectionLost(reason)

    # Each Request asks for both; the transport builds a new address object every time.
    def getPeer(self):
        if self._peer is None:
            self._peer = self.transport.getPeer()
        return self._peer

    def getHost(self):
        if self._host is None:
            self._host = self.transport.getHost()
        return self._host

    def allHeadersReceived(self):
        req = self.requests[-1]
        req.started = time.perf_counter()
        req.rpcs = RequestRpcs()
        self.persistent = self.checkPersistence(req, self._version)
        gateway: Gateway = self.site.gateway
        metrics = req.in_flight = gateway.metrics
        req.gateway = gateway
        metrics.requests_in_flight += 1
        if gateway.cors:
            req.cors_headers = gateway.cors.answer_headers(req.requestHeaders)
        try:
            adm = gateway.admit(self._command, self._path, req.requestHeaders, self.length,
                                self.local_user)
        except Exception:
            log.failure("admitting a request failed")
            adm = Admission(failure=errors.internal_error(close=True))
        req.admission = adm
        if adm.failure is not None and self.length != 0:
            # Refused with a body on its way: answer now, read none of it, then close.
            self.persistent = False
            self.length = 0
            req.gotLength(0)
            return
        req.gotLength(self.length)
        expect = req.requestHeaders.getRawHeaders(b"Expect")
        if expect and expect[0].lower() == b"100-continue" and self._version == b"HTTP/1.1":
            self._send100Continue()

    def refuse_body(self, body: bytes, media: bytes) -> None:
        """A chunked body grew past the limit: answer 413 directly and hang up."""
        self.transport.write(
            b"HTTP/1.1 413 Request Entity Too Large\r\nContent-Type: %s\r\n"
            b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (media, len(body), body))
        self.transport.loseConnection()


class GatewayRequest(server.Request):
    _parsePOSTFormSubmission = False  # bodies are API documents, never form fields
    admission: Admission | None = None
    _received = 0
    _refused = False
    #: The gateway's work on this request while it runs (cancelled if the client goes away).
    _work: defer.Deferred | None = None
    #: When its head was in (``time.perf_counter``), the RPCs it made, whether it counts as
    #: in flight, and the CORS headers every answer to it carries.
    started: float | None = None
    rpcs: RequestRpcs | None = None
    in_flight = None  # the metrics it counts in while it is in flight
    gateway = None  # whose in-flight slot it holds (web.limits)
    cors_headers: tuple = ()

    def _answered(self):
        metrics, self.in_flight = self.in_flight, None
        if metrics is not None:
            metrics.requests_in_flight -= 1
            self.gateway.release(self.admission)

    def process(self):
        """Straight to the gateway: every path is the gateway's to route."""
        self.site = self.channel.site
        d = defer.ensureDeferred(self.site.gateway.respond(self, self.admission))
        if not d.called:
            self._work = d
        d.addErrback(self._failed)

    def _failed(self, f):
        self._work = None
        if not f.check(defer.CancelledError):
            self.processingFailed(f)

    def connectionLost(self, reason):
        super().connectionLost(reason)
        self._answered()
        work, self._work = self._work, None
        if work is not None and not work.called:
            work.cancel()

    def send(self, status: int, body: bytes | None, media: bytes | None,
             headers: tuple = ()) -> None:
        """The whole answer in one write: status line, headers, body; then finish.

        ``media`` is the Content-Type (with ``body``); ``headers`` more ``(name, value)``
        byte pairs. A HEAD request gets the headers only; so do 204 and 304 answers.
        """
        if self.finished or self._disconnected:
            return
        self.code = status
        self.code_message = RESPONSES.get(status, b"Unknown Status")
        channel = self.channel
        head = [b"%s %d %s\r\nServer: %s\r\nDate: %s\r\n"
                % (self.clientproto, status, self.code_message, SERVER, http_date())]
        for name, value in headers:
            head.append(b"%s: %s\r\n" % (name, value))
        for name, value in self.cors_headers:
            head.append(b"%s: %s\r\n" % (name, value))
        if not channel.persistent:
            head.append(b"Connection: close\r\n")
        if body is not None:
            head.append(b"Content-Type: %s\r\nContent-Length: %d\r\n\r\n"
                        % (media, len(body)))
            if self.method != b"HEAD" and status not in NO_BODY_CODES:
                head.append(body)
                self.sentLength = len(body)
        else:
            head.append(b"Content-Length: 0\r\n\r\n" if status not in NO_BODY_CODES
                        else b"\r\n")
        self.startedWriting = 1
        write_now(channel.transport, b"".join(head))
        self._work = None
        self._answered()
        site = getattr(channel, "site", None)
        if site is not None:
            site.log(self)
        self.finished = 1
        if not self.queued:
            self._cleanup()

    def start_stream(self, stream, max_backlog: int) -> "event_stream.Sink | None":
        """Send the head of an event stream (``api.registry.Stream``) and hand the stream
        its sink; the body ends when the connection closes, so it is not reused."""
        if self.finished or self._disconnected:
            stream.detach()
            return None
        channel = self.channel
        channel.persistent = False
        head = [b"%s 200 OK\r\nServer: %s\r\nDate: %s\r\n" % (self.clientproto, SERVER,
                                                             http_date()),
                b"Content-Type: %s\r\nCache-Control: no-cache\r\nX-Accel-Buffering: no\r\n"
                b"Connection: close\r\n" % stream.media.encode()]
        for name, value in self.cors_headers:
            head.append(b"%s: %s\r\n" % (name, value))
        head.append(b"\r\n")
        self.code = 200
        self.startedWriting = 1
        self._work = None
        self._answered()
        write_now(channel.transport, b"".join(head))
        sink = event_stream.Sink(self, max_backlog, write_now)
        # The client going away ends the stream (the request never finishes on its own).
        self.notifyFinish().addBoth(lambda _: stream.detach())
        stream.attach(sink)
        return sink

    def handleContentChunk(self, data):
        if self._refused:
            return
        self._received += len(data)
        if self._received > self.channel.site.gateway.max_body_size:
            return self.refuse_too_large()
        super().handleContentChunk(data)

    def refuse_too_large(self) -> None:
        """413 at once, and hang up: the body is (or declares itself) past the limit."""
        if self._refused:
            return
        self._refused = True
        gateway: Gateway = self.channel.site.gateway
        adm = self.admission or Admission()
        failure = errors.failure(413, "Request body too large",
                                 f"the body may have at most {gateway.max_body_size} bytes")
        self.channel.refuse_body(encode(gateway.envelope(adm, None, failure.errors), adm.media),
                                 adm.media.encode())

    def requestReceived(self, command, path, version):
        """Twisted's, less its query and form parsing: the gateway reads the query itself
        and bodies are API documents."""
        if self._refused:
            return
        self.content.seek(0, 0)
        self.args = {}
        self.method, self.uri, self.clientproto = command, path, version
        self.path = path.split(b"?", 1)[0]
        self.process()

    def processingFailed(self, reason):
        """Last resort: a JSON 500, the traceback in our log only."""
        log.failure("request processing failed", reason)
        if self.finished or self._disconnected:
            return
        gateway: Gateway = self.site.gateway
        adm = self.admission or Admission()
        self.responseHeaders = http.Headers()
        gateway.send_failure(self, adm, errors.internal_error())


class GatewaySite(server.Site):
    """The gateway's HTTP factory. ``access_log``: a file name, ``"-"`` (standard output) or
    None (no access log: the default; the request line of each request otherwise)."""

    requestFactory = GatewayRequest
    protocol = GatewayChannel
    displayTracebacks = False
    noisy = False

    #: Idle keep-alive connections are closed after this many seconds (Twisted's default is
    #: 12 hours: a file descriptor each).
    IDLE_TIMEOUT = 120

    def __init__(self, gateway: Gateway, access_log: str | None = None, **kwargs):
        kwargs.setdefault("timeout", self.IDLE_TIMEOUT)
        # GatewayRequest.process hands every request to the gateway: Twisted's resource
        # tree is never consulted, so it is an empty one.
        super().__init__(resource.Resource(), **kwargs)
        self.gateway = gateway
        #: Open connections per client address (``web.limits``).
        self.connections = Counter(getattr(gateway, "limits", DEFAULT_LIMITS)
                                   .max_connections_per_address)
        self.access_log = access_log
        self._logFile = None

    def startFactory(self):
        if self.access_log is None:
            return  # no log file, no once-a-second timer
        self._updateLogDateTime()
        if self.access_log == "-":
            # The process's real standard output (twistd replaces sys.stdout with a logger).
            self._logFile = open(os.dup(1), "a", encoding="utf-8", newline="\n")
        else:
            # Buffered: flushed once a second (with the date) and at stop, not per request.
            self._logFile = open(self.access_log, "a", encoding="utf-8", newline="\n")

    def stopFactory(self):
        log_file, self._logFile = self._logFile, None
        if log_file is not None:
            log_file.close()
        if self._logDateTimeCall is not None and self._logDateTimeCall.active():
            self._logDateTimeCall.cancel()
        self._logDateTimeCall = None

    def _updateLogDateTime(self):
        super()._updateLogDateTime()
        if self._logFile is not None:
            try:
                self._logFile.flush()
            except (OSError, ValueError):
                pass

    def log(self, request):
        """Every answer: its metrics, and its access-log line when there is a log (one JSON
        line: ``web.access_log``; nothing of a token or a key)."""
        started = request.started
        seconds = time.perf_counter() - started if started is not None else 0.0
        adm = request.admission
        method = request.method if request.method in _METHODS else b"other"  # bounded labels
        self.gateway.metrics.request_answered(
            operation_label(adm), method.decode("latin-1"), request.code, seconds)
        log_file = self._logFile
        if log_file is None:
            return
        log_file.write(access_line(request, adm, seconds))

