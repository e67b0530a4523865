"""The Slurm 22.05 message tables: shapes, defaults, the reference's byte examples, round trips
of representative records, and truncation of real-shaped bodies."""

from hypothesis import given, settings, strategies as st
from twisted.trial import unittest

from slurmrest.wire import primitives as P
from slurmrest.wire import schema as S
from slurmrest.wire.errors import ProtocolError
from slurmrest.wire.msgtypes import MsgType as M
from slurmrest.wire.primitives import NO_VAL, NO_VAL8, NO_VAL16, NO_VAL64, Bitmap
from slurmrest.wire.schema import Struct
from slurmrest.wire.tables import VERSIONS, v22_05 as T


def assertContains(case, got, sent, path="record"):
    """Everything ``sent`` says is in ``got`` (which also has the defaults of the rest)."""
    if isinstance(sent, dict):
        for key, value in sent.items():
            case.assertIn(key, got, path)
            assertContains(case, got[key], value, f"{path}.{key}")
    else:
        case.assertEqual(got, sent, path)


class ShapeTests(unittest.TestCase):

    def test_field_counts(self):
        """Row counts of the reference's tables."""
        self.assertEqual(len(T.JOB_RECORD.fields), 125)
        self.assertEqual(len(T.JOB_DESC.fields), 118)
        self.assertEqual(len(T.BUILD_INFO.fields), 215)
        self.assertEqual(len(T.NODE_RECORD.fields), 45)
        self.assertEqual(len(T.PARTITION_RECORD.fields), 37)
        self.assertEqual(len(T.RESERVATION_RECORD.fields), 21)
        self.assertEqual(len(T.JOB_STEP_RECORD.fields), 36)
        self.assertEqual(len(T.STATS_PARTS.fields), 39)
        self.assertEqual(len(T.JOB_RESOURCES_DATA.fields), 18)
        self.assertEqual(len(T.UPDATE_NODE.fields), 13)

    def test_registered_versions(self):
        self.assertEqual([v.protocol for v in VERSIONS], [0x2600, 0x2A00])
        self.assertIs(VERSIONS[0], T.VERSION)
        self.assertEqual(dict(T.VERSION.bodies), T.BODIES)

    def test_every_message_of_the_brief(self):
        wanted = [
            "REQUEST_PING", "REQUEST_CONTROL_STATUS", "RESPONSE_CONTROL_STATUS",
            "REQUEST_STATS_INFO", "RESPONSE_STATS_INFO", "REQUEST_BUILD_INFO",
            "RESPONSE_BUILD_INFO", "REQUEST_JOB_INFO", "REQUEST_JOB_INFO_SINGLE",
            "REQUEST_JOB_USER_INFO", "RESPONSE_JOB_INFO", "REQUEST_JOB_STEP_INFO",
            "RESPONSE_JOB_STEP_INFO", "REQUEST_SUBMIT_BATCH_JOB", "REQUEST_UPDATE_JOB",
            "REQUEST_SUBMIT_BATCH_HET_JOB", "RESPONSE_SUBMIT_BATCH_JOB",
            "RESPONSE_JOB_ARRAY_ERRORS", "REQUEST_KILL_JOB", "REQUEST_CANCEL_JOB_STEP",
            "REQUEST_UPDATE_NODE", "REQUEST_DELETE_NODE", "REQUEST_CREATE_NODE",
            "REQUEST_NODE_INFO", "REQUEST_NODE_INFO_SINGLE", "RESPONSE_NODE_INFO",
            "REQUEST_PARTITION_INFO", "RESPONSE_PARTITION_INFO", "REQUEST_RESERVATION_INFO",
            "RESPONSE_RESERVATION_INFO", "REQUEST_LICENSE_INFO", "RESPONSE_LICENSE_INFO",
            "REQUEST_FED_INFO", "RESPONSE_FED_INFO", "REQUEST_AUTH_TOKEN",
            "RESPONSE_AUTH_TOKEN", "RESPONSE_SLURM_RC", "RESPONSE_SLURM_RC_MSG",
        ]
        self.assertEqual(sorted(M[n] for n in wanted), sorted(T.BODIES))
        for name in ("REQUEST_PING", "REQUEST_CONTROL_STATUS", "REQUEST_FED_INFO"):
            self.assertIsNone(T.BODIES[M[name]])

    def test_every_table_round_trips_its_defaults(self):
        """pack({}) decodes back, to the last byte, as the table's defaults."""
        for msg_type, table in T.BODIES.items():
            if table is None or table is T.FED_INFO:
                continue
            wire = table.pack({})
            record = table.unpack_exact(wire)
            self.assertEqual(table.pack(record), wire, msg_type.name)
            self.assertEqual(set(record), set(table.output_names()), msg_type.name)

    def test_every_table_compiles(self):
        for table in T.BODIES.values():
            if table is not None:
                self.assertIn("def _unpack_", table.source("unpack"))
                self.assertIn("def _pack_", table.source("pack"))


