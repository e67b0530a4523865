"""SlurmdbdClient in memory (Twisted's MemoryReactorClock and StringTransport): framing, the
pool, reconnects, timeouts, garbage, and the commit rules. The live counterpart is
tests/test_dbd_live.py."""

import struct

import jwt
from twisted.internet import defer, error
from twisted.internet.address import IPv4Address
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial import unittest

from slurmrest.wire import dbd_framing as F
from slurmrest.wire.conf import SlurmConfig
from slurmrest.wire.credentials import Credential
from slurmrest.wire.dbd_client import SlurmdbdClient
from slurmrest.wire.dbd_msgtypes import DbdMsgType as D
from slurmrest.wire.errors import (
    ESLURM_ACCESS_DENIED, CommunicationError, ProtocolError, SlurmError,
)
from slurmrest.wire.tables import dbd_v22_05 as T

CONF = SlurmConfig.from_text(
    "SlurmctldHost=ctl(127.0.0.1)\nClusterName=c1\nAccountingStorageHost=127.0.0.1\n"
    "AccountingStoragePort=6819\nMessageTimeout=5\n")
ALICE = Credential("token-a", "alice")
BOB = Credential("token-b", "bob")
TRES = [dict(T.TRES_REC.defaults(), id=1, type="cpu", count=8)]


class Transport(StringTransport):
    """Records each ``write`` call (a frame must be one write) and TCP_NODELAY."""

    def __init__(self):
        super().__init__(peerAddress=IPv4Address("TCP", "127.0.0.1", 6819))
        self.writes = []
        self.nodelay = False
        self.aborted = False

    def write(self, data):
        self.writes.append(data)
        super().write(data)

    def setTcpNoDelay(self, enabled):
        self.nodelay = enabled

    def abortConnection(self):
        self.aborted = True
        self.loseConnection()


def reply(msg_type, body, tables=T.TABLES):
    payload = struct.pack(">H", msg_type) + tables.replies[msg_type].pack(body)
    return struct.pack(">I", len(payload)) + payload


def rc(code=0, comment=None, ret_info=0):
    return reply(D.PERSIST_RC, {"comment": comment, "rc": code, "ret_info": ret_info})


def frames(data):
    out, off = [], 0
    while off < len(data):
        n, = struct.unpack_from(">I", data, off)
        out.append(data[off + 4:off + 4 + n])
        off += 4 + n
    return out


class Server:
    """The far end of one connection the client opened."""

    def __init__(self, test, index=-1):
        host, port, factory, _timeout, _bind = test.reactor.tcpClients[index]
        test.assertEqual((host, port), ("127.0.0.1", 6819))
        self.protocol = factory.buildProtocol(None)
        self.transport = Transport()
        self.protocol.makeConnection(self.transport)
        self.seen = 0

    def received(self):
        """Message types and bodies of the frames sent since the last call."""
        data = self.transport.value()
        new = frames(data)[self.seen:]
        self.seen += len(new)
        return new

    def send(self, data):
        self.protocol.dataReceived(data)

    def init(self, code=0):
        first = self.received()
        assert struct.unpack_from(">H", first[0])[0] == 6500, first
        self.send(rc(code, None if code == 0 else "Failed to unpack", 0x2600))

    def lose(self):
        self.protocol.connectionLost(Failure(error.ConnectionDone()))

    @property
    def closed(self):
        return self.transport.disconnecting


def msg_type(payload):
    return struct.unpack_from(">H", payload)[0]


class ClientTestCase(unittest.TestCase):
    def setUp(self):
        self.reactor = MemoryReactorClock()
        self.client = SlurmdbdClient(CONF, self.reactor, read_timeout=5, connect_timeout=3,
                                     idle_timeout=30)

    def start(self, coro):
        d = defer.ensureDeferred(coro)
        self.addCleanup(lambda: d.called or d.cancel() or d.addErrback(lambda _: None))
        return d

    def connect(self):
        server = Server(self)
        server.init()
        return server

    def read_tres(self, server, credential=ALICE):
        d = self.start(self.client.tres(credential))
        return d

    def finish_read(self, server, d, tres=TRES):
        (request,) = server.received()
        server.send(reply(D.DBD_GOT_TRES, {"my_list": tres}))
        result = self.successResultOf(d)
        # the read's transaction ends with a rollback, never a commit
        (fini,) = server.received()
        self.assertEqual(fini, F.encode(D.DBD_FINI, {"close_conn": 0, "commit": 0})[4:])
        server.send(rc(0, ret_info=D.DBD_FINI))
        return request, result


