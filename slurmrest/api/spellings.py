"""slurmrestd 22.05's (v0.0.38) spellings of Slurm's values in its JSON documents.

Where slurmrestd writes something other than Slurm's own words (``slurmrest.wire.enums``):
lower case, words of its own, a subset of the flags, ``null`` for special values. Each name
says which field it spells; the bits and Slurm's own words stay in ``enums``.
"""

from __future__ import annotations

from slurmrest.wire import enums as E
from slurmrest.wire.enums import flag_names
from slurmrest.wire.primitives import (NO_VAL16, SHOW_ALL, SHOW_DETAIL, SHOW_FEDERATION,
                                       SHOW_FUTURE, SHOW_LOCAL, SHOW_MIXED, SHOW_SIBLING)

# -- jobs (jobs.c) ---------------------------------------------------------------------------

#: A job's ``flags`` list: only these bits, in this order, by macro name.
RESTD_JOB_FLAG_NAMES = tuple((value, name) for name, value in (
    ("KILL_INV_DEP", E.KILL_INV_DEP), ("NO_KILL_INV_DEP", E.NO_KILL_INV_DEP),
    ("HAS_STATE_DIR", E.HAS_STATE_DIR), ("BACKFILL_TEST", E.BACKFILL_TEST),
    ("GRES_ENFORCE_BIND", E.GRES_ENFORCE_BIND), ("TEST_NOW_ONLY", E.TEST_NOW_ONLY),
    ("SPREAD_JOB", E.SPREAD_JOB), ("USE_MIN_NODES", E.USE_MIN_NODES),
    ("JOB_KILL_HURRY", E.JOB_KILL_HURRY), ("TRES_STR_CALC", E.TRES_STR_CALC),
    ("SIB_JOB_FLUSH", E.SIB_JOB_FLUSH), ("HET_JOB_FLAG", E.HET_JOB_FLAG),
    ("JOB_CPUS_SET", E.JOB_CPUS_SET), ("TOP_PRIO_TMP", E.TOP_PRIO_TMP),
    ("JOB_ACCRUE_OVER", E.JOB_ACCRUE_OVER), ("GRES_DISABLE_BIND", E.GRES_DISABLE_BIND),
    ("JOB_WAS_RUNNING", E.JOB_WAS_RUNNING), ("JOB_MEM_SET", E.JOB_MEM_SET),
    ("JOB_RESIZED", E.JOB_RESIZED),
))

#: A job's ``show_flags`` list (the request's show_flags, echoed): these names, this order.
RESTD_SHOW_FLAG_NAMES = (
    (SHOW_ALL, "SHOW_ALL"),
    (SHOW_DETAIL, "SHOW_DETAIL"),
    (SHOW_MIXED, "SHOW_MIXED"),
    (SHOW_LOCAL, "SHOW_LOCAL"),
    (SHOW_SIBLING, "SHOW_SIBLING"),
    (SHOW_FEDERATION, "SHOW_FEDERATION"),
    (SHOW_FUTURE, "SHOW_FUTURE"),
)

_RESTD_JOB_SHARED = {E.JOB_SHARED_NONE: "none", E.JOB_SHARED_OK: "shared",
                     E.JOB_SHARED_USER: "user", E.JOB_SHARED_MCS: "mcs"}


#: A job's ``job_state``: Slurm's ``job_state_string`` as is ("PENDING", "COMPLETING").
restd_job_state = E.job_state_string

#: A job's ``state_reason``: Slurm's ``job_reason_string`` as is ("None", "Priority").
restd_job_reason = E.job_reason_string


def restd_job_shared(shared: int) -> str | int | None:
    """A job's ``shared``: none, shared, user, mcs; None (null) for NO_VAL16; the number
    itself for anything else."""
    if shared == NO_VAL16:
        return None
    return _RESTD_JOB_SHARED.get(shared, shared)


def restd_profile_names(profile: int) -> list[str] | None:
    """A job's ``profile``: None (null) when NOT_SET, else a list of ``None``, ``Energy``,
    ``Lustre``, ``Network``, ``Task`` in that order (``acct_gather_profile_to_string``)."""
    if profile == E.ACCT_GATHER_PROFILE_NOT_SET:
        return None
    names = ["None"] if profile == E.ACCT_GATHER_PROFILE_NONE else []
    return names + flag_names(profile, ((E.ACCT_GATHER_PROFILE_ENERGY, "Energy"),
                                        (E.ACCT_GATHER_PROFILE_LUSTRE, "Lustre"),
                                        (E.ACCT_GATHER_PROFILE_NETWORK, "Network"),
                                        (E.ACCT_GATHER_PROFILE_TASK, "Task")))


# -- nodes (nodes.c) -------------------------------------------------------------------------

def restd_node_state(state: int) -> str:
    """A node's ``state`` and ``next_state_after_reboot``: the lower-cased base state
    ("idle", "mixed"; "invalid" for a next_state of NO_VAL)."""
    return E.node_state_base_name(state).lower()


def restd_node_state_flags(state: int) -> list[str]:
    """A node's ``state_flags`` and ``next_state_after_reboot_flags``: Slurm's flag names
    in its table order, upper case; none at all when the base state is not a valid one."""
    if not E.node_state_valid_base(state):
        return []
    return E.node_state_flag_names(state)


# -- partitions (partitions.c) ---------------------------------------------------------------

#: A partition's ``flags`` list: lower-case words of its own.
RESTD_PARTITION_FLAG_NAMES = (
    (E.PART_FLAG_DEFAULT, "default"),
    (E.PART_FLAG_HIDDEN, "hidden"),
    (E.PART_FLAG_NO_ROOT, "no_root"),
    (E.PART_FLAG_ROOT_ONLY, "root_only"),
    (E.PART_FLAG_REQ_RESV, "reservation_required"),
    (E.PART_FLAG_LLN, "least_loaded_nodes"),
    (E.PART_FLAG_EXCLUSIVE_USER, "exclusive_user"),
)

_RESTD_PREEMPT_MODE_NAMES = ((E.PREEMPT_MODE_SUSPEND, "suspend"),
                             (E.PREEMPT_MODE_REQUEUE, "requeue"),
                             (E.PREEMPT_MODE_GANG, "gang_schedule"),
                             (E.PREEMPT_MODE_WITHIN, "within"))


#: A partition's ``state``: scontrol's words, upper case, as is ("UP", "DRAIN").
restd_partition_state = E.partition_state_string


def restd_preempt_mode_names(mode: int) -> list[str]:
    """A partition's ``preemption_mode`` list: ``["disabled"]`` for OFF or NO_VAL16, else any
    of ``suspend``, ``requeue``, ``gang_schedule``, ``within`` in that order. CANCEL has no
    word there (a CANCEL-only partition gives ``[]``)."""
    if mode in (E.PREEMPT_MODE_OFF, NO_VAL16):
        return ["disabled"]
    return flag_names(mode, _RESTD_PREEMPT_MODE_NAMES)


# -- reservations (reservations.c) -----------------------------------------------------------

#: A reservation's ``flags`` list (``res_flags[]``): Slurm's words and order without
#: PURGE_COMP, which it reports as ``purge_completed: {"time": …}``.
RESTD_RESERVATION_FLAG_NAMES = tuple(
    (bit, name) for bit, name in E.RESERVATION_FLAG_NAMES if bit != E.RESERVE_FLAG_PURGE_COMP)
