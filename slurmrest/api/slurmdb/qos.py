"""``GET /qos``, ``GET/DELETE /qos/{qos_name}``, ``POST /qos``: slurmdbd's QOS
(``sacctmgr show/add/modify/delete qos``), shaped like slurmrestd's dbv0.0.38 documents.

``FIELDS`` is the one description of a QOS document (slurmrestd's ``parse_qos``): the path of
each field, the record member behind it, and its kind; the dump and the body parser both
follow it, so a GET document can be POSTed back as it is.

POST /qos adds the QOS it does not find (by ``id`` or ``name``) and modifies the others, all
in one slurmdbd transaction: one bad entry commits none of them. Every entry is checked
before anything is sent (types, unknown fields, TRES and QOS names). Two differences from
slurmrestd 22.05: ``qos`` (the key of its own OpenAPI document) is accepted beside ``QOS``,
and a modify leaves ``flags`` and ``preempt/mode`` alone unless the entry gives them
(slurmrestd clears both).
"""

from __future__ import annotations

from slurmrest.api.errors import Refusal, error_entry, refusal
from slurmrest.api.registry import Param, operation, schema_ref
from slurmrest.api.schemas import fields
from slurmrest.api.slurmdb import reference
from slurmrest.api.slurmdb.transaction import write_all
from slurmrest.api.slurmdb.tres import TRES
from slurmrest.wire import enums as E
from slurmrest.wire import primitives as P
from slurmrest.wire.dbd_msgtypes import DbdMsgType as D
from slurmrest.wire.errors import (
    ESLURM_INVALID_TRES,
    ESLURM_QOS_PREEMPTION_LOOP,
    ESLURM_REST_EMPTY_RESULT,
    ESLURM_REST_FAIL_PARSING,
    ESLURM_REST_INVALID_QUERY,
    SlurmError,
)

# slurmrestd's names of the QOS flags and preempt modes (its parser_qos_flags and
# parser_qos_preempt_flags), in its order.
QOS_FLAG_NAMES = (
    (E.QOS_FLAG_PART_MIN_NODE, "PARTITION_MINIMUM_NODE"),
    (E.QOS_FLAG_PART_MAX_NODE, "PARTITION_MAXIMUM_NODE"),
    (E.QOS_FLAG_PART_TIME_LIMIT, "PARTITION_TIME_LIMIT"),
    (E.QOS_FLAG_ENFORCE_USAGE_THRES, "ENFORCE_USAGE_THRESHOLD"),
    (E.QOS_FLAG_NO_RESERVE, "NO_RESERVE"),
    (E.QOS_FLAG_REQ_RESV, "REQUIRED_RESERVATION"),
    (E.QOS_FLAG_DENY_LIMIT, "DENY_LIMIT"),
    (E.QOS_FLAG_OVER_PART_QOS, "OVERRIDE_PARTITION_QOS"),
    (E.QOS_FLAG_NO_DECAY, "NO_DECAY"),
    (E.QOS_FLAG_USAGE_FACTOR_SAFE, "USAGE_FACTOR_SAFE"),
)
PREEMPT_MODE_NAMES = (
    (E.PREEMPT_MODE_SUSPEND, "SUSPEND"),
    (E.PREEMPT_MODE_REQUEUE, "REQUEUE"),
    (E.PREEMPT_MODE_CANCEL, "CANCEL"),
    (E.PREEMPT_MODE_GANG, "GANG"),
)

# Kinds of fields.
STRING, U32, FLOAT, TRES_LIST, FLAGS, PREEMPT_LIST, PREEMPT_MODE = (
    "string", "u32", "float", "tres", "flags", "preempt_list", "preempt_mode")

