"""Slurm 24.11 (protocol 0x2A00): what changed since 22.05, as ``Struct`` tables, and the
``SlurmVersion`` derived from 22.05's (``VERSION``).

Facts from Slurm's source at tag ``slurm-24-11-5-1`` (``src/common/slurm_protocol_pack.c``,
``job_resources.c``, ``interfaces/acct_gather_energy.c``, ``interfaces/select.c``); each
reply table is checked against a live 24.11 slurmctld by decoding its replies to the last
byte (``tests/test_wire_v24_11_live.py``). The message type numbers we use are unchanged;
the header's fixed fields too (only its forward block gained ``tree_depth``), and so is the
auth/jwt credential (token, user name).

Fields 24.11 no longer sends (a job's ``power_flags`` and ``select_jobinfo``, a node's
``ext_sensors`` and ``power``, ...) are absent from its records; fields only 24.11 sends
(``container_id``, ``oom_kill_step``, ``resume_after``, ...) are additions under Slurm's
member names. What the records mean is the API room's business.
"""

from slurmrest.wire import primitives as P
from slurmrest.wire.msgtypes import MsgType as M
from slurmrest.wire.schema import (
    BITSTR, STR, TIME, U8, U16, U32, U32_ARRAY, AbsentIf, Constant, Counted, Sparse, Translated, List, Optional,
    Struct, struct,
)
from slurmrest.wire.tables import dbd_v24_11
from slurmrest.wire.tables import v22_05 as OLD

PROTOCOL_VERSION = 42 << 8  # 0x2A00 = 10752: SLURM_24_11_PROTOCOL_VERSION

# -- header: the forward block gained tree_depth (pack_header) --------------------------------

FORWARD = struct("forward", """
    nodelist    str
    timeout     u32
    tree_width  u16
    tree_depth  u16
""")

# -- pack_step_id: the step's sluid first (0 = none) ---------------------------------------

STEP_ID = struct("step_id", """
    sluid           u64 0
    job_id          u32 NO_VAL
    step_id         u32 NO_VAL
    step_het_comp   u32 NO_VAL
""")

JOB_STEP_KILL = OLD.JOB_STEP_KILL.replace(change=(("step_id", ("step_id", STEP_ID)),))
JOB_STEP_INFO_REQUEST = OLD.JOB_STEP_INFO_REQUEST.replace(
    change=(("step_id", ("step_id", STEP_ID)),))

# -- jobs (_unpack_job_info_members, unpack_job_resources) -----------------------------------

JOB_RESOURCES_DATA = OLD.JOB_RESOURCES_DATA.replace(insert=(
    ("ncpus", ("next_step_node_inx", U32)),
    ("core_bitmap_used", ("node_bitmap", BITSTR)),
))
JOB_RESOURCES = AbsentIf(JOB_RESOURCES_DATA, P.NO_VAL)

FED_DETAILS = struct("job_fed_details", """
    fed_origin_str          str
    fed_siblings_active     u64
    fed_siblings_active_str str
    fed_siblings_viable     u64
    fed_siblings_viable_str str
""")

# job_record_pack_details_common and the rest of the details (when the job has them)
JOB_DETAILS = struct("job_details", """
    accrue_time             time
    eligible_time           time
    cluster_features        str
    cpu_freq_gov            u32
    cpu_freq_max            u32
    cpu_freq_min            u32
    dependency              str
    job_size_str            bitstr
    nice                    u32     # biased by NICE_OFFSET
    ntasks_per_node         u16
    ntasks_per_tres         u16
    requeue                 u16
    submit_time             time
    work_dir                str
    features                str
    prefer                  str
    command                 str
    num_cpus                u32
    max_cpus                u32
    num_nodes               u32
    max_nodes               u32
    num_tasks               u32
    shared                  u16
    cronspec                str
""")
# ... or, for a job without details, only these
JOB_NO_DETAILS = struct("job_no_details", """
    num_cpus                u32
    num_nodes               u32
    nice                    u32
""")

