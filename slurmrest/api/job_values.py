"""The values of a v0.0.38 job document, read the way slurmrestd 22.05 reads them.

Two layers: ``data_t``'s scalar conversions (``src/common/data.c``: ``"5"`` for ``5``, the
yes/no spellings) and Slurm's option parsers (``proc_args.c``, ``parse_time.c``,
``slurm_opt.c`` …: time limits, memory sizes, node counts, distributions, CPU frequencies).
A value that cannot be read raises ``InvalidValue``; the builder (``job_desc``) turns it into
an error entry naming the key.
"""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta
from typing import Any

from slurmrest.wire import enums
from slurmrest.wire.errors import (ESLURM_DATA_CONV_FAILED, ESLURM_INVALID_TIME_VALUE,
                                   SLURM_ERROR)
from slurmrest.wire.primitives import INFINITE, MEM_PER_CPU, NO_VAL, NO_VAL64

INT_MAX = 2**31 - 1

# cpu_freq_verify_cmdline's words, tried as case-insensitive prefixes in this order.
_CPU_FREQ_GOVERNORS = (("co", enums.CPU_FREQ_CONSERVATIVE), ("perf", enums.CPU_FREQ_PERFORMANCE),
                       ("pow", enums.CPU_FREQ_POWERSAVE), ("user", enums.CPU_FREQ_USERSPACE),
                       ("onde", enums.CPU_FREQ_ONDEMAND), ("sche", enums.CPU_FREQ_SCHEDUTIL))
_CPU_FREQ_NAMES = (("lo", enums.CPU_FREQ_LOW), ("him1", enums.CPU_FREQ_HIGHM1),
                   ("highm1", enums.CPU_FREQ_HIGHM1), ("hi", enums.CPU_FREQ_HIGH),
                   ("med", enums.CPU_FREQ_MEDIUM))

_MEM_BIND_KINDS = (enums.MEM_BIND_NONE | enums.MEM_BIND_RANK | enums.MEM_BIND_LOCAL
                   | enums.MEM_BIND_MAP | enums.MEM_BIND_MASK)


class InvalidValue(Exception):
    """A value the document cannot have: ``description`` for the error entry, ``errno``
    Slurm's number for it (SLURM_ERROR: the key table reports ESLURM_REST_FAIL_PARSING)."""

    def __init__(self, description: str, errno: int = SLURM_ERROR):
        super().__init__(description)
        self.description = description
        self.errno = errno


_Invalid = InvalidValue  # short, for the many raises below


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

_MAIL_TYPES = {name: bit for bit, name in enums.MAIL_TYPE_NAMES}


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
            word |= enums.MAIL_ALL
        elif name in _MAIL_TYPES:
            word |= _MAIL_TYPES[name]
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
    flags = 0
    spec, _, option = text.partition(",")
    if option:
        opt = option.strip().lower()
        if opt == "pack":
            flags = enums.SLURM_DIST_PACK_NODES
        elif opt == "nopack":
            flags = enums.SLURM_DIST_NO_PACK_NODES
        else:
            raise _Invalid(f"Invalid distribution: {text!r}")
    m = re.fullmatch(r"(?i)plane=(\d+)", spec.strip())
    if m:
        if int(m.group(1)) < 1:
            raise _Invalid(f"Invalid distribution: {text!r}")
        return enums.SLURM_DIST_PLANE | flags, int(m.group(1))
    levels = spec.strip().lower().split(":")
    if not spec or len(levels) > 3:
        raise _Invalid(f"Invalid distribution: {text!r}")
    dist = 0
    for depth, level in enumerate(levels):
        if level == "*":
            level = "block" if depth == 0 else "cyclic"
        table = enums.SLURM_DIST_NODE_WORDS if depth == 0 else enums.SLURM_DIST_LOWER_WORDS
        if level not in table or (depth and dist == enums.SLURM_DIST_ARBITRARY):
            raise _Invalid(f"Invalid distribution: {text!r}")
        dist |= table[level] << (enums.SLURM_DIST_LEVEL_BITS * depth)
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
        if m and 0 < int(m.group(0)) < enums.CPU_FREQ_RANGE_FLAG:
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
            flags |= enums.MEM_BIND_PREFER
        elif low == "nosort":
            flags &= ~enums.MEM_BIND_SORT
        elif low == "sort":
            flags |= enums.MEM_BIND_SORT
        elif low in ("q", "quiet"):
            flags &= ~enums.MEM_BIND_VERBOSE
        elif low in ("v", "verbose"):
            flags |= enums.MEM_BIND_VERBOSE
        elif low in ("no", "none", "rank", "local"):
            kind = {"no": enums.MEM_BIND_NONE, "none": enums.MEM_BIND_NONE, "rank": enums.MEM_BIND_RANK,
                    "local": enums.MEM_BIND_LOCAL}[low]
            flags, maps = (flags & ~_MEM_BIND_KINDS) | kind, None
        elif re.match(r"(map_?mem|mask_?mem)[:=]", low):
            kind = enums.MEM_BIND_MAP if low.startswith("map") else enums.MEM_BIND_MASK
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
        return enums.ACCT_GATHER_PROFILE_NONE
    if "all" in low:
        return enums.ACCT_GATHER_PROFILE_ALL
    word = 0
    for name, bit in (("energy", enums.ACCT_GATHER_PROFILE_ENERGY),
                      ("task", enums.ACCT_GATHER_PROFILE_TASK),
                      ("lustre", enums.ACCT_GATHER_PROFILE_LUSTRE),
                      ("network", enums.ACCT_GATHER_PROFILE_NETWORK)):
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
