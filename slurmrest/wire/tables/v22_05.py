"""Slurm 22.05 (protocol 0x2600): message bodies as ``Struct`` tables, the header, the named
RPCs, and the ``SlurmVersion`` that bundles them (``VERSION``, with slurmdbd's tables from
``dbd_v22_05``).

Transcribed from ``docs/slurm-22.05-ctld-protocol.md`` (§3.5, §5, Appendix C), which names the
Slurm pack/unpack function behind each table. Field names are Slurm's C member names; rows
appear in wire order. One line per field: ``name type [default]``; ``default`` is the value
``slurm_init_*`` gives a field (what ``pack`` sends when the caller leaves it out).

Client-side post-processing that libslurm does after unpacking is *not* done here (the API
room does it where slurmrestd shows it): RESPONSE_JOB_INFO's BACKFILL_LAST bit (§5.5), the
license ``available`` count (§5.9), SHOW_MIXED node states (§5.6), index pairs from the
bitmaps (``primitives.Bitmap.inx``), array_task_str's hex mask -> range text.
"""

from slurmrest.wire import enums, primitives as P
from slurmrest.wire.tables import dbd_v22_05
from slurmrest.wire.msgtypes import MsgType as M
from slurmrest.wire.schema import (
    STR, U8, U16, U32, AbsentIf, Counted, List, Optional, Struct, Tagged, Unsupported,
    struct,
)
from slurmrest.wire.versions import REQUIRED, Arg, Rpc, SlurmVersion

PROTOCOL_VERSION = P.SLURM_22_05_PROTOCOL_VERSION

# -- §3.5 composite pieces -------------------------------------------------------------------

STEP_ID = struct("step_id", """
    job_id          u32 NO_VAL
    step_id         u32 NO_VAL
    step_het_comp   u32 NO_VAL
""")

KEY_PAIR = struct("key_pair", """
    name    str
    value   str
""")
KEY_PAIR_LIST = List(KEY_PAIR)  # u32 count, NO_VAL = no list

PLUGIN_PARAMS = Struct("plugin_params", [("name", STR), ("key_pairs", KEY_PAIR_LIST)])
PLUGIN_PARAMS_LIST = List(PLUGIN_PARAMS)

JOB_DEFAULTS = struct("job_defaults", """
    type    u16
    value   u64
""")
JOB_DEFAULTS_LIST = List(JOB_DEFAULTS)

MULTI_CORE_DATA = struct("multi_core_data", """
    boards_per_node     u16
    sockets_per_board   u16
    sockets_per_node    u16
    cores_per_socket    u16
    threads_per_core    u16
    ntasks_per_board    u16
    ntasks_per_socket   u16
    ntasks_per_core     u16
    plane_size          u16
""")
MULTI_CORE = Optional(MULTI_CORE_DATA, flag=U8, present=0xFF, absent=0)

_EMPTY = Struct("no_plugin_data", [])
# cons_res, linear and cons_tres carry nothing after the plugin id. The Cray plugins (107,
# 108, 110) append data this codec does not describe: decoding them is a ProtocolError.
SELECT_JOBINFO = Tagged(
    "plugin_id",
    {P.SELECT_PLUGIN_CONS_RES: _EMPTY, P.SELECT_PLUGIN_LINEAR: _EMPTY,
     P.SELECT_PLUGIN_CONS_TRES: _EMPTY},
    # What libslurm sends is its local default plugin; the test cluster runs cons_tres.
    # A client should pass {"plugin_id": SELECT_PLUGIN_IDS[build_info["select_type"]]}.
    default={"plugin_id": P.SELECT_PLUGIN_CONS_TRES},
)

SELECT_NODEINFO_DATA = struct("select_nodeinfo", """
    alloc_cpus              u16
    alloc_memory            u64
    tres_alloc_fmt_str      str
    tres_alloc_weighted     double
""")
SELECT_NODEINFO = Tagged(
    "plugin_id",
    {P.SELECT_PLUGIN_CONS_RES: SELECT_NODEINFO_DATA,
     P.SELECT_PLUGIN_LINEAR: SELECT_NODEINFO_DATA,
     P.SELECT_PLUGIN_CONS_TRES: SELECT_NODEINFO_DATA},
    default={"plugin_id": P.SELECT_PLUGIN_CONS_TRES},
)

JOB_RESOURCES_DATA = struct("job_resources", """
    nhosts              u32     # NO_VAL here = no job_resources (AbsentIf below)
    ncpus               u32
    node_req            u32
    nodes               str
    whole_node          u8
    threads_per_core    u16
    cr_type             u16
    cpu_array_reps      u32[]
    cpu_array_value     u16[]
    cpus                u16[]
    cpus_used           u16[]
    memory_allocated    u64[]
    memory_used         u64[]
    sockets_per_node    u16[]
    cores_per_socket    u16[]
    sock_core_rep_count u32[]
    core_bitmap         bitstr
    core_bitmap_used    bitstr
""")
JOB_RESOURCES = AbsentIf(JOB_RESOURCES_DATA, P.NO_VAL)

ACCT_GATHER_ENERGY = struct("acct_gather_energy", """
    base_consumed_energy        u64
    ave_watts                   u32
    consumed_energy             u64
    current_watts               u32
    previous_consumed_energy    u64
    poll_time                   time
""")

