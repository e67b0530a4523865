"""Framing: the §8.1 ping frame byte for byte, header variants (§1.2-1.4), credentials of
replies, body length checks, and fuzzing of ``decode``."""

import struct

from hypothesis import given, settings, strategies as st
from twisted.trial import unittest

from slurmrest.wire import protocol
from slurmrest.wire.credentials import Credential
from slurmrest.wire.errors import ProtocolError
from slurmrest.wire.msgtypes import MsgType as M
from slurmrest.wire.protocol import Message, protocol_for

# These are 22.05's frames (§8 of the 22.05 reference): its codec, not the newest one.
P2205 = protocol_for(0x2600)

PROTOCOL_22_05 = protocol_for(0x2600)

TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjEsInN1biI6ImFsaWNlIn0.c2ln"
CRED = Credential(TOKEN, "alice")

# §8.1: the reply to a ping, all 36 bytes; decode() gets it without the length prefix.
PING_REPLY = bytes.fromhex(
    "00000020" "2600" "0000" "1f41" "00000004" "0000" "0000" "0000"
    "00000066" "00000000" "00000000" "00000000")


def reply(msg_type, body=b"", version=0x2600, flags=0, auth=None, extra_header=b"",
          after_flags=b"", body_length=None):
    """A reply frame (without length prefix) as slurmctld builds it."""
    if auth is None:
        auth = struct.pack(">III", 102, 0, 0)
    head = struct.pack(">HH", version, flags) + after_flags + struct.pack(
        ">HI", msg_type, len(body) if body_length is None else body_length)
    return head + (extra_header or b"\0\0\0\0\0\0") + auth + body


class PingFrameTests(unittest.TestCase):

    def test_request_byte_for_byte(self):
        """§8.1's table, row by row."""
        frame = P2205.encode(M.REQUEST_PING, None, CRED)
        t, u = len(TOKEN), len("alice")
        expected = (
            struct.pack(">I", 30 + t + u)
            + bytes.fromhex("2600" "0000" "03f0" "00000000" "0000" "0000" "0000")
            + bytes.fromhex("00000066")
            + struct.pack(">I", t + 1) + TOKEN.encode() + b"\0"
            + struct.pack(">I", u + 1) + b"alice\0"
        )
        self.assertEqual(frame, expected)
        self.assertEqual(len(frame), 34 + t + u)

    def test_request_without_user_name(self):
        """A NULL user name: the last str is u32 0 and the length is 29 + T (+ 4)."""
        frame = P2205.encode(M.REQUEST_PING, None, Credential(TOKEN))
        self.assertEqual(struct.unpack(">I", frame[:4])[0], 29 + len(TOKEN))
        self.assertTrue(frame.endswith(TOKEN.encode() + b"\0" + b"\0\0\0\0"))

    def test_reply(self):
        self.assertEqual(struct.unpack(">I", PING_REPLY[:4])[0], len(PING_REPLY) - 4)
        message = P2205.decode(PING_REPLY[4:])
        self.assertEqual(message, Message(0x2600, 0, M.RESPONSE_SLURM_RC, {"return_code": 0}))
        self.assertIs(message.msg_type, M.RESPONSE_SLURM_RC)

    def test_request_decodes(self):
        """Our own frames parse back (a request's credential is skipped like a reply's)."""
        frame = P2205.encode(M.REQUEST_JOB_INFO, {"show_flags": 0x13}, CRED)
        message = P2205.decode(frame[4:])
        self.assertEqual(message.msg_type, M.REQUEST_JOB_INFO)
        self.assertEqual(message.body, {"last_update": 0, "show_flags": 0x13, "job_ids": None})

    def test_header_flags_and_body_length(self):
        frame = P2205.encode(M.REQUEST_KILL_JOB, {"sjob_id": "42", "signal": 15,
                                                     "flags": 8}, CRED, flags=0x0001)
        self.assertEqual(frame[4:10], bytes.fromhex("2600" "0001" "13a8"))
        self.assertEqual(struct.unpack(">I", frame[10:14])[0], 27)
        self.assertEqual(len(frame), 4 + 16 + 14 + len(TOKEN) + 5 + 27)