# enum job_state_reason: 24.11 numbers that mean another reason (or none) in 22.05, mapped
# to ``enums.LATER_JOB_REASONS``' numbers (slurm.h at both tags).
STATE_REASONS = {
    33: 1033,  # FAIL_SIGNAL
    34: 1034,  # DEFUNCT_WAIT_34
    76: 1076,  # DEFUNCT_WAIT_76
    77: 1077,  # DEFUNCT_WAIT_77
    199: 1199,  # WAIT_RESV_INVALID
    200: 1200,  # FAIL_CONSTRAINTS
    201: 1201,  # WAIT_QOS_MAX_BB_RUN_MINS_PER_ACCT
    202: 1202,  # WAIT_QOS_MAX_BILLING_RUN_MINS_PER_ACCT
    203: 1203,  # WAIT_QOS_MAX_CPU_RUN_MINS_PER_ACCT
    204: 1204,  # WAIT_QOS_MAX_ENERGY_RUN_MINS_PER_ACCT
    205: 1205,  # WAIT_QOS_MAX_GRES_RUN_MINS_PER_ACCT
    206: 1206,  # WAIT_QOS_MAX_NODE_RUN_MINS_PER_ACCT
    207: 1207,  # WAIT_QOS_MAX_LIC_RUN_MINS_PER_ACCT
    208: 1208,  # WAIT_QOS_MAX_MEM_RUN_MINS_PER_ACCT
    209: 1209,  # WAIT_QOS_MAX_UNK_RUN_MINS_PER_ACCT
    210: 1210,  # WAIT_QOS_MAX_BB_RUN_MINS_PER_USER
    211: 1211,  # WAIT_QOS_MAX_BILLING_RUN_MINS_PER_USER
    212: 1212,  # WAIT_QOS_MAX_CPU_RUN_MINS_PER_USER
    213: 1213,  # WAIT_QOS_MAX_ENERGY_RUN_MINS_PER_USER
    214: 1214,  # WAIT_QOS_MAX_GRES_RUN_MINS_PER_USER
    215: 1215,  # WAIT_QOS_MAX_NODE_RUN_MINS_PER_USER
    216: 1216,  # WAIT_QOS_MAX_LIC_RUN_MINS_PER_USER
    217: 1217,  # WAIT_QOS_MAX_MEM_RUN_MINS_PER_USER
    218: 1218,  # WAIT_QOS_MAX_UNK_RUN_MINS_PER_USER
    219: 1219,  # WAIT_MAX_POWERED_NODES
    220: 1220,  # WAIT_MPI_PORTS_BUSY
}

