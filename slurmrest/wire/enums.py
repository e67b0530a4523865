"""Slurm 22.05's enumerations and flag words, and their spellings.

Wire integers go in, Slurm's own strings come out (and back, where a request needs them). The
spellings are those of Slurm's C functions (``slurm/slurm.h``, ``src/common/
slurm_protocol_defs.c``, ``proc_args.c``, ``slurm_selecttype_info.c`` at tag
slurm-22-05-8-1), which is what ``scontrol`` prints. Where slurmrestd v0.0.38 writes something
else into its JSON (lower case, other words, a subset), a separate table or function says so
and its docstring names the field: the API room picks the one it needs.

Flag tables are tuples of ``(bit, name)`` in the order Slurm prints them;
``flag_names(value, table)`` gives the names of the bits set in that order.

The job state reason table (``JobReason``, ``_JOB_REASON_STRINGS``) is generated from
Appendix A of ``docs/slurm-22.05-ctld-protocol.md``, with two corrections: reasons 43 and 60
are "QOSGrpJobsLimit" and "AssocGrpJobsLimit" (the C source writes ``return"…"`` without a
space there, which the appendix's extraction missed). Everything else is written out by hand
from the C source, and the tests compare it with the installed libslurm where there is one.
"""

import enum
import re
import signal as _signal

from slurmrest.wire.primitives import (  # defined once, where the codec needs them
    BACKFILL_LAST, BACKFILL_SCHED, INFINITE, KILL_FULL_JOB, NO_VAL16, SHOW_ALL, SHOW_DETAIL,
    SHOW_FEDERATION, SHOW_FUTURE, SHOW_LOCAL, SHOW_MIXED, SHOW_SIBLING, USE_DEFAULT_ACCT,
    USE_DEFAULT_PART, USE_DEFAULT_QOS, USE_DEFAULT_WCKEY)

# Slurm compares case-insensitively in ASCII only (strcasecmp in the C locale).
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _upper(text: str) -> str:
    return text.translate(_ASCII_UPPER)


def _bit(n: int) -> int:
    return 1 << n


def flag_names(value: int, table) -> list[str]:
    """Names of the bits of ``value`` found in ``table`` (``(bit, name)`` pairs), in its order."""
    return [name for bit, name in table if value & bit]


def flags_from_names(names, table, *, ignore_case: bool = True) -> int:
    """The inverse of ``flag_names``: OR of the bits named; ValueError for a name not in table."""
    fold = _upper if ignore_case else (lambda s: s)
    bits = {fold(name): bit for bit, name in table}
    value = 0
    for name in names:
        try:
            value |= bits[fold(name)]
        except KeyError:
            raise ValueError(f"unknown flag: {name}") from None
    return value


# --------------------------------------------------------------------------------------------
# Job state (job_state, u32): a base state in the low byte, flags above it.

JOB_STATE_BASE = 0x000000FF
JOB_STATE_FLAGS = 0xFFFFFF00

JOB_PENDING = 0
JOB_RUNNING = 1
JOB_SUSPENDED = 2
JOB_COMPLETE = 3
JOB_CANCELLED = 4
JOB_FAILED = 5
JOB_TIMEOUT = 6
JOB_NODE_FAIL = 7
JOB_PREEMPTED = 8
JOB_BOOT_FAIL = 9
JOB_DEADLINE = 10
JOB_OOM = 11
JOB_END = 12

JOB_LAUNCH_FAILED = _bit(8)
JOB_UPDATE_DB = _bit(9)
JOB_REQUEUE = _bit(10)
JOB_REQUEUE_HOLD = _bit(11)
JOB_SPECIAL_EXIT = _bit(12)
JOB_RESIZING = _bit(13)
JOB_CONFIGURING = _bit(14)
JOB_COMPLETING = _bit(15)
JOB_STOPPED = _bit(16)
JOB_RECONFIG_FAIL = _bit(17)
JOB_POWER_UP_NODE = _bit(18)
JOB_REVOKED = _bit(19)
JOB_REQUEUE_FED = _bit(20)
JOB_RESV_DEL_HOLD = _bit(21)
JOB_SIGNALING = _bit(22)
JOB_STAGE_OUT = _bit(23)

# Base names, full and compact (squeue's %t), indexed by state.
JOB_STATE_NAMES = ("PENDING", "RUNNING", "SUSPENDED", "COMPLETED", "CANCELLED", "FAILED",
                   "TIMEOUT", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE",
                   "OUT_OF_MEMORY")
JOB_STATE_COMPACT_NAMES = ("PD", "R", "S", "CD", "CA", "F", "TO", "NF", "PR", "BF", "DL",
                           "OOM")

# The flags job_state_string() shows instead of the base name: the first one set wins.
# (bit, full name, compact name)
_JOB_STATE_SHOWN_FLAGS = (
    (JOB_COMPLETING, "COMPLETING", "CG"),
    (JOB_STAGE_OUT, "STAGE_OUT", "SO"),
    (JOB_CONFIGURING, "CONFIGURING", "CF"),
    (JOB_RESIZING, "RESIZING", "RS"),
    (JOB_REQUEUE, "REQUEUED", "RQ"),
    (JOB_REQUEUE_FED, "REQUEUE_FED", "RF"),
    (JOB_REQUEUE_HOLD, "REQUEUE_HOLD", "RH"),
    (JOB_SPECIAL_EXIT, "SPECIAL_EXIT", "SE"),
    (JOB_STOPPED, "STOPPED", "ST"),
    (JOB_REVOKED, "REVOKED", "RV"),
    (JOB_RESV_DEL_HOLD, "RESV_DEL_HOLD", "RD"),
    (JOB_SIGNALING, "SIGNALING", "SI"),
)

# Every flag, in job_state_string_complete() order.
JOB_STATE_FLAG_NAMES = (
    (JOB_LAUNCH_FAILED, "LAUNCH_FAILED"),
    (JOB_UPDATE_DB, "UPDATE_DB"),
    (JOB_COMPLETING, "COMPLETING"),
    (JOB_CONFIGURING, "CONFIGURING"),
    (JOB_POWER_UP_NODE, "POWER_UP_NODE"),
    (JOB_RECONFIG_FAIL, "RECONFIG_FAIL"),
    (JOB_RESIZING, "RESIZING"),
    (JOB_REQUEUE, "REQUEUED"),
    (JOB_REQUEUE_FED, "REQUEUE_FED"),
    (JOB_REQUEUE_HOLD, "REQUEUE_HOLD"),
    (JOB_SPECIAL_EXIT, "SPECIAL_EXIT"),
    (JOB_STOPPED, "STOPPED"),
    (JOB_REVOKED, "REVOKED"),
    (JOB_RESV_DEL_HOLD, "RESV_DEL_HOLD"),
    (JOB_SIGNALING, "SIGNALING"),
    (JOB_STAGE_OUT, "STAGE_OUT"),
)


def job_state_base(state: int) -> str:
    """The base state's name (``"PENDING"`` …, ``"?"`` for none), flags ignored."""
    base = state & JOB_STATE_BASE
    return JOB_STATE_NAMES[base] if base < JOB_END else "?"


def job_state_flags(state: int) -> list[str]:
    """The names of the flags set, in ``job_state_string_complete`` order."""
    return flag_names(state, JOB_STATE_FLAG_NAMES)


def job_state_string(state: int) -> str:
    """Slurm's ``job_state_string``: the first shown flag set, else the base name.

    This is slurmrestd v0.0.38's ``job_state`` (upper case, as is) and scontrol's JobState.
    """
    for bit, name, _ in _JOB_STATE_SHOWN_FLAGS:
        if state & bit:
            return name
    return job_state_base(state)


def job_state_string_compact(state: int) -> str:
    """Slurm's ``job_state_string_compact`` (squeue's two-letter ``%t``)."""
    for bit, _, compact in _JOB_STATE_SHOWN_FLAGS:
        if state & bit:
            return compact
    base = state & JOB_STATE_BASE
    return JOB_STATE_COMPACT_NAMES[base] if base < JOB_END else "?"


def job_state_string_complete(state: int) -> str:
    """Slurm's ``job_state_string_complete``: ``"RUNNING,COMPLETING"`` and so on."""
    return ",".join([job_state_base(state), *job_state_flags(state)])


def job_state_num(name: str) -> int:
    """Slurm's ``job_state_num``: a base state or flag from its full or compact name.

    Case-insensitive; ValueError where Slurm returns NO_VAL.
    """
    for base in range(JOB_END):
        if _upper(name) in (JOB_STATE_NAMES[base], JOB_STATE_COMPACT_NAMES[base]):
            return base
    for bit, full, compact in _JOB_STATE_SHOWN_FLAGS:
        if _upper(name) in (full, compact):
            return bit
    raise ValueError(f"unknown job state: {name}")


def job_state_started(state: int) -> bool:
    """``IS_JOB_STARTED``: past PENDING."""
    return (state & JOB_STATE_BASE) > JOB_PENDING


def job_state_finished(state: int) -> bool:
    """``IS_JOB_FINISHED``: past SUSPENDED (COMPLETING jobs included)."""
    return (state & JOB_STATE_BASE) > JOB_SUSPENDED


def job_state_completed(state: int) -> bool:
    """``IS_JOB_COMPLETED``: finished and no longer COMPLETING."""
    return job_state_finished(state) and not state & JOB_COMPLETING


# --------------------------------------------------------------------------------------------
# Node state (node_state, next_state, u32): a base state in the low nibble, flags above it.

NODE_STATE_BASE = 0x0000000F
NODE_STATE_FLAGS = 0xFFFFFFF0

NODE_STATE_UNKNOWN = 0
NODE_STATE_DOWN = 1
NODE_STATE_IDLE = 2
NODE_STATE_ALLOCATED = 3
NODE_STATE_ERROR = 4
NODE_STATE_MIXED = 5
NODE_STATE_FUTURE = 6
NODE_STATE_END = 7