class FramingTests(ClientTestCase):
    def test_init_then_request(self):
        d = self.read_tres(None)
        server = Server(self)
        (init,) = server.received()
        self.assertEqual(init, F.encode_init(ALICE, "c1")[4:])
        self.assertTrue(server.transport.nodelay)
        server.send(rc(0, ret_info=0x2600))
        request, result = self.finish_read(server, d)
        self.assertEqual(request, F.encode(D.DBD_GET_TRES, {})[4:])
        self.assertEqual(result, TRES)
        # one write per frame: init, request, rollback
        self.assertEqual([len(w) for w in server.transport.writes],
                         [len(F.encode_init(ALICE, "c1")), len(F.encode(D.DBD_GET_TRES, {})),
                          10])

    def test_reply_in_pieces(self):
        d = self.read_tres(None)
        server = self.connect()
        server.received()
        data = reply(D.DBD_GOT_TRES, {"my_list": TRES})
        for i in range(len(data)):
            self.assertNoResult(d)
            server.send(data[i:i + 1])
        self.assertEqual(self.successResultOf(d), TRES)

    def test_persist_rc_zero_on_a_read_is_an_empty_list(self):
        d = self.read_tres(None)
        server = self.connect()
        server.received()
        server.send(rc(0, "nothing", D.DBD_GET_TRES))
        self.assertEqual(self.successResultOf(d), [])

    def test_init_refused(self):
        d = self.read_tres(None)
        server = Server(self)
        server.init(code=-1)
        failure = self.failureResultOf(d, SlurmError)
        self.assertEqual(failure.value.errno, -1)
        self.assertEqual(failure.value.message, "Failed to unpack")
        self.assertTrue(server.closed)

    def test_error_reply(self):
        d = self.read_tres(None)
        server = self.connect()
        server.received()
        server.send(rc(7007, "Too wide of a date range in query", D.DBD_GET_TRES))
        failure = self.failureResultOf(d, SlurmError)
        self.assertEqual(failure.value.errno, 7007)


class BrokenConnectionTests(ClientTestCase):
    def assert_new_connection_next(self):
        before = len(self.reactor.tcpClients)
        d = self.read_tres(None)
        self.assertEqual(len(self.reactor.tcpClients), before + 1)
        server = self.connect()
        self.finish_read(server, d)

    def test_garbage_length(self):
        d = self.read_tres(None)
        server = self.connect()
        server.received()
        server.send(struct.pack(">I", 1) + b"x")
        self.failureResultOf(d, ProtocolError)
        self.assertTrue(server.transport.aborted)
        self.assert_new_connection_next()

    def test_garbage_body(self):
        d = self.read_tres(None)
        server = self.connect()
        server.received()
        server.send(struct.pack(">IHI", 6, D.DBD_GOT_TRES, 5))  # 5 records, no bytes
        self.failureResultOf(d, ProtocolError)
        self.assert_new_connection_next()

    def test_oversized_frame(self):
        self.client.max_frame = 1000
        d = self.read_tres(None)
        server = self.connect()
        server.received()
        server.send(struct.pack(">I", 5000))
        self.failureResultOf(d, ProtocolError)

    def test_wrong_reply_type(self):
        d = self.read_tres(None)
        server = self.connect()
        server.received()
        server.send(reply(D.DBD_GOT_QOS, {"my_list": []}))
        self.failureResultOf(d, ProtocolError)
        self.assertTrue(server.closed)
        self.assert_new_connection_next()

    def test_truncated_then_closed(self):
        d = self.read_tres(None)
        server = self.connect()
        server.received()
        server.send(reply(D.DBD_GOT_TRES, {"my_list": TRES})[:-3])
        server.lose()
        failure = self.failureResultOf(d, CommunicationError)
        self.assertEqual(failure.value.errno, 1003)
        self.assertFalse(failure.value.timeout)

    def test_access_denied_closes(self):
        d = self.start(self.client.stats(ALICE))
        server = self.connect()
        server.received()
        server.send(rc(ESLURM_ACCESS_DENIED, "Your user doesn't have privilege",
                       D.DBD_GET_STATS))
        self.assertEqual(self.failureResultOf(d, SlurmError).value.errno, ESLURM_ACCESS_DENIED)
        self.assert_new_connection_next()

    def test_frame_nobody_asked_for(self):
        d = self.read_tres(None)
        server = self.connect()
        self.finish_read(server, d)
        server.send(rc(0))  # while idle
        self.assertTrue(server.closed)
        self.assert_new_connection_next()

    def test_closed_while_idle(self):
        d = self.read_tres(None)
        server = self.connect()
        self.finish_read(server, d)
        server.lose()
        self.assert_new_connection_next()


