"""``/users`` and ``/user/{user_name}``: slurmdbd's users (``sacctmgr show user``) with their
associations and coordinated accounts, shaped like slurmrestd's dbv0.0.38; POST /users adds
users (slurmdbd's add also updates a user that exists: administrator level, default
account and wckey, new associations) and then their coordinated accounts, all in one
transaction committed only when every step succeeded.
"""

from __future__ import annotations

from slurmrest.api.errors import Refusal, error_entry
from slurmrest.api.registry import Param, operation, schema_ref
from slurmrest.api.schemas import fields
from slurmrest.api.slurmdb import accounts, associations, inputs, outcomes
from slurmrest.api.slurmdb.inputs import BodyError
from slurmrest.wire import enums
from slurmrest.wire.dbd_msgtypes import DbdMsgType as D
from slurmrest.wire.errors import (
    ESLURM_INVALID_ACCOUNT,
    SlurmError,
)

ADMIN_LEVELS = enums.ADMIN_LEVEL_NAMES


def admin_level_name(level: int) -> str:
    """slurmdb_admin_level_str()."""
    return ADMIN_LEVELS.get(level, "Unknown")


def user_document(rec: dict) -> dict:
    """One user as slurmrestd's dbv0.0.38 ``user`` (its key order)."""
    return {
        "administrator_level": admin_level_name(rec.get("admin_level", 0)),
        "associations": [accounts.association_short(a) for a in rec.get("assoc_list") or ()],
        "coordinators": [{"name": c.get("name"), "direct": c.get("direct")}
                         for c in rec.get("coord_accts") or ()],
        "default": {"account": rec.get("default_acct"), "wckey": rec.get("default_wckey")},
        "flags": ["DELETED"] if rec.get("flags", 0) & enums.SLURMDB_USER_FLAG_DELETED else [],
        "name": rec.get("name"),
    }


USER = schema_ref("dbv0.0.38_user", fields(
    "administrator_level:s flags:[s] name:s",
    associations={"type": "array", "items": accounts.ASSOCIATION_SHORT},
    coordinators={"type": "array", "items": accounts.COORDINATOR},
    default=fields("account:s? wckey:s?")))
ANSWER = {"type": "object", "properties": {"users": {"type": "array", "items": USER}}}

WITH_DELETED = Param("with_deleted", type=bool, description="include deleted users")


def user_condition(names: list[str] | None, with_deleted: bool) -> dict:
    """slurmrestd's user_cond: associations, coordinators and wckeys with every user."""
    return {"assoc_cond": {"user_list": names}, "with_assocs": 1, "with_coords": 1,
            "with_wckeys": 1, "with_deleted": int(bool(with_deleted))}


@operation("GET", "/users", family="slurmdb", operation_id="get_users",
           summary="Get user list", tags=("slurmdb",), params=(WITH_DELETED,),
           response_schema=ANSWER)
async def get_users(call):
    records = await call.slurmdbd.users(
        user_condition(None, call.params.get("with_deleted")))
    return {"users": [user_document(u) for u in records]}


NAME = Param("user_name", location="path", description="user name")


@operation("GET", "/user/{user_name}", family="slurmdb", operation_id="get_user",
           summary="Get user info", tags=("slurmdb",), params=(NAME, WITH_DELETED),
           response_schema=ANSWER, errors=outcomes.STATUSES)
async def get_user(call):
    name = call.params["user_name"]
    records = await call.slurmdbd.users(
        user_condition([name], call.params.get("with_deleted")))
    if not records:
        raise outcomes.nothing_found("slurmdb_users_get", {"users": []})
    return {"users": [user_document(u) for u in records]}


@operation("DELETE", "/user/{user_name}", family="slurmdb", operation_id="delete_user",
           summary="Delete user", tags=("slurmdb",), params=(NAME,),
           response_schema={"type": "object", "properties": {
               "removed_users": {"type": "array", "items": {"type": "string"}}}},
           errors=associations.WRITE_ERRORS, refused=400)
async def delete_user(call):
    source = "slurmdb_users_remove"
    name = call.params["user_name"]
    txn = await call.slurmdbd.begin()
    try:
        removed = await txn.call(D.DBD_REMOVE_USERS, user_condition([name], False))
        if not removed:
            raise outcomes.nothing_found(source, {"removed_users": []})
        await txn.commit()
    except SlurmError as e:
        raise associations.write_refusal(e, source) from None
    finally:
        txn.abort()  # no-op after a commit
    return {"removed_users": removed}