class ReferenceBytesTests(unittest.TestCase):
    """The byte examples of §8.2 and the tables' fixed layouts."""

    def test_job_info_request(self):
        """REQUEST_JOB_INFO for all jobs as slurmrestd sends it: 14 bytes."""
        self.assertEqual(T.JOB_INFO_REQUEST.pack({"show_flags": 0x13}),
                         b"\0" * 8 + b"\x00\x13" + b"\xff\xff\xff\xfe")
        self.assertEqual(T.JOB_INFO_REQUEST.pack({"show_flags": 3, "job_ids": [5, 6]}),
                         b"\0" * 8 + b"\0\3" + b"\0\0\0\2\0\0\0\5\0\0\0\6")

    def test_no_change_rc(self):
        self.assertEqual(T.RETURN_CODE.unpack_exact(b"\x00\x00\x07\x6c"),
                         {"return_code": 1900})
        self.assertEqual(T.RETURN_CODE.unpack_exact(b"\xff\xff\xff\xff"),
                         {"return_code": -1})

    def test_kill_job(self):
        """REQUEST_KILL_JOB for job "42" with SIGTERM: 27 bytes."""
        wire = T.JOB_STEP_KILL.pack({"sjob_id": "42", "signal": 15,
                                     "flags": P.KILL_FULL_JOB})
        self.assertEqual(wire, b"\xff\xff\xff\xfe" * 3 + b"\0\0\0\3" + b"42\0"
                         + b"\0\0\0\0" + b"\x00\x0f" + b"\x00\x08")
        self.assertEqual(len(wire), 27)

    def test_cancel_step(self):
        wire = T.JOB_STEP_KILL.pack({"step_id": {"job_id": 7, "step_id": 0}, "signal": 9})
        self.assertEqual(wire[:12], b"\0\0\0\7\0\0\0\0\xff\xff\xff\xfe")

    def test_small_requests(self):
        self.assertEqual(T.STATS_REQUEST.pack({}), b"\0\1")  # STAT_COMMAND_GET
        self.assertEqual(T.LAST_UPDATE.pack({}), b"\0" * 8)
        self.assertEqual(T.NODE_INFO_SINGLE.pack({"node_name": "n1", "show_flags": 0x0B}),
                         b"\0\0\0\3n1\0\0\x0b")
        self.assertEqual(T.JOB_ID_MSG.pack({"job_id": 9, "show_flags": 0x13}),
                         b"\0\0\0\x09\0\x13")
        self.assertEqual(T.JOB_USER_REQUEST.pack({"user_id": 2001, "show_flags": 1}),
                         b"\0\0\x07\xd1\0\1")
        self.assertEqual(T.RESV_INFO_REQUEST.pack({"last_update": 5}), b"\0" * 7 + b"\5")
        self.assertEqual(T.TOKEN_REQUEST.pack({"lifespan": 60, "username": "bob"}),
                         b"\0\0\0\x3c\0\0\0\4bob\0")
        self.assertEqual(T.JOB_STEP_INFO_REQUEST.pack({"show_flags": 1}),
                         b"\0" * 8 + b"\xff\xff\xff\xfe" * 3 + b"\0\1")

    def test_update_node_defaults(self):
        """slurm_init_update_node_msg: all 0/NULL except node_state and weight = NO_VAL."""
        wire = T.UPDATE_NODE.pack({"node_names": "n1", "node_state": 0x200, "reason": "x"})
        self.assertEqual(wire, (b"\0\0\0\0" + b"\0\0\0\0" + b"\0\0\0\0" * 6
                                + b"\0\0\0\3n1\0" + b"\0\0\x02\0" + b"\0\0\0\2x\0"
                                + b"\0\0\0\0" + b"\xff\xff\xff\xfe"))

    def test_fed_info(self):
        self.assertEqual(T.FED_INFO.unpack_exact(b"\0"), {"federation": None})
        e = self.assertRaises(ProtocolError, T.FED_INFO.unpack_exact,
                              b"\1\0\0\0\2f\0\0\0\0\0\0\0\0\0")
        self.assertIn("not supported", e.message)

    def test_auth_token_response(self):
        self.assertEqual(T.TOKEN_RESPONSE.unpack_exact(b"\0\0\0\4a.b\0"), {"token": "a.b"})


