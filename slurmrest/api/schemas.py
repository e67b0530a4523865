"""Compact OpenAPI schema declarations for the documents the read operations return.

``fields("name type …")``: one field per whitespace-separated ``name:type`` pair, where type
is ``s`` string, ``i`` integer, ``n`` number, ``b`` boolean, ``o`` object, ``[s]`` list of
strings; a trailing ``?`` marks a field that may be ``null``. Names may contain spaces only
through ``extra`` (slurmrestd's partition has ``"min nodes per job"``).
"""

from __future__ import annotations

from slurmrest.api.registry import schema_ref

__all__ = ["fields", "response", "schema_ref"]

_TYPES = {"s": "string", "i": "integer", "n": "number", "b": "boolean", "o": "object"}


def _schema(code: str) -> dict:
    nullable = code.endswith("?")
    code = code.rstrip("?")
    if code.startswith("["):
        out = {"type": "array", "items": {"type": _TYPES[code[1:-1]]}}
    else:
        out = {"type": _TYPES[code]}
    if nullable:
        out["nullable"] = True
    return out


def fields(spec: str, **extra: dict) -> dict:
    """``{"type": "object", "properties": …}`` from a ``name:type`` list (module doc)."""
    properties = {}
    for item in spec.split():
        name, code = item.split(":")
        properties[name] = _schema(code)
    properties.update(extra)
    return {"type": "object", "properties": properties}


def response(collection: str, item_ref: dict) -> dict:
    """A slurmrestd list response: ``{collection: [item]}`` (the web room adds meta/errors)."""
    return {"type": "object",
            "properties": {collection: {"type": "array", "items": item_ref}}}
