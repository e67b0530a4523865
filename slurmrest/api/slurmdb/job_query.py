"""``GET /jobs`` query parameters and ``/job/{job_id}`` ids → slurmdbd's ``job_cond``.

The parameters and their forms are slurmrestd dbv0.0.38's (``jobs.c``, after sacct's
``get_data()``). Where slurmrestd hands slurmdbd a name where slurmdbd compares a number
(``qos``, ``groups``, ``reason``: it never matched anything), we convert the name as sacct
does; numbers are taken as they are. ``group`` (what slurmrestd's own document says) works
as well as ``groups`` (what it reads).
"""

from __future__ import annotations

import grp
import re
from dataclasses import dataclass

from slurmrest.api.errors import ApiError, error_entry
from slurmrest.api.job_values import InvalidValue, parse_time
from slurmrest.api.registry import Param
from slurmrest.wire import enums
from slurmrest.wire.errors import ESLURM_REST_INVALID_QUERY
from slurmrest.wire.primitives import (
    NO_VAL, SLURM_BATCH_SCRIPT, SLURM_EXTERN_CONT, SLURM_INTERACTIVE_STEP)

_TIME_FORMATS = ("Accepted formats: HH:MM[:SS], MMDD[YY] or MM/DD[/YY] or MM.DD[.YY], "
                 "MM/DD[/YY]-HH:MM[:SS], YYYY-MM-DD[THH:MM[:SS]], now[{+|-}count[units]], "
                 "uts<seconds>, today, midnight, noon, tomorrow")

#: Comma lists passed to slurmdbd as they are: parameter → job_cond field.
_PLAIN_LISTS = {
    "account": "acct_list",
    "cluster": "cluster_list",
    "constraints": "constraint_list",
    "format": "format_list",
    "job_name": "jobname_list",
    "partition": "partition_list",
    "reservation": "resv_list",
    "wckey": "wckey_list",
}
_INTEGERS = {"cpus_max": "cpus_max", "cpus_min": "cpus_min", "nodes_max": "nodes_max",
             "nodes_min": "nodes_min"}
_FLAGS = {"skip_steps": enums.JOBCOND_FLAG_NO_STEP,
          "disable_wait_for_result": enums.JOBCOND_FLAG_NO_WAIT}

_DESCRIPTIONS = {
    "submit_time": "Filter by submission time (jobs submitted since then; not with "
                   "start_time). " + _TIME_FORMATS,
    "start_time": "Filter by start time: jobs eligible or running since then. " + _TIME_FORMATS,
    "end_time": "Filter by end time: jobs eligible or running until then. " + _TIME_FORMATS,
    "account": "Comma delimited list of accounts to match",
    "association": "Comma delimited list of association ids to match",
    "cluster": "Comma delimited list of clusters to match (default: the local cluster)",
    "constraints": "Comma delimited list of constraints to match",
    "cpus_max": "Number of CPUs high range",
    "cpus_min": "Number of CPUs low range",
    "skip_steps": "Leave out the job steps (much cheaper for slurmdbd)",
    "disable_wait_for_result": "Disable waiting for result from slurmdbd (accepted; "
                               "slurmdbd ignores it for reads)",
    "exit_code": "Only jobs that exited with this code",
    "format": "Comma delimited list of formats to match (slurmdbd ignores it)",
    "group": "Comma delimited list of groups (names or gids) to match",
    "groups": "Comma delimited list of groups (names or gids) to match (as `group`)",
    "job_name": "Comma delimited list of job names to match",
    "nodes_max": "Number of nodes high range",
    "nodes_min": "Number of nodes low range",
    "partition": "Comma delimited list of partitions to match",
    "qos": "Comma delimited list of QOS (names or ids) to match",
    "reason": "Comma delimited list of job state reasons (names or numbers) to match",
    "reservation": "Comma delimited list of reservations to match",
    "state": "Comma delimited list of states to match (names, compact names or numbers)",
    "step": "Comma delimited list of jobs and steps to match: 123, 123_4, 123+1, "
            "123.batch, 123.0",
    "node": "Used nodes to match (a hostlist expression)",
    "wckey": "Comma delimited list of wckeys to match",
}