class JobDescTests(unittest.TestCase):

    def test_defaults_are_slurm_init_job_desc_msg(self):
        """The default column of §5.10."""
        d = T.JOB_DESC.defaults()
        for name in ("site_factor", "task_dist", "job_id", "alloc_sid", "pn_min_tmp_disk",
                     "cpu_freq_min", "cpu_freq_max", "cpu_freq_gov", "priority", "nice",
                     "num_tasks", "time_limit", "time_min", "min_cpus", "max_cpus",
                     "min_nodes", "max_nodes", "user_id", "group_id", "req_switch",
                     "wait4switch", "delay_boot"):
            self.assertEqual(d[name], NO_VAL, name)
        for name in ("contiguous", "core_spec", "kill_on_node_fail", "pn_min_cpus", "reboot",
                     "requeue", "shared", "cpus_per_task", "ntasks_per_node",
                     "ntasks_per_socket", "ntasks_per_core", "ntasks_per_tres", "plane_size",
                     "cpu_bind_type", "mem_bind_type", "sockets_per_node", "cores_per_socket",
                     "threads_per_core", "mail_type", "wait_all_nodes"):
            self.assertEqual(d[name], NO_VAL16, name)
        self.assertEqual(d["pn_min_memory"], NO_VAL64)
        self.assertEqual(d["overcommit"], NO_VAL8)
        for name in ("ntasks_per_board", "boards_per_node", "sockets_per_board", "immediate",
                     "profile", "power_flags", "open_mode", "begin_time", "end_time",
                     "deadline", "x11", "bitflags", "restart_cnt", "warn_flags",
                     "warn_signal", "warn_time", "alloc_resp_port", "other_port",
                     "fed_siblings_active", "fed_siblings_viable", "x11_target_port"):
            self.assertEqual(d[name], 0, name)
        self.assertIsNone(d["crontab_entry"])
        self.assertEqual(d["select_jobinfo"], {"plugin_id": P.SELECT_PLUGIN_CONS_TRES})

    def test_default_wire_layout(self):
        wire = T.JOB_DESC.pack({})
        self.assertEqual(wire[:4], b"\xff\xff\xff\xfe")  # site_factor
        self.assertEqual(wire[-1:], b"\0")  # crontab_entry absent
        record = T.JOB_DESC.unpack_exact(wire)
        self.assertEqual(record["environment"], [])
        self.assertEqual(record["bitflags"], 0x1E000000)

    def test_use_default_bits(self):
        """_pack_job_desc_msg ORs USE_DEFAULT_* for each NULL account/partition/qos/wckey."""
        def flags(**kw):
            return T.JOB_DESC.unpack_exact(T.JOB_DESC.pack(kw))["bitflags"]
        self.assertEqual(flags(), P.USE_DEFAULT_ACCT | P.USE_DEFAULT_PART | P.USE_DEFAULT_QOS
                         | P.USE_DEFAULT_WCKEY)
        self.assertEqual(flags(account="science", partition="debug", qos="normal",
                               wckey=""), 0)
        self.assertEqual(flags(account="science", bitflags=0x4000),
                         0x4000 | P.USE_DEFAULT_PART | P.USE_DEFAULT_QOS
                         | P.USE_DEFAULT_WCKEY)

    def test_representative_submission(self):
        desc = {
            "name": "wire-test", "script": "#!/bin/sh\ntrue\n",
            "environment": ["PATH=/bin", "A=b"], "argv": ["run.sh", "x"],
            "work_dir": "/tmp", "std_out": "/tmp/%j.out", "time_limit": 5,
            "partition": "debug", "account": "science", "priority": 0,
            "nice": P.bias(10), "pn_min_memory": P.MEM_PER_CPU | 100, "array_inx": "0-3%2",
            "begin_time": 1700000000, "crontab_entry": {
                "flags": 1, "minute": Bitmap(60, P.bitstr_from_indexes(60, [0, 30])),
                "cronspec": "0,30 * * * *", "line_start": 1, "line_end": 1},
            "select_jobinfo": {"plugin_id": P.SELECT_PLUGIN_CONS_RES},
        }
        record = T.JOB_DESC.unpack_exact(T.JOB_DESC.pack(desc))
        for key, value in desc.items():
            if key != "crontab_entry":
                self.assertEqual(record[key], value, key)
        self.assertEqual(record["crontab_entry"]["minute"].indexes(), [0, 30])
        self.assertIsNone(record["crontab_entry"]["hour"])
        self.assertEqual(record["bitflags"], P.USE_DEFAULT_QOS | P.USE_DEFAULT_WCKEY)

    def test_het_job_list(self):
        """u16 count, then the job_descs, leader first."""
        wire = T.JOB_DESC_LIST.pack({"job_descs": [{"name": "a"}, {"name": "b"}]})
        self.assertEqual(wire[:2], b"\0\2")
        one = T.JOB_DESC.pack({"name": "a"})
        self.assertEqual(wire[2:2 + len(one)], one)
        record = T.JOB_DESC_LIST.unpack_exact(wire)
        self.assertEqual([d["name"] for d in record["job_descs"]], ["a", "b"])

    def test_unknown_field_refused(self):
        e = self.assertRaises(ValueError, T.JOB_DESC.pack, {"time_limt": 5})
        self.assertIn("time_limt", str(e))