NODE_STATE_NET = _bit(4)
NODE_STATE_RES = _bit(5)
NODE_STATE_UNDRAIN = _bit(6)
NODE_STATE_CLOUD = _bit(7)
NODE_RESUME = _bit(8)
NODE_STATE_DRAIN = _bit(9)
NODE_STATE_COMPLETING = _bit(10)
NODE_STATE_NO_RESPOND = _bit(11)
NODE_STATE_POWERED_DOWN = _bit(12)
NODE_STATE_FAIL = _bit(13)
NODE_STATE_POWERING_UP = _bit(14)
NODE_STATE_MAINT = _bit(15)
NODE_STATE_REBOOT_REQUESTED = _bit(16)
NODE_STATE_REBOOT_CANCEL = _bit(17)
NODE_STATE_POWERING_DOWN = _bit(18)
NODE_STATE_DYNAMIC_FUTURE = _bit(19)
NODE_STATE_REBOOT_ISSUED = _bit(20)
NODE_STATE_PLANNED = _bit(21)
NODE_STATE_INVALID_REG = _bit(22)
NODE_STATE_POWER_DOWN = _bit(23)
NODE_STATE_POWER_UP = _bit(24)
NODE_STATE_POWER_DRAIN = _bit(25)
NODE_STATE_DYNAMIC_NORM = _bit(26)

# node_states[] of slurm_protocol_defs.c (ERROR is unused but named).
NODE_STATE_BASE_NAMES = {
    NODE_STATE_UNKNOWN: "UNKNOWN",
    NODE_STATE_DOWN: "DOWN",
    NODE_STATE_IDLE: "IDLE",
    NODE_STATE_ALLOCATED: "ALLOCATED",
    NODE_STATE_ERROR: "ERROR",
    NODE_STATE_MIXED: "MIXED",
    NODE_STATE_FUTURE: "FUTURE",
}

# node_state_flags[] of slurm_protocol_defs.c, in its order. UNDRAIN, REBOOT_CANCEL and
# POWER_DRAIN are not in it (they only appear in update requests): they print as "?".
NODE_STATE_FLAG_NAMES = (
    (NODE_STATE_CLOUD, "CLOUD"),
    (NODE_STATE_COMPLETING, "COMPLETING"),
    (NODE_STATE_DRAIN, "DRAIN"),
    (NODE_STATE_DYNAMIC_FUTURE, "DYNAMIC_FUTURE"),
    (NODE_STATE_DYNAMIC_NORM, "DYNAMIC_NORM"),
    (NODE_STATE_INVALID_REG, "INVALID_REG"),
    (NODE_STATE_FAIL, "FAIL"),
    (NODE_STATE_MAINT, "MAINTENANCE"),
    (NODE_STATE_POWER_DOWN, "POWER_DOWN"),
    (NODE_STATE_POWER_UP, "POWER_UP"),
    (NODE_STATE_NET, "PERFCTRS"),
    (NODE_STATE_POWERED_DOWN, "POWERED_DOWN"),
    (NODE_STATE_REBOOT_REQUESTED, "REBOOT_REQUESTED"),
    (NODE_STATE_REBOOT_ISSUED, "REBOOT_ISSUED"),
    (NODE_STATE_RES, "RESERVED"),
    (NODE_RESUME, "RESUME"),
    (NODE_STATE_NO_RESPOND, "NOT_RESPONDING"),
    (NODE_STATE_PLANNED, "PLANNED"),
    (NODE_STATE_POWERING_UP, "POWERING_UP"),
    (NODE_STATE_POWERING_DOWN, "POWERING_DOWN"),
)


def node_state_valid_base(state: int) -> bool:
    """Slurm's ``valid_base_state``: the base is one of the named states."""
    return (state & NODE_STATE_BASE) in NODE_STATE_BASE_NAMES


def node_state_base_name(state: int) -> str:
    """Slurm's ``node_state_base_string``: ``"IDLE"`` …, ``"INVALID"`` for other values.

    slurmrestd v0.0.38 lower-cases it for a node's ``state`` and ``next_state_after_reboot``
    (``"idle"``; a ``next_state`` of NO_VAL gives ``"invalid"``).
    """
    return NODE_STATE_BASE_NAMES.get(state & NODE_STATE_BASE, "INVALID")


def node_state_flag_names(state: int) -> list[str]:
    """The flags set, as repeated ``node_state_flag_string_single`` calls give them.

    Table order; a set bit Slurm has no name for yields one ``"?"`` each. slurmrestd v0.0.38
    uses this list (as is, upper case) for ``state_flags`` and
    ``next_state_after_reboot_flags``, but gives ``[]`` when the base state is not valid
    (``node_state_valid_base``).
    """
    flags = state & NODE_STATE_FLAGS
    names = []
    for bit, name in NODE_STATE_FLAG_NAMES:
        if flags & bit:
            names.append(name)
            flags &= ~bit
    while flags:
        names.append("?")
        flags &= flags - 1
    return names


def node_state_string_complete(state: int) -> str:
    """Slurm's ``node_state_string_complete``: ``"IDLE+DRAIN+NOT_RESPONDING"``."""
    return "+".join([node_state_base_name(state), *node_state_flag_names(state)])


def _node_suffix(state: int) -> str:
    """The one-character mark scontrol/sinfo append to a node state, by priority."""
    for bit, mark in ((NODE_STATE_MAINT, "$"), (NODE_STATE_REBOOT_ISSUED, "^"),
                      (NODE_STATE_REBOOT_REQUESTED, "@"), (NODE_STATE_POWERING_UP, "#"),
                      (NODE_STATE_POWERING_DOWN, "%"), (NODE_STATE_POWERED_DOWN, "~"),
                      (NODE_STATE_POWER_DOWN, "!"), (NODE_STATE_NO_RESPOND, "*")):
        if state & bit:
            return mark
    return ""


# Exact flag-only values node_state_string() names by a word.
_NODE_STATE_WORDS = {
    NODE_STATE_REBOOT_ISSUED: "REBOOT_ISSUED",
    NODE_STATE_REBOOT_CANCEL: "CANCEL_REBOOT",
    NODE_STATE_CLOUD: "CLOUD",
    NODE_STATE_POWER_DOWN: "POWER_DOWN",
    NODE_STATE_POWER_UP: "POWER_UP",
    NODE_STATE_POWERING_DOWN: "POWERING_DOWN",
    NODE_STATE_POWERED_DOWN: "POWERED_DOWN",
    NODE_STATE_POWERING_UP: "POWERING_UP",
}


def node_state_string(state: int) -> str:
    """Slurm's ``node_state_string`` (scontrol's ``State=`` word): ``"DRAINED*"``, ``"MIXED"``…

    The precedence is Slurm's, step for step.
    """
    base = state & NODE_STATE_BASE
    maint = state & NODE_STATE_MAINT
    no_respond = state & NODE_STATE_NO_RESPOND
    completing = state & NODE_STATE_COMPLETING
    busy = base in (NODE_STATE_ALLOCATED, NODE_STATE_MIXED)

    if state & NODE_STATE_INVALID_REG:
        return "INVAL"
    if maint and not (state & NODE_STATE_DRAIN or busy or base == NODE_STATE_DOWN):
        return "MAINT*" if no_respond else "MAINT"
    if state & (NODE_STATE_REBOOT_REQUESTED | NODE_STATE_REBOOT_ISSUED) and not busy:
        if state & NODE_STATE_REBOOT_ISSUED:
            return "REBOOT^"
        return "REBOOT*" if no_respond else "REBOOT"
    if state & NODE_STATE_DRAIN:
        word = "DRAINING" if completing or busy else "DRAINED"
        return word + _node_suffix(state)
    if state & NODE_STATE_FAIL:
        word = "FAILING" if completing or base == NODE_STATE_ALLOCATED else "FAIL"
        return word + ("*" if no_respond else "")
    if state in _NODE_STATE_WORDS:
        return _NODE_STATE_WORDS[state]
    if base == NODE_STATE_DOWN:
        return "DOWN" + _node_suffix(state)
    if base == NODE_STATE_ALLOCATED:
        suffix = _node_suffix(state)
        if not suffix and completing:
            suffix = "+"
        return "ALLOCATED" + suffix
    if completing:
        return "COMPLETING" + _node_suffix(state)
    if base == NODE_STATE_IDLE:
        suffix = _node_suffix(state)
        if suffix:
            return "IDLE" + suffix
        if state & NODE_STATE_NET:
            return "PERFCTRS"
        if state & NODE_STATE_RES:
            return "RESERVED"
        if state & NODE_STATE_PLANNED:
            return "PLANNED"
        return "IDLE"
    if base == NODE_STATE_MIXED:
        suffix = _node_suffix(state)
        if not suffix and state & NODE_STATE_PLANNED:
            suffix = "-"
        return "MIXED" + suffix
    if base == NODE_STATE_FUTURE:
        return "FUTURE" + _node_suffix(state)
    if state & NODE_RESUME:
        return "RESUME"
    if base == NODE_STATE_UNKNOWN:
        return "UNKNOWN*" if no_respond else "UNKNOWN"
    return "?"


def _abbreviates(word: str, name: str, minimum: int) -> bool:
    """``xstrncasecmp(word, name, MAX(strlen(word), minimum)) == 0``: a long-enough prefix."""
    n = max(len(word), minimum)
    return _upper(word[:n]) == _upper(name[:n])


