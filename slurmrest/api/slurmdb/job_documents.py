"""slurmdbd's job and step records (``DBD_GOT_JOBS``) as slurmrestd dbv0.0.38's documents.

One ``JobNames`` (the TRES, QOS and association tables a job's ids are named through) is
built per request; ``job_document(record, names)`` then does only per-record work. Parts
that recur (TRES lists, exit codes, flag lists, associations) are converted once and shared
between documents: documents are read-only (serialised, never changed).

Where slurmrestd 22.05's dumper is wrong we do better (listed in NEWS):
- an exit status other than 0 is ``{"status": "ERROR", "return_code": N}`` (slurmrestd:
  ``SUCCESS`` with 0 for every normal exit, so ``exit 3`` looked like success);
- ``reservation/name`` is the reservation's name (slurmrestd prints the low 32 bits of the
  C pointer: 0 without a reservation, garbage with one); 0 is kept for none;
- a step's ``statistics/CPU/actual_frequency`` is the average frequency in kHz (sacct's
  AveCPUFreq); slurmrestd reads the low 32 bits of the C double, so 0 for any value;
- a QOS id slurmdbd no longer knows is ``null`` (slurmrestd fails the whole answer);
- the CPU governor lists the governors whose bits are all set (slurmrestd lists every
  governor sharing any bit, so each one for any governor).
Everything else follows slurmrestd's dumpers, including their narrowings: its ``UINT32``
dumper reads 64-bit fields through their low 32 bits (``required/memory`` loses the
per-CPU flag) and turns NO_VAL and INFINITE into null.
"""

from __future__ import annotations

import signal as _signal

from slurmrest.api import convert
from slurmrest.api.slurmdb import reference
from slurmrest.wire import enums
from slurmrest.wire.primitives import (
    INFINITE, INFINITE64, NO_VAL, NO_VAL64, SLURM_BATCH_SCRIPT, SLURM_EXTERN_CONT,
    SLURM_INTERACTIVE_STEP, SLURM_PENDING_STEP)

_U32 = 0xFFFFFFFF

_JOB_FLAGS = ((enums.SLURMDB_JOB_CLEAR_SCHED, "CLEAR_SCHEDULING"),
              (enums.SLURMDB_JOB_FLAG_NOTSET, "NOT_SET"),
              (enums.SLURMDB_JOB_FLAG_SUBMIT, "STARTED_ON_SUBMIT"),
              (enums.SLURMDB_JOB_FLAG_SCHED, "STARTED_ON_SCHEDULE"),
              (enums.SLURMDB_JOB_FLAG_BACKFILL, "STARTED_ON_BACKFILL"))

_GOVERNORS = ((enums.CPU_FREQ_CONSERVATIVE, "Conservative"),
              (enums.CPU_FREQ_PERFORMANCE, "Performance"),
              (enums.CPU_FREQ_POWERSAVE, "PowerSave"),
              (enums.CPU_FREQ_ONDEMAND, "OnDemand"),
              (enums.CPU_FREQ_USERSPACE, "UserSpace"))

_STEP_NAMES = {SLURM_EXTERN_CONT: "extern", SLURM_BATCH_SCRIPT: "batch",
               SLURM_PENDING_STEP: "pending", SLURM_INTERACTIVE_STEP: "interactive"}