def job_record(i, detail=True):
    return {
        "array_task_id": NO_VAL, "job_id": 100 + i, "user_id": 2001, "group_id": 2001,
        "job_state": 1, "batch_flag": 1, "time_limit": 60, "nice": P.NICE_OFFSET,
        "submit_time": 1700000000, "start_time": 1700000100, "priority": 1,
        "billable_tres": 2.0, "cluster": "c", "nodes": "n[1-2]", "partition": "debug",
        "account": "science", "site_factor": P.NICE_OFFSET, "qos": "normal",
        "container": "/b", "container_dup": "/b", "exit_code": 256,
        "job_resrcs": {
            "nhosts": 2, "ncpus": 4, "nodes": "n[1-2]", "cpu_array_reps": [2],
            "cpu_array_value": [2], "cpus": [2, 2], "cpus_used": [0, 0],
            "memory_allocated": [100, 100], "memory_used": [0, 0],
            "sockets_per_node": [1], "cores_per_socket": [2], "sock_core_rep_count": [2],
            "core_bitmap": Bitmap(4, "0xF"), "core_bitmap_used": Bitmap(4, "0x0")}
        if detail else None,
        "gres_detail_str": ["gpu:0", "gpu:1"] if detail else [],
        "name": f"job-{i}", "user_name": "alice", "node_inx": Bitmap(4, "0x3"),
        "select_jobinfo": {"plugin_id": 109}, "prefer": "fast",
        "multi_core": {"threads_per_core": 1, "plane_size": NO_VAL16},
        "req_node_inx": None, "exc_node_inx": Bitmap(4, "0x8"), "bitflags": P.BACKFILL_SCHED,
        "tres_alloc_str": "cpu=4", "mail_type": 0, "selinux_context": None,
    }


