"""A Deferred-based client of slurmdbd's persistent protocol (§1, §2 of the dbd reference).

Shape (``SlurmdbdClient(config, reactor)``):

- A connection belongs to one credential: slurmdbd checks the token once, at
  REQUEST_PERSIST_INIT, and runs every later request as that user. Connections are pooled per
  credential (at most ``per_credential`` each, ``max_connections`` in all: slurmdbd serves
  100 and slurmctld holds one), idle ones are closed after ``idle_timeout``, and none is
  reused past its token's ``exp`` (an expired token never rides on an old connection).
- Strictly one request in flight per connection; each frame is one ``write`` with
  TCP_NODELAY (Slurm's own two-write framing costs about 88 ms per message, §"latency trap").
- A connection that saw any failure (timeout, lost connection, garbage, a reply out of
  step, ACCESS_DENIED after which slurmdbd closes it) is closed, never reused.
- Writes run in a ``Transaction`` on a connection of their own: DBD_FINI {commit=1} only
  after every write of it fully succeeded; otherwise the connection is closed, which makes
  slurmdbd roll back. A read never commits.
- Identical concurrent reads (same credential, same frame) share one request.

The messages are those of one release (``version=``: a ``SlurmVersion`` of
``wire.tables`` or its protocol number, the newest by default; its ``dbd`` tables).

Errors: ``CommunicationError`` (1001 connect, 1002 send, 1003 receive; ``timeout=True`` for
timeouts), ``ProtocolError`` for garbage, truncated or unexpected replies, ``SlurmError``
(``error_for``) for a PERSIST_RC with a non-zero rc.
"""

from __future__ import annotations

import collections
import socket
import struct

import jwt
from twisted.internet import defer, error as net_error
from twisted.internet.abstract import isIPAddress, isIPv6Address
from twisted.internet.endpoints import (
    HostnameEndpoint, TCP4ClientEndpoint, TCP6ClientEndpoint, connectProtocol,
)
from twisted.internet.protocol import Protocol

from slurmrest.coalesce import SharedCalls
from slurmrest.wire import dbd_framing as F
from slurmrest.wire.dbd_msgtypes import DbdMsgType as D
from slurmrest.wire.errors import (
    ESLURM_ACCESS_DENIED, SLURM_COMMUNICATIONS_CONNECTION_ERROR,
    SLURM_COMMUNICATIONS_RECEIVE_ERROR, SLURM_COMMUNICATIONS_SEND_ERROR,
    SLURM_NO_CHANGE_IN_DATA, SLURM_PROTOCOL_INSANE_MSG_LENGTH, SLURM_PROTOCOL_VERSION_ERROR,
    CommunicationError, ProtocolError, SlurmError, error_for,
)
from slurmrest.wire import tables as versions
from slurmrest.wire.observe import RpcObservers
from slurmrest.wire.versions import SlurmVersion

_U32 = struct.Struct(">I")
DEFAULT_PER_CREDENTIAL = 4
DEFAULT_MAX_CONNECTIONS = 64   # of slurmdbd's 100 (MAX_THREAD_COUNT), slurmctld holds one
DEFAULT_IDLE_TIMEOUT = 30.0
_TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux only
# slurmdbd closes the connection after these (§2.6).
_CLOSING_ERRORS = frozenset({ESLURM_ACCESS_DENIED, SLURM_PROTOCOL_VERSION_ERROR})


