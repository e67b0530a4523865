"""``/wckeys`` and ``/wckey/{wckey}``: slurmdbd's workload characterisation keys (``sacctmgr
show wckey``; deleted ones too, as slurmrestd lists them), adding them, removing one name
(on every cluster, for every user, as slurmrestd does).

slurmrestd 22.05's POST /wckeys only adds (slurmdbd's add updates a key that exists), so
there is no DBD_MODIFY_WCKEYS here. Slurm lets only operators and administrators read
wckeys: alice is refused (403; slurmrestd: 500).

Where we do better than slurmrestd 22.05 (NEWS): no wckeys at all is an empty list (200;
slurmrestd: 500 "Nothing found"); an unknown wckey is 404 (slurmrestd: 500); POST does not
require the ``id`` slurmdbd assigns, and refuses (400) a wckey of a cluster or a user
slurmdbd does not know instead of letting slurmdbd fail on it.
"""

from __future__ import annotations

from slurmrest.api.registry import Param, operation, schema_ref
from slurmrest.api.schemas import fields
from slurmrest.api.slurmdb import bodies, outcomes
from slurmrest.wire.dbd_msgtypes import DbdMsgType
from slurmrest.wire.enums import SLURMDB_WCKEY_FLAG_DELETED
from slurmrest.wire.errors import SlurmError

WCKEY = schema_ref("dbv0.0.38_wckey", fields(
    "cluster:s id:i name:s user:s flags:[s]",
    accounts={"type": "array", "items": {"type": "object"}}))

#: What POST /wckeys accepts of a wckey document (``id`` is slurmdbd's: ignored).
WCKEY_BODY = bodies.Shape({"name": str, "cluster": str, "user": str, "id": int,
                           "flags": [str], "accounts": [dict]},
                          required=("name", "cluster", "user"))

#: slurmrestd's flag names of a wckey. DEFAULT stands for the record's ``is_def`` (a bit
#: of our own, outside Slurm's flags); a POST of a DELETED wckey adds it again.
IS_DEFAULT = 1 << 31
WCKEY_FLAGS = {"DELETED": SLURMDB_WCKEY_FLAG_DELETED, "DEFAULT": IS_DEFAULT}


def wckey_document(wckey: dict) -> dict:
    bits = (wckey.get("flags") or 0) | (IS_DEFAULT if wckey.get("is_def") else 0)
    return {
        # slurmrestd dumps the usage list here; it asks for none, so it is always empty.
        "accounts": [],
        "cluster": wckey.get("cluster"),
        "id": wckey.get("id"),
        "name": wckey.get("name"),
        "user": wckey.get("user"),
        "flags": [name for name, bit in WCKEY_FLAGS.items() if bits & bit],
    }


WCKEYS_RESPONSE = {"type": "object", "properties": {
    "wckeys": {"type": "array", "items": WCKEY}}}


async def _documents(call, names=None) -> list[dict]:
    cond = {"with_deleted": 1}
    if names:
        cond["name_list"] = list(names)
    try:
        records = await call.slurmdbd.wckeys(cond)
    except SlurmError as e:
        raise outcomes.refused(e, "slurmdb_wckeys_get", {"wckeys": []}) from None
    return [wckey_document(w) for w in records]


@operation("GET", "/wckeys", family="slurmdb", operation_id="get_wckeys",
           summary="Get wckey list", tags=("slurmdb",),
           response_schema=WCKEYS_RESPONSE, errors=outcomes.STATUSES)
async def get_wckeys(call):
    return {"wckeys": await _documents(call)}


NAME = Param("wckey", location="path", description="wckey name")


@operation("GET", "/wckey/{wckey}", family="slurmdb", operation_id="get_wckey",
           summary="Get wckey info", tags=("slurmdb",), params=(NAME,),
           response_schema=WCKEYS_RESPONSE, errors=outcomes.STATUSES)
