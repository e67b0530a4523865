"""Slurm 22.05's enumerations and flag words, in Slurm's own spellings.

Wire integers go in, Slurm's own strings come out (and back, where a request needs them). The
spellings are those of Slurm's C functions (``slurm/slurm.h``, ``src/common/
slurm_protocol_defs.c``, ``proc_args.c`` at tag slurm-22-05-8-1), which is what ``scontrol``
prints. How slurmrestd spells them in its JSON is the API room's business
(``slurmrest.api.spellings``).

Flag tables are tuples of ``(bit, name)`` in the order Slurm prints them;
``flag_names(value, table)`` gives the names of the bits set in that order.

The job state reason strings (``_JOB_REASON_STRINGS``) are generated from Appendix A of
``docs/slurm-22.05-ctld-protocol.md``, with two corrections: reasons 43 and 60 are
"QOSGrpJobsLimit" and "AssocGrpJobsLimit" (the C source writes ``return"…"`` without a space
there, which the appendix's extraction missed). Everything else is written out by hand from the
C source, and the tests compare it with the installed libslurm where there is one.
"""

import re
import signal as _signal


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

# Base names, indexed by state.
JOB_STATE_NAMES = ("PENDING", "RUNNING", "SUSPENDED", "COMPLETED", "CANCELLED", "FAILED",
                   "TIMEOUT", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE",
                   "OUT_OF_MEMORY")

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


# The flags job_state_string() shows instead of the base name: the first one set wins.
_JOB_STATE_SHOWN_FLAGS = tuple((bit, dict(JOB_STATE_FLAG_NAMES)[bit]) for bit in (
    JOB_COMPLETING, JOB_STAGE_OUT, JOB_CONFIGURING, JOB_RESIZING, JOB_REQUEUE, JOB_REQUEUE_FED,
    JOB_REQUEUE_HOLD, JOB_SPECIAL_EXIT, JOB_STOPPED, JOB_REVOKED, JOB_RESV_DEL_HOLD,
    JOB_SIGNALING))


def job_state_base(state: int) -> str:
    """The base state's name (``"PENDING"`` …, ``"?"`` for none), flags ignored."""
    base = state & JOB_STATE_BASE
    return JOB_STATE_NAMES[base] if base < JOB_END else "?"


def job_state_flags(state: int) -> list[str]:
    """The names of the flags set, in ``job_state_string_complete`` order."""
    return flag_names(state, JOB_STATE_FLAG_NAMES)


def job_state_string(state: int) -> str:
    """Slurm's ``job_state_string`` (scontrol's ``JobState=``): the first shown flag set,
    else the base name."""
    for bit, name in _JOB_STATE_SHOWN_FLAGS:
        if state & bit:
            return name
    return job_state_base(state)


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
    """Slurm's ``node_state_base_string``: ``"IDLE"`` …, ``"INVALID"`` for other values
    (a ``next_state`` of NO_VAL, for one)."""
    return NODE_STATE_BASE_NAMES.get(state & NODE_STATE_BASE, "INVALID")