# scontrol update NodeName=… State=<word>, in the order update_node.c tries them:
# (word, shortest abbreviation, value sent in update_node_msg.node_state).
_NODE_UPDATE_STATES = (
    ("NoResp", 3, NODE_STATE_NO_RESPOND),
    ("CANCEL_REBOOT", 3, NODE_STATE_REBOOT_CANCEL),
    ("DRAIN", 3, NODE_STATE_DRAIN),
    ("FAIL", 3, NODE_STATE_FAIL),
    ("FUTURE", 3, NODE_STATE_FUTURE),
    ("RESUME", 3, NODE_RESUME),
    ("POWER_DOWN_ASAP", 12, NODE_STATE_POWER_DOWN | NODE_STATE_POWER_DRAIN),
    ("POWER_DOWN_FORCE", 12, NODE_STATE_POWER_DOWN | NODE_STATE_POWERED_DOWN),
    ("POWER_DOWN", 7, NODE_STATE_POWER_DOWN),
    ("POWER_UP", 7, NODE_STATE_POWER_UP),
    ("UNDRAIN", 3, NODE_STATE_UNDRAIN),
)


def node_state_from_name(name: str) -> int:
    """The ``node_state`` of an update request for a ``State=`` word, as scontrol parses it.

    Case-insensitive; abbreviations of at least three letters are accepted (seven for
    POWER_DOWN/POWER_UP, twelve for POWER_DOWN_ASAP/POWER_DOWN_FORCE). Besides the words
    above, the base states by their ``node_state_string`` name: UNKNOWN, DOWN, IDLE,
    ALLOCATED, MIXED (FUTURE is above). Whether slurmctld accepts the value for a given node
    is its business (ESLURM_INVALID_NODE_STATE). ValueError for anything else.
    """
    for word, minimum, value in _NODE_UPDATE_STATES:
        if _abbreviates(name, word, minimum):
            return value
    for base in range(NODE_STATE_END):
        word = node_state_string(base)
        # ERROR (4) prints as "?": scontrol would take "State=?" for it; we do not.
        if word != "?" and _abbreviates(name, word, 3):
            return base
    raise ValueError(f"invalid node state: {name}")


# --------------------------------------------------------------------------------------------
# Job state reason (state_reason, u16).

class JobReason(enum.IntEnum):
    """``enum job_state_reason`` of Slurm 22.05 (generated from Appendix A)."""

    WAIT_NO_REASON = 0
    WAIT_PRIORITY = 1
    WAIT_DEPENDENCY = 2
    WAIT_RESOURCES = 3
    WAIT_PART_NODE_LIMIT = 4
    WAIT_PART_TIME_LIMIT = 5
    WAIT_PART_DOWN = 6
    WAIT_PART_INACTIVE = 7
    WAIT_HELD = 8
    WAIT_TIME = 9
    WAIT_LICENSES = 10
    WAIT_ASSOC_JOB_LIMIT = 11
    WAIT_ASSOC_RESOURCE_LIMIT = 12
    WAIT_ASSOC_TIME_LIMIT = 13
    WAIT_RESERVATION = 14
    WAIT_NODE_NOT_AVAIL = 15
    WAIT_HELD_USER = 16
    WAIT_FRONT_END = 17
    FAIL_DEFER = 18
    FAIL_DOWN_PARTITION = 19
    FAIL_DOWN_NODE = 20
    FAIL_BAD_CONSTRAINTS = 21
    FAIL_SYSTEM = 22
    FAIL_LAUNCH = 23
    FAIL_EXIT_CODE = 24
    FAIL_TIMEOUT = 25
    FAIL_INACTIVE_LIMIT = 26
    FAIL_ACCOUNT = 27
    FAIL_QOS = 28
    WAIT_QOS_THRES = 29
    WAIT_QOS_JOB_LIMIT = 30
    WAIT_QOS_RESOURCE_LIMIT = 31
    WAIT_QOS_TIME_LIMIT = 32
    WAIT_BLOCK_MAX_ERR = 33
    WAIT_BLOCK_D_ACTION = 34
    WAIT_CLEANING = 35
    WAIT_PROLOG = 36
    WAIT_QOS = 37
    WAIT_ACCOUNT = 38
    WAIT_DEP_INVALID = 39
    WAIT_QOS_GRP_CPU = 40
    WAIT_QOS_GRP_CPU_MIN = 41
    WAIT_QOS_GRP_CPU_RUN_MIN = 42
    WAIT_QOS_GRP_JOB = 43
    WAIT_QOS_GRP_MEM = 44
    WAIT_QOS_GRP_NODE = 45
    WAIT_QOS_GRP_SUB_JOB = 46
    WAIT_QOS_GRP_WALL = 47
    WAIT_QOS_MAX_CPU_PER_JOB = 48
    WAIT_QOS_MAX_CPU_MINS_PER_JOB = 49
    WAIT_QOS_MAX_NODE_PER_JOB = 50
    WAIT_QOS_MAX_WALL_PER_JOB = 51
    WAIT_QOS_MAX_CPU_PER_USER = 52
    WAIT_QOS_MAX_JOB_PER_USER = 53
    WAIT_QOS_MAX_NODE_PER_USER = 54
    WAIT_QOS_MAX_SUB_JOB = 55
    WAIT_QOS_MIN_CPU = 56
    WAIT_ASSOC_GRP_CPU = 57
    WAIT_ASSOC_GRP_CPU_MIN = 58
    WAIT_ASSOC_GRP_CPU_RUN_MIN = 59
    WAIT_ASSOC_GRP_JOB = 60
    WAIT_ASSOC_GRP_MEM = 61
    WAIT_ASSOC_GRP_NODE = 62
    WAIT_ASSOC_GRP_SUB_JOB = 63
    WAIT_ASSOC_GRP_WALL = 64
    WAIT_ASSOC_MAX_JOBS = 65
    WAIT_ASSOC_MAX_CPU_PER_JOB = 66
    WAIT_ASSOC_MAX_CPU_MINS_PER_JOB = 67
    WAIT_ASSOC_MAX_NODE_PER_JOB = 68
    WAIT_ASSOC_MAX_WALL_PER_JOB = 69
    WAIT_ASSOC_MAX_SUB_JOB = 70
    WAIT_MAX_REQUEUE = 71
    WAIT_ARRAY_TASK_LIMIT = 72
    WAIT_BURST_BUFFER_RESOURCE = 73
    WAIT_BURST_BUFFER_STAGING = 74
    FAIL_BURST_BUFFER_OP = 75
    WAIT_POWER_NOT_AVAIL = 76
    WAIT_POWER_RESERVED = 77
    WAIT_ASSOC_GRP_UNK = 78
    WAIT_ASSOC_GRP_UNK_MIN = 79
    WAIT_ASSOC_GRP_UNK_RUN_MIN = 80
    WAIT_ASSOC_MAX_UNK_PER_JOB = 81
    WAIT_ASSOC_MAX_UNK_PER_NODE = 82
    WAIT_ASSOC_MAX_UNK_MINS_PER_JOB = 83
    WAIT_ASSOC_MAX_CPU_PER_NODE = 84
    WAIT_ASSOC_GRP_MEM_MIN = 85
    WAIT_ASSOC_GRP_MEM_RUN_MIN = 86
    WAIT_ASSOC_MAX_MEM_PER_JOB = 87
    WAIT_ASSOC_MAX_MEM_PER_NODE = 88
    WAIT_ASSOC_MAX_MEM_MINS_PER_JOB = 89
    WAIT_ASSOC_GRP_NODE_MIN = 90
    WAIT_ASSOC_GRP_NODE_RUN_MIN = 91
    WAIT_ASSOC_MAX_NODE_MINS_PER_JOB = 92
    WAIT_ASSOC_GRP_ENERGY = 93
    WAIT_ASSOC_GRP_ENERGY_MIN = 94
    WAIT_ASSOC_GRP_ENERGY_RUN_MIN = 95
    WAIT_ASSOC_MAX_ENERGY_PER_JOB = 96
    WAIT_ASSOC_MAX_ENERGY_PER_NODE = 97
    WAIT_ASSOC_MAX_ENERGY_MINS_PER_JOB = 98
    WAIT_ASSOC_GRP_GRES = 99
    WAIT_ASSOC_GRP_GRES_MIN = 100
    WAIT_ASSOC_GRP_GRES_RUN_MIN = 101
    WAIT_ASSOC_MAX_GRES_PER_JOB = 102
    WAIT_ASSOC_MAX_GRES_PER_NODE = 103
    WAIT_ASSOC_MAX_GRES_MINS_PER_JOB = 104
    WAIT_ASSOC_GRP_LIC = 105
    WAIT_ASSOC_GRP_LIC_MIN = 106
    WAIT_ASSOC_GRP_LIC_RUN_MIN = 107
    WAIT_ASSOC_MAX_LIC_PER_JOB = 108
    WAIT_ASSOC_MAX_LIC_MINS_PER_JOB = 109
    WAIT_ASSOC_GRP_BB = 110
    WAIT_ASSOC_GRP_BB_MIN = 111
    WAIT_ASSOC_GRP_BB_RUN_MIN = 112
    WAIT_ASSOC_MAX_BB_PER_JOB = 113
    WAIT_ASSOC_MAX_BB_PER_NODE = 114
    WAIT_ASSOC_MAX_BB_MINS_PER_JOB = 115
    WAIT_QOS_GRP_UNK = 116
    WAIT_QOS_GRP_UNK_MIN = 117
    WAIT_QOS_GRP_UNK_RUN_MIN = 118
    WAIT_QOS_MAX_UNK_PER_JOB = 119
    WAIT_QOS_MAX_UNK_PER_NODE = 120
    WAIT_QOS_MAX_UNK_PER_USER = 121
    WAIT_QOS_MAX_UNK_MINS_PER_JOB = 122
    WAIT_QOS_MIN_UNK = 123
    WAIT_QOS_MAX_CPU_PER_NODE = 124
    WAIT_QOS_GRP_MEM_MIN = 125
    WAIT_QOS_GRP_MEM_RUN_MIN = 126
    WAIT_QOS_MAX_MEM_MINS_PER_JOB = 127
    WAIT_QOS_MAX_MEM_PER_JOB = 128
    WAIT_QOS_MAX_MEM_PER_NODE = 129
    WAIT_QOS_MAX_MEM_PER_USER = 130
    WAIT_QOS_MIN_MEM = 131
    WAIT_QOS_GRP_ENERGY = 132
    WAIT_QOS_GRP_ENERGY_MIN = 133
    WAIT_QOS_GRP_ENERGY_RUN_MIN = 134
    WAIT_QOS_MAX_ENERGY_PER_JOB = 135
    WAIT_QOS_MAX_ENERGY_PER_NODE = 136
    WAIT_QOS_MAX_ENERGY_PER_USER = 137
    WAIT_QOS_MAX_ENERGY_MINS_PER_JOB = 138
    WAIT_QOS_MIN_ENERGY = 139
    WAIT_QOS_GRP_NODE_MIN = 140
    WAIT_QOS_GRP_NODE_RUN_MIN = 141
    WAIT_QOS_MAX_NODE_MINS_PER_JOB = 142
    WAIT_QOS_MIN_NODE = 143
    WAIT_QOS_GRP_GRES = 144
    WAIT_QOS_GRP_GRES_MIN = 145
    WAIT_QOS_GRP_GRES_RUN_MIN = 146
    WAIT_QOS_MAX_GRES_PER_JOB = 147
    WAIT_QOS_MAX_GRES_PER_NODE = 148
    WAIT_QOS_MAX_GRES_PER_USER = 149
    WAIT_QOS_MAX_GRES_MINS_PER_JOB = 150
    WAIT_QOS_MIN_GRES = 151
    WAIT_QOS_GRP_LIC = 152
    WAIT_QOS_GRP_LIC_MIN = 153
    WAIT_QOS_GRP_LIC_RUN_MIN = 154
    WAIT_QOS_MAX_LIC_PER_JOB = 155
    WAIT_QOS_MAX_LIC_PER_USER = 156
    WAIT_QOS_MAX_LIC_MINS_PER_JOB = 157
    WAIT_QOS_MIN_LIC = 158
    WAIT_QOS_GRP_BB = 159
    WAIT_QOS_GRP_BB_MIN = 160
    WAIT_QOS_GRP_BB_RUN_MIN = 161
    WAIT_QOS_MAX_BB_PER_JOB = 162
    WAIT_QOS_MAX_BB_PER_NODE = 163
    WAIT_QOS_MAX_BB_PER_USER = 164
    WAIT_QOS_MAX_BB_MINS_PER_JOB = 165
    WAIT_QOS_MIN_BB = 166
    FAIL_DEADLINE = 167
    WAIT_QOS_MAX_BB_PER_ACCT = 168
    WAIT_QOS_MAX_CPU_PER_ACCT = 169
    WAIT_QOS_MAX_ENERGY_PER_ACCT = 170
    WAIT_QOS_MAX_GRES_PER_ACCT = 171
    WAIT_QOS_MAX_NODE_PER_ACCT = 172
    WAIT_QOS_MAX_LIC_PER_ACCT = 173
    WAIT_QOS_MAX_MEM_PER_ACCT = 174
    WAIT_QOS_MAX_UNK_PER_ACCT = 175
    WAIT_QOS_MAX_JOB_PER_ACCT = 176
    WAIT_QOS_MAX_SUB_JOB_PER_ACCT = 177
    WAIT_PART_CONFIG = 178
    WAIT_ACCOUNT_POLICY = 179
    WAIT_FED_JOB_LOCK = 180
    FAIL_OOM = 181
    WAIT_PN_MEM_LIMIT = 182
    WAIT_ASSOC_GRP_BILLING = 183
    WAIT_ASSOC_GRP_BILLING_MIN = 184
    WAIT_ASSOC_GRP_BILLING_RUN_MIN = 185
    WAIT_ASSOC_MAX_BILLING_PER_JOB = 186
    WAIT_ASSOC_MAX_BILLING_PER_NODE = 187
    WAIT_ASSOC_MAX_BILLING_MINS_PER_JOB = 188
    WAIT_QOS_GRP_BILLING = 189
    WAIT_QOS_GRP_BILLING_MIN = 190
    WAIT_QOS_GRP_BILLING_RUN_MIN = 191
    WAIT_QOS_MAX_BILLING_PER_JOB = 192
    WAIT_QOS_MAX_BILLING_PER_NODE = 193
    WAIT_QOS_MAX_BILLING_PER_USER = 194
    WAIT_QOS_MAX_BILLING_MINS_PER_JOB = 195
    WAIT_QOS_MAX_BILLING_PER_ACCT = 196
    WAIT_QOS_MIN_BILLING = 197
    WAIT_RESV_DELETED = 198


