"""The v0.0.38 job document → the wire's ``job_desc`` (protocol reference §5.10), validated.

A job document (``v0.0.38_job_properties``; parsed from JSON or YAML by the web room) is read
the way slurmrestd 22.05 reads it (``jobs.c`` + ``slurm_opt.c``): keys are case-insensitive,
the aliases it knows (``ntasks`` for ``tasks``, ``cwd`` …) are accepted, scalars are converted
like Slurm's ``data_t`` (``"5"`` for ``5``), and each key fills the job_desc fields that
``slurm_opt_create_job_desc()`` fills for sbatch. Keys slurmrestd disables are refused.

The whole document is checked before anything is sent, and every problem is reported (not only
the first): ``JobDocumentError`` (HTTP 400) carries one slurmrestd-shaped error entry per
problem. Where slurmrestd 22.05 mishandles a documented value the document's meaning wins:

- ``requeue: false``, ``spread_job: false``, ``minimum_nodes: false``, ``oversubscribe: false``
  are honoured (slurmrestd sets the flag whatever the value);
- ``exclusive: true`` / ``"true"`` means exclusive and ``false`` means "not set" (slurmrestd
  rejects both although its OpenAPI document lists them);
- ``nodes: [min, max]`` sets the node counts (slurmrestd parses and then drops them);
- ``begin_time`` as an integer is a Unix time (slurmrestd rejects integers);
- ``no_kill``, ``wait_all_nodes`` and ``get_user_environment`` take booleans;
- ``signal`` takes the ``B:`` prefix its OpenAPI pattern documents;
- ``distribution`` reaches slurmctld (slurmrestd overwrites it with "unknown" on submit);
- ``test_only`` is refused (slurmrestd ignores it and really submits the job).
"""

from __future__ import annotations

import os
import re
import time
from datetime import date, datetime, timedelta
from typing import Any, Callable

from slurmrest.api import errors as api_errors
from slurmrest.api.registry import ApiError
from slurmrest.wire import enums, errors
from slurmrest.wire.primitives import (
    CORE_SPEC_THREAD,
    INFINITE,
    MEM_PER_CPU,
    NICE_OFFSET,
    NO_VAL,
    NO_VAL16,
    NO_VAL64,
)

# -- error numbers this module reports (slurm_errno.h) ------------------------------------

SLURM_ERROR = errors.SLURM_ERROR
ESLURM_JOB_SCRIPT_MISSING = errors.ESLURM_JOB_SCRIPT_MISSING
ESLURM_INVALID_TIME_VALUE = errors.ESLURM_INVALID_TIME_VALUE
ESLURM_ENVIRONMENT_MISSING = errors.ESLURM_ENVIRONMENT_MISSING
ESLURM_REST_INVALID_QUERY = errors.ESLURM_REST_INVALID_QUERY
ESLURM_REST_FAIL_PARSING = errors.ESLURM_REST_FAIL_PARSING
ESLURM_REST_INVALID_JOBS_DESC = errors.ESLURM_REST_INVALID_JOBS_DESC
ESLURM_DATA_CONV_FAILED = errors.ESLURM_DATA_CONV_FAILED

# -- job_desc flag words (slurm.h) ---------------------------------------------------------

KILL_INV_DEP = 0x1
NO_KILL_INV_DEP = 0x2
GRES_ENFORCE_BIND = 0x10
SPREAD_JOB = 0x100
USE_MIN_NODES = 0x200
JOB_NTASKS_SET = 0x4000
JOB_CPUS_SET = 0x8000
GRES_DISABLE_BIND = 0x80000

JOB_SHARED_NONE, JOB_SHARED_OK, JOB_SHARED_USER, JOB_SHARED_MCS = 0, 1, 2, 3
OPEN_MODE_APPEND, OPEN_MODE_TRUNCATE = 1, 2
KILL_JOB_BATCH, KILL_JOB_RESV = 0x0001, 0x0100
SLURM_DIST_UNKNOWN = 0x2000
SLURM_DIST_PACK_NODES, SLURM_DIST_NO_PACK_NODES = 0x800000, 0x400000

MAIL_TYPES = {
    "BEGIN": 0x1, "END": 0x2, "FAIL": 0x4, "REQUEUE": 0x8, "TIME_LIMIT": 0x10,
    "TIME_LIMIT_90": 0x20, "TIME_LIMIT_80": 0x40, "TIME_LIMIT_50": 0x80, "STAGE_OUT": 0x100,
    "ARRAY_TASKS": 0x200, "INVALID_DEPEND": 0x400,
}
MAIL_ALL = 0x400 | 0x1 | 0x2 | 0x4 | 0x8 | 0x100

CPU_FREQ_RANGE_FLAG = 0x80000000
_CPU_FREQ_GOVERNORS = (("co", 0x88000000), ("perf", 0x82000000), ("pow", 0x81000000),
                       ("user", 0x80800000), ("onde", 0x84000000), ("sche", 0x80400000))
_CPU_FREQ_NAMES = (("lo", 0x80000001), ("him1", 0x80000004), ("highm1", 0x80000004),
                   ("hi", 0x80000003), ("med", 0x80000002))

MEM_BIND_VERBOSE, MEM_BIND_NONE, MEM_BIND_RANK, MEM_BIND_MAP = 0x01, 0x02, 0x04, 0x08
MEM_BIND_MASK, MEM_BIND_LOCAL, MEM_BIND_SORT, MEM_BIND_PREFER = 0x10, 0x20, 0x40, 0x80
_MEM_BIND_KINDS = MEM_BIND_NONE | MEM_BIND_RANK | MEM_BIND_LOCAL | MEM_BIND_MAP | MEM_BIND_MASK