#: (document path, qos_rec member, kind), in slurmrestd's order (its ``parse_qos``).
FIELDS = (
    ("description", "description", STRING),
    ("flags", "flags", FLAGS),
    ("id", "id", U32),
    ("limits/grace_time", "grace_time", U32),
    ("limits/max/active_jobs/accruing", "grp_jobs_accrue", U32),
    ("limits/max/active_jobs/count", "grp_jobs", U32),
    ("limits/max/tres/total", "grp_tres", TRES_LIST),
    ("limits/max/tres/minutes/per/qos", "grp_tres_run_mins", TRES_LIST),
    ("name", "name", STRING),
    ("limits/max/wall_clock/per/qos", "grp_wall", U32),
    ("limits/factor", "limit_factor", FLOAT),
    ("limits/max/jobs/active_jobs/per/account", "max_jobs_pa", U32),
    ("limits/max/jobs/active_jobs/per/user", "max_jobs_pu", U32),
    ("limits/max/accruing/per/account", "max_jobs_accrue_pa", U32),
    ("limits/max/accruing/per/user", "max_jobs_accrue_pu", U32),
    ("limits/max/jobs/per/account", "max_submit_jobs_pa", U32),
    ("limits/max/jobs/per/user", "max_submit_jobs_pu", U32),
    ("limits/max/tres/minutes/per/job", "max_tres_mins_pj", TRES_LIST),
    ("limits/max/tres/per/account", "max_tres_pa", TRES_LIST),
    ("limits/max/tres/per/job", "max_tres_pj", TRES_LIST),
    ("limits/max/tres/per/node", "max_tres_pn", TRES_LIST),
    ("limits/max/tres/per/user", "max_tres_pu", TRES_LIST),
    ("limits/max/tres/minutes/per/account", "max_tres_run_mins_pa", TRES_LIST),
    ("limits/max/tres/minutes/per/user", "max_tres_run_mins_pu", TRES_LIST),
    ("limits/max/wall_clock/per/job", "max_wall_pj", U32),
    ("limits/min/priority_threshold", "min_prio_thresh", U32),
    ("limits/min/tres/per/job", "min_tres_pj", TRES_LIST),
    ("preempt/list", "preempt_list", PREEMPT_LIST),
    ("preempt/mode", "preempt_mode", PREEMPT_MODE),
    ("preempt/exempt_time", "preempt_exempt_time", U32),
    ("priority", "priority", U32),
    ("usage_factor", "usage_factor", FLOAT),
    ("usage_threshold", "usage_thres", FLOAT),
)

# Doubles slurmrestd shows as null (bug#9674: NO_VAL and INFINITE, as doubles or u64s).
_UNSET_DOUBLES = frozenset(float(v) for v in (P.NO_VAL, P.INFINITE, P.NO_VAL64, P.INFINITE64))


# -- records to documents ----------------------------------------------------------------

def _names(bits: int, table) -> list[str]:
    return [name for bit, name in table if bits & bit]


def _tres_documents(text, tres_by_id) -> list[dict]:
    entries = reference.tres_list(text, tres_by_id)
    for entry in entries:  # an INT64 count: NO_VAL64 and INFINITE64 are null
        if entry["count"] in (P.NO_VAL64, P.INFINITE64):
            entry["count"] = None
    return entries


def _preempt_names(bitmap, qos_by_id) -> list[str]:
    if bitmap is None:
        return []
    # from bit 1, as slurmrestd (bit 0 is no QOS)
    return [qos_by_id[i]["name"] if i in qos_by_id else None
            for i in bitmap.indexes() if i >= 1]


def _value(qos: dict, member: str, kind: str, tres_by_id, qos_by_id):
    value = qos.get(member)
    if kind == STRING:
        return value
    if kind == U32:
        return None if value in (P.NO_VAL, P.INFINITE) or value is None else value
    if kind == FLOAT:
        return None if value is None or value in _UNSET_DOUBLES else float(value)
    if kind == TRES_LIST:
        return _tres_documents(value, tres_by_id)
    if kind == FLAGS:
        return _names(value or 0, QOS_FLAG_NAMES)
    if kind == PREEMPT_LIST:
        return _preempt_names(qos.get("preempt_bitstr"), qos_by_id)
    if kind == PREEMPT_MODE:
        return _names(value or 0, PREEMPT_MODE_NAMES)
    raise AssertionError(kind)