EXT_SENSORS_DATA = struct("ext_sensors_data", """
    consumed_energy     u64
    temperature         u32
    energy_update_time  time
    current_watts       u32
""")

POWER_MGMT_DATA = struct("power_mgmt_data", """
    cap_watts   u32 NO_VAL
""")

CRON_ENTRY_DATA = struct("cron_entry", """
    flags           u32
    minute          bitstr
    hour            bitstr
    day_of_month    bitstr
    month           bitstr
    day_of_week     bitstr
    cronspec        str
    line_start      u32
    line_end        u32
""")
CRON_ENTRY = Optional(CRON_ENTRY_DATA, flag=U8, present=None, absent=0)  # u8 set

# -- §5.1 return codes -----------------------------------------------------------------------

RETURN_CODE = struct("return_code", """
    return_code     i32
""")
RETURN_CODE2 = struct("return_code2", """
    return_code     i32
    err_msg         str
""")

# -- §5.2 / §5.3 control status, statistics ------------------------------------------------

CONTROL_STATUS = struct("control_status", """
    backup_inx      u16
    control_time    time
""")

STATS_REQUEST = struct("stats_request", """
    command_id  u16 1   # STAT_COMMAND_GET
""")

STATS_PARTS = struct("stats_parts", """
    req_time                    time
    req_time_start              time
    server_thread_count         u32
    agent_queue_size            u32
    agent_count                 u32
    agent_thread_count          u32
    dbd_agent_queue_size        u32
    gettimeofday_latency        u32
    jobs_submitted              u32
    jobs_started                u32
    jobs_completed              u32
    jobs_canceled               u32
    jobs_failed                 u32
    jobs_pending                u32
    jobs_running                u32
    job_states_ts               time
    schedule_cycle_max          u32
    schedule_cycle_last         u32
    schedule_cycle_sum          u32
    schedule_cycle_counter      u32
    schedule_cycle_depth        u32
    schedule_queue_len          u32
    bf_backfilled_jobs          u32
    bf_last_backfilled_jobs     u32
    bf_cycle_counter            u32
    bf_cycle_sum                u64
    bf_cycle_last               u32
    bf_last_depth               u32
    bf_last_depth_try           u32
    bf_queue_len                u32
    bf_cycle_max                u32
    bf_when_last_cycle          time
    bf_depth_sum                u32
    bf_depth_try_sum            u32
    bf_queue_len_sum            u32
    bf_table_size               u32
    bf_table_size_sum           u32
    bf_active                   u32
    bf_backfilled_het_jobs      u32
""")

# parts_packed: 1 for GET (the rows of STATS_PARTS follow), 0 for RESET (they are absent and
# decode as None). The RPC counters follow in both cases.
STATS_RESPONSE = struct("stats_info", """
    parts_packed        parts
    rpc_type_size       u32
    rpc_type_id         u16[]
    rpc_type_cnt        u32[]
    rpc_type_time       u64[]
    rpc_user_size       u32
    rpc_user_id         u32[]
    rpc_user_cnt        u32[]
    rpc_user_time       u64[]
    rpc_queue_type_id   u32[]
    rpc_queue_count     u32[]
    rpc_dump_types      u32[]
    rpc_dump_hostlist   str[]
""", parts=Optional(STATS_PARTS, flag=U32, present=1, absent=0, flatten=True))

# -- §5.4 / §5.5 jobs ------------------------------------------------------------------------

JOB_INFO_REQUEST = struct("job_info_request", """
    last_update     time
    show_flags      u16
    job_ids         ids     # u32 count (NO_VAL = all jobs, what None packs) + ids
""", ids=List(U32))

JOB_ID_MSG = struct("job_id_msg", """
    job_id          u32
    show_flags      u16
""")

JOB_USER_REQUEST = struct("job_user_id_msg", """
    user_id         u32
    show_flags      u16
""")