JOB_RECORD = struct("job_record", """
    account                 str
    admin_comment           str
    alloc_node              str
    alloc_sid               u32
    array_job_id            u32
    array_task_id           u32
    assoc_id                u32
    batch_features          str
    batch_flag              u16
    batch_host              str
    bitflags                u64     # BACKFILL_LAST is set client-side by libslurm
    burst_buffer            str
    burst_buffer_state      str
    billable_tres           double
    comment                 str
    container               str
    container_id            str
    cpus_per_tres           str
    deadline                time
    delay_boot              u32
    derived_ec              u32
    exit_code               u32
    extra                   str
    failed_node             str
    fed_details             fed_details
    gres_total              str
    group_id                u32
    het_job_id              u32
    het_job_id_set          str
    het_job_offset          u32
    job_id                  u32
    job_state               u32
    last_sched_eval         time
    licenses                str
    mail_type               u16
    mail_user               str
    mcs_label               str
    mem_per_tres            str
    name                    str
    network                 str
    preempt_time            time
    pre_sus_time            time
    priority                u32
    profile                 u32
    reboot                  u8
    req_switch              u32
    resize_time             time
    restart_cnt             u16
    resv_name               str
    resv_ports              str
    selinux_context         str
    site_factor             u32     # biased by NICE_OFFSET
    start_protocol_ver      u16
    state_desc              str
    state_reason            reason  # u32 (u16 in 22.05), see STATE_REASONS
    suspend_time            time
    system_comment          str
    time_min                u32
    tres_bind               str
    tres_alloc_str          str
    tres_req_str            str
    tres_freq               str
    tres_per_job            str
    tres_per_node           str
    tres_per_socket         str
    tres_per_task           str
    user_id                 u32
    user_name               str
    wait4switch             u32
    wckey                   str
    array_task_str          str     # hex bitmap of pending task ids (meta record only)
    array_max_tasks         u32
    time_limit              u32
    start_time              time
    end_time                time
    priority_array          u32[]
    priority_array_names    str
    cluster                 str
    nodes                   str
    sched_nodes             str
    partition               str
    qos                     str
    preemptable_time        time
    job_resrcs              job_resources   # just u32 NO_VAL without SHOW_DETAIL
    gres_detail_str         str[]
    node_inx                bitstr
    details                 details
    contiguous              u16
    core_spec               u16
    cpus_per_task           u16
    pn_min_cpus             u16
    pn_min_memory           u64
    pn_min_tmp_disk         u32
    oom_kill_step           u16
    req_nodes               str
    req_node_inx            bitstr
    exc_nodes               str
    exc_node_inx            bitstr
    std_err                 str
    std_in                  str
    std_out                 str
    multi_core              multi_core
    show_flags              echoed  # not on the wire any more (see below)
""", job_resources=JOB_RESOURCES, multi_core=OLD.MULTI_CORE,
    echoed=Constant(OLD.JOB_SHOW_FLAGS), reason=Translated(U32, STATE_REASONS),
    fed_details=Optional(FED_DETAILS, flag=U8, present=1, absent=0, flatten=True),
    details=Optional(JOB_DETAILS, flag=U8, present=1, absent=0, flatten=True,
                     otherwise=JOB_NO_DETAILS))

# 22.05 echoed the request's show_flags in every job record; 24.11 does not. The records
# keep the key, with the flags our jobs RPCs send (``OLD.JOB_SHOW_FLAGS``).

JOB_INFO = OLD.JOB_INFO.replace(change=(
    ("records", ("records", Counted(JOB_RECORD, "record_count"))),))


# _pack_job_desc_msg: container_id, oom_kill_step, job_size_str, resv_port_cnt and
# segment_size added; power_flags and select_jobinfo gone. slurm_init_job_desc_msg now
# leaves user_id/group_id at SLURM_AUTH_NOBODY (99), which REQUEST_UPDATE_JOB takes for
# "no -u override" (NO_VAL there is an override, refused for non-administrators).
SLURM_AUTH_NOBODY = 99
JOB_DESC = OLD.JOB_DESC.replace(
    drop=("power_flags", "select_jobinfo"),
    change=(("user_id", ("user_id", U32, SLURM_AUTH_NOBODY)),
            ("group_id", ("group_id", U32, SLURM_AUTH_NOBODY))),
    insert=(("container", ("container_id", STR)),
            ("pn_min_memory", ("oom_kill_step", U16, P.NO_VAL16)),
            ("max_nodes", ("job_size_str", STR)),
            ("other_port", ("resv_port_cnt", U16, P.NO_VAL16)),
            ("crontab_entry", ("segment_size", U16, 0))))

JOB_DESC_LIST = Struct("job_desc_list", [
    ("job_descs", List(JOB_DESC, count=U16, null=None)),
])

JOB_ARRAY_RESPONSE = struct("job_array_resp", """
    job_array_count     u32
    entries             entries
""", entries=Counted(struct("job_array_error", """
    error_code      u32
    job_array_id    str
    err_msg         str
"""), "job_array_count"))

# -- nodes (_unpack_node_info_msg, _unpack_node_info_members, acct_gather_energy_unpack) -----

ACCT_GATHER_ENERGY = OLD.ACCT_GATHER_ENERGY.replace(insert=(
    ("poll_time", ("slurmd_start_time", TIME)),))

NODE_RECORD = OLD.NODE_RECORD.replace(
    drop=("ext_sensors", "power"),
    insert=(("tmp_disk", ("gpu_spec", STR)),
            ("weight", ("res_cores_per_gpu", U16)),
            ("reason_time", ("resume_after", TIME)),
            ("extra", ("instance_id", STR)),
            ("extra", ("instance_type", STR)),
            ("tres_fmt_str", ("resv_name", STR))),
    change=(("energy", ("energy", ACCT_GATHER_ENERGY)),))

