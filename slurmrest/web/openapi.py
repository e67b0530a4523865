"""The OpenAPI 3 document, generated from the registry (the same source as the routes)."""

from __future__ import annotations

from http import HTTPStatus

import slurmrest
from slurmrest.api.errors import NOT_MODIFIED_STATUS
from slurmrest.api.registry import SCHEMAS
from slurmrest.web.content import JSON, YAML_TYPE
from slurmrest.web.routing import OPENAPI_PATHS, Router

_MEDIA = (JSON, YAML_TYPE)
#: What asking for the document itself can be answered besides 200: bad credentials, a
#: format we do not write, too many requests in flight.
OPENAPI_STATUSES = (401, 406, 429)

SECURITY_SCHEMES = {
    "user": {"type": "apiKey", "in": "header", "name": "X-SLURM-USER-NAME",
             "description": "User name"},
    "token": {"type": "apiKey", "in": "header", "name": "X-SLURM-USER-TOKEN",
              "description": "User access token (JWT)"},
    "user_id": {"type": "apiKey", "in": "header", "name": "X-SLURM-USER-ID",
                "description": "User id (with an API key, instead of the user name)"},
    "api_key": {"type": "apiKey", "in": "header", "name": "X-SLURM-API-KEY",
                "description": "Key of an authenticating proxy acting for the named user"},
}
SECURITY = [{"user": [], "token": []}, {"api_key": [], "user": []}, {"api_key": [], "user_id": []}]

ENVELOPE_SCHEMAS = {
    "meta": {
        "type": "object",
        "properties": {
            "plugin": {"type": "object", "properties": {
                "type": {"type": "string"}, "name": {"type": "string"}}},
            "Slurm": {"type": "object", "description": "Slurm information", "properties": {
                "version": {"type": "object", "properties": {
                    "major": {"type": "integer"}, "micro": {"type": "integer"},
                    "minor": {"type": "integer"}}},
                "release": {"type": "string", "description": "version specifier"}}},
        },
    },
    "error": {
        "type": "object",
        "properties": {
            "error": {"type": "string", "description": "error message"},
            "error_number": {"type": "integer", "description": "Slurm internal error number"},
            "description": {"type": "string", "description": "what went wrong"},
            "source": {"type": "string", "description": "where it went wrong"},
        },
    },
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors_document() -> dict:
    return {"type": "object", "properties": {
        "meta": _ref("slurmrest_meta"),
        "errors": {"type": "array", "items": _ref("slurmrest_error")}}}


def _content(schema: dict) -> dict:
    return {media: {"schema": schema} for media in _MEDIA}


def response_schema(payload: dict | None) -> dict:
    """The payload schema inside slurmrestd's envelope (``meta``, ``errors``)."""
    envelope = _errors_document()
    if not payload:
        return envelope
    if payload.get("type") == "object" and set(payload) <= {"type", "properties", "description"}:
        envelope["properties"].update(payload.get("properties", {}))
        return envelope
    return {"allOf": [envelope, payload]}


def _operation(route) -> dict:
    op = route.operation
    doc = {
        "operationId": route.operation_id,
        "summary": op.summary,
        "tags": list(op.tags) or [route.family],
        "responses": {
            "200": {"description": op.summary or "success",
                    "content": _content(response_schema(op.response_schema))},
        },
    }
    if op.streams:  # watch=true: server-sent events, one JSON document per event's data
        doc["responses"]["200"]["content"]["text/event-stream"] = {"schema": {
            "type": "object", "description": "one server-sent event (watch=true)",
            "properties": {"event": {"type": "string"}, "id": {"type": "string"},
                           "data": {"type": "string", "description": "a JSON document"},
                           "retry": {"type": "integer"}}}}
    doc["responses"][str(NOT_MODIFIED_STATUS)] = {
        "description": "nothing changed since update_time (no body)"}
    for status in op.error_statuses():
        doc["responses"][str(status)] = {
            "description": HTTPStatus(status).phrase, "content": _content(_errors_document())}
    doc["responses"]["default"] = {"description": "error",
                                   "content": _content(_errors_document())}
    if op.description:
        doc["description"] = op.description
    params = [p.openapi() for p in op.params]
    if params:
        doc["parameters"] = params
    if op.request_schema is not None:
        doc["requestBody"] = {"required": True, "content": _content(op.request_schema)}
    if op.extension:
        doc["x-slurmrest-extension"] = True
    return doc


def build_document(router: Router) -> dict:
    paths: dict[str, dict] = {}
    for route in router.routes:
        paths.setdefault(route.template, {})[route.operation.method.lower()] = _operation(route)
    for path in OPENAPI_PATHS:
        name = path.strip("/").replace("/", "_").replace(".", "_")
        paths[path] = {"get": {
            "operationId": f"openapi_get_{name}",
            "summary": "Retrieve OpenAPI Specification",
            "tags": ["openapi"],
            "responses": {"200": {"description": "OpenAPI Specification",
                                  "content": _content({"type": "object"})},
                          **{str(status): {"description": HTTPStatus(status).phrase,
                                           "content": _content(_errors_document())}
                             for status in OPENAPI_STATUSES}},
        }}
    schemas = {"slurmrest_meta": ENVELOPE_SCHEMAS["meta"],
               "slurmrest_error": ENVELOPE_SCHEMAS["error"]}
    schemas.update(SCHEMAS)
    document = {
        "openapi": "3.0.3",
        "info": {
            "title": "slurmrest",
            "description": "A REST gateway to Slurm, compatible with slurmrestd 22.05 "
                           "(v0.0.38) and served under v1 as well.",
            "version": slurmrest.__version__,
            "license": {"name": "Apache 2.0",
                        "url": "https://www.apache.org/licenses/LICENSE-2.0.html"},
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": "slurm", "description": "methods that query slurmctld"},
                 {"name": "slurmdb", "description": "methods that query slurmdbd"},
                 {"name": "openapi", "description": "methods that describe the API"}],
        "security": SECURITY,
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": SECURITY_SCHEMES},
    }
    # An operation may name a schema nobody registered (api.registry.schema_ref): keep the
    # document valid with an open object, rather than refuse to serve it.
    for name in sorted(_referenced([paths, schemas]) - set(schemas)):
        schemas[name] = {"type": "object", "description": "not described yet"}
    return document


_PREFIX = "#/components/schemas/"


def _referenced(node, found=None) -> set[str]:
    found = set() if found is None else found
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_PREFIX):
            found.add(ref[len(_PREFIX):])
        for value in node.values():
            _referenced(value, found)
    elif isinstance(node, list):
        for value in node:
            _referenced(value, found)
    return found
