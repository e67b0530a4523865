"""Slurm's enumerations and their spellings (slurmrest.wire.enums).

Three kinds of evidence: the tables against the protocol reference (Appendix A); hand-picked
values whose spelling is known; and, where the installed Slurm 22.05 library is present, its
own string functions called on many values (test support only: slurmrest itself never loads
libslurm). The last class checks the decoders against the running test cluster. slurmrestd's
own spellings are tested in ``test_api_spellings``.
"""

import ctypes
import json
import os
import random
import re
import urllib.request

from twisted.trial import unittest

from slurmrest.api import spellings as S
from slurmrest.wire import enums as E
from slurmrest.wire.primitives import NO_VAL, NO_VAL16

_PROTOCOL_DOC = os.environ.get("SLURMREST_PROTOCOL_DOC",
                               "/work/shared/docs/slurm-22.05-ctld-protocol.md")
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


class JobReasonTableTests(unittest.TestCase):

    def test_every_appendix_a_row(self):
        rows = _appendix_a_rows()
        self.assertEqual(len(rows), 199)
        self.assertEqual(len(E._JOB_REASON_STRINGS), 199)
        for number, _, text in rows:
            self.assertEqual(E.job_reason_string(number),
                             _APPENDIX_A_ERRATA.get(number, text))

    def test_spellings(self):
        # WAIT_NO_REASON, WAIT_PRIORITY, WAIT_HELD_USER, WAIT_HELD, FAIL_LAUNCH,
        # WAIT_QOS_GRP_JOB, WAIT_ASSOC_GRP_JOB
        self.assertEqual(E.job_reason_string(0), "None")
        self.assertEqual(E.job_reason_string(1), "Priority")
        self.assertEqual(E.job_reason_string(16), "JobHeldUser")
        self.assertEqual(E.job_reason_string(8), "JobHeldAdmin")
        self.assertEqual(E.job_reason_string(23), "JobLaunchFailure")
        self.assertEqual(E.job_reason_string(43), "QOSGrpJobsLimit")
        self.assertEqual(E.job_reason_string(60), "AssocGrpJobsLimit")
        # Unknown numbers print in decimal, as job_reason_string does.
        self.assertEqual(E.job_reason_string(199), "199")
        self.assertEqual(E.job_reason_string(NO_VAL16), str(NO_VAL16))

class JobStateTests(unittest.TestCase):

    def test_base_states(self):
        expected = ["PENDING", "RUNNING", "SUSPENDED", "COMPLETED", "CANCELLED", "FAILED",
                    "TIMEOUT", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE",
                    "OUT_OF_MEMORY"]
        self.assertEqual([E.job_state_string(v) for v in range(E.JOB_END)], expected)
        self.assertEqual([E.job_state_base(v) for v in range(E.JOB_END)], expected)
        self.assertEqual(E.job_state_string(E.JOB_END), "?")

    def test_flag_shown_first(self):
        """A flag replaces the base name, COMPLETING first of all."""
        state = E.JOB_RUNNING | E.JOB_COMPLETING | E.JOB_CONFIGURING
        self.assertEqual(E.job_state_string(state), "COMPLETING")
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
        self.assertEqual(E.job_state_flags(E.JOB_PENDING), [])

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
        # Not scontrol's words: NO_RESPOND (it takes NoResp), ERROR (it prints as "?").
        for word in ("", "DR", "POW", "DRAINX", "bogus", "MAINT", "?", "NO_RESPOND", "ERROR"):
            self.assertRaises(ValueError, E.node_state_from_name, word)