# -- POST ---------------------------------------------------------------------------------

def admin_level(value, path) -> int:
    """str_2_slurmdb_admin_level(): by the first letter, as Slurm reads it."""
    text = inputs.string(value, path)
    first = (text or " ")[0].lower()
    level = {"n": enums.SLURMDB_ADMIN_NONE, "o": enums.SLURMDB_ADMIN_OPERATOR,
             "s": enums.SLURMDB_ADMIN_SUPER_USER, "a": enums.SLURMDB_ADMIN_SUPER_USER}.get(first)
    if level is None:
        raise BodyError(path, f"unknown administrator level {value!r} "
                              f"(None, Operator or Administrator)")
    return level


SHORT_SHAPE = {"account": inputs.string, "cluster": inputs.string,
               "partition": inputs.string, "user": inputs.string}
COORD_SHAPE = {"name": inputs.string, "direct": inputs.u16}
USER_SHAPE = {
    "administrator_level": admin_level,
    "associations": inputs.objects, "coordinators": inputs.objects,
    "default": {"account": inputs.string, "wckey": inputs.string},
    "flags": inputs.flags("DELETED"), "name": inputs.string,
}


def user_record(entry, where: str, no_change: dict) -> tuple[dict, list[str]]:
    """The slurmdb_user_rec of an entry of POST /users, and the accounts it coordinates;
    ``no_change``: the release's "no change" association record."""
    found = inputs.read(entry, USER_SHAPE, where)
    inputs.require(found, "name", where=where)
    name = found["name"]
    assocs = []
    for i, item in enumerate(found.get("associations", ())):
        at = f"{where}/associations/{i}"
        short = inputs.read(item, SHORT_SHAPE, at)
        inputs.require(short, "account", "cluster", where=at)
        if short.get("user") not in (None, name):
            raise BodyError(f"{at}/user", f"must be {name!r}, the user it belongs to")
        rec = dict(no_change, acct=short["account"], cluster=short["cluster"],
                   partition=short.get("partition") or None, user=name)
        if short["account"] == found.get("default/account"):
            rec["is_def"] = 1
        assocs.append(rec)
    coordinated = []
    for i, item in enumerate(found.get("coordinators", ())):
        at = f"{where}/coordinators/{i}"
        coord = inputs.read(item, COORD_SHAPE, at)
        inputs.require(coord, "name", where=at)
        if coord.get("direct", 1) != 0:  # slurmrestd adds only the direct ones
            coordinated.append(coord["name"])
    rec = {
        "admin_level": found.get("administrator_level", enums.SLURMDB_ADMIN_NOTSET),
        "assoc_list": assocs or None,
        "coord_accts": None,
        "default_acct": found.get("default/account"),
        "default_wckey": found.get("default/wckey"),
        "name": name,
    }
    return rec, coordinated


async def _check_accounts(call, records, source, adding=frozenset()) -> None:
    """Coordinated accounts must exist, or be added by the same request (``adding``):
    slurmdbd would make a user coordinator of an account that does not."""
    wanted = {a.lower() for _, coordinated in records for a in coordinated}
    wanted -= {a.lower() for a in adding}
    if not wanted:
        return
    known = {a["name"].lower() for a in await call.slurmdbd.accounts(
        {"assoc_cond": {"acct_list": sorted(wanted)}})}
    missing = sorted(wanted - known)
    if missing:
        raise Refusal(ESLURM_INVALID_ACCOUNT, [error_entry(
            ESLURM_INVALID_ACCOUNT, f"no account named {', '.join(missing)}", source)])


