"""``GET /config`` and ``POST /config``: all of slurmdbd's configuration in one document, and
loading one back, as slurmrestd dbv0.0.38's (its "Dump/Load all configuration
information").

GET is the answers of GET /clusters, /tres, /accounts, /users, /qos, /wckeys and
/associations side by side (read at once, each with the caller's credential; a part the
caller may not read refuses the whole: 403, where slurmrestd answers 500 with the rest).

POST takes any of those keys and applies them in slurmrestd's order (clusters, accounts,
users, QOS, wckeys, associations; but accounts' associations right after the accounts, since
a user's association needs its account's) in ONE transaction: every part is checked first, by the
same ``prepare_*`` the single operations use, and nothing is committed unless every write
of every part succeeded (slurmrestd, too, refuses to commit after an error). So that a GET
answer can be loaded back as it is:

- what slurmdbd or a cluster's slurmctld reports is left out before the checks (a cluster's
  controller, nodes, TRES, RPC version; an account's associations and coordinators, which
  the ``users`` and ``associations`` parts carry; a wckey's usage);
- clusters that exist already are left alone (adding one again would reset its
  registration), and ``TRES`` is accepted and ignored, as slurmrestd does under /config
  (TRES are slurmctld's to create);
- users and wckeys may name accounts, users and clusters that the same document adds.
"""

from __future__ import annotations

from twisted.internet import defer

from slurmrest.api.registry import Result, operation
from slurmrest.api.slurmdb import (
    accounts, associations, bodies, clusters, outcomes, qos, reference, tres, users, wckeys)
from slurmrest.wire.errors import SlurmError

#: The parts of the document, in slurmrestd's order, with their GET handlers.
PARTS = (
    ("clusters", clusters.get_clusters),
    ("TRES", tres.get_tres),
    ("accounts", accounts.get_accounts),
    ("users", users.get_users),
    ("QOS", qos.get_qos),
    ("wckeys", wckeys.get_wckeys),
    ("associations", associations.get_associations),
)
_KEYS = {key for key, _ in PARTS} | {"qos", "tres"}

#: Fields of a GET answer that are reported, not set (left out of what POST checks).
_REPORTED = {
    "clusters": clusters.REPORTED,
    "accounts": ("associations", "coordinators"),
    "wckeys": ("accounts",),
}

SOURCE = "slurmdb_config_set"


def _config_schema() -> dict:
    properties = {}
    for key, handler in PARTS:
        for op in _operations_of(handler):
            properties.update(op.response_schema.get("properties", {}))
    return {"type": "object", "properties": properties}


def _operations_of(handler):
    from slurmrest.api.registry import REGISTRY
    return [op for op in REGISTRY if op.handler is handler]


CONFIG = _config_schema()


async def _part(call, handler) -> dict:
    answer = await handler(call)
    return answer.payload if isinstance(answer, Result) else answer


@operation("GET", "/config", family="slurmdb", operation_id="get_config",
           summary="Dump all configuration information", tags=("slurmdb",),
           response_schema=CONFIG, errors=outcomes.STATUSES)
async def get_config(call):
    reads = [defer.ensureDeferred(_part(call, handler)) for _, handler in PARTS]
    try:
        parts = await defer.gatherResults(reads, consumeErrors=True)
    except defer.FirstError as e:
        e.subFailure.raiseException()
    document = {}
    for part in parts:
        document.update(part)
    return document


def _without_reported(body: dict, key: str) -> dict:
    """``body`` with the part ``key``'s reported fields left out of its entries."""
    entries = body.get(key)
    reported = _REPORTED.get(key)
    if not reported or not isinstance(entries, list):
        return body
    return {key: [{k: v for k, v in entry.items() if k not in reported}
                  if isinstance(entry, dict) else entry for entry in entries]}


def _associations(body) -> tuple[list, list]:
    """The associations part as (accounts' associations, users' associations); anything
    not a list of objects goes to the second, whose checks refuse it."""
    entries = body.get("associations")
    if entries is None:
        return [], []
    if not isinstance(entries, list):
        return [], entries
    of_accounts = [e for e in entries if isinstance(e, dict) and not e.get("user")]
    return of_accounts, [e for e in entries if not (isinstance(e, dict) and not e.get("user"))]