class _Connection(Protocol):
    """One persistent connection: whole frames in, one request at a time."""

    def __init__(self, reactor, address, max_frame, tables):
        self.reactor, self.address, self.max_frame = reactor, address, max_frame
        self.tables = tables
        self.buffer = bytearray()
        self.waiter = None
        self.timer = None
        self.broken = False   # saw a failure: never reuse
        self.closed = False
        self.expires = float("inf")
        self.idle_timer = None
        self.key = None
        self.writes = False   # an uncommitted write happened on it
        self._reused = False  # came from the pool (slurmdbd may have closed it since)
        self._counted_out = False
        self.on_lost = None
        self._lost_waiters = []
        self.socket = None

    def when_lost(self) -> defer.Deferred:
        if self.closed:
            return defer.succeed(None)
        d = defer.Deferred()
        self._lost_waiters.append(d)
        return d

    def connectionMade(self):
        set_no_delay = getattr(self.transport, "setTcpNoDelay", None)
        if set_no_delay is not None:
            set_no_delay(True)
        handle = getattr(self.transport, "getHandle", None)
        self.socket = handle() if handle is not None and _TCP_QUICKACK else None
        if not hasattr(self.socket, "setsockopt"):
            self.socket = None

    def _quick_ack(self):
        """slurmdbd writes each reply in two sends (length, then body) with Nagle on: the
        body waits for our ACK of the length, and a delayed ACK costs about 40 ms. Linux
        leaves quick-ACK mode on its own, so it is asked for again before every read."""
        if self.socket is not None:
            try:
                self.socket.setsockopt(socket.IPPROTO_TCP, _TCP_QUICKACK, 1)
            except OSError:
                self.socket = None

    @property
    def usable(self):
        return not (self.broken or self.closed)

    def request(self, frame, timeout) -> defer.Deferred:
        """The payload of the next frame slurmdbd sends (its length prefix removed)."""
        if self.waiter is not None:
            raise RuntimeError("a slurmdbd connection carries one request at a time")
        if not self.usable:
            return defer.fail(CommunicationError(
                SLURM_COMMUNICATIONS_SEND_ERROR, "connection already closed",
                address=self.address))
        self.waiter = defer.Deferred(canceller=self._cancelled)
        self.timer = self.reactor.callLater(timeout, self._timed_out, timeout)
        self.transport.write(frame)
        self._quick_ack()
        waiter = self.waiter
        self._take()  # a reply that arrived early (out of step) is caught here
        return waiter

    def dataReceived(self, data):
        self.buffer += data
        if self.waiter is not None:
            self._quick_ack()
        self._take()

    def _take(self):
        if len(self.buffer) < 4:
            return
        n, = _U32.unpack_from(self.buffer, 0)
        if n < 2 or n > self.max_frame:
            self._fail(ProtocolError(f"slurmdbd frame length {n}",
                                     SLURM_PROTOCOL_INSANE_MSG_LENGTH))
            return
        if len(self.buffer) < 4 + n:
            return
        if self.waiter is None or len(self.buffer) > 4 + n:
            self._fail(ProtocolError("slurmdbd sent a frame nobody asked for"))
            return
        payload = bytes(self.buffer[4:4 + n])
        del self.buffer[:4 + n]
        waiter, self.waiter = self.waiter, None
        self._stop_timer()
        waiter.callback(payload)

    def connectionLost(self, reason=None):
        self.closed = True
        self._stop_timer()
        was_idle = self.idle_timer is not None
        self._cancel_idle()
        if was_idle and self.on_lost is not None:
            self.on_lost(self)  # closed while idle in the pool
        waiters, self._lost_waiters = self._lost_waiters, []
        for d in waiters:
            d.callback(None)
        if self.waiter is not None:
            waiter, self.waiter = self.waiter, None
            waiter.errback(CommunicationError(
                SLURM_COMMUNICATIONS_RECEIVE_ERROR, "slurmdbd closed the connection",
                address=self.address))

    def close(self, *, fini=True):
        """Close (DBD_FINI {close_conn=1} first, as Slurm does: any open write rolls back)."""
        self.broken = True
        self._cancel_idle()
        if self.closed or self.transport is None:
            return
        if fini and self.waiter is None:
            self.transport.write(F.encode(D.DBD_FINI, {"close_conn": 1, "commit": 0},
                                          self.tables))
            self.transport.loseConnection()
        else:
            self.transport.abortConnection()

    def _cancel_idle(self):
        if self.idle_timer is not None and self.idle_timer.active():
            self.idle_timer.cancel()
        self.idle_timer = None

    def _stop_timer(self):
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.timer = None

    def _timed_out(self, timeout):
        self.timer = None
        self._fail(CommunicationError(
            SLURM_COMMUNICATIONS_RECEIVE_ERROR, f"no reply within {timeout:g} s",
            timeout=True, address=self.address))

    def _cancelled(self, waiter):
        self.waiter = None
        self._stop_timer()
        self.broken = True
        if self.transport is not None:
            self.transport.abortConnection()

    def _fail(self, exc):
        self.broken = True
        self._stop_timer()
        waiter, self.waiter = self.waiter, None
        if self.transport is not None:
            self.transport.abortConnection()
        if waiter is not None:
            waiter.errback(exc)