# job_reason_string() for each JobReason, indexed by number (generated from Appendix A).
_JOB_REASON_STRINGS = (
    'None',  # 0
    'Priority',  # 1
    'Dependency',  # 2
    'Resources',  # 3
    'PartitionNodeLimit',  # 4
    'PartitionTimeLimit',  # 5
    'PartitionDown',  # 6
    'PartitionInactive',  # 7
    'JobHeldAdmin',  # 8
    'BeginTime',  # 9
    'Licenses',  # 10
    'AssociationJobLimit',  # 11
    'AssociationResourceLimit',  # 12
    'AssociationTimeLimit',  # 13
    'Reservation',  # 14
    'ReqNodeNotAvail',  # 15
    'JobHeldUser',  # 16
    'FrontEndDown',  # 17
    'SchedDefer',  # 18
    'PartitionDown',  # 19
    'NodeDown',  # 20
    'BadConstraints',  # 21
    'SystemFailure',  # 22
    'JobLaunchFailure',  # 23
    'NonZeroExitCode',  # 24
    'TimeLimit',  # 25
    'InactiveLimit',  # 26
    'InvalidAccount',  # 27
    'InvalidQOS',  # 28
    'QOSUsageThreshold',  # 29
    'QOSJobLimit',  # 30
    'QOSResourceLimit',  # 31
    'QOSTimeLimit',  # 32
    'BlockMaxError',  # 33
    'BlockFreeAction',  # 34
    'Cleaning',  # 35
    'Prolog',  # 36
    'QOSNotAllowed',  # 37
    'AccountNotAllowed',  # 38
    'DependencyNeverSatisfied',  # 39
    'QOSGrpCpuLimit',  # 40
    'QOSGrpCPUMinutesLimit',  # 41
    'QOSGrpCPURunMinutesLimit',  # 42
    'QOSGrpJobsLimit',  # 43 (Appendix A says QOSGrpMemLimit: an extraction slip)
    'QOSGrpMemLimit',  # 44
    'QOSGrpNodeLimit',  # 45
    'QOSGrpSubmitJobsLimit',  # 46
    'QOSGrpWallLimit',  # 47
    'QOSMaxCpuPerJobLimit',  # 48
    'QOSMaxCpuMinutesPerJobLimit',  # 49
    'QOSMaxNodePerJobLimit',  # 50
    'QOSMaxWallDurationPerJobLimit',  # 51
    'QOSMaxCpuPerUserLimit',  # 52
    'QOSMaxJobsPerUserLimit',  # 53
    'QOSMaxNodePerUserLimit',  # 54
    'QOSMaxSubmitJobPerUserLimit',  # 55
    'QOSMinCpuNotSatisfied',  # 56
    'AssocGrpCpuLimit',  # 57
    'AssocGrpCPUMinutesLimit',  # 58
    'AssocGrpCPURunMinutesLimit',  # 59
    'AssocGrpJobsLimit',  # 60 (Appendix A says AssocGrpMemLimit: an extraction slip)
    'AssocGrpMemLimit',  # 61
    'AssocGrpNodeLimit',  # 62
    'AssocGrpSubmitJobsLimit',  # 63
    'AssocGrpWallLimit',  # 64
    'AssocMaxJobsLimit',  # 65
    'AssocMaxCpuPerJobLimit',  # 66
    'AssocMaxCpuMinutesPerJobLimit',  # 67
    'AssocMaxNodePerJobLimit',  # 68
    'AssocMaxWallDurationPerJobLimit',  # 69
    'AssocMaxSubmitJobLimit',  # 70
    'JobHoldMaxRequeue',  # 71
    'JobArrayTaskLimit',  # 72
    'BurstBufferResources',  # 73
    'BurstBufferStageIn',  # 74
    'BurstBufferOperation',  # 75
    'PowerNotAvail',  # 76
    'PowerReserved',  # 77
    'AssocGrpUnknown',  # 78
    'AssocGrpUnknownMinutes',  # 79
    'AssocGrpUnknownRunMinutes',  # 80
    'AssocMaxUnknownPerJob',  # 81
    'AssocMaxUnknownPerNode',  # 82
    'AssocMaxUnknownMinutesPerJob',  # 83
    'AssocMaxCpuPerNode',  # 84
    'AssocGrpMemMinutes',  # 85
    'AssocGrpMemRunMinutes',  # 86
    'AssocMaxMemPerJob',  # 87
    'AssocMaxMemPerNode',  # 88
    'AssocMaxMemMinutesPerJob',  # 89
    'AssocGrpNodeMinutes',  # 90
    'AssocGrpNodeRunMinutes',  # 91
    'AssocMaxNodeMinutesPerJob',  # 92
    'AssocGrpEnergy',  # 93
    'AssocGrpEnergyMinutes',  # 94
    'AssocGrpEnergyRunMinutes',  # 95
    'AssocMaxEnergyPerJob',  # 96
    'AssocMaxEnergyPerNode',  # 97
    'AssocMaxEnergyMinutesPerJob',  # 98
    'AssocGrpGRES',  # 99
    'AssocGrpGRESMinutes',  # 100
    'AssocGrpGRESRunMinutes',  # 101
    'AssocMaxGRESPerJob',  # 102
    'AssocMaxGRESPerNode',  # 103
    'AssocMaxGRESMinutesPerJob',  # 104
    'AssocGrpLicense',  # 105
    'AssocGrpLicenseMinutes',  # 106
    'AssocGrpLicenseRunMinutes',  # 107
    'AssocMaxLicensePerJob',  # 108
    'AssocMaxLicenseMinutesPerJob',  # 109
    'AssocGrpBB',  # 110
    'AssocGrpBBMinutes',  # 111
    'AssocGrpBBRunMinutes',  # 112
    'AssocMaxBBPerJob',  # 113
    'AssocMaxBBPerNode',  # 114
    'AssocMaxBBMinutesPerJob',  # 115
    'QOSGrpUnknown',  # 116
    'QOSGrpUnknownMinutes',  # 117
    'QOSGrpUnknownRunMinutes',  # 118
    'QOSMaxUnknownPerJob',  # 119
    'QOSMaxUnknownPerNode',  # 120
    'QOSMaxUnknownPerUser',  # 121
    'QOSMaxUnknownMinutesPerJob',  # 122
    'QOSMinUnknown',  # 123
    'QOSMaxCpuPerNode',  # 124
    'QOSGrpMemoryMinutes',  # 125
    'QOSGrpMemoryRunMinutes',  # 126
    'QOSMaxMemoryMinutesPerJob',  # 127
    'QOSMaxMemoryPerJob',  # 128
    'QOSMaxMemoryPerNode',  # 129
    'QOSMaxMemoryPerUser',  # 130
    'QOSMinMemory',  # 131
    'QOSGrpEnergy',  # 132
    'QOSGrpEnergyMinutes',  # 133
    'QOSGrpEnergyRunMinutes',  # 134
    'QOSMaxEnergyPerJob',  # 135
    'QOSMaxEnergyPerNode',  # 136
    'QOSMaxEnergyPerUser',  # 137
    'QOSMaxEnergyMinutesPerJob',  # 138
    'QOSMinEnergy',  # 139
    'QOSGrpNodeMinutes',  # 140
    'QOSGrpNodeRunMinutes',  # 141
    'QOSMaxNodeMinutesPerJob',  # 142
    'QOSMinNode',  # 143
    'QOSGrpGRES',  # 144
    'QOSGrpGRESMinutes',  # 145
    'QOSGrpGRESRunMinutes',  # 146
    'QOSMaxGRESPerJob',  # 147
    'QOSMaxGRESPerNode',  # 148
    'QOSMaxGRESPerUser',  # 149
    'QOSMaxGRESMinutesPerJob',  # 150
    'QOSMinGRES',  # 151
    'QOSGrpLicense',  # 152
    'QOSGrpLicenseMinutes',  # 153
    'QOSGrpLicenseRunMinutes',  # 154
    'QOSMaxLicensePerJob',  # 155
    'QOSMaxLicensePerUser',  # 156
    'QOSMaxLicenseMinutesPerJob',  # 157
    'QOSMinLicense',  # 158
    'QOSGrpBB',  # 159
    'QOSGrpBBMinutes',  # 160
    'QOSGrpBBRunMinutes',  # 161
    'QOSMaxBBPerJob',  # 162
    'QOSMaxBBPerNode',  # 163
    'QOSMaxBBPerUser',  # 164
    'AssocMaxBBMinutesPerJob',  # 165
    'QOSMinBB',  # 166
    'DeadLine',  # 167
    'MaxBBPerAccount',  # 168
    'MaxCpuPerAccount',  # 169
    'MaxEnergyPerAccount',  # 170
    'MaxGRESPerAccount',  # 171
    'MaxNodePerAccount',  # 172
    'MaxLicensePerAccount',  # 173
    'MaxMemoryPerAccount',  # 174
    'MaxUnknownPerAccount',  # 175
    'MaxJobsPerAccount',  # 176
    'MaxSubmitJobsPerAccount',  # 177
    'PartitionConfig',  # 178
    'AccountingPolicy',  # 179
    'FedJobLock',  # 180
    'OutOfMemory',  # 181
    'MaxMemPerLimit',  # 182
    'AssocGrpBilling',  # 183
    'AssocGrpBillingMinutes',  # 184
    'AssocGrpBillingRunMinutes',  # 185
    'AssocMaxBillingPerJob',  # 186
    'AssocMaxBillingPerNode',  # 187
    'AssocMaxBillingMinutesPerJob',  # 188
    'QOSGrpBilling',  # 189
    'QOSGrpBillingMinutes',  # 190
    'QOSGrpBillingRunMinutes',  # 191
    'QOSMaxBillingPerJob',  # 192
    'QOSMaxBillingPerNode',  # 193
    'QOSMaxBillingPerUser',  # 194
    'QOSMaxBillingMinutesPerJob',  # 195
    'MaxBillingPerAccount',  # 196
    'QOSMinBilling',  # 197
    'ReservationDeleted',  # 198
)


