"""The keys of a v0.0.38 job document: what each one sets in the job_desc.

``KEYS`` is slurmrestd 22.05's key table (``job_params[]`` in ``jobs.c``), lower case; each
handler reads its value (``job_values``) into ``Options``, the parts of sbatch's
``slurm_opt_t`` that reach the job_desc. ``job_desc`` builds the job_desc from them.
"""

from __future__ import annotations

import os
import re
from typing import Any, Callable

from slurmrest.api.job_values import INT_MAX, InvalidValue as _Invalid, _kind
from slurmrest.api.job_values import (as_bool, as_int, as_string, check_array, cpu_frequency,
                                      distribution, gres_with_type, mail_type, memory_binding,
                                      node_count, parse_time, profile, signal_number,
                                      str_to_mbytes, time_str2mins, time_str2secs)
from slurmrest.wire.enums import (GRES_DISABLE_BIND, GRES_ENFORCE_BIND, JOB_SHARED_MCS,
                                  JOB_SHARED_NONE, JOB_SHARED_OK, JOB_SHARED_USER,
                                  KILL_INV_DEP, KILL_JOB_BATCH, KILL_JOB_RESV, NO_KILL_INV_DEP,
                                  OPEN_MODE_APPEND, OPEN_MODE_TRUNCATE, SPREAD_JOB,
                                  USE_MIN_NODES)
from slurmrest.wire.errors import ESLURM_INVALID_TIME_VALUE
from slurmrest.wire.primitives import (CORE_SPEC_THREAD, INFINITE, NICE_OFFSET, NO_VAL, NO_VAL16,
                                       NO_VAL64)


# -- the options a document sets (the parts of slurm_opt_t that reach the job_desc) --------

class Options:
    """What the document asked for, before it becomes a job_desc (like ``slurm_opt_t``)."""

    def __init__(self, submit: bool) -> None:
        self.submit = submit             # a new job (else an update of an existing one)
        self.desc: dict[str, Any] = {}   # fields copied as they are
        self.job_flags = 0
        self.environment: list[tuple[str, str]] | None = None
        self.ntasks, self.ntasks_set = 1, False
        self.cpus_per_task, self.cpus_set = 0, False
        self.nodes: tuple[int, int] | None = None
        self.mem_per_node: int | None = None
        self.mem_per_cpu: int | None = None
        self.hold: bool | None = None
        self.priority: int | None = None
        self.mail_type = 0
        self.mail_type_set = False
        self.shared: int | None = None
        self.work_dir: str | None = None
        self.get_user_env = False
        self.gpus_per_node: str | None = None
        self.gres: str | None = None
        self.gpus: str | None = None
        self.gpus_per_socket: str | None = None
        self.gpus_per_task: str | None = None


Handler = Callable[[Options, Any], None]


def _string(field: str) -> Handler:
    def handle(o: Options, v: Any) -> None:
        o.desc[field] = as_string(v)
    return handle


def _count(field: str, *, low: int = 0, high: int = NO_VAL16 - 1) -> Handler:
    """An integer option (COMMON_INT_OPTION): bounded to what its wire field can carry."""
    def handle(o: Options, v: Any) -> None:
        n = as_int(v)
        if n < low or n > high:
            raise _Invalid(f"{n} is out of range ({low} to {high})")
        o.desc[field] = n
    return handle


def _path(field: str) -> Handler:
    # standard_output/error/input: "none" means /dev/null
    def handle(o: Options, v: Any) -> None:
        s = as_string(v)
        o.desc[field] = "/dev/null" if s.lower() == "none" else s
    return handle


def _minutes(field: str) -> Handler:
    def handle(o: Options, v: Any) -> None:
        mins = time_str2mins(as_string(v))
        if mins == NO_VAL:
            raise _Invalid(f"Invalid time specification: {v!r}")
        o.desc[field] = INFINITE if mins == 0 else mins
    return handle


def _flag(bit: int) -> Handler:
    def handle(o: Options, v: Any) -> None:
        if as_bool(v):
            o.job_flags |= bit
    return handle


def _mbytes(attr: str) -> Handler:
    def handle(o: Options, v: Any) -> None:
        mb = str_to_mbytes(as_string(v))
        if mb == NO_VAL64:
            raise _Invalid(f"Invalid memory specification: {v!r}")
        setattr(o, attr, mb)
    return handle