JOB_RECORD = struct("job_record", """
    array_job_id            u32
    array_task_id           u32
    array_task_str          str     # hex bitmap of pending task ids (meta record only)
    array_max_tasks         u32
    assoc_id                u32
    container               str
    delay_boot              u32
    job_id                  u32
    user_id                 u32
    group_id                u32
    het_job_id              u32
    het_job_id_set          str
    het_job_offset          u32
    profile                 u32
    job_state               u32
    batch_flag              u16
    state_reason            u16
    power_flags             u8
    reboot                  u8
    restart_cnt             u16
    show_flags              u16
    deadline                time
    alloc_sid               u32
    time_limit              u32
    time_min                u32
    nice                    u32     # biased by NICE_OFFSET
    submit_time             time
    eligible_time           time
    accrue_time             time
    start_time              time
    end_time                time
    suspend_time            time
    pre_sus_time            time
    resize_time             time
    last_sched_eval         time
    preempt_time            time
    priority                u32
    billable_tres           double
    cluster                 str
    nodes                   str
    sched_nodes             str
    partition               str
    account                 str
    admin_comment           str
    site_factor             u32     # biased by NICE_OFFSET
    network                 str
    comment                 str
    container_dup           str     # container packed a second time (row 48); same value
    batch_features          str
    batch_host              str
    burst_buffer            str
    burst_buffer_state      str
    system_comment          str
    qos                     str
    preemptable_time        time
    licenses                str
    state_desc              str
    resv_name               str
    mcs_label               str
    exit_code               u32
    derived_ec              u32
    gres_total              str
    job_resrcs              job_resources   # just u32 NO_VAL without SHOW_DETAIL
    gres_detail_str         str[]
    name                    str
    user_name               str
    wckey                   str
    req_switch              u32
    wait4switch             u32
    alloc_node              str
    node_inx                bitstr
    select_jobinfo          select_jobinfo
    features                str
    prefer                  str     # 22.05 only
    cluster_features        str
    work_dir                str
    dependency              str
    command                 str
    num_cpus                u32
    max_cpus                u32
    num_nodes               u32
    max_nodes               u32
    requeue                 u16
    ntasks_per_node         u16
    ntasks_per_tres         u16
    num_tasks               u32
    shared                  u16
    cpu_freq_min            u32
    cpu_freq_max            u32
    cpu_freq_gov            u32
    cronspec                str
    contiguous              u16
    core_spec               u16
    cpus_per_task           u16
    pn_min_cpus             u16
    pn_min_memory           u64
    pn_min_tmp_disk         u32
    req_nodes               str
    req_node_inx            bitstr
    exc_nodes               str
    exc_node_inx            bitstr
    std_err                 str
    std_in                  str
    std_out                 str
    multi_core              multi_core
    bitflags                u64     # BACKFILL_LAST is set client-side by libslurm (§5.5)
    tres_alloc_str          str
    tres_req_str            str
    start_protocol_ver      u16
    fed_origin_str          str
    fed_siblings_active     u64
    fed_siblings_active_str str
    fed_siblings_viable     u64
    fed_siblings_viable_str str
    cpus_per_tres           str
    mem_per_tres            str
    tres_bind               str
    tres_freq               str
    tres_per_job            str
    tres_per_node           str
    tres_per_socket         str
    tres_per_task           str
    mail_type               u16
    mail_user               str
    selinux_context         str
""", job_resources=JOB_RESOURCES, select_jobinfo=SELECT_JOBINFO, multi_core=MULTI_CORE)

JOB_INFO = struct("job_info", """
    record_count    u32
    last_update     time
    last_backfill   time
    records         records
""", records=Counted(JOB_RECORD, "record_count"))


def _use_default_bits(record):
    """``_pack_job_desc_msg`` ORs USE_DEFAULT_* into bitflags for NULL account/partition/
    qos/wckey (§5.10); replicate it so slurmctld applies the user's defaults."""
    flags = record.get("bitflags", 0)
    for key, bit in (("account", P.USE_DEFAULT_ACCT), ("partition", P.USE_DEFAULT_PART),
                     ("qos", P.USE_DEFAULT_QOS), ("wckey", P.USE_DEFAULT_WCKEY)):
        if record.get(key) is None:
            flags |= bit
    return {**record, "bitflags": flags}


JOB_DESC = struct("job_desc", """
    site_factor         u32 NO_VAL
    batch_features      str
    cluster_features    str
    clusters            str
    contiguous          u16 NO_VAL16
    container           str
    core_spec           u16 NO_VAL16
    task_dist           u32 NO_VAL
    kill_on_node_fail   u16 NO_VAL16
    features            str
    fed_siblings_active u64 0
    fed_siblings_viable u64 0
    job_id              u32 NO_VAL
    job_id_str          str
    name                str
    alloc_node          str
    alloc_sid           u32 NO_VAL
    array_inx           str
    burst_buffer        str
    pn_min_cpus         u16 NO_VAL16
    pn_min_memory       u64 NO_VAL64
    pn_min_tmp_disk     u32 NO_VAL
    power_flags         u8  0
    prefer              str         # 22.05 only
    cpu_freq_min        u32 NO_VAL
    cpu_freq_max        u32 NO_VAL
    cpu_freq_gov        u32 NO_VAL
    partition           str
    priority            u32 NO_VAL
    dependency          str
    account             str
    admin_comment       str
    comment             str
    nice                u32 NO_VAL
    profile             u32 0
    qos                 str
    mcs_label           str
    origin_cluster      str
    open_mode           u8  0
    overcommit          u8  NO_VAL8
    acctg_freq          str
    num_tasks           u32 NO_VAL
    req_context         str
    req_nodes           str
    exc_nodes           str
    environment         str[]
    spank_job_env       str[]
    script              str
    argv                str[]
    std_err             str
    std_in              str
    std_out             str
    submit_line         str
    work_dir            str
    immediate           u16 0
    reboot              u16 NO_VAL16
    requeue             u16 NO_VAL16
    shared              u16 NO_VAL16
    cpus_per_task       u16 NO_VAL16
    ntasks_per_node     u16 NO_VAL16
    ntasks_per_board    u16 0
    ntasks_per_socket   u16 NO_VAL16
    ntasks_per_core     u16 NO_VAL16
    ntasks_per_tres     u16 NO_VAL16
    plane_size          u16 NO_VAL16
    cpu_bind_type       u16 NO_VAL16
    mem_bind_type       u16 NO_VAL16
    cpu_bind            str
    mem_bind            str
    time_limit          u32 NO_VAL
    time_min            u32 NO_VAL
    min_cpus            u32 NO_VAL
    max_cpus            u32 NO_VAL
    min_nodes           u32 NO_VAL
    max_nodes           u32 NO_VAL
    boards_per_node     u16 0
    sockets_per_board   u16 0
    sockets_per_node    u16 NO_VAL16
    cores_per_socket    u16 NO_VAL16
    threads_per_core    u16 NO_VAL16
    user_id             u32 NO_VAL
    group_id            u32 NO_VAL
    alloc_resp_port     u16 0
    resp_host           str
    other_port          u16 0
    network             str
    begin_time          time 0
    end_time            time 0
    deadline            time 0
    licenses            str
    mail_type           u16 NO_VAL16
    mail_user           str
    reservation         str
    restart_cnt         u16 0
    warn_flags          u16 0
    warn_signal         u16 0
    warn_time           u16 0
    wckey               str
    req_switch          u32 NO_VAL
    wait4switch         u32 NO_VAL
    select_jobinfo      select_jobinfo
    wait_all_nodes      u16 NO_VAL16
    bitflags            u64 0       # plus USE_DEFAULT_* from _use_default_bits
    delay_boot          u32 NO_VAL
    extra               str
    x11                 u16 0
    x11_magic_cookie    str
    x11_target          str
    x11_target_port     u16 0
    cpus_per_tres       str
    mem_per_tres        str
    tres_bind           str
    tres_freq           str
    tres_per_job        str
    tres_per_node       str
    tres_per_socket     str
    tres_per_task       str
    crontab_entry       cron_entry  # None = u8 0
""", prepare=_use_default_bits, select_jobinfo=SELECT_JOBINFO, cron_entry=CRON_ENTRY)

