"""The gateway: admits a request from its headers, then runs its operation and answers.

Two steps, because the body must not be read before the caller is known:

1. ``admit`` runs when the headers are in (``channel.GatewayChannel`` calls it): target,
   authentication, route, formats, body size. A refusal is answered without reading the body.
2. ``respond`` runs once the body is in: parse it, convert the parameters, await the
   operation's handler, wrap its payload in slurmrestd's envelope, serialise once, write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs

from twisted.internet import defer
from twisted.logger import Logger

import slurmrest

from slurmrest.api.meta import BuildInfoCache, meta
from slurmrest.api.errors import ESLURM_REST_INVALID_QUERY, ApiError, NotModified
from slurmrest.api import validation
from slurmrest.api.errors import error_entry
from slurmrest.api.registry import (
    API_VERSIONS, REGISTRY, SCHEMAS, Call, Registry, Result, Stream)
from slurmrest.api.runner import run
from slurmrest.api.state import ServerState
from slurmrest.web import content, errors, event_stream
from slurmrest.web.auth import AuthenticationFailed, Authenticator, Identity
from slurmrest.web.cors import Cors
from slurmrest.web.limits import DEFAULT_LIMITS, Counter, Limits
from slurmrest.web.metrics import CURRENT_REQUEST, Metrics
from slurmrest.web.operator import OperatorEndpoints
from slurmrest.web.errors import HttpFailure
from slurmrest.web.openapi import build_document
from slurmrest.web.routing import Match, MethodNotAllowed, NotFound, Router, query_string, request_path

log = Logger()

DEFAULT_MAX_BODY_SIZE = 1 << 20
SERVER = f"slurmrest/{slurmrest.__version__}".encode()
_MEDIA_BYTES = {content.JSON: content.JSON.encode(), content.YAML_TYPE: content.YAML_TYPE.encode()}

#: Keys of the envelope itself: a payload holding one of them takes the general path.
_RESERVED = frozenset({"meta", "errors", "warnings"})

# The texts of slurmrestd's refusals, kept so that scripts matching on them keep working.
AUTH_FAILURE_TEXT = "Authentication failure"


@dataclass
class Admission:
    """What ``admit`` decided from the headers."""

    family: str = "slurm"
    version: str = "v0.0.38"
    media: str = content.JSON
    match: Match | None = None
    identity: Identity | None = field(default=None, repr=False)
    body_media: str | None = None
    query: bytes = b""
    failure: HttpFailure | None = None
    #: One of the operator's paths (``web.operator``): answered without authentication.
    operator: str | None = None
    #: The headers of a CORS preflight's 204 (``web.cors``).
    preflight: tuple | None = None
    #: The user whose in-flight slot this request holds (``limits``), released when answered.
    slot: str | None = None


def _api_of(path: str) -> tuple[str, str]:
    """The (family, version) a path is under, for the ``meta`` of an error document."""
    parts = path.strip("/").split("/")
    family = parts[0] if parts and parts[0] in API_VERSIONS else "slurm"
    version = parts[1] if len(parts) > 1 and parts[1] in API_VERSIONS[family] else "v0.0.38"
    return family, version


class Gateway:
    def __init__(self, ctld, authenticator: Authenticator, *, dbd=None,
                 registry: Registry = REGISTRY, max_body_size: int = DEFAULT_MAX_BODY_SIZE,
                 build_info: BuildInfoCache | None = None, readiness=None,
                 cors_origins=(), serve_metrics: bool = True,
                 limits: Limits = DEFAULT_LIMITS):
        self.ctld = ctld
        #: The slurmdbd client (``wire.dbd_client.SlurmdbdClient``); None: no accounting.
        self.dbd = dbd
        self.authenticator = authenticator
        self.max_body_size = max_body_size
        #: Bytes that may wait unsent for one event-stream watcher before it is dropped.
        self.max_stream_backlog = event_stream.DEFAULT_MAX_BACKLOG
        self.limits = limits
        #: Requests being answered, per user (``limits.max_in_flight_per_user``).
        self.in_flight = Counter(limits.max_in_flight_per_user)
        self.state = ServerState(build_info)
        self.build_info = self.state.build_info
        self.router = Router(registry)
        self.openapi = build_document(self.router)
        self._openapi_bytes: dict[str, bytes] = {}
        self._json_heads: dict[tuple, bytes] = {}
        # The operator's side (web.operator, web.metrics, web.cors): health, metrics, CORS.
        self.metrics = Metrics(self.state)
        if readiness is None:
            from slurmrest.api.health import Readiness
            readiness = Readiness(ctld, dbd, lambda: None)
        self.readiness = readiness
        self.operator = OperatorEndpoints(readiness, self.metrics, serve_metrics=serve_metrics)
        self.cors = Cors(cors_origins)

    # -- step 1: headers ------------------------------------------------------------------

    def admit(self, method: bytes, target: bytes, headers, length: int | None,
              local_user: str | None = None) -> Admission:
        adm = Admission()
        try:
            path = request_path(target)
        except NotFound:
            adm.failure = errors.failure(404, "Not found", errors.NOT_FOUND_TEXT)
            return adm
        if path in self.operator.paths:
            adm.operator = path
            adm.failure = self.operator.refusal(method)
            return adm
        if self.cors and Cors.is_preflight(method, headers):
            answer = self.cors.preflight(headers)
            if isinstance(answer, HttpFailure):
                adm.failure = answer
            else:
                adm.preflight = answer[1]
            return adm
        adm.family, adm.version = _api_of(path)
        adm.query = query_string(target)
        has_body = length != 0
        acceptable = True
        try:
            accept = _text(headers, b"Accept")
            if accept and "text/event-stream" in accept.lower():
                accept = None  # a watcher (?watch=true): events carry JSON documents
            adm.media = content.negotiate(
                accept,
                default=content.YAML_TYPE if path == "/openapi.yaml" else content.JSON)
        except content.NotAcceptable:
            acceptable = False  # answered after authentication, in JSON
        try:
            adm.identity = self.authenticator.authenticate(headers, local_user)
        except AuthenticationFailed as e:
            adm.failure = errors.failure(e.status, AUTH_FAILURE_TEXT, str(e),
                                         source="authentication", close=has_body)
            return adm
        user = adm.identity.user
        if not self.in_flight.acquire(user):
            adm.failure = errors.failure(
                429, "Too many requests",
                f"at most {self.in_flight.limit} requests of one user at once",
                headers={"Retry-After": str(self.limits.retry_after_seconds)}, close=has_body)
            return adm
        adm.slot = user
        if not acceptable:
            adm.failure = errors.failure(406, "Accept content type is unknown",
                                         "this server answers application/json or "
                                         "application/x-yaml", close=has_body)
            return adm
        try:
            adm.match = self.router.match(method.decode("latin-1").upper(), path)
        except NotFound:
            adm.failure = errors.failure(404, "Not found", errors.NOT_FOUND_TEXT, close=has_body)
            return adm
        except MethodNotAllowed as e:
            adm.failure = errors.failure(405, "Method not allowed", errors.NOT_ALLOWED_TEXT,
                                         headers={"Allow": ", ".join(e.allowed)},
                                         close=has_body)
            return adm
        if length is not None and length > self.max_body_size:
            adm.failure = errors.failure(
                413, "Request body too large",
                f"the body may have at most {self.max_body_size} bytes", close=True)
            return adm
        if has_body:
            try:
                adm.body_media = content.body_format(_text(headers, b"Content-Type"))
            except content.UnsupportedMediaType as e:
                adm.failure = errors.failure(
                    415, "Unsupported Content-Type",
                    f"{e}: send application/json or application/x-yaml", close=True)
                return adm
        return adm

    # -- step 2: body in, run the operation ----------------------------------------------

    async def respond(self, request, adm: Admission) -> None:
        if adm.failure is not None:
            return self.send_failure(request, adm, adm.failure)
        if adm.operator is not None:
            status, body, media = await self.operator.answer(adm.operator)
            return self._send(request, status, body, media)
        if adm.preflight is not None:
            return self._send(request, 204, None, "", headers=adm.preflight)
        # The Slurm RPCs made from here on are this request's (the access log counts them).
        CURRENT_REQUEST.set(getattr(request, "rpcs", None))
        match = adm.match
        if match.route is None:
            return self._send(request, 200, self.openapi_bytes(adm.media), adm.media)
        route = match.route
        try:
            result = await run(route.operation, self._call(request, adm), route.operation_id)
        except defer.CancelledError:
            if getattr(request, "_disconnected", False):
                raise  # the client went away: nothing to answer
            # Cancelled from inside while the client still waits: answer, never hang.
            log.failure("{op} was cancelled", op=route.operation_id)
            return self.send_failure(request, adm, errors.failure(
                500, "Internal error", "the operation was cancelled", source=route.operation_id))
        except NotModified:
            return self._send(request, 304, None, adm.media)
        except Exception as e:
            if not isinstance(e, (ApiError, HttpFailure)):
                log.failure("{op} failed", op=route.operation_id)
            return self.send_failure(request, adm, errors.from_exception(e, route.operation_id))
        self._send_result(request, adm, result)

    def _call(self, request, adm: Admission) -> Call:
        route = adm.match.route
        op = route.operation
        query = parse_qs(adm.query.decode("latin-1"), keep_blank_values=True) if adm.query else {}
        if op.strict_query and query:
            unknown = sorted(set(query) - {p.name for p in op.params if p.location == "query"})
            if unknown:
                raise errors.failure(400, "Query empty or not RFC7320 compliant",
                                     f"Unknown Query field: {', '.join(unknown)}",
                                     number=ESLURM_REST_INVALID_QUERY,
                                     source=route.operation_id)
        raw = {}
        for p in op.params:
            if p.location == "path":
                raw[p.name] = adm.match.path_params.get(p.name)
            elif p.location == "header":
                raw[p.name] = _text(request.requestHeaders, p.name.encode("latin-1"))
            else:
                values = query.get(p.name)
                raw[p.name] = values[-1] if values else None
        # The accounting family's text goes to MySQL utf8 (3-byte) tables: api.validation.
        bmp_only = op.family == "slurmdb"
        try:
            params = validation.check_params(op.params, raw, bmp_only=bmp_only)
        except validation.Invalid as e:
            raise _invalid("Invalid parameter", e, route.operation_id) from None
        body = None
        if adm.body_media is not None and op.request_schema is not None:
            data = request.content.read()
            try:
                body = content.decode(data, adm.body_media)
            except content.BadDocument as e:
                raise errors.failure(400, "Unable to parse query.",
                                     f"the request body is not valid "
                                     f"{'YAML' if adm.body_media == content.YAML_TYPE else 'JSON'}"
                                     f" ({e})", source=route.operation_id) from None
            try:
                validation.check_document(body, op.request_schema, SCHEMAS, bmp_only=bmp_only)
            except validation.Invalid as e:
                raise _invalid("Invalid request document", e, route.operation_id) from None
        identity = adm.identity
        return Call(params=params, body=body, user=identity.user,
                    slurmctld=(self.ctld.bind(identity.credential)
                               if self.ctld is not None else None),
                    slurmdbd=(self.dbd.bind(identity.credential)
                              if self.dbd is not None and op.family == "slurmdb" else None),
                    state=self.state, version=adm.version)

    # -- answers --------------------------------------------------------------------------

    def envelope(self, adm: Admission, payload: dict | None = None,
                 errs: list | None = None, warnings: list | None = None) -> dict:
        doc = {"meta": meta(adm.family, adm.version, self.build_info.release),
               "errors": list(errs or [])}
        if warnings:
            doc["warnings"] = list(warnings)
        if payload:
            doc.update(payload)
        return doc

    def _send_result(self, request, adm: Admission, result) -> None:
        if isinstance(result, Stream):
            return request.start_stream(result, self.max_stream_backlog)
        if isinstance(result, Result):
            status, cache = result.status, result.cache
            key = (adm.media, adm.family, adm.version, self.build_info.release)
            body = cache.get(key) if cache is not None else None
            if body is None:
                document = self.envelope(adm, result.payload, result.errors, result.warnings)
                if result.items is not None:
                    body = content.encode_with_items(document, *result.items, adm.media)
                else:
                    body = content.encode(document, adm.media)
                if cache is not None:
                    cache[key] = body
            return self._send(request, status, body, adm.media)
        if adm.media == content.JSON and result and _RESERVED.isdisjoint(result):
            # The envelope's head is the same for every answer of an API version: made once.
            body = self._json_head(adm) + content.encode(result, content.JSON)[1:]
        else:
            body = content.encode(self.envelope(adm, result), adm.media)
        return self._send(request, 200, body, adm.media)

    def _json_head(self, adm: Admission) -> bytes:
        """``{"meta":{...},"errors":[],`` for this API version and Slurm release."""
        key = (adm.family, adm.version, self.build_info.release)
        head = self._json_heads.get(key)
        if head is None:
            head = content.encode(self.envelope(adm), content.JSON)[:-1] + b","
            self._json_heads[key] = head
        return head

    def release(self, adm: Admission | None) -> None:
        """The request of ``adm`` is answered (or gone): its user's slot is free again."""
        if adm is not None and adm.slot is not None:
            self.in_flight.release(adm.slot)
            adm.slot = None

    def send_failure(self, request, adm: Admission, failure: HttpFailure) -> None:
        headers = tuple((name.encode(), value.encode()) for name, value in failure.headers.items())
        body = content.encode(self.envelope(adm, None, failure.errors), adm.media)
        self._send(request, failure.status, body, adm.media, close=failure.close, headers=headers)

    def _send(self, request, status: int, body: bytes | None, media: str, close=False,
              headers: tuple = ()) -> None:
        if request.finished or request._disconnected:
            return
        if close:
            request.channel.persistent = False
        if isinstance(media, str):
            media = _MEDIA_BYTES.get(media) or media.encode()
        request.send(status, body, media, headers)

    def openapi_bytes(self, media: str) -> bytes:
        """The OpenAPI document, serialised once per format."""
        body = self._openapi_bytes.get(media)
        if body is None:
            body = self._openapi_bytes[media] = content.encode(self.openapi, media)
        return body


def _invalid(error: str, invalid: validation.Invalid, source: str) -> HttpFailure:
    """400 naming each problem (``api.validation`` bounds how many)."""
    return HttpFailure(400, [error_entry(ESLURM_REST_INVALID_QUERY, text, source, error=error)
                             for text in validation.walk_problems(invalid)])


def _text(headers, name: bytes) -> str | None:
    values = headers.getRawHeaders(name)
    return values[0].decode("latin-1") if values else None