def node_state_flag_names(state: int) -> list[str]:
    """The flags set, as repeated ``node_state_flag_string_single`` calls give them.

    Table order; a set bit Slurm has no name for yields one ``"?"`` each.
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

# Then node_state_string(base) of each bare base state, as update_node.c compares them.
# ERROR (4) prints as "?" there: scontrol would take "State=?" for it; we do not.
_NODE_UPDATE_BASE_WORDS = (
    (NODE_STATE_UNKNOWN, "UNKNOWN"),
    (NODE_STATE_DOWN, "DOWN"),
    (NODE_STATE_IDLE, "IDLE"),
    (NODE_STATE_ALLOCATED, "ALLOCATED"),
    (NODE_STATE_MIXED, "MIXED"),
    (NODE_STATE_FUTURE, "FUTURE"),
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
    for base, word in _NODE_UPDATE_BASE_WORDS:
        if _abbreviates(name, word, 3):
            return base
    raise ValueError(f"invalid node state: {name}")


# --------------------------------------------------------------------------------------------
# Job state reason (state_reason, u16).

# job_reason_string() for each ``enum job_state_reason``, indexed by number (generated
# from Appendix A).
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


#: Reasons later releases added (or whose numbers they moved), under numbers of their own:
#: 1000 + the number in the release that added them. That release's tables translate its
#: numbers into these (``Translated``), so one number means one reason in every record.
LATER_JOB_REASONS = {
    1033: 'RaisedSignal',  # FAIL_SIGNAL
    1199: 'ReservationInvalid',  # WAIT_RESV_INVALID
    1200: 'Constraints',  # FAIL_CONSTRAINTS
    1201: 'MaxBBRunMinsPerAccount',  # WAIT_QOS_MAX_BB_RUN_MINS_PER_ACCT
    1202: 'MaxBillingRunMinsPerAccount',  # WAIT_QOS_MAX_BILLING_RUN_MINS_PER_ACCT
    1203: 'MaxCpuRunMinsPerAccount',  # WAIT_QOS_MAX_CPU_RUN_MINS_PER_ACCT
    1204: 'MaxEnergyRunMinsPerAccount',  # WAIT_QOS_MAX_ENERGY_RUN_MINS_PER_ACCT
    1205: 'MaxGRESRunMinsPerAccount',  # WAIT_QOS_MAX_GRES_RUN_MINS_PER_ACCT
    1206: 'MaxNodeRunMinsPerAccount',  # WAIT_QOS_MAX_NODE_RUN_MINS_PER_ACCT
    1207: 'MaxLicenseRunMinsPerAccount',  # WAIT_QOS_MAX_LIC_RUN_MINS_PER_ACCT
    1208: 'MaxMemoryRunMinsPerAccount',  # WAIT_QOS_MAX_MEM_RUN_MINS_PER_ACCT
    1209: 'MaxUnknownRunMinsPerAccount',  # WAIT_QOS_MAX_UNK_RUN_MINS_PER_ACCT
    1210: 'MaxBBRunMinsPerUser',  # WAIT_QOS_MAX_BB_RUN_MINS_PER_USER
    1211: 'MaxBillingRunMinsPerUser',  # WAIT_QOS_MAX_BILLING_RUN_MINS_PER_USER
    1212: 'MaxCpuRunMinsPerUser',  # WAIT_QOS_MAX_CPU_RUN_MINS_PER_USER
    1213: 'MaxEnergyRunMinsPerUser',  # WAIT_QOS_MAX_ENERGY_RUN_MINS_PER_USER
    1214: 'MaxGRESRunMinsPerUser',  # WAIT_QOS_MAX_GRES_RUN_MINS_PER_USER
    1215: 'MaxNodeRunMinsPerUser',  # WAIT_QOS_MAX_NODE_RUN_MINS_PER_USER
    1216: 'MaxLicenseRunMinsPerUser',  # WAIT_QOS_MAX_LIC_RUN_MINS_PER_USER
    1217: 'MaxMemoryRunMinsPerUser',  # WAIT_QOS_MAX_MEM_RUN_MINS_PER_USER
    1218: 'MaxUnknownRunMinsPerUser',  # WAIT_QOS_MAX_UNK_RUN_MINS_PER_USER
    1219: 'MaxPoweredUpNodes',  # WAIT_MAX_POWERED_NODES
    1220: 'MpiPortsBusy',  # WAIT_MPI_PORTS_BUSY
}


def job_reason_string(reason: int) -> str:
    """Slurm's ``job_reason_string``: ``"Priority"``, ``"JobHeldUser"`` …; the number in
    decimal for one Slurm does not know.

    slurmrestd v0.0.38 prints it as is in a job's ``state_reason``.
    """
    if 0 <= reason < len(_JOB_REASON_STRINGS):
        return _JOB_REASON_STRINGS[reason]
    return LATER_JOB_REASONS.get(reason, str(reason))


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
# USE_DEFAULT_* (bits 25-28) and BACKFILL_* (32, 33) are in primitives: the job_desc packer
# sets them.


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

PARTITION_SUBMIT = 0x01
PARTITION_SCHED = 0x02
PARTITION_INACTIVE = 0x00
PARTITION_DOWN = PARTITION_SUBMIT
PARTITION_DRAIN = PARTITION_SCHED
PARTITION_UP = PARTITION_SUBMIT | PARTITION_SCHED

_PARTITION_STATES = {PARTITION_UP: "UP", PARTITION_DOWN: "DOWN",
                     PARTITION_INACTIVE: "INACTIVE", PARTITION_DRAIN: "DRAIN"}


def partition_state_string(state_up: int) -> str:
    """scontrol's partition ``State=``: ``"UP"``, ``"DOWN"``, ``"INACTIVE"``, ``"DRAIN"``, or
    ``"UNKNOWN"`` for other values."""
    return _PARTITION_STATES.get(state_up, "UNKNOWN")


PREEMPT_MODE_OFF = 0x0000
PREEMPT_MODE_SUSPEND = 0x0001
PREEMPT_MODE_REQUEUE = 0x0002
PREEMPT_MODE_CANCEL = 0x0008
PREEMPT_MODE_COND_OFF = 0x0010
PREEMPT_MODE_WITHIN = 0x4000
PREEMPT_MODE_GANG = 0x8000


# --------------------------------------------------------------------------------------------
# QOS flags (u32, slurmdb.h): the low bits are the flags; NOTSET/ADD/REMOVE say how a modify
# applies them.

QOS_FLAG_PART_MIN_NODE = _bit(0)
QOS_FLAG_PART_MAX_NODE = _bit(1)
QOS_FLAG_PART_TIME_LIMIT = _bit(2)
QOS_FLAG_ENFORCE_USAGE_THRES = _bit(3)
QOS_FLAG_NO_RESERVE = _bit(4)
QOS_FLAG_REQ_RESV = _bit(5)
QOS_FLAG_DENY_LIMIT = _bit(6)
QOS_FLAG_OVER_PART_QOS = _bit(7)
QOS_FLAG_NO_DECAY = _bit(8)
QOS_FLAG_USAGE_FACTOR_SAFE = _bit(9)
QOS_FLAG_BASE = 0x0FFFFFFF
QOS_FLAG_NOTSET = 0x10000000
QOS_FLAG_ADD = 0x20000000
QOS_FLAG_REMOVE = 0x40000000


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


# --------------------------------------------------------------------------------------------
# Kill and mail flags (u16).

KILL_JOB_BATCH = _bit(0)
KILL_JOB_ARRAY = _bit(1)
KILL_STEPS_ONLY = _bit(2)
KILL_FED_REQUEUE = _bit(4)
KILL_HURRY = _bit(5)
KILL_OOM = _bit(6)
KILL_NO_SIBS = _bit(7)
KILL_JOB_RESV = _bit(8)

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
# What --mail-type=ALL means (parse_mail_type).
MAIL_ALL = (MAIL_INVALID_DEPEND | MAIL_JOB_BEGIN | MAIL_JOB_END | MAIL_JOB_FAIL
            | MAIL_JOB_REQUEUE | MAIL_JOB_STAGE_OUT)


# --------------------------------------------------------------------------------------------
# Consumable resources (cr_type, select_type_param, u16).

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


# --------------------------------------------------------------------------------------------
# Small job enums: shared/oversubscribe, open mode, profile, task distribution, CPU
# frequency, memory binding.

JOB_SHARED_NONE = 0
JOB_SHARED_OK = 1
JOB_SHARED_USER = 2
JOB_SHARED_MCS = 3

OPEN_MODE_APPEND = 1
OPEN_MODE_TRUNCATE = 2

ACCT_GATHER_PROFILE_NOT_SET = 0x00000000
ACCT_GATHER_PROFILE_NONE = 0x00000001
ACCT_GATHER_PROFILE_ENERGY = 0x00000002
ACCT_GATHER_PROFILE_TASK = 0x00000004
ACCT_GATHER_PROFILE_LUSTRE = 0x00000008
ACCT_GATHER_PROFILE_NETWORK = 0x00000010
ACCT_GATHER_PROFILE_ALL = 0xFFFFFFFF

# task_dist: the node level in the low nibble, socket and core levels in the next two.
SLURM_DIST_CYCLIC = 0x0001
SLURM_DIST_BLOCK = 0x0002
SLURM_DIST_ARBITRARY = 0x0003
SLURM_DIST_PLANE = 0x0004
SLURM_DIST_UNKNOWN = 0x2000
SLURM_DIST_NO_PACK_NODES = 0x400000
SLURM_DIST_PACK_NODES = 0x800000
SLURM_DIST_LEVEL_BITS = 4
# --distribution's words for each level (verify_dist_type); "*" is the level's default.
SLURM_DIST_NODE_WORDS = {"cyclic": SLURM_DIST_CYCLIC, "block": SLURM_DIST_BLOCK,
                         "arbitrary": SLURM_DIST_ARBITRARY}
SLURM_DIST_LOWER_WORDS = {"cyclic": 0x1, "block": 0x2, "fcyclic": 0x3}

# cpu_freq_min/max/gov: values with CPU_FREQ_RANGE_FLAG set are symbolic.
CPU_FREQ_RANGE_FLAG = 0x80000000
CPU_FREQ_LOW = 0x80000001
CPU_FREQ_MEDIUM = 0x80000002
CPU_FREQ_HIGH = 0x80000003
CPU_FREQ_HIGHM1 = 0x80000004
CPU_FREQ_CONSERVATIVE = 0x88000000
CPU_FREQ_ONDEMAND = 0x84000000
CPU_FREQ_PERFORMANCE = 0x82000000
CPU_FREQ_POWERSAVE = 0x81000000
CPU_FREQ_USERSPACE = 0x80800000
CPU_FREQ_SCHEDUTIL = 0x80400000

# mem_bind_type (u16).
MEM_BIND_VERBOSE = 0x01
MEM_BIND_NONE = 0x02
MEM_BIND_RANK = 0x04
MEM_BIND_MAP = 0x08
MEM_BIND_MASK = 0x10
MEM_BIND_LOCAL = 0x20
MEM_BIND_SORT = 0x40
MEM_BIND_PREFER = 0x80


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


# --------------------------------------------------------------------------------------------
# slurmdbd: a user's admin level (slurmdb_admin_level_t), as sacctmgr prints it
# (slurmdb_admin_level_str).

SLURMDB_ADMIN_NOTSET, SLURMDB_ADMIN_NONE, SLURMDB_ADMIN_OPERATOR, SLURMDB_ADMIN_SUPER_USER = (
    0, 1, 2, 3)
ADMIN_LEVEL_NAMES = {SLURMDB_ADMIN_NOTSET: "Not Set", SLURMDB_ADMIN_NONE: "None",
                     SLURMDB_ADMIN_OPERATOR: "Operator",
                     SLURMDB_ADMIN_SUPER_USER: "Administrator"}


# --------------------------------------------------------------------------------------------
# slurmdbd: accounts, associations, users, clusters and wckeys (slurm/slurmdb.h), and the
# select plugins' ids as slurmdbd stores a cluster's (select_plugin_id_to_string,
# src/common/select.c).

SLURMDB_ACCT_FLAG_DELETED = 0x1
ASSOC_FLAG_DELETED = 0x1
SLURMDB_USER_FLAG_DELETED = 0x1
SLURMDB_WCKEY_FLAG_DELETED = 0x1

CLUSTER_FLAG_MULTSD = _bit(7)
CLUSTER_FLAG_FE = _bit(9)
CLUSTER_FLAG_CRAY = _bit(10)
CLUSTER_FLAG_FED = _bit(11)
CLUSTER_FLAG_EXT = _bit(12)

SELECT_PLUGIN_NAMES = {101: "cons_res", 102: "linear", 106: "serial",
                       107: "cray_aries+linear", 108: "cray_aries+cons_res",
                       109: "cons_tres", 110: "cray_aries+cons_tres"}


# --------------------------------------------------------------------------------------------
# slurmdbd jobs: job_cond.flags (JOBCOND_FLAG_*) and job_rec.flags / job_cond.db_flags
# (SLURMDB_JOB_FLAG_*), slurm/slurmdb.h.

JOBCOND_FLAG_DUP = 0x00000001
JOBCOND_FLAG_NO_STEP = 0x00000002
JOBCOND_FLAG_NO_TRUNC = 0x00000004
JOBCOND_FLAG_RUNAWAY = 0x00000008
JOBCOND_FLAG_WHOLE_HETJOB = 0x00000010
JOBCOND_FLAG_NO_WHOLE_HETJOB = 0x00000020
JOBCOND_FLAG_NO_WAIT = 0x00000040
JOBCOND_FLAG_NO_DEFAULT_USAGE = 0x00000080
JOBCOND_FLAG_SCRIPT = 0x00000100
JOBCOND_FLAG_ENV = 0x00000200

SLURMDB_JOB_FLAG_NONE = 0x0
SLURMDB_JOB_CLEAR_SCHED = 0xF
SLURMDB_JOB_FLAG_NOTSET = 0x1
SLURMDB_JOB_FLAG_SUBMIT = 0x2
SLURMDB_JOB_FLAG_SCHED = 0x4
SLURMDB_JOB_FLAG_BACKFILL = 0x8
SLURMDB_JOB_FLAG_START_R = 0x10

#: job_state_string_compact() of each base state, by number.
JOB_STATE_COMPACT_NAMES = ("PD", "R", "S", "CD", "CA", "F", "TO", "NF", "PR", "BF", "DL", "OOM")


def job_state_base_number(name: str) -> int | None:
    """``job_state_num`` for a base state: its name or compact name in any case
    (``"completed"``, ``"CD"``) → its number; None for anything else."""
    word = _upper(name.strip())
    for number, (full, compact) in enumerate(zip(JOB_STATE_NAMES, JOB_STATE_COMPACT_NAMES)):
        if word in (full, compact):
            return number
    return None


def job_reason_number(name: str) -> int | None:
    """The other way of ``job_reason_string``: a reason's name (any case) → its number."""
    word = _upper(name.strip())
    for number, text in enumerate(_JOB_REASON_STRINGS):
        if _upper(text) == word:
            return number
    return None


