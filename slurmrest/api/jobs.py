"""Reading jobs: GET /jobs and GET /job/{job_id}, shaped like slurmrestd 22.05's.

GET /jobs without ``update_time`` is answered from ``job_cache`` (refreshed with Slurm's own
``last_update`` test). With ``update_time`` the caller's time goes to Slurm unchanged and
"no change" is HTTP 304, as slurmrestd does. ``GET /slurm/v1/jobs?watch=true`` keeps the
answer open as server-sent events (``job_watch``).

GET /job/{job_id} accepts what ``slurm_xlate_job_id`` accepts — ``123``, ``123_4`` (array
task), ``123+1`` (het job component) — and answers all three; slurmrestd 22.05 answers 400 for
``123_4`` whenever the task is still pending inside the array's record, and its URL parser
refuses the ``+``.
"""

from __future__ import annotations

import re
from typing import Callable

from slurmrest.api import job_cache, job_watch, meta, revalidated, schemas
from slurmrest.api.convert import NO_VAL, bit_indexes
from slurmrest.api.job_records import JOB_SCHEMA, job_document
from slurmrest.api.errors import ApiError, Refusal, error_entry
from slurmrest.api.registry import Call, Param, Result, Stream, operation
from slurmrest.wire.errors import ESLURM_INVALID_JOB_ID, ESLURM_REST_INVALID_JOBS_DESC, SlurmError

_JOB_ID = re.compile(r"^(\d+)(?:_(\d+)|\+(\d+))?$")

_JOBS_RESPONSE = schemas.response(
    "jobs", schemas.schema_ref("v0.0.38_job_response_properties", JOB_SCHEMA))


async def _select_type_param(call: Call) -> int | None:
    """The cluster's SelectTypeParameters (decides ``allocated_cores`` vs ``allocated_cpus``),
    from the server's build info cache; None if unavailable (then each job's own)."""
    try:
        info = await meta.build_info(call)
    except SlurmError:
        return None
    return info.get("select_type_param")


def _documents(reply: dict, select_type_param: int | None) -> list[dict]:
    return [job_document(rec, select_type_param) for rec in reply.get("records") or ()]


@operation("GET", "/jobs", operation_id="get_jobs", summary="get list of jobs",
           streams=True,
           params=(Param("update_time", type=int,
                         description="only answer if jobs changed since this time (epoch s)"),
                   Param("watch", type=bool,
                         description="v1: keep the answer open as server-sent events "
                                     "(text/event-stream): the jobs, then each change"),
                   Param("Last-Event-ID", location="header",
                         description="with watch: the id of the last event seen (resume)")),
           tags=("slurm",), response_schema=_JOBS_RESPONSE)
async def get_jobs(call: Call) -> dict | Result | Stream:
    select_type_param = await _select_type_param(call)

    def convert(rec: dict) -> dict:
        return job_document(rec, select_type_param)

    if call.params.get("watch") and call.version != "v0.0.38":
        return await call.state[job_watch.WATCH].watcher(
            (call.user, select_type_param), call.slurmctld.jobs,
            revalidated.credential_of(call), convert, call.params.get("Last-Event-ID"))

    return await revalidated.current(call, job_cache.JOBS, (call.slurmctld.jobs,),
                                     convert=convert, variant=select_type_param)


def _bad_job_id(text: str) -> ApiError:
    return ApiError(400, [error_entry(ESLURM_REST_INVALID_JOBS_DESC,
                                      f"Unable to find JobId={text}", "_handle_job_get")])


def _no_such_job(text: str) -> Refusal:
    # slurmrestd answers 500 for a job that does not exist; it is a 404 (same document).
    return Refusal(ESLURM_INVALID_JOB_ID, [error_entry(
        ESLURM_INVALID_JOB_ID, f"Unable to find JobId={text}", "slurm_load_job")],
        payload={"jobs": []})


def parse_job_id(text: str) -> tuple[int, int | None, int | None]:
    """``"123"`` → (123, None, None); ``"123_4"`` → (123, 4, None); ``"123+1"`` →
    (123, None, 1). Anything else (or job id 0) is a 400, worded like slurmrestd's."""
    match = _JOB_ID.match(text)
    if not match or int(match.group(1)) == 0 or int(match.group(1)) >= NO_VAL:
        raise _bad_job_id(text)
    task = match.group(2)
    offset = match.group(3)
    return (int(match.group(1)), None if task is None else int(task),
            None if offset is None else int(offset))


def _array_task_records(records: list[dict], job_id: int, task: int) -> list[dict]:
    """The record of task ``task`` of array ``job_id``: its own record once split off, else
    the array's meta record while the task is still pending inside it (as scontrol does)."""
    for rec in records:
        if rec.get("array_task_id") == task:  # slurm_xlate_job_id looks at nothing else
            return [rec]
    for rec in records:
        if (rec.get("array_task_id") == NO_VAL and rec.get("array_task_str")
                and task in bit_indexes(rec.get("array_task_str"))):
            return [rec]
    return []


def _follows(job_id: int, task: int | None) -> Callable[[dict], bool]:
    """Which records a watcher of GET /job/{job_id} follows: the job (an array's or a het
    job's records all), or the one array task."""
    def wants(rec: dict) -> bool:
        if task is not None:
            return rec.get("array_job_id") == job_id and rec.get("array_task_id") == task
        return job_id in (rec.get("job_id"), rec.get("array_job_id"), rec.get("het_job_id"))
    return wants


@operation("GET", "/job/{job_id}", operation_id="get_job", summary="get job info",
           streams=True,
           params=(Param("job_id", location="path",
                         description="job id: 123, 123_4 (array task), 123+1 (het component)"),
                   Param("watch", type=bool,
                         description="v1: keep the answer open as server-sent events "
                                     "(text/event-stream): the job, then each change"),
                   Param("Last-Event-ID", location="header",
                         description="with watch: the id of the last event seen (resume)")),
           tags=("slurm",), response_schema=_JOBS_RESPONSE,
           errors={ESLURM_INVALID_JOB_ID: 404})
async def get_job(call: Call) -> dict | Stream:
    text = call.params["job_id"]
    job_id, task, offset = parse_job_id(text)
    if offset is not None:
        job_id += offset
    if call.params.get("watch") and call.version != "v0.0.38":
        select_type_param = await _select_type_param(call)
        return await call.state[job_watch.WATCH].watcher(
            (call.user, select_type_param), call.slurmctld.jobs,
            revalidated.credential_of(call),
            lambda rec: job_document(rec, select_type_param),
            call.params.get("Last-Event-ID"),
            _follows(job_id, task) if offset is None else
            (lambda rec: rec.get("job_id") == job_id))
    try:
        reply = await call.slurmctld.job(job_id)
    except SlurmError as err:
        if err.errno == ESLURM_INVALID_JOB_ID:
            raise _no_such_job(text) from None
        raise
    records = reply.get("records") or []
    if task is not None:
        records = _array_task_records(records, job_id, task)
    elif offset is not None:
        # REQUEST_JOB_INFO_SINGLE of a het leader returns every component; N+K is one.
        records = [rec for rec in records if rec.get("job_id") == job_id]
    if not records:
        raise _no_such_job(text)
    select_type_param = await _select_type_param(call)
    return {"jobs": _documents({"records": records}, select_type_param)}
