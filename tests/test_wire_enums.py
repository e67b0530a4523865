"""Slurm's enumerations and their spellings (slurmrest.wire.enums).

Four kinds of evidence: the tables against the protocol reference (Appendix A); hand-picked
values whose spelling is known; the vocabulary of the real slurmrestd's sample responses; and,
where the installed Slurm 22.05 library is present, its own string functions called on many
values (test support only: slurmrest itself never loads libslurm). The last class checks the
decoders against the running test cluster.
"""

import ctypes
import json
import os
import random
import re
import urllib.request

from twisted.trial import unittest

from slurmrest.wire import enums as E
from slurmrest.wire.primitives import NO_VAL, NO_VAL16

_PROTOCOL_DOC = os.environ.get("SLURMREST_PROTOCOL_DOC",
                               "/work/shared/docs/slurm-22.05-ctld-protocol.md")
_SAMPLES = os.environ.get("SLURMREST_REFERENCE_SAMPLES", "/work/shared/reference/samples")
_LIBSLURM = os.environ.get("SLURMREST_LIBSLURM",
                           "/usr/lib/x86_64-linux-gnu/slurm-wlm/libslurmfull.so")

# Appendix A's two extraction slips (see enums' docstring): number -> the C string.
_APPENDIX_A_ERRATA = {43: "QOSGrpJobsLimit", 60: "AssocGrpJobsLimit"}


def _appendix_a_rows():
    if not os.path.exists(_PROTOCOL_DOC):
        raise unittest.SkipTest(f"{_PROTOCOL_DOC} not available")
    with open(_PROTOCOL_DOC, encoding="utf-8") as f:
        section = f.read().split("## Appendix A", 1)[1].split("## Appendix B", 1)[0]
    return [(int(m[1]), m[2], m[3])
            for m in re.finditer(r"^\| (\d+) \| (\w+) \| (.*) \|$", section, re.M)]


def _sample(name):
    path = os.path.join(_SAMPLES, name)
    if not os.path.exists(path):
        raise unittest.SkipTest(f"{path} not available")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class JobReasonTableTests(unittest.TestCase):

    def test_every_appendix_a_row(self):
        rows = _appendix_a_rows()
        self.assertEqual(len(rows), 199)
        self.assertEqual(len(E.JobReason), 199)
        for number, name, text in rows:
            self.assertEqual(E.JobReason[name], number)
            self.assertEqual(E.job_reason_string(number),
                             _APPENDIX_A_ERRATA.get(number, text))

    def test_spellings(self):
        self.assertEqual(E.job_reason_string(E.JobReason.WAIT_NO_REASON), "None")
        self.assertEqual(E.job_reason_string(1), "Priority")
        self.assertEqual(E.job_reason_string(E.JobReason.WAIT_HELD_USER), "JobHeldUser")
        self.assertEqual(E.job_reason_string(E.JobReason.WAIT_HELD), "JobHeldAdmin")
        self.assertEqual(E.job_reason_string(E.JobReason.FAIL_LAUNCH), "JobLaunchFailure")
        self.assertEqual(E.job_reason_string(E.JobReason.WAIT_QOS_GRP_JOB), "QOSGrpJobsLimit")
        self.assertEqual(E.job_reason_string(E.JobReason.WAIT_ASSOC_GRP_JOB),
                         "AssocGrpJobsLimit")
        # Unknown numbers print in decimal, as job_reason_string does.
        self.assertEqual(E.job_reason_string(199), "199")
        self.assertEqual(E.job_reason_string(NO_VAL16), str(NO_VAL16))

    def test_reason_num(self):
        """Round trip, and the shared strings resolve to the reason Slurm picks."""
        for reason in E.JobReason:
            text = E.job_reason_string(reason)
            if reason == E.JobReason.FAIL_DEFER:
                self.assertRaises(ValueError, E.job_reason_num, text)
            elif text not in ("PartitionDown", "AssocMaxBBMinutesPerJob"):
                self.assertEqual(E.job_reason_num(text), reason)
        self.assertEqual(E.job_reason_num("partitiondown"), E.JobReason.WAIT_PART_DOWN)
        self.assertEqual(E.job_reason_num("JOBHELDUSER"), E.JobReason.WAIT_HELD_USER)
        self.assertRaises(ValueError, E.job_reason_num, "NoSuchReason")


