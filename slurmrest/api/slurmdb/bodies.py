"""Request bodies of the accounting writes, checked before anything is sent to slurmdbd.

slurmrestd 22.05 skips fields it does not know, and a field of the wrong type sometimes
turns into a zero it then writes. We refuse such a body whole, with 400 and a text naming
the field (``ESLURM_REST_INVALID_QUERY``'s entry, as slurmrestd words its own refusals), so
that nothing is written from a body that was not understood.

A record is described by a ``Shape``: ``{field: kind}``, where a kind is ``str``, ``int``,
``[str]`` (a list of strings), ``dict`` (any object), ``object`` (anything: a field known
only to be refused by name), or a nested ``Shape``; ``required`` names the fields that
must be present and not null.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slurmrest.api.errors import ApiError, error_entry
from slurmrest.wire.errors import ESLURM_REST_INVALID_QUERY


@dataclass(frozen=True)
class Shape:
    kinds: dict[str, Any]
    required: tuple[str, ...] = field(default=())


def refuse(text: str, source: str) -> ApiError:
    """A 400 for a body that cannot be written."""
    return ApiError(400, [error_entry(ESLURM_REST_INVALID_QUERY, text, source)])


def records(body: Any, key: str, shape: Shape, source: str) -> list[dict]:
    """``body[key]``: a non-empty list of records of ``shape`` (checked, not converted)."""
    if not isinstance(body, dict):
        raise refuse(f"the body must be an object with a {key!r} list", source)
    unknown = sorted(set(body) - {key})
    if unknown:
        raise refuse(f"unknown field(s) in the body: {', '.join(unknown)}", source)
    items = body.get(key)
    if not isinstance(items, list) or not items:
        raise refuse(f"{key!r} must be a non-empty list", source)
    for i, item in enumerate(items):
        check(item, shape, f"{key}[{i}]", source)
    return items


def check(value: Any, shape: Shape, where: str, source: str) -> None:
    """Refuse ``value`` unless it is an object of ``shape``."""
    if not isinstance(value, dict):
        raise refuse(f"{where} must be an object", source)
    unknown = sorted(set(value) - set(shape.kinds))
    if unknown:
        raise refuse(f"{where}: unknown field(s) {', '.join(unknown)}", source)
    for name in shape.required:
        if value.get(name) is None or value.get(name) == "":
            raise refuse(f"{where}: missing required field {name!r}", source)
    for name, item in value.items():
        if item is not None:
            _check_kind(item, shape.kinds[name], f"{where}.{name}", source)


def _check_kind(value: Any, kind: Any, where: str, source: str) -> None:
    if kind is object:
        return
    if isinstance(kind, Shape):
        check(value, kind, where, source)
    elif isinstance(kind, list):
        if not isinstance(value, list):
            raise refuse(f"{where} must be a list", source)
        for i, item in enumerate(value):
            _check_kind(item, kind[0], f"{where}[{i}]", source)
    elif kind is int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise refuse(f"{where} must be a non-negative integer", source)
    elif kind is str:
        if not isinstance(value, str):
            raise refuse(f"{where} must be a string", source)
    elif kind is dict:
        if not isinstance(value, dict):
            raise refuse(f"{where} must be an object", source)
    else:  # pragma: no cover - a mistake in a Shape
        raise TypeError(f"unknown kind {kind!r}")


def flag_bits(names: list[str] | None, table: dict[str, int], where: str, source: str) -> int:
    """The bits of slurmrestd's flag names (case-insensitive); unknown names are refused."""
    bits = 0
    by_upper = {name.upper(): bit for name, bit in table.items()}
    for name in names or ():
        bit = by_upper.get(name.upper())
        if bit is None:
            raise refuse(f"{where}: unknown flag {name!r} (known: {', '.join(table)})", source)
        bits |= bit
    return bits
