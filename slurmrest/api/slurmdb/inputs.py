"""What the association and user operations take in: Slurm's comma-separated name lists
(query parameters) and request bodies read *and converted* against a shape of readers
(``bodies`` only checks a shape; an association's fields need conversions: limits with null
for "none", TRES and QOS by name).

A body is refused whole (``BodyError``, ``bodies.refuse``'s 400) for any unknown key, wrong
type or missing required field before anything is written; slurmrestd 22.05 instead ignores
unknown keys, answers 200 with "Missing required field" beside it, or writes half of a list.
"""

from __future__ import annotations

from typing import Any, Callable

from slurmrest.api.errors import ApiError
from slurmrest.api.slurmdb import bodies
from slurmrest.wire import primitives as P

Reader = Callable[[Any, str], Any]

#: Keys of a GET answer that a client may send back with it (ignored in bodies).
ANSWER_KEYS = frozenset({"meta", "errors", "warnings"})


def char_list(text: str) -> list[str]:
    """``slurm_addto_char_list``: ``"a,B,,a"`` → ``["b", "a"]`` (lower case, blanks dropped,
    a repeated name moved to the end)."""
    names: list[str] = []
    for item in text.split(","):
        item = item.strip("\"'").lower()
        if not item:
            continue
        if item in names:
            names.remove(item)
        names.append(item)
    return names


class BodyError(Exception):
    """A request body slurmrest will not write: ``where`` (a ``/`` path) and why."""

    def __init__(self, where: str, why: str):
        super().__init__(f"{where}: {why}" if where else why)
        self.where, self.why = where, why

    def api_error(self, source: str) -> ApiError:
        return bodies.refuse(str(self), source)


def body_records(body: Any, key: str, source: str) -> list[Any]:
    """The list under ``key`` of a POST body (``{"users": [...]}``), or a 400."""
    if not isinstance(body, dict):
        raise bodies.refuse(f"the body must be an object with a {key!r} list", source)
    unknown = sorted(set(body) - {key} - ANSWER_KEYS)
    if unknown:
        raise BodyError("", f"unknown field(s) {', '.join(map(repr, unknown))}; "
                            f"expected {key!r}").api_error(source)
    records = body.get(key)
    if not isinstance(records, list):
        raise bodies.refuse(f"{key!r} must be a list" if key in body
                            else f"missing required field {key!r}", source)
    return records


def read(document: Any, shape: dict, where: str = "", _inside: str = "") -> dict[str, Any]:
    """``document`` read against ``shape`` (``{key: reader or sub-shape}``): the values of
    the keys present, by their path in the document (``{"max/jobs/active": 4}``);
    BodyError (naming ``where`` and the path) for an unknown key or a value its reader
    refuses. A null sub-object stands for none of its keys."""
    if not isinstance(document, dict):
        raise BodyError(where, "must be an object")
    out: dict[str, Any] = {}
    for key, value in document.items():
        inside = f"{_inside}/{key}" if _inside else key
        path = f"{where}/{key}" if where else key
        sub = shape.get(key)
        if sub is None:
            raise BodyError(path, "unknown field")
        if isinstance(sub, dict):
            if value is not None:
                out.update(read(value, sub, path, inside))
        else:
            out[inside] = sub(value, path)
    return out


def require(found: dict[str, Any], *paths: str, where: str = "") -> None:
    for path in paths:
        if found.get(path) in (None, ""):
            raise BodyError(f"{where}/{path}" if where else path, "missing required field")


# -- readers: (value, path) -> value ------------------------------------------------------

def _integer(value: Any, path: str, top: int, infinite: int) -> int:
    if value is None:  # slurmrestd: null is "unlimited" (clears a limit)
        return infinite
    if isinstance(value, bool) or not isinstance(value, int):
        raise BodyError(path, f"must be an integer or null, not {value!r}")
    if not 0 <= value <= top:
        raise BodyError(path, f"{value} is out of range (0 to {top})")
    return value


def u32(value: Any, path: str) -> int:
    """A 32-bit limit: an integer, or null for none (INFINITE)."""
    return _integer(value, path, P.INFINITE - 2, P.INFINITE)


def u16(value: Any, path: str) -> int:
    return _integer(value, path, P.INFINITE16 - 2, P.INFINITE16)


def string(value: Any, path: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise BodyError(path, f"must be a string, not {value!r}")
    return value


def strings(value: Any, path: str) -> list[str]:
    """A list of strings (or objects with a ``name``, as slurmrestd's own lists print)."""
    if not isinstance(value, list):
        raise BodyError(path, f"must be a list, not {value!r}")
    out = []
    for i, item in enumerate(value):
        if isinstance(item, dict) and set(item) <= {"name", "id"} and "name" in item:
            item = item["name"]
        if not isinstance(item, str) or not item:
            raise BodyError(f"{path}/{i}", f"must be a name, not {item!r}")
        out.append(item)
    return out


def objects(value: Any, path: str) -> list[dict]:
    if not isinstance(value, list):
        raise BodyError(path, f"must be a list, not {value!r}")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise BodyError(f"{path}/{i}", f"must be an object, not {item!r}")
    return value


def anything(value: Any, path: str) -> Any:
    """Accepted and ignored (what GET prints but a write cannot set, e.g. ``usage``)."""
    return value


def flags(*names: str) -> Reader:
    """A list of flag names (case-insensitive), as upper-case names."""
    known = {n.upper() for n in names}

    def reader(value: Any, path: str) -> list[str]:
        out = []
        for i, item in enumerate(strings(value, path)):
            if item.upper() not in known:
                raise BodyError(f"{path}/{i}", f"unknown flag {item!r} "
                                               f"(known: {', '.join(sorted(known))})")
            out.append(item.upper())
        return out

    return reader
