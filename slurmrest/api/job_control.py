"""Submitting, updating and signalling jobs: POST /job/submit, POST /job/{job_id},
DELETE /job/{job_id} — slurmrestd 22.05's requests and replies.

The job document is checked whole (every component of a heterogeneous job) before any RPC, so
nothing is submitted half-way; slurmctld's het-job RPC is itself all-or-nothing.

HTTP statuses differ from slurmrestd 22.05 where its are plain bugs (it answers 500 for most
Slurm refusals): a refusal caused by the request is 400, by the caller's rights 403, an unknown
job 404, a controller that cannot take it now 503; ``ESLURM_ALREADY_DONE`` on a kill is
success, as in slurmrestd.
"""

from __future__ import annotations

import os
import re

from slurmrest.api import job_desc as jd
from slurmrest.api.errors import SUBMIT, ApiError, Refusal
from slurmrest.api.errors import refusal as api_refusal
from slurmrest.api.registry import Call, Param, Result, operation, schema_ref
from slurmrest.wire import enums, errors
from slurmrest.wire.errors import CommunicationError, SlurmError
from slurmrest.wire.primitives import (
    KILL_FULL_JOB,
    SLURM_BATCH_SCRIPT,
    SLURM_EXTERN_CONT,
    SLURM_INTERACTIVE_STEP,
    SLURM_PENDING_STEP,
)

#: Slurm refusing a job write: the caller's rights 403, an unknown job 404, a controller
#: that cannot take it now 503, a failure on Slurm's side 500; any other refusal was caused
#: by the request (``refused=400``).
JOB_WRITE_ERRORS = {
    errors.ESLURM_ACCESS_DENIED: 403, errors.ESLURM_USER_ID_MISSING: 403,
    errors.ESLURM_GROUP_ID_MISSING: 403, errors.ESLURM_RESERVATION_ACCESS: 403,
    errors.ESLURM_INVALID_JOB_ID: 404,
    errors.ESLURM_IN_STANDBY_MODE: 503, errors.ESLURM_SUBMISSIONS_DISABLED: 503,
    errors.ESLURM_IN_STANDBY_USE_BACKUP: 503, errors.ESLURM_JOB_SETTING_DB_INX: 503,
    errors.ESLURM_WRITING_TO_FILE: 500, errors.SLURM_ERROR: 500,
}

_STEP_NAMES = {SLURM_PENDING_STEP: "PENDING", SLURM_BATCH_SCRIPT: "BATCH",
               SLURM_EXTERN_CONT: "EXTERN", SLURM_INTERACTIVE_STEP: "INTERACTIVE"}

#: A job as slurmctld's ``job_str_signal`` / ``update_job_str`` take it: ``123``,
#: ``123_4``, ``123_[1-3,5]``, ``123_*``, ``123+1`` (a het job component).
_JOB_SPEC = re.compile(r"^[1-9][0-9]{0,9}(_(\d{1,10}|\*|\[\d[\d,\-%]*\]))?$|^[1-9][0-9]{0,9}\+\d{1,5}$")


def refusal(e: SlurmError, description: str, source: str) -> Exception:
    """slurmctld said no: a ``Refusal`` with Slurm's number and text (and any RC_MSG text);
    a controller we cannot reach or understand stays what it is (the runner's, 502/503)."""
    if e.message:
        description = f"{description}: {e.message}"
    return api_refusal(e, description, source, form=SUBMIT)


#: The submission left us whole (or in part) and no answer came back: slurmctld may have
#: created the job. Not "unable to contact": a client must not believe nothing was created.
OUTCOME_UNKNOWN = "Submission outcome unknown"
_DELIVERED = (errors.SLURMCTLD_COMMUNICATIONS_SEND_ERROR,
              errors.SLURMCTLD_COMMUNICATIONS_RECEIVE_ERROR)


def outcome_unknown(e: CommunicationError) -> Exception:
    """What to raise when a submission's RPC failed: a connection that never opened is the
    runner's (503, nothing was sent); once sent, the outcome is unknown (504 on a timeout,
    502 when the connection closed), and the answer says so."""
    if e.errno not in _DELIVERED:
        return e
    how = "did not answer in time" if e.timeout else "closed the connection without an answer"
    return ApiError(504 if e.timeout else 502, [jd.error_entry(
        e.errno, f"slurmctld received the submission but {how}: the job may exist; look for "
        f"it (squeue --me) before submitting again", "slurm_submit_batch_job",
        text=OUTCOME_UNKNOWN)])


