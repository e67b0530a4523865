"""``/accounts`` and ``/account/{account_name}``: slurmdbd's accounts (``sacctmgr show
account``) with their associations (short form) and coordinators, shaped like slurmrestd's;
adding (and re-describing) accounts; removing one.

Where we do better than slurmrestd 22.05 (NEWS): an unknown account is 404 (slurmrestd: 500
for GET, 200 with an error for DELETE); POST keeps an existing account's description and
organization unless the body gives them (slurmrestd resets them to the account's name);
associations and coordinators in a POST are refused rather than half-applied (slurmdbd
ignores coordinators; use POST /associations); DELETE refuses (409) to remove the default
account of a user, for that account or any account below it (slurmdbd 22.05 removes them:
only sacctmgr checks).
"""

from __future__ import annotations

from slurmrest.api.errors import ApiError, error_entry
from slurmrest.api.registry import Param, operation, schema_ref
from slurmrest.api.schemas import fields
from slurmrest.api.slurmdb import bodies, outcomes
from slurmrest.api.slurmdb.transaction import write_all
from slurmrest.wire.dbd_msgtypes import DbdMsgType
from slurmrest.wire.enums import SLURMDB_ACCT_FLAG_DELETED
from slurmrest.wire.errors import ESLURM_NO_REMOVE_DEFAULT_ACCOUNT, SlurmError

#: slurmrestd's names of an account's flags.
ACCOUNT_FLAGS = {"DELETED": SLURMDB_ACCT_FLAG_DELETED}

ASSOCIATION_SHORT = schema_ref("dbv0.0.38_association_short_info",
                               fields("account:s cluster:s? partition:s? user:s?"))
COORDINATOR = schema_ref("dbv0.0.38_coordinator_info", fields("name:s direct:i"))
ACCOUNT = schema_ref("dbv0.0.38_account", fields(
    "description:s name:s organization:s flags:[s]",
    associations={"type": "array", "items": ASSOCIATION_SHORT},
    coordinators={"type": "array", "items": COORDINATOR}))

#: What POST /accounts accepts of an account document.
ACCOUNT_BODY = bodies.Shape({
    "name": str, "description": str, "organization": str, "flags": [str],
    "associations": [dict], "coordinators": [dict],
}, required=("name",))

WITH_DELETED = Param("with_deleted", type=bool, description="include deleted accounts")


def association_short(assoc: dict) -> dict:
    return {"account": assoc.get("acct"), "cluster": assoc.get("cluster"),
            "partition": assoc.get("partition"), "user": assoc.get("user")}


def account_document(account: dict) -> dict:
    return {
        "associations": [association_short(a) for a in account.get("assoc_list") or ()],
        "coordinators": [{"name": c.get("name"), "direct": c.get("direct")}
                         for c in account.get("coordinators") or ()],
        "description": account.get("description"),
        "name": account.get("name"),
        "organization": account.get("organization"),
        "flags": [n for n, bit in ACCOUNT_FLAGS.items() if (account.get("flags") or 0) & bit],
    }


def _condition(call, names=None) -> dict:
    assoc_cond = {"acct_list": list(names)} if names else {}
    return {"assoc_cond": assoc_cond, "with_assocs": 1, "with_coords": 1,
            "with_deleted": 1 if call.params.get("with_deleted") else 0}


async def _documents(call, names=None) -> list[dict]:
    try:
        records = await call.slurmdbd.accounts(_condition(call, names))
    except SlurmError as e:
        raise outcomes.refused(e, "slurmdb_accounts_get", {"accounts": []}) from None
    return [account_document(a) for a in records]


ACCOUNTS_RESPONSE = {"type": "object", "properties": {
    "accounts": {"type": "array", "items": ACCOUNT}}}


@operation("GET", "/accounts", family="slurmdb", operation_id="get_accounts",
           summary="Get account list", tags=("slurmdb",), params=(WITH_DELETED,),
           response_schema=ACCOUNTS_RESPONSE, errors=outcomes.STATUSES)
async def get_accounts(call):
    return {"accounts": await _documents(call)}


NAME = Param("account_name", location="path", description="Slurm Account Name")


@operation("GET", "/account/{account_name}", family="slurmdb",
           operation_id="get_account", summary="Get account info", tags=("slurmdb",),
           params=(NAME, WITH_DELETED), response_schema=ACCOUNTS_RESPONSE,
           errors=outcomes.STATUSES)
