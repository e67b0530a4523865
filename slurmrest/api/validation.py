"""Input checked at the edge, before any operation sees it: one mechanism, driven by what the
registry declares (each ``Param``, each operation's ``request_schema``), so that what the
OpenAPI document says is what is enforced.

Two kinds of rules:

- The declared ones: a value's type (``integer``, ``number``, ``string``, ``boolean``,
  ``array``, ``object``, ``nullable``, ``oneOf``/``anyOf``/``allOf``, ``$ref``) and its range
  (``minimum``/``maximum``, ``maxLength``, ``maxItems``). Names of object members are matched
  as the handlers match them (exactly, else lower-cased: slurmrestd's keys are
  case-insensitive); members the schema does not name are the handler's to refuse, in
  slurmrestd's words.
- The universal ones, for every value anywhere in a document, declared or not: a string that
  cannot be encoded (a lone surrogate) or that holds a NUL byte (Slurm's strings end there);
  an integer beyond what any Slurm field holds (64 bits); a float that is not finite; nesting
  deeper than ``MAX_DEPTH``. For the accounting family also text outside the Basic
  Multilingual Plane, which slurmdbd's MySQL tables (``latin1`` or 3-byte ``utf8``) cannot
  hold; other characters a ``latin1`` table lacks are only found by slurmdbd, whose MySQL
  error (1267) ``api.errors`` answers with 400 as well.

A refusal lists at most ``MAX_PROBLEMS`` problems (a 200,000-element list of bad values gets
a short answer, not one entry per element).
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable, Iterator, Mapping

#: What the largest Slurm integer fields hold (uint64_t), and the smallest (int64_t).
INT_MIN, INT_MAX = -(1 << 63), (1 << 64) - 1
#: The range of a query or path integer nobody declared a range for (time_t).
PARAM_INT_MIN, PARAM_INT_MAX = -(1 << 63), (1 << 63) - 1
#: Deepest nesting of a request document (Slurm's own documents are at most ~6 deep).
MAX_DEPTH = 32
#: Problems named in one refusal; the rest are counted.
MAX_PROBLEMS = 20

_INTEGER_TEXT = re.compile(r"-?[0-9]{1,20}\Z")
_OUTSIDE_BMP = re.compile("[\U00010000-\U0010ffff]")


class Invalid(Exception):
    """The request does not hold to what the operation declares: ``problems`` (each
    ``(where, what)``), at most ``MAX_PROBLEMS`` of them, and ``more`` left unnamed."""

    def __init__(self, problems: list[tuple[str, str]], more: int = 0):
        super().__init__("; ".join(f"{where}: {what}" for where, what in problems))
        self.problems = problems
        self.more = more


class _Problems:
    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []
        self.more = 0

    def add(self, where: str, what: str) -> None:
        if len(self.found) < MAX_PROBLEMS:
            self.found.append((where, what))
        else:
            self.more += 1

    def raise_any(self) -> None:
        if self.found:
            raise Invalid(self.found, self.more)


def text_problem(text: str, *, bmp_only: bool = False) -> str | None:
    """Why ``text`` cannot be handed to Slurm, or None."""
    if "\0" in text:
        return "must not contain a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "is not encodable text (a lone surrogate)"
    if bmp_only and _OUTSIDE_BMP.search(text):
        return "holds characters beyond U+FFFF, which Slurm's database cannot store"
    return None


# -- parameters ------------------------------------------------------------------------------

def parse_param(param, text: str, *, bmp_only: bool = False) -> Any:
    """A path or query value converted to the ``Param``'s type, in its range; ``ValueError``
    with the reason otherwise."""
    problem = text_problem(text, bmp_only=bmp_only)
    if problem is not None:
        raise ValueError(problem)
    if param.type is int and param.convert is None:
        if not _INTEGER_TEXT.match(text):
            raise ValueError("not an integer")
        value = int(text)
    else:
        try:
            value = param.parse(text)
        except (ValueError, TypeError, OverflowError):
            raise ValueError(f"not a valid {param.type.__name__}") from None
    if isinstance(value, int) and not isinstance(value, bool):
        low, high = param_range(param)
        if not low <= value <= high:
            raise ValueError(f"out of range ({low}..{high})")
    if isinstance(value, str) and param.max_length is not None and len(value) > param.max_length:
        raise ValueError(f"longer than {param.max_length} characters")
    return value


def param_range(param) -> tuple[int, int]:
    low = param.minimum if param.minimum is not None else PARAM_INT_MIN
    high = param.maximum if param.maximum is not None else PARAM_INT_MAX
    return low, high


def check_params(params, raw: Mapping[str, str | None], *, bmp_only: bool = False) -> dict:
    """Every declared parameter given in ``raw`` (name -> text), converted; ``Invalid``
    naming each bad or missing one."""
    problems = _Problems()
    values = {}
    for p in params:
        text = raw.get(p.name)
        if text is None:
            if p.required or p.location == "path":
                problems.add(p.name, "is required")
            continue
        try:
            values[p.name] = parse_param(p, text, bmp_only=bmp_only)
        except ValueError as e:
            problems.add(p.name, str(e))
    problems.raise_any()
    return values


# -- documents -------------------------------------------------------------------------------

def check_document(document: Any, schema: dict | None, schemas: Mapping[str, dict], *,
                   bmp_only: bool = False) -> None:
    """``Invalid`` unless ``document`` holds to ``schema`` (``$ref`` resolved in ``schemas``)
    and to the universal rules (module doc)."""
    problems = _Problems()
    # Where a problem is: body/QOS/0/priority (slurmrestd's path form, as the handlers say it)
    _Checker(schemas, problems, bmp_only).check(document, schema, "body", 0)
    problems.raise_any()


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


_IS: dict[str, Callable[[Any], bool]] = {
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


class _Checker:
    def __init__(self, schemas: Mapping[str, dict], problems: _Problems, bmp_only: bool):
        self.schemas = schemas
        self.problems = problems
        self.bmp_only = bmp_only

    def resolve(self, schema: dict | None) -> dict | None:
        seen = 0
        while schema is not None and "$ref" in schema and seen < 16:
            schema = self.schemas.get(schema["$ref"].rsplit("/", 1)[-1])
            seen += 1
        return schema

    def check(self, value: Any, schema: dict | None, where: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            self.problems.add(where, f"nested deeper than {MAX_DEPTH} levels")
            return
        if value is None and schema is not None and schema.get("nullable"):
            return  # (beside a $ref too, as the accounting schemas write it)
        schema = self.resolve(schema)
        before = len(self.problems.found) + self.problems.more
        self.universal(value, where)
        if schema is not None and len(self.problems.found) + self.problems.more == before:
            self.declared(value, schema, where)  # a value no Slurm field takes: said once
        self.members(value, schema, where, depth)

    def universal(self, value: Any, where: str) -> None:
        if isinstance(value, str):
            problem = text_problem(value, bmp_only=self.bmp_only)
            if problem is not None:
                self.problems.add(where, problem)
        elif isinstance(value, bool):
            pass
        elif isinstance(value, int):
            if not INT_MIN <= value <= INT_MAX:
                self.problems.add(where, "integer beyond 64 bits")
        elif isinstance(value, float):
            if not math.isfinite(value):
                self.problems.add(where, "not a finite number")
        elif isinstance(value, dict):
            for key in value:
                if not isinstance(key, str):
                    self.problems.add(where, f"member name {_kind(key)}, not a string")
                    continue
                problem = text_problem(key, bmp_only=self.bmp_only)
                if problem is not None:
                    self.problems.add(f"{where}: member name {key[:32]!r}", problem)
        elif value is not None and not isinstance(value, list):
            # YAML gives dates, timestamps, binary: taken as the handlers take them.
            pass

    def matches(self, value: Any, schema: dict) -> bool:
        """Does ``value`` hold to ``schema`` (for ``oneOf``/``anyOf``: no problems kept)?"""
        trial = _Problems()
        _Checker(self.schemas, trial, self.bmp_only).check(value, schema, "", 0)
        return not trial.found

    def declared(self, value: Any, schema: dict, where: str) -> None:
        if value is None and schema.get("nullable"):
            return
        for part in schema.get("allOf", ()):
            self.declared(value, self.resolve(part) or {}, where)
        alternatives = schema.get("oneOf") or schema.get("anyOf")
        if alternatives and not any(self.matches(value, self.resolve(a) or {})
                                    for a in alternatives):
            self.problems.add(where, f"{_kind(value)} matches none of its forms")
            return
        kind = schema.get("type")
        if value is None:
            if kind is not None and not schema.get("nullable"):
                self.problems.add(where, f"must be {kind}, not null")
            return
        if kind is not None and kind in _IS and not _IS[kind](value):
            wanted = {"object": "an object (a dictionary)", "array": "an array (a list)"}.get(
                kind, f"{'an' if kind[0] in 'aeio' else 'a'} {kind}")
            name = where.rsplit("/", 1)[-1]
            subject = f"'{name}' " if "/" in where and not name.isdigit() else ""
            self.problems.add(where, f"{subject}must be {wanted}, not {_kind(value)}")
            return
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            low, high = schema.get("minimum"), schema.get("maximum")
            if (low is not None and value < low) or (high is not None and value > high):
                self.problems.add(where, f"out of range ({low}..{high})")
        elif isinstance(value, str):
            limit = schema.get("maxLength")
            if limit is not None and len(value) > limit:
                self.problems.add(where, f"longer than {limit} characters")
        elif isinstance(value, list):
            limit = schema.get("maxItems")
            if limit is not None and len(value) > limit:
                self.problems.add(where, f"more than {limit} elements")

    def members(self, value: Any, schema: dict | None, where: str, depth: int) -> None:
        if isinstance(value, list):
            items = schema.get("items") if schema is not None else None
            for i, item in enumerate(value):
                self.check(item, items, f"{where}/{i}", depth + 1)
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str):
                    self.check(item, _member_schema(schema, key), f"{where}/{key}", depth + 1)


def _member_schema(schema: dict | None, key: str) -> dict | None:
    """The schema of member ``key``: named in ``properties`` (exactly, else lower-cased),
    else ``additionalProperties`` when that is a schema; None: only the universal rules."""
    if schema is None:
        return None
    properties = schema.get("properties") or {}
    found = properties.get(key)
    if found is None:
        found = properties.get(key.lower())
    if found is None:
        extra = schema.get("additionalProperties")
        found = extra if isinstance(extra, dict) else None
    return found


def walk_problems(error: Invalid) -> Iterator[str]:
    """The problems as text, one each, then a count of the unnamed ones."""
    for where, what in error.problems:
        yield f"{where}: {what}"
    if error.more:
        yield f"and {error.more} more problems"