# The records of nodes hidden from the caller are left out, their positions set in
# hidden_nodes (22.05 sent blank records there: so do the decoded ones).
NODE_INFO = struct("node_info", """
    record_count    u32
    last_update     time
    hidden_nodes    bitstr
    records         records
""", records=Sparse(NODE_RECORD, "record_count", "hidden_nodes"))

# _pack_update_node_msg: cert_token first, instance_id/instance_type, resume_after; no
# reason_uid.
UPDATE_NODE = struct("update_node", """
    cert_token      str
    comment         str
    cpu_bind        u32 0
    extra           str
    features        str
    features_act    str
    gres            str
    instance_id     str
    instance_type   str
    node_addr       str
    node_hostname   str
    node_names      str
    node_state      u32 NO_VAL
    reason          str
    resume_after    u32 NO_VAL
    weight          u32 NO_VAL
""")

# -- partitions, reservations, licenses ------------------------------------------------------

PARTITION_RECORD = OLD.PARTITION_RECORD.replace(
    insert=(("max_cpus_per_node", ("max_cpus_per_socket", U32)),),
    change=(("flags", ("flags", U32)),))   # u16 in 22.05
PARTITION_INFO = OLD.PARTITION_INFO.replace(change=(
    ("records", ("records", Counted(PARTITION_RECORD, "record_count"))),))

RESERVATION_RECORD = OLD.RESERVATION_RECORD.replace(
    insert=(("burst_buffer", ("comment", STR)),))   # resv_watts is still packed (unused)
RESERVATION_INFO = OLD.RESERVATION_INFO.replace(change=(
    ("records", ("records", Counted(RESERVATION_RECORD, "record_count"))),))

LICENSE_RECORD = OLD.LICENSE_RECORD.replace(insert=(
    ("remote", ("last_consumed", U32)),
    ("remote", ("last_deficit", U32)),
    ("remote", ("last_update", TIME)),
))
LICENSE_INFO = OLD.LICENSE_INFO.replace(change=(
    ("licenses", ("licenses", Counted(LICENSE_RECORD, "num_lic"))),))

# -- job steps (24.05 appended the stepmgr list) ---------------------------------------------

JOB_STEP_RECORD = OLD.JOB_STEP_RECORD.replace(
    drop=("select_jobinfo",),
    insert=(("container", ("container_id", STR)),),
    change=(("step_id", ("step_id", STEP_ID)),))
JOB_STEP_INFO = struct("job_step_info", """
    job_step_count  u32
    last_update     time
    steps           steps
    stepmgr_jobs    stepmgr
""", steps=Counted(JOB_STEP_RECORD, "job_step_count"),
    stepmgr=List(struct("stepmgr_job_info", """
        job_id      u32
        stepmgr     str
    """)))

# -- diag (_unpack_stats_response_msg) -------------------------------------------------------

STATS_PARTS = OLD.STATS_PARTS.replace(insert=(
    ("schedule_cycle_depth", ("schedule_exit", U32_ARRAY)),
    ("bf_backfilled_het_jobs", ("bf_exit", U32_ARRAY)),
))
RPC_QUEUE = struct("rpc_queue", """
    rpc_type_queued         u16[]
    rpc_type_dropped        u64[]
    rpc_type_cycle_last     u16[]
    rpc_type_cycle_max      u16[]
""")
STATS_RESPONSE = OLD.STATS_RESPONSE.replace(
    change=(("parts_packed", ("parts_packed", Optional(STATS_PARTS, flag=U32, present=1,
                                                       absent=0, flatten=True))),),
    insert=(("rpc_type_time", ("rpc_queue_enabled", Optional(
        RPC_QUEUE, flag=U8, present=None, absent=0, flatten=True))),))

