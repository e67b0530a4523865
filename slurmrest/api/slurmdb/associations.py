"""``/associations`` and ``/association``: slurmdbd's associations (``sacctmgr show assoc``)
read, added, modified and removed, shaped like slurmrestd's dbv0.0.38.

POST /associations adds each association that does not exist yet and modifies the one that
does (matched by account, cluster, partition and user), all in one slurmdbd transaction that
is committed only when every entry succeeded. A modification changes only what the entry
gives: a limit absent is left as it is, null clears it, and a TRES list given replaces the
whole list (slurmrestd 22.05 also clears every TRES limit the entry leaves out). An entry
needs an account and a cluster; one without a user is the account's own association
(slurmrestd declares user required, then writes the entry anyway).

A DELETE without any filter is refused (slurmrestd removes every association of every
cluster); one that matches nothing is 404, and /association refuses to remove more than one.
"""

from __future__ import annotations

from slurmrest.api.errors import ApiError, Refusal, error_entry
from slurmrest.api.registry import Param, operation, schema_ref
from slurmrest.api.schemas import fields
from slurmrest.api.slurmdb import inputs, outcomes, reference, tres
from slurmrest.api.slurmdb.inputs import BodyError
from slurmrest.wire import enums
from slurmrest.wire import primitives as P
from slurmrest.wire.dbd_msgtypes import DbdMsgType as D
from slurmrest.wire.errors import (
    ESLURM_REST_FAIL_PARSING,
    ESLURM_REST_INVALID_QUERY,
    SLURM_ERROR,
    SlurmError,
)

# -- documents ----------------------------------------------------------------------------

#: The TRES-string fields of an association and where slurmrestd prints them.
TRES_FIELDS = (
    ("grp_tres", "max/tres/total"),
    ("max_tres_mins_pj", "max/tres/minutes/per/job"),
    ("grp_tres_mins", "max/tres/group/minutes"),
    ("grp_tres_run_mins", "max/tres/group/active"),
    ("max_tres_run_mins", "max/tres/minutes/total"),
    ("max_tres_pj", "max/tres/per/job"),
    ("max_tres_pn", "max/tres/per/node"),
)

#: The 32-bit limits and where slurmrestd prints them.
LIMIT_FIELDS = (
    ("grp_jobs", "max/jobs/per/count"),
    ("grp_jobs_accrue", "max/jobs/per/accruing"),
    ("grp_submit_jobs", "max/jobs/per/submitted"),
    ("max_wall_pj", "max/jobs/per/wall_clock"),
    ("max_jobs", "max/jobs/active"),
    ("max_jobs_accrue", "max/jobs/accruing"),
    ("max_submit_jobs", "max/jobs/total"),
    ("grp_wall", "max/per/account/wall_clock"),
    ("min_prio_thresh", "min/priority_threshold"),
    ("priority", "priority"),
    ("shares_raw", "shares_raw"),
)


def number(value: int | None, unset: tuple[int, ...] = (P.NO_VAL, P.INFINITE)) -> int | None:
    """slurmrestd prints an unset or unlimited integer as null."""
    return None if value is None or value in unset else value


def qos_names(ids: list[str] | None, qos_by_id: dict[int, dict]) -> list[str] | None:
    """An association's QOS ids (strings, maybe ``+``/``-`` prefixed) as names, sorted;
    null for none (``get_qos_name_list``)."""
    names = []
    for text in ids or ():
        sign = text[0] if text[:1] in ("+", "-") else ""
        try:
            qos = qos_by_id.get(int(text[len(sign):]))
        except ValueError:
            continue
        if qos is not None:
            names.append(sign + qos["name"])
    return sorted(names) if names else None


