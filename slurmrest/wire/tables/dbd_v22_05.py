"""slurmdbd message bodies of Slurm 22.05 (protocol 0x2600) as ``Struct`` tables.

Transcribed from ``docs/slurm-22.05-dbd-protocol.md`` §1.6 and §4 (each table names the
``slurmdb_pack_*`` function behind it) and checked against what the live slurmdbd sends
(``tests/test_dbd_live.py``). Field names are Slurm's C member names; rows are in wire order;
a default is what the C packer sends for a NULL object (the "NULL-pack" column), so packing
``{}`` gives the full NULL layout (§8.6: never the short NULL-packs of qos/wckey/txn).

Lists: ``STRLIST`` (``_pack_list_of_str``) and ``List(record)`` (``slurm_pack_list``) decode
NO_VAL to None and a count to a (possibly empty) list; None and [] pack differently, as in C
(§0: a NULL ``user_list`` is no filter, an empty one means "user associations only").
"""

from slurmrest.wire import primitives as P
from slurmrest.wire.dbd_msgtypes import DbdMsgType as D
from slurmrest.wire.schema import (
    BITSTR, DOUBLE, I32, STR, TIME, U8, U16, U32, Counted, List, Struct, struct,
)
from slurmrest.wire.versions import DbdTables

PROTOCOL_VERSION = P.SLURM_22_05_PROTOCOL_VERSION

STRLIST = List(STR)  # u32 count (NO_VAL = NULL list) + count x str



def _struct(name, spec, **composites):
    """A table from ``name type [default]`` lines (``wire.schema.struct``); slurmdbd's
    string lists (``strlist``) are one more type name."""
    return struct(name, spec, strlist=STRLIST, **composites)


# -- §1.6 persist_rc_msg_t, §2.4 dbd_fini_msg_t ------------------------------------------

PERSIST_RC = _struct("persist_rc", """
    comment     str
    flags       u16
    rc          i32
    ret_info    u16
""")

PERSIST_INIT_REQ = _struct("persist_init_req", """
    version         u16 0x2600
    cluster_name    str
    persist_type    u16 1          # PERSIST_TYPE_DBD
    port            u16
""")

FINI = _struct("dbd_fini", """
    close_conn  u16
    commit      u16
""")

# -- §4.10 TRES --------------------------------------------------------------------------

TRES_COND = _struct("tres_cond", """
    count           u64 0xfffffffe  # NO_VAL as a u64
    format_list     strlist
    id_list         strlist
    name_list       strlist
    type_list       strlist
    with_deleted    u16
""")

TRES_REC = _struct("tres_rec", """
    alloc_secs  u64
    count       u64
    id          u32
    name        str
    type        str
""")

# -- §4.6 associations -------------------------------------------------------------------

ACCOUNTING_REC = _struct("accounting_rec", """
    alloc_secs      u64
    tres_rec        tres
    id              u32
    period_start    time
""", tres=TRES_REC)

ASSOC_COND = _struct("assoc_cond", """
    acct_list               strlist
    cluster_list            strlist
    def_qos_id_list         strlist
    format_list             strlist
    id_list                 strlist
    only_defs               u16
    partition_list          strlist
    parent_acct_list        strlist
    qos_list                strlist
    usage_end               time
    usage_start             time
    user_list               strlist
    with_usage              u16
    with_deleted            u16
    with_raw_qos            u16
    with_sub_accts          u16
    without_parent_info     u16
    without_parent_limits   u16
""")

ASSOC_REC = _struct("assoc_rec", """
    accounting_list     accounting
    acct                str
    cluster             str
    def_qos_id          u32 NO_VAL
    flags               u16
    shares_raw          u32 NO_VAL
    grp_tres_mins       str
    grp_tres_run_mins   str
    grp_tres            str
    grp_jobs            u32 NO_VAL
    grp_jobs_accrue     u32 NO_VAL
    grp_submit_jobs     u32 NO_VAL
    grp_wall            u32 NO_VAL
    id                  u32
    is_def              u16
    lft                 u32
    max_tres_mins_pj    str
    max_tres_run_mins   str
    max_tres_pj         str
    max_tres_pn         str
    max_jobs            u32 NO_VAL
    max_jobs_accrue     u32 NO_VAL
    min_prio_thresh     u32 NO_VAL
    max_submit_jobs     u32 NO_VAL
    max_wall_pj         u32 NO_VAL
    parent_acct         str
    parent_id           u32
    partition           str
    priority            u32
    qos_list            strlist
    rgt                 u32
    uid                 u32
    user                str
""", accounting=List(ACCOUNTING_REC))

