"""The one registry of operations: routing and the OpenAPI document both come from it.

An operation module declares its operations with ``@operation(...)`` at import time; the web
room walks ``REGISTRY`` to build its Resource tree and the OpenAPI document, under every API
version prefix of the operation's family (``/slurm/v0.0.38``, ``/slurm/v1``, …).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterator, Mapping

from slurmrest.api.errors import (  # noqa: F401 (ApiError, NotModified: re-exported)
    BODY_STATUSES, DEFAULT_STATUS, EDGE_STATUSES, GATEWAY_STATUSES, ApiError, NotModified)
from slurmrest.api.state import ServerState

#: Version prefixes each API family is served under. v0.0.38 keeps slurmrestd 22.05's paths
#: and shapes, so that existing clients work unchanged; v1 is our own stable name for them.
API_VERSIONS: Mapping[str, tuple[str, ...]] = {
    "slurm": ("v0.0.38", "v1"),
    "slurmdb": ("v0.0.38", "v1"),
}

_PARAM_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}


@dataclass(frozen=True)
class Param:
    """A path or query parameter, converted to ``type`` before the handler sees it."""

    name: str
    location: str = "query"  # "path", "query" or "header"
    type: type = str
    required: bool = False
    description: str = ""
    #: Optional converter from the raw text to the value (raises ValueError on bad input);
    #: defaults to ``type``.
    convert: Callable[[str], Any] | None = None
    #: The range of an integer (default: ``api.validation.PARAM_INT_*``, time_t), the
    #: longest text; checked at the edge (``api.validation``) and stated in the document.
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None

    def parse(self, text: str) -> Any:
        if self.convert is not None:
            return self.convert(text)
        if self.type is bool:
            if text.lower() in ("1", "true", "yes", ""):
                return True
            if text.lower() in ("0", "false", "no"):
                return False
            raise ValueError(f"not a boolean: {text!r}")
        return self.type(text)

    def openapi(self) -> dict:
        from slurmrest.api.validation import param_range

        schema = {"type": _PARAM_TYPES.get(self.type, "string")}
        if self.type is int:
            schema["minimum"], schema["maximum"] = param_range(self)
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        return {
            "name": self.name,
            "in": self.location,
            "required": self.required or self.location == "path",
            "description": self.description,
            "schema": schema,
        }


@dataclass
class Call:
    """What a handler is given: typed parameters, the parsed body, who is asking, and the
    slurmctld (and later slurmdbd) clients bound to the caller's credential."""

    params: dict[str, Any]
    body: Any = None
    user: str | None = None
    #: The slurmctld client bound to the caller's credential (``wire.client.BoundClient``).
    slurmctld: Any = None
    #: The slurmdbd client bound to the caller's credential (``wire.dbd_client.BoundDbdClient``).
    slurmdbd: Any = None
    #: What operations keep between requests: the server's, or a fresh one outside a server.
    state: ServerState = field(default_factory=ServerState)
    #: The API version prefix the request came under (``"v0.0.38"``, ``"v1"``): the few
    #: operations whose defaults differ between them read it.
    version: str = "v0.0.38"


@dataclass
class Result:
    """A payload with warnings or errors beside it (most handlers return a plain dict)."""

    payload: dict
    status: int = 200
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    #: Opt-in serialisation cache. A handler that returns the *same* ``Result`` object again
    #: for identical data (e.g. while slurmctld's ``last_update`` is unchanged) sets this to a
    #: dict; the web room then stores each serialised body in it, keyed by (media type, API
    #: version, meta), and reuses it instead of serialising again.
    cache: dict | None = None
    #: Opt-in per-item serialisation: ``(key, caches)`` where ``payload[key]`` is the last
    #: key of the payload, a list, and ``caches[i]`` a dict kept with its item ``i``. The web
    #: room serialises each item once (per media type) into its dict and splices the list
    #: from them: items unchanged since an earlier answer are not serialised again.
    items: tuple[str, list] | None = None


class Stream:
    """A handler's answer that stays open (server-sent events, ``text/event-stream``).

    The web room sends the head, then calls ``attach(sink)``; the stream writes with
    ``sink.write(data: bytes) -> bool`` (False: the client stopped reading and was dropped,
    the stream is over) and ends with ``sink.close()``. ``detach()`` is called when the
    client goes away."""

    media = "text/event-stream"

    def attach(self, sink) -> None:
        raise NotImplementedError

    def detach(self) -> None:
        raise NotImplementedError