def job_spec(text: str) -> str:
    """The path's job id, checked; slurmctld itself would only say "Invalid job id"."""
    if not _JOB_SPEC.match(text):
        raise ApiError(400, [jd.error_entry(
            errors.ESLURM_INVALID_JOB_ID, f"not a job id: {text[:64]!r}", "job_id")])
    return text


def parse_signal(text: str) -> int:
    """``?signal=``: a name (``SIGUSR1``, ``USR1``, ``kill``) or a number, 1 ≤ n < SIGRTMAX."""
    try:
        return enums.signal_number(text)
    except ValueError:
        raise ApiError(400, [jd.error_entry(
            errors.ESLURM_REST_INVALID_QUERY, f"invalid signal: {text[:32]!r}",
            "HTTP request: signal")]) from None


def _session_id() -> int:
    # libslurm sends getsid(0) as alloc_sid (slurmctld shows it as AllocNode:Sid).
    try:
        return os.getsid(0)
    except OSError:
        return 0


# -- OpenAPI shapes --------------------------------------------------------------------------

_TYPES = {
    "argv": {"type": "array", "items": {"type": "string"}},
    "environment": {"type": "object", "additionalProperties": {"type": "string"}},
    "nodes": {"oneOf": [{"type": "string"}, {"type": "integer"},
                        {"type": "array", "items": {"type": "integer"}, "minItems": 1,
                         "maxItems": 2}]},
    "begin_time": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
    "priority": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
    "exclusive": {"oneOf": [{"type": "boolean"},
                            {"type": "string", "enum": ["user", "mcs", "true", "false",
                                                        "exclusive", "oversubscribe"]}]},
}
_BOOLEANS = {"hold", "kill_on_invalid_dependency", "minimum_nodes", "no_kill", "no_requeue",
             "oversubscribe", "requeue", "spread_job", "wait_all_nodes", "get_user_environment"}
_INTEGERS = {"core_specification", "cores_per_socket", "cpus_per_gpu", "cpus_per_task",
             "minimum_cpus_per_node", "nice", "sockets_per_node", "tasks", "ntasks",
             "tasks_per_core", "ntasks_per_core", "ntasks_per_gpu", "tasks_per_node",
             "ntasks_per_node", "tasks_per_socket", "ntasks_per_socket", "ntasks_per_tres",
             "thread_specification", "threads_per_core", "memory_per_cpu", "memory_per_gpu",
             "memory_per_node", "time_limit", "time_minimum", "delay_boot"}


#: What slurmrestd's data_get_*_converted take for a text or a flag: any scalar, or null
#: (job_values.as_string, as_bool); the edge (api.validation) holds requests to this.
_SCALAR = {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}],
           "nullable": True}


def _property(name: str) -> dict:
    if name in _TYPES:
        return dict(_TYPES[name])
    if name in _BOOLEANS:
        return dict(_SCALAR, description="a flag: true/false, yes/no, a number")
    if name in _INTEGERS:
        # slurmrestd also takes Slurm's text forms ("1-00:00:00", "4G"), and rounds numbers
        return {"anyOf": [{"type": "integer"}, {"type": "number"}, {"type": "string"}]}
    return dict(_SCALAR)


JOB_PROPERTIES = schema_ref("v0.0.38_job_properties", {
    "type": "object",
    "description": "A job, as sbatch options (keys are case-insensitive)",
    "properties": {name: _property(name) for name, handler in sorted(jd.KEYS.items())
                   if handler is not None and name != "test_only"},
    "additionalProperties": False,
})
JOB_SUBMISSION = schema_ref("v0.0.38_job_submission", {
    "type": "object",
    "required": ["script"],
    "properties": {
        "script": {"type": "string", "description": "the batch script (whole text)"},
        "job": JOB_PROPERTIES,
        "jobs": {"type": "array", "description": "the components of a heterogeneous job",
                 "items": JOB_PROPERTIES},
    },
})
SUBMISSION_RESPONSE = {
    "type": "object",
    "properties": {
        "job_id": {"type": "integer", "description": "new job id"},
        "step_id": {"type": "string", "description": "new job step id (BATCH)"},
        "job_submit_user_msg": {"type": "string",
                                "description": "message to the user from a job_submit plugin"},
    },
}