JOB_DESC_LIST = Struct("job_desc_list", [
    ("job_descs", List(JOB_DESC, count=U16, null=None)),  # u16 count, leader first
])

SUBMIT_RESPONSE = struct("submit_response", """
    job_id                  u32
    step_id                 u32
    error_code              u32
    job_submit_user_msg     str
""")

JOB_ARRAY_RESPONSE = struct("job_array_resp", """
    job_array_count     u32
    entries             entries
""", entries=Counted(struct("job_array_error", """
    error_code      u32
    job_array_id    str
"""), "job_array_count"))

JOB_STEP_KILL = struct("job_step_kill", """
    step_id     step_id
    sjob_id     str     # REQUEST_KILL_JOB: required job spec ("123", "123_7", ...)
    sibling     str
    signal      u16 9
    flags       u16 0
""", step_id=STEP_ID)

# -- §5.6 nodes ------------------------------------------------------------------------------

NODE_INFO_REQUEST = struct("node_info_request", """
    last_update     time
    show_flags      u16
""")

NODE_INFO_SINGLE = struct("node_info_single", """
    node_name       str
    show_flags      u16
""")

NODE_RECORD = struct("node_record", """
    name                str     # NULL for a blank (hidden) slot; keep its position
    node_hostname       str
    node_addr           str
    bcast_address       str
    port                u16
    next_state          u32
    node_state          u32
    version             str
    cpus                u16
    boards              u16
    sockets             u16
    cores               u16
    threads             u16
    real_memory         u64
    tmp_disk            u32
    mcs_label           str
    owner               u32
    core_spec_cnt       u16
    cpu_bind            u32
    mem_spec_limit      u64
    cpu_spec_list       str
    cpus_efctv          u16     # 22.05 only
    cpu_load            u32
    free_mem            u64
    weight              u32
    reason_uid          u32
    boot_time           time
    last_busy           time
    reason_time         time
    slurmd_start_time   time
    select_nodeinfo     select_nodeinfo
    arch                str
    features            str
    features_act        str
    gres                str
    gres_drain          str
    gres_used           str
    os                  str
    comment             str
    extra               str
    reason              str
    energy              energy
    ext_sensors         ext_sensors
    power               power
    tres_fmt_str        str
""", select_nodeinfo=SELECT_NODEINFO, energy=ACCT_GATHER_ENERGY, ext_sensors=EXT_SENSORS_DATA,
    power=POWER_MGMT_DATA)

NODE_INFO = struct("node_info", """
    record_count    u32
    last_update     time
    records         records
""", records=Counted(NODE_RECORD, "record_count"))

UPDATE_NODE = struct("update_node", """
    comment         str
    cpu_bind        u32 0
    extra           str
    features        str
    features_act    str
    gres            str
    node_addr       str
    node_hostname   str
    node_names      str
    node_state      u32 NO_VAL
    reason          str
    reason_uid      u32 0
    weight          u32 NO_VAL
""")

# -- §5.7 partitions -------------------------------------------------------------------------

PART_INFO_REQUEST = struct("part_info_request", """
    last_update     time
    show_flags      u16
""")

PARTITION_RECORD = struct("partition_record", """
    name                str
    cpu_bind            u32
    grace_time          u32
    max_time            u32
    default_time        u32
    max_nodes           u32
    min_nodes           u32
    total_nodes         u32
    total_cpus          u32
    def_mem_per_cpu     u64
    max_cpus_per_node   u32
    max_mem_per_cpu     u64
    flags               u16
    max_share           u16
    over_time_limit     u16
    preempt_mode        u16
    priority_job_factor u16
    priority_tier       u16
    state_up            u16
    cr_type             u16
    resume_timeout      u16
    suspend_timeout     u16
    suspend_time        u32
    allow_accounts      str
    allow_groups        str
    allow_alloc_nodes   str
    allow_qos           str
    qos_char            str
    alternate           str
    deny_accounts       str
    deny_qos            str
    nodes               str
    nodesets            str     # 22.05 only
    node_inx            bitstr
    billing_weights_str str
    tres_fmt_str        str
    job_defaults_list   job_defaults
""", job_defaults=JOB_DEFAULTS_LIST)