def job_reason_string(reason: int) -> str:
    """Slurm's ``job_reason_string``: ``"Priority"``, ``"JobHeldUser"`` …; the number in
    decimal for one Slurm does not know.

    slurmrestd v0.0.38 prints it as is in a job's ``state_reason``.
    """
    if 0 <= reason < len(_JOB_REASON_STRINGS):
        return _JOB_REASON_STRINGS[reason]
    return str(reason)


# Where job_reason_num() differs from "the first reason with that string".
_JOB_REASON_NUM_EXCEPTIONS = {
    "SCHEDDEFER": None,  # job_reason_num() does not know FAIL_DEFER's string
}


def job_reason_num(text: str) -> int:
    """Slurm's ``job_reason_num``: the reason a ``job_reason_string`` names (any case).

    Strings shared by two reasons give the one Slurm picks. ValueError where Slurm returns
    NO_VAL.
    """
    key = _upper(text)
    number = _JOB_REASON_NUM_EXCEPTIONS.get(key, -1)
    if number == -1:
        number = next((n for n, known in enumerate(_JOB_REASON_STRINGS)
                       if _upper(known) == key), None)
    if number is None:
        raise ValueError(f"unknown job state reason: {text}")
    return int(number)


# --------------------------------------------------------------------------------------------
# show_flags (u16) of info requests; echoed in job records.


# slurmrestd v0.0.38's job ``show_flags`` list: these names, this order.
SHOW_FLAG_NAMES = (
    (SHOW_ALL, "SHOW_ALL"),
    (SHOW_DETAIL, "SHOW_DETAIL"),
    (SHOW_MIXED, "SHOW_MIXED"),
    (SHOW_LOCAL, "SHOW_LOCAL"),
    (SHOW_SIBLING, "SHOW_SIBLING"),
    (SHOW_FEDERATION, "SHOW_FEDERATION"),
    (SHOW_FUTURE, "SHOW_FUTURE"),
)


# --------------------------------------------------------------------------------------------
# Job bitflags (u64).

KILL_INV_DEP = _bit(0)
NO_KILL_INV_DEP = _bit(1)
HAS_STATE_DIR = _bit(2)
BACKFILL_TEST = _bit(3)
GRES_ENFORCE_BIND = _bit(4)
TEST_NOW_ONLY = _bit(5)
JOB_SEND_ENV = _bit(6)
# bit 7 was NODE_REBOOT (deprecated)
SPREAD_JOB = _bit(8)
USE_MIN_NODES = _bit(9)
JOB_KILL_HURRY = _bit(10)
TRES_STR_CALC = _bit(11)
SIB_JOB_FLUSH = _bit(12)
HET_JOB_FLAG = _bit(13)
JOB_NTASKS_SET = _bit(14)
JOB_CPUS_SET = _bit(15)
BF_WHOLE_NODE_TEST = _bit(16)
TOP_PRIO_TMP = _bit(17)
JOB_ACCRUE_OVER = _bit(18)
GRES_DISABLE_BIND = _bit(19)
JOB_WAS_RUNNING = _bit(20)
RESET_ACCRUE_TIME = _bit(21)
CRON_JOB = _bit(22)
JOB_MEM_SET = _bit(23)
JOB_RESIZED = _bit(24)
JOB_DEPENDENT = _bit(29)
JOB_MAGNETIC = _bit(30)
JOB_PART_ASSIGNED = _bit(31)
JOB_SEND_SCRIPT = _bit(35)

# Every named bit, by macro name, in bit order.
JOB_BITFLAG_NAMES = tuple((value, name) for name, value in (
    ("KILL_INV_DEP", KILL_INV_DEP), ("NO_KILL_INV_DEP", NO_KILL_INV_DEP),
    ("HAS_STATE_DIR", HAS_STATE_DIR), ("BACKFILL_TEST", BACKFILL_TEST),
    ("GRES_ENFORCE_BIND", GRES_ENFORCE_BIND), ("TEST_NOW_ONLY", TEST_NOW_ONLY),
    ("JOB_SEND_ENV", JOB_SEND_ENV), ("SPREAD_JOB", SPREAD_JOB),
    ("USE_MIN_NODES", USE_MIN_NODES), ("JOB_KILL_HURRY", JOB_KILL_HURRY),
    ("TRES_STR_CALC", TRES_STR_CALC), ("SIB_JOB_FLUSH", SIB_JOB_FLUSH),
    ("HET_JOB_FLAG", HET_JOB_FLAG), ("JOB_NTASKS_SET", JOB_NTASKS_SET),
    ("JOB_CPUS_SET", JOB_CPUS_SET), ("BF_WHOLE_NODE_TEST", BF_WHOLE_NODE_TEST),
    ("TOP_PRIO_TMP", TOP_PRIO_TMP), ("JOB_ACCRUE_OVER", JOB_ACCRUE_OVER),
    ("GRES_DISABLE_BIND", GRES_DISABLE_BIND), ("JOB_WAS_RUNNING", JOB_WAS_RUNNING),
    ("RESET_ACCRUE_TIME", RESET_ACCRUE_TIME), ("CRON_JOB", CRON_JOB),
    ("JOB_MEM_SET", JOB_MEM_SET), ("JOB_RESIZED", JOB_RESIZED),
    ("USE_DEFAULT_ACCT", USE_DEFAULT_ACCT), ("USE_DEFAULT_PART", USE_DEFAULT_PART),
    ("USE_DEFAULT_QOS", USE_DEFAULT_QOS), ("USE_DEFAULT_WCKEY", USE_DEFAULT_WCKEY),
    ("JOB_DEPENDENT", JOB_DEPENDENT), ("JOB_MAGNETIC", JOB_MAGNETIC),
    ("JOB_PART_ASSIGNED", JOB_PART_ASSIGNED), ("BACKFILL_SCHED", BACKFILL_SCHED),
    ("BACKFILL_LAST", BACKFILL_LAST), ("JOB_SEND_SCRIPT", JOB_SEND_SCRIPT),
))