async def get_wckey(call):
    documents = await _documents(call, [call.params["wckey"]])
    if not documents:
        raise outcomes.nothing_found("slurmdb_wckeys_get", {"wckeys": []})
    return {"wckeys": documents}


async def prepare_wckeys(call, body, *, adding_clusters=frozenset(),
                         adding_users=frozenset()) -> list[dict]:
    """POST /wckeys' body as DBD_ADD_WCKEYS records, before any transaction is opened (400
    for anything not understood, including a cluster or user slurmdbd does not know and the
    same request does not add: ``adding_clusters``, ``adding_users``, for POST /config)."""
    source = "slurmdb_wckeys_add"
    out = []
    for i, doc in enumerate(bodies.records(body, "wckeys", WCKEY_BODY, source)):
        where = f"wckeys[{i}]"
        bits = bodies.flag_bits(doc.get("flags"), WCKEY_FLAGS, f"{where}.flags", source)
        if doc.get("accounts"):
            raise bodies.refuse(f"{where}: accounts (usage) are slurmdbd's to fill", source)
        out.append({"name": doc["name"], "cluster": doc["cluster"], "user": doc["user"],
                    "is_def": 1 if bits & IS_DEFAULT else 0})
    try:
        clusters = {c["name"] for c in await call.slurmdbd.clusters(
            {"cluster_list": sorted({r["cluster"] for r in out})})}
        users = {u["name"] for u in await call.slurmdbd.users(
            {"assoc_cond": {"user_list": sorted({r["user"] for r in out})}})}
    except SlurmError as e:
        raise outcomes.refused(e, "slurmdb_wckeys_add") from None
    clusters |= set(adding_clusters)
    users |= set(adding_users)
    for i, record in enumerate(out):
        if record["cluster"] not in clusters:
            raise bodies.refuse(f"wckeys[{i}]: unknown cluster {record['cluster']!r}", source)
        if record["user"] not in users:
            raise bodies.refuse(f"wckeys[{i}]: unknown user {record['user']!r}", source)
    return out


async def add_wckeys(txn, records: list[dict]) -> None:
    """Prepared wckeys added on ``txn`` (committed by its owner)."""
    try:
        await txn.call(DbdMsgType.DBD_ADD_WCKEYS, {"my_list": records})
    except SlurmError as e:
        raise outcomes.refused(e, "slurmdb_wckeys_add") from None


@operation("POST", "/wckeys", family="slurmdb", operation_id="add_wckeys",
           summary="Add wckeys", tags=("slurmdb",),
           request_schema={"type": "object", "properties": {
               "wckeys": {"type": "array", "items": WCKEY}}},
           response_schema={"type": "object", "properties": {}},
           errors=outcomes.STATUSES)
async def post_wckeys(call):
    records = await prepare_wckeys(call, call.body)
    txn = await call.slurmdbd.begin()
    try:
        await add_wckeys(txn, records)
        await txn.commit()
    finally:
        txn.abort()  # a no-op once committed
    return {}


@operation("DELETE", "/wckey/{wckey}", family="slurmdb", operation_id="delete_wckey",
           summary="Delete wckey", tags=("slurmdb",), params=(NAME,),
           response_schema={"type": "object", "properties": {
               "deleted_wckeys": {"type": "array", "items": {"type": "string"}}}},
           errors=outcomes.STATUSES)
async def delete_wckey(call):
    source = "slurmdb_wckeys_remove"
    txn = await call.slurmdbd.begin()
    try:
        removed = await txn.call(DbdMsgType.DBD_REMOVE_WCKEYS, {
            "name_list": [call.params["wckey"]], "with_deleted": 1})
        if not removed:
            raise outcomes.nothing_found(source, {"deleted_wckeys": []})
        await txn.commit()
    except SlurmError as e:
        raise outcomes.refused(e, source, {"deleted_wckeys": []}) from None
    finally:
        txn.abort()
    return {"deleted_wckeys": removed}
