"""``GET /diag``: slurmctld's statistics (``sdiag``), in slurmrestd v0.0.38's shape.

The means are computed as slurmrestd computes them (integer division by the cycle counters),
so that the numbers agree with slurmrestd's and ``sdiag``'s.
"""

from __future__ import annotations

import functools
import pwd

from slurmrest.api.registry import Result, operation, schema_ref
from slurmrest.api.state import LastAnswer, Slot
from slurmrest.wire.msgtypes import MsgType

_INT = {"type": "integer"}

RPC_BY_TYPE = schema_ref("v0.0.38_diag_rpcm", {
    "type": "object",
    "properties": {
        "message_type": {"type": "string", "description": "message type name"},
        "type_id": {"type": "integer", "description": "message type number"},
        "count": {"type": "integer", "description": "number of RPCs"},
        "average_time": {"type": "integer", "description": "average time spent, microseconds"},
        "total_time": {"type": "integer", "description": "total time spent, microseconds"},
    },
})
RPC_BY_USER = schema_ref("v0.0.38_diag_rpcu", {
    "type": "object",
    "properties": {
        "user": {"type": "string", "description": "user name"},
        "user_id": {"type": "integer", "description": "user id"},
        "count": {"type": "integer", "description": "number of RPCs"},
        "average_time": {"type": "integer", "description": "average time spent, microseconds"},
        "total_time": {"type": "integer", "description": "total time spent, microseconds"},
    },
})

#: Counters copied as they are, in slurmrestd's order.
_COPIED = ("parts_packed", "req_time", "req_time_start", "server_thread_count",
           "agent_queue_size", "agent_count", "agent_thread_count", "dbd_agent_queue_size",
           "gettimeofday_latency", "schedule_cycle_max", "schedule_cycle_last")

STATISTICS_FIELDS = (
    "rpcs_by_message_type", "rpcs_by_user", *_COPIED, "schedule_cycle_total",
    "schedule_cycle_mean", "schedule_cycle_mean_depth", "schedule_cycle_per_minute",
    "schedule_queue_length", "jobs_submitted", "jobs_started", "jobs_completed",
    "jobs_canceled", "jobs_failed", "jobs_pending", "jobs_running", "job_states_ts",
    "bf_backfilled_jobs", "bf_last_backfilled_jobs", "bf_backfilled_het_jobs",
    "bf_cycle_counter", "bf_cycle_mean", "bf_depth_mean", "bf_depth_mean_try", "bf_cycle_last",
    "bf_cycle_max", "bf_queue_len", "bf_queue_len_mean", "bf_table_size",
    "bf_table_size_mean", "bf_when_last_cycle", "bf_active",
)


def _mean(total: int, count: int) -> int:
    return total // count if count else 0


@functools.lru_cache(maxsize=4096)
def message_type_name(type_id: int) -> str:
    try:
        return MsgType(type_id).name
    except ValueError:
        return str(type_id)


@functools.lru_cache(maxsize=4096)  # NSS lookups cost more than the rest of a row
def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _rows(ids, counts, times) -> list[tuple[int, int, int]]:
    return list(zip(ids or (), counts or (), times or ()))


def statistics_document(s: dict) -> dict:
    """A decoded ``RESPONSE_STATS_INFO`` body → slurmrestd's ``statistics`` object."""
    g = s.get
    cycles = g("schedule_cycle_counter", 0)
    bf_cycles = g("bf_cycle_counter", 0)
    period = g("req_time", 0) - g("req_time_start", 0)
    doc = {
        "rpcs_by_message_type": [
            {"message_type": message_type_name(t), "type_id": t, "count": c,
             "average_time": _mean(tm, c), "total_time": tm}
            for t, c, tm in _rows(g("rpc_type_id"), g("rpc_type_cnt"), g("rpc_type_time"))],
        "rpcs_by_user": [
            {"user": user_name(u), "user_id": u, "count": c,
             "average_time": _mean(tm, c), "total_time": tm}
            for u, c, tm in _rows(g("rpc_user_id"), g("rpc_user_cnt"), g("rpc_user_time"))],
    }
    doc.update((name, g(name, 0)) for name in _COPIED)
    doc.update({
        "schedule_cycle_total": cycles,
        "schedule_cycle_mean": _mean(g("schedule_cycle_sum", 0), cycles),
        "schedule_cycle_mean_depth": _mean(g("schedule_cycle_depth", 0), cycles),
        "schedule_cycle_per_minute": cycles // (period // 60) if period > 60 else 0,
        "schedule_queue_length": g("schedule_queue_len", 0),
    })
    doc.update((name, g(name, 0)) for name in (
        "jobs_submitted", "jobs_started", "jobs_completed", "jobs_canceled", "jobs_failed",
        "jobs_pending", "jobs_running", "job_states_ts", "bf_backfilled_jobs",
        "bf_last_backfilled_jobs", "bf_backfilled_het_jobs", "bf_cycle_counter"))
    doc.update({
        "bf_cycle_mean": _mean(g("bf_cycle_sum", 0), bf_cycles),
        "bf_depth_mean": _mean(g("bf_depth_sum", 0), bf_cycles),
        "bf_depth_mean_try": _mean(g("bf_depth_try_sum", 0), bf_cycles),
        "bf_cycle_last": g("bf_cycle_last", 0),
        "bf_cycle_max": g("bf_cycle_max", 0),
        "bf_queue_len": g("bf_queue_len", 0),
        "bf_queue_len_mean": _mean(g("bf_queue_len_sum", 0), bf_cycles),
        "bf_table_size": g("bf_table_size", 0),
        "bf_table_size_mean": _mean(g("bf_table_size_sum", 0), bf_cycles),
        "bf_when_last_cycle": g("bf_when_last_cycle", 0),
        "bf_active": bool(g("bf_active", 0)),
    })
    return doc


_STATISTICS_SCHEMA = {
    "type": "object",
    "description": "Slurm statistics",
    "properties": {
        name: ({"type": "array", "items": RPC_BY_TYPE} if name == "rpcs_by_message_type" else
               {"type": "array", "items": RPC_BY_USER} if name == "rpcs_by_user" else
               {"type": "boolean"} if name == "bf_active" else _INT)
        for name in STATISTICS_FIELDS
    },
}


@operation("GET", "/diag", operation_id="diag", summary="get diagnostics", tags=("slurm",),
           response_schema={"type": "object", "properties": {"statistics": _STATISTICS_SCHEMA}})
async def diag(call):
    reply = await call.slurmctld.stats()
    # Always a fresh RPC; but callers who shared one (the client hands them the very same
    # decoded reply) share its document and its serialisation too.
    last = call.state[LAST_DIAG]
    if last.source is reply:
        return last.result
    result = Result({"statistics": statistics_document(reply)}, cache={})
    last.keep(reply, result)
    return result


#: The last answer and the reply it was made from.
LAST_DIAG = Slot("diag.last", LastAnswer)