class JobNames:
    """The reference tables one answer names ids through (built once per request)."""

    __slots__ = ("tres_by_id", "qos_names", "associations", "_tres_lists", "_hosts")

    def __init__(self, tres_by_id: dict[int, dict], qos_by_id: dict[int, dict],
                 assoc_by_key: dict[tuple, dict]):
        self.tres_by_id = tres_by_id
        self.qos_names = {i: q.get("name") for i, q in qos_by_id.items()}
        # by (cluster, id): association ids are unique per cluster only
        self.associations = {k: _association(a) for k, a in assoc_by_key.items()}
        # TRES strings repeat across records (every 1-CPU job alike): convert each once.
        self._tres_lists: dict[str, list[dict]] = {}
        self._hosts: dict[str, list[str]] = {}

    def hosts(self, nodes: str | None) -> list[str]:
        """A step's node list expanded (kept: the same few expressions recur)."""
        if not nodes:
            return []
        kept = self._hosts.get(nodes)
        if kept is None:
            if len(self._hosts) > 4096:
                self._hosts.clear()
            kept = self._hosts[nodes] = convert.hostnames(nodes)
        return kept

    def tres_list(self, text: str | None) -> list[dict]:
        """slurmrestd's ``TRES_LIST``: named TRES, NO_VAL64/INFINITE64 counts as null."""
        if not text:
            return []
        kept = self._tres_lists.get(text)
        if kept is None:
            if len(self._tres_lists) > 4096:  # bounded: JobNames may outlive a request
                self._tres_lists.clear()
            kept = self._tres_lists[text] = [
                reference.tres_entry(self.tres_by_id.get(i), i, _count(n))
                for i, n in reference.parse_tres(text)]
        return kept

    def association(self, cluster: str | None, associd: int) -> dict | None:
        if not associd or associd == NO_VAL:
            return None
        known = self.associations.get((cluster, associd))
        if known is None:  # slurmrestd: the id, and nulls
            return {"id": associd, "account": None, "cluster": None, "partition": None,
                    "user": None}
        return known


def _association(assoc: dict) -> dict:
    return {"account": assoc.get("acct"), "cluster": assoc.get("cluster"),
            "partition": assoc.get("partition"), "user": assoc.get("user")}


def _count(n: int) -> int | None:
    return None if n in (NO_VAL64, INFINITE64) else n


def u32(value: int | None) -> int | None:
    """slurmrestd's ``UINT32`` dumper: the low 32 bits; NO_VAL and INFINITE are null."""
    if value is None:
        return None
    value &= _U32
    return None if value in (NO_VAL, INFINITE) else value


_EXIT_CODES: dict[int, dict] = {}


def exit_code(status: int) -> dict:
    """A wait(2) status as slurmrestd's ``JOB_EXIT_CODE`` (nonzero exits are ERROR, see the
    module docstring); converted once per status, shared (read-only)."""
    kept = _EXIT_CODES.get(status)
    if kept is None:
        kept = _exit_code(status)
        if len(_EXIT_CODES) < 4096:
            _EXIT_CODES[status] = kept
    return kept


def _exit_code(status: int) -> dict:
    status &= _U32
    doc = {"status": None, "return_code": None}
    if status == NO_VAL:
        doc["status"] = "PENDING"
        return doc
    low = status & 0x7F
    if low == 0:  # WIFEXITED
        code = (status >> 8) & 0xFF
        doc["status"] = "SUCCESS" if code == 0 else "ERROR"
        doc["return_code"] = code
    elif low != 0x7F:  # WIFSIGNALED
        doc["status"] = "SIGNALED"
        doc["signal"] = {"signal_id": low, "name": signal_name(low)}
    elif status & 0x80:  # WCOREDUMP
        doc["status"] = "CORE_DUMPED"
    else:
        doc["status"] = "ERROR"
        doc["return_code"] = (status >> 8) & 0xFF
    return doc


def signal_name(number: int) -> str:
    """``strsignal``: ``"Killed"``, ``"User defined signal 1"`` …"""
    try:
        name = _signal.strsignal(number)
    except ValueError:
        name = None
    return name or f"Unknown signal {number}"


_FLAG_LISTS: dict[int, list[str]] = {}


def job_flags(flags: int) -> list[str]:
    kept = _FLAG_LISTS.get(flags)
    if kept is None:
        kept = [name for bit, name in _JOB_FLAGS if flags & bit]
        if len(_FLAG_LISTS) < 1024:
            _FLAG_LISTS[flags] = kept
    return kept


