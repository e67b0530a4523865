"""slurmdbd message bodies of Slurm 24.11 (protocol 0x2A00), derived from 22.05's.

Read from Slurm's source at tag ``slurm-24-11-5-1`` (``src/common/slurmdb_pack.c``,
``slurmdbd_pack.c``, ``persist_conn.c``: the first, newest branch of each
``slurmdb_pack_*``) and checked against the live 24.11 slurmdbd by decoding every reply to
its last byte (``tests/test_dbd_v24_11_live.py``). Only what changed is written here; every
other table is 22.05's (``dbd_v22_05``), which 24.11 packs the same way:

- Unchanged: PERSIST_INIT (only its version), PERSIST_RC, DBD_FINI, the list/modify
  wrappers, the coordinators message, TRES, users, coordinators, wckeys (record and
  condition), QOS records, the job condition (but its selected steps), step statistics,
  config pairs, and the stats record.
- ``assoc_cond`` and ``qos_cond`` sit behind a presence byte (``packbool``: 0 = NULL, then
  nothing follows) and carry their ``with_*`` switches as one ``flags`` word
  (``ASSOC_COND_FLAG_*``, ``QOS_COND_FLAG_*``); ``account_cond`` likewise has ``flags``
  (``SLURMDB_ACCT_FLAG_*``) instead of ``with_assocs``/``with_coords``/``with_deleted``.
  The callers' 22.05 names (``with_deleted``, ``only_defs``, ...) are still accepted: they
  are folded into ``flags`` before packing, so the api room builds one condition for both
  releases.
- ``cluster_cond`` lost ``plugin_id_select_list``; ``cluster_rec`` has a presence byte,
  lost ``plugin_id_select`` and gained ``id`` (u16). Presence bytes of a message body or a
  record are the field ``present`` (1; a decoded cluster record carries it too).
- ``assoc_rec``: ``comment``, ``flags`` u32 (was u16), ``lineage`` instead of ``lft`` and
  ``rgt``. ``accounting_rec`` gained ``id_alt``.
- ``job_rec``: ``extra``, ``failed_node``, ``licenses``, ``lineage`` (for ``lft``),
  ``qos_req``, ``restart_cnt``, ``std_err``/``std_in``/``std_out``. Step ids (in ``step_rec``
  and the job condition's ``selected_step``) start with the u64 ``sluid``; a selected step
  ends with an ``array_bitmap``.
"""

from slurmrest.wire import primitives as P
from slurmrest.wire.dbd_msgtypes import DbdMsgType as D
from slurmrest.wire.schema import (
    BITSTR, STR, U8, U16, U32, U64, Counted, List, Optional, Struct,
)
from slurmrest.wire.tables import dbd_v22_05 as V22
from slurmrest.wire.tables.dbd_v22_05 import STRLIST, _struct, list_msg, modify_msg

PROTOCOL_VERSION = 42 << 8  # 0x2A00, SLURM_24_11_PROTOCOL_VERSION

# -- conditions: presence byte, switches folded into flags ------------------------------

#: ``ASSOC_COND_FLAG_*`` (slurmdb.h) by the 22.05 member each replaces.
ASSOC_COND_FLAGS = {
    "with_deleted": 1 << 0,
    "with_usage": 1 << 1,
    "only_defs": 1 << 2,
    "with_raw_qos": 1 << 3,
    "with_sub_accts": 1 << 4,
    "without_parent_info": 1 << 5,   # WOPI
    "without_parent_limits": 1 << 6,  # WOPL
}
#: ``SLURMDB_ACCT_FLAG_*`` by the 22.05 member each replaces.
ACCOUNT_COND_FLAGS = {
    "with_deleted": 1 << 0,  # SLURMDB_ACCT_FLAG_DELETED
    "with_assocs": 1 << 1,   # WASSOC
    "with_coords": 1 << 2,   # WCOORD
}
#: ``QOS_COND_FLAG_*`` by the 22.05 member each replaces.
QOS_COND_FLAGS = {"with_deleted": 1 << 0}


def _folding(flag_bits):
    """A ``prepare`` turning the 22.05 switches of ``flag_bits`` (true or false values)
    into bits of ``flags``; the caller's dict is left as it was."""
    def fold(record):
        if record is None or flag_bits.keys().isdisjoint(record):
            return record
        record = dict(record)
        flags = record.get("flags") or 0
        for name, bit in flag_bits.items():
            if record.pop(name, None):
                flags |= bit
        record["flags"] = flags
        return record
    return fold


