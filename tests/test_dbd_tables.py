"""slurmdbd 22.05 tables and frames: layouts from the dbd protocol reference (§4, §7), round
trips, NULL vs empty lists, truncation, and decode of arbitrary bytes raising only
ProtocolError."""

import struct

from hypothesis import given, settings, strategies as st
from twisted.trial import unittest

from slurmrest.wire import dbd_framing as F
from slurmrest.wire import primitives as P
from slurmrest.wire.credentials import Credential
from slurmrest.wire.dbd_msgtypes import DbdMsgType as D
from slurmrest.wire.errors import ProtocolError
from slurmrest.wire.tables import dbd_v22_05 as T

NO_VAL = struct.pack(">I", P.NO_VAL)


def frame(msg_type, body):
    return struct.pack(">IH", 2 + len(body), msg_type) + body


class MessageTypeTests(unittest.TestCase):
    def test_anchors(self):
        # the comments in slurmdbd_defs.h (§3.1)
        self.assertEqual(D.DBD_FINI, 1401)
        self.assertEqual(D.DBD_GET_ASSOCS, 1410)
        self.assertEqual(D.DBD_GOT_CLUSTER_USAGE, 1420)
        self.assertEqual(D.DBD_MODIFY_CLUSTERS, 1430)
        self.assertEqual(D.PERSIST_RC, 1433)
        self.assertEqual(D.DBD_ROLL_USAGE, 1440)
        self.assertEqual(D.DBD_GET_JOBS_COND, 1444)
        self.assertEqual(D.DBD_REMOVE_QOS, 1450)
        self.assertEqual(D.DBD_ARCHIVE_LOAD, 1460)
        self.assertEqual(D.DBD_GET_EVENTS, 1470)
        self.assertEqual(D.DBD_REMOVE_RES, 1480)
        self.assertEqual(D.DBD_GET_TRES, 1486)
        self.assertEqual(D.DBD_GOT_STATS, 1490)
        self.assertEqual(D.SLURM_PERSIST_INIT, 6500)