def governors(gov: int) -> list[str]:
    if gov in (0, NO_VAL, INFINITE):
        return []
    return [name for bit, name in _GOVERNORS if gov & bit == bit]


def wckey(text: str | None) -> dict | None:
    """slurmrestd's ``WCKEY_TAG``: a leading ``*`` marks the default assigned."""
    if text is None:
        return None
    if text.startswith("*"):
        return {"wckey": text[1:], "flags": ["ASSIGNED_DEFAULT"]}
    return {"wckey": text, "flags": []}


def step_id_name(step_id: int) -> int | str:
    return _STEP_NAMES.get(step_id, step_id)


def _step_usage(names: JobNames, stats: dict, way: str, hosts: list[str]) -> dict:
    """A step's TRES usage one way (``in``: requested, ``out``: consumed) as slurmrestd's
    max/min (with node and task), average and total."""
    def stat(kind):
        return stats.get(f"tres_usage_{way}_{kind}")
    return {
        "max": _tres_usage(names, stat("max"), stat("max_nodeid"), stat("max_taskid"), hosts),
        "min": _tres_usage(names, stat("min"), stat("min_nodeid"), stat("min_taskid"), hosts),
        "average": names.tres_list(stat("ave")),
        "total": names.tres_list(stat("tot")),
    }


def _tres_usage(names: JobNames, counts: str | None, node_ids: str | None,
                task_ids: str | None, hosts: list[str]) -> list[dict]:
    """slurmrestd's ``_dump_tres_nct``: per TRES of slurmdbd's table (in its order), the
    max/min count with the node and task it was seen on; TRES with none of them left out."""
    if not counts and not node_ids and not task_ids:
        return []
    rows: dict[int, list] = {}
    for kind, text in ((0, counts), (1, node_ids), (2, task_ids)):
        for tres_id, n in reference.parse_tres(text):
            row = rows.setdefault(tres_id, [0, None, 0])
            if kind == 1:  # a node index into the step's node list
                row[1] = hosts[n] if 0 <= n < len(hosts) else None
            else:
                row[kind] = n
    out = []
    for tres_id, tres in names.tres_by_id.items():
        row = rows.get(tres_id)
        if row is None or not (row[0] or row[1] or row[2]):
            continue
        out.append({"type": tres.get("type") or None, "name": tres.get("name") or None,
                    "id": tres_id, "count": _count(row[0]), "task": _count(row[2]),
                    "node": row[1]})
    return out


def _frequency(khz: float | None) -> int | None:
    """The average CPU frequency (a double, kHz) as a whole number; none for NaN/inf."""
    try:
        return u32(int(khz or 0))
    except (ValueError, OverflowError):
        return None


def step_document(step: dict, names: JobNames) -> dict:
    """One ``step_rec`` as slurmrestd's ``dbv0.0.38_job_step``."""
    stats = step.get("stats") or {}
    hosts = names.hosts(step.get("nodes"))
    nodes = {"list": list(hosts)} if hosts else {}
    nodes["count"] = u32(step["nnodes"])
    nodes["range"] = step.get("nodes")
    tres = names.tres_list
    return {
        "nodes": nodes,
        "tres": {
            "requested": _step_usage(names, stats, "in", hosts),
            "consumed": _step_usage(names, stats, "out", hosts),
            "allocated": tres(step.get("tres_alloc_str")),
        },
        "time": {
            "elapsed": u32(step["elapsed"]),
            "end": u32(step["end"]),
            "start": u32(step["start"]),
            "suspended": u32(step["suspended"]),
            "system": {"seconds": u32(step["sys_cpu_sec"]),
                       "microseconds": u32(step["sys_cpu_usec"])},
            "total": {"seconds": u32(step["tot_cpu_sec"]),
                      "microseconds": u32(step["tot_cpu_usec"])},
            "user": {"seconds": u32(step["user_cpu_sec"]),
                     "microseconds": u32(step["user_cpu_usec"])},
        },
        "exit_code": exit_code(step["exitcode"]),
        "tasks": {"count": u32(step["ntasks"])},
        "pid": None,  # not in 22.05's step record on the wire
        "CPU": {
            "requested_frequency": {"min": u32(step["req_cpufreq_min"]),
                                    "max": u32(step["req_cpufreq_max"])},
            "governor": governors(step["req_cpufreq_gov"]),
        },
        "kill_request_user": convert.user_name(step["requid"]),
        "state": enums.job_state_string(step["state"]),
        "statistics": {
            "CPU": {"actual_frequency": _frequency(stats.get("act_cpufreq"))},
            "energy": {"consumed": u32(stats.get("consumed_energy"))},
        },
        "step": {
            "job_id": u32(step["job_id"]),
            "het": {"component": u32(step["step_het_comp"])},
            "id": step_id_name(step["step_id"]),
            "name": step.get("stepname"),
        },
        "task": {"distribution": enums.task_dist_name(step["task_dist"])},
    }