class HeaderVariantTests(unittest.TestCase):

    def test_older_header_has_msg_index(self):
        """0x2500 headers carry an extra u16 after flags; the body then needs 21.08 tables."""
        frame = reply(8001, b"\0\0\0\0", version=0x2500, after_flags=b"\0\7")
        e = self.assertRaises(ProtocolError, protocol.decode, frame)
        self.assertIn("0x2500", e.message)
        # Misreading the slot would have produced a different failure: a wrong msg type.
        self.assertNotIn("message type", e.message)

    def test_unsupported_versions(self):
        e = self.assertRaises(ProtocolError, protocol.decode, reply(8001, b"\0" * 4,
                                                                    version=0x2300))
        self.assertIn("not supported", e.message)
        e = self.assertRaises(ProtocolError, protocol.decode, reply(8001, b"\0" * 4,
                                                                    version=0x2700))
        self.assertIn("0x2700", e.message)

    def test_forward_and_ret_list(self):
        """forward.cnt > 0 brings nodelist/timeout/tree_width; ret entries carry bodies."""
        forward = struct.pack(">H", 2) + b"\0\0\0\7n[1-2]\0" + struct.pack(">IH", 1000, 50)
        ret = (struct.pack(">H", 1) + struct.pack(">IH", 0, 8001) + b"\0\0\0\3n1\0"
               + b"\0\0\0\0")
        frame = reply(8001, b"\0\0\0\x16", extra_header=forward + ret + b"\0\0")
        self.assertEqual(P2205.decode(frame).body, {"return_code": 22})

    def test_orig_addr_forms(self):
        """AF_INET (8 bytes, reversed by the double htonl) and AF_INET6 (24 bytes)."""
        v4 = b"\0\2" + bytes([3, 2, 1, 10]) + b"\xa1\x1a"
        v6 = b"\0\x0a" + b"\0\0\0\x10" + b"\0" * 15 + b"\1" + b"\xa1\x1a"
        for addr in (v4, v6, b"\0\x07"):
            frame = reply(8001, b"\0\0\0\0", extra_header=b"\0\0\0\0" + addr)
            self.assertEqual(P2205.decode(frame).body, {"return_code": 0})
        reader = protocol._Reader(v4)
        self.assertEqual(reader.addr(), ("10.1.2.3", 6817))
        self.assertEqual(protocol._Reader(v6).addr(), ("::1", 6817))
        bad = b"\0\x0a" + b"\0\0\0\x04" + b"\0" * 6
        self.assertRaises(ProtocolError, protocol._Reader(bad).addr)

    def test_credentials(self):
        munge = struct.pack(">I", 101) + b"\0\0\0\6MUNGE\0"
        self.assertEqual(P2205.decode(reply(8001, b"\0" * 4, auth=munge)).body,
                         {"return_code": 0})
        none = struct.pack(">III", 100, 2001, 2001) + b"\0\0\0\2h\0"
        self.assertEqual(P2205.decode(reply(8001, b"\0" * 4, auth=none)).body,
                         {"return_code": 0})
        jwt = struct.pack(">I", 102) + b"\0\0\0\2t\0" + b"\0\0\0\2u\0"
        self.assertEqual(P2205.decode(reply(8001, b"\0" * 4, auth=jwt)).body,
                         {"return_code": 0})
        e = self.assertRaises(ProtocolError, protocol.decode,
                              reply(8001, b"\0" * 4, auth=struct.pack(">I", 7)))
        self.assertIn("auth plugin id 7", e.message)


class BodyLengthTests(unittest.TestCase):

    def test_body_longer_than_frame(self):
        e = self.assertRaises(ProtocolError, protocol.decode,
                              reply(8001, b"\0" * 4, body_length=5))
        self.assertIn("body_length 5", e.message)

    def test_bytes_after_the_body_are_ignored(self):
        """As slurmctld does (§1.5 step 8): body_length bounds the body."""
        frame = reply(8001, b"\0\0\0\7" + b"junk", body_length=4)
        self.assertEqual(P2205.decode(frame).body, {"return_code": 7})

    def test_body_must_fill_body_length(self):
        e = self.assertRaises(ProtocolError, protocol.decode, reply(8001, b"\0" * 6))
        self.assertIn("2 bytes left over", e.message)
        self.assertRaises(ProtocolError, protocol.decode, reply(M.REQUEST_PING, b"\0"))

    def test_unknown_message_type(self):
        e = self.assertRaises(ProtocolError, protocol.decode, reply(4006, b""))
        self.assertIn("REQUEST_CANCEL_JOB", e.message)
        e = self.assertRaises(ProtocolError, protocol.decode, reply(65000, b""))
        self.assertIn("65000", e.message)

    def test_rc_msg_and_negative_rc(self):
        frame = reply(8002, b"\xff\xff\xff\xff" + b"\0\0\0\3hi\0")
        self.assertEqual(P2205.decode(frame).body, {"return_code": -1, "err_msg": "hi"})

    def test_empty_body_types(self):
        self.assertIsNone(P2205.decode(reply(M.REQUEST_FED_INFO)).body)
        self.assertEqual(P2205.encode_body(M.REQUEST_PING, None), b"")
        self.assertRaises(ValueError, protocol.encode_body, M.REQUEST_PING, {"x": 1})
        self.assertIsNone(P2205.decode_body(M.REQUEST_CONTROL_STATUS, b""))
        self.assertRaises(ProtocolError, protocol.decode_body, M.REQUEST_CONTROL_STATUS, b"\0")

    def test_body_helpers(self):
        wire = P2205.encode_body(M.RESPONSE_CONTROL_STATUS, {"backup_inx": 1,
                                                               "control_time": 2})
        self.assertEqual(wire, b"\0\1" + b"\0" * 7 + b"\2")
        self.assertEqual(P2205.decode_body(M.RESPONSE_CONTROL_STATUS, wire),
                         {"backup_inx": 1, "control_time": 2})
        self.assertRaises(ProtocolError, protocol.decode_body, M.RESPONSE_CONTROL_STATUS,
                          wire + b"\0")
        self.assertRaises(ProtocolError, protocol.encode_body, M.REQUEST_CANCEL_JOB, {})

    def test_body_none_packs_defaults(self):
        self.assertEqual(P2205.encode_body(M.REQUEST_BUILD_INFO, None), b"\0" * 8)