class LayoutTests(unittest.TestCase):
    def test_init_frame(self):
        # §7.1: T + 55 bytes after the length for a token of T bytes and user "alice"
        token = "x" * 40
        data = F.encode_init(Credential(token, "alice"), "cluster")
        length, = struct.unpack_from(">I", data)
        self.assertEqual(length, len(token) + 55)
        self.assertEqual(len(data), length + 4)
        prefix, version, flags, msg_type, body_len, fwd, ret, family = struct.unpack_from(
            ">HHHHIHHH", data, 4)
        self.assertEqual((prefix, version, flags, msg_type, body_len, fwd, ret, family),
                         (6500, 0x2600, 3, 6500, 18, 0, 0, 0))
        auth = struct.pack(">II", 102, 41) + token.encode() + b"\0" + struct.pack(">I", 6) \
            + b"alice\0"
        self.assertEqual(data[22:22 + len(auth)], auth)
        self.assertEqual(data[22 + len(auth):],
                         struct.pack(">HI", 0x2600, 8) + b"cluster\0" + struct.pack(">HH", 1, 0))

    def test_persist_rc(self):
        # §7.2: the success reply of an init
        data = struct.pack(">HIHiH", 1433, 0, 0, 0, 0x2600)
        self.assertEqual(len(data), 14)
        message = F.decode(data)
        self.assertEqual(message, (D.PERSIST_RC, {"comment": None, "flags": 0, "rc": 0,
                                                  "ret_info": 0x2600}))
        refused = F.decode(struct.pack(">HI", 1433, 7) + b"failed\0"
                           + struct.pack(">HiH", 0, -1, 6500))
        self.assertEqual(refused.body["rc"], -1)
        self.assertEqual(refused.body["comment"], "failed")

    def test_job_cond_example(self):
        # §7.3: 134 bytes of frame payload with one cluster
        data = F.encode(D.DBD_GET_JOBS_COND, {
            "cluster_list": ["cluster"], "flags": 5, "usage_start": 1700000000})
        self.assertEqual(struct.unpack_from(">IH", data), (134, 1444))
        body = data[6:]
        self.assertEqual(body[:8], NO_VAL * 2)
        self.assertEqual(body[8:24], struct.pack(">II", 1, 8) + b"cluster\0")
        self.assertEqual(body[24:28], NO_VAL)
        # cpus_max, cpus_min, db_flags (SLURMDB_JOB_FLAG_NOTSET, not 0: §8.13), exitcode, flags
        self.assertEqual(body[28:48], struct.pack(">IIIiI", 0, 0, 1, 0, 5))
        self.assertEqual(body[-8:], NO_VAL * 2)  # userid_list, wckey_list

    def test_job_cond_db_flags_default(self):
        record, _ = T.JOB_COND.unpack(T.JOB_COND.pack({}))
        self.assertEqual(record["db_flags"], 1)
        self.assertIsNone(record["step_list"])

    def test_fini(self):
        self.assertEqual(F.encode(D.DBD_FINI, {"close_conn": 0, "commit": 1}),
                         struct.pack(">IHHH", 6, 1401, 0, 1))

    def test_empty_body_requests(self):
        self.assertEqual(F.encode(D.DBD_GET_STATS), struct.pack(">IH", 2, 1489))

    def test_null_packs_in_full(self):
        # §8.6: the C NULL-packs of qos and wckey records are short; ours never are
        qos = T.QOS_REC.pack({})
        self.assertEqual(len(qos), T.QOS_REC.min_size)
        self.assertEqual(struct.unpack(">d", qos[-8:])[0] / 1e6, float(P.NO_VAL64))
        wckey = T.WCKEY_REC.pack({})
        # NO_VAL list, NULL, flags 0, id NO_VAL, is_def NO_VAL16, NULL, uid NO_VAL, NULL
        self.assertEqual(wckey, NO_VAL + b"\0" * 4 + b"\0" * 4 + NO_VAL
                         + struct.pack(">H", P.NO_VAL16) + b"\0" * 4 + NO_VAL + b"\0" * 4)

    def test_tres_cond_count_default(self):
        # NO_VAL as a u64 (§4.10.1)
        self.assertEqual(T.TRES_COND.pack({})[:8], struct.pack(">Q", P.NO_VAL))

    def test_cluster_cond_flags_default(self):
        record, _ = T.CLUSTER_COND.unpack(T.CLUSTER_COND.pack({}))
        self.assertEqual(record["flags"], P.NO_VAL)

    def test_acct_coord_list_has_no_null(self):
        # §4.15: the hand-rolled account list packs 0 (never NO_VAL) for none
        self.assertEqual(T.ACCT_COORD_MSG.pack({})[:4], b"\0\0\0\0")

    def test_job_rec_steps(self):
        step = T.STEP_REC.defaults()
        step.update(step_id=P.SLURM_BATCH_SCRIPT, stepname="batch", stats=T.STATS.defaults())
        job = dict(T.JOB_REC.defaults(), jobid=42, steps=[step, dict(step, step_id=0)])
        del job["steps_count"]  # packing counts the steps itself
        data = T.JOB_REC.pack(job)
        record = T.JOB_REC.unpack_exact(data)
        self.assertEqual(record["steps_count"], 2)
        self.assertEqual([s["step_id"] for s in record["steps"]], [P.SLURM_BATCH_SCRIPT, 0])
        # no steps: count 0, never NO_VAL (§8.9)
        none = T.JOB_REC.unpack_exact(T.JOB_REC.pack(dict(job, steps=[], steps_count=None)))
        self.assertEqual(none["steps"], [])

    def test_double_is_scaled(self):
        data = T.STATS.pack({"act_cpufreq": 2000000.0})
        self.assertEqual(struct.unpack(">d", data[:8])[0], 2000000.0 * 1e6)
        self.assertEqual(T.STATS.unpack(data)[0]["act_cpufreq"], 2000000.0)


class NullVersusEmptyTests(unittest.TestCase):
    def test_strlist(self):
        null = T.ASSOC_COND.pack({"user_list": None})
        empty = T.ASSOC_COND.pack({"user_list": []})
        self.assertNotEqual(null, empty)
        self.assertIsNone(T.ASSOC_COND.unpack_exact(null)["user_list"])
        self.assertEqual(T.ASSOC_COND.unpack_exact(empty)["user_list"], [])

    def test_record_lists(self):
        for table, field in [(T.USER_REC, "assoc_list"), (T.USER_REC, "coord_accts"),
                             (T.ACCOUNT_REC, "assoc_list"), (T.ASSOC_REC, "accounting_list"),
                             (T.STATS_REC, "rpc_list")]:
            self.assertIsNone(table.unpack_exact(table.pack({field: None}))[field])
            self.assertEqual(table.unpack_exact(table.pack({field: []}))[field], [])

    def test_empty_strings_are_not_null(self):
        self.assertEqual(T.ACCOUNT_REC.unpack_exact(T.ACCOUNT_REC.pack(
            {"description": ""}))["description"], "")
        self.assertIsNone(T.ACCOUNT_REC.unpack_exact(T.ACCOUNT_REC.pack({}))["description"])


