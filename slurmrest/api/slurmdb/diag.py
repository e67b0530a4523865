"""``GET /diag`` (accounting): slurmdbd's statistics (``sacctmgr show stats``), in slurmrestd
dbv0.0.38's shape (its ``parse_stats_rec``).

slurmdbd gives them to administrators only: anyone else is refused with Slurm's "Access/
permission denied", which is 403 here (slurmrestd: 500).
"""

from __future__ import annotations

from slurmrest.api.convert import user_name
from slurmrest.api.errors import refusal
from slurmrest.api.registry import operation, schema_ref
from slurmrest.api.schemas import fields
from slurmrest.wire.dbd_msgtypes import DbdMsgType
from slurmrest.wire.errors import SlurmError

#: slurmrestd's names of the rollup slots (DBD_ROLLUP_HOUR, DAY, MONTH: its words).
ROLLUP_TYPES = ("internal", "user")

_TIME = fields("average:i total:i")
ROLLUP = fields("type:s last_run:i last_cycle:i max_cycle:i total_time:i total_cycles:i "
                "mean_cycles:i")
RPC = fields("rpc:s count:i", time=_TIME)
USER_RPC = fields("user:s? count:i", time=_TIME)
STATISTICS = schema_ref("dbv0.0.38_diag_statistics", fields(
    "time_start:i", rollups={"type": "array", "items": ROLLUP},
    RPCs={"type": "array", "items": RPC}, users={"type": "array", "items": USER_RPC}))


def rpc_name(msg_type: int) -> str:
    """``slurmdbd_msg_type_2_str(type, 1)``."""
    try:
        return DbdMsgType(msg_type).name
    except ValueError:
        return f"MsgType={msg_type}"


def _time(rpc: dict) -> dict:
    # time_ave is computed by the C unpacker (integer division), not sent
    return {"average": rpc["time"] // rpc["cnt"] if rpc["cnt"] else 0, "total": rpc["time"]}


def rollups(rollup_stats: dict | None) -> list[dict]:
    """The slots that ran (a total time), as slurmrestd's ``_dump_stats_rec_array``."""
    out = []
    for i, r in enumerate((rollup_stats or {}).get("rollups") or ()):
        if not r["time_total"]:
            continue
        out.append({
            "type": ROLLUP_TYPES[i] if i < len(ROLLUP_TYPES) else "unknown",
            "last_run": r["timestamp"],
            "last_cycle": r["time_last"],
            "max_cycle": r["time_max"],
            "total_time": r["time_total"],
            "total_cycles": r["count"],
            "mean_cycles": r["time_total"] // r["count"] if r["count"] > 1 else r["time_total"],
        })
    return out


def statistics_document(stats: dict) -> dict:
    """A decoded DBD_GOT_STATS body as slurmrestd's ``statistics`` object."""
    return {
        "time_start": stats["time_start"],
        "rollups": rollups(stats.get("dbd_rollup_stats")),
        "RPCs": [{"rpc": rpc_name(r["id"]), "count": r["cnt"], "time": _time(r)}
                 for r in stats.get("rpc_list") or ()],
        "users": [{"user": user_name(r["id"]), "count": r["cnt"], "time": _time(r)}
                  for r in stats.get("user_list") or ()],
    }


@operation("GET", "/diag", family="slurmdb", operation_id="diag",
           summary="Get slurmdb diagnostics", tags=("slurmdb",),
           response_schema={"type": "object", "properties": {"statistics": STATISTICS}})
async def diag(call):
    try:
        stats = await call.slurmdbd.stats()
    except SlurmError as e:
        raise refusal(e, e.message, "slurmdb_get_stats") from None
    return {"statistics": statistics_document(stats)}
