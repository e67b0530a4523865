"""Versions as data: ``tables.VERSIONS`` is the one place Slurm releases are known, each entry
speaks (a ping frame and its header round-trip), each version's named-RPC table is
consistent with its body tables, and a derived version is all it takes for a client to speak
another release."""

import inspect
import pathlib
import re

from twisted.internet import defer
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.trial import unittest

import slurmrest
from slurmrest.wire import client as client_module, tables
from slurmrest.wire.client import NAMED_RPCS, READ_TYPES, SlurmctldClient
from slurmrest.wire.conf import SlurmConfig
from slurmrest.wire.credentials import Credential
from slurmrest.wire.errors import ProtocolError
from slurmrest.wire.methods import methods_of
from slurmrest.wire.msgtypes import MsgType as M
from slurmrest.wire.protocol import Message, Protocol, decode, protocol_for
from slurmrest.wire.tables import v22_05 as T
from slurmrest.wire.versions import REQUIRED, Arg

ALICE = Credential("header.payload.signature", "alice")
PACKAGE = pathlib.Path(slurmrest.__file__).parent

# A value for every required parameter of a named RPC, to build its request body.
SAMPLE_ARGUMENTS = {"job_id": 42, "uid": 2001, "desc": {"job_id": 42}, "descs": [{}, {}],
                    "job_id_str": "42_1", "name": "n1", "msg": {"node_names": "n1"},
                    "names": "n1"}


def _args(template):
    """The ``Arg``s in a body template (nested dicts included)."""
    if isinstance(template, Arg):
        yield template
    elif isinstance(template, dict):
        for value in template.values():
            yield from _args(value)


class Recorder:
    """Stands in for a client's ``call``: records the request, answers with ``reply``."""

    def __init__(self, reply):
        self.reply = reply
        self.calls = []

    async def call(self, msg_type, body, credential, **options):
        self.calls.append((msg_type, body, options))
        return self.reply


class VersionListTests(unittest.TestCase):

    def test_releases_in_order(self):
        protocols = [v.protocol for v in tables.VERSIONS]
        self.assertEqual(protocols, sorted(set(protocols)))
        self.assertEqual(len({v.name for v in tables.VERSIONS}), len(tables.VERSIONS))
        self.assertIs(tables.NEWEST, tables.VERSIONS[-1])
        self.assertNotIn(tables.NEWEST.protocol, tables.OLDER_HEADERS)

    def test_every_entry_round_trips_a_ping_and_its_header(self):
        for version in tables.VERSIONS:
            proto = protocol_for(version)
            self.assertIs(protocol_for(version.protocol), proto)
            frame = proto.encode(M.REQUEST_PING, None, ALICE, flags=3)
            fixed, _ = version.header.unpack(frame[4:])
            self.assertEqual((fixed["version"], fixed["flags"], fixed["msg_type"],
                              fixed["body_length"]), (version.protocol, 3, M.REQUEST_PING, 0))
            # Any codec reads any known version's frames, by the version in the header.
            for reader in (proto, protocol_for(tables.NEWEST)):
                self.assertEqual(reader.decode(frame[4:]),
                                 Message(version.protocol, 3, M.REQUEST_PING, None))
            reply = proto.encode(M.RESPONSE_SLURM_RC, {"return_code": 0}, None)
            self.assertEqual(decode(reply[4:]).body, {"return_code": 0})

    def test_older_releases_are_named_not_spoken(self):
        for protocol, header in tables.OLDER_HEADERS.items():
            self.assertIn("msg_index", header.field_names)
            self.assertRaises(ProtocolError, protocol_for, protocol)
        self.assertEqual(tables.OLDEST_PROTOCOL, min(tables.OLDER_HEADERS))

    def test_no_release_named_outside_the_tables(self):
        """Only ``wire/tables/`` picks releases (``primitives`` defines their numbers)."""
        release = re.compile(r"SLURM_\d\d_\d\d_PROTOCOL_VERSION|tables\.(dbd_)?v\d\d_\d\d|"
                             r"tables import (dbd_)?v\d\d_\d\d|PROTOCOL_\d\d_\d\d")
        found = []
        for path in sorted(PACKAGE.rglob("*.py")):
            relative = path.relative_to(PACKAGE).as_posix()
            if relative.startswith("wire/tables/") or relative == "wire/primitives.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if release.search(line):
                    found.append(f"{relative}:{number}: {line.strip()}")
        self.assertEqual(found, [])


