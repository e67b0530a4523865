"""From a request path to an operation: the route table derived from the registry.

Every operation is served under each version prefix of its family
(``/slurm/v0.0.38/ping``, ``/slurm/v1/ping``); a trailing slash is accepted, as slurmrestd
does. Literal paths are one dictionary lookup; templated ones are matched segment by segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from slurmrest.api.registry import API_VERSIONS, Operation, Registry

#: Documents about the API itself (served by the web room, not by operations).
OPENAPI_PATHS = ("/openapi", "/openapi.json", "/openapi.yaml", "/openapi/v3")


@dataclass(frozen=True)
class Route:
    """One operation under one version prefix."""

    operation: Operation
    family: str
    version: str
    template: str  # the full path template, e.g. /slurm/v1/job/{job_id}

    @property
    def operation_id(self) -> str:
        return f"{self.family}_{self.version.replace('.', '_')}_{self.operation.operation_id}"


@dataclass(frozen=True)
class Match:
    route: Route | None  # None: an OpenAPI document
    path_params: dict[str, str]
    path: str


class NotFound(Exception):
    pass


class MethodNotAllowed(Exception):
    def __init__(self, allowed: list[str]):
        super().__init__(", ".join(allowed))
        self.allowed = allowed


def request_path(target: bytes) -> str:
    """The path of a request target: origin form, or absolute form (``http://h/p?q``)."""
    text = target.decode("latin-1")
    if not text.startswith("/"):
        parts = urlsplit(text)
        if parts.scheme.lower() not in ("http", "https"):
            raise NotFound(text)
        text = parts.path or "/"
    return text.split("?", 1)[0]


def query_string(target: bytes) -> bytes:
    return target.split(b"?", 1)[1] if b"?" in target else b""


class Router:
    def __init__(self, registry: Registry):
        self.routes: list[Route] = []
        self._literal: dict[str, dict[str, Route]] = {}
        self._templated: list[tuple[tuple[str, ...], dict[str, Route]]] = []
        by_template: dict[str, dict[str, Route]] = {}
        for op in registry:
            for version in API_VERSIONS.get(op.family, ()):
                template = f"/{op.family}/{version}{op.path}"
                route = Route(op, op.family, version, template)
                self.routes.append(route)
                by_template.setdefault(template, {})[op.method] = route
        for template, methods in by_template.items():
            if "{" in template:
                self._templated.append((tuple(template.strip("/").split("/")), methods))
            else:
                self._literal[template] = methods
        # Literal segments beat parameters: /job/submit before /job/{job_id}.
        self._templated.sort(key=lambda item: [s.startswith("{") for s in item[0]])

    def match(self, method: str, path: str) -> Match:
        if path in OPENAPI_PATHS or path.rstrip("/") in OPENAPI_PATHS:
            if method not in ("GET", "HEAD"):
                raise MethodNotAllowed(["GET", "HEAD"])
            return Match(None, {}, path.rstrip("/") or "/")
        if len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        allowed: set[str] = set()
        for methods, params in self._candidates(path):
            route = methods.get(method) or (methods.get("GET") if method == "HEAD" else None)
            if route is not None:
                return Match(route, params, path)
            allowed.update(methods)
            if "GET" in methods:
                allowed.add("HEAD")
        if not allowed:
            raise NotFound(path)
        raise MethodNotAllowed(sorted(allowed))

    def _candidates(self, path: str):
        methods = self._literal.get(path)
        if methods is not None:
            yield methods, {}
        segments = path.strip("/").split("/")
        for pattern, methods in self._templated:
            if len(pattern) != len(segments):
                continue
            params = {}
            for want, got in zip(pattern, segments):
                if want.startswith("{"):
                    if not got:
                        break
                    params[want[1:-1]] = unquote(got)
                elif want != got:
                    break
            else:
                yield methods, params