class TimeoutTests(ClientTestCase):
    def test_read_timeout(self):
        d = self.read_tres(None)
        server = self.connect()
        self.reactor.advance(4.9)
        self.assertNoResult(d)
        self.reactor.advance(0.2)
        failure = self.failureResultOf(d, CommunicationError)
        self.assertTrue(failure.value.timeout)
        self.assertEqual(failure.value.errno, 1003)
        self.assertTrue(server.transport.aborted)

    def test_init_timeout(self):
        d = self.read_tres(None)
        Server(self)
        self.reactor.advance(3.1)
        self.assertTrue(self.failureResultOf(d, CommunicationError).value.timeout)

    def test_connect_timeout(self):
        d = self.read_tres(None)
        self.reactor.advance(3.1)
        failure = self.failureResultOf(d, CommunicationError)
        self.assertEqual(failure.value.errno, 1001)
        self.assertTrue(failure.value.timeout)

    def test_connect_refused(self):
        d = self.read_tres(None)
        factory = self.reactor.tcpClients[-1][2]
        factory.clientConnectionFailed(None, Failure(error.ConnectionRefusedError()))
        failure = self.failureResultOf(d, CommunicationError)
        self.assertEqual(failure.value.errno, 1001)
        self.assertFalse(failure.value.timeout)