def _tmp_disk(o: Options, v: Any) -> None:
    mb = str_to_mbytes(as_string(v))
    if mb == NO_VAL64 or mb >= NO_VAL:
        raise _Invalid(f"Invalid temporary disk specification: {v!r}")
    o.desc["pn_min_tmp_disk"] = mb


def _attr(attr: str) -> Handler:
    def handle(o: Options, v: Any) -> None:
        setattr(o, attr, as_string(v))
    return handle


def _environment(o: Options, v: Any) -> None:
    if not isinstance(v, dict):
        raise _Invalid("environment must be a dictionary")
    env = []
    for name, value in v.items():
        if isinstance(name, int) and not isinstance(name, bool):
            name = str(name)  # a YAML key such as 1: …
        if not isinstance(name, str):
            raise _Invalid(f"environment variable names must be strings, not {_kind(name)}")
        if isinstance(value, (dict, list)):
            raise _Invalid(f"environment variable {name!r} must be a scalar, not {_kind(value)}")
        if not name or "=" in name or "\0" in name:
            raise _Invalid(f"invalid environment variable name {name!r}")
        text = as_string(value)
        if "\0" in text:
            raise _Invalid(f"environment variable {name!r} contains a NUL byte")
        env.append((name, text))
    o.environment = env


def _argv(o: Options, v: Any) -> None:
    if not isinstance(v, list):
        raise _Invalid(f"argv must be a list of strings, not {_kind(v)}")
    o.desc["argv"] = [as_string(a) for a in v]


def _begin(field: str) -> Handler:
    def handle(o: Options, v: Any) -> None:
        if isinstance(v, int) and not isinstance(v, bool):
            if v <= 0 or v >= 2**63:
                raise _Invalid(f"Invalid time: {v}", ESLURM_INVALID_TIME_VALUE)
            o.desc[field] = v
        else:
            o.desc[field] = parse_time(as_string(v))
    return handle


def _cpus_per_task(o: Options, v: Any) -> None:
    n = as_int(v)
    if n < 1 or n >= NO_VAL16:
        raise _Invalid("cpus per task must be greater than 0 and fit in 16 bits")
    o.cpus_per_task, o.cpus_set = n, True


def _tasks(o: Options, v: Any) -> None:
    n = as_int(v)
    if n <= 0:
        raise _Invalid("ntasks too small")
    if n >= INT_MAX:
        raise _Invalid("ntasks too large")
    o.ntasks, o.ntasks_set = n, True


def _nodes(o: Options, v: Any) -> None:
    if isinstance(v, list):
        if not 1 <= len(v) <= 2:
            raise _Invalid("Invalid node count list size")
        counts = [as_int(x) for x in v]
        lo, hi = counts[0], counts[-1]
        if lo < 0 or hi < lo or hi > INT_MAX:
            raise _Invalid(f"Invalid node count specification: {v!r}")
        o.nodes = (lo, hi)
    else:
        o.nodes = node_count(as_string(v))


def _core_spec(o: Options, v: Any) -> None:
    n = as_int(v)
    if n < 0 or n >= CORE_SPEC_THREAD:
        raise _Invalid("Invalid core specification")
    o.desc["core_spec"] = n


def _thread_spec(o: Options, v: Any) -> None:
    n = as_int(v)
    if n <= 0 or n >= CORE_SPEC_THREAD:
        raise _Invalid("thread_specification must be between 1 and 32767")
    o.desc["core_spec"] = n | CORE_SPEC_THREAD


def _cpu_freq(o: Options, v: Any) -> None:
    low, high, gov = cpu_frequency(as_string(v))
    o.desc.update(cpu_freq_min=low, cpu_freq_max=high, cpu_freq_gov=gov)


def _delay_boot(o: Options, v: Any) -> None:
    secs = time_str2secs(as_string(v))
    if secs == NO_VAL:
        raise _Invalid("Invalid delay boot specification")
    o.desc["delay_boot"] = secs


def _deadline(o: Options, v: Any) -> None:
    _begin("deadline")(o, v)


def _distribution(o: Options, v: Any) -> None:
    dist, plane = distribution(as_string(v))
    o.desc["task_dist"] = dist
    if plane is not None:
        o.desc["plane_size"] = plane