async def get_account(call):
    documents = await _documents(call, [call.params["account_name"]])
    if not documents:
        raise outcomes.nothing_found("slurmdb_accounts_get", {"accounts": []})
    return {"accounts": documents}


def account_documents(body) -> list[dict]:
    """POST /accounts' account documents, checked (400 for anything not understood)."""
    source = "slurmdb_accounts_add"
    docs = bodies.records(body, "accounts", ACCOUNT_BODY, source)
    for i, doc in enumerate(docs):
        where = f"accounts[{i}]"
        bodies.flag_bits(doc.get("flags"), ACCOUNT_FLAGS, f"{where}.flags", source)
        if doc.get("associations"):
            raise bodies.refuse(f"{where}: associations are added with POST /associations",
                                source)
        if doc.get("coordinators"):
            raise bodies.refuse(f"{where}: coordinators are not set by POST /accounts "
                                "(slurmdbd ignores them)", source)
    return docs


def account_records(docs: list[dict], existing: dict[str, dict]) -> list[dict]:
    """Checked account documents as DBD_ADD_ACCOUNTS records. A new account without
    description or organization gets its name there, as sacctmgr does; an ``existing`` one
    keeps what it has."""
    out = []
    for doc in docs:
        name = doc["name"]
        old = existing.get(name, {})
        out.append({
            "name": name, "flags": 0, "assoc_list": None, "coordinators": None,
            "description": doc.get("description") or old.get("description") or name,
            "organization": doc.get("organization") or old.get("organization") or name,
        })
    return out


async def prepare_accounts(call, body) -> list[dict]:
    """POST /accounts' body as the records to add (400 for anything not understood), before
    any transaction is opened (POST /config prepares its accounts the same way)."""
    docs = account_documents(body)
    try:
        existing = {a["name"]: a for a in await call.slurmdbd.accounts(
            {"assoc_cond": {"acct_list": [d["name"] for d in docs]}})}
    except SlurmError as e:
        raise outcomes.refused(e, "slurmdb_accounts_get") from None
    return account_records(docs, existing)


async def add_accounts(txn, records: list[dict]) -> None:
    """Prepared accounts added on ``txn`` (committed by its owner)."""
    try:
        await txn.call(DbdMsgType.DBD_ADD_ACCOUNTS, {"my_list": records})
    except SlurmError as e:
        raise outcomes.refused(e, "slurmdb_accounts_add") from None


@operation("POST", "/accounts", family="slurmdb", operation_id="update_account",
           summary="Update accounts", tags=("slurmdb",),
           request_schema={"type": "object", "properties": {
               "accounts": {"type": "array", "items": ACCOUNT}}},
           response_schema={"type": "object", "properties": {}},
           errors=outcomes.STATUSES)
async def update_account(call):
    records = await prepare_accounts(call, call.body)
    await write_all(call, lambda txn: add_accounts(txn, records))
    return {}


async def _default_of(call, account: str) -> list[str]:
    """Users whose default association lies in ``account``'s subtree (removing it would
    leave them without a default account)."""
    assocs = await call.slurmdbd.associations({"acct_list": [account], "with_sub_accts": 1})
    return sorted({f"{a['user']} ({a['acct']} on {a['cluster']})" for a in assocs
                   if a.get("user") and a.get("is_def") == 1})


@operation("DELETE", "/account/{account_name}", family="slurmdb",
           operation_id="delete_account", summary="Delete account", tags=("slurmdb",),
           params=(NAME,),
           response_schema={"type": "object", "properties": {
               "removed_associations": {"type": "array", "items": {"type": "string"}}}},
           errors=outcomes.STATUSES)
async def delete_account(call):
    name = call.params["account_name"]
    source = "slurmdb_accounts_remove"
    txn = await call.slurmdbd.begin()
    try:
        removed = await txn.call(DbdMsgType.DBD_REMOVE_ACCOUNTS, {
            "assoc_cond": {"acct_list": [name], "user_list": []}})
        if not removed:
            raise outcomes.nothing_found(source, {"removed_associations": []})
        # Asked of another connection, which sees the associations as they are before
        # this uncommitted removal (and only after slurmdbd let the caller remove).
        defaults = await _default_of(call, name)
        if defaults:
            raise ApiError(409, [error_entry(
                ESLURM_NO_REMOVE_DEFAULT_ACCOUNT,
                f"account {name} (or one below it) is the default account of: "
                f"{', '.join(defaults)}", source)])
        await txn.commit()
    except SlurmError as e:
        raise outcomes.refused(e, source) from None
    finally:
        txn.abort()
    return {"removed_associations": removed}