class NamedRpcTableTests(unittest.TestCase):

    def test_same_methods_in_every_version(self):
        """The operations room calls these: every version offers the same signatures."""
        newest = methods_of(tables.NEWEST)
        self.assertEqual(NAMED_RPCS, tuple(newest))
        for version in tables.VERSIONS:
            methods = methods_of(version)
            self.assertEqual(set(methods), set(NAMED_RPCS), version)
            for name, function in methods.items():
                self.assertEqual(
                    [p.name for p in inspect.signature(function).parameters.values()],
                    [p.name for p in inspect.signature(newest[name]).parameters.values()])

    def test_the_methods_kept_their_signatures(self):
        signature = {name: str(inspect.signature(getattr(SlurmctldClient, name)))
                     for name in NAMED_RPCS}
        self.assertEqual(signature["jobs"], "(client, credential, update_time=0, show_flags=19)")
        self.assertEqual(signature["job_steps"],
                         "(client, credential, job_id=4294967294, step_id=4294967294, "
                         "update_time=0, show_flags=17)")
        self.assertEqual(signature["kill_job"],
                         "(client, credential, job_id_str, signal=9, flags=8)")
        self.assertEqual(signature["auth_token"], "(client, credential, user=None, lifespan=0)")
        self.assertEqual(signature["ping"], "(client, credential, index=0)")
        self.assertEqual(len(NAMED_RPCS), 21)

    def test_tables_agree_with_bodies(self):
        """Request and reply types have tables; every Arg is a parameter and every parameter
        is used; the body each method builds packs with its request's table."""
        for version in tables.VERSIONS:
            proto = protocol_for(version)
            for rpc in version.rpcs.values():
                self.assertIn(rpc.request, version.bodies, rpc.name)
                for reply in rpc.replies:
                    self.assertIn(reply, version.bodies, rpc.name)
                params = [name for name, _ in rpc.params]
                used = [a.name for a in _args(rpc.body)]
                for extra in (rpc.shareable, rpc.controller):
                    used += [a.name for a in _args(extra)]
                self.assertLessEqual(set(used), set(params), rpc.name)
                self.assertEqual(set(params), set(used), rpc.name)
                self.assertIn(rpc.result, ("body", "message", "return_code"))

                recorder = Recorder(Message(version.protocol, 0, rpc.replies[0],
                                            {"return_code": 0}))
                required = [SAMPLE_ARGUMENTS[name] for name, default in rpc.params
                            if default is REQUIRED]
                d = defer.ensureDeferred(methods_of(version)[rpc.name](recorder, ALICE,
                                                                       *required))
                self.successResultOf(d)
                ((msg_type, body, _),) = recorder.calls
                self.assertEqual(msg_type, rpc.request)
                proto.encode(msg_type, body, ALICE)  # no ValueError: every key is a field

    def test_request_bodies_as_before(self):
        """What the hand-written methods sent, byte for byte the same bodies."""
        cases = [
            ("ping", (), M.REQUEST_PING, {}, {"shareable": True, "controller": 0}),
            ("build_info", (5,), M.REQUEST_BUILD_INFO, {"last_update": 5}, {}),
            ("stats", (), M.REQUEST_STATS_INFO, {"command_id": 1}, {"shareable": True}),
            ("stats", (True,), M.REQUEST_STATS_INFO, {"command_id": 0},
             {"shareable": False}),
            ("licenses", (), M.REQUEST_LICENSE_INFO, {"last_update": 0, "show_flags": 0}, {}),
            ("jobs", (7,), M.REQUEST_JOB_INFO,
             {"last_update": 7, "show_flags": 0x13, "job_ids": None}, {"shareable": True}),
            ("job", ("12",), M.REQUEST_JOB_INFO_SINGLE, {"job_id": 12, "show_flags": 0x13},
             {}),
            ("job_user", ("2001",), M.REQUEST_JOB_USER_INFO,
             {"user_id": 2001, "show_flags": 0x13}, {}),
            ("job_steps", (12,), M.REQUEST_JOB_STEP_INFO,
             {"last_update": 0, "step_id": {"job_id": 12, "step_id": 0xfffffffe,
                                            "step_het_comp": 0xfffffffe},
              "show_flags": 0x11}, {}),
            ("submit_het", (iter([{"a": 1}]),), M.REQUEST_SUBMIT_BATCH_HET_JOB,
             {"job_descs": [{"a": 1}]}, {"shareable": False}),
            ("kill_job", (42,), M.REQUEST_KILL_JOB,
             {"step_id": {"job_id": 0xfffffffe, "step_id": 0xfffffffe,
                          "step_het_comp": 0xfffffffe},
              "sjob_id": "42", "sibling": None, "signal": 9, "flags": 8},
             {"shareable": False}),
            ("nodes", (), M.REQUEST_NODE_INFO, {"last_update": 0, "show_flags": 3}, {}),
            ("node", ("n1",), M.REQUEST_NODE_INFO_SINGLE,
             {"node_name": "n1", "show_flags": 3}, {}),
            ("delete_node", ("n1",), M.REQUEST_DELETE_NODE, {"node_names": "n1"}, {}),
            ("partitions", (), M.REQUEST_PARTITION_INFO,
             {"last_update": 0, "show_flags": 0x11}, {}),
            ("reservations", (), M.REQUEST_RESERVATION_INFO, {"last_update": 0}, {}),
            ("fed_info", (), M.REQUEST_FED_INFO, {}, {}),
            ("auth_token", (), M.REQUEST_AUTH_TOKEN, {"lifespan": 0, "username": None},
             {"shareable": False}),
        ]
        for name, args, msg_type, body, options in cases:
            rpc = tables.NEWEST.rpcs[name]
            recorder = Recorder(Message(0x2600, 0, rpc.replies[0], {"return_code": 0}))
            self.successResultOf(defer.ensureDeferred(
                getattr(SlurmctldClient, name)(recorder, ALICE, *args)))
            ((sent_type, sent_body, sent_options),) = recorder.calls
            self.assertEqual((sent_type, sent_body), (msg_type, body), name)
            for key, value in options.items():
                self.assertEqual(sent_options[key], value, name)

    def test_desc_bodies_are_passed_as_given(self):
        desc = {"job_id": 1}
        for name in ("submit_batch", "update_job", "update_node"):
            rpc = tables.NEWEST.rpcs[name]
            recorder = Recorder(Message(0x2600, 0, rpc.replies[0], {}))
            self.successResultOf(defer.ensureDeferred(
                getattr(SlurmctldClient, name)(recorder, ALICE, desc)))
            self.assertIs(recorder.calls[0][1], desc)

    def test_wrong_reply_type(self):
        recorder = Recorder(Message(0x2600, 0, M.RESPONSE_LICENSE_INFO, {}))
        failure = self.failureResultOf(defer.ensureDeferred(
            SlurmctldClient.jobs(recorder, ALICE)), ProtocolError)
        self.assertIn("expected RESPONSE_JOB_INFO, slurmctld sent RESPONSE_LICENSE_INFO",
                      str(failure.value))

    def test_python_argument_rules(self):
        recorder = Recorder(Message(0x2600, 0, M.RESPONSE_JOB_INFO, {}))
        self.assertRaises(TypeError, SlurmctldClient.job, recorder, ALICE)
        self.assertRaises(TypeError, SlurmctldClient.jobs, recorder, ALICE, colour=1)
        self.successResultOf(defer.ensureDeferred(
            SlurmctldClient.jobs(recorder, ALICE, show_flags=1, update_time=2)))
        self.assertEqual(recorder.calls[0][1]["show_flags"], 1)

    def test_read_types_follow_from_the_table(self):
        self.assertEqual(READ_TYPES, frozenset({
            M.REQUEST_PING, M.REQUEST_BUILD_INFO, M.REQUEST_CONTROL_STATUS,
            M.REQUEST_LICENSE_INFO, M.REQUEST_JOB_INFO, M.REQUEST_JOB_INFO_SINGLE,
            M.REQUEST_JOB_USER_INFO, M.REQUEST_JOB_STEP_INFO, M.REQUEST_NODE_INFO,
            M.REQUEST_NODE_INFO_SINGLE, M.REQUEST_PARTITION_INFO,
            M.REQUEST_RESERVATION_INFO, M.REQUEST_FED_INFO}))
        self.assertIs(client_module.READ_TYPES, tables.NEWEST.read_types)


