"""A Deferred-based client of slurmctld: one TCP connection per RPC, as Slurm's own tools do.

A client speaks one Slurm version (a ``SlurmVersion`` of ``slurmrest.wire.tables``): its
codec, and its named RPCs (``ping``, ``jobs`` ...), which are methods generated from the
version's table (``slurmrest.wire.methods``). Unless told a version, it learns the
controller's: it speaks the oldest it knows first, which every controller answers (one that
accepts it, normally; a newer one refuses it with an error RC in a header of its own
version); on such a refusal it takes that version's tables and sends the request again.

Life of an RPC (``SlurmctldClient.call``):

1. The frame is encoded once (cached for small read requests: the same read with the same
   credential is the same bytes).
2. Identical read RPCs that are in flight at the same time share one connection and one reply
   (``slurmrest.coalesce.SharedCalls``); writes never do.
3. A controller is picked: the ``SlurmctldAddr`` virtual address if configured, then every
   ``SlurmctldHost`` in order. The next one is tried when a connect fails or when the answer
   says the controller is a standby backup (2027, 2131), as ``slurm_send_recv_controller_msg``
   does. Addresses are resolved once and remembered (Slurm resolves at config load).
4. An exchange connects (connect timeout), sets ``TCP_NODELAY``, writes the frame in one
   ``write``, reads one length-prefixed reply (read timeout), and closes. Two
   implementations keep one contract (``tests/test_wire_exchange`` runs the same cases
   against each): ``_SocketExchange`` on a posix reactor, ``_Exchange`` elsewhere.
5. The reply is decoded; an RC reply with a non-zero code becomes the matching ``SlurmError``.

Every path ends in a result or an exception: refused, timed out, closed early, garbage, too
large. Cancelling the caller's Deferred aborts the connection (unless other callers share it).
"""

from __future__ import annotations

import collections
import errno
import os
import socket
import struct
from functools import partial
from types import MethodType

from twisted.internet import defer, error as ierror
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IReadDescriptor, IResolutionReceiver, IWriteDescriptor
from twisted.internet.posixbase import PosixReactorBase
from twisted.internet.protocol import Protocol
from twisted.logger import Logger
from zope.interface import implementer

from slurmrest.coalesce import SharedCalls
from slurmrest.wire import tables
from slurmrest.wire.errors import (
    ESLURM_IN_STANDBY_MODE, ESLURM_IN_STANDBY_USE_BACKUP,
    SLURM_PROTOCOL_INSANE_MSG_LENGTH, SLURMCTLD_COMMUNICATIONS_CONNECTION_ERROR,
    SLURMCTLD_COMMUNICATIONS_RECEIVE_ERROR, SLURMCTLD_COMMUNICATIONS_SEND_ERROR,
    CommunicationError, ProtocolError, error_for,
)
from slurmrest.wire.methods import methods_of, return_code as _return_code
from slurmrest.wire.msgtypes import MsgType
from slurmrest.wire.observe import RpcObservers
from slurmrest.wire.primitives import MAX_MSG_SIZE
from slurmrest.wire.protocol import protocol_for

__all__ = ["SlurmctldClient", "BoundClient", "READ_TYPES", "NAMED_RPCS", "JOB_SHOW_FLAGS",
           "NODE_SHOW_FLAGS"]

log = Logger()

STANDBY_ERRNOS = frozenset({ESLURM_IN_STANDBY_MODE, ESLURM_IN_STANDBY_USE_BACKUP})

#: The newest version's read requests (each version has its own: ``SlurmVersion.read_types``).
READ_TYPES = tables.NEWEST.read_types
#: The named RPC methods every client has (the same names and arguments in every version).
NAMED_RPCS = tuple(tables.NEWEST.rpcs)
#: The show_flags the newest version's jobs and nodes RPCs send unless told otherwise.
JOB_SHOW_FLAGS = dict(tables.NEWEST.rpcs["jobs"].params)["show_flags"]
NODE_SHOW_FLAGS = dict(tables.NEWEST.rpcs["nodes"].params)["show_flags"]