# slurmrestd v0.0.38's job ``flags`` list (jobs.c): only these, in this order.
RESTD_JOB_FLAG_NAMES = tuple((value, name) for name, value in (
    ("KILL_INV_DEP", KILL_INV_DEP), ("NO_KILL_INV_DEP", NO_KILL_INV_DEP),
    ("HAS_STATE_DIR", HAS_STATE_DIR), ("BACKFILL_TEST", BACKFILL_TEST),
    ("GRES_ENFORCE_BIND", GRES_ENFORCE_BIND), ("TEST_NOW_ONLY", TEST_NOW_ONLY),
    ("SPREAD_JOB", SPREAD_JOB), ("USE_MIN_NODES", USE_MIN_NODES),
    ("JOB_KILL_HURRY", JOB_KILL_HURRY), ("TRES_STR_CALC", TRES_STR_CALC),
    ("SIB_JOB_FLUSH", SIB_JOB_FLUSH), ("HET_JOB_FLAG", HET_JOB_FLAG),
    ("JOB_CPUS_SET", JOB_CPUS_SET), ("TOP_PRIO_TMP", TOP_PRIO_TMP),
    ("JOB_ACCRUE_OVER", JOB_ACCRUE_OVER), ("GRES_DISABLE_BIND", GRES_DISABLE_BIND),
    ("JOB_WAS_RUNNING", JOB_WAS_RUNNING), ("JOB_MEM_SET", JOB_MEM_SET),
    ("JOB_RESIZED", JOB_RESIZED),
))


# --------------------------------------------------------------------------------------------
# Partitions: flags (u16), state_up (u16), preempt_mode (u16).

PART_FLAG_DEFAULT = 0x0001
PART_FLAG_HIDDEN = 0x0002
PART_FLAG_NO_ROOT = 0x0004
PART_FLAG_ROOT_ONLY = 0x0008
PART_FLAG_REQ_RESV = 0x0010
PART_FLAG_LLN = 0x0020
PART_FLAG_EXCLUSIVE_USER = 0x0040
# Update requests only: clear the flag of the same name.
PART_FLAG_DEFAULT_CLR = 0x0100
PART_FLAG_HIDDEN_CLR = 0x0200
PART_FLAG_NO_ROOT_CLR = 0x0400
PART_FLAG_ROOT_ONLY_CLR = 0x0800
PART_FLAG_REQ_RESV_CLR = 0x1000
PART_FLAG_LLN_CLR = 0x2000
PART_FLAG_EXC_USER_CLR = 0x4000

# Macro names (without PART_FLAG_), in bit order.
PARTITION_FLAG_NAMES = (
    (PART_FLAG_DEFAULT, "DEFAULT"),
    (PART_FLAG_HIDDEN, "HIDDEN"),
    (PART_FLAG_NO_ROOT, "NO_ROOT"),
    (PART_FLAG_ROOT_ONLY, "ROOT_ONLY"),
    (PART_FLAG_REQ_RESV, "REQ_RESV"),
    (PART_FLAG_LLN, "LLN"),
    (PART_FLAG_EXCLUSIVE_USER, "EXCLUSIVE_USER"),
)

# slurmrestd v0.0.38's partition ``flags`` list (partitions.c): lower-case words of its own.
RESTD_PARTITION_FLAG_NAMES = (
    (PART_FLAG_DEFAULT, "default"),
    (PART_FLAG_HIDDEN, "hidden"),
    (PART_FLAG_NO_ROOT, "no_root"),
    (PART_FLAG_ROOT_ONLY, "root_only"),
    (PART_FLAG_REQ_RESV, "reservation_required"),
    (PART_FLAG_LLN, "least_loaded_nodes"),
    (PART_FLAG_EXCLUSIVE_USER, "exclusive_user"),
)

PARTITION_SUBMIT = 0x01
PARTITION_SCHED = 0x02
PARTITION_INACTIVE = 0x00
PARTITION_DOWN = PARTITION_SUBMIT
PARTITION_DRAIN = PARTITION_SCHED
PARTITION_UP = PARTITION_SUBMIT | PARTITION_SCHED

_PARTITION_STATES = {PARTITION_UP: "UP", PARTITION_DOWN: "DOWN",
                     PARTITION_INACTIVE: "INACTIVE", PARTITION_DRAIN: "DRAIN"}


def partition_state_string(state_up: int) -> str:
    """``"UP"``, ``"DOWN"``, ``"INACTIVE"``, ``"DRAIN"`` or ``"UNKNOWN"``.

    slurmrestd v0.0.38's partition ``state`` (upper case, as is); scontrol's State= is the
    same words.
    """
    return _PARTITION_STATES.get(state_up, "UNKNOWN")


PREEMPT_MODE_OFF = 0x0000
PREEMPT_MODE_SUSPEND = 0x0001
PREEMPT_MODE_REQUEUE = 0x0002
PREEMPT_MODE_CANCEL = 0x0008
PREEMPT_MODE_COND_OFF = 0x0010
PREEMPT_MODE_WITHIN = 0x4000
PREEMPT_MODE_GANG = 0x8000


def preempt_mode_string(mode: int) -> str:
    """Slurm's ``preempt_mode_string``: ``"OFF"``, ``"GANG,SUSPEND"``, ``"UNKNOWN"`` …"""
    if mode == PREEMPT_MODE_OFF:
        return "OFF"
    if mode == PREEMPT_MODE_GANG:
        return "GANG"
    if mode == PREEMPT_MODE_WITHIN:
        return "WITHIN"
    prefix = ""
    if mode & PREEMPT_MODE_GANG:
        prefix, mode = "GANG,", mode & ~PREEMPT_MODE_GANG
    elif mode & PREEMPT_MODE_WITHIN:
        prefix, mode = "WITHIN,", mode & ~PREEMPT_MODE_WITHIN
    word = {PREEMPT_MODE_CANCEL: "CANCEL", PREEMPT_MODE_REQUEUE: "REQUEUE",
            PREEMPT_MODE_SUSPEND: "SUSPEND"}.get(mode)
    if word is None:
        return prefix + "UNKNOWN"
    return prefix + word


def preempt_mode_num(text: str) -> int:
    """Slurm's ``preempt_mode_num`` (``"gang,suspend"`` -> 0x8001); ValueError where Slurm
    returns NO_VAL16 (unknown word, two modes, GANG with WITHIN)."""
    mode, modes = 0, 0
    for word in text.split(","):
        if not word:
            continue  # strtok skips empty tokens
        word = _upper(word)
        if word == "GANG":
            mode |= PREEMPT_MODE_GANG
        elif word == "WITHIN":
            mode |= PREEMPT_MODE_WITHIN
        elif word in ("OFF", "CLUSTER"):
            modes += 1
        elif word == "CANCEL":
            mode += PREEMPT_MODE_CANCEL
            modes += 1
        elif word == "REQUEUE":
            mode += PREEMPT_MODE_REQUEUE
            modes += 1
        elif word in ("ON", "SUSPEND"):
            mode += PREEMPT_MODE_SUSPEND
            modes += 1
        else:
            raise ValueError(f"invalid preempt mode: {text}")
    if modes > 1 or (mode & PREEMPT_MODE_GANG and mode & PREEMPT_MODE_WITHIN):
        raise ValueError(f"invalid preempt mode: {text}")
    return mode


def restd_preempt_mode_names(mode: int) -> list[str]:
    """slurmrestd v0.0.38's partition ``preemption_mode`` list.

    ``["disabled"]`` for OFF or NO_VAL16, else any of ``suspend``, ``requeue``,
    ``gang_schedule``, ``within`` in that order. CANCEL has no word there (a CANCEL-only
    partition gives ``[]``).
    """
    if mode in (PREEMPT_MODE_OFF, NO_VAL16):
        return ["disabled"]
    return flag_names(mode, ((PREEMPT_MODE_SUSPEND, "suspend"),
                             (PREEMPT_MODE_REQUEUE, "requeue"),
                             (PREEMPT_MODE_GANG, "gang_schedule"),
                             (PREEMPT_MODE_WITHIN, "within")))


# --------------------------------------------------------------------------------------------
# Reservation flags (u64).