def association_document(rec: dict, tres_by_id: dict, qos_by_id: dict) -> dict:
    """One association as slurmrestd's dbv0.0.38 ``association`` (its key order)."""
    tres = {path: reference.tres_list(rec.get(name), tres_by_id)
            for name, path in TRES_FIELDS}
    limit = {path: number(rec.get(name)) for name, path in LIMIT_FIELDS}
    flags = []
    if rec.get("flags", 0) & enums.ASSOC_FLAG_DELETED:
        flags.append("DELETED")
    if rec.get("is_def"):
        flags.append("DEFAULT")
    def_qos = qos_by_id.get(rec.get("def_qos_id") or 0)
    return {
        "account": rec.get("acct"),
        "cluster": rec.get("cluster"),
        "default": {"qos": def_qos["name"] if def_qos else None},
        "flags": flags,
        "max": {
            "jobs": {
                "per": {"count": limit["max/jobs/per/count"],
                        "accruing": limit["max/jobs/per/accruing"],
                        "submitted": limit["max/jobs/per/submitted"],
                        "wall_clock": limit["max/jobs/per/wall_clock"]},
                "active": limit["max/jobs/active"],
                "accruing": limit["max/jobs/accruing"],
                "total": limit["max/jobs/total"],
            },
            "tres": {
                "total": tres["max/tres/total"],
                "minutes": {"per": {"job": tres["max/tres/minutes/per/job"]},
                            "total": tres["max/tres/minutes/total"]},
                "group": {"minutes": tres["max/tres/group/minutes"],
                          "active": tres["max/tres/group/active"]},
                "per": {"job": tres["max/tres/per/job"], "node": tres["max/tres/per/node"]},
            },
            "per": {"account": {"wall_clock": limit["max/per/account/wall_clock"]}},
        },
        "is_default": number(rec.get("is_def"), (P.NO_VAL16, P.INFINITE16)),
        "min": {"priority_threshold": limit["min/priority_threshold"]},
        "parent_account": rec.get("parent_acct"),
        "partition": rec.get("partition"),
        "priority": limit["priority"],
        "qos": qos_names(rec.get("qos_list"), qos_by_id),
        "shares_raw": limit["shares_raw"],
        "usage": None,  # slurmdbd does not send an association's usage
        "user": rec.get("user"),
    }


TRES_LIST = {"type": "array", "items": tres.TRES}
_LIMIT = {"type": "integer", "nullable": True}
ASSOCIATION = schema_ref("dbv0.0.38_association", {"type": "object", "properties": {
    "account": {"type": "string"},
    "cluster": {"type": "string", "nullable": True},
    "default": fields("qos:s?"),
    "flags": {"type": "array", "items": {"type": "string", "enum": ["DELETED", "DEFAULT"]}},
    "max": {"type": "object", "properties": {
        "jobs": fields("active:i? accruing:i? total:i?", per=fields(
            "count:i? accruing:i? submitted:i? wall_clock:i?")),
        "tres": {"type": "object", "properties": {
            "total": TRES_LIST,
            "minutes": {"type": "object", "properties": {
                "per": {"type": "object", "properties": {"job": TRES_LIST}},
                "total": TRES_LIST}},
            "group": {"type": "object", "properties": {"minutes": TRES_LIST,
                                                       "active": TRES_LIST}},
            "per": {"type": "object", "properties": {"job": TRES_LIST, "node": TRES_LIST}}}},
        "per": {"type": "object", "properties": {"account": fields("wall_clock:i?")}}}},
    "is_default": _LIMIT,
    "min": fields("priority_threshold:i?"),
    "parent_account": {"type": "string", "nullable": True},
    "partition": {"type": "string", "nullable": True},
    "priority": _LIMIT,
    "qos": {"type": "array", "nullable": True, "items": {"type": "string"}},
    "shares_raw": _LIMIT,
    "usage": {"type": "object", "nullable": True},
    "user": {"type": "string", "nullable": True},
}})

# -- conditions ---------------------------------------------------------------------------

#: Query parameter -> assoc_cond list (slurmrestd's ``assoc_parameters``).
QUERY_LISTS = (("partition", "partition_list"), ("cluster", "cluster_list"),
               ("account", "acct_list"), ("user", "user_list"))