PROFILE_NONE, PROFILE_ENERGY, PROFILE_TASK = 0x1, 0x2, 0x4
PROFILE_LUSTRE, PROFILE_NETWORK, PROFILE_ALL = 0x8, 0x10, 0xFFFFFFFF

INT_MAX = 2**31 - 1


def error_entry(errno: int, description: str, source: str, text: str | None = None) -> dict:
    """One slurmrestd-shaped error entry. ``error_code`` repeats ``error_number`` because
    slurmrestd 22.05's submit path spells it that way, unlike its own OpenAPI schema."""
    return api_errors.error_entry(errno, description, source, error=text, form=api_errors.SUBMIT)


class JobDocumentError(ApiError):
    """A job document that cannot become a job_desc: HTTP 400 with every problem listed."""

    def __init__(self, errors: list[dict]):
        super().__init__(400, errors)


class _Invalid(Exception):
    def __init__(self, description: str, errno: int = SLURM_ERROR):
        super().__init__(description)
        self.description = description
        self.errno = errno


# -- data_t conversions (src/common/data.c) ------------------------------------------------

_TRUE = re.compile(r"^([Yy](|[eE][sS])|[tT]([rR][uU][eE]|)|[Oo][nN])$")
_FALSE = re.compile(r"^([nN]([Oo]|)|[fF](|[aA][lL][sS][eE])|[oO][fF][fF])$")
_INT = re.compile(r"^([+-]?[0-9]+)$")
_FLOAT = re.compile(r"^([+-]?[0-9]*[.][0-9]*(|[eE][+-]?[0-9]+))$")


def as_string(value: Any) -> str:
    """``data_get_string_converted``: scalars become their text; lists and objects fail."""
    if isinstance(value, str):
        if "\0" in value:
            raise _Invalid("text must not contain a NUL byte")
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:f}"
    if isinstance(value, datetime):  # YAML timestamps arrive decoded; Slurm reads local time
        if value.tzinfo is not None:
            value = value.astimezone().replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    raise _Invalid(f"expected a string, not {_kind(value)}", ESLURM_DATA_CONV_FAILED)


def as_int(value: Any) -> int:
    """``data_get_int_converted``: integers, integral text, floats rounded; no booleans."""
    if isinstance(value, bool) or value is None:
        raise _Invalid(f"expected an integer, not {_kind(value)}", ESLURM_DATA_CONV_FAILED)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise _Invalid("expected an integer, not a non-finite number", ESLURM_DATA_CONV_FAILED)
        return round(value)
    if isinstance(value, str) and _INT.match(value):
        return int(value)
    raise _Invalid(f"expected an integer, not {_kind(value)}", ESLURM_DATA_CONV_FAILED)


def as_bool(value: Any) -> bool:
    """Booleans, numbers, null (false) and the yes/no/true/false/on/off spellings. Other text
    is refused (slurmrestd would take any other non-empty text as true)."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        if value == "" or _FALSE.match(value):
            return False
        if _TRUE.match(value):
            return True
        if _INT.match(value) or _FLOAT.match(value):
            return float(value) != 0
    raise _Invalid(f"expected a boolean, not {_kind(value)}", ESLURM_DATA_CONV_FAILED)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else "a string"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


# -- Slurm's option parsers (src/common/proc_args.c, parse_time.c …) -----------------------

_TIMESPEC = re.compile(r"^(\d+-)?\d+(:\d+){0,2}$|^\d+-\d+$")


def time_str2secs(text: str) -> int:
    """Slurm's ``time_str2secs``: ``min``, ``min:sec``, ``h:m:s``, ``d-h[:m[:s]]``; -1,
    INFINITE and UNLIMITED are INFINITE; anything else is NO_VAL."""
    if not text:
        return NO_VAL
    if text.lower() in ("-1", "infinite", "unlimited"):
        return INFINITE
    if not _valid_timespec(text):
        return NO_VAL
    if text.startswith("-"):
        return NO_VAL  # a negative duration (sscanf would take it; nothing means it)
    if "-" in text:
        # sscanf("%d-%d:%d:%d"): days, then as many of hours:minutes:seconds as there are
        days, _, rest = text.partition("-")
        parts = []
        for p in rest.split(":"):
            if not p:
                break
            parts.append(int(p))
        parts += [0, 0, 0]
        secs = int(days) * 86400 + parts[0] * 3600 + parts[1] * 60 + parts[2]
        return secs if secs <= INT_MAX else NO_VAL
    parts = [int(p) for p in text.split(":")]
    if len(parts) == 3:
        secs = parts[0] * 3600 + parts[1] * 60 + parts[2]
    else:
        secs = parts[0] * 60 + (parts[1] if len(parts) > 1 else 0)
    return secs if secs <= INT_MAX else NO_VAL  # Slurm's int would overflow


def _valid_timespec(text: str) -> bool:
    # _is_valid_timespec: digits, one dash at most (before any colon), two colons at most.
    if not re.fullmatch(r"[0-9:\-]+", text):
        return False
    digits = len(re.findall(r"\d+", text))
    dashes, colons = text.count("-"), text.count(":")
    if not digits or dashes > 1 or colons > 2:
        return False
    if dashes and ":" in text.split("-")[0]:
        return False
    if dashes:
        return not ((colons == 1 and digits < 3) or (colons == 2 and digits < 4))
    return not ((colons == 1 and digits < 2) or (colons == 2 and digits < 3))


def time_str2mins(text: str) -> int:
    secs = time_str2secs(text)
    if secs in (INFINITE, NO_VAL):
        return secs
    return (secs + 59) // 60


def str_to_mbytes(text: str) -> int:
    """Slurm's ``str_to_mbytes``: a count with an optional K/M/G/T suffix (M by default)."""
    m = re.fullmatch(r"\s*([+-]?\d+)([kKmMgGtT]?)([bB]?)", text)
    if not m or (m.group(3) and not m.group(2)):
        return NO_VAL64
    n = int(m.group(1))
    if n < 0 or n > 2**63 - 1:
        return NO_VAL64
    unit = m.group(2).upper()
    if unit == "K":
        return (n + 1023) // 1024
    mb = n * {"": 1, "M": 1, "G": 1024, "T": 1024 * 1024}[unit]
    # the top bit is MEM_PER_CPU: a count must stay below it
    return mb if mb < MEM_PER_CPU else NO_VAL64