Handler = Callable[[Call], Awaitable["dict | Result | Stream"]]


@dataclass
class Operation:
    method: str
    path: str
    family: str
    operation_id: str
    summary: str
    handler: Handler
    params: tuple[Param, ...] = ()
    request_schema: dict | None = None
    response_schema: dict | None = None
    tags: tuple[str, ...] = ()
    #: True for operations slurmrestd 22.05 does not have (documented as extensions).
    extension: bool = False
    #: Slurm errno -> HTTP status of the refusals this operation meets, over DEFAULT_STATUS.
    errors: Mapping[int, int] = field(default_factory=dict)
    #: The status of any other refusal (slurmrestd answers 500 for them all).
    refused: int = 500
    #: Refuse query parameters the operation does not declare (400), as slurmrestd's
    #: accounting plugin does ("Unknown Query field"); by default for the slurmdb family.
    strict_query: bool | None = None
    #: The OpenAPI description (defaults, deviations), beside the one-line summary.
    description: str = ""
    #: The handler may answer a ``Stream`` (server-sent events) instead of a document.
    streams: bool = False

    def __post_init__(self):
        if self.strict_query is None:
            self.strict_query = self.family == "slurmdb"

    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    def status_of(self, errno: int) -> int:
        """The HTTP status of Slurm refusing this operation with ``errno``."""
        status = self.errors.get(errno)
        if status is None:
            status = DEFAULT_STATUS.get(errno, self.refused)
        return status

    def error_statuses(self) -> list[int]:
        """Every status a Slurm failure of this operation can be answered with (the OpenAPI
        document lists them)."""
        body = BODY_STATUSES if self.request_schema is not None else ()
        return sorted({*DEFAULT_STATUS.values(), *self.errors.values(), self.refused,
                       *GATEWAY_STATUSES, *EDGE_STATUSES, *body})


class Registry:
    def __init__(self) -> None:
        self._operations: dict[tuple[str, str, str], Operation] = {}

    def add(self, op: Operation) -> Operation:
        key = (op.family, op.method, op.path)
        if key in self._operations:
            raise ValueError(f"operation registered twice: {op.method} /{op.family}{op.path}")
        declared = {p.name for p in op.params if p.location == "path"}
        if declared != set(op.path_params()):
            raise ValueError(f"{op.operation_id}: path parameters {op.path_params()} != {declared}")
        self._operations[key] = op
        return op

    def __iter__(self) -> Iterator[Operation]:
        return iter(sorted(self._operations.values(), key=lambda o: (o.family, o.path, o.method)))

    def __len__(self) -> int:
        return len(self._operations)

    def find(self, operation_id: str, family: str = "slurm") -> Operation:
        """The operation of ``family`` with that id (KeyError if none)."""
        for op in self._operations.values():
            if op.operation_id == operation_id and op.family == family:
                return op
        raise KeyError(operation_id)


REGISTRY = Registry()

#: Named OpenAPI schemas (``components/schemas``) that operations' schemas refer to.
SCHEMAS: dict[str, dict] = {}


def schema_ref(name: str, definition: dict | None = None) -> dict:
    """Register ``definition`` (once) as the named schema ``name``; return a ``$ref`` to it."""
    if definition is not None:
        if SCHEMAS.setdefault(name, definition) != definition:
            raise ValueError(f"schema {name!r} defined twice, differently")
    return {"$ref": f"#/components/schemas/{name}"}


def operation(method: str, path: str, *, family: str = "slurm", operation_id: str, summary: str,
              params: tuple[Param, ...] = (), request_schema: dict | None = None,
              response_schema: dict | None = None, tags: tuple[str, ...] = (),
              extension: bool = False, errors: Mapping[int, int] | None = None,
              refused: int = 500, strict_query: bool | None = None,
              description: str = "", streams: bool = False, registry: Registry = REGISTRY):
    """Register ``handler`` as the operation ``method path`` of API family ``family``;
    ``errors`` and ``refused``: the HTTP statuses of Slurm's refusals (``api.errors``)."""

    def register(handler: Handler) -> Handler:
        registry.add(Operation(method.upper(), path, family, operation_id, summary, handler,
                               tuple(params), request_schema, response_schema, tags, extension,
                               dict(errors or {}), refused, strict_query,
                               description, streams))
        return handler

    return register


def load_operations() -> Registry:
    """Import every operation module, so that their ``@operation`` declarations run."""
    import importlib
    import pkgutil

    import slurmrest.api as package

    for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            importlib.import_module(info.name)
    return REGISTRY
