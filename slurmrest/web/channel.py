"""HTTP plumbing: a channel that admits each request when its headers are in, before any
body byte is read, and a request that never shows Twisted's HTML error pages.

Twisted's ``HTTPChannel`` reads the whole body and only then calls ``Request.process``. We
hook ``allHeadersReceived``: a refused request is processed at once as if it had no body,
its answer says ``Connection: close``, and the connection closes after it, so the unread
body is never parsed (nor taken for the next request).
"""

from __future__ import annotations

import pwd
import socket
import struct

from twisted.internet import defer
from twisted.logger import Logger
from twisted.web import http, resource, server

from slurmrest.web import errors
from slurmrest.web.gateway import Admission, Gateway

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


class GatewayChannel(http.HTTPChannel):
    #: Set by ``inet`` to the process user; UNIX-socket peers are found per connection.
    local_user: str | None = None

    def connectionMade(self):
        super().connectionMade()
        if self.local_user is None:
            self.local_user = peer_user(self.transport)

    def allHeadersReceived(self):
        req = self.requests[-1]
        self.persistent = self.checkPersistence(req, self._version)
        gateway: Gateway = self.site.gateway
        try:
            adm = gateway.admit(self._command, self._path, req.requestHeaders, self.length,
                                self.local_user)
        except Exception:
            log.failure("admitting a request failed")
            adm = Admission(failure=errors.failure(
                500, "Internal error", "the server failed to handle the request; see its log",
                close=True))
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

    def refuse_body(self, body: bytes) -> None:
        """A chunked body grew past the limit: answer 413 directly and hang up."""
        self.transport.write(
            b"HTTP/1.1 413 Request Entity Too Large\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        self.transport.loseConnection()


class GatewayRequest(server.Request):
    _parsePOSTFormSubmission = False  # bodies are API documents, never form fields
    admission: Admission | None = None
    _received = 0
    _refused = False

    def handleContentChunk(self, data):
        if self._refused:
            return
        self._received += len(data)
        gateway: Gateway = self.channel.site.gateway
        if self._received > gateway.max_body_size:
            self._refused = True
            adm = self.admission or Admission()
            failure = errors.failure(413, "Request body too large",
                                     f"the body may have at most {gateway.max_body_size} bytes")
            from slurmrest.web.content import encode
            self.channel.refuse_body(encode(gateway.envelope(adm, None, failure.errors), adm.media))
            return
        super().handleContentChunk(data)

    def requestReceived(self, command, path, version):
        if self._refused:
            return
        super().requestReceived(command, path, version)

    def processingFailed(self, reason):
        """Last resort: a JSON 500, the traceback in our log only."""
        log.failure("request processing failed", reason)
        if self.finished or self._disconnected:
            return
        gateway: Gateway = self.site.gateway
        adm = self.admission or Admission()
        self.responseHeaders = http.Headers()
        gateway.send_failure(self, adm, errors.failure(
            500, "Internal error", "the server failed to handle the request; see its log"))


class GatewayResource(resource.Resource):
    """The one resource: every path is routed by the gateway's registry-derived routes."""

    isLeaf = True

    def __init__(self, gateway: Gateway):
        super().__init__()
        self.gateway = gateway

    def render(self, request):
        adm = request.admission
        d = defer.ensureDeferred(self.gateway.respond(request, adm))
        request.notifyFinish().addErrback(lambda _: d.cancel())

        def failed(f):
            if not f.check(defer.CancelledError):
                request.processingFailed(f)

        d.addErrback(failed)
        return server.NOT_DONE_YET


class GatewaySite(server.Site):
    requestFactory = GatewayRequest
    protocol = GatewayChannel
    displayTracebacks = False

    #: Idle keep-alive connections are closed after this many seconds (Twisted's default is
    #: 12 hours: a file descriptor each).
    IDLE_TIMEOUT = 120

    def __init__(self, gateway: Gateway, **kwargs):
        kwargs.setdefault("timeout", self.IDLE_TIMEOUT)
        super().__init__(GatewayResource(gateway), **kwargs)
        self.gateway = gateway
        self.requestFactory = GatewayRequest