class ResponseRecordTests(unittest.TestCase):

    def test_job_info(self):
        body = {"last_update": 5, "last_backfill": 4,
                "records": [job_record(0), job_record(1, detail=False)]}
        wire = T.JOB_INFO.pack(body)
        decoded = T.JOB_INFO.unpack_exact(wire)
        self.assertEqual(decoded["record_count"], 2)
        first, second = decoded["records"]
        assertContains(self, first, job_record(0))
        self.assertIsNone(second["job_resrcs"])
        self.assertEqual(second["gres_detail_str"], [])
        self.assertEqual(first["node_inx"].inx(), [0, 1, -1])
        self.assertEqual(T.JOB_INFO.pack(decoded), wire)

    def test_job_record_truncated_everywhere(self):
        wire = T.JOB_INFO.pack({"records": [job_record(0)]})
        for i in range(len(wire)):
            self.assertRaises(ProtocolError, T.JOB_INFO.unpack, wire[:i])

    def test_multi_core_bad_presence_byte(self):
        wire = bytearray(T.JOB_RECORD.pack(job_record(0)))
        mc = T.JOB_RECORD.pack({**job_record(0), "multi_core": None})
        # The first byte where the two encodings differ is the presence flag.
        at = next(i for i, (a, b) in enumerate(zip(wire, mc)) if a != b)
        self.assertEqual(wire[at], 0xFF)
        wire[at] = 0x01
        e = self.assertRaises(ProtocolError, T.JOB_RECORD.unpack, bytes(wire))
        self.assertEqual(e.message, "job_record.multi_core: bad presence flag 1")

    def test_job_resources_absent_marker(self):
        wire = T.JOB_RECORD.pack({**job_record(0), "job_resrcs": None})
        self.assertIsNone(T.JOB_RECORD.unpack_exact(wire)["job_resrcs"])

    def test_nodes_with_blank_record(self):
        node = {"name": "n1", "node_hostname": "h1", "node_addr": "127.0.0.1", "port": 6831,
                "next_state": NO_VAL, "node_state": 3, "version": "22.05.8", "cpus": 4,
                "cpus_efctv": 4, "real_memory": 1000, "free_mem": NO_VAL64,
                "select_nodeinfo": {"plugin_id": 109, "alloc_cpus": 2, "alloc_memory": 500,
                                    "tres_alloc_fmt_str": "cpu=2", "tres_alloc_weighted": 2.0},
                "energy": {"consumed_energy": 7, "poll_time": 3},
                "ext_sensors": {"temperature": NO_VAL}, "power": {"cap_watts": NO_VAL},
                "tres_fmt_str": "cpu=4"}
        blank = {"select_nodeinfo": {"plugin_id": 109}}
        wire = T.NODE_INFO.pack({"records": [node, blank]})
        decoded = T.NODE_INFO.unpack_exact(wire)
        got, empty = decoded["records"]
        self.assertEqual(got["select_nodeinfo"]["alloc_cpus"], 2)
        self.assertEqual(got["select_nodeinfo"]["tres_alloc_weighted"], 2.0)
        self.assertEqual(got["energy"]["consumed_energy"], 7)
        self.assertEqual(got["power"], {"cap_watts": NO_VAL})
        self.assertIsNone(empty["name"])
        self.assertEqual(empty["cpus"], 0)

    def test_partition(self):
        part = {"name": "debug", "max_time": P.INFINITE, "def_mem_per_cpu": P.MEM_PER_CPU,
                "flags": 1, "max_share": P.SHARED_FORCE | 2, "state_up": 3,
                "nodes": "n[1-4]", "nodesets": None, "node_inx": Bitmap(4, "0xF"),
                "job_defaults_list": [{"type": 1, "value": 4}]}
        decoded = T.PARTITION_INFO.unpack_exact(T.PARTITION_INFO.pack({"records": [part]}))
        for key, value in part.items():
            self.assertEqual(decoded["records"][0][key], value, key)
        none_list = T.PARTITION_RECORD.unpack_exact(T.PARTITION_RECORD.pack({}))
        self.assertIsNone(none_list["job_defaults_list"])

    def test_reservation_core_pairs(self):
        resv = {"name": "maint", "flags": 1, "node_list": "n4", "core_spec_cnt": 2,
                "core_spec": [{"node_name": "n4", "core_id": "0-1"},
                              {"node_name": "n3", "core_id": "0"}]}
        decoded = T.RESERVATION_INFO.unpack_exact(
            T.RESERVATION_INFO.pack({"records": [resv]}))
        self.assertEqual(decoded["records"][0]["core_spec"], resv["core_spec"])
        # count filled in from the list when left out
        wire = T.RESERVATION_RECORD.pack({"core_spec": resv["core_spec"]})
        self.assertEqual(T.RESERVATION_RECORD.unpack_exact(wire)["core_spec_cnt"], 2)

    def test_licenses(self):
        body = {"licenses": [{"name": "matlab", "total": 5, "in_use": 1, "reserved": 0,
                              "remote": 0}]}
        decoded = T.LICENSE_INFO.unpack_exact(T.LICENSE_INFO.pack(body))
        self.assertEqual(decoded["num_lic"], 1)
        self.assertEqual(decoded["licenses"], body["licenses"])

    def test_stats_get_and_reset(self):
        """parts_packed 0 (RESET): rows 2-40 are absent and the RPC lists follow directly."""
        get = {"parts_packed": 1, "req_time": 10, "bf_cycle_sum": 2 ** 40, "jobs_running": 3,
               "rpc_type_size": 1, "rpc_type_id": [1008], "rpc_type_cnt": [5],
               "rpc_type_time": [77], "rpc_dump_hostlist": ["n1"], "rpc_dump_types": [1]}
        decoded = T.STATS_RESPONSE.unpack_exact(T.STATS_RESPONSE.pack(get))
        for key, value in get.items():
            self.assertEqual(decoded[key], value, key)
        reset = T.STATS_RESPONSE.pack({"parts_packed": 0, "rpc_type_id": [1]})
        self.assertEqual(reset[:4], b"\0\0\0\0")
        self.assertEqual(reset[4:8], b"\0\0\0\0")  # rpc_type_size right after
        decoded = T.STATS_RESPONSE.unpack_exact(reset)
        self.assertIsNone(decoded["req_time"])
        self.assertEqual(decoded["rpc_type_id"], [1])

    def test_steps(self):
        step = {"array_task_id": NO_VAL, "step_id": {"job_id": 5, "step_id": P.SLURM_BATCH_SCRIPT,
                                                     "step_het_comp": NO_VAL},
                "state": 1, "run_time": 12, "nodes": "n1", "node_inx": Bitmap(4, "0x1"),
                "select_jobinfo": {"plugin_id": 109}, "tres_per_task": "cpu=1"}
        wire = T.JOB_STEP_INFO.pack({"last_update": 3, "steps": [step]})
        self.assertEqual(wire[:4], b"\0\0\0\1")  # 22.05: count first, then time
        decoded = T.JOB_STEP_INFO.unpack_exact(wire)
        for key, value in step.items():
            self.assertEqual(decoded["steps"][0][key], value, key)

    def test_build_info(self):
        conf = {"cluster_name": "c", "control_addr": ["127.0.0.1"], "control_machine": ["vm"],
                "acct_gather_conf": [{"name": "a", "value": "b"}], "cgroup_conf": None,
                "node_features_conf": [{"name": "knl", "key_pairs": [
                    {"name": "x", "value": "y"}]}], "slurmctld_port": 6817,
                "srun_port_range[0]": 1, "srun_port_range[1]": 2, "version": "22.05.8",
                "x11_params": None, "job_defaults_list": []}
        decoded = T.BUILD_INFO.unpack_exact(T.BUILD_INFO.pack(conf))
        for key, value in conf.items():
            self.assertEqual(decoded[key], value, key)

    def test_array_errors_and_submit_response(self):
        wire = T.JOB_ARRAY_RESPONSE.pack({"entries": [
            {"error_code": 0, "job_array_id": "2_1-3"},
            {"error_code": 2017, "job_array_id": "2_9"}]})
        self.assertEqual(wire[:4], b"\0\0\0\2")
        self.assertEqual(T.JOB_ARRAY_RESPONSE.unpack_exact(wire)["entries"][1],
                         {"error_code": 2017, "job_array_id": "2_9"})
        wire = T.SUBMIT_RESPONSE.pack({"job_id": 7, "step_id": P.SLURM_BATCH_SCRIPT})
        self.assertEqual(wire, b"\0\0\0\7\xff\xff\xff\xfb\0\0\0\0\0\0\0\0")

    def test_rc_msg(self):
        wire = b"\0\0\x07\xe2" + b"\0\0\0\x06no no\0"
        self.assertEqual(T.RETURN_CODE2.unpack_exact(wire),
                         {"return_code": 2018, "err_msg": "no no"})


