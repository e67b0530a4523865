"""The exchange contract: one request out, one length-prefixed reply in, on a fresh
connection. The client has two implementations (``_SocketExchange``, a bare socket the posix
reactor watches; ``_Exchange``, a Twisted ``Protocol`` for other reactors and the in-memory
tests); the SAME cases below run against each, on real loopback sockets with a scripted peer.

The contract: ``Exchange(frame, reactor, connect_timeout, read_timeout, address,
max_reply_size).connect(host, port)`` is a Deferred of the reply without its length prefix,
or fails with ``CommunicationError`` (1800 connect, with ``connect_failed`` set; 1801 send;
1802 receive; ``timeout`` set for timeouts) or ``ProtocolError`` (1008: a length prefix out
of bounds). Cancelling it closes the connection. Whatever happens, nothing is left behind:
no timer, no socket, nothing the reactor still watches.
"""

import socket

from twisted.internet import defer, reactor
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import deferLater
from twisted.trial import unittest

from slurmrest.wire.client import MIN_REPLY_LENGTH, SlurmctldClient, _Exchange, _SocketExchange
from slurmrest.wire.conf import SlurmConfig
from slurmrest.wire.credentials import Credential
from slurmrest.wire.errors import CommunicationError, ProtocolError
from slurmrest.wire.msgtypes import MsgType
from slurmrest.wire.primitives import MAX_MSG_SIZE
from slurmrest.wire.protocol import NEWEST

ALICE = Credential("header.payload.signature", "alice")
PING = NEWEST.encode(MsgType.REQUEST_PING, None, ALICE)
REPLY = NEWEST.encode(MsgType.RESPONSE_SLURM_RC, {"return_code": 0}, None)
CLOSE, HANG = "close", "hang"  # how a script ends


class ScriptedPeer(Protocol):
    """The server side: reads one whole request frame, then plays the server's script
    (chunks written one reactor turn apart, then CLOSE or HANG)."""

    def connectionMade(self):
        self.factory.connections.append(self)
        self.buffer = b""
        self.lost = False
        self.pending = None

    def dataReceived(self, data):
        self.buffer += data
        if len(self.buffer) < 4 or len(self.buffer) < 4 + int.from_bytes(self.buffer[:4], "big"):
            return
        self.factory.requests.append(self.buffer)
        self.buffer = b""
        self.play(list(self.factory.script))

    def play(self, steps):
        self.pending = None
        if self.lost or not steps:
            return
        step = steps.pop(0)
        if step == CLOSE:
            self.transport.loseConnection()
        elif step != HANG:
            self.transport.write(step)
            self.pending = reactor.callLater(0.002, self.play, steps)

    def connectionLost(self, reason):
        self.lost = True
        if self.pending is not None and self.pending.active():
            self.pending.cancel()


class Server(Factory):
    protocol = ScriptedPeer
    noisy = False  # its own log lines are not the exchange's

    def __init__(self, script):
        self.script = script
        self.connections = []
        self.requests = []


async def eventually(predicate, what, seconds=5.0):
    for _ in range(int(seconds / 0.01)):
        if predicate():
            return
        await deferLater(reactor, 0.01, lambda: None)
    raise AssertionError(f"not within {seconds:g} s: {what}")


def chunks(data, size):
    return [data[i:i + size] for i in range(0, len(data), size)]


