"""Nodes: GET /nodes and /node/{node_name} as slurmrestd 22.05 shows them, plus node update
and delete (POST / DELETE /node/{node_name}, which slurmrestd only gained in 23.02).
"""

from __future__ import annotations

from slurmrest.api import convert, revalidated, schemas
from slurmrest.api.convert import NO_VAL, text
from slurmrest.api.errors import ApiError, error_entry, refusal
from slurmrest.api.registry import Call, Param, Result, operation
from slurmrest.api.spellings import restd_node_state, restd_node_state_flags
from slurmrest.wire.enums import NODE_STATE_BASE, NODE_STATE_MIXED, node_state_from_name
from slurmrest.wire.errors import (ESLURM_ACCESS_DENIED, ESLURM_INVALID_NODE_NAME,
                                    ESLURM_INVALID_NODE_STATE, ESLURM_NODES_BUSY,
                                    ESLURM_USER_ID_MISSING, SlurmError, strerror)

_UPDATE_TIME = Param("update_time", type=int,
                     description="only answer if nodes changed since this time (epoch s)")

NODE_SCHEMA = schemas.fields("""
    architecture:s burstbuffer_network_address:s boards:i boot_time:i comment:s cores:i
    cpu_binding:i cpu_load:i extra:s free_memory:i cpus:i last_busy:i features:s
    active_features:s gres:s gres_drained:s gres_used:s mcs_label:s name:s
    next_state_after_reboot:s address:s hostname:s state:s state_flags:[s]
    next_state_after_reboot_flags:[s] operating_system:s owner:s? partitions:[s] port:i
    real_memory:i reason:s reason_changed_at:i reason_set_by_user:s? slurmd_start_time:i
    sockets:i threads:i temporary_disk:i weight:i tres:s slurmd_version:s alloc_memory:i
    alloc_cpus:i idle_cpus:i tres_used:s? tres_weighted:n
""")
_NODES_RESPONSE = schemas.response("nodes", schemas.schema_ref("v0.0.38_node", NODE_SCHEMA))
_NODE_NAME = Param("node_name", location="path", description="node name")
#: Update and delete hand the name to slurmctld, which reads a node list there.
_NODE_LIST = Param("node_name", location="path",
                   description="node name, or a Slurm node list (n[1-2],dyn1 or ALL)")


def _select_info(rec: dict) -> dict:
    """The cons_tres select nodeinfo (row 31): a nested dict, or flattened into the record."""
    info = rec.get("select_nodeinfo")
    return info if isinstance(info, dict) else rec


def mixed_state(rec: dict) -> int:
    """``_set_node_mixed`` (SHOW_MIXED): a partly allocated node becomes MIXED."""
    state = rec.get("node_state", 0)
    used = _select_info(rec).get("alloc_cpus", 0)
    if used and used != rec.get("cpus_efctv", rec.get("cpus", 0)):
        state = (state & ~NODE_STATE_BASE) | NODE_STATE_MIXED
    return state


def node_partitions(partitions: list[dict]) -> dict[int, list[str]]:
    """Node-table index → names of the partitions containing it
    (``slurm_populate_node_partitions``)."""
    out: dict[int, list[str]] = {}
    for part in partitions:
        for index in convert.bit_indexes(part.get("node_inx")):
            out.setdefault(index, []).append(text(part.get("name")))
    return out


