"""``GET /tres``: slurmdbd's TRES table (``sacctmgr show tres``), shaped like slurmrestd's.

slurmrestd 22.05 answers the list under ``TRES`` although its own document says ``tres``;
clients of it read ``TRES``, so that is what we send.
"""

from __future__ import annotations

from slurmrest.api.registry import operation, schema_ref
from slurmrest.api.schemas import fields
from slurmrest.api.slurmdb import reference

TRES = schema_ref("dbv0.0.38_tres", fields("type:s name:s? id:i count:i?"))


def tres_document(tres: dict) -> dict:
    return reference.tres_entry(tres, tres["id"], tres.get("count", 0))


@operation("GET", "/tres", family="slurmdb", operation_id="get_tres",
           summary="Get TRES info", tags=("slurmdb",),
           response_schema={"type": "object", "properties": {
               "TRES": {"type": "array", "description": "TRES list of attributes",
                        "items": TRES}}})
async def get_tres(call):
    records = await call.slurmdbd.tres()
    return {"TRES": [tres_document(t) for t in records]}