PARAMS = tuple(Param(name, description=f"{name} name(s), comma-separated")
               for name in ("cluster", "account", "user", "partition"))


def condition(params: dict) -> dict:
    """The assoc_cond of a query: a NULL list (no filter) for every parameter not given."""
    return {field: inputs.char_list(params[name]) for name, field in QUERY_LISTS
            if params.get(name) is not None}


async def _tables(call):
    return await reference.tres_by_id(call), await reference.qos_by_id(call)


async def _get(call, only_one: bool) -> dict:
    source = "slurmdb_associations_get"
    records = await call.slurmdbd.associations(condition(call.params))
    tres_by_id, qos_by_id = await _tables(call)
    if only_one and len(records) > 1:
        raise Refusal(ESLURM_REST_INVALID_QUERY, [error_entry(
            ESLURM_REST_INVALID_QUERY,
            "Ambiguous request: More than 1 association would have been dumped.", None)],
            payload={"associations": []})
    if only_one and not records:
        raise outcomes.nothing_found(source, {"associations": []})
    return {"associations": [association_document(r, tres_by_id, qos_by_id) for r in records]}


ANSWER = {"type": "object", "properties": {
    "associations": {"type": "array", "items": ASSOCIATION}}}
READ_ERRORS = {**outcomes.STATUSES, ESLURM_REST_INVALID_QUERY: 400}


@operation("GET", "/associations", family="slurmdb", operation_id="get_associations",
           summary="Get association list", tags=("slurmdb",), params=PARAMS,
           response_schema=ANSWER, errors=READ_ERRORS)
async def get_associations(call):
    return await _get(call, only_one=False)


@operation("GET", "/association", family="slurmdb", operation_id="get_association",
           summary="Get association info", tags=("slurmdb",), params=PARAMS,
           response_schema=ANSWER, errors=READ_ERRORS)
async def get_association(call):
    return await _get(call, only_one=True)


# -- DELETE -------------------------------------------------------------------------------

#: The statuses of the writes: outcomes' (404 nothing, 409 jobs running or a default
#: account), and 400 for a body or an entry slurmdbd refuses (its -1 included: a user's
#: association before its account's).
WRITE_ERRORS = {**outcomes.STATUSES, ESLURM_REST_INVALID_QUERY: 400,
                ESLURM_REST_FAIL_PARSING: 400, SLURM_ERROR: 400}


def write_refusal(e: SlurmError, source: str, who: str | None = None) -> Exception:
    """``outcomes.refused``, with the entry of a many-entry write saying which entry
    (``who``) slurmdbd refused."""
    failure = outcomes.refused(e, source)
    if who and isinstance(failure, Refusal):
        detail = ": ".join(t for t in (who, e.message) if t)
        failure.entries = [error_entry(e.errno, detail, source, error=e.text or None)]
    return failure


async def _delete(call, only_one: bool) -> dict:
    source = "slurmdb_associations_remove"
    cond = condition(call.params)
    if not any(cond.values()):
        # slurmrestd removes every association of every cluster here (or, for an empty
        # user=, every user association: slurmdbd reads an empty user list so)
        raise ApiError(400, [error_entry(
            ESLURM_REST_INVALID_QUERY,
            "refusing to remove every association: give account, cluster, user or partition",
            source)])
    txn = await call.slurmdbd.begin()
    try:
        removed = await txn.call(D.DBD_REMOVE_ASSOCS, cond)
        if not removed:
            raise outcomes.nothing_found(source, {"removed_associations": []})
        if only_one and len(removed) > 1:
            raise Refusal(ESLURM_REST_INVALID_QUERY, [error_entry(
                ESLURM_REST_INVALID_QUERY,
                "ambiguous request: More than 1 association would have been deleted.", None)],
                payload={"removed_associations": []})
        await txn.commit()
    except SlurmError as e:
        raise write_refusal(e, source) from None
    finally:
        txn.abort()  # no-op after a commit
    return {"removed_associations": removed}


