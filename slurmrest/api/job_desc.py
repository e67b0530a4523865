"""The v0.0.38 job document → the wire's ``job_desc`` (protocol reference §5.10), validated.

This module is the builder (documents and submissions to job_desc dicts, error entries);
``job_keys`` is the key table and ``job_values`` the value parsers it uses.

A job document (``v0.0.38_job_properties``; parsed from JSON or YAML by the web room) is read
the way slurmrestd 22.05 reads it (``jobs.c`` + ``slurm_opt.c``): keys are case-insensitive,
the aliases it knows (``ntasks`` for ``tasks``, ``cwd`` …) are accepted, scalars are converted
like Slurm's ``data_t`` (``"5"`` for ``5``), and each key fills the job_desc fields that
``slurm_opt_create_job_desc()`` fills for sbatch. Keys slurmrestd disables are refused.

The whole document is checked before anything is sent, and every problem is reported (not only
the first): ``JobDocumentError`` (HTTP 400) carries one slurmrestd-shaped error entry per
problem. Where slurmrestd 22.05 mishandles a documented value the document's meaning wins:

- ``requeue: false``, ``spread_job: false``, ``minimum_nodes: false``, ``oversubscribe: false``
  are honoured (slurmrestd sets the flag whatever the value);
- ``exclusive: true`` / ``"true"`` means exclusive and ``false`` means "not set" (slurmrestd
  rejects both although its OpenAPI document lists them);
- ``nodes: [min, max]`` sets the node counts (slurmrestd parses and then drops them);
- ``begin_time`` as an integer is a Unix time (slurmrestd rejects integers);
- ``no_kill``, ``wait_all_nodes`` and ``get_user_environment`` take booleans;
- ``signal`` takes the ``B:`` prefix its OpenAPI pattern documents;
- ``distribution`` reaches slurmctld (slurmrestd overwrites it with "unknown" on submit);
- ``test_only`` is refused (slurmrestd ignores it and really submits the job).
"""

from __future__ import annotations

from typing import Any

from slurmrest.api.job_keys import KEYS, Options, server_cwd
from slurmrest.api.job_values import InvalidValue, _kind, tres_list
from slurmrest.api import errors as api_errors
from slurmrest.api.registry import ApiError
from slurmrest.wire.enums import (ACCT_GATHER_PROFILE_ALL, ACCT_GATHER_PROFILE_ENERGY,
                                  ACCT_GATHER_PROFILE_LUSTRE, ACCT_GATHER_PROFILE_NETWORK,
                                  ACCT_GATHER_PROFILE_NONE, ACCT_GATHER_PROFILE_TASK,
                                  JOB_CPUS_SET, JOB_NTASKS_SET, OPEN_MODE_APPEND,
                                  SLURM_DIST_UNKNOWN)
from slurmrest.wire.errors import (  # noqa: F401  (ESLURM_*: re-exported for job_control)
    ESLURM_DATA_CONV_FAILED, ESLURM_ENVIRONMENT_MISSING, ESLURM_JOB_SCRIPT_MISSING,
    ESLURM_REST_FAIL_PARSING, ESLURM_REST_INVALID_JOBS_DESC, ESLURM_REST_INVALID_QUERY,
    SLURM_ERROR)
from slurmrest.wire.primitives import INFINITE, MEM_PER_CPU


def error_entry(errno: int, description: str, source: str, text: str | None = None) -> dict:
    """One slurmrestd-shaped error entry. ``error_code`` repeats ``error_number`` because
    slurmrestd 22.05's submit path spells it that way, unlike its own OpenAPI schema."""
    return api_errors.error_entry(errno, description, source, error=text, form=api_errors.SUBMIT)


class JobDocumentError(ApiError):
    """A job document that cannot become a job_desc: HTTP 400 with every problem listed."""

    def __init__(self, errors: list[dict]):
        super().__init__(400, errors)


# -- document → job_desc --------------------------------------------------------------------