def _type_name(msg_type) -> str:
    """A message type as Slurm names it (a number nobody named as it is)."""
    try:
        return D(msg_type).name
    except ValueError:
        return str(msg_type)


def _credential_key(credential):
    return (credential.token, credential.user_name)


def _token_expiry(token):
    """The token's ``exp`` (not verified: slurmdbd verifies it at init), else no limit."""
    try:
        exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
        return float(exp) if exp is not None else float("inf")
    except (jwt.PyJWTError, TypeError, ValueError):
        return float("inf")


class _LastReplies:
    """The last reply of recent reads, by (credential, frame): bytes and decoded message.

    Bounded in count and in bytes (the oldest go first); a reply larger than a quarter of
    the bound is not kept."""

    def __init__(self, max_entries=64, max_bytes=64 << 20):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._kept: collections.OrderedDict = collections.OrderedDict()
        self._bytes = 0
        #: How often a reply was the same as the last one (tests, benchmarks).
        self.same = 0

    def get(self, key, payload):
        kept = self._kept.get(key)
        if kept is None or kept[0] != payload:
            return None
        self._kept.move_to_end(key)
        self.same += 1
        return kept[1]

    def put(self, key, payload, message):
        old = self._kept.pop(key, None)
        if old is not None:
            self._bytes -= len(old[0])
        if len(payload) > self.max_bytes // 4:
            return
        self._kept[key] = (payload, message)
        self._bytes += len(payload)
        while self._kept and (len(self._kept) > self.max_entries
                              or self._bytes > self.max_bytes):
            _, (gone, _) = self._kept.popitem(last=False)
            self._bytes -= len(gone)


class _Slot:
    __slots__ = ("idle", "open", "resetting", "waiters")

    def __init__(self):
        self.idle: list[_Connection] = []
        self.open = 0
        self.resetting = 0  # connections ending their read transaction: soon idle
        self.waiters: collections.deque[defer.Deferred] = collections.deque()


