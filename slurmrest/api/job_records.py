"""A decoded ``RESPONSE_JOB_INFO`` job record → slurmrestd 22.05's v0.0.38 job document.

Field for field what ``dump_job_info()`` (``src/plugins/openapi/v0.0.38/jobs.c``) writes, with
the same names, JSON types and units, and the same key order. Deliberate corrections of
slurmrestd bugs are marked ``FIX`` (they are listed in NEWS).
"""

from __future__ import annotations

from slurmrest.api import convert, schemas, spellings
from slurmrest.api.convert import (INFINITE, INFINITE16, MEM_PER_CPU, NICE_OFFSET, NO_VAL,
                                   NO_VAL16, flag_names, text, unless)
from slurmrest.wire.enums import CR_CORE, CR_CPU, CR_SOCKET
from slurmrest.wire.primitives import CORE_SPEC_THREAD


#: Fields of the multi-core block (job record row 105) and the job document names they feed.
_MULTI_CORE = ("boards_per_node", "sockets_per_board", "sockets_per_node", "cores_per_socket",
               "threads_per_core", "ntasks_per_board", "ntasks_per_socket", "ntasks_per_core")


NODE_ALLOCATION_SCHEMA = schemas.fields(
    "nodename:s cpus_used:i memory_used:i memory_allocated:i",
    sockets={"type": "object", "description": "socket index → {cores: {core index → "
                                               "\"allocated\" | \"allocated_and_in_use\"}}"})

JOB_RESOURCES_SCHEMA = schemas.fields(
    "nodes:s allocated_cores:i allocated_cpus:i allocated_hosts:i",
    allocated_nodes={"type": "array",
                     "items": schemas.schema_ref("v0.0.38_node_allocation",
                                                 NODE_ALLOCATION_SCHEMA)})

JOB_SCHEMA = schemas.fields("""
    account:s accrue_time:i admin_comment:s array_job_id:i array_task_id:i? array_max_tasks:i
    array_task_string:s association_id:i batch_features:s batch_flag:b batch_host:s flags:[s]
    burst_buffer:s burst_buffer_state:s cluster:s cluster_features:s command:s comment:s
    container:s contiguous:b? core_spec:i? thread_spec:i? cores_per_socket:i? billable_tres:n?
    cpus_per_task:s? cpu_frequency_minimum:i? cpu_frequency_maximum:i?
    cpu_frequency_governor:i? cpus_per_tres:s deadline:i delay_boot:i? dependency:s
    derived_exit_code:i eligible_time:i end_time:i excluded_nodes:s exit_code:i features:s
    federation_origin:s federation_siblings_active:s federation_siblings_viable:s
    gres_detail:[s] group_id:i? group_name:s? job_id:i? job_state:s last_sched_evaluation:i
    licenses:s max_cpus:i? max_nodes:i? mcs_label:s memory_per_tres:s name:s nodes:s nice:i?
    tasks_per_core:i? tasks_per_node:i tasks_per_socket:i? tasks_per_board:i cpus:i?
    node_count:i tasks:i? het_job_id:i het_job_id_set:s het_job_offset:i partition:s prefer:s
    memory_per_node:i? memory_per_cpu:i? minimum_cpus_per_node:i minimum_tmp_disk_per_node:i
    preempt_time:i pre_sus_time:i priority:i? profile:[s]? qos:s reboot:b required_nodes:s
    requeue:b resize_time:i restart_cnt:i resv_name:s shared:s? show_flags:[s]
    sockets_per_board:i sockets_per_node:i? start_time:i state_description:s state_reason:s
    standard_error:s standard_input:s standard_output:s submit_time:i suspend_time:i
    system_comment:s time_limit:i? time_minimum:i? threads_per_core:i? tres_bind:s tres_freq:s
    tres_per_job:s tres_per_node:s tres_per_socket:s tres_per_task:s tres_req_str:s
    tres_alloc_str:s user_id:i user_name:s? wckey:s current_working_directory:s
""", job_resources=schemas.schema_ref("v0.0.38_job_resources", JOB_RESOURCES_SCHEMA))


_NO_MULTI_CORE = dict.fromkeys(_MULTI_CORE, 0)