class VersionTests(unittest.TestCase):

    def test_protocol_for(self):
        self.assertIs(protocol_for(0x2600), PROTOCOL_22_05)
        self.assertEqual(PROTOCOL_22_05.version, 0x2600)
        self.assertRaises(ProtocolError, protocol_for, 0x2500)

    def test_message_shape(self):
        self.assertEqual(Message._fields, ("version", "flags", "msg_type", "body"))


def _frames():
    """Valid reply frames of several kinds, for truncation and mutation."""
    from slurmrest.wire.tables import v22_05 as T
    job = {"job_id": 5, "name": "x", "nodes": "n1", "node_inx": (4, "0x1"),
           "job_resrcs": {"nhosts": 1, "cpus": [1]}, "multi_core": {"plane_size": 1}}
    return [
        PING_REPLY[4:],
        reply(8002, b"\0\0\x07\xe2\0\0\0\3no\0"),
        reply(M.RESPONSE_JOB_INFO, T.JOB_INFO.pack({"records": [job, {"job_id": 6}]})),
        reply(M.RESPONSE_LICENSE_INFO, T.LICENSE_INFO.pack({"licenses": [
            {"name": "matlab", "total": 5}]})),
        reply(M.RESPONSE_STATS_INFO, T.STATS_RESPONSE.pack({"parts_packed": 1})),
    ]


class RobustnessTests(unittest.TestCase):

    def test_truncated_frames(self):
        """Every proper prefix of a valid frame is a ProtocolError (never anything else)."""
        for frame in _frames():
            P2205.decode(frame)
            for i in range(len(frame)):
                self.assertRaises(ProtocolError, protocol.decode, frame[:i])

    @settings(max_examples=500, deadline=None)
    @given(st.binary(max_size=200))
    def test_random_bytes(self, data):
        try:
            P2205.decode(data)
        except ProtocolError:
            pass

    @settings(max_examples=500, deadline=None)
    @given(st.sampled_from(range(5)), st.data())
    def test_mutated_frames(self, which, data):
        frame = bytearray(_frames()[which])
        for _ in range(data.draw(st.integers(1, 3))):
            i = data.draw(st.integers(0, len(frame) - 1))
            frame[i] = data.draw(st.integers(0, 255))
        try:
            P2205.decode(bytes(frame))
        except ProtocolError:
            pass

    @settings(max_examples=200, deadline=None)
    @given(st.binary(min_size=0, max_size=64))
    def test_random_bodies_behind_a_valid_header(self, body):
        """Garbage bodies for every type this protocol knows: only ProtocolError."""
        for msg_type in PROTOCOL_22_05.bodies:
            try:
                P2205.decode(reply(msg_type, body))
            except ProtocolError:
                pass


class Reply2411Tests(unittest.TestCase):
    """24.11 replies: header of protocol 0x2A00, SLURM_NO_AUTH_CRED set, no credential."""

    def test_rc_reply_without_credential(self):
        # A live 24.11 slurmctld's answer to REQUEST_PING, after the length prefix.
        payload = bytes.fromhex("2a00 0044 1f41 00000004 0000 0000 0000 00000000")
        message = P2205.decode(payload)  # any codec reads the version the frame announces
        self.assertEqual((message.version, message.msg_type, message.body),
                         (0x2A00, M.RESPONSE_SLURM_RC, {"return_code": 0}))

    def test_refusal_of_an_older_request(self):
        """What 24.11 answers a 22.05 request: its own header, an error code."""
        payload = bytes.fromhex("2a00 0040 1f41 00000004 0000 0000 0000 000003ef")
        self.assertEqual(P2205.decode(payload).body, {"return_code": 1007})
