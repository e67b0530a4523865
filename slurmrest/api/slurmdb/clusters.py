"""``/clusters`` and ``/cluster/{cluster_name}``: the clusters slurmdbd knows (``sacctmgr
show cluster``; deleted ones too, as slurmrestd lists them) with their controller, flags,
nodes, select plugin, RPC version and TRES; adding clusters; removing one.

Where we do better than slurmrestd 22.05 (NEWS): an unknown cluster is 404 (slurmrestd:
500); POST refuses a cluster that exists already (409: slurmdbd's "add" would reset its
controller's registration and flags) and the fields slurmdbd does not store on adding
(controller, nodes, select plugin, RPC version, TRES, associations: a cluster's slurmctld
reports them when it registers); DELETE refuses a cluster whose slurmctld is registered
(409: slurmdbd would remove the accounting of a live cluster unless jobs run on it).
"""

from __future__ import annotations

from slurmrest.api.errors import ApiError, error_entry
from slurmrest.api.registry import Param, operation, schema_ref
from slurmrest.api.schemas import fields
from slurmrest.api.slurmdb import bodies, outcomes, reference
from slurmrest.api.slurmdb.accounts import ASSOCIATION_SHORT
from slurmrest.api.slurmdb.transaction import write_all
from slurmrest.api.slurmdb.tres import TRES
from slurmrest.wire.dbd_msgtypes import DbdMsgType
from slurmrest.wire.enums import (
    CLUSTER_FLAG_CRAY,
    CLUSTER_FLAG_EXT,
    CLUSTER_FLAG_FE,
    CLUSTER_FLAG_FED,
    CLUSTER_FLAG_MULTSD,
    SELECT_PLUGIN_NAMES,
)
from slurmrest.wire.errors import ESLURM_REST_INVALID_QUERY, SlurmError
from slurmrest.wire.primitives import NO_VAL

#: slurmrestd's names of a cluster's flags, in its order.
CLUSTER_FLAGS = {"MULTIPLE_SLURMD": CLUSTER_FLAG_MULTSD, "FRONT_END": CLUSTER_FLAG_FE,
                 "CRAY_NATIVE": CLUSTER_FLAG_CRAY, "FEDERATION": CLUSTER_FLAG_FED,
                 "EXTERNAL": CLUSTER_FLAG_EXT}

CLUSTER = schema_ref("dbv0.0.38_cluster_info", fields(
    "flags:[s] name:s nodes:s? select_plugin:s? rpc_version:i",
    controller=fields("host:s? port:i"),
    associations={"type": "object", "properties": {"root": {
        **ASSOCIATION_SHORT, "nullable": True}}},
    tres={"type": "array", "items": TRES}))

#: The fields of a cluster document that its slurmctld reports (refused in a POST).
REPORTED = ("controller", "nodes", "select_plugin", "rpc_version", "tres", "associations")

#: What POST /clusters accepts: what slurmdbd stores of a cluster it adds (the reported
#: fields are known only to be refused by name).
CLUSTER_BODY = bodies.Shape({"name": str, "flags": [str], **{f: object for f in REPORTED}},
                            required=("name",))


def cluster_document(cluster: dict, tres_by_id: dict[int, dict]) -> dict:
    flags = cluster.get("flags") or 0
    if flags == NO_VAL:
        flags = 0
    return {
        "controller": {"host": cluster.get("control_host"),
                       "port": cluster.get("control_port")},
        "flags": [n for n, bit in CLUSTER_FLAGS.items() if flags & bit],
        "name": cluster.get("name"),
        "nodes": cluster.get("nodes"),
        "select_plugin": SELECT_PLUGIN_NAMES.get(cluster.get("plugin_id_select")),
        # slurmrestd 22.05 has no dumper for the root association: always null.
        "associations": {"root": None},
        "rpc_version": cluster.get("rpc_version"),
        "tres": reference.tres_list(cluster.get("tres_str"), tres_by_id),
    }


CLUSTERS_RESPONSE = {"type": "object", "properties": {
    "clusters": {"type": "array", "items": CLUSTER}}}


async def _documents(call, names=None) -> list[dict]:
    cond = {"cluster_list": list(names or ()), "with_deleted": 1, "flags": NO_VAL}
    try:
        records = await call.slurmdbd.clusters(cond)
        tres_by_id = await reference.tres_by_id(call)
    except SlurmError as e:
        raise outcomes.refused(e, "slurmdb_clusters_get") from None
    return [cluster_document(c, tres_by_id) for c in records]


@operation("GET", "/clusters", family="slurmdb", operation_id="get_clusters",
           summary="Get cluster list", tags=("slurmdb",),
           response_schema=CLUSTERS_RESPONSE, errors=outcomes.STATUSES)