# slurmdb_init_assoc_rec(): the "no change" template of DBD_MODIFY_ASSOCS (§4.6.2).
ASSOC_REC_NO_CHANGE = dict(
    ASSOC_REC.defaults(), priority=P.NO_VAL, is_def=P.NO_VAL16, lft=P.NO_VAL, rgt=P.NO_VAL)

# -- §4.7 users, coordinators; §4.12 wckeys ----------------------------------------------

COORD_REC = _struct("coord_rec", """
    name    str
    direct  u16
""")

WCKEY_COND = _struct("wckey_cond", """
    cluster_list    strlist
    format_list     strlist
    id_list         strlist
    name_list       strlist
    only_defs       u16
    usage_end       time
    usage_start     time
    user_list       strlist
    with_usage      u16
    with_deleted    u16
""")

WCKEY_REC = Struct("wckey_rec", [
    ("accounting_list", List(ACCOUNTING_REC), None),
    ("cluster", STR),
    ("flags", U32),
    ("id", U32, P.NO_VAL),
    ("is_def", U16, P.NO_VAL16),  # the C NULL-pack skips it (§8.6): we always send it
    ("name", STR),
    ("uid", U32, P.NO_VAL),
    ("user", STR),
])

USER_COND = _struct("user_cond", """
    admin_level     u16
    assoc_cond      assoc_cond
    def_acct_list   strlist
    def_wckey_list  strlist
    with_assocs     u16
    with_coords     u16
    with_deleted    u16
    with_wckeys     u16
""", assoc_cond=ASSOC_COND)

USER_REC = Struct("user_rec", [
    ("admin_level", U16),
    ("assoc_list", List(ASSOC_REC), None),
    ("coord_accts", List(COORD_REC), None),
    ("default_acct", STR),
    ("default_wckey", STR),
    ("flags", U32),
    ("name", STR),
    ("old_name", STR),
    ("uid", U32),
    ("wckey_list", List(WCKEY_REC), None),
])

# -- §4.8 accounts -----------------------------------------------------------------------

ACCOUNT_COND = _struct("account_cond", """
    assoc_cond          assoc_cond
    description_list    strlist
    organization_list   strlist
    with_assocs         u16
    with_coords         u16
    with_deleted        u16
""", assoc_cond=ASSOC_COND)

ACCOUNT_REC = Struct("account_rec", [
    ("assoc_list", List(ASSOC_REC), None),
    ("coordinators", List(COORD_REC), None),
    ("description", STR),
    ("flags", U32),
    ("name", STR),
    ("organization", STR),
])

# -- §4.9 QOS ----------------------------------------------------------------------------

QOS_COND = _struct("qos_cond", """
    description_list    strlist
    format_list         strlist
    id_list             strlist
    name_list           strlist
    preempt_mode        u16
    with_deleted        u16
""")

_NO_VAL64_DOUBLE = float(P.NO_VAL64)  # (double)NO_VAL64, the NULL-pack's usage_factor