class JobStateTests(unittest.TestCase):

    def test_base_states(self):
        expected = ["PENDING", "RUNNING", "SUSPENDED", "COMPLETED", "CANCELLED", "FAILED",
                    "TIMEOUT", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE",
                    "OUT_OF_MEMORY"]
        self.assertEqual([E.job_state_string(v) for v in range(E.JOB_END)], expected)
        self.assertEqual([E.job_state_base(v) for v in range(E.JOB_END)], expected)
        self.assertEqual(E.job_state_string(E.JOB_END), "?")
        self.assertEqual(E.job_state_string_compact(E.JOB_PENDING), "PD")
        self.assertEqual(E.job_state_string_compact(E.JOB_OOM), "OOM")

    def test_flag_shown_first(self):
        """A flag replaces the base name, COMPLETING first of all."""
        state = E.JOB_RUNNING | E.JOB_COMPLETING | E.JOB_CONFIGURING
        self.assertEqual(E.job_state_string(state), "COMPLETING")
        self.assertEqual(E.job_state_string_compact(state), "CG")
        self.assertEqual(E.job_state_string(E.JOB_PENDING | E.JOB_REQUEUE), "REQUEUED")
        self.assertEqual(E.job_state_string(E.JOB_RUNNING | E.JOB_CONFIGURING), "CONFIGURING")
        self.assertEqual(E.job_state_string(E.JOB_PENDING | E.JOB_REQUEUE_HOLD
                                            | E.JOB_SPECIAL_EXIT), "REQUEUE_HOLD")
        # Flags job_state_string does not show leave the base name.
        self.assertEqual(E.job_state_string(E.JOB_FAILED | E.JOB_LAUNCH_FAILED
                                            | E.JOB_UPDATE_DB), "FAILED")

    def test_base_and_flags(self):
        state = E.JOB_RUNNING | E.JOB_STAGE_OUT | E.JOB_COMPLETING | E.JOB_LAUNCH_FAILED
        self.assertEqual(E.job_state_base(state), "RUNNING")
        self.assertEqual(E.job_state_flags(state), ["LAUNCH_FAILED", "COMPLETING", "STAGE_OUT"])
        self.assertEqual(E.job_state_string_complete(state),
                         "RUNNING,LAUNCH_FAILED,COMPLETING,STAGE_OUT")
        self.assertEqual(E.job_state_flags(E.JOB_PENDING), [])

    def test_state_num_round_trip(self):
        for base in range(E.JOB_END):
            self.assertEqual(E.job_state_num(E.job_state_string(base)), base)
            self.assertEqual(E.job_state_num(E.job_state_string_compact(base).lower()), base)
        for bit, _ in E.JOB_STATE_FLAG_NAMES:
            if bit in (E.JOB_LAUNCH_FAILED, E.JOB_UPDATE_DB, E.JOB_POWER_UP_NODE,
                       E.JOB_RECONFIG_FAIL):
                continue  # never shown by job_state_string, so job_state_num lacks them
            self.assertEqual(E.job_state_num(E.job_state_string(bit)), bit)
        self.assertRaises(ValueError, E.job_state_num, "LAUNCH_FAILED")
        self.assertRaises(ValueError, E.job_state_num, "bogus")

    def test_predicates(self):
        self.assertFalse(E.job_state_started(E.JOB_PENDING))
        self.assertTrue(E.job_state_started(E.JOB_RUNNING))
        self.assertFalse(E.job_state_finished(E.JOB_SUSPENDED))
        self.assertTrue(E.job_state_finished(E.JOB_CANCELLED | E.JOB_COMPLETING))
        self.assertFalse(E.job_state_completed(E.JOB_CANCELLED | E.JOB_COMPLETING))
        self.assertTrue(E.job_state_completed(E.JOB_COMPLETE))