PARTITION_INFO = struct("partition_info", """
    record_count    u32
    last_update     time
    records         records
""", records=Counted(PARTITION_RECORD, "record_count"))

# -- §5.8 reservations -----------------------------------------------------------------------

RESV_INFO_REQUEST = struct("resv_info_request", """
    last_update     time
""")

RESERVATION_RECORD = struct("reservation_record", """
    accounts        str
    burst_buffer    str
    core_cnt        u32
    end_time        time
    features        str
    flags           u64
    licenses        str
    max_start_delay u32
    name            str
    node_cnt        u32
    node_list       str
    partition       str
    purge_comp_time u32
    resv_watts      u32
    start_time      time
    tres_str        str
    users           str
    groups          str
    node_inx        bitstr
    core_spec_cnt   u32
    core_spec       core_spec
""", core_spec=Counted(struct("resv_core_spec", """
    node_name   str
    core_id     str
"""), "core_spec_cnt"))

RESERVATION_INFO = struct("reservation_info", """
    record_count    u32
    last_update     time
    records         records
""", records=Counted(RESERVATION_RECORD, "record_count"))

# -- §5.9 licenses ---------------------------------------------------------------------------

LICENSE_INFO_REQUEST = struct("license_info_request", """
    last_update     time
    show_flags      u16
""")

LICENSE_RECORD = struct("license_record", """
    name        str
    total       u32
    in_use      u32
    reserved    u32
    remote      u8      # `available` (total - in_use, floor 0) is computed client-side
""")

LICENSE_INFO = struct("license_info", """
    num_lic         u32
    last_update     time
    licenses        licenses
""", licenses=Counted(LICENSE_RECORD, "num_lic"))

# -- §5.16 job steps -------------------------------------------------------------------------

JOB_STEP_INFO_REQUEST = struct("job_step_info_request", """
    last_update     time
    step_id         step_id
    show_flags      u16
""", step_id=STEP_ID)

JOB_STEP_RECORD = struct("job_step_record", """
    array_job_id        u32
    array_task_id       u32
    step_id             step_id
    user_id             u32
    num_cpus            u32
    cpu_freq_min        u32
    cpu_freq_max        u32
    cpu_freq_gov        u32
    num_tasks           u32
    task_dist           u32
    time_limit          u32
    state               u32
    srun_pid            u32
    start_time          time
    run_time            time
    cluster             str
    container           str
    partition           str
    srun_host           str
    resv_ports          str
    nodes               str
    name                str
    network             str
    node_inx            bitstr
    select_jobinfo      select_jobinfo
    tres_alloc_str      str
    start_protocol_ver  u16
    cpus_per_tres       str
    mem_per_tres        str
    submit_line         str
    tres_bind           str
    tres_freq           str
    tres_per_step       str
    tres_per_node       str
    tres_per_socket     str
    tres_per_task       str
""", step_id=STEP_ID, select_jobinfo=SELECT_JOBINFO)

JOB_STEP_INFO = struct("job_step_info", """
    job_step_count  u32     # 22.05: count first, then time (21.08 has them the other way)
    last_update     time
    steps           steps
""", steps=Counted(JOB_STEP_RECORD, "job_step_count"))

# -- §5.17 build info (Appendix C) -----------------------------------------------------------

LAST_UPDATE = struct("last_update_msg", """
    last_update     time
""")