# -- build info (_unpack_slurm_ctl_conf_msg): prolog/epilog are lists now --------------------

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
    control_addr                        str[]
    control_machine                     str[]
    cpu_freq_def                        u32
    cpu_freq_govs                       u32
    cred_type                           str
    data_parser_parameters              str
    def_mem_per_cpu                     u64
    debug_flags                         u64
    dependency_params                   str
    eio_timeout                         u16
    enforce_part_limits                 u16
    epilog                              str[]
    epilog_msg_time                     u32
    epilog_slurmctld                    str[]
    fed_params                          str
    first_job_id                        u32
    fs_dampening_factor                 u16
    get_env_timeout                     u16
    gres_plugins                        str
    group_time                          u16
    group_force                         u16
    gpu_freq_def                        str
    hash_plugin                         str
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
    job_defaults_list                   job_defaults
    job_file_append                     u16
    job_requeue                         u16
    job_submit_plugins                  str
    kill_on_bad_exit                    u16
    kill_wait                           u16
    launch_params                       str
    licenses                            str
    log_fmt                             u16
    max_array_sz                        u32
    max_batch_requeue                   u32
    max_dbd_msgs                        u32
    mail_domain                         str
    mail_prog                           str
    max_job_cnt                         u32
    max_job_id                          u32
    max_mem_per_cpu                     u64
    max_node_cnt                        u32
    max_step_cnt                        u32
    max_tasks_per_node                  u16
    mcs_plugin                          str
    mcs_plugin_params                   str
    min_job_age                         u32
    mpi_conf                            kv
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
    preempt_mode                        u16
    preempt_params                      str
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
    prolog                              str[]
    prolog_epilog_timeout               u16
    prolog_slurmctld                    str[]
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
    suspend_exc_states                  str
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
    tls_type                            str
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
""", kv=OLD.KEY_PAIR_LIST, job_defaults=OLD.JOB_DEFAULTS_LIST,
    plugin_params=OLD.PLUGIN_PARAMS_LIST)

# -- the release ------------------------------------------------------------------------------

BODIES = {
    M.RESPONSE_BUILD_INFO: BUILD_INFO,
    M.RESPONSE_STATS_INFO: STATS_RESPONSE,
    M.RESPONSE_JOB_INFO: JOB_INFO,
    M.REQUEST_JOB_STEP_INFO: JOB_STEP_INFO_REQUEST,
    M.RESPONSE_JOB_STEP_INFO: JOB_STEP_INFO,
    M.REQUEST_KILL_JOB: JOB_STEP_KILL,
    M.REQUEST_CANCEL_JOB_STEP: JOB_STEP_KILL,
    M.REQUEST_SUBMIT_BATCH_JOB: JOB_DESC,
    M.REQUEST_UPDATE_JOB: JOB_DESC,
    M.REQUEST_SUBMIT_BATCH_HET_JOB: JOB_DESC_LIST,
    M.RESPONSE_JOB_ARRAY_ERRORS: JOB_ARRAY_RESPONSE,
    M.REQUEST_UPDATE_NODE: UPDATE_NODE,
    M.REQUEST_DELETE_NODE: UPDATE_NODE,
    M.REQUEST_CREATE_NODE: UPDATE_NODE,
    M.RESPONSE_NODE_INFO: NODE_INFO,
    M.RESPONSE_PARTITION_INFO: PARTITION_INFO,
    M.RESPONSE_RESERVATION_INFO: RESERVATION_INFO,
    M.RESPONSE_LICENSE_INFO: LICENSE_INFO,
}

# A statistics reset is answered with a plain RC now (22.05: RESPONSE_STATS_INFO without
# its parts); the method returns that RC's body then.
RPCS = {
    "stats": OLD.VERSION.rpcs["stats"]._replace(
        replies=(M.RESPONSE_STATS_INFO, M.RESPONSE_SLURM_RC)),
}

# slurmdbd 24.11's tables: tables/dbd_v24_11.py.
VERSION = OLD.VERSION.derive("24.11", PROTOCOL_VERSION, bodies=BODIES, rpcs=RPCS,
                             forward=FORWARD, dbd=dbd_v24_11.TABLES)
