"""``GET/POST /tres``: slurmdbd's TRES table (``sacctmgr show tres withdeleted``), shaped like
slurmrestd's.

slurmrestd asks with ``with_deleted=1``, so its list ends with TRES_OFFSET's placeholder (id
1000, ``dynamic_offset``, a deleted row): so do we. It answers the list under ``TRES``
although its own document says ``tres``; clients of it read ``TRES``, so that is what we send.

POST /tres: slurmrestd 22.05 (built without debugging, as released) refuses every request
with "Updating TRES is not currently supported." (ESLURM_NOT_SUPPORTED, status 500). TRES are
slurmctld's to create (``AccountingStorageTRES``, at registration): one added through the API
would be counted by no controller. We refuse as well, with Slurm's words and 501 (not
implemented) instead of 500, after checking the body (a malformed one is 400).
"""

from __future__ import annotations

from slurmrest.api.errors import Refusal, error_entry
from slurmrest.api.registry import operation, schema_ref
from slurmrest.api.schemas import fields
from slurmrest.api.slurmdb import reference
from slurmrest.wire import primitives as P
from slurmrest.wire.errors import ESLURM_NOT_SUPPORTED, ESLURM_REST_INVALID_QUERY

TRES = schema_ref("dbv0.0.38_tres", fields("type:s name:s? id:i count:i?"))
TRES_LIST = {"type": "object", "properties": {
    "TRES": {"type": "array", "description": "TRES list of attributes", "items": TRES}}}


def tres_document(tres: dict) -> dict:
    count = tres.get("count", 0)
    if count in (P.NO_VAL64, P.INFINITE64):  # slurmrestd's INT64 dump: null
        count = None
    return reference.tres_entry(tres, tres["id"], count)


@operation("GET", "/tres", family="slurmdb", operation_id="get_tres",
           summary="Get TRES info", tags=("slurmdb",), response_schema=TRES_LIST)
async def get_tres(call):
    records = await call.slurmdbd.tres({"with_deleted": 1})
    return {"TRES": [tres_document(t) for t in records]}


def _check_body(body) -> None:
    """slurmrestd's reading of a TRES body: ``{"TRES": [{type, name?, id?, count?}, ...]}``."""
    def bad(text):
        return Refusal(ESLURM_REST_INVALID_QUERY,
                       [error_entry(ESLURM_REST_INVALID_QUERY, text, "TRES")])
    if not isinstance(body, dict) or set(body) - {"TRES", "tres"}:
        raise bad("the body must be an object with one key: TRES")
    entries = body.get("TRES", body.get("tres"))
    if not isinstance(entries, list):
        raise bad("TRES must be a list")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise bad(f"TRES[{i}]: each TRES entry must be a dictionary")
        unknown = sorted(set(entry) - {"type", "name", "id", "count"})
        if unknown:
            raise bad(f"TRES[{i}]: unknown field {unknown[0]!r}")
        if not isinstance(entry.get("type"), str) or not entry["type"]:
            raise bad(f"TRES[{i}]: Missing required field 'type'")


@operation("POST", "/tres", family="slurmdb", operation_id="update_tres",
           summary="Set TRES info", tags=("slurmdb",), request_schema=TRES_LIST,
           response_schema={"type": "object", "properties": {}},
           errors={ESLURM_REST_INVALID_QUERY: 400, ESLURM_NOT_SUPPORTED: 501})
async def update_tres(call):
    _check_body(call.body)
    raise Refusal(ESLURM_NOT_SUPPORTED, [error_entry(
        ESLURM_NOT_SUPPORTED, "Updating TRES is not currently supported.", None)])
