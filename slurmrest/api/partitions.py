"""Partitions: GET /partitions and /partition/{partition_name}, as slurmrestd 22.05 shows them
(``_dump_part`` in ``src/plugins/openapi/v0.0.38/partitions.c``)."""

from __future__ import annotations

from slurmrest.api import revalidated, schemas
from slurmrest.api.convert import INFINITE, MEM_PER_CPU, NO_VAL, NO_VAL16, NO_VAL64, text
from slurmrest.api.registry import Call, Param, Result, operation
from slurmrest.api.spellings import (RESTD_PARTITION_FLAG_NAMES, restd_partition_state,
                                     restd_preempt_mode_names)
from slurmrest.wire.enums import flag_names
from slurmrest.wire.errors import ESLURM_INVALID_PARTITION_NAME


def _memory(value: int) -> tuple[int | None, int | None]:
    """(per CPU, per node) from a ``MEM_PER_CPU``-flagged memory word; 0 = unlimited."""
    if value == NO_VAL64 or not value & ~MEM_PER_CPU:
        return None, None
    if value & MEM_PER_CPU:
        return value & ~MEM_PER_CPU, None
    return None, value


def _unlimited(value: int) -> int | None:
    if value == INFINITE:
        return -1
    return None if value == NO_VAL else value


def partition_document(rec: dict) -> dict:
    """One v0.0.38 partition document, same keys in the same order as slurmrestd's."""
    g = rec.get
    flags = flag_names(g("flags", 0), RESTD_PARTITION_FLAG_NAMES)
    preemption = restd_preempt_mode_names(g("preempt_mode", NO_VAL16))
    def_cpu, def_node = _memory(g("def_mem_per_cpu", 0))
    max_cpu, max_node = _memory(g("max_mem_per_cpu", 0))
    max_nodes = g("max_nodes", INFINITE)
    max_time = g("max_time", INFINITE)
    over = g("over_time_limit", NO_VAL16)
    return {
        "flags": flags,
        "preemption_mode": preemption,
        "allowed_allocation_nodes": text(g("allow_alloc_nodes")),
        "allowed_accounts": text(g("allow_accounts")),
        "allowed_groups": text(g("allow_groups")),
        "allowed_qos": text(g("allow_qos")),
        "alternative": text(g("alternate")),
        "billing_weights": text(g("billing_weights_str")),
        "default_memory_per_cpu": def_cpu,
        "default_memory_per_node": def_node,
        # FIX: slurmrestd means -1 for an unlimited DefaultTime but overwrites it with
        # 4294967295; we keep the -1 it uses everywhere else.
        "default_time_limit": _unlimited(g("default_time", NO_VAL)),
        "denied_accounts": text(g("deny_accounts")),
        "denied_qos": text(g("deny_qos")),
        "preemption_grace_time": g("grace_time", 0),
        "maximum_cpus_per_node": _unlimited(g("max_cpus_per_node", INFINITE)),
        "maximum_memory_per_cpu": max_cpu,
        "maximum_memory_per_node": max_node,
        "maximum_nodes_per_job": -1 if max_nodes == INFINITE else max_nodes,
        "max_time_limit": -1 if max_time == INFINITE else max_time,
        "min nodes per job": g("min_nodes", 0),
        "name": text(g("name")),
        "nodes": text(g("nodes")),
        "over_time_limit": None if over == NO_VAL16 else over,
        "priority_job_factor": g("priority_job_factor", 0),
        "priority_tier": g("priority_tier", 0),
        "qos": text(g("qos_char")),
        "state": restd_partition_state(g("state_up", 0)),
        "total_cpus": g("total_cpus", 0),
        "total_nodes": g("total_nodes", 0),
        "tres": text(g("tres_fmt_str")),
    }


_UPDATE_TIME = Param("update_time", type=int,
                     description="only answer if partitions changed since this time (epoch s)")

PARTITION_SCHEMA = schemas.fields("""
    flags:[s] preemption_mode:[s] allowed_allocation_nodes:s allowed_accounts:s
    allowed_groups:s allowed_qos:s alternative:s billing_weights:s default_memory_per_cpu:i?
    default_memory_per_node:i? default_time_limit:i? denied_accounts:s denied_qos:s
    preemption_grace_time:i maximum_cpus_per_node:i? maximum_memory_per_cpu:i?
    maximum_memory_per_node:i? maximum_nodes_per_job:i max_time_limit:i name:s nodes:s
    over_time_limit:i? priority_job_factor:i priority_tier:i qos:s state:s total_cpus:i
    total_nodes:i tres:s
""", **{"min nodes per job": {"type": "integer"}})
_PARTITIONS_RESPONSE = schemas.response(
    "partitions", schemas.schema_ref("v0.0.38_partition", PARTITION_SCHEMA))


def partitions_payload(reply: dict) -> dict:
    return {"partitions": [partition_document(rec) for rec in reply.get("records") or []]}


#: The caller's partitions: kept per user, revalidated with the caller's own RPC; one is
#: found by name as slurmrestd does (xstrcasecmp).
COLLECTION = revalidated.Collection(
    "partitions", partitions_payload, lambda call: (call.slurmctld.partitions,),
    missing=ESLURM_INVALID_PARTITION_NAME, fold_case=True)
PARTITIONS = COLLECTION.slot


@operation("GET", "/partitions", operation_id="get_partitions",
           summary="get all partition info", params=(_UPDATE_TIME,), tags=("slurm",),
           response_schema=_PARTITIONS_RESPONSE)
async def get_partitions(call: Call) -> Result:
    return await COLLECTION.all(call)


@operation("GET", "/partition/{partition_name}", operation_id="get_partition",
           summary="get partition info",
           params=(Param("partition_name", location="path", description="partition name"),
                   _UPDATE_TIME),
           tags=("slurm",),
           response_schema=_PARTITIONS_RESPONSE, errors={ESLURM_INVALID_PARTITION_NAME: 404})
async def get_partition(call: Call) -> Result:
    # slurmrestd answers 500 for a missing partition (same document); here it is a 404.
    return await COLLECTION.one(call, call.params["partition_name"])