#: Every query parameter GET /jobs accepts (the gateway refuses any other with a 400).
PARAMS = tuple(
    Param(name, type=bool if name in _FLAGS else str, description=text)
    for name, text in _DESCRIPTIONS.items())

# JOB[_TASK | +OFFSET][.STEP[+COMPONENT]] (slurm_parse_step_str), strictly: slurmrestd
# 22.05 calls fatal() on a malformed id and dies.
_STEP = re.compile(r"(\d+)(?:_(\d+)|\+(\d+))?(?:\.(batch|extern|interactive|\d+)(?:\+(\d+))?)?")
_STEP_WORDS = {"batch": SLURM_BATCH_SCRIPT, "extern": SLURM_EXTERN_CONT,
               "interactive": SLURM_INTERACTIVE_STEP}


def invalid(description: str, source: str | None) -> ApiError:
    """A refused query, worded as slurmrestd words it (``ESLURM_REST_INVALID_QUERY``)."""
    return ApiError(400, [error_entry(ESLURM_REST_INVALID_QUERY, description, source)])


def selected_step(text: str) -> dict | None:
    """``"123.batch"`` → a ``selected_step`` record; None if malformed or job id 0."""
    match = _STEP.fullmatch(text.strip())
    if not match:
        return None
    job, task, offset, step, component = match.groups()
    job_id = int(job)
    if not 0 < job_id < NO_VAL:
        return None
    if step is None:
        step_id = NO_VAL
    else:
        step_id = _STEP_WORDS.get(step)
        if step_id is None:
            step_id = int(step)
            if step_id >= SLURM_INTERACTIVE_STEP:
                return None
    numbers = [NO_VAL if text is None else int(text) for text in (component, task, offset)]
    if any(n > NO_VAL for n in numbers):  # a u32 each on the wire
        return None
    return {"job_id": job_id, "step_id": step_id, "step_het_comp": numbers[0],
            "array_task_id": numbers[1], "het_job_offset": numbers[2]}


def items(text: str) -> list[str]:
    """``slurm_addto_char_list``: comma separated, quotes dropped, blanks and repeats left
    out (first one kept)."""
    out: list[str] = []
    for item in text.replace('"', "").replace("'", "").split(","):
        item = item.strip()
        if item and item not in out:
            out.append(item)
    return out


def _list(params: dict, key: str) -> list[str]:
    values = items(params[key])
    if not values:
        raise invalid("Unable to parse CSV list", key)
    return values


def _states(values: list[str], key: str) -> list[str]:
    out = []
    for value in values:
        number = int(value) if value.isdigit() else enums.job_state_base_number(value)
        if number is None or number >= enums.JOB_END:
            raise invalid(f"Unable to parse CSV list: unknown job state {value!r}", key)
        if str(number) not in out:
            out.append(str(number))
    return out


def _reasons(values: list[str], key: str) -> list[str]:
    out = []
    for value in values:
        number = int(value) if value.isdigit() else enums.job_reason_number(value)
        if number is None:
            raise invalid(f"Unable to parse CSV list: unknown job reason {value!r}", key)
        out.append(str(number))
    return out


def _groups(values: list[str], key: str) -> list[str]:
    out = []
    for value in values:
        if value.isdigit():
            out.append(value)
            continue
        try:
            out.append(str(grp.getgrnam(value).gr_gid))
        except KeyError:
            raise invalid(f"Unable to parse CSV list: unknown group {value!r}", key) from None
    return out


def _qos_ids(values: list[str], key: str, qos_by_id: dict[int, dict]) -> list[str]:
    by_name = {(q.get("name") or "").lower(): i for i, q in qos_by_id.items()}
    out = []
    for value in values:
        if value.isdigit():
            out.append(value)
        elif value.lower() in by_name:
            out.append(str(by_name[value.lower()]))
        else:
            raise invalid(f"Unable to parse CSV list: unknown QOS {value!r}", key)
    return out


def _time(params: dict, key: str) -> int:
    try:
        value = parse_time(params[key])
    except (InvalidValue, ValueError):
        value = 0
    if value <= 0:
        raise invalid("Unable to parse time format", key)
    return value