def qos_document(qos: dict, tres_by_id: dict, qos_by_id: dict) -> dict:
    """One QOS record as slurmrestd's document (TRES named through ``tres_by_id``, preempted
    QOS through ``qos_by_id``)."""
    doc: dict = {}
    for path, member, kind in FIELDS:
        *parents, leaf = path.split("/")
        node = doc
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = _value(qos, member, kind, tres_by_id, qos_by_id)
    return doc


# -- schemas -----------------------------------------------------------------------------

_U32 = {"type": "integer", "nullable": True}
_NUM = {"type": "number", "nullable": True}
_TRES_LIST = {"type": "array", "items": TRES}
_KIND_SCHEMAS = {STRING: {"type": "string", "nullable": True}, U32: _U32, FLOAT: _NUM,
                 TRES_LIST: _TRES_LIST, FLAGS: {"type": "array", "items": {"type": "string"}},
                 PREEMPT_LIST: {"type": "array", "items": {"type": "string"}},
                 PREEMPT_MODE: {"type": "array", "items": {"type": "string"}}}


def _schema_tree() -> dict:
    root: dict = {"type": "object", "properties": {}}
    for path, _member, kind in FIELDS:
        *parents, leaf = path.split("/")
        node = root
        for part in parents:
            node = node["properties"].setdefault(part, {"type": "object", "properties": {}})
        node["properties"][leaf] = _KIND_SCHEMAS[kind]
    return root


QOS = schema_ref("dbv0.0.38_qos", _schema_tree())
QOS_INFO = {"type": "object", "properties": {
    "QOS": {"type": "array", "description": "Array of QOS", "items": QOS}}}
QOS_UPDATE = {"type": "object", "properties": {
    "QOS": {"type": "array", "items": QOS},
    "qos": {"type": "array", "items": QOS, "description": "the same as QOS (slurmrestd's spec)"}}}
QOS_DELETED = fields("removed_qos:[s]")


# -- reads -------------------------------------------------------------------------------

async def _documents(call, name: str | None = None) -> list[dict]:
    cond = {"with_deleted": 1 if call.params.get("with_deleted") else 0}
    records = await call.slurmdbd.qos(cond)
    tres_by_id = await reference.tres_by_id(call)
    qos_by_id = {q["id"]: q for q in records}  # the same snapshot names the preempt lists
    return [qos_document(q, tres_by_id, qos_by_id) for q in records
            if name is None or q["name"] == name]


_WITH_DELETED = Param("with_deleted", type=bool, description="include deleted QOS")


@operation("GET", "/qos", family="slurmdb", operation_id="get_qos", summary="Get QOS list",
           tags=("slurmdb",), params=(_WITH_DELETED,), response_schema=QOS_INFO,
           errors={ESLURM_REST_INVALID_QUERY: 400})
async def get_qos(call):
    return {"QOS": await _documents(call)}


@operation("GET", "/qos/{qos_name}", family="slurmdb", operation_id="get_single_qos",
           summary="Get QOS info", tags=("slurmdb",),
           params=(Param("qos_name", "path"), _WITH_DELETED), response_schema=QOS_INFO,
           errors={ESLURM_REST_INVALID_QUERY: 400, ESLURM_REST_EMPTY_RESULT: 404})
async def get_single_qos(call):
    name = call.params["qos_name"]
    documents = await _documents(call, name)
    if not documents:  # slurmrestd: 200 with an empty list
        raise Refusal(ESLURM_REST_EMPTY_RESULT, [error_entry(
            ESLURM_REST_EMPTY_RESULT, f"QOS {name!r} not found", "get_single_qos")],
            payload={"QOS": []})
    return {"QOS": documents}


# -- delete ------------------------------------------------------------------------------