BUILD_INFO = struct("slurm_conf", """
    last_update                         time
    accounting_storage_enforce          u16
    accounting_storage_backup_host      str
    accounting_storage_host             str
    accounting_storage_ext_host         str
    accounting_storage_params           str
    accounting_storage_port             u16
    accounting_storage_tres             str
    accounting_storage_type             str
    accounting_storage_user             str
    acct_gather_conf                    kv
    acct_gather_energy_type             str
    acct_gather_filesystem_type         str
    acct_gather_interconnect_type       str
    acct_gather_node_freq               u16
    acct_gather_profile_type            str
    authalttypes                        str
    authalt_params                      str
    authinfo                            str
    authtype                            str
    batch_start_timeout                 u16
    boot_time                           time
    bb_type                             str
    bcast_exclude                       str
    bcast_parameters                    str
    cgroup_conf                         kv
    cli_filter_plugins                  str
    cluster_name                        str
    comm_params                         str
    complete_wait                       u16
    conf_flags                          u32
    control_addr                        str[]   # its count is control_cnt
    control_machine                     str[]
    core_spec_plugin                    str
    cpu_freq_def                        u32
    cpu_freq_govs                       u32
    cred_type                           str
    def_mem_per_cpu                     u64
    debug_flags                         u64
    dependency_params                   str
    eio_timeout                         u16
    enforce_part_limits                 u16
    epilog                              str
    epilog_msg_time                     u32
    epilog_slurmctld                    str
    ext_sensors_conf                    kv
    ext_sensors_type                    str
    ext_sensors_freq                    u16
    fed_params                          str
    first_job_id                        u32
    fs_dampening_factor                 u16
    get_env_timeout                     u16
    gres_plugins                        str
    group_time                          u16
    group_force                         u16
    gpu_freq_def                        str
    hash_val                            u32
    health_check_interval               u16
    health_check_node_state             u16
    health_check_program                str
    inactive_limit                      u16
    interactive_step_opts               str
    job_acct_gather_freq                str
    job_acct_gather_type                str
    job_acct_gather_params              str
    job_comp_host                       str
    job_comp_loc                        str
    job_comp_params                     str
    job_comp_port                       u32
    job_comp_type                       str
    job_comp_user                       str
    job_container_plugin                str
    job_credential_private_key          str
    job_credential_public_certificate   str
    job_defaults_list                   job_defaults
    job_file_append                     u16
    job_requeue                         u16
    job_submit_plugins                  str
    kill_on_bad_exit                    u16
    kill_wait                           u16
    launch_params                       str
    launch_type                         str
    licenses                            str
    log_fmt                             u16
    max_array_sz                        u32
    max_dbd_msgs                        u32
    mail_domain                         str
    mail_prog                           str
    max_job_cnt                         u32
    max_job_id                          u32
    max_mem_per_cpu                     u64
    max_node_cnt                        u32     # 22.05 only
    max_step_cnt                        u32
    max_tasks_per_node                  u16
    mcs_plugin                          str
    mcs_plugin_params                   str
    min_job_age                         u32
    mpi_conf                            kv      # 22.05 only
    mpi_default                         str
    mpi_params                          str
    msg_timeout                         u16
    next_job_id                         u32
    node_features_conf                  plugin_params
    node_features_plugins               str
    node_prefix                         str
    over_time_limit                     u16
    plugindir                           str
    plugstack                           str
    power_parameters                    str
    power_plugin                        str
    preempt_mode                        u16
    preempt_type                        str
    preempt_exempt_time                 u32
    prep_params                         str
    prep_plugins                        str
    priority_decay_hl                   u32
    priority_calc_period                u32
    priority_favor_small                u16
    priority_flags                      u16
    priority_max_age                    u32
    priority_params                     str
    priority_reset_period               u16
    priority_type                       str
    priority_weight_age                 u32
    priority_weight_assoc               u32
    priority_weight_fs                  u32
    priority_weight_js                  u32
    priority_weight_part                u32
    priority_weight_qos                 u32
    priority_weight_tres                str
    private_data                        u16
    proctrack_type                      str
    prolog                              str
    prolog_epilog_timeout               u16
    prolog_slurmctld                    str
    prolog_flags                        u16
    propagate_prio_process              u16
    propagate_rlimits                   str
    propagate_rlimits_except            str
    reboot_program                      str
    reconfig_flags                      u16
    requeue_exit                        str
    requeue_exit_hold                   str
    resume_fail_program                 str
    resume_program                      str
    resume_rate                         u16
    resume_timeout                      u16
    resv_epilog                         str
    resv_over_run                       u16
    resv_prolog                         str
    ret2service                         u16
    route_plugin                        str
    sched_params                        str
    sched_logfile                       str
    sched_log_level                     u16
    sched_time_slice                    u16
    schedtype                           str
    scron_params                        str
    select_type                         str
    select_conf_key_pairs               kv
    select_type_param                   u16
    slurm_conf                          str
    slurm_user_id                       u32
    slurm_user_name                     str
    slurmd_user_id                      u32
    slurmd_user_name                    str
    slurmctld_addr                      str
    slurmctld_debug                     u16
    slurmctld_logfile                   str
    slurmctld_params                    str
    slurmctld_pidfile                   str
    slurmctld_plugstack                 str
    slurmctld_plugstack_conf            plugin_params
    slurmctld_port                      u32
    slurmctld_port_count                u16
    slurmctld_primary_off_prog          str
    slurmctld_primary_on_prog           str
    slurmctld_syslog_debug              u16
    slurmctld_timeout                   u16
    slurmd_debug                        u16
    slurmd_logfile                      str
    slurmd_params                       str
    slurmd_pidfile                      str
    slurmd_port                         u32
    slurmd_spooldir                     str
    slurmd_syslog_debug                 u16
    slurmd_timeout                      u16
    srun_epilog                         str
    srun_port_range[0]                  u16
    srun_port_range[1]                  u16
    srun_prolog                         str
    state_save_location                 str
    suspend_exc_nodes                   str
    suspend_exc_parts                   str
    suspend_program                     str
    suspend_rate                        u16
    suspend_time                        u32
    suspend_timeout                     u16
    switch_param                        str
    switch_type                         str
    task_epilog                         str
    task_prolog                         str
    task_plugin                         str
    task_plugin_param                   u32
    tcp_timeout                         u16
    tmp_fs                              str
    topology_param                      str
    topology_plugin                     str
    tree_width                          u16
    unkillable_program                  str
    unkillable_timeout                  u16
    version                             str
    vsize_factor                        u16
    wait_time                           u16
    x11_params                          str
""", kv=KEY_PAIR_LIST, job_defaults=JOB_DEFAULTS_LIST, plugin_params=PLUGIN_PARAMS_LIST)

# -- §5.18 / §5.19 federation, tokens --------------------------------------------------------

FEDERATION_REC = struct("federation", """
    name            str
    flags           u32
    cluster_list    clusters
""", clusters=Unsupported("federation cluster records are not supported"))

FED_INFO = Struct("fed_info", [
    # u8 0 = not federated (None); anything else is followed by the federation record.
    ("federation", Optional(FEDERATION_REC, flag=U8, present=None, absent=0)),
])