# The smallest possible reply after the length prefix: a 16-byte header (23.11 and newer
# send replies without an auth credential).
MIN_REPLY_LENGTH = 16
_LENGTH = struct.Struct(">I")
_NONBLOCKING_STREAM = socket.SOCK_STREAM | getattr(socket, "SOCK_NONBLOCK", 0)
_FRAME_CACHE_SIZE = 512


class _Exchange(Protocol):
    """One request and one reply on a fresh connection; ``reply`` fires with the payload.

    It is its own connection's factory too (``connectTCP`` straight to a resolved address:
    no endpoint, no per-call factory log lines). One timer covers the whole exchange: the
    connect timeout until connected, then the read timeout.
    """

    noisy = False  # a factory per RPC: "Starting factory" lines would flood the log

    def __init__(self, frame, reactor, connect_timeout, read_timeout, address, max_reply_size):
        self._frame = frame
        self._reactor = reactor
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._address = address
        self._max_reply_size = max_reply_size
        self._chunks = []
        self._have = 0
        self._need = None
        self._timer = None
        self._done = False
        self._connector = None
        #: Whether the failure was one of connecting (the next controller may be tried).
        self.connect_failed = False
        self.reply = defer.Deferred(canceller=self._cancelled)

    # -- as a factory ---------------------------------------------------------------------

    def connect(self, host, port):
        self._timer = self._reactor.callLater(self._connect_timeout, self._connectTimedOut)
        # timeout=None: our own timer does it (one timer per RPC, not two)
        self._connector = self._reactor.connectTCP(host, port, self, timeout=None)
        return self.reply

    def doStart(self):
        pass

    def doStop(self):
        pass

    def startedConnecting(self, connector):
        pass

    def buildProtocol(self, addr):
        return self

    def clientConnectionFailed(self, connector, reason):
        if self._done:
            return
        self._finish()
        self.connect_failed = True
        self.reply.errback(CommunicationError(
            SLURMCTLD_COMMUNICATIONS_CONNECTION_ERROR, _reason(reason.value),
            address=self._address))

    def clientConnectionLost(self, connector, reason):
        pass

    def _connectTimedOut(self):
        self._timer = None
        self._finish()
        self.connect_failed = True
        if self._connector is not None:
            self._connector.stopConnecting()
        self.reply.errback(CommunicationError(
            SLURMCTLD_COMMUNICATIONS_CONNECTION_ERROR,
            f"no connection within {self._connect_timeout:g} s", timeout=True,
            address=self._address))

    # -- as the protocol ------------------------------------------------------------------

    def connectionMade(self):
        if self._done:  # cancelled or timed out meanwhile
            self.transport.abortConnection()
            return
        set_no_delay = getattr(self.transport, "setTcpNoDelay", None)
        if set_no_delay is not None:
            try:
                set_no_delay(True)
            except OSError:  # not a TCP socket after all: nothing to gain, nothing lost
                pass
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = self._reactor.callLater(self._read_timeout, self._timedOut)
        self.transport.write(self._frame)

    def dataReceived(self, data):
        if self._done:
            return
        self._chunks.append(data)
        self._have += len(data)
        if self._need is None:
            if self._have < 4:
                return
            head = b"".join(self._chunks)
            self._chunks = [head]
            (length,) = _LENGTH.unpack_from(head)
            if length > self._max_reply_size or length > MAX_MSG_SIZE:
                self._abort(ProtocolError(
                    f"reply from {self._address} announces {length} bytes "
                    f"(limit {min(self._max_reply_size, MAX_MSG_SIZE)})",
                    SLURM_PROTOCOL_INSANE_MSG_LENGTH))
                return
            if length < MIN_REPLY_LENGTH:
                self._abort(ProtocolError(
                    f"reply from {self._address} announces only {length} bytes",
                    SLURM_PROTOCOL_INSANE_MSG_LENGTH))
                return
            self._need = 4 + length
        if self._have >= self._need:
            whole = self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)
            self._finish()
            self.transport.loseConnection()
            self.reply.callback(whole[4:self._need])

    def connectionLost(self, reason=None):
        if self._done:
            return
        if self._need is None and self._have == 0:
            text = "slurmctld closed the connection without a reply (credential rejected?)"
        else:
            expected = "?" if self._need is None else self._need
            text = (f"slurmctld closed the connection after {self._have} of {expected} "
                    "reply bytes")
        self._finish()
        self.reply.errback(CommunicationError(
            SLURMCTLD_COMMUNICATIONS_RECEIVE_ERROR, text, address=self._address))

    def _timedOut(self):
        self._timer = None
        self._abort(CommunicationError(
            SLURMCTLD_COMMUNICATIONS_RECEIVE_ERROR,
            f"no reply within {self._read_timeout:g} s", timeout=True, address=self._address))

    def _abort(self, exc):
        self._finish()
        self.transport.abortConnection()
        self.reply.errback(exc)

    def _cancelled(self, _):
        # The caller went away: drop the connection now; Deferred.cancel errbacks CancelledError.
        self._finish()
        if self.transport is not None:
            self.transport.abortConnection()
        elif self._connector is not None:
            self._connector.stopConnecting()

    def _finish(self):
        self._done = True
        self._chunks = []
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None


