"""``GET /licenses``: the cluster's licenses, shaped like slurmrestd's (``scontrol show lic``)."""

from __future__ import annotations

from slurmrest.api import revalidated
from slurmrest.api.registry import operation, schema_ref

LICENSE = schema_ref("v0.0.38_license", {
    "type": "object",
    "properties": {
        "LicenseName": {"type": "string", "description": "name of license"},
        "Total": {"type": "integer", "description": "total number of licenses"},
        "Used": {"type": "integer", "description": "number of licenses in use"},
        "Free": {"type": "integer", "description": "number of licenses available"},
        "Reserved": {"type": "integer", "description": "number of licenses reserved"},
        "Remote": {"type": "boolean", "description": "license is remote"},
    },
})


def license_document(lic: dict) -> dict:
    total, used = lic.get("total", 0), lic.get("in_use", 0)
    # Not on the wire: libslurm computes it, and so do we.
    free = max(total - used, 0)
    return {"LicenseName": lic.get("name"), "Total": total, "Used": used, "Free": free,
            "Reserved": lic.get("reserved", 0), "Remote": bool(lic.get("remote"))}


@operation("GET", "/licenses", operation_id="slurmctld_get_licenses",
           summary="get all Slurm tracked license info", tags=("slurm",),
           response_schema={"type": "object", "properties": {
               "licenses": {"type": "array", "description": "licenses info", "items": LICENSE}}})
async def licenses(call):
    return (await revalidated.current(call, LICENSES, (call.slurmctld.licenses,))).result


def licenses_payload(reply: dict) -> dict:
    return {"licenses": [license_document(lic) for lic in reply.get("licenses") or []]}


LICENSES = revalidated.cache_slot("licenses", licenses_payload, 64)