class NodeStateTests(unittest.TestCase):

    def test_base_names(self):
        self.assertEqual(E.node_state_base_name(E.NODE_STATE_IDLE), "IDLE")
        self.assertEqual(E.node_state_base_name(E.NODE_STATE_MIXED | E.NODE_STATE_DRAIN),
                         "MIXED")
        self.assertEqual(E.node_state_base_name(E.NODE_STATE_ERROR), "ERROR")
        self.assertEqual(E.node_state_base_name(E.NODE_STATE_END), "INVALID")
        # next_state is NO_VAL on a node not being rebooted: slurmrestd says "invalid".
        self.assertEqual(E.node_state_base_name(NO_VAL), "INVALID")
        self.assertFalse(E.node_state_valid_base(NO_VAL))
        self.assertTrue(E.node_state_valid_base(E.NODE_STATE_UNKNOWN))

    def test_flag_names_in_table_order(self):
        state = (E.NODE_STATE_IDLE | E.NODE_STATE_NO_RESPOND | E.NODE_STATE_DRAIN
                 | E.NODE_STATE_CLOUD | E.NODE_STATE_POWERED_DOWN)
        self.assertEqual(E.node_state_flag_names(state),
                         ["CLOUD", "DRAIN", "POWERED_DOWN", "NOT_RESPONDING"])
        self.assertEqual(E.node_state_string_complete(state),
                         "IDLE+CLOUD+DRAIN+POWERED_DOWN+NOT_RESPONDING")
        self.assertEqual(E.node_state_flag_names(E.NODE_STATE_IDLE), [])

    def test_unnamed_flags(self):
        """Bits Slurm has no name for come last, one "?" each."""
        state = (E.NODE_STATE_DOWN | E.NODE_STATE_UNDRAIN | E.NODE_STATE_REBOOT_CANCEL
                 | E.NODE_STATE_DRAIN | (1 << 31))
        self.assertEqual(E.node_state_flag_names(state), ["DRAIN", "?", "?", "?"])

    def test_node_state_string(self):
        cases = {
            E.NODE_STATE_IDLE: "IDLE",
            E.NODE_STATE_IDLE | E.NODE_STATE_DRAIN: "DRAINED",
            E.NODE_STATE_ALLOCATED | E.NODE_STATE_DRAIN: "DRAINING",
            E.NODE_STATE_MIXED | E.NODE_STATE_DRAIN: "DRAINING",
            E.NODE_STATE_IDLE | E.NODE_STATE_DRAIN | E.NODE_STATE_COMPLETING: "DRAINING",
            E.NODE_STATE_IDLE | E.NODE_STATE_DRAIN | E.NODE_STATE_NO_RESPOND: "DRAINED*",
            E.NODE_STATE_DOWN | E.NODE_STATE_NO_RESPOND: "DOWN*",
            E.NODE_STATE_DOWN | E.NODE_STATE_POWERED_DOWN | E.NODE_STATE_NO_RESPOND: "DOWN~",
            E.NODE_STATE_IDLE | E.NODE_STATE_POWERED_DOWN: "IDLE~",
            E.NODE_STATE_IDLE | E.NODE_STATE_POWERING_UP: "IDLE#",
            E.NODE_STATE_ALLOCATED | E.NODE_STATE_COMPLETING: "ALLOCATED+",
            E.NODE_STATE_IDLE | E.NODE_STATE_COMPLETING: "COMPLETING",
            E.NODE_STATE_MIXED: "MIXED",
            E.NODE_STATE_MIXED | E.NODE_STATE_PLANNED: "MIXED-",
            E.NODE_STATE_IDLE | E.NODE_STATE_PLANNED: "PLANNED",
            E.NODE_STATE_IDLE | E.NODE_STATE_RES: "RESERVED",
            E.NODE_STATE_IDLE | E.NODE_STATE_MAINT: "MAINT",
            E.NODE_STATE_ALLOCATED | E.NODE_STATE_MAINT: "ALLOCATED$",
            E.NODE_STATE_IDLE | E.NODE_STATE_REBOOT_REQUESTED: "REBOOT",
            E.NODE_STATE_IDLE | E.NODE_STATE_REBOOT_ISSUED: "REBOOT^",
            E.NODE_STATE_MIXED | E.NODE_STATE_REBOOT_REQUESTED: "MIXED@",
            E.NODE_STATE_IDLE | E.NODE_STATE_FAIL: "FAIL",
            E.NODE_STATE_ALLOCATED | E.NODE_STATE_FAIL: "FAILING",
            E.NODE_STATE_IDLE | E.NODE_STATE_INVALID_REG: "INVAL",
            E.NODE_STATE_FUTURE: "FUTURE",
            E.NODE_STATE_UNKNOWN: "UNKNOWN",
            E.NODE_STATE_UNKNOWN | E.NODE_STATE_NO_RESPOND: "UNKNOWN*",
            E.NODE_STATE_CLOUD: "CLOUD",
            E.NODE_STATE_REBOOT_CANCEL: "CANCEL_REBOOT",
            E.NODE_RESUME: "RESUME",
            E.NODE_STATE_ERROR: "?",
        }
        for state, text in cases.items():
            self.assertEqual(E.node_state_string(state), text, hex(state))

    def test_from_name(self):
        """What scontrol update NodeName=… State=… sends."""
        cases = {
            "DRAIN": E.NODE_STATE_DRAIN, "drain": E.NODE_STATE_DRAIN,
            "DRA": E.NODE_STATE_DRAIN,
            "RESUME": E.NODE_RESUME, "res": E.NODE_RESUME,
            "UNDRAIN": E.NODE_STATE_UNDRAIN,
            "DOWN": E.NODE_STATE_DOWN, "down": E.NODE_STATE_DOWN,
            "IDLE": E.NODE_STATE_IDLE,
            "FAIL": E.NODE_STATE_FAIL,
            "FUTURE": E.NODE_STATE_FUTURE,
            "NoResp": E.NODE_STATE_NO_RESPOND,
            "CANCEL_REBOOT": E.NODE_STATE_REBOOT_CANCEL,
            "POWER_DOWN": E.NODE_STATE_POWER_DOWN,
            "POWER_D": E.NODE_STATE_POWER_DOWN,
            "POWER_UP": E.NODE_STATE_POWER_UP,
            "POWER_DOWN_ASAP": E.NODE_STATE_POWER_DOWN | E.NODE_STATE_POWER_DRAIN,
            "POWER_DOWN_FORCE": E.NODE_STATE_POWER_DOWN | E.NODE_STATE_POWERED_DOWN,
            "ALLOC": E.NODE_STATE_ALLOCATED,
            "MIXED": E.NODE_STATE_MIXED,
            "UNKNOWN": E.NODE_STATE_UNKNOWN,
        }
        for word, value in cases.items():
            self.assertEqual(E.node_state_from_name(word), value, word)
        for word in ("", "DR", "POW", "DRAINX", "bogus", "MAINT", "?"):
            self.assertRaises(ValueError, E.node_state_from_name, word)