ASSOC_COND_FIELDS = _struct("assoc_cond", """
    acct_list           strlist
    cluster_list        strlist
    def_qos_id_list     strlist
    flags               u32
    format_list         strlist
    id_list             strlist
    partition_list      strlist
    parent_acct_list    strlist
    qos_list            strlist
    usage_end           time
    usage_start         time
    user_list           strlist
""", prepare=_folding(ASSOC_COND_FLAGS))


def _present(name, fields, flag_bits):
    """A condition sent as a request body: presence byte 1, then its fields (given in the
    same dict as the condition's own keys)."""
    return Struct(name, [("present", Optional(fields, flag=U8, present=1, absent=0,
                                              flatten=True), 1)],
                  prepare=_folding(flag_bits))


#: A nested ``assoc_cond`` (in user and account conditions): None packs C's NULL.
NESTED_ASSOC_COND = Optional(ASSOC_COND_FIELDS, flag=U8, present=1, absent=0)
ASSOC_COND = _present("assoc_cond", ASSOC_COND_FIELDS, ASSOC_COND_FLAGS)

QOS_COND_FIELDS = _struct("qos_cond", """
    description_list    strlist
    flags               u16
    format_list         strlist
    id_list             strlist
    name_list           strlist
    preempt_mode        u16
""")
QOS_COND = _present("qos_cond", QOS_COND_FIELDS, QOS_COND_FLAGS)

USER_COND = V22.USER_COND.replace(change=[("assoc_cond", ("assoc_cond", NESTED_ASSOC_COND))])

ACCOUNT_COND = Struct("account_cond", [
    ("assoc_cond", NESTED_ASSOC_COND),
    ("description_list", STRLIST, None),
    ("flags", U32),
    ("organization_list", STRLIST, None),
], prepare=_folding(ACCOUNT_COND_FLAGS))

CLUSTER_COND = V22.CLUSTER_COND.replace(drop=["plugin_id_select_list"])

# -- records -----------------------------------------------------------------------------

ACCOUNTING_REC = V22.ACCOUNTING_REC.replace(insert=[("id", ("id_alt", U32))])

ASSOC_REC = V22.ASSOC_REC.replace(
    drop=["lft", "rgt"],
    insert=[("cluster", ("comment", STR)), ("is_def", ("lineage", STR))],
    change=[("accounting_list", ("accounting_list", List(ACCOUNTING_REC), None)),
            ("flags", ("flags", U32))])

# slurmdb_init_assoc_rec(): the "no change" template of DBD_MODIFY_ASSOCS.
ASSOC_REC_NO_CHANGE = dict(ASSOC_REC.defaults(), priority=P.NO_VAL, is_def=P.NO_VAL16)

WCKEY_REC = V22.WCKEY_REC.replace(
    change=[("accounting_list", ("accounting_list", List(ACCOUNTING_REC), None))])

USER_REC = V22.USER_REC.replace(change=[
    ("assoc_list", ("assoc_list", List(ASSOC_REC), None)),
    ("wckey_list", ("wckey_list", List(WCKEY_REC), None))])

ACCOUNT_REC = V22.ACCOUNT_REC.replace(change=[
    ("assoc_list", ("assoc_list", List(ASSOC_REC), None))])

_CLUSTER_FIELDS = V22.CLUSTER_REC.replace(
    drop=["plugin_id_select"],
    insert=[("flags", ("id", U16))],
    change=[("root_assoc", ("root_assoc", ASSOC_REC))])
#: The record behind its presence byte (absent: C's NULL record, nothing follows).
CLUSTER_REC = Struct("cluster_rec", [
    ("present", Optional(_CLUSTER_FIELDS, flag=U8, present=1, absent=0, flatten=True), 1)])

# -- jobs and steps ----------------------------------------------------------------------

# pack_step_id() starts with the u64 sluid; pack_bit_str_hex(array_bitmap) ends it.
SELECTED_STEP = Struct("selected_step", [
    ("sluid", U64),
    *[(f.name, f.type, f.default) for f in V22.SELECTED_STEP.fields],
    ("array_bitmap", BITSTR),
])