DELETE_ANSWER = {"type": "object", "properties": {
    "removed_associations": {"type": "array", "items": {"type": "string"}}}}


@operation("DELETE", "/associations", family="slurmdb", operation_id="delete_associations",
           summary="Delete associations", tags=("slurmdb",), params=PARAMS,
           response_schema=DELETE_ANSWER, errors=WRITE_ERRORS, refused=400)
async def delete_associations(call):
    return await _delete(call, only_one=False)


@operation("DELETE", "/association", family="slurmdb", operation_id="delete_association",
           summary="Delete association", tags=("slurmdb",), params=PARAMS,
           response_schema=DELETE_ANSWER, errors=WRITE_ERRORS, refused=400)
async def delete_association(call):
    return await _delete(call, only_one=True)


# -- POST ---------------------------------------------------------------------------------

def _tres_reader(tres_by_id: dict):
    def reader(value, path):
        if value is None:
            return ""
        if not isinstance(value, list):
            raise BodyError(path, f"must be a list of TRES, not {value!r}")
        try:
            return reference.tres_string(value, tres_by_id)
        except ValueError as e:
            raise BodyError(path, str(e)) from None
    return reader


def _qos_reader(qos_by_id: dict):
    by_name = {q["name"].lower(): i for i, q in qos_by_id.items()}

    def qos_id(name, path):
        sign = name[0] if name[:1] in ("+", "-") else ""
        found = by_name.get(name[len(sign):].lower())
        if found is None:
            raise BodyError(path, f"QOS name to ID conversion failed: no QOS {name!r}")
        return f"{sign}{found}"

    def names(value, path):
        ids = [qos_id(n, f"{path}/{i}") for i, n in enumerate(inputs.strings(value, path))]
        return ids or ["''"]  # slurmdbd's "explicitly none" (an empty list is no change)

    def default(value, path):
        if value is None:
            return P.INFINITE  # clears the default QOS
        return int(qos_id(inputs.string(value, path) or "", path))

    return names, default


def association_shape(tres_by_id: dict, qos_by_id: dict) -> dict:
    """What an entry of POST /associations may hold (slurmrestd's ``parse_assoc`` keys)."""
    tres = _tres_reader(tres_by_id)
    qos_list, def_qos = _qos_reader(qos_by_id)
    u32 = inputs.u32
    return {
        "account": inputs.string, "cluster": inputs.string,
        "default": {"qos": def_qos},
        "flags": inputs.flags("DELETED", "DEFAULT"),
        "max": {
            "jobs": {"per": {"count": u32, "accruing": u32, "submitted": u32,
                             "wall_clock": u32},
                     "active": u32, "accruing": u32, "total": u32},
            "tres": {"total": tres,
                     "minutes": {"per": {"job": tres}, "total": tres},
                     "group": {"minutes": tres, "active": tres},
                     "per": {"job": tres, "node": tres}},
            "per": {"account": {"wall_clock": u32}},
        },
        "is_default": inputs.u16, "min": {"priority_threshold": u32},
        "parent_account": inputs.string, "partition": inputs.string, "priority": u32,
        "qos": qos_list, "shares_raw": u32, "usage": inputs.anything, "user": inputs.string,
    }


def association_record(found: dict, no_change: dict) -> dict:
    """The slurmdb_assoc_rec of an entry: ``no_change`` (slurmdb_init_assoc_rec: NO_VAL,
    NULL) where it gives nothing."""
    rec = dict(no_change)
    rec.update(acct=found.get("account"), cluster=found.get("cluster"),
               partition=found.get("partition") or None, user=found.get("user") or None,
               parent_acct=found.get("parent_account"))
    for name, path in LIMIT_FIELDS:
        if path in found:
            rec[name] = found[path]
    for name, path in TRES_FIELDS:
        if path in found:
            rec[name] = found[path]
    if "default/qos" in found:
        rec["def_qos_id"] = found["default/qos"]
    if "qos" in found:
        rec["qos_list"] = found["qos"]
    if "is_default" in found:
        rec["is_def"] = found["is_default"]
    if "DEFAULT" in found.get("flags", ()):
        rec["is_def"] = 1
    return rec