# Task distribution (task_dist, u32): slurm_step_layout_type_name()'s words for the base.
SLURM_DIST_STATE_BASE = 0x00FFFF
TASK_DIST_NAMES = {
    0x0001: "Cyclic", 0x0002: "Block", 0x0003: "arbitrary task distribution",
    0x0004: "Plane", 0x0011: "CCyclic", 0x0021: "CBlock", 0x0012: "BCyclic",
    0x0022: "BBlock", 0x0031: "CFCyclic", 0x0032: "BFCyclic",
    0x0111: "CCyclicCyclic", 0x0211: "CCyclicBlock", 0x0311: "CCyclicFCyclic",
    0x0121: "CBlockCyclic", 0x0221: "CBlockBlock", 0x0321: "CCyclicFCyclic",
    0x0131: "CFCyclicCyclic", 0x0231: "CFCyclicBlock", 0x0331: "CFCyclicFCyclic",
    0x0112: "BCyclicCyclic", 0x0212: "BCyclicBlock", 0x0312: "BCyclicFCyclic",
    0x0122: "BBlockCyclic", 0x0222: "BBlockBlock", 0x0322: "BBlockFCyclic",
    0x0132: "BFCyclicCyclic", 0x0232: "BFCyclicBlock", 0x0332: "BFCyclicFCyclic",
}


def task_dist_name(task_dist: int) -> str:
    """``slurm_step_layout_type_name``: ``"Block"``, ``"Cyclic,Pack"``, ``"Unknown"`` …"""
    name = TASK_DIST_NAMES.get(task_dist & SLURM_DIST_STATE_BASE, "Unknown")
    if task_dist & SLURM_DIST_PACK_NODES:
        name += ",Pack"
    if task_dist & SLURM_DIST_NO_PACK_NODES:
        name += ",NoPack"
    return name
