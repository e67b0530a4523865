"""The slurmctld client in memory: Twisted's fake reactor and transports, and a minimal
slurmctld *protocol peer* built on the codec (reads one frame, answers with codec-built
frames). Nothing here imitates slurmctld's behaviour beyond framing and the reply chosen by
each test; what slurmctld really answers is checked in test_client_live.
"""

from twisted.internet import defer
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.error import ConnectionDone, ConnectionRefusedError
from twisted.internet.interfaces import IHostnameResolver
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.test import iosim
from twisted.trial import unittest
from zope.interface import implementer

from slurmrest.wire import primitives
from slurmrest.wire.client import SlurmctldClient
from slurmrest.wire.conf import SlurmConfig
from slurmrest.wire.credentials import Credential
from slurmrest.wire.errors import CommunicationError, NoChange, ProtocolError, SlurmError
from slurmrest.wire.msgtypes import MsgType
from slurmrest.wire.protocol import protocol_for
from slurmrest.wire.tables.v22_05 import JOB_SHOW_FLAGS

PROTOCOL_22_05 = protocol_for(0x2600)
ALICE = Credential("header.payload.signature", "alice")
BOB = Credential("other.token.value", "bob")
LICENSES = {"num_lic": 1, "last_update": 1700000000,
            "licenses": [{"name": "matlab", "total": 5, "in_use": 1, "reserved": 0,
                          "remote": 0}]}


def reply_frame(msg_type, body):
    """A reply as slurmctld frames it: no token, no user name in the credential slot."""
    return PROTOCOL_22_05.encode(msg_type, body, None)


def rc_frame(rc, message=None):
    if message is None:
        return reply_frame(MsgType.RESPONSE_SLURM_RC, {"return_code": rc})
    return reply_frame(MsgType.RESPONSE_SLURM_RC_MSG, {"return_code": rc, "err_msg": message})


class SlurmctldPeer(Protocol):
    """The server side of one connection: one request frame in, ``answer(request)`` out."""

    def __init__(self, answer, requests):
        self.answer = answer
        self.requests = requests
        self.buffer = b""

    def dataReceived(self, data):
        self.buffer += data
        if len(self.buffer) < 4:
            return
        length = int.from_bytes(self.buffer[:4], "big")
        if len(self.buffer) < 4 + length:
            return
        request = PROTOCOL_22_05.decode(self.buffer[4:4 + length])
        self.requests.append(request)
        frame = self.answer(request)
        if frame:
            self.transport.write(frame)
        self.transport.loseConnection()