def node_document(rec: dict, partitions: list[str]) -> dict:
    """One v0.0.38 node document (``_dump_node`` in nodes.c), same keys in the same order."""
    g = rec.get
    sel = _select_info(rec)
    state = mixed_state(rec)
    next_state = g("next_state", NO_VAL)
    owner = g("owner", NO_VAL)
    alloc_cpus = sel.get("alloc_cpus", 0)
    tres_used = sel.get("tres_alloc_fmt_str")
    return {
        "architecture": text(g("arch")),
        "burstbuffer_network_address": text(g("bcast_address")),
        "boards": g("boards", 0),
        "boot_time": g("boot_time", 0),
        "comment": text(g("comment")),
        "cores": g("cores", 0),
        "cpu_binding": g("cpu_bind", 0),
        "cpu_load": g("cpu_load", 0),
        "extra": text(g("extra")),
        "free_memory": g("free_mem", 0),
        "cpus": g("cpus", 0),
        "last_busy": g("last_busy", 0),
        "features": text(g("features")),
        "active_features": text(g("features_act")),
        "gres": text(g("gres")),
        "gres_drained": text(g("gres_drain")),
        "gres_used": text(g("gres_used")),
        "mcs_label": text(g("mcs_label")),
        "name": text(g("name")),
        "next_state_after_reboot": restd_node_state(next_state),
        "address": text(g("node_addr")),
        "hostname": text(g("node_hostname")),
        "state": restd_node_state(state),
        "state_flags": restd_node_state_flags(state),
        "next_state_after_reboot_flags": restd_node_state_flags(next_state),
        "operating_system": text(g("os")),
        "owner": None if owner == NO_VAL else convert.user_name(owner),
        "partitions": partitions,
        "port": g("port", 0),
        "real_memory": g("real_memory", 0),
        "reason": text(g("reason")),
        "reason_changed_at": g("reason_time", 0),
        "reason_set_by_user": convert.user_name(g("reason_uid", NO_VAL)),
        "slurmd_start_time": g("slurmd_start_time", 0),
        "sockets": g("sockets", 0),
        "threads": g("threads", 0),
        "temporary_disk": g("tmp_disk", 0),
        "weight": g("weight", 0),
        "tres": text(g("tres_fmt_str")),
        "slurmd_version": text(g("version")),
        "alloc_memory": sel.get("alloc_memory", 0),
        "alloc_cpus": alloc_cpus,
        "idle_cpus": g("cpus", 0) - alloc_cpus,
        "tres_used": tres_used,
        "tres_weighted": float(sel.get("tres_alloc_weighted", 0.0)),
    }


def nodes_payload(reply: dict, partitions_reply: dict) -> dict:
    by_index = node_partitions(partitions_reply.get("records") or [])
    return {"nodes": [node_document(rec, by_index.get(index, []))
                      for index, rec in enumerate(reply.get("records") or [])
                      if rec.get("name") is not None]}  # blank records keep their slot only


#: The caller's nodes, kept per user: reused while both the node and the partition tables
#: are unchanged (two revalidations with the caller's own credential, at once). With the
#: caller's own ``update_time``, only the nodes answer decides (304); the partition table
#: is then always fetched whole: slurmrestd passes the nodes' update_time there too, and then
#: loses the partition lists whenever partitions did not change (FIX).
COLLECTION = revalidated.Collection(
    "nodes", nodes_payload, lambda call: (call.slurmctld.nodes, call.slurmctld.partitions),
    missing=ESLURM_INVALID_NODE_NAME, max_entries=16)
NODES = COLLECTION.slot


@operation("GET", "/nodes", operation_id="get_nodes", summary="get all node info",
           params=(_UPDATE_TIME,), tags=("slurm",),
           response_schema=_NODES_RESPONSE)
async def get_nodes(call: Call) -> Result:
    return await COLLECTION.all(call)


@operation("GET", "/node/{node_name}", operation_id="get_node",
           summary="get node info", params=(_NODE_NAME,), tags=("slurm",),
           response_schema=_NODES_RESPONSE, errors={ESLURM_INVALID_NODE_NAME: 404})
async def get_node(call: Call) -> Result:
    # Filtered from the whole table, so that the node's partitions are right: slurmrestd
    # matches partitions against the index in a one-record reply (FIX).
    return await COLLECTION.one(call, call.params["node_name"])


# -- update and delete (extensions) --------------------------------------------------------

_STRING_FIELDS = ("comment", "extra", "features", "features_act", "gres", "reason")
_LIST_OR_STRING = ("features", "features_act", "address", "hostname")
_UPDATE_FIELDS = {"state", "weight", "cpu_bind", "address", "hostname", *_STRING_FIELDS}

UPDATE_NODE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "state": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
                  "description": "scontrol's State= words: DRAIN, RESUME, DOWN, UNDRAIN, "
                                 "IDLE, FAIL, FUTURE, POWER_DOWN, POWER_UP, "
                                 "POWER_DOWN_ASAP, POWER_DOWN_FORCE, CANCEL_REBOOT, NORESP "
                                 "(any case; abbreviations as scontrol takes them)"},
        "reason": {"type": "string"},
        "comment": {"type": "string"},
        "extra": {"type": "string"},
        "features": {"oneOf": [{"type": "string"}, {"type": "array"}]},
        "features_act": {"oneOf": [{"type": "string"}, {"type": "array"}]},
        "gres": {"type": "string"},
        # u32 fields of update_node_msg, short of Slurm's NO_VAL and INFINITE (the edge,
        # api.validation, holds requests to it)
        "weight": {"type": "integer", "minimum": 0, "maximum": 0xFFFFFFFD},
        "cpu_bind": {"type": "integer", "minimum": 0, "maximum": 0xFFFFFFFD},
        "address": {"oneOf": [{"type": "string"}, {"type": "array"}]},
        "hostname": {"oneOf": [{"type": "string"}, {"type": "array"}]},
    },
}


