"""``GET /jobs`` and ``GET /job/{job_id}``: slurmdbd's job records (``sacct``), shaped like
slurmrestd dbv0.0.38's.

A request costs one DBD_GET_JOBS_COND with the caller's credential; the TRES, QOS and
association tables that name a job's ids are reference tables (``reference``: kept
``REFERENCE_MAX_AGE`` seconds, fetched in parallel with the jobs when stale, associations
per user since ``PrivateData`` may hide some). ``skip_steps=true`` sets JOBCOND_FLAG_NO_STEP:
slurmdbd then skips its step query (about 5 ms instead of 185 ms for 1,000 jobs).

Defaults without parameters: under v0.0.38 slurmrestd 22.05's NULL condition (every cluster,
since midnight of slurmdbd's host, revoked federation siblings left out); under v1 the
condition of any query, which gives sacct's defaults (the local cluster, since midnight)
unless times are given. Any parameter at all (and always under v1): the local cluster unless
``cluster`` names others, duplicates included, times not truncated.

An empty answer: under v0.0.38 slurmrestd's ``errors`` entry 9003 "Nothing found" beside
``jobs: []`` (status 200); under v1 just the empty list. ``/job/{id}`` of a job slurmdbd does
not have is a 404 with that entry under both (as our ``/slurm/.../job/{id}``; slurmrestd:
200).
"""

from __future__ import annotations

from twisted.internet import defer

from slurmrest.api.errors import Refusal, error_entry
from slurmrest.api.registry import Param, Result, operation, schema_ref
from slurmrest.api.schemas import fields
from slurmrest.api.slurmdb import reference
from slurmrest.api.slurmdb.accounts import ASSOCIATION_SHORT
from slurmrest.api.slurmdb.job_documents import JobNames, job_document
from slurmrest.api.slurmdb.job_query import PARAMS, job_query, single_job_cond
from slurmrest.api.slurmdb.tres import TRES
from slurmrest.api.state import LastAnswer, Slot
from slurmrest.wire.errors import ESLURM_REST_EMPTY_RESULT, ESLURM_REST_INVALID_QUERY

# -- association table (per user) --------------------------------------------------------

#: What slurmrestd asks for to name a job's association.
ASSOC_COND = {"with_deleted": 1, "without_parent_info": 1, "without_parent_limits": 1}


async def _assoc_by_key(call) -> dict[tuple, dict]:
    # Association ids are unique per cluster only.
    return {(a.get("cluster"), a["id"]): a
            for a in await call.slurmdbd.associations(dict(ASSOC_COND))}


ASSOCIATIONS = Slot("accounting.job_associations", dict)
#: How many users' association tables (and JobNames) are kept at most.
MAX_USERS = 1024


async def assoc_by_key(call) -> dict[tuple, dict]:
    """slurmdbd's associations by (cluster, id), as the caller may see them (kept per user
    for ``REFERENCE_MAX_AGE``)."""
    tables = call.state[ASSOCIATIONS]
    table = tables.get(call.user)
    if table is None:
        if len(tables) >= MAX_USERS:  # bounded: forget everyone's, start again
            tables.clear()
        table = tables[call.user] = reference.ReferenceTable(_assoc_by_key)
    return await table.get(call)


#: The last JobNames per user, reused while its three tables are the very same objects (the
#: reference tables hand out one object until they fetch again): its TRES lists and host
#: lists stay converted across requests.
NAMES = Slot("accounting.job_names", dict)


async def job_names(call) -> JobNames:
    """The tables one answer names ids through, fetched together when stale."""
    loads = [defer.ensureDeferred(load(call))
             for load in (reference.tres_by_id, reference.qos_by_id, assoc_by_key)]
    try:
        tables = await defer.gatherResults(loads, consumeErrors=True)
    except defer.FirstError as err:
        err.subFailure.raiseException()
    kept = call.state[NAMES].get(call.user)
    if kept is not None and all(a is b for a, b in zip(kept[0], tables)):
        return kept[1]
    names = JobNames(*tables)
    kept_names = call.state[NAMES]
    if len(kept_names) >= MAX_USERS:
        kept_names.clear()
    kept_names[call.user] = (tables, names)
    return names