def tres_change(current: str | None, wanted: str) -> str:
    """The TRES string that turns ``current`` into ``wanted`` in a MODIFY: a TRES left out
    is removed (count -1)."""
    wanted_ids = {i for i, _ in reference.parse_tres(wanted)}
    gone = [f"{i}=-1" for i, _ in reference.parse_tres(current) if i not in wanted_ids]
    return ",".join(([wanted] if wanted else []) + gone)


def entry_condition(rec: dict) -> dict:
    """The assoc_cond naming exactly this association ("" for an absent part, as
    slurmrestd: the account association has user '')."""
    return {"acct_list": [rec["acct"] or ""], "cluster_list": [rec["cluster"] or ""],
            "partition_list": [rec["partition"] or ""], "user_list": [rec["user"] or ""]}


async def _apply(txn, rec: dict, source: str) -> None:
    cond = entry_condition(rec)
    existing = await txn.call(D.DBD_GET_ASSOCS, cond)
    if not existing:
        await txn.call(D.DBD_ADD_ASSOCS, {"my_list": [rec], "return_code": 0})
        return
    if len(existing) > 1:
        raise Refusal(ESLURM_REST_INVALID_QUERY, [error_entry(
            ESLURM_REST_INVALID_QUERY, "ambiguous modify request", source)])
    current = existing[0]
    change = dict(rec, acct=None, cluster=None, partition=None, user=None)
    for name, _ in TRES_FIELDS:
        if rec[name] is not None:
            change[name] = tres_change(current.get(name), rec[name])
    if change["parent_acct"] == current.get("parent_acct"):
        change["parent_acct"] = None  # not a move
    await txn.call(D.DBD_MODIFY_ASSOCS, {"cond": cond, "rec": change})


async def prepare_associations(call, body) -> list[dict]:
    """POST /associations' body as association records (400 for anything not understood),
    before any transaction is opened (what POST /config can share)."""
    source = "slurmdb_associations_add"
    entries = inputs.body_records(body, "associations", source)
    tres_by_id, qos_by_id = await _tables(call)
    shape = association_shape(tres_by_id, qos_by_id)
    no_change = call.slurmdbd.no_change("assoc")
    records = []
    try:
        for i, entry in enumerate(entries):
            where = f"associations/{i}"
            found = inputs.read(entry, shape, where)
            inputs.require(found, "account", "cluster", where=where)
            records.append(association_record(found, no_change))
    except BodyError as e:
        raise e.api_error(source) from None
    return records


async def apply_associations(txn, records: list[dict]) -> None:
    """Prepared associations added or modified on ``txn`` (committed by its owner)."""
    source = "slurmdb_associations_add"
    for rec in records:
        try:
            await _apply(txn, rec, source)
        except SlurmError as e:
            raise write_refusal(e, source, _who(rec)) from None


@operation("POST", "/associations", family="slurmdb", operation_id="update_associations",
           summary="Set associations info", tags=("slurmdb",),
           request_schema={"type": "object", "required": ["associations"], "properties": {
               "associations": {"type": "array", "items": ASSOCIATION}}},
           response_schema={"type": "object", "properties": {}},
           errors=WRITE_ERRORS, refused=400)
async def update_associations(call):
    records = await prepare_associations(call, call.body)
    if not records:
        return {}
    txn = await call.slurmdbd.begin()
    try:
        await apply_associations(txn, records)
        await txn.commit()
    finally:
        txn.abort()  # no-op after a commit
    return {}


def _who(rec: dict) -> str:
    parts = [f"account {rec['acct']}", f"cluster {rec['cluster']}"]
    if rec.get("user"):
        parts.append(f"user {rec['user']}")
    if rec.get("partition"):
        parts.append(f"partition {rec['partition']}")
    return "association " + ", ".join(parts)