class FlagWordTests(unittest.TestCase):

    TABLES = ("JOB_STATE_FLAG_NAMES", "NODE_STATE_FLAG_NAMES", "SHOW_FLAG_NAMES",
              "JOB_BITFLAG_NAMES", "RESTD_JOB_FLAG_NAMES", "PARTITION_FLAG_NAMES",
              "RESTD_PARTITION_FLAG_NAMES", "RESERVATION_FLAG_NAMES",
              "RESTD_RESERVATION_FLAG_NAMES", "KILL_FLAG_NAMES", "MAIL_TYPE_NAMES",
              "PRIVATE_DATA_NAMES", "X11_FORWARD_NAMES")

    def test_tables_are_single_bits_with_unique_names(self):
        for table_name in self.TABLES:
            table = getattr(E, table_name)
            bits = [bit for bit, _ in table]
            names = [name for _, name in table]
            self.assertEqual(len(set(bits)), len(bits), table_name)
            self.assertEqual(len(set(names)), len(names), table_name)
            for bit in bits:
                self.assertEqual(bin(bit).count("1"), 1, (table_name, hex(bit)))

    def test_round_trip(self):
        rng = random.Random(22058)
        for table_name in self.TABLES:
            table = getattr(E, table_name)
            everything = 0
            for bit, _ in table:
                everything |= bit
            for _ in range(50):
                value = rng.getrandbits(64) & everything
                names = E.flag_names(value, table)
                self.assertEqual(E.flags_from_names(names, table), value, table_name)
                self.assertEqual(E.flags_from_names([n.lower() for n in names], table), value)

    def test_flags_from_names_rejects_unknown(self):
        self.assertRaises(ValueError, E.flags_from_names, ["MAINT", "BOGUS"],
                          E.RESERVATION_FLAG_NAMES)
        self.assertRaises(ValueError, E.flags_from_names, ["maint"], E.RESERVATION_FLAG_NAMES,
                          ignore_case=False)

    def test_job_bitflags(self):
        self.assertEqual(E.JOB_BITFLAG_NAMES[-1], (1 << 35, "JOB_SEND_SCRIPT"))
        value = E.JOB_ACCRUE_OVER | E.JOB_WAS_RUNNING | E.BACKFILL_LAST | E.JOB_SEND_ENV
        self.assertEqual(E.flag_names(value, E.RESTD_JOB_FLAG_NAMES),
                         ["JOB_ACCRUE_OVER", "JOB_WAS_RUNNING"])
        self.assertEqual(E.flag_names(value, E.JOB_BITFLAG_NAMES),
                         ["JOB_SEND_ENV", "JOB_ACCRUE_OVER", "JOB_WAS_RUNNING", "BACKFILL_LAST"])

    def test_show_flags(self):
        self.assertEqual(E.flag_names(0x13, E.SHOW_FLAG_NAMES),
                         ["SHOW_ALL", "SHOW_DETAIL", "SHOW_LOCAL"])

    def test_partitions(self):
        self.assertEqual(E.flag_names(E.PART_FLAG_DEFAULT | E.PART_FLAG_LLN,
                                      E.RESTD_PARTITION_FLAG_NAMES),
                         ["default", "least_loaded_nodes"])
        self.assertEqual(E.partition_state_string(E.PARTITION_UP), "UP")
        self.assertEqual(E.partition_state_string(E.PARTITION_DRAIN), "DRAIN")
        self.assertEqual(E.partition_state_string(E.PARTITION_INACTIVE), "INACTIVE")
        self.assertEqual(E.partition_state_string(7), "UNKNOWN")

    def test_preempt_mode(self):
        self.assertEqual(E.preempt_mode_string(E.PREEMPT_MODE_OFF), "OFF")
        self.assertEqual(E.preempt_mode_string(E.PREEMPT_MODE_GANG | E.PREEMPT_MODE_SUSPEND),
                         "GANG,SUSPEND")
        self.assertEqual(E.preempt_mode_string(E.PREEMPT_MODE_WITHIN | 0x10),
                         "WITHIN,UNKNOWN")
        self.assertEqual(E.preempt_mode_string(0x3), "UNKNOWN")
        self.assertEqual(E.preempt_mode_num("gang,suspend"), 0x8001)
        self.assertEqual(E.preempt_mode_num("OFF"), 0)
        for bad in ("gang,within", "suspend,requeue", "bogus"):
            self.assertRaises(ValueError, E.preempt_mode_num, bad)
        self.assertEqual(E.restd_preempt_mode_names(NO_VAL16), ["disabled"])
        self.assertEqual(E.restd_preempt_mode_names(0), ["disabled"])
        self.assertEqual(E.restd_preempt_mode_names(0x8002), ["requeue", "gang_schedule"])
        self.assertEqual(E.restd_preempt_mode_names(E.PREEMPT_MODE_CANCEL), [])

    def test_reservation_flags(self):
        flags = E.RESERVE_FLAG_SPEC_NODES | E.RESERVE_FLAG_MAINT | E.RESERVE_FLAG_FLEX
        self.assertEqual(E.reservation_flags_string(flags), "MAINT,FLEX,SPEC_NODES")
        purge = E.RESERVE_FLAG_PURGE_COMP | E.RESERVE_FLAG_MAGNETIC
        self.assertEqual(E.reservation_flags_string(purge), "PURGE_COMP,MAGNETIC")
        self.assertEqual(E.reservation_flags_string(purge, purge_comp_time=300),
                         "PURGE_COMP=00:05:00,MAGNETIC")
        self.assertEqual(E.reservation_flags_string(purge, purge_comp_time=90061),
                         "PURGE_COMP=1-01:01:01,MAGNETIC")
        self.assertEqual(E.flag_names(purge, E.RESTD_RESERVATION_FLAG_NAMES), ["MAGNETIC"])
        # Request-only bits print nothing.
        self.assertEqual(E.reservation_flags_string(E.RESERVE_FLAG_NO_FLEX
                                                    | E.RESERVE_FLAG_SKIP), "")

    def test_mail_type(self):
        self.assertEqual(E.mail_type_string(0), "NONE")
        self.assertEqual(E.mail_type_string(E.MAIL_JOB_END | E.MAIL_JOB_BEGIN), "BEGIN,END")
        self.assertEqual(E.mail_type_string(E.MAIL_JOB_TIME100 | E.MAIL_ARRAY_TASKS),
                         "ARRAY_TASKS,TIME_LIMIT")
        self.assertEqual(E.mail_type_from_string("begin,END"), 0x3)
        self.assertEqual(E.mail_type_from_string("ALL"), 0x50F)
        self.assertEqual(E.mail_type_from_string("NONE"), 0)
        self.assertEqual(E.mail_type_from_string("begin,bogus"), E.MAIL_JOB_BEGIN)
        self.assertRaises(ValueError, E.mail_type_from_string, "bogus")
        self.assertRaises(ValueError, E.mail_type_from_string, "")

    def test_select_type_and_private_data(self):
        self.assertEqual(E.select_type_param_string(E.CR_CORE | E.CR_MEMORY), "CR_CORE_MEMORY")
        self.assertEqual(E.select_type_param_string(E.CR_CPU | E.CR_LLN | E.CR_PACK_NODES),
                         "CR_CPU,CR_LLN,CR_PACK_NODES")
        self.assertEqual(E.select_type_param_string(0), "NONE")
        self.assertEqual(E.private_data_string(0), "none")
        self.assertEqual(E.private_data_string(E.PRIVATE_DATA_JOBS | E.PRIVATE_DATA_USAGE),
                         "jobs,usage")

    def test_small_job_enums(self):
        self.assertEqual([E.job_share_string(v) for v in (0, 1, 2, 3, NO_VAL16)],
                         ["NO", "YES", "USER", "MCS", "OK"])
        self.assertEqual([E.restd_job_shared(v) for v in (0, 1, 2, 3, NO_VAL16, 9)],
                         ["none", "shared", "user", "mcs", None, 9])
        self.assertIsNone(E.restd_profile_names(0))
        self.assertEqual(E.restd_profile_names(1), ["None"])
        self.assertEqual(E.restd_profile_names(E.ACCT_GATHER_PROFILE_TASK
                                               | E.ACCT_GATHER_PROFILE_ENERGY),
                         ["Energy", "Task"])
        self.assertEqual(E.OPEN_MODE_NAMES[E.OPEN_MODE_APPEND], "append")

    def test_secs2time_str(self):
        self.assertEqual(E.secs2time_str(0), "00:00:00")
        self.assertEqual(E.secs2time_str(86400), "1-00:00:00")
        self.assertEqual(E.secs2time_str(0xFFFFFFFF), "UNLIMITED")