def job_document(job: dict, names: JobNames) -> dict:
    """One ``job_rec`` as slurmrestd's ``dbv0.0.38_job`` (key order as slurmrestd's)."""
    qosid = job["qosid"]
    return {
        "account": job.get("account"),
        "comment": {"administrator": job.get("admin_comment"),
                    "job": job.get("derived_es"),
                    "system": job.get("system_comment")},
        "allocation_nodes": u32(job["alloc_nodes"]),
        "array": {"job_id": u32(job["array_job_id"]),
                  "limits": {"max": {"running": {"tasks": u32(job["array_max_tasks"])}}},
                  "task": job.get("array_task_str"),
                  "task_id": u32(job["array_task_id"])},
        "association": names.association(job.get("cluster"), job["associd"]),
        "cluster": job.get("cluster"),
        "constraints": job.get("constraints"),
        "container": job.get("container"),
        "derived_exit_code": exit_code(job["derived_ec"]),
        "time": {
            "elapsed": u32(job["elapsed"]),
            "eligible": u32(job["eligible"]),
            "end": u32(job["end"]),
            "start": u32(job["start"]),
            "submission": u32(job["submit"]),
            "suspended": u32(job["suspended"]),
            "system": {"seconds": u32(job["sys_cpu_sec"]),
                       "microseconds": u32(job["sys_cpu_usec"])},
            "limit": u32(job["timelimit"]),
            "total": {"seconds": u32(job["tot_cpu_sec"]),
                      "microseconds": u32(job["tot_cpu_usec"])},
            "user": {"seconds": u32(job["user_cpu_sec"]),
                     "microseconds": u32(job["user_cpu_usec"])},
        },
        "exit_code": exit_code(job["exitcode"]),
        "flags": job_flags(job["flags"]),
        "group": convert.group_name(job["gid"]),
        "het": {"job_id": u32(job["het_job_id"]), "job_offset": u32(job["het_job_offset"])},
        "job_id": u32(job["jobid"]),
        "name": job.get("jobname"),
        "mcs": {"label": job.get("mcs_label")},
        "nodes": job.get("nodes"),
        "partition": job.get("partition"),
        "priority": u32(job["priority"]),
        "qos": names.qos_names.get(qosid) if qosid else None,
        "required": {"CPUs": u32(job["req_cpus"]), "memory": u32(job["req_mem"])},
        "kill_request_user": convert.user_name(job["requid"]),
        "reservation": {"id": u32(job["resvid"]), "name": job.get("resv_name") or 0},
        "state": {"current": enums.job_state_string(job["state"]),
                  "reason": enums.job_reason_string(job["state_reason_prev"])},
        "steps": [step_document(step, names) for step in job.get("steps") or ()],
        "tres": {"allocated": names.tres_list(job.get("tres_alloc_str")),
                 "requested": names.tres_list(job.get("tres_req_str"))},
        "user": job.get("user"),
        "wckey": wckey(job.get("wckey")),
        "working_directory": job.get("work_dir"),
    }