# -- schemas --------------------------------------------------------------------------------

def _obj(**props) -> dict:
    return {"type": "object", "properties": props}


_NULLABLE_INT = {"type": "integer", "nullable": True}
_TRES_LIST = {"type": "array", "items": TRES}
_TRES_NCT = {"type": "array", "items": fields("type:s name:s? id:i count:i? task:i? node:s?")}
_SECONDS = fields("seconds:i? microseconds:i?")
EXIT_CODE = schema_ref("dbv0.0.38_job_exit_code", fields(
    "status:s return_code:i?", signal=fields("signal_id:i name:s")))
STEP = schema_ref("dbv0.0.38_job_step", _obj(
    nodes=fields("list:[s] count:i? range:s?"),
    tres=_obj(requested=_obj(max=_TRES_NCT, min=_TRES_NCT, average=_TRES_LIST,
                             total=_TRES_LIST),
              consumed=_obj(max=_TRES_NCT, min=_TRES_NCT, average=_TRES_LIST,
                            total=_TRES_LIST),
              allocated=_TRES_LIST),
    time=fields("elapsed:i? end:i? start:i? suspended:i?", system=_SECONDS, total=_SECONDS,
                user=_SECONDS),
    exit_code=EXIT_CODE,
    tasks=fields("count:i?"),
    pid={"type": "string", "nullable": True},
    CPU=_obj(requested_frequency=fields("min:i? max:i?"),
             governor={"type": "array", "items": {"type": "string"}}),
    kill_request_user={"type": "string", "nullable": True},
    state={"type": "string"},
    statistics=_obj(CPU=fields("actual_frequency:i?"), energy=fields("consumed:i?")),
    step=fields("job_id:i? id:s name:s?", het=fields("component:i?"),
                id={"oneOf": [{"type": "string"}, {"type": "integer"}],
                    "description": "step number, or batch, extern, interactive, pending"}),
    task=fields("distribution:s"),
))
JOB = schema_ref("dbv0.0.38_job", fields(
    "account:s? allocation_nodes:i? cluster:s? constraints:s? container:s? flags:[s] "
    "group:s? job_id:i name:s? nodes:s? partition:s? priority:i? qos:s? "
    "kill_request_user:s? user:s? working_directory:s?",
    comment=fields("administrator:s? job:s? system:s?"),
    array=fields("job_id:i? task:s? task_id:i?", limits=_obj(max=_obj(running=fields(
        "tasks:i?")))),
    association=ASSOCIATION_SHORT,
    derived_exit_code=EXIT_CODE,
    time=fields("elapsed:i? eligible:i? end:i? start:i? submission:i? suspended:i? limit:i?",
                system=_SECONDS, total=_SECONDS, user=_SECONDS),
    exit_code=EXIT_CODE,
    het=fields("job_id:i? job_offset:i?"),
    mcs=fields("label:s?"),
    required=fields("CPUs:i? memory:i?"),
    reservation=fields("id:i?", name={
        "oneOf": [{"type": "string"}, {"type": "integer"}],
        "description": "the reservation's name; 0 for none (slurmrestd 22.05 prints an "
                       "integer here)"}),
    state=fields("current:s reason:s"),
    steps={"type": "array", "items": STEP},
    tres=_obj(allocated=_TRES_LIST, requested=_TRES_LIST),
    wckey={"type": "object", "nullable": True, "properties": {
        "wckey": {"type": "string"}, "flags": {"type": "array", "items": {"type": "string"}}}},
))
JOB_INFO = {"type": "object", "properties": {"jobs": {"type": "array", "items": JOB}}}


# -- operations -----------------------------------------------------------------------------

_JOBS_DESCRIPTION = (
    "Jobs from slurmdbd (sacct). Without any parameter, under v0.0.38: slurmrestd 22.05's "
    "default, every cluster's jobs since midnight (slurmdbd's window), revoked federation "
    "siblings left out; under v1: sacct's defaults, the local cluster since midnight unless "
    "start_time/submit_time/end_time are given. With any parameter: the local cluster unless "
    "`cluster` names others, duplicates included. `skip_steps=true` leaves the steps out "
    "(much cheaper). An empty list comes with error 9003 \"Nothing found\" under v0.0.38 "
    "(as slurmrestd), without under v1.")