class SlurmdbdClient:
    """slurmdbd's accounting client; see the module docstring."""

    def __init__(self, config, reactor=None, *, host=None, port=None, connect_timeout=None,
                 read_timeout=None, per_credential=DEFAULT_PER_CREDENTIAL,
                 max_connections=DEFAULT_MAX_CONNECTIONS, idle_timeout=DEFAULT_IDLE_TIMEOUT,
                 max_frame=F.MAX_FRAME, clock=None, version=None):
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        # Told no version, the client learns slurmdbd's at the first connection: it offers
        # the oldest release it knows, and a newer slurmdbd's refusal to unpack that init
        # (1005, unambiguous) makes it offer the next. Oldest first, because an older
        # slurmdbd refuses a newer init with -1, as it refuses a bad token.
        self._candidates = [] if version is not None else list(versions.DBD_VERSIONS)
        self._use(version if isinstance(version, SlurmVersion)
                  else self._candidates[0] if version is None
                  else versions.version_for(version))
        self.config = config
        self.host = host or config.accounting_storage_host or "localhost"
        self.port = port or config.accounting_storage_port
        self.cluster_name = config.cluster_name
        # Slurm waits MessageTimeout + 35 s for the init reply and 900 s for the others: a
        # gateway answers an HTTP client, so MessageTimeout for both unless told otherwise.
        self.connect_timeout = (connect_timeout if connect_timeout is not None
                                else config.message_timeout)
        self.read_timeout = read_timeout if read_timeout is not None else config.message_timeout
        self.per_credential = per_credential
        self.max_connections = max_connections
        self.idle_timeout = idle_timeout
        self.max_frame = max_frame
        self._clock = clock or reactor.seconds
        self._slots: dict[tuple, _Slot] = {}
        self._open = 0
        self._shared = SharedCalls(cancel_abandoned=True)
        self._replies = _LastReplies()
        self._conns: set[_Connection] = set()
        #: Connections opened so far (diagnostics, tests, benchmarks).
        self.connections_opened = 0
        #: Told of every request frame sent (metrics, the access log's RPC count).
        self.observers = RpcObservers("slurmdbd")

    def _use(self, version: SlurmVersion) -> None:
        if version.dbd is None:
            raise ProtocolError(f"no slurmdbd tables for Slurm {version.name}")
        self.slurm_version = version
        self.tables = version.dbd
        self._rollback = F.encode(D.DBD_FINI, {"close_conn": 0, "commit": 0}, self.tables)

    @property
    def learnt(self) -> bool:
        """Whether the release is known (given, or learnt from slurmdbd)."""
        return not self._candidates

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    def __repr__(self):
        return f"SlurmdbdClient({self.address!r}, version=0x{self.tables.protocol:04x})"

    def bind(self, credential) -> "BoundDbdClient":
        return BoundDbdClient(self, credential)

    # -- requests ------------------------------------------------------------------------

    async def call(self, msg_type, body, credential) -> F.DbdMessage:
        """One read request; the reply message (a GOT_* type or PERSIST_RC with rc 0)."""
        if msg_type in self.tables.writes or msg_type == D.DBD_FINI:
            raise ValueError(f"{D(msg_type).name} changes the database: use a transaction")
        frame = F.encode(msg_type, body, self.tables)
        key = (_credential_key(credential), frame)
        return await self._shared.join(
            key, lambda: self._read(msg_type, body, frame, credential, key))

    async def _read(self, msg_type, body, frame, credential, key):
        tables = self.tables
        conn = await self._acquire(credential)
        if conn.tables is not tables:  # the release was learnt meanwhile
            frame = F.encode(msg_type, body, conn.tables)
        reused = conn._reused
        try:
            message = await self._exchange(conn, msg_type, frame, key)
        except CommunicationError:
            self._release(conn)
            if not reused:
                raise
            # A pooled connection slurmdbd closed while idle: once more on a fresh one.
            conn = await self._acquire(credential, fresh=True)
            try:
                message = await self._exchange(conn, msg_type, frame, key)
            finally:
                self._release(conn)
            return message
        except BaseException:
            self._release(conn)
            raise
        self._release(conn)
        return message

    async def _exchange(self, conn, msg_type, frame, read_key=None) -> F.DbdMessage:
        """Send one frame, decode its reply; its outcome told to the observers."""
        if not self.observers:
            return await self._exchange_frame(conn, msg_type, frame, read_key)
        started = self.observers.start()
        try:
            message = await self._exchange_frame(conn, msg_type, frame, read_key)
        except BaseException as e:
            self.observers.done(_type_name(msg_type), started, e)
            raise
        self.observers.done(_type_name(msg_type), started, None)
        return message

    async def _exchange_frame(self, conn, msg_type, frame, read_key=None) -> F.DbdMessage:
        """Send one frame, decode its reply; a failure marks the connection broken.

        A read (``read_key``: its credential and frame) whose reply has the very bytes of
        that read's last reply gets the message decoded then: the same object, undecoded,
        which lets the operations reuse what they made of it."""
        try:
            payload = await conn.request(frame, self.read_timeout)
            message = self._replies.get(read_key, payload) if read_key is not None else None
            if message is None:
                message = F.decode(payload, conn.tables)
                if read_key is not None:
                    self._replies.put(read_key, payload, message)
        except ProtocolError:
            conn.broken = True
            raise
        except defer.CancelledError:
            conn.broken = True
            raise
        if message.msg_type == D.PERSIST_RC:
            rc, comment = message.body["rc"], message.body["comment"]
            if rc in _CLOSING_ERRORS:
                conn.broken = True
            if rc != 0:
                raise error_for(rc, comment)
            return message
        expected = conn.tables.reply_to.get(msg_type)
        if message.msg_type != expected:
            conn.broken = True
            raise ProtocolError(f"slurmdbd answered {_type_name(msg_type)} with "
                                f"{_type_name(message.msg_type)}")
        return message

    async def begin(self, credential) -> "Transaction":
        """A transaction on a connection of its own (committed only by ``commit``)."""
        return Transaction(self, await self._acquire(credential))

    async def write(self, msg_type, body, credential):
        """One write, committed when it fully succeeded; nothing committed otherwise."""
        txn = await self.begin(credential)
        try:
            result = await txn.call(msg_type, body)
        except BaseException:
            txn.abort()
            raise
        await txn.commit()
        return result

    # -- the pool ------------------------------------------------------------------------

    async def _acquire(self, credential, fresh=False) -> _Connection:
        key = _credential_key(credential)
        slot = self._slots.setdefault(key, _Slot())
        now = self._clock()
        while slot.idle and not fresh:
            conn = slot.idle.pop()
            conn._cancel_idle()
            if conn.usable and now < conn.expires:
                conn._reused = True
                return conn
            self._drop(conn)
            slot = self._slots.setdefault(key, _Slot())  # _drop may have removed it
        # A connection about to be idle again is much cheaper than a new one (a new
        # one costs slurmdbd a token check and a MySQL connection).
        if slot.resetting and not fresh or (
                slot.open >= self.per_credential or self._open >= self.max_connections):
            if self._open >= self.max_connections:
                self._evict_idle()
            if slot.resetting and not fresh or (
                    slot.open >= self.per_credential or self._open >= self.max_connections):
                waiter = defer.Deferred()
                slot.waiters.append(waiter)
                waiter.addTimeout(self.connect_timeout, self.reactor)
                try:
                    conn = await waiter
                except (defer.TimeoutError, net_error.TimeoutError):
                    raise CommunicationError(
                        SLURM_COMMUNICATIONS_CONNECTION_ERROR,
                        "no slurmdbd connection free", timeout=True,
                        address=self.address) from None
                finally:
                    if waiter in slot.waiters:
                        slot.waiters.remove(waiter)
                if conn is not None:
                    conn._reused = True
                    return conn
        slot.open += 1
        self._open += 1
        try:
            conn = await self._connect(credential)
        except BaseException:
            slot.open -= 1
            self._open -= 1
            self._wake()
            raise
        conn.key = key
        conn.on_lost = self._idle_expired
        return conn

    def _release(self, conn, clean=False):
        """Back to the pool (or closed, if it saw a failure or holds an open write).

        Every connection of a client is one MySQL transaction (REPEATABLE READ): until it
        ends, reads see the snapshot of the first one, so a pooled connection would answer
        stale data for ever. A read therefore ends its transaction with DBD_FINI
        {close_conn=0, commit=0} (a rollback: nothing to commit) before the connection is
        reused; the caller already has its reply and does not wait for it.
        """
        if not conn.usable or conn.writes or self._clock() >= conn.expires:
            self._drop(conn)
            return
        if clean:
            self._pool(conn)
            return
        self._slots[conn.key].resetting += 1
        d = conn.request(F.encode(D.DBD_FINI, {"close_conn": 0, "commit": 0}, conn.tables)
                         if conn.tables is not self.tables else self._rollback,
                         self.read_timeout)
        d.addCallback(F.decode, conn.tables)
        d.addCallbacks(self._reset, self._reset_failed, callbackArgs=(conn,),
                       errbackArgs=(conn,))

    def _reset(self, reply, conn):
        self._slots[conn.key].resetting -= 1
        if reply.msg_type != D.PERSIST_RC or reply.body["rc"] != 0:
            conn.broken = True
            self._drop(conn)
            return
        self._pool(conn)

    def _reset_failed(self, failure, conn):
        self._slots[conn.key].resetting -= 1
        conn.broken = True
        self._drop(conn)

    def _pool(self, conn):
        if not conn.usable:
            self._drop(conn)
            return
        slot = self._slots.get(conn.key)
        if slot.waiters:
            slot.waiters.popleft().callback(conn)
            return
        slot.idle.append(conn)
        conn.idle_timer = self.reactor.callLater(self.idle_timeout, self._idle_expired, conn)

    def _idle_expired(self, conn):
        conn.idle_timer = None
        slot = self._slots.get(conn.key)
        if slot is not None and conn in slot.idle:
            slot.idle.remove(conn)
        self._drop(conn)

    def _drop(self, conn):
        conn.close()
        slot = self._slots.get(conn.key)
        if conn.key is not None and not conn._counted_out:
            conn._counted_out = True
            slot.open -= 1
            self._open -= 1
            if not slot.open and not slot.waiters and not slot.idle:
                del self._slots[conn.key]
        self._wake()

    def _wake(self):
        """A connection slot freed up: let a waiter open one."""
        for slot in self._slots.values():
            if slot.waiters and slot.open < self.per_credential and (
                    self._open < self.max_connections):
                slot.waiters.popleft().callback(None)
                return

    def _evict_idle(self):
        for slot in list(self._slots.values()):
            if slot.idle:
                conn = slot.idle.pop(0)
                self._drop(conn)
                return

    async def _connect(self, credential) -> _Connection:
        conn = _Connection(self.reactor, self.address, self.max_frame, self.tables)
        d = connectProtocol(self._endpoint(), conn)
        # Our own timer: cancelling a connect attempt fails it with ConnectingCancelledError,
        # which Deferred.addTimeout does not turn into a timeout.
        timed_out = []
        timer = self.reactor.callLater(self.connect_timeout,
                                       lambda: (timed_out.append(True), d.cancel()))
        try:
            await d
        except Exception as e:
            if timed_out:
                raise CommunicationError(
                    SLURM_COMMUNICATIONS_CONNECTION_ERROR,
                    f"no connection within {self.connect_timeout:g} s", timeout=True,
                    address=self.address) from None
            if not isinstance(e, (net_error.ConnectError, net_error.DNSLookupError,
                                  OSError)):
                raise
            raise CommunicationError(
                SLURM_COMMUNICATIONS_CONNECTION_ERROR, str(e) or type(e).__name__,
                address=self.address) from None
        finally:
            if timer.active():
                timer.cancel()
        self.connections_opened += 1
        self._conns.add(conn)
        conn.when_lost().addCallback(lambda _: self._conns.discard(conn))
        try:
            payload = await conn.request(
                F.encode_init(credential, self.cluster_name, conn.tables),
                self.connect_timeout)
            reply = F.decode(payload, conn.tables)
        except BaseException:
            conn.close(fini=False)
            raise
        if reply.msg_type != D.PERSIST_RC:
            conn.close(fini=False)
            raise ProtocolError(f"slurmdbd answered the init with {_type_name(reply.msg_type)}")
        rc = reply.body["rc"]
        if rc != 0:
            conn.close(fini=False)
            if rc == SLURM_PROTOCOL_VERSION_ERROR and self._candidates:
                return await self._offer_next(conn.tables, credential)
            raise error_for(rc, reply.body["comment"])
        if self._candidates and conn.tables is self.tables:
            self._candidates = []  # learnt: this release from now on
        conn.expires = _token_expiry(credential.token)
        return conn

    async def _offer_next(self, refused, credential) -> _Connection:
        """slurmdbd could not unpack the init of release ``refused``: the next newer one."""
        newer = [v for v in self._candidates if v.dbd.protocol > refused.protocol]
        if not newer:
            self._candidates = []
            known = ", ".join(v.name for v in versions.DBD_VERSIONS)
            raise ProtocolError(f"slurmdbd at {self.address} accepts none of the releases "
                                f"{known}", SLURM_PROTOCOL_VERSION_ERROR)
        if self.tables is refused:  # not switched already by a connection beside this one
            self._use(newer[0])
        return await self._connect(credential)

    def _endpoint(self):
        if isIPAddress(self.host):
            return TCP4ClientEndpoint(self.reactor, self.host, self.port)
        if isIPv6Address(self.host):
            return TCP6ClientEndpoint(self.reactor, self.host, self.port)
        return HostnameEndpoint(self.reactor, self.host, self.port)

    def close(self) -> defer.Deferred:
        """Close every connection (a request in flight fails); fires once all are gone."""
        lost = [conn.when_lost() for conn in self._conns]
        for conn in list(self._conns):
            conn.close(fini=conn.waiter is None)
        return defer.gatherResults(lost)

    # -- named reads ---------------------------------------------------------------------

    async def _list(self, msg_type, body, credential):
        message = await self.call(msg_type, body, credential)
        if message.msg_type == D.PERSIST_RC:  # rc 0: nothing to list (as the C client)
            return []
        if message.body["return_code"] not in (0, SLURM_NO_CHANGE_IN_DATA):
            raise error_for(message.body["return_code"])
        return message.body["my_list"] or []