@operation("DELETE", "/qos/{qos_name}", family="slurmdb", operation_id="delete_qos",
           summary="Delete QOS", tags=("slurmdb",), params=(Param("qos_name", "path"),),
           response_schema=QOS_DELETED, refused=400,
           errors={ESLURM_REST_EMPTY_RESULT: 404})
async def delete_qos(call):
    name = call.params["qos_name"]
    txn = await call.slurmdbd.begin()
    try:
        removed = await txn.call(D.DBD_REMOVE_QOS, {"name_list": [name]})
    except SlurmError as e:
        raise refusal(e, e.message, "slurmdb_qos_remove") from None
    if not removed:  # nothing matched: nothing to commit
        txn.abort()
        raise Refusal(ESLURM_REST_EMPTY_RESULT, [error_entry(
            ESLURM_REST_EMPTY_RESULT, f"Nothing found: no QOS {name!r}", "slurmdb_qos_remove")])
    await txn.commit()
    reference.forget(call, reference.QOS)
    return {"removed_qos": removed}


# -- documents to records (POST) ---------------------------------------------------------

class BadEntry(ValueError):
    """A QOS entry that cannot be written: ``errno`` and Slurm-like words."""

    def __init__(self, errno: int, text: str):
        super().__init__(text)
        self.errno = errno


_TREE: dict = {}
for _path, _member, _kind in FIELDS:
    *_parents, _leaf = _path.split("/")
    _node = _TREE
    for _part in _parents:
        _node = _node.setdefault(_part, {})
    _node[_leaf] = (_member, _kind)
del _path, _member, _kind, _parents, _leaf, _node, _part


def _u32(value):
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if value is None:
        return P.INFINITE  # slurmrestd: null clears the limit
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"must be an integer, not {value!r}")
    if value == P.NO_VAL64:
        return P.NO_VAL
    if value == P.INFINITE64:
        return P.INFINITE
    if not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"{value} is out of range for a 32-bit unsigned integer")
    return value


def _float(value):
    if value is None:
        return float(P.NO_VAL)  # slurmrestd: null is "not given"
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"must be a number, not {value!r}") from None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ValueError(f"must be a number, not {value!r}")
    return float(value)


def _bits(value, table) -> int:
    if not isinstance(value, list):
        raise ValueError(f"must be a list of names, not {value!r}")
    by_name = {name.lower(): bit for bit, name in table}
    bits = 0
    for item in value:
        if not isinstance(item, str) or item.lower() not in by_name:
            raise ValueError(f"Unknown flag {item!r} (known: "
                             f"{', '.join(name for _bit, name in table)})")
        bits |= by_name[item.lower()]
    return bits


def _preempt_ids(value, qos_ids: dict[str, int], adding: bool):
    """Names (or ``{"name": ...}``, ``+name``/``-name`` on a modify) as slurmdbd's list of
    QOS ids; an empty list clears the list."""
    if not isinstance(value, list):
        raise ValueError(f"must be a list of QOS names, not {value!r}")
    ids = []
    for item in value:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name:
            raise ValueError(f"a QOS name is required, not {item!r}")
        sign = ""
        if name[0] in "+-":
            sign, name = name[0], name[1:]
        if name.lower() not in qos_ids:
            raise ValueError(f"QOS name to ID conversion failed: unknown QOS {name!r}")
        ids.append(f"{sign}{qos_ids[name.lower()]}")
    if not ids:
        return None if adding else [""]  # "" clears slurmdbd's preempt column
    return ids


def _walk(entry: dict, tree: dict, prefix: str):
    """(path, member, kind, value) of every field the entry gives; unknown fields refused."""
    for key, value in entry.items():
        path = f"{prefix}{key}"
        node = tree.get(key)
        if node is None:
            raise BadEntry(ESLURM_REST_FAIL_PARSING, f"Unknown field '{path}'")
        if isinstance(node, dict):
            if not isinstance(value, dict):
                raise BadEntry(ESLURM_REST_FAIL_PARSING,
                               f"Failed to parse field '{path}': must be an object")
            yield from _walk(value, node, f"{path}/")
        else:
            yield (path, *node, value)