class DerivationTests(unittest.TestCase):
    """A 21.08 table is the 22.05 one minus its new rows (how a new version is added)."""

    def test_job_desc_2108(self):
        older = T.JOB_DESC.replace(name="job_desc_21_08", drop=("prefer",))
        self.assertIsInstance(older, Struct)
        self.assertEqual(len(older.fields), 117)
        self.assertEqual(len(older.pack({})), len(T.JOB_DESC.pack({})) - 4)
        self.assertIs(older.prepare, T.JOB_DESC.prepare)


# -- property: every table round-trips arbitrary records built from the table itself ------

_TEXT = st.one_of(st.none(), st.text(max_size=8).filter(lambda s: "\0" not in s))
_SCALARS = {
    "U8": st.integers(0, 2 ** 8 - 1), "U16": st.integers(0, 2 ** 16 - 1),
    "U32": st.integers(0, 2 ** 32 - 1), "U64": st.integers(0, 2 ** 64 - 1),
    "I32": st.integers(-2 ** 31, 2 ** 31 - 1), "TIME": st.integers(-2 ** 63, 2 ** 63 - 1),
    "BOOL": st.booleans(),
    # multiples of 1/1024 survive the x1e6 / 1e6 trip exactly
    "DOUBLE": st.integers(-2 ** 20, 2 ** 20).map(lambda x: x / 1024),
}
_ARRAYS = {"U16_ARRAY": 16, "U32_ARRAY": 32, "U64_ARRAY": 64}