def node_count(text: str) -> tuple[int, int]:
    """``verify_node_count``: ``N`` or ``min-max`` (k/m multipliers allowed) → (min, max)."""

    def count(part: str) -> int:
        m = re.fullmatch(r"\s*([+-]?\d+)([kK]?)([mM]?)\s*", part)
        if not m:
            raise _Invalid(f'"{part}" is not a valid node count')
        n = int(m.group(1))
        if m.group(2):
            n *= 1024
        if m.group(3):
            n *= 1024 * 1024
        return n

    if "-" in text:
        low, _, high = text.partition("-")
        lo = count(low) if low.strip() else 1
        lo = max(lo, 1) if lo < 0 else lo
        hi = count(high)
    else:
        lo = hi = count(text)
        if lo < 0:
            raise _Invalid(f'"{text}" is not a valid node count')
    if hi and hi < lo:
        raise _Invalid(f"Maximum node count {hi} is less than minimum node count {lo}")
    if lo > INT_MAX or hi > INT_MAX:
        raise _Invalid(f'"{text}" is not a valid node count')
    return lo, hi


#: ``sig_name2num``: a number, or a name with or without ``SIG`` (any case); 0 if unknown.
signal_number = enums.sig_name2num


def mail_type(text: str) -> int:
    """``parse_mail_type``: comma-separated names; unknown names are skipped (as Slurm does)
    unless nothing known is left."""
    word, none = 0, False
    for token in text.split(","):
        name = token.strip().upper()
        if name == "NONE":
            word, none = 0, True
            break
        if name == "ALL":
            word |= MAIL_ALL
        elif name in MAIL_TYPES:
            word |= MAIL_TYPES[name]
    if not word and not none:
        raise _Invalid(f"Invalid mail type specification: {text!r}")
    return word


def parse_time(text: str, now: float | None = None) -> int:
    """The common forms of Slurm's ``parse_time``: ``uts<seconds>``, ``now[+-N[unit]]``,
    ``YYYY-MM-DD[THH:MM[:SS]]``, ``MM/DD[/YY][-HH:MM[:SS]]``, ``HH:MM[:SS]``, ``today``,
    ``tomorrow``, ``midnight``, ``noon``, ``fika``, ``teatime``. Local time, like slurmctld."""
    s = text.strip()
    now_t = time.time() if now is None else now
    current = datetime.fromtimestamp(int(now_t))
    m = re.fullmatch(r"(?i)uts(\d+)", s)
    if m:
        if not 1000000 <= int(m.group(1)) < 2**63:
            raise _Invalid(f"Invalid time specification: {text!r}", ESLURM_INVALID_TIME_VALUE)
        return int(m.group(1))
    m = re.fullmatch(r"(?i)now\s*(?:([+-])\s*(\d+)\s*(seconds?|minutes?|hours?|days?|weeks?)?)?", s)
    if m:
        delta = 0
        if m.group(1):
            unit = (m.group(3) or "s").lower().rstrip("s") or "s"
            mult = {"s": 1, "second": 1, "minute": 60, "hour": 3600, "day": 86400,
                    "week": 604800}[unit]
            delta = int(m.group(2)) * mult * (-1 if m.group(1) == "-" else 1)
        return int(now_t) + delta
    words = {"midnight": (0, 0), "noon": (12, 0), "fika": (15, 0), "teatime": (16, 0)}
    date = None
    clock = None
    for token in re.split(r"\s+|(?<=\d)T(?=\d)|(?<=\d)-(?=\d{1,2}:)", s) if s else []:
        low = token.lower()
        if not token:
            continue
        if low == "today":
            date = current.date()
        elif low == "tomorrow":
            date = (current + timedelta(days=1)).date()
        elif low in words:
            clock = (*words[low], 0)
        elif re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", token):
            y, mo, d = (int(x) for x in token.split("-"))
            date = _date(y, mo, d, text)
        elif re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", token):
            parts = [int(x) for x in token.split(":")] + [0]
            if parts[0] > 23 or parts[1] > 59 or parts[2] > 59:
                raise _Invalid(f"Invalid time specification: {text!r}", ESLURM_INVALID_TIME_VALUE)
            clock = (parts[0], parts[1], parts[2])
        elif re.fullmatch(r"\d{1,2}[./]?\d{1,2}([./]?\d{2})?", token):
            mm = re.fullmatch(r"(\d{1,2})[./](\d{1,2})(?:[./](\d{2}))?", token) or \
                re.fullmatch(r"(\d{2})(\d{2})(\d{2})?", token)
            if not mm:
                raise _Invalid(f"Invalid time specification: {text!r}", ESLURM_INVALID_TIME_VALUE)
            mo, d = int(mm.group(1)), int(mm.group(2))
            if mm.group(3):
                date = _date(2000 + int(mm.group(3)), mo, d, text)
            else:
                date = _date(current.year, mo, d, text)
                if datetime.combine(date, datetime.min.time()) < current.replace(
                        hour=0, minute=0, second=0, microsecond=0):
                    date = _date(current.year + 1, mo, d, text)
        else:
            raise _Invalid(f"Invalid time specification: {text!r}", ESLURM_INVALID_TIME_VALUE)
    if date is None and clock is None:
        raise _Invalid(f"Invalid time specification: {text!r}", ESLURM_INVALID_TIME_VALUE)
    if date is None:
        candidate = current.replace(hour=clock[0], minute=clock[1], second=clock[2], microsecond=0)
        if (clock[0], clock[1]) <= (current.hour, current.minute):
            candidate += timedelta(days=1)
        return int(candidate.timestamp())
    h, mi, se = clock or (0, 0, 0)
    return int(datetime(date.year, date.month, date.day, h, mi, se).timestamp())


