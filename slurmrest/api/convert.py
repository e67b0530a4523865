"""Small conversions shared by the read operations: Slurm's special values, bitmaps, hostlists,
uid/gid names — each the way slurmrestd 22.05 renders it.

Decoded wire records keep Slurm's raw integers (NO_VAL stays 0xfffffffe); which raw value
becomes ``null``, ``-1`` or a number is decided field by field here and in the record
converters, following slurmrestd's ``dump_*`` functions. Enumerations and flag words are
spelled by ``spellings``.
"""

from __future__ import annotations

import grp
import pwd
import re
from functools import lru_cache
from typing import Iterator

from slurmrest.wire.enums import flag_names  # noqa: F401  (re-exported for the API room)
from slurmrest.wire.primitives import (  # noqa: F401  (re-exported for the API room)
    INFINITE, INFINITE16, INFINITE64, MEM_PER_CPU, NICE_OFFSET, NO_VAL, NO_VAL8, NO_VAL16,
    NO_VAL64, set_bits)


def text(value: str | None) -> str:
    """slurmrestd's ``data_set_string``: a NULL C string is serialised as ``""``."""
    return "" if value is None else value


def unless(value: int, *specials: int) -> int | None:
    """``value``, or ``None`` when it is one of Slurm's special values ``specials``."""
    return None if value in specials else value


# -- uid / gid ----------------------------------------------------------------------------

@lru_cache(maxsize=4096)
def user_name(uid: int) -> str | None:
    """``uid_to_string_or_null``: the local passwd name, or None."""
    try:
        return pwd.getpwuid(uid).pw_name
    except (KeyError, OverflowError, ValueError):
        return None


@lru_cache(maxsize=4096)
def group_name(gid: int) -> str | None:
    """``gid_to_string_or_null``: the local group name, or None."""
    try:
        return grp.getgrgid(gid).gr_name
    except (KeyError, OverflowError, ValueError):
        return None


# -- bitmaps -------------------------------------------------------------------------------

def bitmap_int(value) -> int:
    """A decoded bitmap as a Python int (bit i = index i).

    Accepts the forms a decoder may produce: ``None`` (no bitmap), the ``"0x…"`` hex text of
    ``bit_fmt_hexmask``, an int, a ``(nbits, hex)`` pair, a dict with ``bits``/``hex``/``mask``,
    or an iterable of set indexes.
    """
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value, 16) if value[2:] else 0
    if isinstance(value, (bytes, bytearray)):
        return bitmap_int(value.decode("ascii"))
    if isinstance(value, dict):
        for key in ("mask", "hex", "bits", "value"):
            if key in value:
                return bitmap_int(value[key])
        return 0
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], (str, type(None))):
        return bitmap_int(value[1])
    mask = 0
    for index in value:
        mask |= 1 << index
    return mask


def bit_indexes(value) -> list[int]:
    """The set bit positions of a decoded bitmap, ascending."""
    return set_bits(bitmap_int(value))


def bit_ranges(indexes: list[int]) -> Iterator[tuple[int, int]]:
    """Inclusive ``(first, last)`` runs of ascending ``indexes``."""
    it = iter(indexes)
    try:
        first = last = next(it)
    except StopIteration:
        return
    for index in it:
        if index == last + 1:
            last = index
            continue
        yield first, last
        first = last = index
    yield first, last


def bit_fmt(indexes: list[int]) -> str:
    """``bit_fmt``: ``"1-5,7"``."""
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in bit_ranges(indexes))


#: ``xlate_array_task_str`` prints at most SLURM_BITSTR_LEN (64) bytes, NUL included.
_BITSTR_LEN = 64


def array_task_string(hex_mask: str | None, max_tasks: int = 0) -> str | None:
    """The array meta record's pending tasks, as ``xlate_array_task_str`` writes them:
    ``"1-5,7"``, a step function ``"0-100:5"``, truncated to 63 characters ending in
    ``"..."``, followed by ``"%N"`` when ``max_tasks`` is set. None for no bitmap."""
    if not hex_mask or len(hex_mask) < 3 or hex_mask[1] != "x":
        return hex_mask
    tasks = bit_indexes(hex_mask)
    out = None
    if tasks and tasks[-1] - tasks[0] > 10 and len(tasks) > 5 and tasks[1] != tasks[0] + 1:
        steps = {b - a for a, b in zip(tasks, tasks[1:])}
        if len(steps) == 1:
            out = f"{tasks[0]}-{tasks[-1]}:{steps.pop()}"
    if out is None:
        out = bit_fmt(tasks)
        if len(out) > _BITSTR_LEN - 3:
            out = out[:_BITSTR_LEN - 4] + "..."
    if max_tasks:
        out += f"%{max_tasks}"
    return out


# -- hostlists -----------------------------------------------------------------------------

_BRACKET = re.compile(r"\[([^\]]*)\]")


def _split_top_level(expr: str) -> Iterator[str]:
    depth = 0
    start = 0
    for i, ch in enumerate(expr):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "," and depth == 0:
            yield expr[start:i]
            start = i + 1
    yield expr[start:]


def _expand_host(token: str) -> list[str]:
    match = _BRACKET.search(token)
    if not match:
        return [token]
    prefix, suffix = token[:match.start()], token[match.end():]
    names = []
    for part in match.group(1).split(","):
        lo, _, hi = part.partition("-")
        hi = hi or lo
        width = len(lo) if lo.startswith("0") else 0
        for n in range(int(lo), int(hi) + 1):
            names.extend(_expand_host(f"{prefix}{n:0{width}d}{suffix}"))
    return names


def hostnames(expr: str | None) -> list[str]:
    """Expand a Slurm hostlist expression (``"n[1-3,7],login01"``) into names, in order."""
    if not expr:
        return []
    out = []
    for token in _split_top_level(expr.strip()):
        if token:
            out.extend(_expand_host(token))
    return out