@implementer(IReadDescriptor, IWriteDescriptor)
class _SocketExchange:
    """``_Exchange`` straight on a non-blocking socket watched by the reactor: what a posix
    reactor runs. Twisted's TCP client machinery costs more CPU than the whole round trip
    to slurmctld; this is socket, connect, one send, reads into one buffer, close.
    Same outcomes, same errors as ``_Exchange``: the same contract tests run on both."""

    def __init__(self, frame, reactor, connect_timeout, read_timeout, address, max_reply_size):
        self._frame = frame
        self._reactor = reactor
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._address = address
        self._max_reply_size = max_reply_size
        self._sock = None
        self._fd = -1
        self._head = b""
        self._buffer = None  # the whole reply, once its length is known
        self._have = 0
        self._need = None
        self._timer = None
        self._reading = self._writing = False
        self._sent = None  # bytes of the frame sent; None until connected
        self._done = False
        self.connect_failed = False
        self.reply = defer.Deferred(canceller=self._cancelled)

    def connect(self, host, port):
        try:
            if ":" in host:
                sock = socket.socket(socket.AF_INET6, _NONBLOCKING_STREAM)
                target = (host, port, 0, 0)
            else:
                sock = socket.socket(socket.AF_INET, _NONBLOCKING_STREAM)
                target = (host, port)
            self._sock, self._fd = sock, sock.fileno()
            if not _NONBLOCKING_STREAM & ~socket.SOCK_STREAM:  # no SOCK_NONBLOCK here
                sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            code = sock.connect_ex(target)
        except OSError as e:
            self._connect_error(e.errno or 0, str(e))
            return self.reply
        if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EALREADY):
            self._connect_error(code)
            return self.reply
        self._timer = self._reactor.callLater(self._connect_timeout, self._connect_timed_out)
        self._send_early()
        return self.reply

    def _send_early(self):
        """A connect to a near controller (loopback) is complete when ``connect`` returns:
        send at once, saving a turn of the reactor; else wait until the socket is writable."""
        try:
            sent = (self._sock.send(self._frame)
                    if not self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) else None)
        except OSError:  # not connected yet (or failed: doWrite will tell which)
            sent = None
        if sent is None:
            self._writing = True
            self._reactor.addWriter(self)
        else:
            self._connected(sent)

    def _connected(self, sent):
        self._sent = sent
        self._timer.cancel()
        self._timer = self._reactor.callLater(self._read_timeout, self._timed_out)
        self._sent_some()

    def _sent_some(self):
        if self._sent < len(self._frame):
            if not self._writing:
                self._writing = True
                self._reactor.addWriter(self)
            return
        self._frame = None
        if self._writing:
            self._writing = False
            self._reactor.removeWriter(self)
        self._reading = True
        self._reactor.addReader(self)

    # -- what the reactor calls -----------------------------------------------------------

    def fileno(self):
        return self._fd

    def logPrefix(self):
        return "slurmctld-rpc"

    def doWrite(self):
        if self._done:
            return None
        connecting = self._sent is None
        if connecting:
            # First writability: the connect finished, one way or the other.
            code = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                self._connect_error(code)
                return None
        try:
            sent = self._sock.send(memoryview(self._frame)[self._sent or 0:])
        except (BlockingIOError, InterruptedError):
            return None
        except OSError as e:
            self._fail(CommunicationError(SLURMCTLD_COMMUNICATIONS_SEND_ERROR,
                                          f"sending to slurmctld failed: {e.strerror or e}",
                                          address=self._address))
            return None
        if connecting:
            self._connected(sent)
        else:
            self._sent += sent
            self._sent_some()
        return None

    def doRead(self):
        if self._done:
            return None
        try:
            if self._buffer is None:
                data = self._sock.recv(65536)
            else:
                view = memoryview(self._buffer)[self._have:]
                n = self._sock.recv_into(view)
                view.release()
                data = None if n else b""
                self._have += n
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            self._closed_early()
            return None
        if data is not None:
            if not data:
                self._closed_early()
                return None
            self._take(data)
        if self._need is not None and self._have >= self._need:
            reply = bytes(memoryview(self._buffer)[4:self._need])
            self._close()
            self.reply.callback(reply)
        return None

    def connectionLost(self, reason):
        # The reactor saw the socket hang up (or an error on it) without data to read.
        if self._done:
            return
        if self._sent is None:  # still connecting: refused, unreachable...
            code = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            self._connect_error(code or errno.ECONNREFUSED)
        else:
            self._closed_early()

    # -- the reply ------------------------------------------------------------------------

    def _take(self, data):
        """Bytes before the reply's length is known (a length prefix split across reads)."""
        head = self._head + data
        if len(head) < 4:
            self._head, self._have = head, len(head)
            return
        (length,) = _LENGTH.unpack_from(head)
        if length > self._max_reply_size or length > MAX_MSG_SIZE:
            return self._fail(ProtocolError(
                f"reply from {self._address} announces {length} bytes "
                f"(limit {min(self._max_reply_size, MAX_MSG_SIZE)})",
                SLURM_PROTOCOL_INSANE_MSG_LENGTH))
        if length < MIN_REPLY_LENGTH:
            return self._fail(ProtocolError(
                f"reply from {self._address} announces only {length} bytes",
                SLURM_PROTOCOL_INSANE_MSG_LENGTH))
        self._need = 4 + length
        self._head = b""
        self._buffer = bytearray(max(self._need, len(head)))
        self._buffer[:len(head)] = head
        self._have = len(head)

    def _closed_early(self):
        if self._need is None and self._have == 0:
            text = "slurmctld closed the connection without a reply (credential rejected?)"
        else:
            expected = "?" if self._need is None else self._need
            text = (f"slurmctld closed the connection after {self._have} of {expected} "
                    "reply bytes")
        self._fail(CommunicationError(SLURMCTLD_COMMUNICATIONS_RECEIVE_ERROR, text,
                                      address=self._address))

    def _timed_out(self):
        self._timer = None
        self._fail(CommunicationError(
            SLURMCTLD_COMMUNICATIONS_RECEIVE_ERROR,
            f"no reply within {self._read_timeout:g} s", timeout=True, address=self._address))

    def _connect_timed_out(self):
        self._timer = None
        self.connect_failed = True
        self._fail(CommunicationError(
            SLURMCTLD_COMMUNICATIONS_CONNECTION_ERROR,
            f"no connection within {self._connect_timeout:g} s", timeout=True,
            address=self._address))

    def _connect_error(self, code, text=None):
        self.connect_failed = True
        if code == errno.ECONNREFUSED:
            text = "connection refused"
        self._fail(CommunicationError(SLURMCTLD_COMMUNICATIONS_CONNECTION_ERROR,
                                      text or os.strerror(code), address=self._address))

    def _fail(self, exc):
        self._close()
        self.reply.errback(exc)

    def _cancelled(self, _):
        # The caller went away: drop the connection now; Deferred.cancel errbacks CancelledError.
        self._close()

    def _close(self):
        self._done = True
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if self._writing:
            self._writing = False
            self._reactor.removeWriter(self)
        if self._reading:
            self._reading = False
            self._reactor.removeReader(self)
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._buffer = None