def parse_entry(entry, tres_by_id: dict, qos_ids: dict[str, int]) -> dict:
    """A QOS document as the fields it sets (qos_rec members, as slurmdbd takes them);
    ``BadEntry`` for anything it cannot be. ``preempt_list`` is the modify form; ``update``
    turns it into the add form."""
    if not isinstance(entry, dict):
        raise BadEntry(ESLURM_REST_INVALID_QUERY, "each QOS entry must be a dictionary")
    given: dict = {}
    for path, member, kind, value in _walk(entry, _TREE, ""):
        try:
            if kind == STRING:
                if value is not None and not isinstance(value, str):
                    raise ValueError(f"must be a string, not {value!r}")
                given[member] = value
            elif kind == U32:
                given[member] = _u32(value)
            elif kind == FLOAT:
                given[member] = _float(value)
            elif kind == TRES_LIST:
                try:
                    given[member] = reference.tres_string(value, tres_by_id) or None
                except ValueError as e:
                    raise BadEntry(ESLURM_INVALID_TRES,
                                   f"Failed to parse field '{path}': {e}") from None
            elif kind == FLAGS:
                given[member] = _bits(value, QOS_FLAG_NAMES)
            elif kind == PREEMPT_MODE:
                given[member] = _bits(value, PREEMPT_MODE_NAMES)
            elif kind == PREEMPT_LIST:
                given[member] = value  # names: resolved below, once all fields are read
        except ValueError as e:
            if isinstance(e, BadEntry):
                raise
            raise BadEntry(ESLURM_REST_FAIL_PARSING,
                           f"Failed to parse field '{path}': {e}") from None
    if "preempt_list" in given:
        try:
            given["preempt_list"] = _preempt_ids(given["preempt_list"], qos_ids, adding=False)
        except ValueError as e:
            raise BadEntry(ESLURM_REST_FAIL_PARSING,
                           f"Failed to parse field 'preempt/list': {e}") from None
    name = given.get("name")
    if "name" in given and (not name or "," in name):
        raise BadEntry(ESLURM_REST_FAIL_PARSING, f"Failed to parse field 'name': "
                       f"a QOS name must be a non-empty string without commas, not {name!r}")
    if given.get("id") in (P.NO_VAL, P.INFINITE):  # null: no id given
        given["id"] = 0
    return given


def _record(given: dict, adding: bool, no_change: dict) -> dict:
    """The qos_rec to send: slurmdb_init_qos_rec(NO_VAL) (nothing changes) plus the given
    fields; a new QOS gets slurmrestd's flags 0 and preempt mode OFF unless given."""
    record = no_change
    if adding:
        record.update(flags=0, preempt_mode=E.PREEMPT_MODE_OFF)
        if given.get("preempt_list") == [""]:
            given = dict(given, preempt_list=None)
    record.update(given, id=0)  # the id selects (the condition); slurmdbd assigns new ones
    return record


def _entries(body) -> list:
    if not isinstance(body, dict):
        raise BadEntry(ESLURM_REST_INVALID_QUERY, "the body must be an object with a QOS list")
    unknown = sorted(set(body) - {"QOS", "qos"})
    if unknown:
        raise BadEntry(ESLURM_REST_INVALID_QUERY, f"Unknown field '{unknown[0]}'")
    if "QOS" in body and "qos" in body:
        raise BadEntry(ESLURM_REST_INVALID_QUERY, "give the QOS list once: QOS or qos")
    entries = body.get("QOS", body.get("qos"))
    if entries is None:
        raise BadEntry(ESLURM_REST_INVALID_QUERY, "Query parameter not found: QOS")
    if not isinstance(entries, list):
        raise BadEntry(ESLURM_REST_INVALID_QUERY, "QOS must be a list")
    return entries