def strategy(ftype):
    """Values of a field type, derived from the table (the table is the only source)."""
    name = repr(ftype)
    if name in _SCALARS:
        return _SCALARS[name]
    if name in _ARRAYS:
        return st.lists(st.integers(0, 2 ** _ARRAYS[name] - 1), max_size=3)
    if ftype is S.STR:
        return _TEXT
    if ftype is S.STR_ARRAY:
        return st.lists(_TEXT, max_size=3)
    if ftype is S.MEM:
        return st.binary(max_size=6)
    if ftype is S.BITSTR:
        return st.one_of(st.none(), st.integers(1, 40).flatmap(
            lambda n: st.sets(st.integers(0, n - 1)).map(
                lambda s, n=n: Bitmap.from_indexes(n, s))))
    if isinstance(ftype, S.List):
        items = st.lists(strategy(ftype.element), max_size=2)
        return st.one_of(st.none(), items) if ftype.null is not None else items
    if isinstance(ftype, S.Counted):
        return st.lists(strategy(ftype.element), max_size=2)
    if isinstance(ftype, S.Optional):
        return st.one_of(st.none(), struct_strategy(ftype.struct))
    if isinstance(ftype, S.Tagged):
        return st.sampled_from(sorted(ftype.variants)).flatmap(
            lambda tag: struct_strategy(ftype.variants[tag]).map(
                lambda d, tag=tag: {**d, ftype.tag_name: tag}))
    if isinstance(ftype, S.AbsentIf):
        first = ftype.struct.fields[0].name
        return st.one_of(st.none(), struct_strategy(ftype.struct).filter(
            lambda d: d[first] != ftype.sentinel))
    if isinstance(ftype, S.Struct):
        return struct_strategy(ftype)
    raise AssertionError(f"no strategy for {ftype!r}")