def _date(year: int, month: int, day: int, text: str):
    try:
        return datetime(year, month, day).date()
    except ValueError:
        raise _Invalid(f"Invalid time specification: {text!r}", ESLURM_INVALID_TIME_VALUE) from None


_ARRAY = re.compile(r"^\d+(-\d+(:\d+)?)?(,\d+(-\d+(:\d+)?)?)*(%\d+)?$")


def check_array(text: str) -> str:
    """A job array index expression: ``1-10``, ``1,3,5``, ``0-15:4``, ``1-1000%10`` …"""
    spec = text.strip()
    if not _ARRAY.match(spec):
        raise _Invalid(f"Invalid job array specification: {text!r}")
    for part in spec.split("%")[0].split(","):
        bounds = part.split(":")[0].split("-")
        if len(bounds) == 2 and int(bounds[1]) < int(bounds[0]):
            raise _Invalid(f"Invalid job array specification: {text!r}")
        if ":" in part and int(part.split(":")[1]) < 1:
            raise _Invalid(f"Invalid job array specification: {text!r}")
    return spec


def distribution(text: str) -> tuple[int, int | None]:
    """``verify_dist_type`` for the node[:socket[:core]][,Pack|NoPack] forms → (task_dist,
    plane_size or None)."""
    node_levels = {"cyclic": 0x1, "block": 0x2, "arbitrary": 0x3}
    lower_levels = {"cyclic": 0x1, "block": 0x2, "fcyclic": 0x3}
    flags = 0
    spec, _, option = text.partition(",")
    if option:
        opt = option.strip().lower()
        if opt == "pack":
            flags = SLURM_DIST_PACK_NODES
        elif opt == "nopack":
            flags = SLURM_DIST_NO_PACK_NODES
        else:
            raise _Invalid(f"Invalid distribution: {text!r}")
    m = re.fullmatch(r"(?i)plane=(\d+)", spec.strip())
    if m:
        if int(m.group(1)) < 1:
            raise _Invalid(f"Invalid distribution: {text!r}")
        return 0x4 | flags, int(m.group(1))
    levels = spec.strip().lower().split(":")
    if not spec or len(levels) > 3:
        raise _Invalid(f"Invalid distribution: {text!r}")
    dist = 0
    for depth, level in enumerate(levels):
        if level == "*":
            level = "block" if depth == 0 else "cyclic"
        table = node_levels if depth == 0 else lower_levels
        if level not in table or (depth and dist == 0x3):
            raise _Invalid(f"Invalid distribution: {text!r}")
        dist |= table[level] << (4 * depth)
    return dist | flags, None


def cpu_frequency(text: str) -> tuple[int, int, int]:
    """``cpu_freq_verify_cmdline``: ``p1[-p2][:governor]`` → (min, max, governor)."""

    def governor(word: str) -> int:
        for prefix, value in _CPU_FREQ_GOVERNORS:
            if word.lower().startswith(prefix):
                return value
        return 0

    def frequency(word: str) -> int:
        for prefix, value in _CPU_FREQ_NAMES:
            if word.lower().startswith(prefix):
                return value
        m = re.match(r"\d+", word)
        if m and 0 < int(m.group(0)) < CPU_FREQ_RANGE_FLAG:
            return int(m.group(0))
        raise _Invalid(f"unrecognized cpu_frequency argument {text!r}")

    low, high, gov = NO_VAL, NO_VAL, NO_VAL
    head, colon, p3 = text.partition(":")
    p1, dash, p2 = head.partition("-")
    if governor(p1):
        if colon:
            raise _Invalid(f"governor cannot be specified twice in {text!r}")
        gov = governor(p1)
    else:
        high = frequency(p1)
    if dash:
        low, high = high, frequency(p2)
        if high < low:
            raise _Invalid(f"min cpu_frequency must be < max in {text!r}")
    if colon:
        if not dash:
            raise _Invalid(f"governor without a maximum in {text!r}")
        gov = governor(p3)
        if not gov:
            raise _Invalid(f"illegal governor in {text!r}")
    return low, high, gov