def _read(doc: Any, where: str, errors: list[dict], submit: bool) -> Options | None:
    if not isinstance(doc, dict):
        errors.append(error_entry(ESLURM_REST_INVALID_JOBS_DESC,
                                  f"{where or 'the job document'} must be an object, "
                                  f"not {_kind(doc)}", where or "body"))
        return None
    o = Options(submit)
    before = len(errors)
    for key, value in doc.items():
        name = str(key).lower()
        source = f"{where}.{key}" if where else str(key)
        if name not in KEYS:
            errors.append(error_entry(ESLURM_REST_FAIL_PARSING, f'Unknown key "{key}"', source))
            continue
        handler = KEYS[name]
        if handler is None:
            errors.append(error_entry(ESLURM_REST_FAIL_PARSING, f'Disabled key: "{key}"', source))
            continue
        try:
            handler(o, value)
        except InvalidValue as e:
            errors.append(error_entry(e.errno if e.errno != SLURM_ERROR else ESLURM_REST_FAIL_PARSING,
                                      f'Unable to process key "{key}": {e.description}', source))
    return o if len(errors) == before else None


def _build(o: Options, *, submit: bool) -> dict:
    """``slurm_opt_create_job_desc(opt, set_defaults=submit)`` plus slurmrestd's additions."""
    d = dict(o.desc)
    if o.job_flags:
        d["bitflags"] = o.job_flags
    if o.ntasks_set:
        d["bitflags"] = d.get("bitflags", 0) | JOB_NTASKS_SET
        d["num_tasks"] = o.ntasks
    if o.cpus_set:
        d["bitflags"] = d.get("bitflags", 0) | JOB_CPUS_SET
        d["cpus_per_task"] = o.cpus_per_task
        d["min_cpus"] = o.ntasks * o.cpus_per_task
    elif o.nodes is not None and o.nodes[0] == 0:
        d["min_cpus"] = 0
    elif submit:
        d["min_cpus"] = o.ntasks
    if o.nodes is not None:
        d["min_nodes"] = o.nodes[0]
        if o.nodes[1]:
            d["max_nodes"] = o.nodes[1]
    if o.mem_per_node is not None:
        d["pn_min_memory"] = o.mem_per_node
    elif o.mem_per_cpu is not None:
        d["pn_min_memory"] = o.mem_per_cpu | MEM_PER_CPU
    if o.hold is not None:
        d["priority"] = 0 if o.hold else INFINITE
    elif o.priority is not None:
        d["priority"] = o.priority
    if o.mail_type_set or submit:
        d["mail_type"] = o.mail_type
    if o.shared is not None:
        d["shared"] = o.shared
    tres = {
        "tres_per_job": tres_list("gres:gpu", o.gpus) if o.gpus else None,
        "tres_per_node": tres_list("gres:gpu", o.gpus_per_node) if o.gpus_per_node else None,
        "tres_per_socket": tres_list("gres:gpu", o.gpus_per_socket) if o.gpus_per_socket else None,
        "tres_per_task": tres_list("gres:gpu", o.gpus_per_task) if o.gpus_per_task else None,
    }
    if o.gres and o.gres.lower() != "none":
        tres["tres_per_node"] = f"{tres['tres_per_node']},{o.gres}" if tres["tres_per_node"] else o.gres
    d.update({k: v for k, v in tres.items() if v})
    if o.work_dir is not None:
        d["work_dir"] = o.work_dir
    elif submit:
        d["work_dir"] = server_cwd()
    if submit:
        d.setdefault("contiguous", 0)
        d.setdefault("mem_bind_type", 0)
        d.setdefault("task_dist", SLURM_DIST_UNKNOWN)
        d["environment"] = _environment_for(o, d)
    # The caller's identity comes from the credential, never from the document: the
    # release's own "not given" (the table default: NO_VAL in 22.05, NOBODY in 24.11).
    d.pop("user_id", None)
    d.pop("group_id", None)
    return d


def _environment_for(o: Options, d: dict) -> list[str]:
    """The job's environment: the document's, then the variables sbatch's ``_opt_verify``
    would add (slurmrestd adds the same ones)."""
    env = dict(o.environment or ())
    if o.get_user_env:
        env["SLURM_GET_USER_ENV"] = "1"
    if d.get("name") is not None:
        env["SLURM_JOB_NAME"] = d["name"]
    if d.get("open_mode"):
        env["SLURM_OPEN_MODE"] = "a" if d["open_mode"] == OPEN_MODE_APPEND else "t"
    if d.get("dependency") is not None:
        env["SLURM_JOB_DEPENDENCY"] = d["dependency"]
    if d.get("profile"):
        env["SLURM_PROFILE"] = _profile_text(d["profile"])
    if d.get("acctg_freq") is not None:
        env["SLURM_ACCTG_FREQ"] = d["acctg_freq"]
    return [f"{k}={v}" for k, v in env.items()]