def _bad(e: BadEntry, index: int | None) -> Refusal:
    where = f"QOS[{index}]: " if index is not None else ""
    source = "_foreach_update_qos" if index is not None else "QOS"
    return Refusal(e.errno, [error_entry(e.errno, f"{where}{e}", source)])


async def prepare_qos(call, entries: list) -> list:
    """Check every QOS entry and find the QOS it modifies, before any transaction is opened
    (POST /config prepares its QOS the same way): ``[(found or None, given), ...]``."""
    tres_by_id = {t["id"]: t for t in await call.slurmdbd.tres({"with_deleted": 1})}
    existing = await call.slurmdbd.qos()
    qos_ids = {q["name"].lower(): q["id"] for q in existing}
    by_id = {q["id"]: q for q in existing}
    by_name = {q["name"]: q for q in existing}
    plans = []
    names_seen = set()
    for index, entry in enumerate(entries):
        try:
            given = parse_entry(entry, tres_by_id, qos_ids)
        except BadEntry as e:
            raise _bad(e, index) from None
        qos_id, name = given.get("id") or 0, given.get("name")
        found = by_id.get(qos_id) if qos_id else by_name.get(name) if name else None
        if qos_id and found is None:
            raise _bad(BadEntry(ESLURM_REST_INVALID_QUERY,
                                f"QOS was not found for the requested ID {qos_id}"), index)
        if qos_id and name and found["name"] != name:
            raise _bad(BadEntry(ESLURM_REST_INVALID_QUERY,
                                f"ambiguous modify request: QOS id {qos_id} is "
                                f"{found['name']!r}, not {name!r}"), index)
        if found is None and not name:
            raise _bad(BadEntry(ESLURM_REST_INVALID_QUERY,
                                "Cannot create a QOS without a name"), index)
        key = found["id"] if found else name
        if key in names_seen:
            raise _bad(BadEntry(ESLURM_REST_INVALID_QUERY,
                                f"QOS {name or qos_id!r} is given twice"), index)
        names_seen.add(key)
        plans.append((found, given))
    return plans


async def apply_qos(call, txn, plans: list) -> None:
    """Prepared QOS added or modified on ``txn`` (committed by its owner)."""
    source = "slurmdb_qos_add"
    try:
        for found, given in plans:
            if found is None:
                source = "slurmdb_qos_add"
                record = _record(given, adding=True, no_change=call.slurmdbd.no_change("qos"))
                await txn.call(D.DBD_ADD_QOS, {"my_list": [record]})
            else:
                source = "slurmdb_qos_modify"
                record = _record(given, adding=False, no_change=call.slurmdbd.no_change("qos"))
                await txn.call(D.DBD_MODIFY_QOS, {
                    "cond": {"id_list": [str(found["id"])]}, "rec": record})
    except SlurmError as e:
        raise refusal(e, e.message, source) from None


def qos_entries(body) -> list:
    """The QOS list of a body (``QOS``, or the spec's ``qos``); 400 otherwise."""
    try:
        return _entries(body)
    except BadEntry as e:
        raise _bad(e, None) from None


@operation("POST", "/qos", family="slurmdb", operation_id="update_qos",
           summary="Add or update QOS", tags=("slurmdb",), request_schema=QOS_UPDATE,
           response_schema={"type": "object", "properties": {}}, refused=400,
           errors={ESLURM_REST_INVALID_QUERY: 400, ESLURM_REST_FAIL_PARSING: 400,
                   ESLURM_INVALID_TRES: 400, ESLURM_QOS_PREEMPTION_LOOP: 400})
async def update_qos(call):
    plans = await prepare_qos(call, qos_entries(call.body))
    if not plans:
        return {}
    try:
        await write_all(call, lambda txn: apply_qos(call, txn, plans))
    finally:
        # even a refused transaction may follow another writer's change: look again
        reference.forget(call, reference.QOS)
    return {}