def _exclusive(o: Options, v: Any) -> None:
    if isinstance(v, bool):
        if v:
            o.shared = JOB_SHARED_NONE
        return
    s = as_string(v).lower()
    shared = {"": JOB_SHARED_NONE, "exclusive": JOB_SHARED_NONE, "true": JOB_SHARED_NONE,
              "oversubscribe": JOB_SHARED_OK, "user": JOB_SHARED_USER, "mcs": JOB_SHARED_MCS}
    if s == "false":
        return
    if s not in shared:
        raise _Invalid(f"Invalid exclusive specification: {v!r}")
    o.shared = shared[s]


def _oversubscribe(o: Options, v: Any) -> None:
    if as_bool(v):
        o.shared = JOB_SHARED_OK


def _get_user_env(o: Options, v: Any) -> None:
    if v is None or isinstance(v, bool):
        o.get_user_env = v is None or v
        return
    m = re.fullmatch(r"\s*([+-]?\d*)([sSlL]?)", as_string(v))
    if not m:
        raise _Invalid("Invalid get user environment specification")
    o.get_user_env = True


def _gpu_bind(o: Options, v: Any) -> None:
    s = as_string(v)
    if not s:
        raise _Invalid("Invalid gpu_binding argument")
    o.desc["tres_bind"] = f"gpu:{s}"


def _gpu_freq(o: Options, v: Any) -> None:
    s = as_string(v)
    if not s:
        raise _Invalid("Invalid gpu_frequency argument")
    o.desc["tres_freq"] = f"gpu:{s}"


def _gres(o: Options, v: Any) -> None:
    s = as_string(v)
    if s.lower() in ("help", "list"):
        raise _Invalid('GRES "help" not supported')
    o.gres = s if s.lower() == "none" else gres_with_type(s)


def _gres_flags(o: Options, v: Any) -> None:
    s = as_string(v).lower()
    o.job_flags &= ~(GRES_DISABLE_BIND | GRES_ENFORCE_BIND)
    if s == "disable-binding":
        o.job_flags |= GRES_DISABLE_BIND
    elif s == "enforce-binding":
        o.job_flags |= GRES_ENFORCE_BIND
    else:
        raise _Invalid(f"Invalid GRES flags: {v!r}")


def _hold(o: Options, v: Any) -> None:
    o.hold = as_bool(v)


def _kill_inv_dep(o: Options, v: Any) -> None:
    o.job_flags |= KILL_INV_DEP if as_bool(v) else NO_KILL_INV_DEP


def _mail_type(o: Options, v: Any) -> None:
    o.mail_type |= mail_type(as_string(v))
    o.mail_type_set = True


def _mem_bind(o: Options, v: Any) -> None:
    s = as_string(v)
    if "help" in s.lower():
        raise _Invalid("memory binding help not supported")
    flags, maps = memory_binding(s)
    o.desc["mem_bind_type"] = flags
    if maps is not None:
        o.desc["mem_bind"] = maps


def _mem_per_gpu(o: Options, v: Any) -> None:
    mb = str_to_mbytes(as_string(v))
    if mb == NO_VAL64:
        raise _Invalid(f"Invalid memory_per_gpu specification: {v!r}")
    o.desc["mem_per_tres"] = f"gres:gpu:{mb}"


def _cpus_per_gpu(o: Options, v: Any) -> None:
    n = as_int(v)
    if n <= 0 or n >= INT_MAX:
        raise _Invalid("cpus_per_gpu must be a positive integer")
    o.desc["cpus_per_tres"] = f"gres:gpu:{n}"


def _nice(o: Options, v: Any) -> None:
    n = 100 if v is None else as_int(v)
    if abs(n) >= NICE_OFFSET - 3:
        raise _Invalid("Nice too large")
    o.desc["nice"] = NICE_OFFSET + n


def _no_kill(o: Options, v: Any) -> None:
    if v is None or isinstance(v, bool):
        kill_off = v is None or v
    else:
        s = as_string(v).lower()
        if s in ("set", "true", "yes", "on"):
            kill_off = True
        elif s in ("off", "no", "false"):
            kill_off = False
        else:
            raise _Invalid(f"Invalid no kill specification: {v!r}")
    if kill_off:
        o.desc["kill_on_node_fail"] = 0


def _no_requeue(o: Options, v: Any) -> None:
    if v is None or as_bool(v):
        o.desc["requeue"] = 0


def _requeue(o: Options, v: Any) -> None:
    o.desc["requeue"] = 1 if (v is None or as_bool(v)) else 0