RESERVE_FLAG_MAINT = _bit(0)
RESERVE_FLAG_NO_MAINT = _bit(1)
RESERVE_FLAG_DAILY = _bit(2)
RESERVE_FLAG_NO_DAILY = _bit(3)
RESERVE_FLAG_WEEKLY = _bit(4)
RESERVE_FLAG_NO_WEEKLY = _bit(5)
RESERVE_FLAG_IGN_JOBS = _bit(6)
RESERVE_FLAG_NO_IGN_JOB = _bit(7)
RESERVE_FLAG_ANY_NODES = _bit(8)
RESERVE_FLAG_NO_ANY_NODES = _bit(9)
RESERVE_FLAG_STATIC = _bit(10)
RESERVE_FLAG_NO_STATIC = _bit(11)
RESERVE_FLAG_PART_NODES = _bit(12)
RESERVE_FLAG_NO_PART_NODES = _bit(13)
RESERVE_FLAG_OVERLAP = _bit(14)
RESERVE_FLAG_SPEC_NODES = _bit(15)
RESERVE_FLAG_FIRST_CORES = _bit(16)
RESERVE_FLAG_TIME_FLOAT = _bit(17)
RESERVE_FLAG_REPLACE = _bit(18)
RESERVE_FLAG_ALL_NODES = _bit(19)
RESERVE_FLAG_PURGE_COMP = _bit(20)
RESERVE_FLAG_WEEKDAY = _bit(21)
RESERVE_FLAG_NO_WEEKDAY = _bit(22)
RESERVE_FLAG_WEEKEND = _bit(23)
RESERVE_FLAG_NO_WEEKEND = _bit(24)
RESERVE_FLAG_FLEX = _bit(25)
RESERVE_FLAG_NO_FLEX = _bit(26)
RESERVE_FLAG_DUR_PLUS = _bit(27)
RESERVE_FLAG_DUR_MINUS = _bit(28)
RESERVE_FLAG_NO_HOLD_JOBS = _bit(29)
RESERVE_FLAG_REPLACE_DOWN = _bit(30)
RESERVE_FLAG_NO_PURGE_COMP = _bit(31)
RESERVE_FLAG_MAGNETIC = _bit(32)
RESERVE_FLAG_NO_MAGNETIC = _bit(33)
RESERVE_FLAG_SKIP = _bit(34)
RESERVE_FLAG_HOURLY = _bit(35)
RESERVE_FLAG_NO_HOURLY = _bit(36)

# reservation_flags_string() order and words. The bits without a word (NO_IGN_JOB,
# NO_WEEKDAY, NO_WEEKEND, NO_FLEX, DUR_PLUS, DUR_MINUS, NO_PURGE_COMP, SKIP) are request-only.
RESERVATION_FLAG_NAMES = (
    (RESERVE_FLAG_MAINT, "MAINT"),
    (RESERVE_FLAG_NO_MAINT, "NO_MAINT"),
    (RESERVE_FLAG_FLEX, "FLEX"),
    (RESERVE_FLAG_OVERLAP, "OVERLAP"),
    (RESERVE_FLAG_IGN_JOBS, "IGNORE_JOBS"),
    (RESERVE_FLAG_HOURLY, "HOURLY"),
    (RESERVE_FLAG_NO_HOURLY, "NO_HOURLY"),
    (RESERVE_FLAG_DAILY, "DAILY"),
    (RESERVE_FLAG_NO_DAILY, "NO_DAILY"),
    (RESERVE_FLAG_WEEKDAY, "WEEKDAY"),
    (RESERVE_FLAG_WEEKEND, "WEEKEND"),
    (RESERVE_FLAG_WEEKLY, "WEEKLY"),
    (RESERVE_FLAG_NO_WEEKLY, "NO_WEEKLY"),
    (RESERVE_FLAG_SPEC_NODES, "SPEC_NODES"),
    (RESERVE_FLAG_ALL_NODES, "ALL_NODES"),
    (RESERVE_FLAG_ANY_NODES, "ANY_NODES"),
    (RESERVE_FLAG_NO_ANY_NODES, "NO_ANY_NODES"),
    (RESERVE_FLAG_STATIC, "STATIC"),
    (RESERVE_FLAG_NO_STATIC, "NO_STATIC"),
    (RESERVE_FLAG_PART_NODES, "PART_NODES"),
    (RESERVE_FLAG_NO_PART_NODES, "NO_PART_NODES"),
    (RESERVE_FLAG_FIRST_CORES, "FIRST_CORES"),
    (RESERVE_FLAG_TIME_FLOAT, "TIME_FLOAT"),
    (RESERVE_FLAG_REPLACE, "REPLACE"),
    (RESERVE_FLAG_REPLACE_DOWN, "REPLACE_DOWN"),
    (RESERVE_FLAG_PURGE_COMP, "PURGE_COMP"),
    (RESERVE_FLAG_NO_HOLD_JOBS, "NO_HOLD_JOBS_AFTER_END"),
    (RESERVE_FLAG_MAGNETIC, "MAGNETIC"),
    (RESERVE_FLAG_NO_MAGNETIC, "NO_MAGNETIC"),
)

# slurmrestd v0.0.38's reservation ``flags`` list (reservations.c ``res_flags[]``): the same
# words and order without PURGE_COMP, which it reports as ``purge_completed: {"time": …}``.
RESTD_RESERVATION_FLAG_NAMES = tuple(
    (bit, name) for bit, name in RESERVATION_FLAG_NAMES if bit != RESERVE_FLAG_PURGE_COMP)


def secs2time_str(seconds: int) -> str:
    """Slurm's ``secs2time_str``: ``"[days-]hh:mm:ss"``, ``"UNLIMITED"`` for INFINITE."""
    if seconds == INFINITE:
        return "UNLIMITED"
    if seconds < 0:
        return "INVALID"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}-{clock}" if days else clock


def reservation_flags_string(flags: int, purge_comp_time: int = 0) -> str:
    """Slurm's ``reservation_flags_string`` (scontrol's ``Flags=``): ``"MAINT,SPEC_NODES"``.

    PURGE_COMP carries its time when the reservation has one: ``PURGE_COMP=00:05:00``.
    """
    words = []
    for bit, name in RESERVATION_FLAG_NAMES:
        if flags & bit:
            if bit == RESERVE_FLAG_PURGE_COMP and purge_comp_time:
                name = f"PURGE_COMP={secs2time_str(purge_comp_time)}"
            words.append(name)
    return ",".join(words)


# --------------------------------------------------------------------------------------------
# Kill, warn and mail flags (u16).

KILL_JOB_BATCH = _bit(0)
KILL_JOB_ARRAY = _bit(1)
KILL_STEPS_ONLY = _bit(2)
KILL_FED_REQUEUE = _bit(4)
KILL_HURRY = _bit(5)
KILL_OOM = _bit(6)
KILL_NO_SIBS = _bit(7)
KILL_JOB_RESV = _bit(8)
WARN_SENT = _bit(15)

KILL_FLAG_NAMES = tuple((value, name) for name, value in (
    ("KILL_JOB_BATCH", KILL_JOB_BATCH), ("KILL_JOB_ARRAY", KILL_JOB_ARRAY),
    ("KILL_STEPS_ONLY", KILL_STEPS_ONLY), ("KILL_FULL_JOB", KILL_FULL_JOB),
    ("KILL_FED_REQUEUE", KILL_FED_REQUEUE), ("KILL_HURRY", KILL_HURRY),
    ("KILL_OOM", KILL_OOM), ("KILL_NO_SIBS", KILL_NO_SIBS),
    ("KILL_JOB_RESV", KILL_JOB_RESV), ("WARN_SENT", WARN_SENT),
))

MAIL_JOB_BEGIN = _bit(0)
MAIL_JOB_END = _bit(1)
MAIL_JOB_FAIL = _bit(2)
MAIL_JOB_REQUEUE = _bit(3)
MAIL_JOB_TIME100 = _bit(4)
MAIL_JOB_TIME90 = _bit(5)
MAIL_JOB_TIME80 = _bit(6)
MAIL_JOB_TIME50 = _bit(7)
MAIL_JOB_STAGE_OUT = _bit(8)
MAIL_ARRAY_TASKS = _bit(9)
MAIL_INVALID_DEPEND = _bit(10)

# print_mail_type() order and words (what --mail-type takes, too).
MAIL_TYPE_NAMES = (
    (MAIL_ARRAY_TASKS, "ARRAY_TASKS"),
    (MAIL_INVALID_DEPEND, "INVALID_DEPEND"),
    (MAIL_JOB_BEGIN, "BEGIN"),
    (MAIL_JOB_END, "END"),
    (MAIL_JOB_FAIL, "FAIL"),
    (MAIL_JOB_REQUEUE, "REQUEUE"),
    (MAIL_JOB_STAGE_OUT, "STAGE_OUT"),
    (MAIL_JOB_TIME50, "TIME_LIMIT_50"),
    (MAIL_JOB_TIME80, "TIME_LIMIT_80"),
    (MAIL_JOB_TIME90, "TIME_LIMIT_90"),
    (MAIL_JOB_TIME100, "TIME_LIMIT"),
)
_MAIL_ALL = (MAIL_INVALID_DEPEND | MAIL_JOB_BEGIN | MAIL_JOB_END | MAIL_JOB_FAIL
             | MAIL_JOB_REQUEUE | MAIL_JOB_STAGE_OUT)


def mail_type_string(mail_type: int) -> str:
    """Slurm's ``print_mail_type``: ``"NONE"`` or ``"BEGIN,END"`` …"""
    if mail_type == 0:
        return "NONE"
    return ",".join(flag_names(mail_type, MAIL_TYPE_NAMES))


def mail_type_from_string(text: str) -> int:
    """Slurm's ``parse_mail_type`` (``--mail-type``): comma-separated, case-insensitive words.

    ``ALL`` is BEGIN, END, FAIL, REQUEUE, STAGE_OUT and INVALID_DEPEND; ``NONE`` gives 0 and
    stops. Like Slurm, unknown words are skipped; ValueError where Slurm returns INFINITE16
    (nothing recognised).
    """
    value, none = 0, False
    words = {name: bit for bit, name in MAIL_TYPE_NAMES}
    for word in (_upper(w) for w in text.split(",") if w):
        if word == "NONE":
            value, none = 0, True
            break
        if word == "ALL":
            value |= _MAIL_ALL
        else:
            value |= words.get(word, 0)
    if not value and not none:
        raise ValueError(f"invalid mail type: {text}")
    return value


