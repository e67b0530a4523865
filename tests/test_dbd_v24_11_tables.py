"""slurmdbd tables of every release: one suite run for each (round trips, NULL vs empty
lists, truncation, leftovers, fuzzed bodies), and the 24.11 layouts read from Slurm's
source at slurm-24-11-5-1 (presence bytes, flags words, new and dropped members).
The live checks are in tests/test_dbd_v24_11_live.py."""

import struct

from hypothesis import given, settings, strategies as st
from twisted.trial import unittest

from slurmrest.wire import dbd_framing as F
from slurmrest.wire import primitives as P
from slurmrest.wire.credentials import Credential
from slurmrest.wire.dbd_msgtypes import DbdMsgType as D
from slurmrest.wire.errors import ProtocolError
from slurmrest.wire.tables import dbd_v22_05, dbd_v24_11 as T

NO_VAL = struct.pack(">I", P.NO_VAL)


def frame(msg_type, body):
    return struct.pack(">H", msg_type) + body


def samples(tables):
    """Reply payloads (no length prefix) with lists, strings and nested records."""
    replies = tables.replies
    tres = {"id": 1, "type": "cpu", "count": 4}
    yield frame(D.DBD_GOT_TRES, replies[D.DBD_GOT_TRES].pack({"my_list": [tres, tres]}))
    yield frame(D.DBD_GOT_LIST, replies[D.DBD_GOT_LIST].pack({"my_list": ["a", "b"]}))
    yield frame(D.PERSIST_RC, replies[D.PERSIST_RC].pack({"comment": "x", "rc": 2002}))
    assoc = {"acct": "a", "qos_list": ["1"], "accounting_list": [{"id": 3}]}
    yield frame(D.DBD_GOT_ASSOCS, replies[D.DBD_GOT_ASSOCS].pack({"my_list": [assoc]}))
    user = {"name": "bob", "assoc_list": [assoc], "coord_accts": [{"name": "a"}]}
    yield frame(D.DBD_GOT_USERS, replies[D.DBD_GOT_USERS].pack({"my_list": [user]}))
    step = {"stepname": "batch", "stats": {"tres_usage_in_ave": "3=0"}}
    job = {"jobid": 7, "steps": [step], "steps_count": None}
    yield frame(D.DBD_GOT_JOBS, replies[D.DBD_GOT_JOBS].pack({"my_list": [job]}))
    cluster = {"name": "c", "root_assoc": assoc, "accounting_list": []}
    yield frame(D.DBD_GOT_CLUSTERS,
                replies[D.DBD_GOT_CLUSTERS].pack({"my_list": [cluster]}))


class EveryReleaseTests:
    """Run once per release (``tables``: its DbdTables)."""

    tables = None

    def samples(self):
        return samples(self.tables)

    def test_every_table_round_trips_its_defaults(self):
        for msg_type, table in {**self.tables.requests, **self.tables.replies}.items():
            data = table.pack({})
            record = table.unpack_exact(data)
            self.assertEqual(table.pack(record), data, msg_type)

    def test_no_change_records_fit_the_release(self):
        # each "no change" template packs with this release's own MODIFY record (a template
        # inherited from an older release with members since dropped would not)
        modify = {"qos": D.DBD_MODIFY_QOS, "assoc": D.DBD_MODIFY_ASSOCS}
        for kind, record in self.tables.no_change.items():
            table = self.tables.requests[modify[kind]]
            body = table.unpack_exact(table.pack({"rec": record}))
            self.assertEqual(body["rec"], record, kind)

    def test_samples_round_trip(self):
        for payload in self.samples():
            message = F.decode(payload, self.tables)
            table = self.tables.replies[message.msg_type]
            self.assertEqual(frame(message.msg_type, table.pack(message.body)), payload)

    def test_strlist_null_versus_empty(self):
        cond = self.tables.requests[D.DBD_GET_ASSOCS]
        null, empty = cond.pack({"user_list": None}), cond.pack({"user_list": []})
        self.assertNotEqual(null, empty)
        self.assertIsNone(cond.unpack_exact(null)["user_list"])
        self.assertEqual(cond.unpack_exact(empty)["user_list"], [])

    def test_record_lists_null_versus_empty(self):
        users = self.tables.replies[D.DBD_GOT_USERS]
        for field in ("assoc_list", "coord_accts", "wckey_list"):
            for value in (None, []):
                data = users.pack({"my_list": [{field: value}]})
                self.assertEqual(users.unpack_exact(data)["my_list"][0][field], value)

    def test_every_prefix_is_a_protocol_error(self):
        for payload in self.samples():
            for n in range(len(payload)):
                self.assertRaises(ProtocolError, F.decode, payload[:n], self.tables)

    def test_leftover_bytes_are_a_protocol_error(self):
        for payload in self.samples():
            self.assertRaises(ProtocolError, F.decode, payload + b"\0", self.tables)

    def test_init_frame_speaks_the_release(self):
        data = F.encode_init(Credential("t" * 20, "alice"), "cluster", self.tables)
        prefix, version, flags, msg_type = struct.unpack_from(">HHHH", data, 4)
        # SLURM_GLOBAL_AUTH_KEY | SLURMDBD_CONNECTION
        self.assertEqual((prefix, version, flags, msg_type),
                         (6500, self.tables.protocol, 3, 6500))
        # the body: the same version, the cluster name, PERSIST_TYPE_DBD, port 0
        self.assertEqual(data[-18:], struct.pack(">HI", self.tables.protocol, 8)
                         + b"cluster\0" + struct.pack(">HH", 1, 0))