@implementer(IResolutionReceiver)
class _Addresses:
    """Collects what a name resolver finds for one host."""

    def __init__(self):
        self.found = []
        self.done = defer.Deferred()

    def resolutionBegan(self, resolution):
        pass

    def addressResolved(self, address):
        self.found.append(address)

    def resolutionComplete(self):
        if not self.done.called:  # the caller may have gone away meanwhile
            self.done.callback(self.found)


def _freeze(value):
    """A hashable stand-in for a request body, or TypeError."""
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    hash(value)
    return value


class _NamedRpc:
    """A named RPC as a method of a client: the implementation of the client's version."""

    def __init__(self, name):
        self.name = name

    def __get__(self, client, owner=None):
        if client is None:  # on the class: the newest version's (its signature, its doc)
            return methods_of(tables.NEWEST)[self.name]
        return MethodType(client._methods[self.name], client)


class SlurmctldClient:
    """Talks to the slurmctld of one cluster, described by a ``SlurmConfig``.

    ``version``: the ``SlurmVersion`` (or its protocol number) this client speaks; by
    default it learns the controller's (``learning``; see the module docstring).
    ``protocol`` overrides its codec (a ``Protocol`` of ``slurmrest.wire.protocol``). ``resolver``: an ``IHostnameResolver``
    (default: the reactor's). Timeouts default to the configuration's ``MessageTimeout``.

    The named RPCs (``NAMED_RPCS``: ``ping``, ``jobs``, ``submit_batch`` ...) are methods
    generated from the version's ``rpcs`` table; each returns the decoded body of the
    expected reply.
    """

    def __init__(self, config, reactor=None, *, version=None, protocol=None, resolver=None,
                 connect_timeout=None, read_timeout=None, max_reply_size=MAX_MSG_SIZE):
        if reactor is None:
            from twisted.internet import reactor
        self.config = config
        self.reactor = reactor
        #: Whether the controller's version is still to be learnt from its answers.
        self.learning = version is None and protocol is None
        if protocol is None:
            protocol = protocol_for(tables.VERSIONS[0] if version is None else version)
        self._speak(protocol)
        self._resolver = resolver
        timeout = config.message_timeout
        self.connect_timeout = connect_timeout if connect_timeout is not None else timeout
        self.read_timeout = read_timeout if read_timeout is not None else timeout
        self.max_reply_size = max_reply_size
        self.controllers = tuple((c.address, c.port) for c in config.controllers)
        vip = getattr(config, "slurmctld_addr", None)
        self._targets = ((vip, config.controllers[0].port),) if vip else ()
        self._targets += self.controllers
        self._resolved = {}
        # Sockets watched by the reactor itself where it can (a posix reactor); Twisted's
        # TCP client otherwise (other reactors, and the in-memory ones of the tests).
        self._exchange_class = (_SocketExchange if isinstance(reactor, PosixReactorBase)
                                else _Exchange)
        # Identical read RPCs in flight share one; one nobody waits for any more is aborted.
        self._in_flight = SharedCalls(cancel_abandoned=True)
        self._frames = collections.OrderedDict()
        self.counters = collections.Counter()  # rpcs, connections, shared, frame_cache_hits
        #: Told of every RPC sent (metrics, the access log's RPC count).
        self.observers = RpcObservers("slurmctld")

    def __repr__(self):
        where = ", ".join(f"{host}:{port}" for host, port in self._targets)
        return f"SlurmctldClient({where}, version=0x{self.version:04x})"

    def _speak(self, protocol):
        self.protocol = protocol
        self.slurm_version = protocol.slurm_version
        self.version = protocol.version  # the protocol number, e.g. 0x2600
        self._methods = methods_of(self.slurm_version)
        self._read_types = self.slurm_version.read_types
        if hasattr(self, "_frames"):
            self._frames.clear()

    def _learn(self, peer):
        """Speak ``peer``'s protocol from now on (ProtocolError when we have no tables)."""
        if peer != self.version:
            proto = protocol_for(peer)
            log.info("slurmctld speaks protocol 0x{peer:04x} (Slurm {name}): using its tables",
                     peer=peer, name=proto.slurm_version.name)
            self._speak(proto)

    # -- the RPC --------------------------------------------------------------------------

    async def call(self, msg_type, body, credential, *, controller=None, shareable=None):
        """Send one request and return the reply ``Message``.

        ``controller``: an index into ``self.controllers`` to talk to that one only (no
        failover); None = the usual order with failover. ``shareable``: whether identical
        concurrent calls may share this RPC (default: the version's read request types).
        An RC reply with code 0 returns the Message; any other code raises ``SlurmError``
        (``NoChange`` for 1900). A body the table cannot pack raises ``ValueError`` before
        anything is sent.

        Callers that shared an RPC get the very same decoded objects: treat replies as
        read-only.
        """
        if controller is not None and not 0 <= controller < len(self.controllers):
            raise ValueError(f"no controller {controller}: {len(self.controllers)} configured")
        try:
            return await self._call(msg_type, body, credential, controller, shareable)
        except _PeerSpeaks as e:
            self._learn(e.version)
        return await self._call(msg_type, body, credential, controller, shareable)

    async def _call(self, msg_type, body, credential, controller, shareable):
        if shareable is None:
            shareable = msg_type in self._read_types
        frame = self._frame(msg_type, body, credential, cache=shareable)
        self.counters["rpcs"] += 1
        if not shareable:
            return await self._observed(msg_type, frame, controller)
        key = (frame, controller)
        if key in self._in_flight:
            self.counters["shared"] += 1
        return await self._in_flight.join(key, partial(self._observed, msg_type, frame,
                                                       controller))

    def bind(self, credential) -> "BoundClient":
        """The named methods with ``credential`` filled in (what the API room gets)."""
        return BoundClient(self, credential)

    def _frame(self, msg_type, body, credential, cache):
        if not cache:
            return self.protocol.encode(msg_type, body, credential)
        try:
            # Flat bodies (most reads) are their items; nested ones are frozen.
            key = (msg_type, tuple(body.items()), credential)
            hash(key)
        except (TypeError, AttributeError):
            try:
                key = (msg_type, _freeze(body), credential)
            except TypeError:
                return self.protocol.encode(msg_type, body, credential)
        frame = self._frames.get(key)
        if frame is not None:
            self._frames.move_to_end(key)
            self.counters["frame_cache_hits"] += 1
            return frame
        frame = self.protocol.encode(msg_type, body, credential)
        self._frames[key] = frame
        if len(self._frames) > _FRAME_CACHE_SIZE:
            self._frames.popitem(last=False)
        return frame

    async def _observed(self, msg_type, frame, controller):
        """``_send``, its outcome told to the observers (once per RPC on the wire)."""
        if not self.observers:
            return await self._send(frame, controller)
        started = self.observers.start()
        try:
            message = await self._send(frame, controller)
        except BaseException as e:
            self.observers.done(_type_name(msg_type), started, e)
            raise
        self.observers.done(_type_name(msg_type), started, None)
        return message

    async def _send(self, frame, controller):
        targets = self._targets if controller is None else (self.controllers[controller],)
        last = None
        for host, port in targets:
            try:
                message = await self._exchange(host, port, frame)
            except CommunicationError as e:
                if e.errno != SLURMCTLD_COMMUNICATIONS_CONNECTION_ERROR:
                    raise
                log.info("slurmctld at {host}:{port} unreachable: {error}",
                         host=host, port=port, error=str(e))
                last = e
                continue
            rc = _return_code(message)
            if rc and message.version != self.version and self.learning:
                raise _PeerSpeaks(message.version)
            if rc in STANDBY_ERRNOS and controller is None:
                log.info("slurmctld at {host}:{port} is a standby backup ({rc})",
                         host=host, port=port, rc=rc)
                last = error_for(rc, _rc_text(message))
                continue
            return _checked(message)
        raise last

    async def _exchange(self, host, port, frame):
        """Connect to one controller (each of its addresses in turn), send, read, decode."""
        addresses = self._resolved.get(host)
        if addresses is None:
            addresses = await self._addresses(host, port)
        failure = None
        for address in addresses:
            where = _where(address, port)
            exchange = self._exchange_class(frame, self.reactor, self.connect_timeout,
                                            self.read_timeout, where, self.max_reply_size)
            self.counters["connections"] += 1
            try:
                payload = await exchange.connect(address, port)
            except CommunicationError as e:
                if not exchange.connect_failed:
                    raise
                failure = e
                continue
            try:
                return self.protocol.decode(payload)
            except ProtocolError:
                raise
            except Exception as e:  # the codec promises ProtocolError; never let a bug hang
                raise ProtocolError(f"reply from {where} could not be decoded: "
                                    f"{type(e).__name__}: {e}") from e
        if not _is_ip(host):
            self._resolved.pop(host, None)  # maybe the name moved: resolve again next time
        raise failure

    async def _addresses(self, host, port):
        if _is_ip(host):
            self._resolved[host] = [host]
            return [host]
        known = self._resolved.get(host)
        if known:
            return known
        resolver = self._resolver or self.reactor.nameResolver
        receiver = _Addresses()
        resolver.resolveHostName(receiver, host, port,
                                 addressTypes=[IPv4Address, IPv6Address])
        found = await receiver.done
        addresses = list(dict.fromkeys(a.host for a in found))
        if not addresses:
            raise CommunicationError(SLURMCTLD_COMMUNICATIONS_CONNECTION_ERROR,
                                     f"cannot resolve {host}", address=f"{host}:{port}")
        self._resolved[host] = addresses
        return addresses