def memory_binding(text: str) -> tuple[int, str | None]:
    """``slurm_verify_mem_bind`` → (mem_bind_type, mem_bind)."""
    flags, maps = 0, None
    tokens = re.split(r",(?![0-9xX*])", text)
    for token in tokens:
        low = token.lower()
        if low in ("p", "prefer"):
            flags |= MEM_BIND_PREFER
        elif low == "nosort":
            flags &= ~MEM_BIND_SORT
        elif low == "sort":
            flags |= MEM_BIND_SORT
        elif low in ("q", "quiet"):
            flags &= ~MEM_BIND_VERBOSE
        elif low in ("v", "verbose"):
            flags |= MEM_BIND_VERBOSE
        elif low in ("no", "none", "rank", "local"):
            kind = {"no": MEM_BIND_NONE, "none": MEM_BIND_NONE, "rank": MEM_BIND_RANK,
                    "local": MEM_BIND_LOCAL}[low]
            flags, maps = (flags & ~_MEM_BIND_KINDS) | kind, None
        elif re.match(r"(map_?mem|mask_?mem)[:=]", low):
            kind = MEM_BIND_MAP if low.startswith("map") else MEM_BIND_MASK
            maps = re.split(r"[:=]", token, maxsplit=1)[1]
            if not maps:
                raise _Invalid(f"missing list in memory_binding {text!r}")
            flags = (flags & ~_MEM_BIND_KINDS) | kind
        else:
            raise _Invalid(f"unrecognized memory_binding argument {token!r}")
    return flags, maps


def profile(text: str) -> int:
    """``acct_gather_profile_from_string``."""
    low = text.lower()
    if "none" in low:
        return PROFILE_NONE
    if "all" in low:
        return PROFILE_ALL
    word = 0
    for name, bit in (("energy", PROFILE_ENERGY), ("task", PROFILE_TASK),
                      ("lustre", PROFILE_LUSTRE), ("network", PROFILE_NETWORK)):
        if name in low:
            word |= bit
    if not word:
        raise _Invalid(f"Invalid profile specification: {text!r}")
    return word


def gres_with_type(text: str) -> str:
    """``gres_prepend_tres_type``: ``gpu:2,foo`` → ``gres:gpu:2,gres:foo``."""
    return ("gres:" + text).replace(",", ",gres:").replace("gres:gres:", "gres:")


def tres_list(prefix: str, text: str) -> str:
    """``xfmt_tres``: each comma-separated item prefixed (``gres:gpu:`` + item)."""
    return ",".join(f"{prefix}:{item}" for item in text.split(",") if item)


# -- the options a document sets (the parts of slurm_opt_t that reach the job_desc) --------

class _Options:
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


Handler = Callable[[_Options, Any], None]


def _string(field: str) -> Handler:
    def handle(o: _Options, v: Any) -> None:
        o.desc[field] = as_string(v)
    return handle


def _count(field: str, *, low: int = 0, high: int = NO_VAL16 - 1) -> Handler:
    """An integer option (COMMON_INT_OPTION): bounded to what its wire field can carry."""
    def handle(o: _Options, v: Any) -> None:
        n = as_int(v)
        if n < low or n > high:
            raise _Invalid(f"{n} is out of range ({low} to {high})")
        o.desc[field] = n
    return handle


def _path(field: str) -> Handler:
    # standard_output/error/input: "none" means /dev/null
    def handle(o: _Options, v: Any) -> None:
        s = as_string(v)
        o.desc[field] = "/dev/null" if s.lower() == "none" else s
    return handle


def _minutes(field: str) -> Handler:
    def handle(o: _Options, v: Any) -> None:
        mins = time_str2mins(as_string(v))
        if mins == NO_VAL:
            raise _Invalid(f"Invalid time specification: {v!r}")
        o.desc[field] = INFINITE if mins == 0 else mins
    return handle


def _flag(bit: int) -> Handler:
    def handle(o: _Options, v: Any) -> None:
        if as_bool(v):
            o.job_flags |= bit
    return handle


def _mbytes(attr: str) -> Handler:
    def handle(o: _Options, v: Any) -> None:
        mb = str_to_mbytes(as_string(v))
        if mb == NO_VAL64:
            raise _Invalid(f"Invalid memory specification: {v!r}")
        setattr(o, attr, mb)
    return handle


def _tmp_disk(o: _Options, v: Any) -> None:
    mb = str_to_mbytes(as_string(v))
    if mb == NO_VAL64 or mb >= NO_VAL:
        raise _Invalid(f"Invalid temporary disk specification: {v!r}")
    o.desc["pn_min_tmp_disk"] = mb


def _attr(attr: str) -> Handler:
    def handle(o: _Options, v: Any) -> None:
        setattr(o, attr, as_string(v))
    return handle


def _environment(o: _Options, v: Any) -> None:
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


def _argv(o: _Options, v: Any) -> None:
    if not isinstance(v, list):
        raise _Invalid(f"argv must be a list of strings, not {_kind(v)}")
    o.desc["argv"] = [as_string(a) for a in v]


def _begin(field: str) -> Handler:
    def handle(o: _Options, v: Any) -> None:
        if isinstance(v, int) and not isinstance(v, bool):
            if v <= 0 or v >= 2**63:
                raise _Invalid(f"Invalid time: {v}", ESLURM_INVALID_TIME_VALUE)
            o.desc[field] = v
        else:
            o.desc[field] = parse_time(as_string(v))
    return handle


def _cpus_per_task(o: _Options, v: Any) -> None:
    n = as_int(v)
    if n < 1 or n >= NO_VAL16:
        raise _Invalid("cpus per task must be greater than 0 and fit in 16 bits")
    o.cpus_per_task, o.cpus_set = n, True


def _tasks(o: _Options, v: Any) -> None:
    n = as_int(v)
    if n <= 0:
        raise _Invalid("ntasks too small")
    if n >= INT_MAX:
        raise _Invalid("ntasks too large")
    o.ntasks, o.ntasks_set = n, True