async def get_clusters(call):
    return {"clusters": await _documents(call)}


NAME = Param("cluster_name", location="path", description="Slurm cluster name")


@operation("GET", "/cluster/{cluster_name}", family="slurmdb", operation_id="get_cluster",
           summary="Get cluster info", tags=("slurmdb",), params=(NAME,),
           response_schema=CLUSTERS_RESPONSE, errors=outcomes.STATUSES)
async def get_cluster(call):
    documents = await _documents(call, [call.params["cluster_name"]])
    if not documents:
        raise outcomes.nothing_found("slurmdb_clusters_get", {"clusters": []})
    return {"clusters": documents}


def cluster_records(body) -> list[dict]:
    """POST /clusters' body as DBD_ADD_CLUSTERS records (400 for anything not understood)."""
    source = "slurmdb_clusters_add"
    out = []
    for i, doc in enumerate(bodies.records(body, "clusters", CLUSTER_BODY, source)):
        where = f"clusters[{i}]"
        reported = [f for f in REPORTED if f in doc]
        if reported:
            raise bodies.refuse(f"{where}: {', '.join(reported)} cannot be set: the "
                                "cluster's slurmctld reports them", source)
        out.append({"name": doc["name"], "flags": bodies.flag_bits(
            doc.get("flags"), CLUSTER_FLAGS, f"{where}.flags", source)})
    names = [r["name"] for r in out]
    if len(set(names)) != len(names):
        raise bodies.refuse("a cluster is named twice", source)
    return out


async def prepare_clusters(call, body) -> list[dict]:
    """POST /clusters' body as the records to add, before any transaction is opened: 400
    for anything not understood, 409 for a cluster that exists."""
    source = "slurmdb_clusters_add"
    records = cluster_records(body)
    try:
        existing = await call.slurmdbd.clusters({"cluster_list": [r["name"] for r in records]})
    except SlurmError as e:
        raise outcomes.refused(e, "slurmdb_clusters_get") from None
    if existing:
        raise ApiError(409, [error_entry(
            ESLURM_REST_INVALID_QUERY,
            f"cluster(s) already exist: {', '.join(c['name'] for c in existing)}", source)])
    return records


async def add_clusters(txn, records: list[dict]) -> None:
    """Prepared clusters added on ``txn`` (committed by its owner). slurmdbd creates their
    tables first (MySQL commits DDL at once: empty tables may stay behind a failure)."""
    try:
        await txn.call(DbdMsgType.DBD_ADD_CLUSTERS, {"my_list": records})
    except SlurmError as e:
        raise outcomes.refused(e, "slurmdb_clusters_add") from None


@operation("POST", "/clusters", family="slurmdb", operation_id="add_clusters",
           summary="Add clusters", tags=("slurmdb",),
           request_schema={"type": "object", "properties": {
               "clusters": {"type": "array", "items": CLUSTER}}},
           response_schema={"type": "object", "properties": {}},
           errors=outcomes.STATUSES)
async def post_clusters(call):
    records = await prepare_clusters(call, call.body)
    await write_all(call, lambda txn: add_clusters(txn, records))
    return {}


@operation("DELETE", "/cluster/{cluster_name}", family="slurmdb",
           operation_id="delete_cluster", summary="Delete cluster", tags=("slurmdb",),
           params=(NAME,),
           response_schema={"type": "object", "properties": {
               "deleted_clusters": {"type": "array", "items": {"type": "string"}}}},
           errors=outcomes.STATUSES)
async def delete_cluster(call):
    name = call.params["cluster_name"]
    source = "slurmdb_clusters_remove"
    try:
        live = await call.slurmdbd.clusters({"cluster_list": [name]})
    except SlurmError as e:
        raise outcomes.refused(e, source) from None
    if not live:
        raise outcomes.nothing_found(source, {"deleted_clusters": []})
    controller = live[0]
    if controller.get("control_port") or controller.get("control_host"):
        raise ApiError(409, [error_entry(
            ESLURM_REST_INVALID_QUERY,
            f"cluster {name} has a slurmctld registered at {controller.get('control_host')}:"
            f"{controller.get('control_port')}: stop it before removing the cluster", source)])
    txn = await call.slurmdbd.begin()
    try:
        removed = await txn.call(DbdMsgType.DBD_REMOVE_CLUSTERS,
                                 {"cluster_list": [name], "with_deleted": 1})
        if not removed:
            raise outcomes.nothing_found(source, {"deleted_clusters": []})
        await txn.commit()
    except SlurmError as e:
        raise outcomes.refused(e, source) from None
    finally:
        txn.abort()
    return {"deleted_clusters": removed}