def _reads():
    """Named read methods: ``name(credential, **cond)`` -> list of records."""
    table = {
        "jobs": D.DBD_GET_JOBS_COND, "associations": D.DBD_GET_ASSOCS,
        "problems": D.DBD_GET_PROBS, "users": D.DBD_GET_USERS,
        "accounts": D.DBD_GET_ACCOUNTS, "qos": D.DBD_GET_QOS, "tres": D.DBD_GET_TRES,
        "clusters": D.DBD_GET_CLUSTERS, "wckeys": D.DBD_GET_WCKEYS,
    }
    for name, msg_type in table.items():
        async def read(self, credential, cond=None, _t=msg_type):
            return await self._list(_t, cond or {}, credential)
        read.__name__ = name
        read.__doc__ = f"{D(msg_type).name}: the records matching ``cond`` (a dict)."
        setattr(SlurmdbdClient, name, read)


_reads()


async def _stats(self, credential):
    """DBD_GET_STATS (``sacctmgr show stats``): the stats record."""
    return (await self.call(D.DBD_GET_STATS, None, credential)).body


async def _config(self, credential):
    """DBD_GET_CONFIG: slurmdbd's configuration as ``[{"name", "value"}, ...]``."""
    return await self._list(D.DBD_GET_CONFIG, {"config_name": "slurmdbd.conf"}, credential)


