"""Slurm 24.11's tables without a cluster: the shapes that differ from 22.05 (the live
checks are ``tests/test_wire_v24_11_live.py``)."""

import struct

from twisted.trial import unittest

from slurmrest.wire import enums, primitives as P
from slurmrest.wire.errors import ProtocolError
from slurmrest.wire.msgtypes import MsgType as M
from slurmrest.wire.primitives import Bitmap
from slurmrest.wire.protocol import protocol_for
from slurmrest.wire.tables import v22_05, v24_11 as T


class JobRecordTests(unittest.TestCase):

    def test_a_job_without_details_sends_three_counts(self):
        packed = T.JOB_RECORD.pack({"num_cpus": 4, "num_nodes": 2, "nice": P.NICE_OFFSET})
        with_details = T.JOB_RECORD.pack({"details": 1, "num_cpus": 4})
        self.assertGreater(len(with_details), len(packed))
        record, end = T.JOB_RECORD.unpack(packed)
        self.assertEqual(end, len(packed))
        self.assertEqual((record["details"], record["num_cpus"], record["num_nodes"],
                          record["nice"], record["submit_time"]),
                         (0, 4, 2, P.NICE_OFFSET, None))
        record, _ = T.JOB_RECORD.unpack(with_details)
        self.assertEqual((record["details"], record["num_cpus"], record["submit_time"]),
                         (1, 4, 0))

    def test_a_bad_details_flag_is_refused(self):
        packed = bytearray(T.JOB_RECORD.pack({}))
        # the details flag follows node_inx; find it by packing two records that differ there
        other = T.JOB_RECORD.pack({"details": 1})
        at = next(i for i, (a, b) in enumerate(zip(packed, other)) if a != b)
        packed[at] = 7
        self.assertRaises(ProtocolError, T.JOB_RECORD.unpack, bytes(packed))

    def test_state_reasons_are_translated(self):
        """24.11's FAIL_SIGNAL (33) was WAIT_BLOCK_MAX_ERR in 22.05: the record says the
        product's own number for it, whose string is 24.11's."""
        record, _ = T.JOB_RECORD.unpack(T.JOB_RECORD.pack({"state_reason": 1033}))
        self.assertEqual(record["state_reason"], 1033)
        self.assertEqual(enums.job_reason_string(record["state_reason"]), "RaisedSignal")
        for shared in (0, 1, 16, 198):  # None, Priority, JobHeldUser, ReservationDeleted
            record, _ = T.JOB_RECORD.unpack(T.JOB_RECORD.pack({"state_reason": shared}))
            self.assertEqual(record["state_reason"], shared)

    def test_show_flags_are_the_requested_ones(self):
        record, _ = T.JOB_RECORD.unpack(T.JOB_RECORD.pack({}))
        self.assertEqual(record["show_flags"], v22_05.JOB_SHOW_FLAGS)


class RequestTests(unittest.TestCase):

    def test_job_desc_defaults(self):
        desc, _ = T.JOB_DESC.unpack(T.JOB_DESC.pack({}))
        self.assertEqual((desc["user_id"], desc["group_id"]), (99, 99))  # SLURM_AUTH_NOBODY
        self.assertEqual((desc["oom_kill_step"], desc["resv_port_cnt"], desc["segment_size"]),
                         (P.NO_VAL16, P.NO_VAL16, 0))
        self.assertNotIn("power_flags", desc)
        self.assertEqual(desc["bitflags"] & P.USE_DEFAULT_ACCT, P.USE_DEFAULT_ACCT)

    def test_step_ids_carry_a_sluid(self):
        body = T.JOB_STEP_KILL.pack({"sjob_id": "7"})
        self.assertEqual(body[:8], b"\0" * 8)
        self.assertEqual(len(body), len(v22_05.JOB_STEP_KILL.pack({"sjob_id": "7"})) + 8)

    def test_frames_announce_0x2a00(self):
        frame = protocol_for(T.VERSION).encode(M.REQUEST_PING, None, None)
        self.assertEqual(frame[4:6], b"\x2a\x00")


class HiddenNodeTests(unittest.TestCase):

    def test_hidden_nodes_are_blank_records_in_their_places(self):
        """24.11 leaves the records of hidden nodes out (their bits set in hidden_nodes);
        22.05 sent blank ones there, and so the decoder gives blank ones."""
        body = (struct.pack(">Iq", 3, 0) + _bitstr(Bitmap.from_indexes(3, [1]))
                + T.NODE_RECORD.pack({"name": "n1", "cpus": 2})
                + T.NODE_RECORD.pack({"name": "n3", "cpus": 4}))
        info = T.NODE_INFO.unpack_exact(body)
        self.assertEqual([(r["name"], r["cpus"]) for r in info["records"]],
                         [("n1", 2), (None, 0), ("n3", 4)])

    def test_no_hidden_nodes(self):
        packed = T.NODE_INFO.pack({"records": [{"name": "n1"}, {"name": "n2"}]})
        info = T.NODE_INFO.unpack_exact(packed)
        self.assertEqual([r["name"] for r in info["records"]], ["n1", "n2"])


def _bitstr(bitmap):
    """``pack_bit_str_hex``: u32 bit count, then the hex mask as a string."""
    text = bitmap.hexmask.encode() + b"\0"
    return struct.pack(">II", bitmap.nbits, len(text)) + text