class PoolTests(ClientTestCase):
    def test_reuse(self):
        server = None
        for _ in range(3):
            d = self.read_tres(None)
            server = server or self.connect()
            self.finish_read(server, d)
        self.assertEqual(len(self.reactor.tcpClients), 1)

    def test_identical_reads_share_one_request(self):
        d1, d2 = self.read_tres(None), self.read_tres(None)
        server = self.connect()
        self.assertEqual(len(self.reactor.tcpClients), 1)
        self.finish_read(server, d1)
        self.assertEqual(self.successResultOf(d2), TRES)

    def test_same_reply_bytes_same_records(self):
        """A read answered with the very bytes of its last answer gets the records decoded
        then (the operations reuse what they made of them); other bytes are decoded anew."""
        server = None
        results = []
        other_tres = [dict(TRES[0], count=9)]
        for tres in (TRES, TRES, other_tres, other_tres):
            d = self.read_tres(None)
            server = server or self.connect()
            results.append(self.finish_read(server, d, tres)[1])
        self.assertIs(results[0], results[1])
        self.assertEqual(results[2], other_tres)
        self.assertIsNot(results[2], results[1])
        self.assertIs(results[2], results[3])
        # another credential never gets them
        d = self.read_tres(None, BOB)
        other = self.connect()
        self.assertIsNot(self.finish_read(other, d)[1], results[0])

    def test_last_replies_bounded(self):
        from slurmrest.wire.dbd_client import _LastReplies
        kept = _LastReplies(max_entries=2, max_bytes=400)
        for i in range(3):
            kept.put(i, bytes(10) + bytes([i]), f"m{i}")
        self.assertIsNone(kept.get(0, bytes(10) + bytes([0])))  # the oldest went
        self.assertEqual(kept.get(2, bytes(10) + bytes([2])), "m2")
        kept.put(3, bytes(101), "too big")  # over a quarter of the byte bound
        self.assertIsNone(kept.get(3, bytes(101)))
        kept.put(4, bytes(99), "a")
        kept.put(5, bytes(99), "b")  # 198 + ... within 400, count bound 2
        self.assertEqual((kept.get(4, bytes(99)), kept.get(5, bytes(99))), ("a", "b"))

    def test_credentials_never_share(self):
        d1, d2 = self.read_tres(None, ALICE), self.read_tres(None, BOB)
        self.assertEqual(len(self.reactor.tcpClients), 2)
        alice, bob = Server(self, 0), Server(self, 1)
        self.assertEqual(alice.received()[0], F.encode_init(ALICE, "c1")[4:])
        self.assertEqual(bob.received()[0], F.encode_init(BOB, "c1")[4:])

    def test_bounded_per_credential(self):
        self.client.per_credential = 1
        d1 = self.read_tres(None)
        d2 = self.start(self.client.qos(ALICE))
        self.assertEqual(len(self.reactor.tcpClients), 1)
        server = self.connect()
        self.finish_read(server, d1)
        # the second request waited for the first (one at a time on one connection)
        (request,) = server.received()
        self.assertEqual(msg_type(request), D.DBD_GET_QOS)
        server.send(reply(D.DBD_GOT_QOS, {"my_list": []}))
        self.assertEqual(self.successResultOf(d2), [])

    def test_waiting_for_a_slot_times_out(self):
        self.client.per_credential = 1
        self.read_tres(None)
        self.connect()  # busy with the first read (read timeout 5 s)
        d2 = self.start(self.client.qos(ALICE))
        self.reactor.advance(3.1)
        self.assertTrue(self.failureResultOf(d2, CommunicationError).value.timeout)

    def test_idle_connections_close(self):
        d = self.read_tres(None)
        server = self.connect()
        self.finish_read(server, d)
        self.reactor.advance(31)
        self.assertTrue(server.closed)
        (fini,) = server.received()
        self.assertEqual(fini, F.encode(D.DBD_FINI, {"close_conn": 1, "commit": 0})[4:])

    def test_no_reuse_past_token_expiry(self):
        token = jwt.encode({"sun": "alice", "exp": self.reactor.seconds() + 10}, "k")
        cred = Credential(token, "alice")
        d = self.read_tres(None, cred)
        server = self.connect()
        self.finish_read(server, d)
        self.reactor.advance(11)
        self.read_tres(None, cred)
        self.assertEqual(len(self.reactor.tcpClients), 2)
        self.assertTrue(server.closed)

    def test_cancelled_read_is_not_reused(self):
        d = self.read_tres(None)
        server = self.connect()
        d.cancel()
        self.failureResultOf(d, defer.CancelledError)
        self.assertTrue(server.transport.aborted)

    def test_close(self):
        d = self.read_tres(None)
        server = self.connect()
        self.finish_read(server, d)
        closing = self.client.close()
        self.assertTrue(server.closed)
        server.lose()
        self.successResultOf(closing)