for _name in NAMED_RPCS:
    setattr(SlurmctldClient, _name, _NamedRpc(_name))


class BoundClient:
    """A ``SlurmctldClient`` with one caller's credential: the named RPCs without it."""

    def __init__(self, client: SlurmctldClient, credential):
        self.client = client
        self.credential = credential

    def __repr__(self):
        return f"BoundClient({self.credential!r})"

    def call(self, msg_type, body, **kwargs):
        """The client's ``call`` with this credential (a coroutine: await it)."""
        return self.client.call(msg_type, body, self.credential, **kwargs)

    @property
    def controllers(self):
        return self.client.controllers


class _BoundRpc:
    """A named RPC of the bound client, the credential filled in (the client's own
    coroutine function is handed back: no extra layer per RPC)."""

    def __init__(self, name):
        self.name = name

    def __get__(self, bound, owner=None):
        if bound is None:
            return methods_of(tables.NEWEST)[self.name]
        client = bound.client
        return partial(client._methods[self.name], client, bound.credential)


for _name in NAMED_RPCS:
    setattr(BoundClient, _name, _BoundRpc(_name))
del _name


# -- reply helpers -------------------------------------------------------------------------

class _PeerSpeaks(Exception):
    """A controller refused our request in a header of another protocol version."""

    def __init__(self, version):
        super().__init__(f"peer speaks protocol 0x{version:04x}")
        self.version = version


def _type_name(msg_type) -> str:
    try:
        return MsgType(msg_type).name
    except ValueError:
        return str(msg_type)


def _rc_text(message):
    if message.msg_type == MsgType.RESPONSE_SLURM_RC_MSG:
        return message.body.get("err_msg")
    return None


def _checked(message):
    rc = _return_code(message)
    if rc:
        raise error_for(rc, _rc_text(message))
    return message


def _is_ip(host):
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
            return True
        except (OSError, ValueError):
            pass
    return False


def _where(address, port):
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _reason(exc):
    if isinstance(exc, ierror.ConnectionRefusedError):
        return "connection refused"
    text = getattr(exc, "osError", None) or str(exc) or type(exc).__name__
    return str(text)