@dataclass
class JobQuery:
    """What one request asks slurmdbd for, and what we filter ourselves afterwards."""

    #: The job_cond (None: slurmrestd's "no query at all", slurmdbd's NULL condition).
    cond: dict | None
    #: Only jobs that exited with this code (slurmdbd ignores job_cond.exitcode).
    exit_code: int | None = None


def query_cond(cluster: str | None) -> dict:
    """slurmrestd's condition for any query (sacct's ``_init_params``): duplicates and
    untruncated times, any scheduling flag, the local cluster unless others are named."""
    return {"flags": enums.JOBCOND_FLAG_DUP | enums.JOBCOND_FLAG_NO_TRUNC,
            "db_flags": enums.SLURMDB_JOB_FLAG_NOTSET,
            "cluster_list": [cluster] if cluster else None}


def job_query(params: dict, *, cluster: str | None, qos_by_id: dict[int, dict] | None,
              null_without_params: bool) -> JobQuery:
    """The query parameters of GET /jobs as a ``JobQuery`` (ApiError 400 for a bad one).

    ``null_without_params`` (v0.0.38): no parameter at all sends slurmdbd's NULL condition,
    as slurmrestd 22.05 does. ``qos_by_id`` is needed only when ``qos`` is given."""
    if not params and null_without_params:
        return JobQuery(None)
    cond = query_cond(cluster)
    for key, field in _PLAIN_LISTS.items():
        if key in params:
            cond[field] = _list(params, key)
    if "association" in params:
        ids = _list(params, "association")
        if not all(i.isdigit() for i in ids):
            raise invalid("Unable to parse CSV list: association ids are numbers",
                          "association")
        cond["associd_list"] = ids
    groups = [g for key in ("groups", "group") if key in params
              for g in _groups(_list(params, key), key)]
    if groups:
        cond["groupid_list"] = list(dict.fromkeys(groups))
    if "qos" in params:
        cond["qos_list"] = _qos_ids(_list(params, "qos"), "qos", qos_by_id or {})
    if "reason" in params:
        cond["reason_list"] = _reasons(_list(params, "reason"), "reason")
    if "state" in params:
        cond["state_list"] = _states(_list(params, "state"), "state")
    if "step" in params:
        steps = []
        for text in _list(params, "step"):
            step = selected_step(text)
            if step is None:
                raise invalid("Unable to parse job/step format", "step")
            steps.append(step)
        cond["step_list"] = steps
    if "node" in params:
        cond["used_nodes"] = params["node"]
    for key, field in _INTEGERS.items():
        if key in params:
            text = params[key].strip()
            if not text.isdigit() or int(text) >= NO_VAL:
                raise invalid("must be an integer", key)
            cond[field] = int(text)
    for key, bit in _FLAGS.items():
        if params.get(key):
            cond["flags"] |= bit
    if "start_time" in params and "submit_time" in params:
        raise invalid("start_time and submit_time are mutually exclusive", "submit_time")
    if "start_time" in params:
        cond["usage_start"] = _time(params, "start_time")
    if "submit_time" in params:
        cond["usage_start"] = _time(params, "submit_time")
        cond["flags"] |= enums.JOBCOND_FLAG_NO_DEFAULT_USAGE
    if "end_time" in params:
        cond["usage_end"] = _time(params, "end_time")
    exit_code = None
    if "exit_code" in params:
        text = params["exit_code"].strip()
        if not text.lstrip("-").isdigit():
            raise invalid("must be an integer", "exit_code")
        exit_code = int(text)
        cond["exitcode"] = exit_code
    return JobQuery(cond, exit_code)


def single_job_cond(text: str, cluster: str | None) -> dict:
    """GET /job/{job_id}: the job (or array task, het component, step) ``text`` names."""
    steps = []
    for item in items(text):
        step = selected_step(item)
        if step is None:
            raise invalid(f"Unable to parse job/step format: {text!r}", "job_id")
        steps.append(step)
    if not steps:
        raise invalid(f"Unable to parse job/step format: {text!r}", "job_id")
    cond = query_cond(cluster)
    cond["step_list"] = steps
    return cond