def _open_mode(o: Options, v: Any) -> None:
    s = as_string(v)
    if s[:1] in ("a", "A"):
        o.desc["open_mode"] = OPEN_MODE_APPEND
    elif s[:1] in ("t", "T"):
        o.desc["open_mode"] = OPEN_MODE_TRUNCATE
    else:
        raise _Invalid(f"Invalid open mode specification: {v!r}")


def _priority(o: Options, v: Any) -> None:
    try:
        n = as_int(v)
    except _Invalid:
        if isinstance(v, str) and v.strip().upper() == "TOP":
            o.priority = NO_VAL - 1
            return
        raise _Invalid(f"Invalid priority: {v!r}") from None
    if n >= NO_VAL:
        raise _Invalid("Priority too large")
    if n <= 0:
        raise _Invalid("Priority must be >0")
    o.priority = n


def _profile(o: Options, v: Any) -> None:
    o.desc["profile"] = profile(as_string(v))


def _signal(o: Options, v: Any) -> None:
    s = as_string(v)
    flags = 0
    # [R][B][R][:]signal[@seconds]
    m = re.fullmatch(r"(?i)(R?)(B?)(R?):?([^@]*)(?:@(.*))?", s)
    if not m:
        raise _Invalid(f"Invalid SIGNAL specification: {v!r}")
    if m.group(1) or m.group(3):
        flags |= KILL_JOB_RESV
    if m.group(2):
        flags |= KILL_JOB_BATCH
    number = signal_number(m.group(4))
    if number < 1 or number > 0xFFFF:
        raise _Invalid(f"Invalid SIGNAL specification: {v!r}")
    seconds = 60
    if m.group(5) is not None:
        if not re.fullmatch(r"\d+", m.group(5)) or int(m.group(5)) > 0xFFFF:
            raise _Invalid(f"Invalid SIGNAL specification: {v!r}")
        seconds = int(m.group(5))
    o.desc.update(warn_signal=number, warn_time=seconds, warn_flags=flags)


def _umask(o: Options, v: Any) -> None:
    # Parsed and checked like slurmrestd, which then does nothing with it.
    s = as_string(v)
    if not re.fullmatch(r"[0-7]+", s) or int(s, 8) > 0o7777:
        raise _Invalid(f"Invalid octal umask: {v!r}")


def _hint(o: Options, v: Any) -> None:
    # slurmrestd accepts cpu_binding_hint and never uses it; so do we.
    as_string(v)


def _wait_all_nodes(o: Options, v: Any) -> None:
    n = int(v) if isinstance(v, bool) else as_int(v)
    if n not in (0, 1):
        raise _Invalid("wait_all_nodes must be 0 or 1")
    o.desc["wait_all_nodes"] = n


def server_cwd() -> str:
    """slurmrestd's default working directory for a job is its own (``arg_reset_chdir``);
    so is ours — or /tmp if ours has been removed."""
    try:
        return os.getcwd()
    except OSError:
        return "/tmp"


def _work_dir(o: Options, v: Any) -> None:
    s = as_string(v)
    o.work_dir = s if s.startswith("/") else os.path.join(server_cwd(), s)


def _array(o: Options, v: Any) -> None:
    if o.submit:
        o.desc["array_inx"] = check_array(as_string(v))
        return
    # On an update slurmctld reads array_inx as the array's new task throttle (what scontrol
    # calls ArrayTaskThrottle): a count, written "5" or "%5".
    m = re.fullmatch(r"\s*%?(\d{1,9})\s*", as_string(v))
    if not m:
        raise _Invalid(f"an update takes the array's task throttle (\"%5\"), not {v!r}")
    o.desc["array_inx"] = m.group(1)


def _test_only(o: Options, v: Any) -> None:
    raise _Invalid("test_only is not supported: the job would really be submitted")