def _multi_core(rec: dict) -> dict:
    """The multi-core values; libslurm leaves them 0 when the block is absent."""
    mc = rec.get("multi_core")
    return mc if isinstance(mc, dict) else _NO_MULTI_CORE


def _int_array(value, count: int) -> list:
    value = list(value or ())
    return value + [0] * (count - len(value))


def allocated_nodes(res: dict) -> list[dict]:
    """``_dump_nodes_res``: per allocated node, the cores of ``core_bitmap`` by socket."""
    nhosts = res.get("nhosts") or 0
    cores_per_socket = res.get("cores_per_socket") or []
    if not cores_per_socket or not nhosts:
        return []
    sockets_per_node = res.get("sockets_per_node") or []
    reps = res.get("sock_core_rep_count") or []
    names = convert.hostnames(res.get("nodes"))
    alloc = convert.bitmap_int(res.get("core_bitmap"))
    used = convert.bitmap_int(res.get("core_bitmap_used"))
    cpus_used = _int_array(res.get("cpus_used"), nhosts)
    mem_used = _int_array(res.get("memory_used"), nhosts)
    mem_alloc = _int_array(res.get("memory_allocated"), nhosts)
    out = []
    bit = 0
    sock_inx = sock_reps = 0
    for node_inx in range(nhosts):
        if sock_reps >= reps[sock_inx]:
            sock_inx += 1
            sock_reps = 0
        sock_reps += 1
        n_cores = cores_per_socket[sock_inx]
        sockets: dict = {}
        for i in range(sockets_per_node[sock_inx] * n_cores):
            if alloc >> bit & 1:
                cores = sockets.setdefault(str(i // n_cores), {"cores": {}})["cores"]
                cores[str(i % n_cores)] = (
                    "allocated_and_in_use" if used >> bit & 1 else "allocated")
            bit += 1
        out.append({
            "sockets": sockets,
            "nodename": names[node_inx] if node_inx < len(names) else "",
            "cpus_used": cpus_used[node_inx],
            "memory_used": mem_used[node_inx],
            "memory_allocated": mem_alloc[node_inx],
        })
    return out


def job_resources(res: dict, select_type_param: int | None = None) -> dict:
    """The ``job_resources`` object. ``allocated_cores`` or ``allocated_cpus`` follows the
    cluster's SelectTypeParameters (slurmrestd reads its own slurm.conf); without it, the
    job's allocation ``cr_type`` (the same bits unless a partition overrides them)."""
    cr = select_type_param if select_type_param is not None else res.get("cr_type", 0)
    doc = {"nodes": text(res.get("nodes"))}
    if cr & (CR_CORE | CR_SOCKET):
        doc["allocated_cores"] = res.get("ncpus", 0)
    elif cr & CR_CPU:
        doc["allocated_cpus"] = res.get("ncpus", 0)
    doc["allocated_hosts"] = res.get("nhosts", 0)
    doc["allocated_nodes"] = allocated_nodes(res)
    return doc


def _has_resources(res) -> bool:
    return isinstance(res, dict) and res.get("nhosts", NO_VAL) != NO_VAL


def job_document(rec: dict, select_type_param: int | None = None) -> dict:
    """One v0.0.38 job document from one decoded job record."""
    g = rec.get
    mc = _multi_core(rec)
    doc: dict = {}
    doc["account"] = text(g("account"))
    doc["accrue_time"] = g("accrue_time", 0)
    doc["admin_comment"] = text(g("admin_comment"))
    doc["array_job_id"] = g("array_job_id", 0)
    doc["array_task_id"] = unless(g("array_task_id", NO_VAL), NO_VAL)
    doc["array_max_tasks"] = g("array_max_tasks", 0)
    doc["array_task_string"] = text(convert.array_task_string(g("array_task_str"),
                                                              g("array_max_tasks", 0)))
    doc["association_id"] = g("assoc_id", 0)
    doc["batch_features"] = text(g("batch_features"))
    doc["batch_flag"] = g("batch_flag", 0) == 1
    doc["batch_host"] = text(g("batch_host"))
    doc["flags"] = flag_names(g("bitflags", 0), spellings.RESTD_JOB_FLAG_NAMES)
    doc["burst_buffer"] = text(g("burst_buffer"))
    doc["burst_buffer_state"] = text(g("burst_buffer_state"))
    doc["cluster"] = text(g("cluster"))
    doc["cluster_features"] = text(g("cluster_features"))
    doc["command"] = text(g("command"))
    doc["comment"] = text(g("comment"))
    doc["container"] = text(g("container"))
    contiguous = g("contiguous", 0)
    doc["contiguous"] = None if contiguous == NO_VAL16 else contiguous == 1
    core_spec = g("core_spec", NO_VAL16)
    # FIX: slurmrestd swaps the two (it reports the thread count as core_spec with the
    # CORE_SPEC_THREAD bit still set); we report cores as core_spec, threads as thread_spec.
    if core_spec == NO_VAL16:
        doc["core_spec"] = doc["thread_spec"] = None
    elif core_spec & CORE_SPEC_THREAD:
        doc["core_spec"] = None
        doc["thread_spec"] = core_spec & ~CORE_SPEC_THREAD
    else:
        doc["core_spec"] = core_spec
        doc["thread_spec"] = None
    doc["cores_per_socket"] = unless(mc.get("cores_per_socket", 0), NO_VAL16)
    billable = g("billable_tres", 0.0)
    doc["billable_tres"] = None if billable == float(NO_VAL) else float(billable)
    # FIX: slurmrestd tests cpu_freq_min here (so it is almost always null). A string, as
    # slurmrestd's own OpenAPI document declares it.
    cpus_per_task = g("cpus_per_task", NO_VAL16)
    doc["cpus_per_task"] = None if cpus_per_task == NO_VAL16 else str(cpus_per_task)
    # FIX: slurmrestd names the key "cpu_frequency_minumum" when a value is set.
    doc["cpu_frequency_minimum"] = unless(g("cpu_freq_min", NO_VAL), NO_VAL)
    doc["cpu_frequency_maximum"] = unless(g("cpu_freq_max", NO_VAL), NO_VAL)
    doc["cpu_frequency_governor"] = unless(g("cpu_freq_gov", NO_VAL), NO_VAL)
    doc["cpus_per_tres"] = text(g("cpus_per_tres"))
    doc["deadline"] = g("deadline", 0)
    doc["delay_boot"] = unless(g("delay_boot", 0), NO_VAL)
    doc["dependency"] = text(g("dependency"))
    doc["derived_exit_code"] = g("derived_ec", 0)
    doc["eligible_time"] = g("eligible_time", 0)
    doc["end_time"] = g("end_time", 0)
    doc["excluded_nodes"] = text(g("exc_nodes"))
    doc["exit_code"] = g("exit_code", 0)
    doc["features"] = text(g("features"))
    doc["federation_origin"] = text(g("fed_origin_str"))
    doc["federation_siblings_active"] = text(g("fed_siblings_active_str"))
    doc["federation_siblings_viable"] = text(g("fed_siblings_viable_str"))
    doc["gres_detail"] = [text(s) for s in (g("gres_detail_str") or ())]
    group_id = g("group_id", NO_VAL)
    if group_id == NO_VAL:
        doc["group_id"] = None
    else:
        doc["group_id"] = group_id
        doc["group_name"] = convert.group_name(group_id)
    doc["job_id"] = unless(g("job_id", NO_VAL), NO_VAL)
    res = g("job_resrcs")
    if _has_resources(res):
        doc["job_resources"] = job_resources(res, select_type_param)
    doc["job_state"] = spellings.restd_job_state(g("job_state", 0))
    doc["last_sched_evaluation"] = g("last_sched_eval", 0)
    doc["licenses"] = text(g("licenses"))
    doc["max_cpus"] = unless(g("max_cpus", 0), NO_VAL)
    doc["max_nodes"] = unless(g("max_nodes", 0), NO_VAL)
    doc["mcs_label"] = text(g("mcs_label"))
    doc["memory_per_tres"] = text(g("mem_per_tres"))
    doc["name"] = text(g("name"))
    doc["nodes"] = text(g("nodes"))
    nice = g("nice", NICE_OFFSET)
    doc["nice"] = None if nice in (NO_VAL, NICE_OFFSET) else nice - NICE_OFFSET
    doc["tasks_per_core"] = unless(mc.get("ntasks_per_core", 0), NO_VAL16, INFINITE16)
    doc["tasks_per_node"] = g("ntasks_per_node", 0)
    doc["tasks_per_socket"] = unless(mc.get("ntasks_per_socket", 0), NO_VAL16, INFINITE16)
    doc["tasks_per_board"] = mc.get("ntasks_per_board", 0)
    num_tasks = g("num_tasks", NO_VAL)
    known_tasks = num_tasks not in (NO_VAL, INFINITE)
    doc["cpus"] = g("num_cpus", 0) if known_tasks else None
    doc["node_count"] = g("num_nodes", 0)
    doc["tasks"] = num_tasks if known_tasks else None
    doc["het_job_id"] = g("het_job_id", 0)
    doc["het_job_id_set"] = text(g("het_job_id_set"))
    doc["het_job_offset"] = g("het_job_offset", 0)
    doc["partition"] = text(g("partition"))
    doc["prefer"] = text(g("prefer"))
    mem = g("pn_min_memory", 0)
    if mem & MEM_PER_CPU:
        doc["memory_per_node"] = None
        doc["memory_per_cpu"] = mem & ~MEM_PER_CPU
    elif mem:
        doc["memory_per_node"] = mem
        doc["memory_per_cpu"] = None
    else:
        doc["memory_per_node"] = doc["memory_per_cpu"] = None
    doc["minimum_cpus_per_node"] = g("pn_min_cpus", 0)
    doc["minimum_tmp_disk_per_node"] = g("pn_min_tmp_disk", 0)
    doc["preempt_time"] = g("preempt_time", 0)
    doc["pre_sus_time"] = g("pre_sus_time", 0)
    doc["priority"] = unless(g("priority", 0), NO_VAL, INFINITE)
    doc["profile"] = spellings.restd_profile_names(g("profile", 0))
    doc["qos"] = text(g("qos"))
    doc["reboot"] = bool(g("reboot", 0))
    doc["required_nodes"] = text(g("req_nodes"))
    doc["requeue"] = bool(g("requeue", 0))
    doc["resize_time"] = g("resize_time", 0)
    doc["restart_cnt"] = g("restart_cnt", 0)
    doc["resv_name"] = text(g("resv_name"))
    doc["shared"] = spellings.restd_job_shared(g("shared", NO_VAL16))
    doc["show_flags"] = flag_names(g("show_flags", 0), spellings.RESTD_SHOW_FLAG_NAMES)
    doc["sockets_per_board"] = mc.get("sockets_per_board", 0)
    doc["sockets_per_node"] = unless(mc.get("sockets_per_node", 0), NO_VAL16)
    doc["start_time"] = g("start_time", 0)
    doc["state_description"] = text(g("state_desc"))
    doc["state_reason"] = spellings.restd_job_reason(g("state_reason", 0))
    doc["standard_error"] = text(g("std_err"))
    doc["standard_input"] = text(g("std_in"))
    doc["standard_output"] = text(g("std_out"))
    doc["submit_time"] = g("submit_time", 0)
    doc["suspend_time"] = g("suspend_time", 0)
    doc["system_comment"] = text(g("system_comment"))
    doc["time_limit"] = unless(g("time_limit", 0), INFINITE)
    doc["time_minimum"] = unless(g("time_min", 0), INFINITE)
    doc["threads_per_core"] = unless(mc.get("threads_per_core", 0), NO_VAL16)
    doc["tres_bind"] = text(g("tres_bind"))
    doc["tres_freq"] = text(g("tres_freq"))
    doc["tres_per_job"] = text(g("tres_per_job"))
    doc["tres_per_node"] = text(g("tres_per_node"))
    doc["tres_per_socket"] = text(g("tres_per_socket"))
    doc["tres_per_task"] = text(g("tres_per_task"))
    doc["tres_req_str"] = text(g("tres_req_str"))
    doc["tres_alloc_str"] = text(g("tres_alloc_str"))
    doc["user_id"] = g("user_id", 0)
    user = g("user_name")
    doc["user_name"] = user if user is not None else convert.user_name(g("user_id", 0))
    doc["wckey"] = text(g("wckey"))
    doc["current_working_directory"] = text(g("work_dir"))
    return doc