class RecordingTransport(StringTransport):
    """A StringTransport that counts writes and remembers TCP_NODELAY."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.writes = 0
        self.no_delay = False

    def write(self, data):
        self.writes += 1
        super().write(data)

    def setTcpNoDelay(self, enabled):
        self.no_delay = enabled


@implementer(IHostnameResolver)
class FixedResolver:
    """Resolves every name to a fixed list of addresses and counts the lookups."""

    def __init__(self, hosts):
        self.hosts = hosts
        self.lookups = []

    def resolveHostName(self, receiver, hostName, portNumber=0, addressTypes=None,
                        transportSemantics="TCP"):
        self.lookups.append(hostName)
        receiver.resolutionBegan(None)
        for host in self.hosts:
            kind = IPv6Address if ":" in host else IPv4Address
            receiver.addressResolved(kind("TCP", host, portNumber))
        receiver.resolutionComplete()


class ClientTestCase(unittest.TestCase):
    conf = ("SlurmctldHost=primary(10.0.0.1)\nSlurmctldHost=backup(10.0.0.2)\n"
            "SlurmctldPort=6817\nMessageTimeout=5\n")

    def setUp(self):
        self.reactor = MemoryReactorClock()
        self.config = SlurmConfig.from_text(self.conf)
        self.client = SlurmctldClient(self.config, self.reactor)
        self.requests = []

    def start(self, coroutine):
        return defer.ensureDeferred(coroutine)

    def pending(self):
        return [(host, port) for host, port, *_ in self.reactor.tcpClients]

    def accept(self, index=-1):
        """Complete the connection attempt ``index`` onto a RecordingTransport."""
        host, port, factory, _, _ = self.reactor.tcpClients[index]
        address = (IPv6Address if ":" in host else IPv4Address)("TCP", host, port)
        protocol = factory.buildProtocol(address)
        transport = RecordingTransport(peerAddress=address)
        protocol.makeConnection(transport)
        return protocol, transport

    def refuse(self, index=-1):
        _, _, factory, _, _ = self.reactor.tcpClients[index]
        factory.clientConnectionFailed(self.reactor.connectors[index],
                                       Failure(ConnectionRefusedError()))

    def request(self, transport):
        frame = transport.value()
        self.assertEqual(int.from_bytes(frame[:4], "big"), len(frame) - 4)
        return PROTOCOL_22_05.decode(frame[4:])

    def finish(self, protocol, data):
        protocol.dataReceived(data)
        protocol.connectionLost(Failure(ConnectionDone()))

    def serve(self, answer):
        """A listening fake slurmctld on the configured port, for iosim connections."""
        self.reactor.listenTCP(6817, Factory.forProtocol(
            lambda: SlurmctldPeer(answer, self.requests)))
        return iosim.ConnectionCompleter(self.reactor)

    def assertNoTimersLeft(self):
        self.assertEqual(self.reactor.getDelayedCalls(), [])


class FramingTests(ClientTestCase):
    def test_ping_through_protocol_peer(self):
        completer = self.serve(lambda request: rc_frame(0))
        d = self.start(self.client.ping(ALICE))
        completer.succeedOnce().flush()
        self.assertEqual(self.successResultOf(d), 0)
        (request,) = self.requests
        self.assertEqual(request.msg_type, MsgType.REQUEST_PING)
        self.assertEqual(request.version, 0x2600)
        self.assertIsNone(request.body)
        self.assertNoTimersLeft()

    def test_jobs_request_as_slurmrestd_sends_it(self):
        body = {"record_count": 0, "last_update": 1700000000, "last_backfill": 0,
                "records": []}
        completer = self.serve(lambda request: reply_frame(MsgType.RESPONSE_JOB_INFO, body))
        d = self.start(self.client.jobs(ALICE))
        completer.succeedOnce().flush()
        self.assertEqual(self.successResultOf(d), body)
        (request,) = self.requests
        self.assertEqual(request.msg_type, MsgType.REQUEST_JOB_INFO)
        self.assertEqual(request.body["show_flags"], 0x13)
        self.assertEqual(request.body["last_update"], 0)
        self.assertEqual(JOB_SHOW_FLAGS, 0x13)

    def test_one_write_and_no_delay(self):
        d = self.start(self.client.licenses(ALICE))
        self.assertEqual(self.pending(), [("10.0.0.1", 6817)])
        protocol, transport = self.accept()
        self.assertEqual(transport.writes, 1)
        self.assertTrue(transport.no_delay)
        self.assertEqual(transport.value(), PROTOCOL_22_05.encode(
            MsgType.REQUEST_LICENSE_INFO, {"last_update": 0, "show_flags": 0}, ALICE))
        request = self.request(transport)
        self.assertEqual(request.msg_type, MsgType.REQUEST_LICENSE_INFO)
        self.finish(protocol, reply_frame(MsgType.RESPONSE_LICENSE_INFO, LICENSES))
        self.assertEqual(self.successResultOf(d), LICENSES)
        self.assertTrue(transport.disconnecting)
        self.assertNoTimersLeft()

    def test_reply_in_one_byte_chunks(self):
        d = self.start(self.client.licenses(ALICE))
        protocol, transport = self.accept()
        frame = reply_frame(MsgType.RESPONSE_LICENSE_INFO, LICENSES)
        for i in range(len(frame) - 1):
            protocol.dataReceived(frame[i:i + 1])
            self.assertNoResult(d)
        protocol.dataReceived(frame[-1:])
        self.assertEqual(self.successResultOf(d), LICENSES)
        self.assertNoTimersLeft()

    def test_garbage_reply(self):
        d = self.start(self.client.licenses(ALICE))
        protocol, transport = self.accept()
        garbage = b"\x13\x37" * 20
        self.finish(protocol, len(garbage).to_bytes(4, "big") + garbage)
        self.failureResultOf(d, ProtocolError)
        self.assertNoTimersLeft()

    def test_reply_of_the_wrong_type(self):
        d = self.start(self.client.jobs(ALICE))
        protocol, _ = self.accept()
        self.finish(protocol, reply_frame(MsgType.RESPONSE_LICENSE_INFO, LICENSES))
        failure = self.failureResultOf(d, ProtocolError)
        self.assertIn("RESPONSE_JOB_INFO", str(failure.value))

    def test_truncated_reply_then_close(self):
        d = self.start(self.client.licenses(ALICE))
        protocol, _ = self.accept()
        frame = reply_frame(MsgType.RESPONSE_LICENSE_INFO, LICENSES)
        self.finish(protocol, frame[:len(frame) // 2])
        error = self.failureResultOf(d, CommunicationError).value
        self.assertEqual(error.errno, 1802)
        self.assertFalse(error.timeout)
        self.assertIn(f"{len(frame) // 2} of {len(frame)}", str(error))
        self.assertNoTimersLeft()

    def test_closed_without_reply(self):
        d = self.start(self.client.ping(ALICE, 0))
        protocol, _ = self.accept()
        protocol.connectionLost(Failure(ConnectionDone()))
        error = self.failureResultOf(d, CommunicationError).value
        self.assertEqual(error.errno, 1802)
        self.assertIn("credential rejected?", str(error))
        self.assertNotIn(ALICE.token, str(error))
        self.assertEqual(error.address, "10.0.0.1:6817")

    def test_oversized_length_prefix(self):
        d = self.start(self.client.licenses(ALICE))
        protocol, transport = self.accept()
        protocol.dataReceived(b"\x40\x00\x00\x01")  # 1 GiB + 1
        error = self.failureResultOf(d, ProtocolError).value
        self.assertEqual(error.errno, 1008)
        self.assertTrue(transport.disconnected)  # aborted, nothing more is buffered
        protocol.dataReceived(b"x" * 1000)
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertNoTimersLeft()

    def test_absurdly_short_length_prefix(self):
        d = self.start(self.client.licenses(ALICE))
        protocol, _ = self.accept()
        protocol.dataReceived(b"\x00\x00\x00\x03abc")
        self.assertEqual(self.failureResultOf(d, ProtocolError).value.errno, 1008)

    def test_configured_reply_size_limit(self):
        client = SlurmctldClient(self.config, self.reactor, max_reply_size=100)
        d = self.start(client.licenses(ALICE))
        protocol, _ = self.accept()
        protocol.dataReceived((101).to_bytes(4, "big"))
        self.failureResultOf(d, ProtocolError)


class TimeoutTests(ClientTestCase):
    conf = "SlurmctldHost=only(10.0.0.1)\nMessageTimeout=5\n"

    def test_read_timeout(self):
        d = self.start(self.client.licenses(ALICE))
        protocol, transport = self.accept()
        self.reactor.advance(4.9)
        self.assertNoResult(d)
        self.reactor.advance(0.2)
        error = self.failureResultOf(d, CommunicationError).value
        self.assertEqual(error.errno, 1802)
        self.assertTrue(error.timeout)
        self.assertTrue(transport.disconnected)
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertNoTimersLeft()

    def test_partial_reply_still_times_out(self):
        d = self.start(self.client.licenses(ALICE))
        protocol, _ = self.accept()
        protocol.dataReceived(reply_frame(MsgType.RESPONSE_LICENSE_INFO, LICENSES)[:10])
        self.reactor.advance(5)
        self.assertTrue(self.failureResultOf(d, CommunicationError).value.timeout)

    def test_connect_timeout(self):
        d = self.start(self.client.ping(ALICE))
        self.reactor.advance(5)
        error = self.failureResultOf(d, CommunicationError).value
        self.assertEqual(error.errno, 1800)
        self.assertTrue(error.timeout)
        self.assertTrue(self.reactor.connectors[0].stoppedConnecting)
        self.assertNoTimersLeft()

    def test_explicit_timeouts(self):
        client = SlurmctldClient(self.config, self.reactor, connect_timeout=1, read_timeout=2)
        d = self.start(client.ping(ALICE))
        self.reactor.advance(1)
        self.assertTrue(self.failureResultOf(d, CommunicationError).value.timeout)

    def test_connection_refused(self):
        d = self.start(self.client.ping(ALICE))
        self.refuse()
        error = self.failureResultOf(d, CommunicationError).value
        self.assertEqual(error.errno, 1800)
        self.assertFalse(error.timeout)
        self.assertIn("refused", str(error))
        self.assertNoTimersLeft()


class FailoverTests(ClientTestCase):
    def test_refused_primary_fails_over(self):
        d = self.start(self.client.licenses(ALICE))
        self.refuse()
        self.assertEqual(self.pending()[-1], ("10.0.0.2", 6817))
        protocol, _ = self.accept()
        self.finish(protocol, reply_frame(MsgType.RESPONSE_LICENSE_INFO, LICENSES))
        self.assertEqual(self.successResultOf(d), LICENSES)

    def test_connect_timeout_fails_over(self):
        d = self.start(self.client.licenses(ALICE))
        self.reactor.advance(5)
        self.assertEqual(self.pending()[-1], ("10.0.0.2", 6817))
        protocol, _ = self.accept()
        self.finish(protocol, reply_frame(MsgType.RESPONSE_LICENSE_INFO, LICENSES))
        self.assertEqual(self.successResultOf(d), LICENSES)

    def test_standby_primary_sends_to_backup(self):
        for standby in (2027, 2131):
            d = self.start(self.client.licenses(ALICE))
            protocol, _ = self.accept()
            self.finish(protocol, rc_frame(standby))
            self.assertEqual(self.pending()[-1], ("10.0.0.2", 6817))
            protocol, _ = self.accept()
            self.finish(protocol, reply_frame(MsgType.RESPONSE_LICENSE_INFO, LICENSES))
            self.assertEqual(self.successResultOf(d), LICENSES)

    def test_all_refuse(self):
        d = self.start(self.client.licenses(ALICE))
        self.refuse()
        self.refuse()
        self.assertEqual(self.failureResultOf(d, CommunicationError).value.address,
                         "10.0.0.2:6817")

    def test_all_in_standby(self):
        d = self.start(self.client.licenses(ALICE))
        self.finish(self.accept()[0], rc_frame(2027))
        self.finish(self.accept()[0], rc_frame(2027))
        self.assertEqual(self.failureResultOf(d, SlurmError).value.errno, 2027)

    def test_receive_error_does_not_fail_over(self):
        """A controller that took the request and died may have acted on it: no retry."""
        d = self.start(self.client.kill_job(ALICE, "42"))
        protocol, _ = self.accept()
        protocol.connectionLost(Failure(ConnectionDone()))
        self.failureResultOf(d, CommunicationError)
        self.assertEqual(len(self.reactor.tcpClients), 1)

    def test_ping_by_index_goes_to_that_controller_only(self):
        d = self.start(self.client.ping(ALICE, 1))
        self.assertEqual(self.pending(), [("10.0.0.2", 6817)])
        self.refuse()
        self.assertEqual(self.failureResultOf(d, CommunicationError).value.errno, 1800)
        self.assertEqual(len(self.reactor.tcpClients), 1)


class AddressTests(ClientTestCase):
    conf = "SlurmctldHost=ctl\nSlurmctldPort=6900\n"

    def test_ipv6_literal(self):
        config = SlurmConfig.from_text("SlurmctldHost=ctl(fd00::1)\n")
        client = SlurmctldClient(config, self.reactor)
        d = self.start(client.ping(ALICE))
        self.assertEqual(self.pending(), [("fd00::1", 6817)])
        protocol, _ = self.accept()
        self.finish(protocol, rc_frame(0))
        self.assertEqual(self.successResultOf(d), 0)

    def test_hostname_resolved_once_each_address_tried(self):
        resolver = FixedResolver(["::1", "127.0.0.1"])
        client = SlurmctldClient(self.config, self.reactor, resolver=resolver)
        d = self.start(client.ping(ALICE))
        self.assertEqual(self.pending(), [("::1", 6900)])
        self.refuse()
        self.assertEqual(self.pending()[-1], ("127.0.0.1", 6900))
        self.finish(self.accept()[0], rc_frame(0))
        self.assertEqual(self.successResultOf(d), 0)
        d = self.start(client.ping(ALICE))
        self.finish(self.accept()[0], rc_frame(0))
        self.successResultOf(d)
        self.assertEqual(resolver.lookups, ["ctl"])

    def test_unresolvable(self):
        client = SlurmctldClient(self.config, self.reactor, resolver=FixedResolver([]))
        error = self.failureResultOf(self.start(client.ping(ALICE)), CommunicationError).value
        self.assertEqual(error.errno, 1800)
        self.assertIn("resolve", str(error))


class CancellationTests(ClientTestCase):
    def test_cancel_while_waiting_for_reply_aborts(self):
        d = self.start(self.client.licenses(ALICE))
        protocol, transport = self.accept()
        d.cancel()
        self.failureResultOf(d, defer.CancelledError)
        self.assertTrue(transport.disconnected)
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertNoTimersLeft()

    def test_cancel_while_connecting(self):
        d = self.start(self.client.licenses(ALICE))
        d.cancel()
        self.failureResultOf(d, defer.CancelledError)
        self.assertTrue(self.reactor.connectors[0].stoppedConnecting)
        self.assertEqual(len(self.reactor.tcpClients), 1)  # no failover on cancellation
        self.assertNoTimersLeft()

    def test_cancel_write(self):
        d = self.start(self.client.kill_job(ALICE, "7"))
        _, transport = self.accept()
        d.cancel()
        self.failureResultOf(d, defer.CancelledError)
        self.assertTrue(transport.disconnected)


class CoalescingTests(ClientTestCase):
    JOBS = {"record_count": 0, "last_update": 1700000000, "last_backfill": 0, "records": []}

    def test_identical_reads_share_one_rpc(self):
        ds = [self.start(self.client.jobs(ALICE)) for _ in range(5)]
        self.assertEqual(len(self.reactor.tcpClients), 1)
        self.finish(self.accept()[0], reply_frame(MsgType.RESPONSE_JOB_INFO, self.JOBS))
        for d in ds:
            self.assertEqual(self.successResultOf(d), self.JOBS)
        self.assertEqual(self.client.counters["shared"], 4)
        # Not a cache: once answered, the next call asks again.
        self.start(self.client.jobs(ALICE))
        self.assertEqual(len(self.reactor.tcpClients), 2)

    def test_shared_failure_reaches_everyone(self):
        ds = [self.start(self.client.jobs(ALICE)) for _ in range(3)]
        self.finish(self.accept()[0], rc_frame(1900))
        for d in ds:
            self.failureResultOf(d, NoChange)

    def test_different_credentials_or_bodies_do_not_share(self):
        self.start(self.client.jobs(ALICE))
        self.start(self.client.jobs(BOB))
        self.start(self.client.jobs(ALICE, update_time=5))
        self.start(self.client.jobs(Credential(ALICE.token, None)))
        self.assertEqual(len(self.reactor.tcpClients), 4)

    def test_writes_are_never_shared(self):
        self.start(self.client.kill_job(ALICE, "42"))
        self.start(self.client.kill_job(ALICE, "42"))
        self.start(self.client.stats(ALICE, reset=True))
        self.start(self.client.stats(ALICE, reset=True))
        self.assertEqual(len(self.reactor.tcpClients), 4)

    def test_stats_get_is_shared(self):
        self.start(self.client.stats(ALICE))
        self.start(self.client.stats(ALICE))
        self.assertEqual(len(self.reactor.tcpClients), 1)

    def test_one_caller_leaving_does_not_cancel_the_others(self):
        first = self.start(self.client.jobs(ALICE))
        second = self.start(self.client.jobs(ALICE))
        protocol, transport = self.accept()
        first.cancel()
        self.failureResultOf(first, defer.CancelledError)
        self.assertFalse(transport.disconnected)
        self.finish(protocol, reply_frame(MsgType.RESPONSE_JOB_INFO, self.JOBS))
        self.assertEqual(self.successResultOf(second), self.JOBS)

    def test_last_caller_leaving_aborts(self):
        ds = [self.start(self.client.jobs(ALICE)) for _ in range(2)]
        protocol, transport = self.accept()
        for d in ds:
            d.cancel()
            self.failureResultOf(d, defer.CancelledError)
        self.assertTrue(transport.disconnected)
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(len(self.client._in_flight), 0)
        self.assertNoTimersLeft()

    def test_frame_encoded_once(self):
        for _ in range(3):
            d = self.start(self.client.jobs(ALICE))
            self.finish(self.accept()[0], reply_frame(MsgType.RESPONSE_JOB_INFO, self.JOBS))
            self.successResultOf(d)
        self.assertEqual(self.client.counters["frame_cache_hits"], 2)


class ReplyCodeTests(ClientTestCase):
    def answer(self, coroutine, frame):
        d = self.start(coroutine)
        self.finish(self.accept()[0], frame)
        return d

    def test_no_change(self):
        d = self.answer(self.client.jobs(ALICE, update_time=1700000000), rc_frame(1900))
        self.assertEqual(self.failureResultOf(d, NoChange).value.errno, 1900)

    def test_error_code(self):
        d = self.answer(self.client.job(ALICE, 99), rc_frame(2017))
        error = self.failureResultOf(d, SlurmError).value
        self.assertEqual(error.errno, 2017)
        self.assertEqual(error.name, "ESLURM_INVALID_JOB_ID")

    def test_rc_msg_carries_the_text(self):
        d = self.answer(self.client.submit_batch(ALICE, {"script": "#!/bin/sh\n"}),
                        rc_frame(2050, "job violates policy"))
        error = self.failureResultOf(d, SlurmError).value
        self.assertEqual((error.errno, error.message), (2050, "job violates policy"))

    def test_slurm_error_minus_one(self):
        d = self.answer(self.client.kill_job(ALICE, "1"), rc_frame(-1))
        self.assertEqual(self.failureResultOf(d, SlurmError).value.errno, -1)

    def test_rc_zero_for_a_write(self):
        d = self.answer(self.client.kill_job(ALICE, "42", signal=15), rc_frame(0))
        self.assertEqual(self.successResultOf(d), {"return_code": 0})

    def test_kill_job_body(self):
        self.start(self.client.kill_job(ALICE, "42", signal=15))
        request = self.request(self.accept()[1])
        self.assertEqual(request.body["sjob_id"], "42")
        self.assertEqual(request.body["signal"], 15)
        self.assertEqual(request.body["flags"], primitives.KILL_FULL_JOB)
        self.assertEqual(request.body["step_id"]["job_id"], primitives.NO_VAL)

    def test_update_job_array_errors(self):
        body = {"job_array_count": 1,
                "entries": [{"error_code": 2017, "job_array_id": "12_3"}]}
        d = self.answer(self.client.update_job(ALICE, {"job_id_str": "12_3"}),
                        reply_frame(MsgType.RESPONSE_JOB_ARRAY_ERRORS, body))
        message = self.successResultOf(d)
        self.assertEqual(message.msg_type, MsgType.RESPONSE_JOB_ARRAY_ERRORS)
        self.assertEqual(message.body, body)

    def test_bound_client(self):
        bound = self.client.bind(BOB)
        self.assertNotIn(BOB.token, repr(bound))
        d = self.start(bound.licenses())
        protocol, transport = self.accept()
        request_frame = transport.value()
        self.assertIn(BOB.token.encode(), request_frame)
        self.assertIn(b"bob\x00", request_frame)
        self.finish(protocol, reply_frame(MsgType.RESPONSE_LICENSE_INFO, LICENSES))
        self.assertEqual(self.successResultOf(d), LICENSES)


class LearningTests(ClientTestCase):
    """Told no version, the client speaks the oldest it knows and takes the controller's
    from a refusal in a newer header (what 24.11 answers a 22.05 request)."""

    NEWER = 0x2A00

    def refusal(self):
        # 24.11's answer to a 22.05 frame: its own header, no credential, an error RC.
        return bytes.fromhex("00000014" "2a00" "0040" "1f41" "00000004" "0000" "0000"
                             "0000" "000003ef")

    def test_a_refusal_in_a_newer_header_switches_and_resends(self):
        self.assertTrue(self.client.learning)
        d = self.start(self.client.stats(ALICE, True))
        protocol, transport = self.accept()
        self.assertEqual(transport.value()[4:6], b"\x26\x00")  # 22.05 first
        self.finish(protocol, self.refusal())
        self.assertEqual(self.client.version, self.NEWER)
        protocol, transport = self.accept()
        self.assertEqual(transport.value()[4:6], b"\x2a\x00")  # the same request again
        newer = protocol_for(self.NEWER)
        self.finish(protocol, newer.encode(MsgType.RESPONSE_SLURM_RC, {"return_code": 0},
                                           None))
        # 24.11 answers a reset with an RC, which its table of the RPC allows
        self.assertEqual(self.successResultOf(d), {"return_code": 0})
        self.assertEqual(len(self.reactor.tcpClients), 2)

    def test_an_error_in_our_own_header_is_an_error(self):
        d = self.start(self.client.job(ALICE, 99))
        self.finish(self.accept()[0], rc_frame(2017))
        self.failureResultOf(d, SlurmError)
        self.assertEqual(self.client.version, 0x2600)

    def test_a_client_told_its_version_does_not_learn(self):
        client = SlurmctldClient(self.config, self.reactor, version=0x2600)
        d = self.start(client.ping(ALICE))
        self.finish(self.accept()[0], self.refusal())
        self.assertEqual(self.failureResultOf(d, SlurmError).value.errno, 1007)
        self.assertEqual(client.version, 0x2600)

    def test_a_release_without_tables_is_a_protocol_error(self):
        d = self.start(self.client.ping(ALICE))
        frame = bytearray(self.refusal())
        frame[4:6] = b"\x2b\x00"  # a release we have no tables for
        self.finish(self.accept()[0], bytes(frame))
        self.assertIn("0x2b00", str(self.failureResultOf(d, ProtocolError).value))


class ArbitraryInputTests(ClientTestCase):
    """Whatever arrives, in whatever pieces: a result or a SlurmError, never a hang."""

    from hypothesis import given, settings, strategies as st

    @settings(max_examples=200, deadline=None)
    @given(cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=30))
    def test_any_split_of_a_reply(self, cuts):
        self.setUp()
        frame = reply_frame(MsgType.RESPONSE_LICENSE_INFO, LICENSES)
        points = sorted({c % (len(frame) + 1) for c in cuts} | {0, len(frame)})
        d = self.start(self.client.licenses(ALICE))
        protocol, _ = self.accept()
        for start, end in zip(points, points[1:]):
            protocol.dataReceived(frame[start:end])
        self.assertEqual(self.successResultOf(d), LICENSES)
        self.assertNoTimersLeft()

    @settings(max_examples=300, deadline=None)
    @given(data=st.binary(max_size=200), close=st.booleans())
    def test_any_bytes_end_in_a_slurm_error_or_a_result(self, data, close):
        self.setUp()
        d = self.start(self.client.jobs(ALICE))
        protocol, _ = self.accept()
        protocol.dataReceived(data)
        if close:
            protocol.connectionLost(Failure(ConnectionDone()))
        else:
            self.reactor.advance(5)
        result = []
        d.addBoth(result.append)
        self.assertEqual(len(result), 1)
        if isinstance(result[0], Failure):
            self.assertIsInstance(result[0].value, SlurmError)
        self.assertNoTimersLeft()

    @settings(max_examples=200, deadline=None)
    @given(body=st.binary(max_size=120))
    def test_well_framed_garbage(self, body):
        """A correct length prefix and 22.05 header around arbitrary body bytes."""
        self.setUp()
        d = self.start(self.client.licenses(ALICE))
        protocol, _ = self.accept()
        header = (0x2600).to_bytes(2, "big") + b"\x00\x00" + \
            int(MsgType.RESPONSE_LICENSE_INFO).to_bytes(2, "big") + \
            len(body).to_bytes(4, "big") + b"\x00" * 6 + (102).to_bytes(4, "big") + b"\x00" * 8
        payload = header + body
        self.finish(protocol, len(payload).to_bytes(4, "big") + payload)
        result = []
        d.addBoth(result.append)
        if isinstance(result[0], Failure):
            self.assertIsInstance(result[0].value, ProtocolError)


class LoopbackTests(unittest.TestCase):
    """Real sockets on the loopback interface, with the protocol peer as the server: the
    address families and name resolution as the real reactor runs them."""

    def listen(self, interface):
        from twisted.internet import reactor
        self.requests = []
        factory = Factory.forProtocol(lambda: SlurmctldPeer(lambda r: rc_frame(0), self.requests))
        try:
            port = reactor.listenTCP(0, factory, interface=interface)
        except Exception as e:  # no IPv6 on this machine
            raise unittest.SkipTest(f"cannot listen on {interface}: {e}")
        self.addCleanup(port.stopListening)
        return port.getHost().port

    def client_for(self, host_spec, port):
        from twisted.internet import reactor
        config = SlurmConfig.from_text(f"SlurmctldHost={host_spec}\nSlurmctldPort={port}\n"
                                       "MessageTimeout=5\n")
        return SlurmctldClient(config, reactor)

    async def ping(self, host_spec, port):
        return await self.client_for(host_spec, port).ping(ALICE)

    def test_ipv4(self):
        port = self.listen("127.0.0.1")
        d = defer.ensureDeferred(self.ping("ctl(127.0.0.1)", port))
        return d.addCallback(self.assertEqual, 0)

    def test_ipv6(self):
        port = self.listen("::1")
        d = defer.ensureDeferred(self.ping("ctl(::1)", port))
        return d.addCallback(self.assertEqual, 0)

    def test_hostname_with_several_addresses(self):
        """``localhost`` may resolve to ::1 first; only 127.0.0.1 listens: the client falls
        through to it."""
        port = self.listen("127.0.0.1")
        d = defer.ensureDeferred(self.ping("localhost", port))
        return d.addCallback(self.assertEqual, 0)

    def test_an_rpc_logs_nothing(self):
        """One connection per RPC, and not one log line each ("Starting factory ...")."""
        from twisted.logger import globalLogPublisher
        port = self.listen("127.0.0.1")
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        client = self.client_for("ctl(127.0.0.1)", port)

        async def three():
            for _ in range(3):
                self.assertEqual(await client.ping(ALICE), 0)
        d = defer.ensureDeferred(three())

        def check(_):
            self.assertEqual(len(self.requests), 3)
            self.assertEqual(client.counters["connections"], 3)
            self.assertEqual([e for e in events if "factory" in str(e.get("log_format", ""))],
                             [])
        return d.addCallback(check)

    # Replies in pieces, bad replies, refusals, timeouts and cancellation on real sockets:
    # the exchange contract (test_wire_exchange), run against both implementations.