class DerivedVersionTests(unittest.TestCase):
    """What adding a release takes: a derived SlurmVersion (here a made-up one)."""

    def derived(self):
        licenses = T.LICENSE_INFO.replace(insert=[("last_update", ("flavour", T.STR))])
        jobs = tables.NEWEST.rpcs["jobs"]._replace(
            params=(("update_time", 0), ("show_flags", 0x1)))
        return tables.NEWEST.derive("99.99", 0x7f00, bodies={M.RESPONSE_LICENSE_INFO: licenses},
                                    rpcs={"jobs": jobs})

    def test_derive(self):
        version = self.derived()
        self.assertEqual(version.protocol, 0x7f00)
        self.assertIs(version.header, tables.NEWEST.header)
        self.assertIn("flavour", version.bodies[M.RESPONSE_LICENSE_INFO].output_names())
        self.assertIs(version.bodies[M.RESPONSE_JOB_INFO],
                      tables.NEWEST.bodies[M.RESPONSE_JOB_INFO])
        self.assertEqual(version.read_types, tables.NEWEST.read_types)
        proto = Protocol(version)
        frame = proto.encode(M.RESPONSE_LICENSE_INFO, {"flavour": "mint"}, None)
        self.assertEqual(proto.decode(frame[4:]).body["flavour"], "mint")
        self.assertNotIn(0x7f00, tables.HEADERS)  # made up: not in the list

    def test_a_client_speaks_the_version_it_was_given(self):
        reactor = MemoryReactorClock()
        config = SlurmConfig.from_text("SlurmctldHost=only(10.0.0.1)\nMessageTimeout=5\n")
        version = self.derived()
        client = SlurmctldClient(config, reactor, version=version)
        self.assertIs(client.slurm_version, version)
        self.assertEqual(client.version, 0x7f00)
        d = defer.ensureDeferred(client.bind(ALICE).jobs())
        _, _, factory, _, _ = reactor.tcpClients[0]
        protocol = factory.buildProtocol(None)
        transport = StringTransport()
        protocol.makeConnection(transport)
        request = client.protocol.decode(transport.value()[4:])
        self.assertEqual((request.version, request.body["show_flags"]), (0x7f00, 0x1))
        reply = client.protocol.encode(M.RESPONSE_JOB_INFO, {"records": []}, None)
        protocol.dataReceived(reply)
        self.assertEqual(self.successResultOf(d)["record_count"], 0)

    def test_default_and_explicit_versions(self):
        config = SlurmConfig.from_text("SlurmctldHost=only(10.0.0.1)\n")
        reactor = MemoryReactorClock()
        # Told no version, a client starts with the oldest (which every controller answers)
        # and learns the controller's from its answer.
        learning = SlurmctldClient(config, reactor)
        self.assertIs(learning.slurm_version, tables.VERSIONS[0])
        self.assertTrue(learning.learning)
        self.assertFalse(SlurmctldClient(config, reactor, version=0x2600).learning)
        self.assertIs(SlurmctldClient(config, reactor, version=0x2600).slurm_version,
                      T.VERSION)
        self.assertRaises(ProtocolError, SlurmctldClient, config, reactor, version=0x2500)