QOS_REC = Struct("qos_rec", [
    ("description", STR),
    ("id", U32),
    ("flags", U32, 0x10000000),  # QOS_FLAG_NOTSET
    ("grace_time", U32, P.NO_VAL),
    ("grp_tres_mins", STR),
    ("grp_tres_run_mins", STR),
    ("grp_tres", STR),
    ("grp_jobs", U32, P.NO_VAL),
    ("grp_jobs_accrue", U32, P.NO_VAL),
    ("grp_submit_jobs", U32, P.NO_VAL),
    ("grp_wall", U32, P.NO_VAL),
    ("max_tres_mins_pj", STR),
    ("max_tres_run_mins_pa", STR),
    ("max_tres_run_mins_pu", STR),
    ("max_tres_pa", STR),
    ("max_tres_pj", STR),
    ("max_tres_pn", STR),
    ("max_tres_pu", STR),
    ("max_jobs_pa", U32, P.NO_VAL),
    ("max_jobs_pu", U32, P.NO_VAL),
    ("max_jobs_accrue_pa", U32, P.NO_VAL),
    ("max_jobs_accrue_pu", U32, P.NO_VAL),
    ("min_prio_thresh", U32, P.NO_VAL),
    ("max_submit_jobs_pa", U32, P.NO_VAL),
    ("max_submit_jobs_pu", U32, P.NO_VAL),
    ("max_wall_pj", U32, P.NO_VAL),
    ("min_tres_pj", STR),
    ("name", STR),
    ("preempt_bitstr", BITSTR),
    ("preempt_list", STRLIST, None),
    ("preempt_mode", U16),
    ("preempt_exempt_time", U32),
    ("priority", U32),
    ("usage_factor", DOUBLE, _NO_VAL64_DOUBLE),
    ("usage_thres", DOUBLE, _NO_VAL64_DOUBLE),
    ("limit_factor", DOUBLE, _NO_VAL64_DOUBLE),  # never packed by C's NULL branch (§8.6)
])

# slurmdb_init_qos_rec(qos, 0, NO_VAL): the "no change" template of DBD_MODIFY_QOS (§4.9.2).
QOS_REC_NO_CHANGE = dict(
    QOS_REC.defaults(), preempt_mode=P.NO_VAL16, preempt_exempt_time=P.NO_VAL,
    priority=P.NO_VAL, usage_factor=float(P.NO_VAL), usage_thres=float(P.NO_VAL),
    limit_factor=float(P.NO_VAL))

# -- §4.11 clusters ----------------------------------------------------------------------

CLUSTER_COND = _struct("cluster_cond", """
    classification          u16
    cluster_list            strlist
    federation_list         strlist
    flags                   u32 NO_VAL     # NO_VAL = any; 0 matches no cluster (§4.11.1)
    format_list             strlist
    plugin_id_select_list   strlist
    rpc_version_list        strlist
    usage_end               time
    usage_start             time
    with_usage              u16
    with_deleted            u16
""")

CLUSTER_ACCOUNTING_REC = _struct("cluster_accounting_rec", """
    alloc_secs      u64
    tres_rec        tres
    down_secs       u64
    idle_secs       u64
    over_secs       u64
    pdown_secs      u64
    period_start    time
    plan_secs       u64
""", tres=TRES_REC)

CLUSTER_REC = Struct("cluster_rec", [
    ("accounting_list", List(CLUSTER_ACCOUNTING_REC), None),
    ("classification", U16),
    ("control_host", STR),
    ("control_port", U32),
    ("dimensions", U16, 1),
    ("fed_feature_list", STRLIST, None),
    ("fed_name", STR),
    ("fed_id", U32),
    ("fed_state", U32),
    ("fed_sync_recvd", U8),
    ("fed_sync_sent", U8),
    ("flags", U32, P.NO_VAL),
    ("name", STR),
    ("nodes", STR),
    ("plugin_id_select", U32, P.NO_VAL),
    ("root_assoc", ASSOC_REC),
    ("rpc_version", U16),
    ("fed_recv", U8),
    ("fed_send", U8),
    ("tres_str", STR),
])

# -- §4.3-4.5 jobs -----------------------------------------------------------------------

SELECTED_STEP = _struct("selected_step", """
    job_id          u32
    step_id         u32 NO_VAL
    step_het_comp   u32 NO_VAL
    array_task_id   u32 NO_VAL
    het_job_offset  u32 NO_VAL
""")

JOB_COND = _struct("job_cond", """
    acct_list       strlist
    associd_list    strlist
    cluster_list    strlist
    constraint_list strlist
    cpus_max        u32
    cpus_min        u32
    db_flags        u32 0x1      # SLURMDB_JOB_FLAG_NOTSET: "any" (§8.13)
    exitcode        i32
    flags           u32
    format_list     strlist
    groupid_list    strlist
    jobname_list    strlist
    nodes_max       u32
    nodes_min       u32
    partition_list  strlist
    qos_list        strlist
    reason_list     strlist
    resv_list       strlist
    resvid_list     strlist
    step_list       steps
    state_list      strlist
    timelimit_max   u32
    timelimit_min   u32
    usage_end       time
    usage_start     time
    used_nodes      str
    userid_list     strlist
    wckey_list      strlist
""", steps=List(SELECTED_STEP))