class SignalTests(unittest.TestCase):

    def test_names_and_numbers(self):
        for text in ("KILL", "SIGKILL", "kill", "SigKill", " SIGKILL ", "9", " 9\n", "+9"):
            self.assertEqual(E.signal_number(text), 9, repr(text))
        self.assertEqual(E.signal_number(9), 9)
        self.assertEqual(E.signal_number("SIGUSR1"), 10)
        self.assertEqual(E.signal_number("TERM"), 15)
        self.assertEqual(E.signal_number("XCPU"), 24)
        self.assertEqual(E.signal_number("63"), 63)

    def test_rejects(self):
        """slurmrestd's own words: unknown names are signal 0."""
        for text, number in (("bogus", 0), ("", 0), ("SIGKILLX", 0), ("9x", 0), ("SIG9", 0),
                             ("WINCH", 0), ("0", 0), ("-9", -9), ("64", 64), ("0x9", 0)):
            with self.assertRaises(ValueError) as caught:
                E.signal_number(text)
            self.assertEqual(str(caught.exception), f"invalid signal: {number}")
        self.assertRaises(ValueError, E.signal_number, 0)
        self.assertRaises(TypeError, E.signal_number, True)

    def test_c_integer_conversion(self):
        """Like sig_name2num's (int) cast of strtol's long."""
        self.assertEqual(E.sig_name2num(str((1 << 32) + 9)), 9)
        self.assertEqual(E.sig_name2num("9" * 30), -1)

    def test_signal_name(self):
        self.assertEqual(E.signal_name(9), "KILL")
        self.assertEqual(E.signal_name(10), "USR1")
        self.assertEqual(E.signal_name(34), "34")