#: Every key slurmrestd 22.05's v0.0.38 job parser knows (``job_params[]`` in jobs.c), lower
#: case. ``None`` marks the keys it disables.
KEYS: dict[str, Handler | None] = {
    "account": _string("account"),
    "account_gather_frequency": _string("acctg_freq"),
    "array": _array,
    "argv": _argv,
    "batch_features": _string("batch_features"),
    "begin_time": _begin("begin_time"),
    "burst_buffer": _string("burst_buffer"),
    "cluster_constraint": _string("cluster_features"),
    "comment": _string("comment"),
    "constraint": _string("features"),
    "constraints": _string("features"),
    "container": _string("container"),
    "core_specification": _core_spec,
    "cores_per_socket": _count("cores_per_socket"),
    "cpu_binding_hint": _hint,
    "cpu_frequency": _cpu_freq,
    "cpus_per_gpu": _cpus_per_gpu,
    "cpus_per_task": _cpus_per_task,
    "current_working_directory": _work_dir,
    "cwd": _work_dir,
    "deadline": _deadline,
    "delay_boot": _delay_boot,
    "dependency": _string("dependency"),
    "distribution": _distribution,
    "environment": _environment,
    "exclude_nodes": _string("exc_nodes"),
    "exclusive": _exclusive,
    "get_user_environment": _get_user_env,
    "gpu_binding": _gpu_bind,
    "gpu_frequency": _gpu_freq,
    "gpus": _attr("gpus"),
    "gpus_per_node": _attr("gpus_per_node"),
    "gpus_per_socket": _attr("gpus_per_socket"),
    "gpus_per_task": _attr("gpus_per_task"),
    "gres_flags": _gres_flags,
    "gres": _gres,
    "hold": _hold,
    "job_name": _string("name"),
    "kill_on_invalid_dependency": _kill_inv_dep,
    "license": _string("licenses"),
    "licenses": _string("licenses"),
    "mail_type": _mail_type,
    "mail_user": _string("mail_user"),
    "mcs_label": _string("mcs_label"),
    "memory_binding": _mem_bind,
    "memory_per_cpu": _mbytes("mem_per_cpu"),
    "memory_per_gpu": _mem_per_gpu,
    "memory_per_node": _mbytes("mem_per_node"),
    "minimum_cpus_per_node": _count("pn_min_cpus"),
    "minimum_nodes": _flag(USE_MIN_NODES),
    "name": _string("name"),
    "nice": _nice,
    "nodelist": _string("req_nodes"),
    "node_list": _string("req_nodes"),
    "nodes": _nodes,
    "no_kill": _no_kill,
    "no_requeue": _no_requeue,
    "open_mode": _open_mode,
    "oversubscribe": _oversubscribe,
    "partition": _string("partition"),
    "prefer": _string("prefer"),
    "priority": _priority,
    "profile": _profile,
    "qos": _string("qos"),
    "requeue": _requeue,
    "reservation": _string("reservation"),
    "signal": _signal,
    "sockets_per_node": _count("sockets_per_node"),
    "spread_job": _flag(SPREAD_JOB),
    "standard_error": _path("std_err"),
    "standard_input": _path("std_in"),
    "standard_output": _path("std_out"),
    "tasks": _tasks,
    "ntasks": _tasks,
    "tasks_per_core": _count("ntasks_per_core"),
    "ntasks_per_core": _count("ntasks_per_core"),
    "ntasks_per_gpu": _count("ntasks_per_tres"),
    "tasks_per_node": _count("ntasks_per_node"),
    "ntasks_per_node": _count("ntasks_per_node"),
    "tasks_per_socket": _count("ntasks_per_socket"),
    "ntasks_per_socket": _count("ntasks_per_socket"),
    "ntasks_per_tres": _count("ntasks_per_tres"),
    "temporary_disk_per_node": _tmp_disk,
    "test_only": _test_only,
    "thread_specification": _thread_spec,
    "threads_per_core": _count("threads_per_core"),
    "time_limit": _minutes("time_limit"),
    "time_minimum": _minutes("time_min"),
    "umask": _umask,
    "wait_all_nodes": _wait_all_nodes,
    "wckey": _string("wckey"),
}
for _disabled in (
    "accelerator_binding", "allocation_node_list", "bell", "burst_buffer_file", "cluster",
    "clusters", "compress", "contiguous", "cpu_binding", "debugger_test", "disable_status",
    "epilog", "excluded_nodes", "export_file", "export", "extra_node_info", "group_id", "help",
    "hetjob_group", "ignore_pbs", "immediate", "job_id", "kill_command", "kill_on_bad_exit",
    "label", "max_threads", "message_timeout", "mpi", "multiple_program", "network",
    "no_allocation", "no_bell", "nodefile", "no_shell", "overcommit", "parsable", "power_flags",
    "preserve_environment", "prolog", "propagate", "pty", "quiet", "reboot", "relative",
    "required_nodes", "required_switches", "reserve_port", "reserve_ports", "slurmd_debug",
    "task_epilog", "task_prolog", "threads", "unbuffered", "unknown", "usage", "user_id",
    "version", "verbose", "wait_for_switch", "wait", "wrap", "x11",
):
    KEYS[_disabled] = None
del _disabled