STATS = _struct("slurmdb_stats", """
    act_cpufreq                 double
    consumed_energy             u64
    tres_usage_in_ave           str
    tres_usage_in_max           str
    tres_usage_in_max_nodeid    str
    tres_usage_in_max_taskid    str
    tres_usage_in_min           str
    tres_usage_in_min_nodeid    str
    tres_usage_in_min_taskid    str
    tres_usage_in_tot           str
    tres_usage_out_ave          str
    tres_usage_out_max          str
    tres_usage_out_max_nodeid   str
    tres_usage_out_max_taskid   str
    tres_usage_out_min          str
    tres_usage_out_min_nodeid   str
    tres_usage_out_min_taskid   str
    tres_usage_out_tot          str
""")

STEP_REC = _struct("step_rec", """
    container       str
    elapsed         u32
    end             time
    exitcode        i32
    nnodes          u32
    nodes           str
    ntasks          u32
    req_cpufreq_min u32
    req_cpufreq_max u32
    req_cpufreq_gov u32
    requid          u32
    stats           stats
    start           time
    state           u16
    job_id          u32
    step_id         u32
    step_het_comp   u32
    stepname        str
    submit_line     str
    suspended       u32
    sys_cpu_sec     u64
    sys_cpu_usec    u32
    task_dist       u32
    tot_cpu_sec     u64
    tot_cpu_usec    u32
    tres_alloc_str  str
    user_cpu_sec    u64
    user_cpu_usec   u32
""", stats=STATS)

_JOB_HEAD = _struct("job_rec_head", """
    account             str
    admin_comment       str
    alloc_nodes         u32
    array_job_id        u32
    array_max_tasks     u32
    array_task_id       u32
    array_task_str      str
    associd             u32
    blockid             str
    cluster             str
    constraints         str
    container           str
    db_index            u64
    derived_ec          i32
    derived_es          str
    elapsed             u32
    eligible            time
    end                 time
    env                 str
    exitcode            i32
    flags               u32
    gid                 u32
    jobid               u32
    jobname             str
    lft                 u32
    mcs_label           str
    nodes               str
    het_job_id          u32
    het_job_offset      u32
    partition           str
    priority            u32
    qosid               u32
    req_cpus            u32
    req_mem             u64
    requid              u32
    resv_name           str
    resvid              u32
    script              str
    show_full           u32
    start               time
    state               u32
    state_reason_prev   u32
    steps_count         u32
""")
_JOB_TAIL = _struct("job_rec_tail", """
    submit              time
    submit_line         str
    suspended           u32
    system_comment      str
    sys_cpu_sec         u64
    sys_cpu_usec        u64
    timelimit           u32
    tot_cpu_sec         u64
    tot_cpu_usec        u64
    tres_alloc_str      str
    tres_req_str        str
    uid                 u32
    user                str
    user_cpu_sec        u64
    user_cpu_usec       u64
    wckey               str
    wckeyid             u32
    work_dir            str
""")
# steps: a u32 count (0 for none, never NO_VAL: §8.9) then the step records inline.
JOB_REC = Struct("job_rec", [
    *[(f.name, f.type, f.default) for f in _JOB_HEAD.fields],
    ("steps", Counted(STEP_REC, "steps_count")),
    *[(f.name, f.type, f.default) for f in _JOB_TAIL.fields],
])

# -- §4.14 stats -------------------------------------------------------------------------

ROLLUP_ENTRY = _struct("rollup", """
    count       u16
    timestamp   time
    time_last   u64
    time_max    u64
    time_total  u64
""")
ROLLUP_STATS = Struct("rollup_stats", [
    ("cluster_name", STR),
    ("rollup_count", U16, 3),  # DBD_ROLLUP_COUNT: hourly, daily, monthly
    ("rollups", Counted(ROLLUP_ENTRY, "rollup_count")),
])
RPC_OBJ = _struct("rpc_obj", """
    cnt     u32
    id      u32
    time    u64
""")
STATS_REC = Struct("stats_rec", [
    ("dbd_rollup_stats", ROLLUP_STATS),
    ("rollup_stats", List(ROLLUP_STATS), None),
    ("rpc_list", List(RPC_OBJ), None),
    ("time_start", TIME),
    ("user_list", List(RPC_OBJ), None),
])