class ReferenceSampleTests(unittest.TestCase):
    """Every spelling the real slurmrestd printed is one these decoders can produce."""

    def test_jobs(self):
        job_states = {E.job_state_string(v) for v in range(E.JOB_END)}
        job_states |= {name for _, name, _ in E._JOB_STATE_SHOWN_FLAGS}
        reasons = set(E._JOB_REASON_STRINGS)
        restd_flags = {name for _, name in E.RESTD_JOB_FLAG_NAMES}
        seen = 0
        for name in os.listdir(_SAMPLES) if os.path.isdir(_SAMPLES) else ():
            if not (name.startswith("GET_slurm_v0.0.38_job") and name.endswith(".json")):
                continue
            for job in _sample(name).get("jobs", []):
                seen += 1
                self.assertIn(job["job_state"], job_states)
                self.assertIn(job["state_reason"], reasons)
                self.assertLessEqual(set(job["flags"]), restd_flags)
                self.assertEqual(
                    E.flag_names(E.flags_from_names(job["show_flags"], E.SHOW_FLAG_NAMES),
                                 E.SHOW_FLAG_NAMES), job["show_flags"])
        if not seen:
            raise unittest.SkipTest("no job samples")

    def test_a_held_job(self):
        """rest-held: PENDING, JobHeldUser; its request carried SHOW_ALL|SHOW_DETAIL|SHOW_LOCAL."""
        job = next(j for j in _sample("GET_slurm_v0.0.38_job_{job_id}__after-update.json")["jobs"]
                   if j["name"] == "rest-held")
        self.assertEqual(job["job_state"], E.job_state_string(E.JOB_PENDING))
        self.assertEqual(job["state_reason"], E.job_reason_string(E.JobReason.WAIT_HELD_USER))
        self.assertEqual(job["show_flags"], E.flag_names(0x13, E.SHOW_FLAG_NAMES))

    def test_nodes(self):
        nodes = _sample("GET_slurm_v0.0.38_nodes.json")["nodes"]
        for node in nodes:
            self.assertIn(node["state"], {name.lower() for name in
                                          E.NODE_STATE_BASE_NAMES.values()})
            # No reboot pending: next_state is NO_VAL.
            self.assertEqual(node["next_state_after_reboot"],
                             E.node_state_base_name(NO_VAL).lower())
            self.assertEqual(node["next_state_after_reboot_flags"], [])
        states = {node["name"]: node["state"] for node in nodes}
        self.assertEqual(states["n2"], E.node_state_base_name(E.NODE_STATE_IDLE).lower())

    def test_partitions(self):
        parts = {p["name"]: p for p in _sample("GET_slurm_v0.0.38_partitions.json")["partitions"]}
        self.assertEqual(parts["debug"]["flags"],
                         E.flag_names(E.PART_FLAG_DEFAULT, E.RESTD_PARTITION_FLAG_NAMES))
        self.assertEqual(parts["long"]["flags"], [])
        self.assertEqual(parts["debug"]["state"], E.partition_state_string(E.PARTITION_UP))
        self.assertEqual(parts["debug"]["preemption_mode"],
                         E.restd_preempt_mode_names(E.PREEMPT_MODE_OFF))

    def test_reservations(self):
        resv = _sample("GET_slurm_v0.0.38_reservations.json")["reservations"][0]
        flags = E.flags_from_names(resv["flags"], E.RESTD_RESERVATION_FLAG_NAMES)
        self.assertEqual(flags, E.RESERVE_FLAG_MAINT | E.RESERVE_FLAG_SPEC_NODES)
        self.assertEqual(E.flag_names(flags, E.RESTD_RESERVATION_FLAG_NAMES), resv["flags"])


def _libslurm():
    """The installed Slurm 22.05 library (API 38), or SkipTest."""
    if not os.path.exists(_LIBSLURM):
        raise unittest.SkipTest(f"{_LIBSLURM} not installed")
    lib = ctypes.CDLL(_LIBSLURM)
    lib.slurm_api_version.restype = ctypes.c_long
    if lib.slurm_api_version() >> 16 != 38:
        raise unittest.SkipTest("installed libslurm is not Slurm 22.05 (API 38)")
    return lib


def _c_function(lib, name, restype, *argtypes):
    function = getattr(lib, name)
    function.restype = restype
    function.argtypes = list(argtypes)
    return function