_JOB_ID = Param("job_id", location="path", type=str, required=True,
                description="job id: 123, 123_4 (array task), 123_[1-3], 123_*, 123+1")
_SIGNAL = Param("signal", type=str,
                description="signal to send, by name (SIGUSR1, USR1) or number; default KILL")


# -- operations ------------------------------------------------------------------------------

@operation("POST", "/job/submit", operation_id="submit_job", summary="submit new job",
           request_schema=JOB_SUBMISSION, response_schema=SUBMISSION_RESPONSE, tags=("slurm",),
           errors=JOB_WRITE_ERRORS, refused=400)
async def submit_job(call: Call) -> Result:
    descs, het = jd.submission(call.body, session_id=_session_id())
    try:
        if het:
            reply = await call.slurmctld.submit_het(descs)
        else:
            reply = await call.slurmctld.submit_batch(descs[0])
    except CommunicationError as e:
        raise outcome_unknown(e) from None
    except SlurmError as e:
        raise refusal(e, "job submission refused", "slurm_submit_batch_het_job" if het
                      else "slurm_submit_batch_job") from None
    step_id = reply.get("step_id")
    remarks = []
    code = reply.get("error_code") or 0
    if code:
        # Accepted, with a remark (e.g. 2042 "held", 2068 nodes not available): slurmrestd
        # lists it in "errors" beside the new job id, with HTTP 200.
        remarks.append(jd.error_entry(code, errors.strerror(code), "slurmctld",
                                       text=errors.strerror(code)))
    payload = {
        "job_id": reply.get("job_id"),
        "step_id": _STEP_NAMES.get(step_id, str(step_id)),
        "job_submit_user_msg": reply.get("job_submit_user_msg") or "",
    }
    return Result(payload, errors=remarks)


@operation("POST", "/job/{job_id}", operation_id="update_job", summary="update job",
           params=(_JOB_ID,), request_schema=JOB_PROPERTIES, tags=("slurm",),
           errors=JOB_WRITE_ERRORS, refused=400)
async def update_job(call: Call) -> Result:
    spec = job_spec(call.params["job_id"])
    if call.body is None:
        raise ApiError(400, [jd.error_entry(jd.ESLURM_REST_INVALID_JOBS_DESC,
                                            "the update document is missing", "body")])
    if isinstance(call.body, list):
        raise ApiError(400, [jd.error_entry(jd.ESLURM_REST_INVALID_JOBS_DESC,
                                            "a job update takes one object, not a list", "body")])
    desc = jd.job_desc(call.body, submit=False)
    desc["job_id_str"] = spec
    try:
        message = await call.slurmctld.update_job(desc)
    except SlurmError as e:
        raise refusal(e, f"update of job {spec} refused", "slurm_update_job2") from None
    return _update_result(message, spec)


def _update_result(message, spec: str) -> Result:
    """RC 0 → success; RESPONSE_JOB_ARRAY_ERRORS → one error per failed group of tasks (all
    failed: the status of the first failure; some failed: 200 with the errors listed)."""
    body = getattr(message, "body", None) or {}
    entries = body.get("entries") if isinstance(body, dict) else None
    if not entries:
        return Result({})
    failed = [e for e in entries if e.get("error_code")]
    found = [jd.error_entry(e["error_code"], f"update of job {e.get('job_array_id')} refused",
                            "slurm_update_job2", text=errors.strerror(e["error_code"]))
             for e in failed]
    if failed and len(failed) == len(entries):
        raise Refusal(failed[0]["error_code"], found)
    return Result({}, errors=found)


@operation("DELETE", "/job/{job_id}", operation_id="cancel_job",
           summary="cancel or signal job", params=(_JOB_ID, _SIGNAL), tags=("slurm",),
           errors=JOB_WRITE_ERRORS, refused=400)
async def cancel_job(call: Call) -> dict:
    spec = job_spec(call.params["job_id"])
    raw = call.params.get("signal")
    number = 9 if raw is None else parse_signal(raw)
    try:
        await call.slurmctld.kill_job(spec, signal=number, flags=KILL_FULL_JOB)
    except SlurmError as e:
        if e.errno == errors.ESLURM_ALREADY_DONE:
            return {}  # already finished or finishing: what was asked is true
        raise refusal(e, f"unable to kill JobId={spec} with signal {number}",
                      "slurm_kill_job") from None
    return {}