# -- §4.1 config key pairs, §4.15 coordinators message -----------------------------------

CONFIG_KEY_PAIR = _struct("config_key_pair", """
    name    str
    value   str
""")

CONFIG_NAME = _struct("config_name", """
    config_name str
""")

ACCT_COORD_MSG = Struct("acct_coord", [
    ("acct_count", U32),  # 0 for none: this hand-rolled list never writes NO_VAL
    ("acct_list", Counted(STR, "acct_count")),
    ("cond", USER_COND),
])

EMPTY = Struct("empty", [])


# -- §4.1 wrappers -----------------------------------------------------------------------

def list_msg(name, element):
    """``dbd_list_msg``: ``list<element>`` (NO_VAL = NULL list) then ``u32 return_code``."""
    return Struct(name, [("my_list", List(element), None), ("return_code", I32)])


def modify_msg(name, cond, rec):
    """``dbd_modify_msg``: the condition then the record, no wrapper bytes."""
    return Struct(name, [("cond", cond), ("rec", rec)])


GOT_LIST = list_msg("got_list", STR)

# Request body by message type.
REQUESTS = {
    D.DBD_FINI: FINI,
    D.DBD_GET_JOBS_COND: JOB_COND,
    D.DBD_GET_ASSOCS: ASSOC_COND,
    D.DBD_GET_PROBS: ASSOC_COND,
    D.DBD_GET_USERS: USER_COND,
    D.DBD_GET_ACCOUNTS: ACCOUNT_COND,
    D.DBD_GET_QOS: QOS_COND,
    D.DBD_GET_TRES: TRES_COND,
    D.DBD_GET_CLUSTERS: CLUSTER_COND,
    D.DBD_GET_WCKEYS: WCKEY_COND,
    D.DBD_GET_CONFIG: CONFIG_NAME,
    D.DBD_GET_STATS: EMPTY,
    D.DBD_CLEAR_STATS: EMPTY,
    D.DBD_RECONFIG: EMPTY,
    D.DBD_ADD_ACCOUNTS: list_msg("add_accounts", ACCOUNT_REC),
    D.DBD_ADD_ASSOCS: list_msg("add_assocs", ASSOC_REC),
    D.DBD_ADD_CLUSTERS: list_msg("add_clusters", CLUSTER_REC),
    D.DBD_ADD_USERS: list_msg("add_users", USER_REC),
    D.DBD_ADD_QOS: list_msg("add_qos", QOS_REC),
    D.DBD_ADD_WCKEYS: list_msg("add_wckeys", WCKEY_REC),
    D.DBD_ADD_TRES: list_msg("add_tres", TRES_REC),
    D.DBD_ADD_ACCOUNT_COORDS: ACCT_COORD_MSG,
    D.DBD_REMOVE_ACCOUNT_COORDS: ACCT_COORD_MSG,
    D.DBD_MODIFY_ACCOUNTS: modify_msg("modify_accounts", ACCOUNT_COND, ACCOUNT_REC),
    D.DBD_MODIFY_ASSOCS: modify_msg("modify_assocs", ASSOC_COND, ASSOC_REC),
    D.DBD_MODIFY_CLUSTERS: modify_msg("modify_clusters", CLUSTER_COND, CLUSTER_REC),
    D.DBD_MODIFY_USERS: modify_msg("modify_users", USER_COND, USER_REC),
    D.DBD_MODIFY_QOS: modify_msg("modify_qos", QOS_COND, QOS_REC),
    D.DBD_REMOVE_ACCOUNTS: ACCOUNT_COND,
    D.DBD_REMOVE_ASSOCS: ASSOC_COND,
    D.DBD_REMOVE_CLUSTERS: CLUSTER_COND,
    D.DBD_REMOVE_USERS: USER_COND,
    D.DBD_REMOVE_QOS: QOS_COND,
    D.DBD_REMOVE_WCKEYS: WCKEY_COND,
}