class _ReserveInfo(ctypes.Structure):
    """``reserve_info_t`` of 22.05, for reservation_flags_string()."""
    _fields_ = [("accounts", ctypes.c_char_p), ("burst_buffer", ctypes.c_char_p),
                ("core_cnt", ctypes.c_uint32), ("core_spec_cnt", ctypes.c_uint32),
                ("core_spec", ctypes.c_void_p), ("end_time", ctypes.c_int64),
                ("features", ctypes.c_char_p), ("flags", ctypes.c_uint64),
                ("groups", ctypes.c_char_p), ("licenses", ctypes.c_char_p),
                ("max_start_delay", ctypes.c_uint32), ("name", ctypes.c_char_p),
                ("node_cnt", ctypes.c_uint32), ("node_inx", ctypes.c_void_p),
                ("node_list", ctypes.c_char_p), ("partition", ctypes.c_char_p),
                ("purge_comp_time", ctypes.c_uint32), ("start_time", ctypes.c_int64),
                ("resv_watts", ctypes.c_uint32), ("tres_str", ctypes.c_char_p),
                ("users", ctypes.c_char_p)]


class LibslurmCrossCheckTests(unittest.TestCase):
    """The decoders against Slurm's own C functions, over many values."""

    def setUp(self):
        self.lib = _libslurm()
        self.rng = random.Random(2205)

    def _text(self, name, argtype, values, ours, restype=ctypes.c_char_p):
        c = _c_function(self.lib, name, restype, argtype)
        for value in values:
            result = c(value)
            if restype is not ctypes.c_char_p:
                result = ctypes.string_at(result)  # xmalloc'd; a test may leak it
            self.assertEqual(result.decode(), ours(value), f"{name}({value:#x})")

    def test_job_state_strings(self):
        values = list(range(0, 256))
        values += [base | (1 << bit) for base in range(14) for bit in range(8, 32)]
        values += [self.rng.getrandbits(32) for _ in range(5000)]
        self._text("job_state_string", ctypes.c_uint32, values, E.job_state_string)
        self._text("job_state_string_compact", ctypes.c_uint32, values,
                   E.job_state_string_compact)
        self._text("job_state_string_complete", ctypes.c_uint32, values[:2000],
                   E.job_state_string_complete, restype=ctypes.c_void_p)

    def test_node_state_strings(self):
        values = list(range(0, 16))
        values += [base | (1 << i) | (1 << j) for base in range(8)
                   for i in range(4, 32) for j in range(i, 32)]
        values += [self.rng.getrandbits(32) & self.rng.getrandbits(32) for _ in range(20000)]
        self._text("node_state_string", ctypes.c_uint32, values, E.node_state_string)
        self._text("node_state_string_complete", ctypes.c_uint32, values[:3000],
                   E.node_state_string_complete, restype=ctypes.c_void_p)

    def test_job_reasons(self):
        self._text("job_reason_string", ctypes.c_int, range(0, 260), E.job_reason_string)
        c = _c_function(self.lib, "job_reason_num", ctypes.c_uint32, ctypes.c_char_p)
        for text in set(E._JOB_REASON_STRINGS) | {"bogus", "partitiondown", "JOBHELDUSER"}:
            try:
                ours = E.job_reason_num(text)
            except ValueError:
                ours = NO_VAL
            self.assertEqual(c(text.encode()), ours, text)

    def test_job_state_num(self):
        c = _c_function(self.lib, "job_state_num", ctypes.c_uint32, ctypes.c_char_p)
        words = [*E.JOB_STATE_NAMES, *E.JOB_STATE_COMPACT_NAMES,
                 *(name for _, name in E.JOB_STATE_FLAG_NAMES), "cg", "requeued", "?", "x"]
        for word in words:
            try:
                ours = E.job_state_num(word)
            except ValueError:
                ours = NO_VAL
            self.assertEqual(c(word.encode()), ours, word)

    def test_preempt_mode(self):
        values = [0, 1, 2, 3, 8, 0x10, 0x4000, 0x8000, 0xC000, NO_VAL16]
        values += [high | low for high in (0x4000, 0x8000) for low in (1, 2, 8, 0x10)]
        self._text("preempt_mode_string", ctypes.c_uint16, values, E.preempt_mode_string)
        c = _c_function(self.lib, "preempt_mode_num", ctypes.c_uint16, ctypes.c_char_p)
        for text in ("off", "cluster", "gang", "GANG,suspend", "within,requeue", "cancel",
                     "on", "suspend,requeue", "gang,within", "bogus", "", ",gang,,cancel"):
            try:
                ours = E.preempt_mode_num(text)
            except ValueError:
                ours = NO_VAL16
            self.assertEqual(c(text.encode()), ours, text)

    def test_select_type_param(self):
        bits = [E.CR_CPU, E.CR_SOCKET, E.CR_CORE, E.CR_BOARD, E.CR_MEMORY, E.CR_OTHER_CONS_RES,
                E.CR_ONE_TASK_PER_CORE, E.CR_PACK_NODES, E.CR_OTHER_CONS_TRES,
                E.CR_CORE_DEFAULT_DIST_BLOCK, E.CR_LLN]
        values = [sum(b for i, b in enumerate(bits) if mask >> i & 1)
                  for mask in range(1 << len(bits))]
        self._text("select_type_param_string", ctypes.c_uint16, values,
                   E.select_type_param_string)

    def test_mail_type(self):
        self._text("print_mail_type", ctypes.c_uint16, range(1 << 11), E.mail_type_string)
        c = _c_function(self.lib, "parse_mail_type", ctypes.c_uint16, ctypes.c_char_p)
        for text in ("NONE", "all", "begin,end", "bogus", "begin,bogus", "", ",,end",
                     "TIME_LIMIT_90,array_tasks", "none,begin", "begin,none", "stage_out"):
            try:
                ours = E.mail_type_from_string(text)
            except ValueError:
                ours = 0xFFFF
            self.assertEqual(c(text.encode()), ours, text)

    def test_reservation_flags(self):
        c = _c_function(self.lib, "reservation_flags_string", ctypes.c_void_p,
                        ctypes.POINTER(_ReserveInfo))
        values = [1 << bit for bit in range(40)]
        values += [self.rng.getrandbits(37) for _ in range(2000)]
        for flags in values:
            for purge in (0, 300, 90061):
                info = _ReserveInfo(flags=flags, purge_comp_time=purge)
                self.assertEqual(ctypes.string_at(c(ctypes.byref(info))).decode(),
                                 E.reservation_flags_string(flags, purge), hex(flags))

    def test_sig_name2num(self):
        c = _c_function(self.lib, "sig_name2num", ctypes.c_int, ctypes.c_char_p)
        texts = ["KILL", "SIGKILL", "kill", "sigkill", " SIGTERM ", "9", " 9 ", "9x", "-9",
                 "+9", "SIG9", "USR1", "sigusr2", "XCPU", "bogus", "", "SIGKILLX", "KILL x",
                 str((1 << 32) + 9), "9" * 30, "0x9", "\t15\n", "SIGRTMIN", "CONT", "stop",
                 "  sig  kill", "WINCH"]
        texts += [name for name, _ in E.SIGNAL_NAMES]
        for text in texts:
            self.assertEqual(c(text.encode()), E.sig_name2num(text), repr(text))