class WriteTests(ClientTestCase):
    ADD = {"my_list": [{"name": "acct", "description": "d", "organization": "o"}]}

    def test_commit_after_success(self):
        d = self.start(self.client.write(D.DBD_ADD_ACCOUNTS, self.ADD, ALICE))
        server = self.connect()
        (request,) = server.received()
        self.assertEqual(request, F.encode(D.DBD_ADD_ACCOUNTS, self.ADD)[4:])
        server.send(rc(0, ret_info=D.DBD_ADD_ACCOUNTS))
        (fini,) = server.received()
        self.assertEqual(fini, F.encode(D.DBD_FINI, {"close_conn": 0, "commit": 1})[4:])
        self.assertNoResult(d)
        server.send(rc(0, ret_info=D.DBD_FINI))
        self.assertIsNone(self.successResultOf(d))
        # committed: the connection is clean and pooled, no rollback needed
        self.assertEqual(server.received(), [])
        self.assertFalse(server.closed)

    def test_failed_write_never_commits(self):
        d = self.start(self.client.write(D.DBD_ADD_ACCOUNTS, self.ADD, ALICE))
        server = self.connect()
        server.received()
        server.send(rc(2046, "Invalid parent account", D.DBD_ADD_ACCOUNTS))
        self.assertEqual(self.failureResultOf(d, SlurmError).value.errno, 2046)
        (close,) = server.received()
        self.assertEqual(close, F.encode(D.DBD_FINI, {"close_conn": 1, "commit": 0})[4:])
        self.assertTrue(server.closed)

    def test_lost_mid_write_never_commits(self):
        d = self.start(self.client.write(D.DBD_ADD_ACCOUNTS, self.ADD, ALICE))
        server = self.connect()
        server.received()
        server.lose()
        self.failureResultOf(d, CommunicationError)
        self.assertEqual(server.received(), [])
        self.assertEqual(self.client._open, 0)

    def test_remove_refused_by_running_jobs(self):
        d = self.start(self.client.write(
            D.DBD_REMOVE_ACCOUNTS, {"assoc_cond": {"acct_list": ["a"]}}, ALICE))
        server = self.connect()
        server.received()
        server.send(reply(D.DBD_GOT_LIST, {"my_list": ["job 7"], "return_code": 7001}))
        failure = self.failureResultOf(d, SlurmError)
        self.assertEqual((failure.value.errno, failure.value.message), (7001, "job 7"))
        self.assertTrue(server.closed)

    def test_transaction_of_several_writes(self):
        async def txn():
            t = await self.client.begin(ALICE)
            await t.call(D.DBD_ADD_ACCOUNTS, self.ADD)
            changed = await t.call(D.DBD_MODIFY_ACCOUNTS, {
                "cond": {"assoc_cond": {"acct_list": ["acct"]}},
                "rec": {"description": "e"}})
            await t.commit()
            return changed
        d = self.start(txn())
        server = self.connect()
        self.assertEqual(msg_type(server.received()[0]), D.DBD_ADD_ACCOUNTS)
        server.send(rc(0))
        self.assertEqual(msg_type(server.received()[0]), D.DBD_MODIFY_ACCOUNTS)
        server.send(reply(D.DBD_GOT_LIST, {"my_list": ["acct"], "return_code": 0}))
        self.assertEqual(server.received()[0],
                         F.encode(D.DBD_FINI, {"close_conn": 0, "commit": 1})[4:])
        server.send(rc(0))
        self.assertEqual(self.successResultOf(d), ["acct"])

    def test_reads_refuse_writes(self):
        d = self.start(self.client.call(D.DBD_ADD_ACCOUNTS, self.ADD, ALICE))
        self.failureResultOf(d, ValueError)
        self.assertEqual(self.reactor.tcpClients, [])