# Reply body by message type (every request may also be answered with PERSIST_RC).
REPLIES = {
    D.PERSIST_RC: PERSIST_RC,
    D.DBD_GOT_JOBS: list_msg("got_jobs", JOB_REC),
    D.DBD_GOT_ASSOCS: list_msg("got_assocs", ASSOC_REC),
    D.DBD_GOT_PROBS: list_msg("got_probs", ASSOC_REC),
    D.DBD_GOT_USERS: list_msg("got_users", USER_REC),
    D.DBD_GOT_ACCOUNTS: list_msg("got_accounts", ACCOUNT_REC),
    D.DBD_GOT_QOS: list_msg("got_qos", QOS_REC),
    D.DBD_GOT_TRES: list_msg("got_tres", TRES_REC),
    D.DBD_GOT_CLUSTERS: list_msg("got_clusters", CLUSTER_REC),
    D.DBD_GOT_WCKEYS: list_msg("got_wckeys", WCKEY_REC),
    D.DBD_GOT_CONFIG: list_msg("got_config", CONFIG_KEY_PAIR),
    D.DBD_GOT_LIST: GOT_LIST,
    D.DBD_GOT_STATS: STATS_REC,
}

# Which reply type answers which request (besides PERSIST_RC).
REPLY_TO = {
    D.DBD_GET_JOBS_COND: D.DBD_GOT_JOBS,
    D.DBD_GET_ASSOCS: D.DBD_GOT_ASSOCS,
    D.DBD_GET_PROBS: D.DBD_GOT_PROBS,
    D.DBD_GET_USERS: D.DBD_GOT_USERS,
    D.DBD_GET_ACCOUNTS: D.DBD_GOT_ACCOUNTS,
    D.DBD_GET_QOS: D.DBD_GOT_QOS,
    D.DBD_GET_TRES: D.DBD_GOT_TRES,
    D.DBD_GET_CLUSTERS: D.DBD_GOT_CLUSTERS,
    D.DBD_GET_WCKEYS: D.DBD_GOT_WCKEYS,
    D.DBD_GET_CONFIG: D.DBD_GOT_CONFIG,
    D.DBD_GET_STATS: D.DBD_GOT_STATS,
    **{t: D.DBD_GOT_LIST for t in (
        D.DBD_MODIFY_ACCOUNTS, D.DBD_MODIFY_ASSOCS, D.DBD_MODIFY_CLUSTERS,
        D.DBD_MODIFY_USERS, D.DBD_MODIFY_QOS, D.DBD_REMOVE_ACCOUNTS, D.DBD_REMOVE_ASSOCS,
        D.DBD_REMOVE_CLUSTERS, D.DBD_REMOVE_USERS, D.DBD_REMOVE_QOS, D.DBD_REMOVE_WCKEYS,
        D.DBD_REMOVE_ACCOUNT_COORDS)},
}

# Requests that change the database: only after one of these does DBD_FINI commit.
WRITES = frozenset({
    D.DBD_ADD_ACCOUNTS, D.DBD_ADD_ASSOCS, D.DBD_ADD_CLUSTERS, D.DBD_ADD_USERS,
    D.DBD_ADD_QOS, D.DBD_ADD_WCKEYS, D.DBD_ADD_TRES, D.DBD_ADD_ACCOUNT_COORDS,
    D.DBD_REMOVE_ACCOUNT_COORDS, D.DBD_MODIFY_ACCOUNTS, D.DBD_MODIFY_ASSOCS,
    D.DBD_MODIFY_CLUSTERS, D.DBD_MODIFY_USERS, D.DBD_MODIFY_QOS, D.DBD_REMOVE_ACCOUNTS,
    D.DBD_REMOVE_ASSOCS, D.DBD_REMOVE_CLUSTERS, D.DBD_REMOVE_USERS, D.DBD_REMOVE_QOS,
    D.DBD_REMOVE_WCKEYS,
})

#: What a client of this release's slurmdbd uses (``SlurmVersion.dbd`` of ``v22_05``).
TABLES = DbdTables("22.05", PROTOCOL_VERSION, persist_init=PERSIST_INIT_REQ,
                   requests=REQUESTS, replies=REPLIES, reply_to=REPLY_TO, writes=WRITES,
                   no_change={"qos": QOS_REC_NO_CHANGE, "assoc": ASSOC_REC_NO_CHANGE})
