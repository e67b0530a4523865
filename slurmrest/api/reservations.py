"""Reservations: GET /reservations and /reservation/{reservation_name}, as slurmrestd 22.05
shows them (``_dump_res`` in ``src/plugins/openapi/v0.0.38/reservations.c``)."""

from __future__ import annotations

from slurmrest.api import revalidated, schemas
from slurmrest.api.convert import text
from slurmrest.api.registry import Call, Param, Result, operation
from slurmrest.api.spellings import RESTD_RESERVATION_FLAG_NAMES
from slurmrest.wire.enums import RESERVE_FLAG_PURGE_COMP, flag_names
from slurmrest.wire.errors import ESLURM_RESERVATION_INVALID


def reservation_document(rec: dict) -> dict:
    """One v0.0.38 reservation document, same keys in the same order as slurmrestd's."""
    g = rec.get
    word = g("flags", 0)
    doc = {
        "flags": flag_names(word, RESTD_RESERVATION_FLAG_NAMES),
        "accounts": text(g("accounts")),
        "burst_buffer": text(g("burst_buffer")),
        "core_count": g("core_cnt", 0),
        "core_spec_cnt": g("core_spec_cnt", 0),
        "end_time": g("end_time", 0),
        "features": text(g("features")),
        "groups": text(g("groups")),
        "licenses": text(g("licenses")),
        "max_start_delay": g("max_start_delay", 0),
        "name": text(g("name")),
        "node_count": g("node_cnt", 0),
        "node_list": text(g("node_list")),
        "partition": text(g("partition")),
    }
    if word & RESERVE_FLAG_PURGE_COMP:
        doc["purge_completed"] = {"time": g("purge_comp_time", 0)}
    doc["start_time"] = g("start_time", 0)
    doc["watts"] = g("resv_watts", 0)  # raw, NO_VAL included, as slurmrestd prints it
    doc["tres"] = text(g("tres_str"))
    doc["users"] = text(g("users"))
    return doc


_UPDATE_TIME = Param("update_time", type=int,
                     description="only answer if reservations changed since this time (epoch s)")

RESERVATION_SCHEMA = schemas.fields("""
    flags:[s] accounts:s burst_buffer:s core_count:i core_spec_cnt:i end_time:i features:s
    groups:s licenses:s max_start_delay:i name:s node_count:i node_list:s partition:s
    start_time:i watts:i tres:s users:s
""", purge_completed={"type": "object", "properties": {"time": {"type": "integer"}}})
_RESERVATIONS_RESPONSE = schemas.response(
    "reservations", schemas.schema_ref("v0.0.38_reservation", RESERVATION_SCHEMA))


def reservations_payload(reply: dict) -> dict:
    return {"reservations": [reservation_document(rec) for rec in reply.get("records") or []]}


#: The caller's reservations: kept per user, revalidated with the caller's own RPC; one is
#: found by name as slurmrestd does (xstrcasecmp).
COLLECTION = revalidated.Collection(
    "reservations", reservations_payload, lambda call: (call.slurmctld.reservations,),
    missing=ESLURM_RESERVATION_INVALID, fold_case=True)
RESERVATIONS = COLLECTION.slot


@operation("GET", "/reservations", operation_id="get_reservations",
           summary="get all reservation info", params=(_UPDATE_TIME,), tags=("slurm",),
           response_schema=_RESERVATIONS_RESPONSE)
async def get_reservations(call: Call) -> Result:
    return await COLLECTION.all(call)


@operation("GET", "/reservation/{reservation_name}", operation_id="get_reservation",
           summary="get reservation info",
           params=(Param("reservation_name", location="path", description="reservation name"),
                   _UPDATE_TIME),
           tags=("slurm",),
           response_schema=_RESERVATIONS_RESPONSE, errors={ESLURM_RESERVATION_INVALID: 404})
async def get_reservation(call: Call) -> Result:
    # slurmrestd answers 500 for a missing reservation (same document); here it is a 404.
    return await COLLECTION.one(call, call.params["reservation_name"])