def _nodes(o: _Options, v: Any) -> None:
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


def _core_spec(o: _Options, v: Any) -> None:
    n = as_int(v)
    if n < 0 or n >= CORE_SPEC_THREAD:
        raise _Invalid("Invalid core specification")
    o.desc["core_spec"] = n


def _thread_spec(o: _Options, v: Any) -> None:
    n = as_int(v)
    if n <= 0 or n >= CORE_SPEC_THREAD:
        raise _Invalid("thread_specification must be between 1 and 32767")
    o.desc["core_spec"] = n | CORE_SPEC_THREAD


def _cpu_freq(o: _Options, v: Any) -> None:
    low, high, gov = cpu_frequency(as_string(v))
    o.desc.update(cpu_freq_min=low, cpu_freq_max=high, cpu_freq_gov=gov)


def _delay_boot(o: _Options, v: Any) -> None:
    secs = time_str2secs(as_string(v))
    if secs == NO_VAL:
        raise _Invalid("Invalid delay boot specification")
    o.desc["delay_boot"] = secs


def _deadline(o: _Options, v: Any) -> None:
    _begin("deadline")(o, v)


def _distribution(o: _Options, v: Any) -> None:
    dist, plane = distribution(as_string(v))
    o.desc["task_dist"] = dist
    if plane is not None:
        o.desc["plane_size"] = plane


def _exclusive(o: _Options, v: Any) -> None:
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


def _oversubscribe(o: _Options, v: Any) -> None:
    if as_bool(v):
        o.shared = JOB_SHARED_OK


def _get_user_env(o: _Options, v: Any) -> None:
    if v is None or isinstance(v, bool):
        o.get_user_env = v is None or v
        return
    m = re.fullmatch(r"\s*([+-]?\d*)([sSlL]?)", as_string(v))
    if not m:
        raise _Invalid("Invalid get user environment specification")
    o.get_user_env = True


def _gpu_bind(o: _Options, v: Any) -> None:
    s = as_string(v)
    if not s:
        raise _Invalid("Invalid gpu_binding argument")
    o.desc["tres_bind"] = f"gpu:{s}"


def _gpu_freq(o: _Options, v: Any) -> None:
    s = as_string(v)
    if not s:
        raise _Invalid("Invalid gpu_frequency argument")
    o.desc["tres_freq"] = f"gpu:{s}"


def _gres(o: _Options, v: Any) -> None:
    s = as_string(v)
    if s.lower() in ("help", "list"):
        raise _Invalid('GRES "help" not supported')
    o.gres = s if s.lower() == "none" else gres_with_type(s)


def _gres_flags(o: _Options, v: Any) -> None:
    s = as_string(v).lower()
    o.job_flags &= ~(GRES_DISABLE_BIND | GRES_ENFORCE_BIND)
    if s == "disable-binding":
        o.job_flags |= GRES_DISABLE_BIND
    elif s == "enforce-binding":
        o.job_flags |= GRES_ENFORCE_BIND
    else:
        raise _Invalid(f"Invalid GRES flags: {v!r}")


def _hold(o: _Options, v: Any) -> None:
    o.hold = as_bool(v)


def _kill_inv_dep(o: _Options, v: Any) -> None:
    o.job_flags |= KILL_INV_DEP if as_bool(v) else NO_KILL_INV_DEP


def _mail_type(o: _Options, v: Any) -> None:
    o.mail_type |= mail_type(as_string(v))
    o.mail_type_set = True


def _mem_bind(o: _Options, v: Any) -> None:
    s = as_string(v)
    if "help" in s.lower():
        raise _Invalid("memory binding help not supported")
    flags, maps = memory_binding(s)
    o.desc["mem_bind_type"] = flags
    if maps is not None:
        o.desc["mem_bind"] = maps


def _mem_per_gpu(o: _Options, v: Any) -> None:
    mb = str_to_mbytes(as_string(v))
    if mb == NO_VAL64:
        raise _Invalid(f"Invalid memory_per_gpu specification: {v!r}")
    o.desc["mem_per_tres"] = f"gres:gpu:{mb}"


def _cpus_per_gpu(o: _Options, v: Any) -> None:
    n = as_int(v)
    if n <= 0 or n >= INT_MAX:
        raise _Invalid("cpus_per_gpu must be a positive integer")
    o.desc["cpus_per_tres"] = f"gres:gpu:{n}"


def _nice(o: _Options, v: Any) -> None:
    n = 100 if v is None else as_int(v)
    if abs(n) >= NICE_OFFSET - 3:
        raise _Invalid("Nice too large")
    o.desc["nice"] = NICE_OFFSET + n


def _no_kill(o: _Options, v: Any) -> None:
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


def _no_requeue(o: _Options, v: Any) -> None:
    if v is None or as_bool(v):
        o.desc["requeue"] = 0


def _requeue(o: _Options, v: Any) -> None:
    o.desc["requeue"] = 1 if (v is None or as_bool(v)) else 0


def _open_mode(o: _Options, v: Any) -> None:
    s = as_string(v)
    if s[:1] in ("a", "A"):
        o.desc["open_mode"] = OPEN_MODE_APPEND
    elif s[:1] in ("t", "T"):
        o.desc["open_mode"] = OPEN_MODE_TRUNCATE
    else:
        raise _Invalid(f"Invalid open mode specification: {v!r}")


def _priority(o: _Options, v: Any) -> None:
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


def _profile(o: _Options, v: Any) -> None:
    o.desc["profile"] = profile(as_string(v))