def struct_strategy(table):
    counts = {f.type.count_field for f in table.fields if isinstance(f.type, S.Counted)}
    parts = {}
    for f in table.fields:
        if f.name in counts or isinstance(f.type, S.Unsupported):
            continue  # counts are filled in by pack
        if isinstance(f.type, S.Optional) and f.type.flatten:
            present = 1 if f.type.present is None else f.type.present
            parts[f.name] = st.sampled_from([present, f.type.absent])
            for sub in f.type.struct.fields:
                parts[sub.name] = strategy(sub.type)
            continue
        parts[f.name] = strategy(f.type)
    return st.fixed_dictionaries(parts)


def expected_of(table, record):
    """What decoding must give back: the record, with counts, prepare() applied, and the
    fields of an absent flattened optional as None."""
    if table.prepare is not None:
        record = table.prepare(record)
    out = dict(record)
    for f in table.fields:
        t = f.type
        if isinstance(t, S.Counted):
            out[t.count_field] = len(record[f.name])
        if isinstance(t, S.Optional) and t.flatten:
            if record[f.name] == t.absent:
                for sub in t.struct.fields:
                    out[sub.name] = None
            continue
        if f.name in record and record[f.name] is not None:
            out[f.name] = expected_value(t, record[f.name])
    return out


def expected_value(ftype, value):
    if isinstance(ftype, S.Struct):
        return expected_of(ftype, value)
    if isinstance(ftype, (S.List, S.Counted)):
        return [expected_value(ftype.element, v) for v in value]
    if isinstance(ftype, (S.Optional, S.AbsentIf)):
        return expected_of(ftype.struct, value)
    if isinstance(ftype, S.Tagged):
        variant = ftype.variants[value[ftype.tag_name]]
        rest = {k: v for k, v in value.items() if k != ftype.tag_name}
        return {**expected_of(variant, rest), ftype.tag_name: value[ftype.tag_name]}
    return value


_TABLES = sorted({t for t in T.BODIES.values() if t is not None and t is not T.FED_INFO},
                 key=lambda t: t.name)


class EveryTablePropertyTests(unittest.TestCase):

    @settings(max_examples=50, deadline=None)
    @given(st.data())
    def test_round_trip(self, data):
        for table in _TABLES:
            record = data.draw(struct_strategy(table), label=table.name)
            wire = table.pack(record)
            decoded = table.unpack_exact(wire)
            self.assertEqual(decoded, expected_of(table, record), table.name)
            self.assertEqual(table.pack(decoded), wire, table.name)