def _nothing_found() -> dict:
    return error_entry(ESLURM_REST_EMPTY_RESULT, "Nothing found", "slurmdb_jobs_get")


def _local_cluster(call) -> str | None:
    return call.slurmdbd.client.cluster_name


async def _records(call, cond: dict | None) -> tuple[list[dict], JobNames]:
    names = defer.ensureDeferred(job_names(call))
    try:
        records = await call.slurmdbd.jobs(cond)
    except BaseException:
        names.addErrback(lambda _: None)
        raise
    return records, await names


def _converted(records, names, exit_code: int | None = None) -> list[dict]:
    if exit_code is not None:
        records = [r for r in records if _exited_with(r["exitcode"], exit_code)]
    return [job_document(r, names) for r in records]


async def _documents(call, cond: dict | None, exit_code: int | None = None) -> list[dict]:
    return _converted(*await _records(call, cond), exit_code)


#: The last answers of GET /jobs, by (user, API version, query). slurmdbd's reply to the
#: same query with the very same bytes is the same decoded list (``dbd_client``), and with
#: the same name tables it is the same answer: kept as a ``Result``, serialised once.
ANSWERS = Slot("accounting.job_answers", dict)
#: How many answers are kept (each holds its documents and their serialised forms).
MAX_ANSWERS = 64


def _exited_with(status: int, code: int) -> bool:
    status &= 0xFFFFFFFF
    return status & 0x7F == 0 and (status >> 8) & 0xFF == code & 0xFF


@operation("GET", "/jobs", family="slurmdb", operation_id="get_jobs",
           summary="Get job list",
           description=_JOBS_DESCRIPTION,
           params=PARAMS, tags=("slurmdb",), response_schema=JOB_INFO,
           errors={ESLURM_REST_INVALID_QUERY: 400})
async def get_jobs(call):
    params = call.params
    qos = await reference.qos_by_id(call) if "qos" in params else None
    query = job_query(params, cluster=_local_cluster(call), qos_by_id=qos,
                      null_without_params=call.version == "v0.0.38")
    records, names = await _records(call, query.cond)
    answers = call.state[ANSWERS]
    key = (call.user, call.version, tuple(sorted(params.items())))
    kept = answers.get(key)
    if kept is not None and kept.source[0] is records and kept.source[1] is names:
        return kept.result
    jobs = _converted(records, names, query.exit_code)
    if not jobs and call.version == "v0.0.38":
        result = Result({"jobs": []}, errors=[_nothing_found()], cache={})
    else:
        result = Result({"jobs": jobs}, cache={})
    if kept is None:
        if len(answers) >= MAX_ANSWERS:
            answers.pop(next(iter(answers)))  # the oldest first
        kept = answers[key] = LastAnswer()
    kept.keep((records, names), result)
    return result


@operation("GET", "/job/{job_id}", family="slurmdb", operation_id="get_job",
           summary="Get job info",
           description="One job from slurmdbd: ``123``, ``123_4`` (array task), ``123+1`` "
                       "(het component), ``123.batch`` or ``123.0`` (a step: the job with "
                       "the steps slurmdbd selects, as ``sacct -j``; slurmrestd 22.05 shows "
                       "every step for ``123.0``). 400 for a malformed id (slurmrestd dies); "
                       "404 when slurmdbd has no such job (slurmrestd: 200), with "
                       "slurmrestd's error 9003 and an empty list.",
           params=(Param("job_id", location="path", description="Slurm JobID"),),
           tags=("slurmdb",), response_schema=JOB_INFO,
           errors={ESLURM_REST_EMPTY_RESULT: 404, ESLURM_REST_INVALID_QUERY: 400})
async def get_job(call):
    cond = single_job_cond(call.params["job_id"], _local_cluster(call))
    jobs = await _documents(call, cond)
    if not jobs:
        raise Refusal(ESLURM_REST_EMPTY_RESULT, [_nothing_found()], payload={"jobs": []})
    return {"jobs": jobs}