def _profile_text(word: int) -> str:
    if word == ACCT_GATHER_PROFILE_ALL:
        return "All"
    if word == ACCT_GATHER_PROFILE_NONE:
        return "None"
    return ",".join(n for n, b in (("Energy", ACCT_GATHER_PROFILE_ENERGY),
                                    ("Lustre", ACCT_GATHER_PROFILE_LUSTRE),
                                    ("Network", ACCT_GATHER_PROFILE_NETWORK),
                                    ("Task", ACCT_GATHER_PROFILE_TASK))
                    if word & b)


def job_desc(doc: Any, *, submit: bool, where: str = "") -> dict:
    """One job document → a job_desc dict (§5.10 field names; fields not set are left out so
    they take their ``slurm_init_job_desc_msg`` default — "no change" for an update).

    ``submit``: fill what sbatch fills for a new job and require ``environment``; otherwise
    (an update) only what the document names. ``where`` prefixes the ``source`` of each error
    (``"job"`` → ``job.time_limit``; empty: the key alone). Raises ``JobDocumentError``.
    """
    errors: list[dict] = []
    desc = _one(doc, submit=submit, where=where, errors=errors)
    if errors:
        raise JobDocumentError(errors)
    return desc


def _one(doc: Any, *, submit: bool, where: str, errors: list[dict]) -> dict | None:
    o = _read(doc, where, errors, submit)
    if o is None:
        return None
    if submit and not o.environment:
        errors.append(error_entry(ESLURM_ENVIRONMENT_MISSING, "environment must be set",
                                  f"{where}.environment" if where else "environment"))
        return None
    return _build(o, submit=submit)


SUBMISSION_KEYS = ("script", "job", "jobs")


def submission(body: Any, *, session_id: int | None = None) -> tuple[list[dict], bool]:
    """A ``v0.0.38_job_submission`` document → (job_desc list, is_het_job).

    ``job`` (an object, or a list for a heterogeneous job) or ``jobs`` (a list) carries the
    job(s); ``script`` goes to the first component. Every component is checked before any is
    returned, so nothing is submitted half-way. ``session_id`` becomes ``alloc_sid``
    (slurmrestd sends its own session id, as libslurm does).
    """
    errors: list[dict] = []
    if not isinstance(body, dict):
        raise JobDocumentError([error_entry(ESLURM_REST_INVALID_QUERY,
                                            f"the request body must be an object, not {_kind(body)}",
                                            "body")])
    for key in body:
        if key not in SUBMISSION_KEYS:
            errors.append(error_entry(ESLURM_REST_FAIL_PARSING, f'Unknown key "{key}"', str(key)))
    script = body.get("script")
    if script is None or script == "":
        errors.append(error_entry(ESLURM_JOB_SCRIPT_MISSING, "script must be a non-empty string",
                                  "script"))
    elif not isinstance(script, str):
        errors.append(error_entry(ESLURM_JOB_SCRIPT_MISSING,
                                  f"script must be a string, not {_kind(script)}", "script"))
    elif "\0" in script:
        errors.append(error_entry(ESLURM_JOB_SCRIPT_MISSING,
                                  "script must not contain a NUL byte", "script"))
    if "job" in body and "jobs" in body:
        errors.append(error_entry(ESLURM_REST_INVALID_JOBS_DESC,
                                  'give either "job" or "jobs", not both', "jobs"))
        raise JobDocumentError(errors)
    where = "job" if "job" in body else "jobs"
    jobs = body.get(where)
    descs: list[dict] = []
    het = isinstance(jobs, list)
    if jobs is None:
        errors.append(error_entry(ESLURM_REST_INVALID_JOBS_DESC,
                                  'the job description ("job" or "jobs") is missing', "job"))
    elif het:
        if not jobs:
            errors.append(error_entry(ESLURM_REST_INVALID_JOBS_DESC,
                                      f"{where} must list at least one component", where))
        for i, component in enumerate(jobs):
            desc = _one(component, submit=True, where=f"{where}[{i}]", errors=errors)
            if desc is not None:
                descs.append(desc)
    elif isinstance(jobs, dict):
        desc = _one(jobs, submit=True, where=where, errors=errors)
        if desc is not None:
            descs.append(desc)
    else:
        errors.append(error_entry(ESLURM_REST_INVALID_JOBS_DESC,
                                  f"{where} must be an object or a list, not {_kind(jobs)}", where))
    if errors:
        raise JobDocumentError(errors)
    descs[0]["script"] = script
    if session_id is not None:
        for desc in descs:
            desc["alloc_sid"] = session_id
    return descs, het