JOB_COND = V22.JOB_COND.replace(change=[("step_list", ("step_list", List(SELECTED_STEP), None))])

STEP_REC = V22.STEP_REC.replace(insert=[("state", ("sluid", U64))])

JOB_REC = V22.JOB_REC.replace(
    drop=["lft"],
    insert=[("exitcode", ("extra", STR)), ("exitcode", ("failed_node", STR)),
            ("jobname", ("licenses", STR)), ("jobname", ("lineage", STR)),
            ("qosid", ("qos_req", STR)), ("requid", ("restart_cnt", U16)),
            ("steps", ("std_err", STR)), ("steps", ("std_in", STR)),
            ("steps", ("std_out", STR))],
    change=[("steps", ("steps", Counted(STEP_REC, "steps_count")))])

PERSIST_INIT_REQ = V22.PERSIST_INIT_REQ.replace(
    change=[("version", ("version", U16, PROTOCOL_VERSION))])

REQUESTS = {
    D.DBD_GET_JOBS_COND: JOB_COND,
    D.DBD_GET_ASSOCS: ASSOC_COND,
    D.DBD_GET_PROBS: ASSOC_COND,
    D.DBD_GET_USERS: USER_COND,
    D.DBD_GET_ACCOUNTS: ACCOUNT_COND,
    D.DBD_GET_QOS: QOS_COND,
    D.DBD_GET_CLUSTERS: CLUSTER_COND,
    D.DBD_ADD_ACCOUNTS: list_msg("add_accounts", ACCOUNT_REC),
    D.DBD_ADD_ASSOCS: list_msg("add_assocs", ASSOC_REC),
    D.DBD_ADD_CLUSTERS: list_msg("add_clusters", CLUSTER_REC),
    D.DBD_ADD_USERS: list_msg("add_users", USER_REC),
    D.DBD_ADD_WCKEYS: list_msg("add_wckeys", WCKEY_REC),
    D.DBD_ADD_ACCOUNT_COORDS: V22.ACCT_COORD_MSG.replace(
        change=[("cond", ("cond", USER_COND))]),
    D.DBD_REMOVE_ACCOUNT_COORDS: V22.ACCT_COORD_MSG.replace(
        change=[("cond", ("cond", USER_COND))]),
    D.DBD_MODIFY_ACCOUNTS: modify_msg("modify_accounts", ACCOUNT_COND, ACCOUNT_REC),
    D.DBD_MODIFY_ASSOCS: modify_msg("modify_assocs", ASSOC_COND, ASSOC_REC),
    D.DBD_MODIFY_CLUSTERS: modify_msg("modify_clusters", CLUSTER_COND, CLUSTER_REC),
    D.DBD_MODIFY_USERS: modify_msg("modify_users", USER_COND, USER_REC),
    D.DBD_MODIFY_QOS: modify_msg("modify_qos", QOS_COND, V22.QOS_REC),
    D.DBD_REMOVE_ACCOUNTS: ACCOUNT_COND,
    D.DBD_REMOVE_ASSOCS: ASSOC_COND,
    D.DBD_REMOVE_CLUSTERS: CLUSTER_COND,
    D.DBD_REMOVE_USERS: USER_COND,
    D.DBD_REMOVE_QOS: QOS_COND,
}

REPLIES = {
    D.DBD_GOT_JOBS: list_msg("got_jobs", JOB_REC),
    D.DBD_GOT_ASSOCS: list_msg("got_assocs", ASSOC_REC),
    D.DBD_GOT_PROBS: list_msg("got_probs", ASSOC_REC),
    D.DBD_GOT_USERS: list_msg("got_users", USER_REC),
    D.DBD_GOT_ACCOUNTS: list_msg("got_accounts", ACCOUNT_REC),
    D.DBD_GOT_CLUSTERS: list_msg("got_clusters", CLUSTER_REC),
    D.DBD_GOT_WCKEYS: list_msg("got_wckeys", WCKEY_REC),
}

#: What a client of a 24.11 slurmdbd uses (``SlurmVersion.dbd`` of the 24.11 release).
TABLES = V22.TABLES.derive(
    "24.11", PROTOCOL_VERSION, persist_init=PERSIST_INIT_REQ, requests=REQUESTS,
    replies=REPLIES, no_change={"assoc": ASSOC_REC_NO_CHANGE})