class Release2205Tests(EveryReleaseTests, unittest.TestCase):
    tables = dbd_v22_05.TABLES


class Release2411Tests(EveryReleaseTests, unittest.TestCase):
    tables = T.TABLES


RELEASES = (Release2205Tests, Release2411Tests)


class EveryReleaseFuzzTests(unittest.TestCase):
    """Arbitrary and mutated reply bodies raise only ProtocolError, in every release."""

    @settings(max_examples=300, deadline=None)
    @given(st.sampled_from(RELEASES), st.binary(max_size=300), st.integers(0, 10 ** 6))
    def test_random_bodies(self, release, body, pick):
        types = sorted(release.tables.replies)
        try:
            F.decode(frame(types[pick % len(types)], body), release.tables)
        except ProtocolError:
            pass

    @settings(max_examples=300, deadline=None)
    @given(st.sampled_from(RELEASES), st.integers(0, 10 ** 6), st.integers(0, 10 ** 6),
           st.integers(0, 255))
    def test_mutated_frames(self, release, pick, position, value):
        samples_ = list(samples(release.tables))
        data = bytearray(samples_[pick % len(samples_)])
        data[position % len(data)] = value
        try:
            F.decode(bytes(data), release.tables)
        except ProtocolError:
            pass


class Layout2411Tests(unittest.TestCase):
    """Byte layouts of the 24.11 pack functions (slurmdb_pack.c at slurm-24-11-5-1)."""

    def test_protocol(self):
        self.assertEqual(T.TABLES.protocol, 0x2A00)
        self.assertEqual(T.TABLES.requests[D.DBD_FINI].pack({"commit": 1}),
                         struct.pack(">HH", 0, 1))

    def test_assoc_cond(self):
        # packbool(1), acct, cluster, def_qos_id lists, u32 flags, format, id, partition,
        # parent_acct, qos lists, usage_end, usage_start, user_list
        data = T.ASSOC_COND.pack({"acct_list": ["a"], "flags": 5, "usage_start": 9})
        self.assertEqual(data, b"\x01" + struct.pack(">II", 1, 2) + b"a\0" + NO_VAL * 2
                         + struct.pack(">I", 5) + NO_VAL * 5 + struct.pack(">qq", 0, 9)
                         + NO_VAL)

    def test_assoc_cond_switches_fold_into_flags(self):
        given = {"with_deleted": 1, "with_usage": 0, "only_defs": True, "with_raw_qos": 1,
                 "with_sub_accts": 1, "without_parent_info": 1, "without_parent_limits": 1}
        before = dict(given)
        record = T.ASSOC_COND.unpack_exact(T.ASSOC_COND.pack(given))
        self.assertEqual(record["flags"], 0b1111101)
        self.assertEqual(given, before)  # the caller's condition is not changed
        self.assertEqual(T.ASSOC_COND.unpack_exact(T.ASSOC_COND.pack(
            {"flags": 0x80, "with_deleted": 1}))["flags"], 0x81)
        self.assertRaises(ValueError, T.ASSOC_COND.pack, {"with_nothing": 1})

    def test_nested_assoc_cond(self):
        # a NULL assoc_cond is one byte 0; an empty one is present with NULL lists
        self.assertEqual(T.USER_COND.pack({})[:3], b"\0\0\0")
        user = T.USER_COND.unpack_exact(T.USER_COND.pack(
            {"assoc_cond": {"user_list": ["bob"], "only_defs": 1}, "with_assocs": 1}))
        self.assertEqual(user["assoc_cond"]["user_list"], ["bob"])
        self.assertEqual(user["assoc_cond"]["flags"], 4)
        self.assertEqual(user["with_assocs"], 1)
        self.assertIsNone(T.USER_COND.unpack_exact(T.USER_COND.pack({}))["assoc_cond"])

    def test_account_cond(self):
        # assoc_cond, description_list, u32 flags (SLURMDB_ACCT_FLAG_*), organization_list
        data = T.ACCOUNT_COND.pack({"with_assocs": 1, "with_coords": 1, "with_deleted": 0})
        self.assertEqual(data, b"\0" + NO_VAL + struct.pack(">I", 6) + NO_VAL)

    def test_qos_cond(self):
        # packbool(1), description_list, u16 flags, format, id, name lists, u16 preempt_mode
        data = T.QOS_COND.pack({"with_deleted": 1, "name_list": ["q"]})
        self.assertEqual(data, b"\x01" + NO_VAL + struct.pack(">H", 1) + NO_VAL * 2
                         + struct.pack(">II", 1, 2) + b"q\0" + struct.pack(">H", 0))

    def test_cluster_cond_has_no_select_plugin_list(self):
        self.assertNotIn("plugin_id_select_list", T.CLUSTER_COND.field_names)
        self.assertEqual(len(T.CLUSTER_COND.pack({})),
                         len(dbd_v22_05.CLUSTER_COND.pack({})) - 4)

    def test_cluster_rec(self):
        # packbool presence; no plugin_id_select; u16 id after flags
        self.assertEqual(T.CLUSTER_REC.pack({"present": 0}), b"\0")
        self.assertEqual(T.CLUSTER_REC.unpack_exact(b"\0")["present"], 0)
        record = T.CLUSTER_REC.unpack_exact(T.CLUSTER_REC.pack({"name": "c", "id": 7}))
        self.assertEqual((record["present"], record["name"], record["id"]), (1, "c", 7))
        self.assertNotIn("plugin_id_select", record)
        self.assertRaises(ProtocolError, T.CLUSTER_REC.unpack_exact, b"\x02")

    def test_assoc_rec(self):
        fields = T.ASSOC_REC.field_names
        self.assertEqual(fields[fields.index("cluster") + 1], "comment")
        self.assertEqual(fields[fields.index("is_def") + 1:fields.index("is_def") + 3],
                         ["lineage", "max_tres_mins_pj"])
        self.assertNotIn("lft", fields)
        self.assertNotIn("rgt", fields)
        # flags is a u32 now: 0x10000 survives
        self.assertEqual(T.ASSOC_REC.unpack_exact(T.ASSOC_REC.pack(
            {"flags": 0x10000}))["flags"], 0x10000)
        # accounting records gained id_alt
        self.assertEqual(T.ACCOUNTING_REC.field_names,
                         ["alloc_secs", "tres_rec", "id", "id_alt", "period_start"])

    def test_selected_step(self):
        # pack_step_id (u64 sluid, job_id, step_id, step_het_comp), array_task_id,
        # het_job_offset, pack_bit_str_hex(array_bitmap)
        data = T.SELECTED_STEP.pack({"job_id": 5})
        self.assertEqual(data, struct.pack(">QI", 0, 5) + NO_VAL * 4 + NO_VAL)
        cond = T.JOB_COND.unpack_exact(T.JOB_COND.pack({"step_list": [{"job_id": 5}]}))
        self.assertEqual(cond["step_list"][0]["job_id"], 5)

    def test_job_and_step_records(self):
        job = T.JOB_REC.field_names
        for before, after in [("exitcode", "extra"), ("extra", "failed_node"),
                              ("failed_node", "flags"), ("jobname", "licenses"),
                              ("licenses", "lineage"), ("lineage", "mcs_label"),
                              ("qosid", "qos_req"), ("qos_req", "req_cpus"),
                              ("requid", "restart_cnt"), ("restart_cnt", "resv_name"),
                              ("steps", "std_err"), ("std_err", "std_in"),
                              ("std_in", "std_out"), ("std_out", "submit")]:
            self.assertEqual(job[job.index(before) + 1], after)
        self.assertNotIn("lft", job)
        step = T.STEP_REC.field_names
        self.assertEqual(step[step.index("state") + 1:step.index("state") + 5],
                         ["sluid", "job_id", "step_id", "step_het_comp"])
        data = T.JOB_REC.pack({"jobid": 3, "restart_cnt": 2,
                               "steps": [{"step_id": 0, "sluid": 1 << 40}]})
        record = T.JOB_REC.unpack_exact(data)
        self.assertEqual((record["steps_count"], record["steps"][0]["sluid"],
                          record["restart_cnt"]), (1, 1 << 40, 2))

    def test_unchanged_tables_are_22_05s(self):
        for msg_type in (D.DBD_GET_TRES, D.DBD_GET_WCKEYS, D.DBD_GET_CONFIG,
                         D.DBD_GET_STATS, D.DBD_ADD_QOS, D.DBD_REMOVE_WCKEYS):
            self.assertIs(T.TABLES.requests[msg_type],
                          dbd_v22_05.TABLES.requests[msg_type], msg_type)
        for msg_type in (D.PERSIST_RC, D.DBD_GOT_TRES, D.DBD_GOT_QOS, D.DBD_GOT_CONFIG,
                         D.DBD_GOT_LIST, D.DBD_GOT_STATS):
            self.assertIs(T.TABLES.replies[msg_type],
                          dbd_v22_05.TABLES.replies[msg_type], msg_type)
        self.assertEqual(T.TABLES.writes, dbd_v22_05.TABLES.writes)
        self.assertEqual(T.TABLES.no_change["qos"], dbd_v22_05.QOS_REC_NO_CHANGE)
        # the association template is 24.11's own (no lft/rgt)
        self.assertEqual(T.TABLES.no_change["assoc"], T.ASSOC_REC_NO_CHANGE)
        self.assertNotIn("lft", T.ASSOC_REC_NO_CHANGE)

    def test_every_message_has_its_own_release_table(self):
        # no 24.11 table nests a 22.05 record whose layout changed
        changed = {dbd_v22_05.ASSOC_REC, dbd_v22_05.ASSOC_COND, dbd_v22_05.ACCOUNTING_REC,
                   dbd_v22_05.CLUSTER_REC, dbd_v22_05.JOB_REC, dbd_v22_05.STEP_REC,
                   dbd_v22_05.SELECTED_STEP, dbd_v22_05.QOS_COND, dbd_v22_05.USER_COND,
                   dbd_v22_05.ACCOUNT_COND, dbd_v22_05.CLUSTER_COND, dbd_v22_05.USER_REC,
                   dbd_v22_05.ACCOUNT_REC, dbd_v22_05.WCKEY_REC}

        def nested(table, seen):
            for f in getattr(table, "fields", ()):
                for t in (f.type, getattr(f.type, "element", None),
                          getattr(f.type, "struct", None)):
                    if t is not None and hasattr(t, "fields") and id(t) not in seen:
                        seen.add(id(t))
                        yield t
                        yield from nested(t, seen)

        for msg_type, table in {**T.TABLES.requests, **T.TABLES.replies}.items():
            for inner in [table, *nested(table, set())]:
                self.assertNotIn(inner, changed, (msg_type, inner))