# --------------------------------------------------------------------------------------------
# Consumable resources (cr_type, select_type_param) and PrivateData (u16).

CR_CPU = 0x0001
CR_SOCKET = 0x0002
CR_CORE = 0x0004
CR_BOARD = 0x0008
CR_MEMORY = 0x0010
CR_OTHER_CONS_RES = 0x0020
CR_ONE_TASK_PER_CORE = 0x0100
CR_PACK_NODES = 0x0200
CR_OTHER_CONS_TRES = 0x0800
CR_CORE_DEFAULT_DIST_BLOCK = 0x1000
CR_LLN = 0x4000


def select_type_param_string(param: int) -> str:
    """Slurm's ``select_type_param_string``: ``"CR_CORE_MEMORY,CR_LLN"``, ``"NONE"`` …"""
    words = []
    for bits, word in ((CR_CPU | CR_MEMORY, "CR_CPU_MEMORY"),
                       (CR_CORE | CR_MEMORY, "CR_CORE_MEMORY"),
                       (CR_SOCKET | CR_MEMORY, "CR_SOCKET_MEMORY"),
                       (CR_CPU, "CR_CPU"), (CR_CORE, "CR_CORE"), (CR_SOCKET, "CR_SOCKET"),
                       (CR_MEMORY, "CR_MEMORY")):
        if param & bits == bits:
            words.append(word)
            break
    words += flag_names(param, ((CR_OTHER_CONS_RES, "OTHER_CONS_RES"),
                                (CR_OTHER_CONS_TRES, "OTHER_CONS_TRES"),
                                (CR_ONE_TASK_PER_CORE, "CR_ONE_TASK_PER_CORE"),
                                (CR_CORE_DEFAULT_DIST_BLOCK, "CR_CORE_DEFAULT_DIST_BLOCK"),
                                (CR_LLN, "CR_LLN"),
                                (CR_PACK_NODES, "CR_PACK_NODES")))
    return ",".join(words) or "NONE"


PRIVATE_DATA_JOBS = _bit(0)
PRIVATE_DATA_NODES = _bit(1)
PRIVATE_DATA_PARTITIONS = _bit(2)
PRIVATE_DATA_USAGE = _bit(3)
PRIVATE_DATA_USERS = _bit(4)
PRIVATE_DATA_ACCOUNTS = _bit(5)
PRIVATE_DATA_RESERVATIONS = _bit(6)
PRIVATE_CLOUD_NODES = _bit(7)
PRIVATE_DATA_EVENTS = _bit(8)

# private_data_string() order and words (lower case in Slurm itself).
PRIVATE_DATA_NAMES = (
    (PRIVATE_DATA_ACCOUNTS, "accounts"),
    (PRIVATE_CLOUD_NODES, "cloud"),
    (PRIVATE_DATA_EVENTS, "events"),
    (PRIVATE_DATA_JOBS, "jobs"),
    (PRIVATE_DATA_NODES, "nodes"),
    (PRIVATE_DATA_PARTITIONS, "partitions"),
    (PRIVATE_DATA_RESERVATIONS, "reservations"),
    (PRIVATE_DATA_USAGE, "usage"),
    (PRIVATE_DATA_USERS, "users"),
)


def private_data_string(private_data: int) -> str:
    """Slurm's ``private_data_string``: ``"jobs,nodes"`` or ``"none"``."""
    return ",".join(flag_names(private_data, PRIVATE_DATA_NAMES)) or "none"


# --------------------------------------------------------------------------------------------
# Small job enums: shared/oversubscribe, open mode, X11, profile.

JOB_SHARED_NONE = 0
JOB_SHARED_OK = 1
JOB_SHARED_USER = 2
JOB_SHARED_MCS = 3


def job_share_string(shared: int) -> str:
    """Slurm's ``job_share_string`` (scontrol's ``OverSubscribe=``): NO, YES, USER, MCS, OK."""
    return {JOB_SHARED_NONE: "NO", JOB_SHARED_OK: "YES", JOB_SHARED_USER: "USER",
            JOB_SHARED_MCS: "MCS"}.get(shared, "OK")


def restd_job_shared(shared: int) -> str | int | None:
    """slurmrestd v0.0.38's job ``shared``: none, shared, user, mcs; None (null) for NO_VAL16;
    the number itself for anything else."""
    if shared == NO_VAL16:
        return None
    return {JOB_SHARED_NONE: "none", JOB_SHARED_OK: "shared", JOB_SHARED_USER: "user",
            JOB_SHARED_MCS: "mcs"}.get(shared, shared)


OPEN_MODE_APPEND = 1
OPEN_MODE_TRUNCATE = 2
OPEN_MODE_NAMES = {OPEN_MODE_APPEND: "append", OPEN_MODE_TRUNCATE: "truncate"}

X11_FORWARD_ALL = 0x0001
X11_FORWARD_BATCH = 0x0002
X11_FORWARD_FIRST = 0x0004
X11_FORWARD_LAST = 0x0008
X11_FORWARD_NAMES = ((X11_FORWARD_ALL, "all"), (X11_FORWARD_BATCH, "batch"),
                     (X11_FORWARD_FIRST, "first"), (X11_FORWARD_LAST, "last"))

ACCT_GATHER_PROFILE_NOT_SET = 0x00000000
ACCT_GATHER_PROFILE_NONE = 0x00000001
ACCT_GATHER_PROFILE_ENERGY = 0x00000002
ACCT_GATHER_PROFILE_TASK = 0x00000004
ACCT_GATHER_PROFILE_LUSTRE = 0x00000008
ACCT_GATHER_PROFILE_NETWORK = 0x00000010
ACCT_GATHER_PROFILE_ALL = 0xFFFFFFFF


def restd_profile_names(profile: int) -> list[str] | None:
    """slurmrestd v0.0.38's job ``profile``: None (null) when NOT_SET, else a list of
    ``None``, ``Energy``, ``Lustre``, ``Network``, ``Task`` in that order."""
    if profile == ACCT_GATHER_PROFILE_NOT_SET:
        return None
    names = ["None"] if profile == ACCT_GATHER_PROFILE_NONE else []
    return names + flag_names(profile, ((ACCT_GATHER_PROFILE_ENERGY, "Energy"),
                                        (ACCT_GATHER_PROFILE_LUSTRE, "Lustre"),
                                        (ACCT_GATHER_PROFILE_NETWORK, "Network"),
                                        (ACCT_GATHER_PROFILE_TASK, "Task")))


# --------------------------------------------------------------------------------------------
# Signals, as scancel and slurmrestd's ``DELETE /job/{id}?signal=`` read them.

# signals_mapping[] of proc_args.c: the only names sig_name2num knows.
SIGNAL_NAMES = (
    ("HUP", _signal.SIGHUP), ("INT", _signal.SIGINT), ("QUIT", _signal.SIGQUIT),
    ("ABRT", _signal.SIGABRT), ("KILL", _signal.SIGKILL), ("ALRM", _signal.SIGALRM),
    ("TERM", _signal.SIGTERM), ("USR1", _signal.SIGUSR1), ("USR2", _signal.SIGUSR2),
    ("URG", _signal.SIGURG), ("CONT", _signal.SIGCONT), ("STOP", _signal.SIGSTOP),
    ("TSTP", _signal.SIGTSTP), ("TTIN", _signal.SIGTTIN), ("TTOU", _signal.SIGTTOU),
    ("XCPU", _signal.SIGXCPU),
)
_SIGRTMAX = int(getattr(_signal, "SIGRTMAX", 64))
_C_SPACE = " \t\n\v\f\r"
_LEADING_NUMBER = re.compile(r"[ \t\n\v\f\r]*([+-]?[0-9]+)")


def _c_int(value: int) -> int:
    """strtol's clamp to a C long, then the cast to a 32-bit int, as sig_name2num does."""
    value = max(-(1 << 63), min(value, (1 << 63) - 1)) & 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def sig_name2num(text: str) -> int:
    """Slurm's ``sig_name2num``: a number, or a name with or without ``SIG`` (any case,
    surrounding white space allowed); 0 when neither."""
    number = _LEADING_NUMBER.match(text)
    if number:
        rest = text[number.end():]
        return _c_int(int(number[1])) if not rest.strip(_C_SPACE) else 0
    name = text.lstrip(_C_SPACE)
    if _upper(name[:3]) == "SIG":
        name = name[3:]
    for known, value in SIGNAL_NAMES:
        if _upper(name[:len(known)]) == known and not name[len(known):].strip(_C_SPACE):
            return int(value)
    return 0


def signal_number(signal: str | int) -> int:
    """The signal a ``?signal=`` value names, checked as slurmrestd v0.0.38 checks it.

    ``"KILL"``, ``"SIGKILL"``, ``"kill"``, ``"9"`` and ``9`` all give 9. ValueError with
    slurmrestd's words (``"invalid signal: 0"``) unless 1 <= signal < SIGRTMAX.
    """
    if isinstance(signal, bool):
        raise TypeError("signal must be a string or an integer")
    number = _c_int(signal) if isinstance(signal, int) else sig_name2num(signal)
    if number < 1 or number >= _SIGRTMAX:
        raise ValueError(f"invalid signal: {number}")
    return number


def signal_name(number: int) -> str:
    """Slurm's ``sig_num2name``: ``"KILL"`` for 9, the decimal number for unnamed signals."""
    for name, value in SIGNAL_NAMES:
        if value == number:
            return name
    return str(number)