class ExchangeContract:
    """The cases; a subclass names the implementation (``exchange_class``)."""

    exchange_class = None

    def serve(self, *script, interface="127.0.0.1"):
        self.server = Server(script or (REPLY, CLOSE))
        try:
            port = reactor.listenTCP(0, self.server, interface=interface)
        except Exception as e:  # no IPv6 here
            raise unittest.SkipTest(f"cannot listen on {interface}: {e}")
        self.addCleanup(port.stopListening)
        return port.getHost().port

    def start(self, port, frame=PING, host="127.0.0.1", connect_timeout=5.0,
              read_timeout=5.0, max_reply_size=MAX_MSG_SIZE):
        self.exchange = self.exchange_class(frame, reactor, connect_timeout, read_timeout,
                                            f"{host}:{port}", max_reply_size)
        return self.exchange.connect(host, port)

    async def failure(self, d, kind):
        try:
            result = await d
        except kind as e:
            return e
        self.fail(f"{kind.__name__} expected, got {result!r}")

    async def assertNothingLeft(self):
        """No timer of the exchange (trial's own 120 s one stays), nothing watched."""
        await eventually(lambda: not [c for c in reactor.getDelayedCalls()
                                      if c.getTime() - reactor.seconds() < 60],
                         "the exchange's timers are gone")
        await eventually(lambda: not [s for s in reactor.getReaders() + reactor.getWriters()
                                      if s is self.exchange
                                      or getattr(s, "protocol", None) is self.exchange],
                         "the reactor watches no socket of the exchange")

    # -- replies --------------------------------------------------------------------------

    async def test_reply(self):
        port = self.serve()
        self.assertEqual(await self.start(port), REPLY[4:])
        self.assertEqual(self.server.requests, [PING])
        await self.assertNothingLeft()

    async def test_ipv6(self):
        port = self.serve(interface="::1")
        self.assertEqual(await self.start(port, host="::1"), REPLY[4:])

    async def test_split_reply(self):
        """The length prefix and the body in pieces, one reactor turn apart."""
        port = self.serve(*chunks(REPLY, 3), CLOSE)
        self.assertEqual(await self.start(port), REPLY[4:])
        await self.assertNothingLeft()

    async def test_reply_without_close(self):
        """The reply is complete when its length says so, not when the peer closes."""
        port = self.serve(REPLY, HANG)
        self.assertEqual(await self.start(port), REPLY[4:])
        await eventually(lambda: self.server.connections[0].lost, "the exchange closed")
        await self.assertNothingLeft()

    async def test_large_reply_in_many_reads(self):
        body = b"\1" * 1_000_000
        reply = (len(body)).to_bytes(4, "big") + body
        port = self.serve(*chunks(reply, 65536 * 3), CLOSE)
        self.assertEqual(await self.start(port), body)
        await self.assertNothingLeft()

    async def test_large_request_in_many_writes(self):
        """A request bigger than the socket buffers goes out whole."""
        body = b"\2" * 8_000_000
        frame = len(body).to_bytes(4, "big") + body
        port = self.serve()
        self.assertEqual(await self.start(port, frame=frame), REPLY[4:])
        self.assertEqual(self.server.requests, [frame])
        await self.assertNothingLeft()

    # -- bad replies ----------------------------------------------------------------------

    async def test_oversized_length_prefix(self):
        port = self.serve(b"\x40\x00\x00\x01", HANG)  # 1 GiB + 1
        error = await self.failure(self.start(port), ProtocolError)
        self.assertEqual(error.errno, 1008)
        self.assertIn("announces 1073741825 bytes", str(error))
        await eventually(lambda: self.server.connections[0].lost, "the exchange hung up")
        await self.assertNothingLeft()

    async def test_configured_reply_limit(self):
        port = self.serve((101).to_bytes(4, "big"), HANG)
        error = await self.failure(self.start(port, max_reply_size=100), ProtocolError)
        self.assertIn("limit 100", str(error))
        await self.assertNothingLeft()

    async def test_absurdly_short_length_prefix(self):
        port = self.serve((MIN_REPLY_LENGTH - 1).to_bytes(4, "big") + b"abc", HANG)
        error = await self.failure(self.start(port), ProtocolError)
        self.assertEqual(error.errno, 1008)
        await self.assertNothingLeft()

    async def test_garbage_reaches_the_decoder(self):
        """Well-framed garbage is the codec's to refuse: through the client, ProtocolError."""
        garbage = b"\x13\x37" * 20
        port = self.serve(len(garbage).to_bytes(4, "big") + garbage, CLOSE)
        self.assertEqual(await self.start(port), garbage)
        client = self.client(port)
        await self.failure(defer.ensureDeferred(client.ping(ALICE)), ProtocolError)

    async def test_truncated_reply_then_close(self):
        port = self.serve(REPLY[:-3], CLOSE)
        error = await self.failure(self.start(port), CommunicationError)
        self.assertEqual(error.errno, 1802)
        self.assertFalse(error.timeout)
        self.assertFalse(self.exchange.connect_failed)
        self.assertIn(f"after {len(REPLY) - 3} of {len(REPLY)} reply bytes", str(error))
        await self.assertNothingLeft()

    async def test_truncated_length_prefix_then_close(self):
        port = self.serve(REPLY[:2], CLOSE)
        error = await self.failure(self.start(port), CommunicationError)
        self.assertIn("after 2 of ? reply bytes", str(error))
        await self.assertNothingLeft()

    async def test_closed_without_reply(self):
        port = self.serve(CLOSE)
        error = await self.failure(self.start(port), CommunicationError)
        self.assertEqual((error.errno, error.address), (1802, f"127.0.0.1:{port}"))
        self.assertIn("without a reply", str(error))
        self.assertFalse(self.exchange.connect_failed)
        await self.assertNothingLeft()

    # -- connecting -----------------------------------------------------------------------

    async def test_connect_refused(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nobody listens there now
        error = await self.failure(self.start(port), CommunicationError)
        self.assertEqual(error.errno, 1800)
        self.assertFalse(error.timeout)
        self.assertTrue(self.exchange.connect_failed)
        self.assertIn("refused", str(error))
        await self.assertNothingLeft()

    async def test_connect_timeout(self):
        """A listener whose backlog is full drops further connection attempts."""
        listener = socket.socket()
        self.addCleanup(listener.close)
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        for _ in range(4):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            self.addCleanup(s.close)
        error = await self.failure(self.start(port, connect_timeout=0.3, read_timeout=0.3),
                                   CommunicationError)
        if error.errno == 1802:  # the kernel took the connection after all
            raise unittest.SkipTest("this kernel accepted past the backlog")
        self.assertEqual(error.errno, 1800)
        self.assertTrue(error.timeout)
        self.assertTrue(self.exchange.connect_failed)
        await self.assertNothingLeft()

    async def test_read_timeout(self):
        port = self.serve(REPLY[:10], HANG)
        error = await self.failure(self.start(port, read_timeout=0.3), CommunicationError)
        self.assertEqual(error.errno, 1802)
        self.assertTrue(error.timeout)
        self.assertFalse(self.exchange.connect_failed)
        await eventually(lambda: self.server.connections[0].lost, "the exchange hung up")
        await self.assertNothingLeft()

    # -- cancellation ---------------------------------------------------------------------

    async def test_cancel_before_connected(self):
        port = self.serve(HANG)
        d = self.start(port)
        d.cancel()
        await self.failure(d, defer.CancelledError)
        await self.assertNothingLeft()
        await deferLater(reactor, 0.05, lambda: None)
        for peer in self.server.connections:  # if it got that far, it is gone again
            await eventually(lambda: peer.lost, "the cancelled connection closed")

    async def test_cancel_while_waiting_for_the_reply(self):
        port = self.serve(HANG)
        d = self.start(port)
        await eventually(lambda: self.server.requests, "the request arrived")
        d.cancel()
        await self.failure(d, defer.CancelledError)
        await eventually(lambda: self.server.connections[0].lost, "the socket closed")
        await self.assertNothingLeft()

    async def test_cancel_after_the_reply_changes_nothing(self):
        port = self.serve()
        d = self.start(port)
        self.assertEqual(await d, REPLY[4:])
        d.cancel()
        await self.assertNothingLeft()

    # -- as the client uses it --------------------------------------------------------------

    def client(self, port):
        config = SlurmConfig.from_text(f"SlurmctldHost=ctl(127.0.0.1)\nSlurmctldPort={port}\n"
                                       "MessageTimeout=5\n")
        client = SlurmctldClient(config, reactor)
        client._exchange_class = self.exchange_class
        return client

    async def test_logs_nothing(self):
        """One connection per RPC, and not one log line each ("Starting factory ...")."""
        from twisted.logger import globalLogPublisher
        port = self.serve()
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        for _ in range(3):
            self.assertEqual(await self.start(port), REPLY[4:])
        self.assertEqual(len(self.server.requests), 3)
        self.assertEqual(events, [])

    async def test_through_the_client(self):
        port = self.serve()
        client = self.client(port)
        self.assertEqual(await client.ping(ALICE), 0)
        self.assertEqual(client.counters["connections"], 1)


class SocketExchangeTests(ExchangeContract, unittest.TestCase):
    exchange_class = _SocketExchange


class TwistedExchangeTests(ExchangeContract, unittest.TestCase):
    exchange_class = _Exchange