SlurmdbdClient.stats = _stats
SlurmdbdClient.config_pairs = _config


class Transaction:
    """Writes on one connection; ``commit()`` only after all of them succeeded.

    A failed write makes the transaction unusable (``abort``: the connection is closed and
    slurmdbd rolls back). Results: ADD -> None; MODIFY/REMOVE -> the DBD_GOT_LIST strings
    (``[]`` when nothing matched). A remove refused because of running jobs or a default
    account (return_code 7001/7009) raises ``SlurmError`` with the blocking items as message.
    """

    def __init__(self, client, conn):
        self.client, self.conn = client, conn
        self.done = False

    async def call(self, msg_type, body):
        if self.done:
            raise RuntimeError("transaction already finished")
        frame = F.encode(msg_type, body, self.conn.tables)
        self.conn.writes = True
        try:
            message = await self.client._exchange(self.conn, msg_type, frame)
        except BaseException:
            self.abort()
            raise
        if message.msg_type == D.PERSIST_RC:
            return None if msg_type not in self.client.tables.reply_to else []
        items, rc = message.body["my_list"] or [], message.body["return_code"]
        if rc == SLURM_NO_CHANGE_IN_DATA:
            return []
        if rc != 0:
            self.abort()
            raise SlurmError(rc, ", ".join(i for i in items if i) or None)
        return items

    async def commit(self):
        """DBD_FINI {close_conn=0, commit=1}; the connection goes back to the pool."""
        if self.done:
            raise RuntimeError("transaction already finished")
        try:
            await self.client._exchange(
                self.conn, D.DBD_FINI,
                F.encode(D.DBD_FINI, {"close_conn": 0, "commit": 1}, self.client.tables))
        except BaseException:
            self.abort()
            raise
        self.done = True
        self.conn.writes = False
        self.client._release(self.conn, clean=True)  # the commit ended the transaction

    def abort(self):
        """Roll back: close the connection (DBD_FINI {close_conn=1} rolls back)."""
        if self.done:
            return
        self.done = True
        self.conn.broken = True
        self.client._release(self.conn)