def _signal(o: _Options, v: Any) -> None:
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


def _umask(o: _Options, v: Any) -> None:
    # Parsed and checked like slurmrestd, which then does nothing with it.
    s = as_string(v)
    if not re.fullmatch(r"[0-7]+", s) or int(s, 8) > 0o7777:
        raise _Invalid(f"Invalid octal umask: {v!r}")


def _hint(o: _Options, v: Any) -> None:
    # slurmrestd accepts cpu_binding_hint and never uses it; so do we.
    as_string(v)


def _wait_all_nodes(o: _Options, v: Any) -> None:
    n = int(v) if isinstance(v, bool) else as_int(v)
    if n not in (0, 1):
        raise _Invalid("wait_all_nodes must be 0 or 1")
    o.desc["wait_all_nodes"] = n


def _server_cwd() -> str:
    """slurmrestd's default working directory for a job is its own (``arg_reset_chdir``);
    so is ours — or /tmp if ours has been removed."""
    try:
        return os.getcwd()
    except OSError:
        return "/tmp"


def _work_dir(o: _Options, v: Any) -> None:
    s = as_string(v)
    o.work_dir = s if s.startswith("/") else os.path.join(_server_cwd(), s)


def _array(o: _Options, v: Any) -> None:
    if o.submit:
        o.desc["array_inx"] = check_array(as_string(v))
        return
    # On an update slurmctld reads array_inx as the array's new task throttle (what scontrol
    # calls ArrayTaskThrottle): a count, written "5" or "%5".
    m = re.fullmatch(r"\s*%?(\d{1,9})\s*", as_string(v))
    if not m:
        raise _Invalid(f"an update takes the array's task throttle (\"%5\"), not {v!r}")
    o.desc["array_inx"] = m.group(1)


def _test_only(o: _Options, v: Any) -> None:
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


# -- document → job_desc --------------------------------------------------------------------

def _read(doc: Any, where: str, errors: list[dict], submit: bool) -> _Options | None:
    if not isinstance(doc, dict):
        errors.append(error_entry(ESLURM_REST_INVALID_JOBS_DESC,
                                  f"{where or 'the job document'} must be an object, "
                                  f"not {_kind(doc)}", where or "body"))
        return None
    o = _Options(submit)
    before = len(errors)
    for key, value in doc.items():
        name = str(key).lower()
        source = f"{where}.{key}" if where else str(key)
        if name not in KEYS:
            errors.append(error_entry(ESLURM_REST_FAIL_PARSING, f'Unknown key "{key}"', source))
            continue
        handler = KEYS[name]
        if handler is None:
            errors.append(error_entry(ESLURM_REST_FAIL_PARSING, f'Disabled key: "{key}"', source))
            continue
        try:
            handler(o, value)
        except _Invalid as e:
            errors.append(error_entry(e.errno if e.errno != SLURM_ERROR else ESLURM_REST_FAIL_PARSING,
                                      f'Unable to process key "{key}": {e.description}', source))
    return o if len(errors) == before else None


def _build(o: _Options, *, submit: bool) -> dict:
    """``slurm_opt_create_job_desc(opt, set_defaults=submit)`` plus slurmrestd's additions."""
    d = dict(o.desc)
    if o.job_flags:
        d["bitflags"] = o.job_flags
    if o.ntasks_set:
        d["bitflags"] = d.get("bitflags", 0) | JOB_NTASKS_SET
        d["num_tasks"] = o.ntasks
    if o.cpus_set:
        d["bitflags"] = d.get("bitflags", 0) | JOB_CPUS_SET
        d["cpus_per_task"] = o.cpus_per_task
        d["min_cpus"] = o.ntasks * o.cpus_per_task
    elif o.nodes is not None and o.nodes[0] == 0:
        d["min_cpus"] = 0
    elif submit:
        d["min_cpus"] = o.ntasks
    if o.nodes is not None:
        d["min_nodes"] = o.nodes[0]
        if o.nodes[1]:
            d["max_nodes"] = o.nodes[1]
    if o.mem_per_node is not None:
        d["pn_min_memory"] = o.mem_per_node
    elif o.mem_per_cpu is not None:
        d["pn_min_memory"] = o.mem_per_cpu | MEM_PER_CPU
    if o.hold is not None:
        d["priority"] = 0 if o.hold else INFINITE
    elif o.priority is not None:
        d["priority"] = o.priority
    if o.mail_type_set or submit:
        d["mail_type"] = o.mail_type
    if o.shared is not None:
        d["shared"] = o.shared
    tres = {
        "tres_per_job": tres_list("gres:gpu", o.gpus) if o.gpus else None,
        "tres_per_node": tres_list("gres:gpu", o.gpus_per_node) if o.gpus_per_node else None,
        "tres_per_socket": tres_list("gres:gpu", o.gpus_per_socket) if o.gpus_per_socket else None,
        "tres_per_task": tres_list("gres:gpu", o.gpus_per_task) if o.gpus_per_task else None,
    }
    if o.gres and o.gres.lower() != "none":
        tres["tres_per_node"] = f"{tres['tres_per_node']},{o.gres}" if tres["tres_per_node"] else o.gres
    d.update({k: v for k, v in tres.items() if v})
    if o.work_dir is not None:
        d["work_dir"] = o.work_dir
    elif submit:
        d["work_dir"] = _server_cwd()
    if submit:
        d.setdefault("contiguous", 0)
        d.setdefault("mem_bind_type", 0)
        d.setdefault("task_dist", SLURM_DIST_UNKNOWN)
        d["environment"] = _environment_for(o, d)
    # The caller's identity comes from the credential, never from the document.
    d["user_id"] = NO_VAL
    d["group_id"] = NO_VAL
    return d