TOKEN_REQUEST = struct("token_request", """
    lifespan    u32 0
    username    str
""")

TOKEN_RESPONSE = struct("token_response", """
    token   str
""")

# -- message type -> body table (None = no body) ---------------------------------------------

BODIES = {
    M.REQUEST_PING: None,
    M.REQUEST_CONTROL_STATUS: None,
    M.RESPONSE_CONTROL_STATUS: CONTROL_STATUS,
    M.REQUEST_STATS_INFO: STATS_REQUEST,
    M.RESPONSE_STATS_INFO: STATS_RESPONSE,
    M.REQUEST_BUILD_INFO: LAST_UPDATE,
    M.RESPONSE_BUILD_INFO: BUILD_INFO,
    M.REQUEST_JOB_INFO: JOB_INFO_REQUEST,
    M.REQUEST_JOB_INFO_SINGLE: JOB_ID_MSG,
    M.REQUEST_JOB_USER_INFO: JOB_USER_REQUEST,
    M.RESPONSE_JOB_INFO: JOB_INFO,
    M.REQUEST_JOB_STEP_INFO: JOB_STEP_INFO_REQUEST,
    M.RESPONSE_JOB_STEP_INFO: JOB_STEP_INFO,
    M.REQUEST_SUBMIT_BATCH_JOB: JOB_DESC,
    M.REQUEST_UPDATE_JOB: JOB_DESC,
    M.REQUEST_SUBMIT_BATCH_HET_JOB: JOB_DESC_LIST,
    M.RESPONSE_SUBMIT_BATCH_JOB: SUBMIT_RESPONSE,
    M.RESPONSE_JOB_ARRAY_ERRORS: JOB_ARRAY_RESPONSE,
    M.REQUEST_KILL_JOB: JOB_STEP_KILL,
    M.REQUEST_CANCEL_JOB_STEP: JOB_STEP_KILL,
    M.REQUEST_UPDATE_NODE: UPDATE_NODE,
    M.REQUEST_DELETE_NODE: UPDATE_NODE,
    M.REQUEST_CREATE_NODE: UPDATE_NODE,
    M.REQUEST_NODE_INFO: NODE_INFO_REQUEST,
    M.REQUEST_NODE_INFO_SINGLE: NODE_INFO_SINGLE,
    M.RESPONSE_NODE_INFO: NODE_INFO,
    M.REQUEST_PARTITION_INFO: PART_INFO_REQUEST,
    M.RESPONSE_PARTITION_INFO: PARTITION_INFO,
    M.REQUEST_RESERVATION_INFO: RESV_INFO_REQUEST,
    M.RESPONSE_RESERVATION_INFO: RESERVATION_INFO,
    M.REQUEST_LICENSE_INFO: LICENSE_INFO_REQUEST,
    M.RESPONSE_LICENSE_INFO: LICENSE_INFO,
    M.REQUEST_FED_INFO: None,
    M.RESPONSE_FED_INFO: FED_INFO,
    M.REQUEST_AUTH_TOKEN: TOKEN_REQUEST,
    M.RESPONSE_AUTH_TOKEN: TOKEN_RESPONSE,
    M.RESPONSE_SLURM_RC: RETURN_CODE,
    M.RESPONSE_SLURM_RC_MSG: RETURN_CODE2,
}

# -- §1.2 the header's fixed start -----------------------------------------------------------

HEADER = struct("header", """
    version         u16
    flags           u16
    msg_type        u16
    body_length     u32
""")

#: The header's forward block, after ``forward.cnt`` when that is not 0 (§1.2).
FORWARD = struct("forward", """
    nodelist    str
    timeout     u32
    tree_width  u16
""")

# -- the named RPCs: what slurmrestd's libslurm calls send (§4.2) -----------------------------

JOB_SHOW_FLAGS = P.SHOW_ALL | P.SHOW_DETAIL | P.SHOW_LOCAL
NODE_SHOW_FLAGS = P.SHOW_ALL | P.SHOW_DETAIL
PARTITION_SHOW_FLAGS = P.SHOW_ALL | P.SHOW_LOCAL
STEP_SHOW_FLAGS = P.SHOW_ALL | P.SHOW_LOCAL
_ALL_STEPS = {"job_id": P.NO_VAL, "step_id": P.NO_VAL, "step_het_comp": P.NO_VAL}


def _stats_command(reset):
    return P.STAT_COMMAND_RESET if reset else P.STAT_COMMAND_GET


def _not(value):
    return not value


_BY_UPDATE_TIME = (("update_time", 0),)