async def _check_parents(call, records, source, adding=frozenset()) -> None:
    """A user's association needs its account's on that cluster (as sacctmgr checks), or
    one the same request adds (``adding``: (account, cluster) pairs); slurmdbd's own
    answer is only "Unspecified error"."""
    wanted = {(a["acct"].lower(), a["cluster"].lower())
              for rec, _ in records for a in rec["assoc_list"] or ()}
    wanted -= {(a.lower(), c.lower()) for a, c in adding}
    if not wanted:
        return
    found = await call.slurmdbd.associations({
        "acct_list": sorted({a for a, _ in wanted}),
        "cluster_list": sorted({c for _, c in wanted}), "user_list": [""]})
    known = {(a["acct"].lower(), a["cluster"].lower()) for a in found if not a.get("user")}
    missing = sorted(wanted - known)
    if missing:
        raise Refusal(ESLURM_INVALID_ACCOUNT, [error_entry(
            ESLURM_INVALID_ACCOUNT, "; ".join(
                f"the account {a!r} has no association on cluster {c!r}"
                for a, c in missing), source)])


async def _update_existing(txn, rec: dict, current: dict) -> None:
    """slurmdbd's add skips a user that exists (and resets its administrator level when the
    entry gives none): add its new associations, then change what the entry changes."""
    name = rec["name"]
    for assoc in rec["assoc_list"] or ():
        cond = associations.entry_condition(assoc)
        if not await txn.call(D.DBD_GET_ASSOCS, cond):
            await txn.call(D.DBD_ADD_ASSOCS, {"my_list": [assoc], "return_code": 0})
    change = {}
    if rec["admin_level"] not in (enums.SLURMDB_ADMIN_NOTSET, current.get("admin_level")):
        change["admin_level"] = rec["admin_level"]
    for key in ("default_acct", "default_wckey"):
        if rec[key] and rec[key] != current.get(key):
            change[key] = rec[key]
    if change:
        await txn.call(D.DBD_MODIFY_USERS, {
            "cond": {"assoc_cond": {"user_list": [name]}}, "rec": change})


async def prepare_users(call, body, *, adding_accounts=frozenset(),
                        adding_account_assocs=frozenset()) -> list[tuple[dict, list[str]]]:
    """POST /users' body as ``[(user record, coordinated accounts), ...]`` (400 for anything
    not understood), before any transaction is opened (what POST /config can share: it
    names the accounts and account associations it adds before the users)."""
    source = "slurmdb_users_add"
    entries = inputs.body_records(body, "users", source)
    no_change = call.slurmdbd.no_change("assoc")
    records = []
    try:
        for i, entry in enumerate(entries):
            records.append(user_record(entry, f"users/{i}", no_change))
    except BodyError as e:
        raise e.api_error(source) from None
    await _check_accounts(call, records, source, adding_accounts)
    await _check_parents(call, records, source, adding_account_assocs)
    return records


async def apply_users(txn, records: list[tuple[dict, list[str]]]) -> None:
    """Prepared users added (or updated) and their coordinators added on ``txn``
    (committed by its owner)."""
    step, who = "slurmdb_users_add", None
    try:
        names = [rec["name"] for rec, _ in records]
        current = {u["name"]: u for u in await txn.call(
            D.DBD_GET_USERS, {"assoc_cond": {"user_list": names}})}
        new = [rec for rec, _ in records if rec["name"] not in current]
        if new:
            await txn.call(D.DBD_ADD_USERS, {"my_list": new, "return_code": 0})
        for rec, _ in records:
            if rec["name"] in current:
                who = f"user {rec['name']}"
                await _update_existing(txn, rec, current[rec["name"]])
        step = "slurmdb_coord_add"
        for rec, coordinated in records:
            if coordinated:
                who = f"user {rec['name']}"
                await txn.call(D.DBD_ADD_ACCOUNT_COORDS, {
                    "acct_count": len(coordinated), "acct_list": coordinated,
                    "cond": {"assoc_cond": {"user_list": [rec["name"]]}}})
    except SlurmError as e:
        raise associations.write_refusal(e, step, who) from None


@operation("POST", "/users", family="slurmdb", operation_id="update_users",
           summary="Update user", tags=("slurmdb",),
           request_schema={"type": "object", "required": ["users"], "properties": {
               "users": {"type": "array", "items": USER}}},
           response_schema={"type": "object", "properties": {}},
           errors=associations.WRITE_ERRORS, refused=400)
async def update_users(call):
    records = await prepare_users(call, call.body)
    if not records:
        return {}
    txn = await call.slurmdbd.begin()
    try:
        await apply_users(txn, records)
        await txn.commit()
    finally:
        txn.abort()  # no-op after a commit
    return {}