def _environment_for(o: _Options, d: dict) -> list[str]:
    """The job's environment: the document's, then the variables sbatch's ``_opt_verify``
    would add (slurmrestd adds the same ones)."""
    env = dict(o.environment or ())
    if o.get_user_env:
        env["SLURM_GET_USER_ENV"] = "1"
    if d.get("name") is not None:
        env["SLURM_JOB_NAME"] = d["name"]
    if d.get("open_mode"):
        env["SLURM_OPEN_MODE"] = "a" if d["open_mode"] == OPEN_MODE_APPEND else "t"
    if d.get("dependency") is not None:
        env["SLURM_JOB_DEPENDENCY"] = d["dependency"]
    if d.get("profile"):
        env["SLURM_PROFILE"] = _profile_text(d["profile"])
    if d.get("acctg_freq") is not None:
        env["SLURM_ACCTG_FREQ"] = d["acctg_freq"]
    return [f"{k}={v}" for k, v in env.items()]


def _profile_text(word: int) -> str:
    if word == PROFILE_ALL:
        return "All"
    if word == PROFILE_NONE:
        return "None"
    return ",".join(n for n, b in (("Energy", PROFILE_ENERGY), ("Lustre", PROFILE_LUSTRE),
                                    ("Network", PROFILE_NETWORK), ("Task", PROFILE_TASK))
                    if word & b)


def job_desc(doc: Any, *, submit: bool, where: str = "") -> dict:
    """One job document → a job_desc dict (§5.10 field names; fields not set are left out so
    they take their ``slurm_init_job_desc_msg`` default — "no change" for an update).

    ``submit``: fill what sbatch fills for a new job and require ``environment``; otherwise
    (an update) only what the document names. ``where`` prefixes the ``source`` of each error
    (``"job"`` → ``job.time_limit``; empty: the key alone). Raises ``JobDocumentError``.
    """
    errors: list[dict] = []
    desc = _one(doc, submit=submit, where=where, errors=errors)
    if errors:
        raise JobDocumentError(errors)
    return desc


def _one(doc: Any, *, submit: bool, where: str, errors: list[dict]) -> dict | None:
    o = _read(doc, where, errors, submit)
    if o is None:
        return None
    if submit and not o.environment:
        errors.append(error_entry(ESLURM_ENVIRONMENT_MISSING, "environment must be set",
                                  f"{where}.environment" if where else "environment"))
        return None
    return _build(o, submit=submit)


SUBMISSION_KEYS = ("script", "job", "jobs")


def submission(body: Any, *, session_id: int | None = None) -> tuple[list[dict], bool]:
    """A ``v0.0.38_job_submission`` document → (job_desc list, is_het_job).

    ``job`` (an object, or a list for a heterogeneous job) or ``jobs`` (a list) carries the
    job(s); ``script`` goes to the first component. Every component is checked before any is
    returned, so nothing is submitted half-way. ``session_id`` becomes ``alloc_sid``
    (slurmrestd sends its own session id, as libslurm does).
    """
    errors: list[dict] = []
    if not isinstance(body, dict):
        raise JobDocumentError([error_entry(ESLURM_REST_INVALID_QUERY,
                                            f"the request body must be an object, not {_kind(body)}",
                                            "body")])
    for key in body:
        if key not in SUBMISSION_KEYS:
            errors.append(error_entry(ESLURM_REST_FAIL_PARSING, f'Unknown key "{key}"', str(key)))
    script = body.get("script")
    if script is None or script == "":
        errors.append(error_entry(ESLURM_JOB_SCRIPT_MISSING, "script must be a non-empty string",
                                  "script"))
    elif not isinstance(script, str):
        errors.append(error_entry(ESLURM_JOB_SCRIPT_MISSING,
                                  f"script must be a string, not {_kind(script)}", "script"))
    elif "\0" in script:
        errors.append(error_entry(ESLURM_JOB_SCRIPT_MISSING,
                                  "script must not contain a NUL byte", "script"))
    if "job" in body and "jobs" in body:
        errors.append(error_entry(ESLURM_REST_INVALID_JOBS_DESC,
                                  'give either "job" or "jobs", not both', "jobs"))
        raise JobDocumentError(errors)
    where = "job" if "job" in body else "jobs"
    jobs = body.get(where)
    descs: list[dict] = []
    het = isinstance(jobs, list)
    if jobs is None:
        errors.append(error_entry(ESLURM_REST_INVALID_JOBS_DESC,
                                  'the job description ("job" or "jobs") is missing', "job"))
    elif het:
        if not jobs:
            errors.append(error_entry(ESLURM_REST_INVALID_JOBS_DESC,
                                      f"{where} must list at least one component", where))
        for i, component in enumerate(jobs):
            desc = _one(component, submit=True, where=f"{where}[{i}]", errors=errors)
            if desc is not None:
                descs.append(desc)
    elif isinstance(jobs, dict):
        desc = _one(jobs, submit=True, where=where, errors=errors)
        if desc is not None:
            descs.append(desc)
    else:
        errors.append(error_entry(ESLURM_REST_INVALID_JOBS_DESC,
                                  f"{where} must be an object or a list, not {_kind(jobs)}", where))
    if errors:
        raise JobDocumentError(errors)
    descs[0]["script"] = script
    if session_id is not None:
        for desc in descs:
            desc["alloc_sid"] = session_id
    return descs, het