class FlagWordTests(unittest.TestCase):

    TABLES = ((E, "JOB_STATE_FLAG_NAMES"), (E, "NODE_STATE_FLAG_NAMES"),
              (E, "PARTITION_FLAG_NAMES"), (E, "RESERVATION_FLAG_NAMES"),
              (E, "MAIL_TYPE_NAMES"), (S, "RESTD_JOB_FLAG_NAMES"), (S, "RESTD_SHOW_FLAG_NAMES"),
              (S, "RESTD_PARTITION_FLAG_NAMES"), (S, "RESTD_RESERVATION_FLAG_NAMES"))

    def test_tables_are_single_bits_with_unique_names(self):
        for module, table_name in self.TABLES:
            table = getattr(module, table_name)
            bits = [bit for bit, _ in table]
            names = [name for _, name in table]
            self.assertEqual(len(set(bits)), len(bits), table_name)
            self.assertEqual(len(set(names)), len(names), table_name)
            for bit in bits:
                self.assertEqual(bin(bit).count("1"), 1, (table_name, hex(bit)))

    def test_round_trip(self):
        rng = random.Random(22058)
        for module, table_name in self.TABLES:
            table = getattr(module, table_name)
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

    def test_partitions(self):
        self.assertEqual(E.flag_names(E.PART_FLAG_DEFAULT | E.PART_FLAG_LLN,
                                      E.PARTITION_FLAG_NAMES), ["DEFAULT", "LLN"])
        self.assertEqual(E.partition_state_string(E.PARTITION_UP), "UP")
        self.assertEqual(E.partition_state_string(E.PARTITION_DRAIN), "DRAIN")
        self.assertEqual(E.partition_state_string(E.PARTITION_INACTIVE), "INACTIVE")
        self.assertEqual(E.partition_state_string(7), "UNKNOWN")

    def test_reservation_flags(self):
        flags = E.RESERVE_FLAG_SPEC_NODES | E.RESERVE_FLAG_MAINT | E.RESERVE_FLAG_FLEX
        self.assertEqual(E.flag_names(flags, E.RESERVATION_FLAG_NAMES),
                         ["MAINT", "FLEX", "SPEC_NODES"])
        # Request-only bits have no word.
        self.assertEqual(E.flag_names(E.RESERVE_FLAG_NO_FLEX | E.RESERVE_FLAG_SKIP,
                                      E.RESERVATION_FLAG_NAMES), [])

    def test_mail_type(self):
        self.assertEqual(E.flag_names(E.MAIL_JOB_END | E.MAIL_JOB_BEGIN, E.MAIL_TYPE_NAMES),
                         ["BEGIN", "END"])
        self.assertEqual(E.flag_names(E.MAIL_JOB_TIME100 | E.MAIL_ARRAY_TASKS,
                                      E.MAIL_TYPE_NAMES), ["ARRAY_TASKS", "TIME_LIMIT"])
        self.assertEqual(E.MAIL_ALL, 0x50F)


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

    def test_node_state_strings(self):
        values = list(range(0, 16))
        values += [base | (1 << i) | (1 << j) for base in range(8)
                   for i in range(4, 32) for j in range(i, 32)]
        values += [self.rng.getrandbits(32) & self.rng.getrandbits(32) for _ in range(20000)]
        self._text("node_state_string_complete", ctypes.c_uint32, values[:3000],
                   E.node_state_string_complete, restype=ctypes.c_void_p)

    def test_job_reasons(self):
        self._text("job_reason_string", ctypes.c_int, range(0, 260), E.job_reason_string)

    def test_mail_type(self):
        self._text("print_mail_type", ctypes.c_uint16, range(1 << 11),
                   lambda v: ",".join(E.flag_names(v, E.MAIL_TYPE_NAMES)) or "NONE")

    def test_reservation_flags(self):
        c = _c_function(self.lib, "reservation_flags_string", ctypes.c_void_p,
                        ctypes.POINTER(_ReserveInfo))
        values = [1 << bit for bit in range(40)]
        values += [self.rng.getrandbits(37) for _ in range(2000)]
        for flags in values:
            info = _ReserveInfo(flags=flags, purge_comp_time=0)
            self.assertEqual(ctypes.string_at(c(ctypes.byref(info))).decode(),
                             ",".join(E.flag_names(flags, E.RESERVATION_FLAG_NAMES)), hex(flags))

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
        self.assertEqual(E.flag_names(flags, E.RESERVATION_FLAG_NAMES), words)
        restd = self._restd("/reservation/maint")["reservations"][0]
        self.assertEqual(E.flag_names(flags, S.RESTD_RESERVATION_FLAG_NAMES), restd["flags"])

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
        # JOB_PENDING, WAIT_HELD_USER
        self.assertEqual((fields["JobState"], fields["Reason"]),
                         (E.job_state_string(E.JOB_PENDING), E.job_reason_string(16)))
        job = self._restd(f"/job/{job_id}")["jobs"][0]
        self.assertEqual((job["job_state"], job["state_reason"]),
                         (fields["JobState"], fields["Reason"]))