class VersionTests(unittest.TestCase):
    """The client's messages are its version's ``dbd`` tables: a derived release (made up
    here) is all it takes for the client to speak another slurmdbd."""

    def derived(self):
        from slurmrest.wire import tables
        tres = T.TRES_REC.replace(insert=[("type", ("flavour", T.STR))])
        dbd = tables.NEWEST_DBD.dbd.derive(
            "99.99", 0x7f00,
            persist_init=T.PERSIST_INIT_REQ.replace(insert=[("port", ("colour", T.U16))]),
            replies={D.DBD_GOT_TRES: T.list_msg("got_tres", tres)})
        return tables.NEWEST_DBD.derive("99.99", 0x7f00, dbd=dbd)

    def test_default_and_explicit_versions(self):
        from slurmrest.wire import tables
        reactor = MemoryReactorClock()
        unlearnt = SlurmdbdClient(CONF, reactor)
        self.assertIs(unlearnt.tables, tables.FIRST_DBD.dbd)  # offered first, then learnt
        self.assertFalse(unlearnt.learnt)
        self.assertTrue(SlurmdbdClient(CONF, reactor, version=0x2600).learnt)
        self.assertIs(SlurmdbdClient(CONF, reactor, version=0x2600).tables, T.TABLES)
        self.assertIs(SlurmdbdClient(CONF, reactor, version=T.PROTOCOL_VERSION).slurm_version,
                      tables.version_for(T.PROTOCOL_VERSION))
        self.assertRaises(ProtocolError, SlurmdbdClient, CONF, reactor, version=0x2500)
        from slurmrest.wire.versions import SlurmVersion
        without = SlurmVersion("0.0", 1, tables.NEWEST.header, {}, (), tables.NEWEST.enums)
        self.assertRaises(ProtocolError, SlurmdbdClient, CONF, reactor, version=without)

    def test_every_version_has_consistent_dbd_tables(self):
        from slurmrest.wire import tables
        for version in tables.VERSIONS:
            dbd = version.dbd
            if dbd is None:  # a release whose slurmdbd tables are not there yet
                continue
            self.assertEqual(dbd.protocol, version.protocol)
            self.assertIn(D.DBD_FINI, dbd.requests)
            self.assertIn(D.PERSIST_RC, dbd.replies)
            self.assertLessEqual(set(dbd.reply_to.values()), set(dbd.replies))
            self.assertLessEqual(set(dbd.writes) | set(dbd.reply_to), set(dbd.requests))

    def test_a_client_speaks_the_version_it_was_given(self):
        reactor = MemoryReactorClock()
        version = self.derived()
        client = SlurmdbdClient(CONF, reactor, version=version)
        self.assertIs(client.tables, version.dbd)
        self.assertIn("0x7f00", repr(client))
        d = defer.ensureDeferred(client.tres(ALICE))
        _, _, factory, _, _ = reactor.tcpClients[0]
        protocol = factory.buildProtocol(None)
        transport = Transport()
        protocol.makeConnection(transport)
        (init,) = frames(transport.value())
        self.assertEqual(struct.unpack_from(">HH", init), (6500, 0x7f00))  # the header
        self.assertEqual(init, F.encode_init(ALICE, "c1", version.dbd)[4:])
        self.assertNotEqual(init, F.encode_init(ALICE, "c1")[4:])  # colour: two more bytes
        protocol.dataReceived(rc(0, ret_info=0x7f00))
        payload = struct.pack(">H", D.DBD_GOT_TRES) + version.dbd.replies[D.DBD_GOT_TRES].pack(
            {"my_list": [dict(TRES[0], flavour="mint")]})
        protocol.dataReceived(struct.pack(">I", len(payload)) + payload)
        (record,) = self.successResultOf(d)
        self.assertEqual((record["type"], record["flavour"]), ("cpu", "mint"))
        # the newest tables would refuse that reply (bytes left over)
        self.assertRaises(ProtocolError, F.decode, payload)
        client.close()


class LearningTests(ClientTestCase):
    """Told no version, the client offers the oldest release's init; a slurmdbd that cannot
    unpack it (1005) gets the next release's, and the client speaks that from then on."""

    def test_newer_slurmdbd_is_learnt(self):
        from slurmrest.wire import tables
        newer = tables.DBD_VERSIONS[-1]
        self.assertIsNot(newer, tables.FIRST_DBD)
        d = self.read_tres(None)
        first = Server(self, 0)
        (init,) = first.received()
        self.assertEqual(struct.unpack_from(">HH", init), (6500, 0x2600))  # REQUEST_PERSIST_INIT
        first.send(rc(1005, "Failed to unpack SLURM_PERSIST_INIT message", 0x2A00))
        self.assertTrue(first.closed)
        self.assertNoResult(d)
        second = Server(self, 1)
        (init,) = second.received()
        self.assertEqual(struct.unpack_from(">HH", init)[1], newer.dbd.protocol)
        second.send(reply(D.PERSIST_RC, {"comment": None, "rc": 0, "ret_info": 0},
                          newer.dbd))
        (request,) = second.received()
        self.assertEqual(request, F.encode(D.DBD_GET_TRES, {}, newer.dbd)[4:])
        second.send(reply(D.DBD_GOT_TRES, {"my_list": TRES}, newer.dbd))
        self.assertEqual(self.successResultOf(d), TRES)
        self.assertTrue(self.client.learnt)
        self.assertIs(self.client.tables, newer.dbd)

    def test_other_refusals_are_not_a_reason_to_switch(self):
        from slurmrest.wire import tables
        d = self.read_tres(None)
        server = Server(self, 0)
        server.received()
        server.send(rc(-1, "Failed to unpack SLURM_PERSIST_INIT message"))  # a bad token
        self.failureResultOf(d, SlurmError)
        self.assertEqual(len(self.reactor.tcpClients), 1)
        self.assertIs(self.client.tables, tables.FIRST_DBD.dbd)
        self.assertFalse(self.client.learnt)

    def test_an_accepted_init_fixes_the_release(self):
        d = self.read_tres(None)
        server = self.connect()
        self.finish_read(server, d)
        self.assertTrue(self.client.learnt)