class BoundDbdClient:
    """The client's named reads and writes with one credential filled in."""

    def __init__(self, client, credential):
        self.client, self.credential = client, credential

    def __repr__(self):
        return f"BoundDbdClient({self.client!r}, {self.credential!r})"

    def no_change(self, kind: str) -> dict:
        """A fresh copy of the "no change" record of DBD_MODIFY_<kind> in this client's
        release (``"qos"``: slurmdb_init_qos_rec(NO_VAL)): a modify sends it with only the
        fields to change filled in."""
        return dict(self.client.tables.no_change[kind])


def _bound(name, credential_first):
    """``BoundDbdClient.name``: the client's method with the bound credential filled in."""
    if credential_first:
        def method(self, *args, **kwargs):
            return getattr(self.client, name)(self.credential, *args, **kwargs)
    else:
        def method(self, *args, **kwargs):
            return getattr(self.client, name)(*args, credential=self.credential, **kwargs)
    method.__name__ = name
    method.__qualname__ = f"BoundDbdClient.{name}"
    method.__doc__ = getattr(SlurmdbdClient, name).__doc__
    return method


# What a bound client offers: the named reads, stats, config, and the write entry points.
for _name in ("jobs", "associations", "problems", "users", "accounts", "qos", "tres",
              "clusters", "wckeys", "stats", "config_pairs", "begin"):
    setattr(BoundDbdClient, _name, _bound(_name, credential_first=True))
for _name in ("call", "write"):
    setattr(BoundDbdClient, _name, _bound(_name, credential_first=False))
del _name
