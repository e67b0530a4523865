"""``GET /licenses``: the cluster's licenses, shaped like slurmrestd's (``scontrol show lic``)."""

from __future__ import annotations

from collections import OrderedDict

from slurmrest.api.registry import Result, operation, schema_ref
from slurmrest.wire.errors import NoChange

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
    free = lic["available"] if "available" in lic else max(total - used, 0)
    return {"LicenseName": lic.get("name"), "Total": total, "Used": used, "Free": free,
            "Reserved": lic.get("reserved", 0), "Remote": bool(lic.get("remote"))}


@operation("GET", "/licenses", operation_id="slurmctld_get_licenses",
           summary="get all Slurm tracked license info", tags=("slurm",),
           response_schema={"type": "object", "properties": {
               "licenses": {"type": "array", "description": "licenses info", "items": LICENSE}}})
async def licenses(call):
    return await for_call(call).get(call.user, call.ctld.licenses)


class LicenseCache:
    """The licenses document per user (what one may see is slurmctld's to decide), kept
    with the ``last_update`` of its reply and revalidated with it on every request: an
    unchanged list costs a ``SLURM_NO_CHANGE_IN_DATA`` reply and nothing else, and the
    very same ``Result`` is answered (its ``cache`` keeps the serialised bytes)."""

    def __init__(self, max_entries: int = 64):
        self.max_entries = max_entries
        self._entries: OrderedDict[str | None, tuple[int, Result]] = OrderedDict()
        self.hits = 0

    async def get(self, user: str | None, load) -> Result:
        entry = self._entries.get(user)
        if entry is None:
            reply = await load(0)
        else:
            try:
                reply = await load(entry[0])
            except NoChange:
                self.hits += 1
                if user in self._entries:
                    self._entries.move_to_end(user)
                return entry[1]
        result = Result({"licenses": [license_document(lic)
                                      for lic in reply.get("licenses") or []]}, cache={})
        self._entries[user] = (reply.get("last_update") or 0, result)
        self._entries.move_to_end(user)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return result


def for_call(call) -> LicenseCache:
    """The server's cache (one per server, so per cluster); a fresh one outside a server."""
    server = call.server
    if server is None:
        return LicenseCache()
    cache = getattr(server, "licenses_cache", None)
    if cache is None:
        cache = server.licenses_cache = LicenseCache()
    return cache