def _names(records, key="name") -> frozenset:
    return frozenset(r[key] for r in records)


async def _new_clusters(call, body) -> dict | None:
    """The clusters part without the clusters slurmdbd has already (left alone)."""
    entries = body.get("clusters")
    if not isinstance(entries, list):
        return body
    names = [e.get("name") for e in entries if isinstance(e, dict)]
    try:
        known = {c["name"] for c in await call.slurmdbd.clusters(
            {"cluster_list": [n for n in names if isinstance(n, str)]})} if names else set()
    except SlurmError as e:
        raise outcomes.refused(e, "slurmdb_clusters_get") from None
    fresh = [e for e in entries if not (isinstance(e, dict) and e.get("name") in known)]
    return {"clusters": fresh} if fresh else None


@operation("POST", "/config", family="slurmdb", operation_id="set_config",
           summary="Load all configuration information", tags=("slurmdb",),
           request_schema=CONFIG, response_schema={"type": "object", "properties": {}},
           errors={**outcomes.STATUSES, **associations.WRITE_ERRORS}, refused=400)
async def set_config(call):
    body = call.body
    if not isinstance(body, dict):
        raise bodies.refuse("the body must be an object of configuration lists", SOURCE)
    unknown = sorted(set(body) - _KEYS)
    if unknown:
        raise bodies.refuse(f"unknown field(s): {', '.join(unknown)}", SOURCE)
    if not set(body) & (_KEYS - {"TRES", "tres"}):
        raise bodies.refuse("nothing to load: give clusters, accounts, users, QOS, wckeys "
                            "or associations", SOURCE)
    # An empty list loads nothing (a GET answer has them: ``"wckeys": []``).
    body = {k: v for k, v in body.items() if not (isinstance(v, list) and not v)}

    # Every part checked before anything is written, in the order they will be written:
    # slurmrestd's, but for the associations of accounts, which go before the users (a
    # user's association needs its account's, as ``sacctmgr add account`` makes it).
    steps = []
    adding_clusters = adding_accounts = adding_users = frozenset()
    if "clusters" in body:
        part = await _new_clusters(call, _without_reported(body, "clusters"))
        if part is not None:
            records = await clusters.prepare_clusters(call, part)
            adding_clusters = _names(records)
            steps.append(lambda txn, r=records: clusters.add_clusters(txn, r))
    if "accounts" in body:
        records = await accounts.prepare_accounts(call, _without_reported(body, "accounts"))
        adding_accounts = _names(records)
        steps.append(lambda txn, r=records: accounts.add_accounts(txn, r))
    of_accounts, of_users = _associations(body)
    adding_account_assocs = frozenset()
    if of_accounts:
        records = await associations.prepare_associations(call, {"associations": of_accounts})
        adding_account_assocs = frozenset((r["acct"], r["cluster"]) for r in records)
        steps.append(lambda txn, r=records: associations.apply_associations(txn, r))
    if "users" in body:
        records = await users.prepare_users(call, {"users": body["users"]},
                                            adding_accounts=adding_accounts,
                                            adding_account_assocs=adding_account_assocs)
        adding_users = frozenset(rec["name"] for rec, _ in records)
        steps.append(lambda txn, r=records: users.apply_users(txn, r))
    if "QOS" in body or "qos" in body:
        plans = await qos.prepare_qos(call, qos.qos_entries(
            {k: v for k, v in body.items() if k in ("QOS", "qos")}))
        steps.append(lambda txn, p=plans: qos.apply_qos(call, txn, p))
    if "wckeys" in body:
        records = await wckeys.prepare_wckeys(call, _without_reported(body, "wckeys"),
                                              adding_clusters=adding_clusters,
                                              adding_users=adding_users)
        steps.append(lambda txn, r=records: wckeys.add_wckeys(txn, r))
    if of_users:
        records = await associations.prepare_associations(call, {"associations": of_users})
        steps.append(lambda txn, r=records: associations.apply_associations(txn, r))

    txn = await call.slurmdbd.begin()
    try:
        for step in steps:
            await step(txn)
        await txn.commit()
    finally:
        txn.abort()  # a no-op once committed
        reference.forget(call, reference.QOS)
    return {}