RPCS = (
    Rpc("ping", M.REQUEST_PING, (M.RESPONSE_SLURM_RC,), (("index", 0),),
        result="return_code", controller=Arg("index"),
        doc="``REQUEST_PING`` to controller ``index``: its return code (0 = up).\n\n"
            "A controller that cannot be reached raises ``CommunicationError``."),
    Rpc("build_info", M.REQUEST_BUILD_INFO, (M.RESPONSE_BUILD_INFO,), _BY_UPDATE_TIME,
        {"last_update": Arg("update_time")}),
    Rpc("control_status", M.REQUEST_CONTROL_STATUS, (M.RESPONSE_CONTROL_STATUS,),
        (("index", 0),), controller=Arg("index")),
    # A read only with STAT_COMMAND_GET (a reset is a write): decided per call.
    Rpc("stats", M.REQUEST_STATS_INFO, (M.RESPONSE_STATS_INFO,), (("reset", False),),
        {"command_id": Arg("reset", _stats_command)}, shareable=Arg("reset", _not)),
    Rpc("licenses", M.REQUEST_LICENSE_INFO, (M.RESPONSE_LICENSE_INFO,), _BY_UPDATE_TIME,
        {"last_update": Arg("update_time"), "show_flags": 0}),
    Rpc("jobs", M.REQUEST_JOB_INFO, (M.RESPONSE_JOB_INFO,),
        (("update_time", 0), ("show_flags", JOB_SHOW_FLAGS)),
        {"last_update": Arg("update_time"), "show_flags": Arg("show_flags"), "job_ids": None}),
    Rpc("job", M.REQUEST_JOB_INFO_SINGLE, (M.RESPONSE_JOB_INFO,),
        (("job_id", REQUIRED), ("show_flags", JOB_SHOW_FLAGS)),
        {"job_id": Arg("job_id", int), "show_flags": Arg("show_flags")}),
    Rpc("job_user", M.REQUEST_JOB_USER_INFO, (M.RESPONSE_JOB_INFO,),
        (("uid", REQUIRED), ("show_flags", JOB_SHOW_FLAGS)),
        {"user_id": Arg("uid", int), "show_flags": Arg("show_flags")}),
    Rpc("job_steps", M.REQUEST_JOB_STEP_INFO, (M.RESPONSE_JOB_STEP_INFO,),
        (("job_id", P.NO_VAL), ("step_id", P.NO_VAL), ("update_time", 0),
         ("show_flags", STEP_SHOW_FLAGS)),
        {"last_update": Arg("update_time"),
         "step_id": {"job_id": Arg("job_id"), "step_id": Arg("step_id"),
                     "step_het_comp": P.NO_VAL},
         "show_flags": Arg("show_flags")}),
    Rpc("submit_batch", M.REQUEST_SUBMIT_BATCH_JOB, (M.RESPONSE_SUBMIT_BATCH_JOB,),
        (("desc", REQUIRED),), Arg("desc"), shareable=False),
    Rpc("submit_het", M.REQUEST_SUBMIT_BATCH_HET_JOB, (M.RESPONSE_SUBMIT_BATCH_JOB,),
        (("descs", REQUIRED),), {"job_descs": Arg("descs", list)}, shareable=False),
    Rpc("update_job", M.REQUEST_UPDATE_JOB,
        (M.RESPONSE_SLURM_RC, M.RESPONSE_SLURM_RC_MSG, M.RESPONSE_JOB_ARRAY_ERRORS),
        (("desc", REQUIRED),), Arg("desc"), result="message", shareable=False,
        doc="``REQUEST_UPDATE_JOB``: the reply ``Message`` (RC 0, or "
            "RESPONSE_JOB_ARRAY_ERRORS)."),
    Rpc("kill_job", M.REQUEST_KILL_JOB, (M.RESPONSE_SLURM_RC,),
        (("job_id_str", REQUIRED), ("signal", 9), ("flags", P.KILL_FULL_JOB)),
        {"step_id": _ALL_STEPS, "sjob_id": Arg("job_id_str", str), "sibling": None,
         "signal": Arg("signal"), "flags": Arg("flags")}, shareable=False),
    Rpc("nodes", M.REQUEST_NODE_INFO, (M.RESPONSE_NODE_INFO,),
        (("update_time", 0), ("show_flags", NODE_SHOW_FLAGS)),
        {"last_update": Arg("update_time"), "show_flags": Arg("show_flags")}),
    Rpc("node", M.REQUEST_NODE_INFO_SINGLE, (M.RESPONSE_NODE_INFO,),
        (("name", REQUIRED), ("show_flags", NODE_SHOW_FLAGS)),
        {"node_name": Arg("name"), "show_flags": Arg("show_flags")}),
    Rpc("update_node", M.REQUEST_UPDATE_NODE, (M.RESPONSE_SLURM_RC,), (("msg", REQUIRED),),
        Arg("msg"), shareable=False),
    Rpc("delete_node", M.REQUEST_DELETE_NODE, (M.RESPONSE_SLURM_RC,),
        (("names", REQUIRED),), {"node_names": Arg("names")}, shareable=False),
    Rpc("partitions", M.REQUEST_PARTITION_INFO, (M.RESPONSE_PARTITION_INFO,),
        (("update_time", 0), ("show_flags", PARTITION_SHOW_FLAGS)),
        {"last_update": Arg("update_time"), "show_flags": Arg("show_flags")}),
    Rpc("reservations", M.REQUEST_RESERVATION_INFO, (M.RESPONSE_RESERVATION_INFO,),
        _BY_UPDATE_TIME, {"last_update": Arg("update_time")}),
    Rpc("fed_info", M.REQUEST_FED_INFO, (M.RESPONSE_FED_INFO,)),
    Rpc("auth_token", M.REQUEST_AUTH_TOKEN, (M.RESPONSE_AUTH_TOKEN,),
        (("user", None), ("lifespan", 0)),
        {"lifespan": Arg("lifespan"), "username": Arg("user")}, shareable=False),
)

VERSION = SlurmVersion("22.05", PROTOCOL_VERSION, HEADER, BODIES, RPCS, enums,
                       dbd=dbd_v22_05.TABLES, forward=FORWARD)