class RoundTripTests(unittest.TestCase):
    def test_every_table_round_trips_its_defaults(self):
        for msg_type, table in {**T.REQUESTS, **T.REPLIES}.items():
            data = table.pack({})
            record = table.unpack_exact(data)
            self.assertEqual(table.pack(record), data, msg_type)

    def test_nested_records(self):
        assoc = dict(T.ASSOC_REC.defaults(), acct="physics", user="bob", qos_list=["1", "2"],
                     accounting_list=[dict(T.ACCOUNTING_REC.defaults(),
                                           tres_rec=dict(T.TRES_REC.defaults(), id=1))])
        user = dict(T.USER_REC.defaults(), name="bob", assoc_list=[assoc],
                    coord_accts=[{"name": "physics", "direct": 1}],
                    wckey_list=[dict(T.WCKEY_REC.defaults(), name="w")])
        got = T.REPLIES[D.DBD_GOT_USERS]
        data = got.pack({"my_list": [user], "return_code": 0})
        self.assertEqual(got.pack(got.unpack_exact(data)), data)
        self.assertEqual(got.unpack_exact(data)["my_list"][0]["assoc_list"][0]["qos_list"],
                         ["1", "2"])

    def test_stats_rec(self):
        rollup = {"cluster_name": None, "rollup_count": 3,
                  "rollups": [dict(T.ROLLUP_ENTRY.defaults(), count=i) for i in range(3)]}
        stats = {"dbd_rollup_stats": rollup, "rollup_stats": [dict(rollup, cluster_name="c")],
                 "rpc_list": [{"cnt": 1, "id": 1489, "time": 5}], "time_start": 7,
                 "user_list": [{"cnt": 1, "id": 0, "time": 5}]}
        data = T.STATS_REC.pack(stats)
        self.assertEqual(T.STATS_REC.unpack_exact(data), stats)

    def test_qos_preempt_bitstr(self):
        record = T.QOS_REC.unpack_exact(T.QOS_REC.pack({"preempt_bitstr": (3, "0x4")}))
        self.assertEqual(record["preempt_bitstr"].nbits, 3)


def _sample_frames():
    tres = dict(T.TRES_REC.defaults(), id=1, type="cpu")
    yield frame(D.DBD_GOT_TRES, T.REPLIES[D.DBD_GOT_TRES].pack({"my_list": [tres, tres]}))
    yield frame(D.DBD_GOT_LIST, T.GOT_LIST.pack({"my_list": ["a", "b"]}))
    yield frame(D.PERSIST_RC, T.PERSIST_RC.pack({"comment": "x", "rc": 2002}))
    assoc = dict(T.ASSOC_REC.defaults(), acct="a", qos_list=["1"])
    yield frame(D.DBD_GOT_ASSOCS, T.REPLIES[D.DBD_GOT_ASSOCS].pack({"my_list": [assoc]}))


SAMPLES = [f[4:] for f in _sample_frames()]


class TruncationTests(unittest.TestCase):
    def test_every_prefix_is_a_protocol_error(self):
        for payload in SAMPLES:
            F.decode(payload)
            for n in range(len(payload)):
                self.assertRaises(ProtocolError, F.decode, payload[:n])

    def test_leftover_bytes_are_a_protocol_error(self):
        for payload in SAMPLES:
            self.assertRaises(ProtocolError, F.decode, payload + b"\0")

    def test_unknown_type(self):
        self.assertRaises(ProtocolError, F.decode, struct.pack(">H", 1400))

    def test_lying_count(self):
        payload = struct.pack(">HI", D.DBD_GOT_TRES, 0x7FFFFFFF) + b"\0" * 40
        self.assertRaises(ProtocolError, F.decode, payload)


class FuzzTests(unittest.TestCase):
    @settings(max_examples=300, deadline=None)
    @given(st.binary(max_size=300),
           st.sampled_from(sorted(T.REPLIES)))
    def test_random_bodies(self, body, msg_type):
        try:
            F.decode(struct.pack(">H", msg_type) + body)
        except ProtocolError:
            pass

    @settings(max_examples=300, deadline=None)
    @given(st.sampled_from(SAMPLES), st.integers(0, 400), st.integers(0, 255))
    def test_mutated_frames(self, payload, position, value):
        data = bytearray(payload)
        data[position % len(data)] = value
        try:
            F.decode(bytes(data))
        except ProtocolError:
            pass