def _bad_request(description: str, errno: int = -1, error: str = "Invalid request") -> ApiError:
    return ApiError(400, [error_entry(errno, description, "update_node", error=error)])


def parse_node_state(value) -> int:
    """``state``: one word or a list of words OR-ed together, each read as ``scontrol update
    NodeName=… State=`` reads it."""
    words = [value] if isinstance(value, str) else value
    if not isinstance(words, list) or not words:
        raise _bad_request("state must be a string or a non-empty list of strings")
    state = 0
    for word in words:
        try:
            bits = node_state_from_name(word) if isinstance(word, str) else None
        except ValueError:
            bits = None
        if bits is None:
            raise _bad_request(f"Invalid node state: {word!r}", ESLURM_INVALID_NODE_STATE,
                               strerror(ESLURM_INVALID_NODE_STATE))
        state |= bits
    return state


def update_node_msg(node_names: str, body) -> dict:
    """The ``update_node_msg`` (§5.15) for a POST /node/{node_name} document."""
    if not isinstance(body, dict):
        raise _bad_request("request body must be an object")
    unknown = sorted(set(body) - _UPDATE_FIELDS)
    if unknown:
        raise _bad_request(f"unknown field(s): {', '.join(unknown)}")
    msg: dict = {"node_names": node_names}
    for key in _STRING_FIELDS + ("address", "hostname"):
        if key not in body:
            continue
        value = body[key]
        if key in _LIST_OR_STRING and isinstance(value, list):
            value = ",".join(str(v) for v in value)
        if not isinstance(value, str):
            raise _bad_request(f"{key} must be a string")
        msg[{"address": "node_addr", "hostname": "node_hostname"}.get(key, key)] = value
    for key in ("weight", "cpu_bind"):
        if key in body:
            if not isinstance(body[key], int) or isinstance(body[key], bool) or body[key] < 0:
                raise _bad_request(f"{key} must be a non-negative integer")
            msg[key] = body[key]
    if "state" in body:
        msg["node_state"] = parse_node_state(body["state"])
    return msg


#: Slurm refusing a node update or deletion: the caller's rights 403 (also
#: ESLURM_ACCESS_DENIED for a deletion under a select plugin other than cons_tres: Slurm's
#: text says so), unknown node 404, node busy or in a reservation 409, anything else 400.
_WRITE_ERRORS = {ESLURM_ACCESS_DENIED: 403, ESLURM_USER_ID_MISSING: 403,
                 ESLURM_INVALID_NODE_NAME: 404, ESLURM_NODES_BUSY: 409}


def _refusal(err: SlurmError, source: str) -> Exception:
    """Slurm's refusal, its text (the RC_MSG) as the description."""
    return refusal(err, err.message or "", source)


@operation("POST", "/node/{node_name}", operation_id="update_node",
           summary="update node properties (extension: slurmrestd 23.02)",
           params=(_NODE_LIST,), request_schema=UPDATE_NODE_SCHEMA, tags=("slurm",),
           extension=True, errors=_WRITE_ERRORS, refused=400)
async def update_node(call: Call) -> dict:
    msg = update_node_msg(call.params["node_name"], call.body if call.body is not None else {})
    try:
        await call.slurmctld.update_node(msg)
    except SlurmError as err:
        raise _refusal(err, "slurm_update_node") from None
    return {}


@operation("DELETE", "/node/{node_name}", operation_id="delete_node",
           summary="delete nodes (extension: slurmrestd 23.02)",
           params=(_NODE_LIST,), tags=("slurm",), extension=True, errors=_WRITE_ERRORS,
           refused=400)
async def delete_node(call: Call) -> dict:
    """REQUEST_DELETE_NODE, passed straight to slurmctld as slurmrestd 23.02 does; Slurm
    decides. slurmctld 22.05 (``delete_nodes`` in node_mgr.c) takes ``node_name`` as a node
    list (``dyn[1-3]``, ``ALL``) and deletes every named node that is idle and outside
    reservations, for SlurmUser, root and administrators only. That includes nodes of
    slurm.conf: they come back when slurmctld restarts, and until then ``scontrol
    reconfigure`` kills slurmctld ("node count has changed before reconfiguration",
    fatal; seen with 22.05.8). Refusals:
    not an administrator 403, unknown node 404, node busy or reserved 409 (Slurm's text in
    ``description``). A list is not all or nothing: Slurm deletes the nodes it can and
    answers with the refusal of the others."""
    try:
        await call.slurmctld.delete_node(call.params["node_name"])
    except SlurmError as err:
        raise _refusal(err, "slurm_delete_node") from None
    return {}