class ClusterTests(unittest.TestCase):
    """The decoders against what the running test cluster's scontrol and slurmrestd print."""

    def setUp(self):
        from slurmrest.testing.cluster import Cluster
        self.cluster = Cluster.from_environment()

    def _restd(self, path):
        if not self.cluster.restd_url:
            raise unittest.SkipTest("no reference slurmrestd running")
        request = urllib.request.Request(
            self.cluster.restd_url + "/slurm/v0.0.38" + path,
            headers={"X-SLURM-USER-NAME": "alice",
                     "X-SLURM-USER-TOKEN": self.cluster.token("alice", lifespan=120)})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def _scontrol_fields(self, *argv):
        line = self.cluster.run(["scontrol", "-o", "show", *argv]).stdout.strip()
        return dict(item.split("=", 1) for item in line.split() if "=" in item)

    def test_reservation_flags(self):
        """scontrol's Flags= words give the bits whose slurmrestd list is what slurmrestd says."""
        words = self._scontrol_fields("reservation", "maint")["Flags"].split(",")
        flags = E.flags_from_names(words, E.RESERVATION_FLAG_NAMES)
        self.assertEqual(E.reservation_flags_string(flags), ",".join(words))
        restd = self._restd("/reservation/maint")["reservations"][0]
        self.assertEqual(E.flag_names(flags, E.RESTD_RESERVATION_FLAG_NAMES), restd["flags"])

    def test_node_states(self):
        """scontrol's State=BASE+FLAG… decoded to bits, re-encoded the slurmrestd way."""
        restd = {node["name"]: node for node in self._restd("/nodes")["nodes"]}
        names = {name: value for value, name in E.NODE_STATE_BASE_NAMES.items()}
        for name in sorted(restd):
            base, *flag_words = self._scontrol_fields("node", name)["State"].split("+")
            state = names[base] | E.flags_from_names(flag_words, E.NODE_STATE_FLAG_NAMES)
            self.assertEqual(E.node_state_string_complete(state), "+".join([base, *flag_words]))
            # Both reads are snapshots; a node may change between them, so compare only
            # when slurmrestd saw the same base state.
            if restd[name]["state"] == base.lower():
                self.assertEqual(E.node_state_base_name(state).lower(), restd[name]["state"])
                self.assertEqual(E.node_state_flag_names(state), restd[name]["state_flags"])

    def test_held_job(self):
        """A held job: scontrol's JobState/Reason and slurmrestd's job_state/state_reason."""
        job_id = self.cluster.submit("true", name="slurmrest-enums-held", extra=["--hold"])
        self.addCleanup(self.cluster.cancel, job_id)
        fields = self._scontrol_fields("job", str(job_id))
        state = E.job_state_num(fields["JobState"])
        reason = E.job_reason_num(fields["Reason"])
        self.assertEqual((state, reason), (E.JOB_PENDING, E.JobReason.WAIT_HELD_USER))
        job = self._restd(f"/job/{job_id}")["jobs"][0]
        self.assertEqual(job["job_state"], E.job_state_string(state))
        self.assertEqual(job["state_reason"], E.job_reason_string(reason))
