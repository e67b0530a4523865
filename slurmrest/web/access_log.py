"""The access log's line: one JSON object per request, for an operator's tools.

``{"time", "client", "forwarded_for"?, "user", "method", "path", "query"?, "operation",
"status", "bytes", "duration_ms", "rpcs"}``. ``user`` is the authenticated user (null when
refused before that); ``rpcs`` the Slurm RPCs the request sent (``web.metrics``; a
request that waited for an identical read already in flight shares it and counts none). Nothing
of a header is logged but ``X-Forwarded-For``: never a token or a key. A query parameter
whose name says it holds a secret is logged with its value replaced by ``-``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlencode

#: Query parameters whose values are not logged (no operation takes them; a client might).
_SECRET_NAME = re.compile(r"token|key|password|secret", re.I)


def access_line(request, adm, seconds: float) -> str:
    target = request.uri.decode("latin-1")
    path, _, query = target.partition("?")
    peer = request.getClientAddress()
    record = {
        "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds")
                .replace("+00:00", "Z"),
        "client": getattr(peer, "host", None) or getattr(peer, "name", None),
    }
    forwarded = request.requestHeaders.getRawHeaders(b"X-Forwarded-For")
    if forwarded:
        record["forwarded_for"] = forwarded[-1].decode("latin-1")
    identity = getattr(adm, "identity", None)
    record["user"] = identity.user if identity is not None else None
    record["method"] = request.method.decode("latin-1")
    record["path"] = path
    if query:
        record["query"] = _safe_query(query)
    record["operation"] = operation_label(adm)
    record["status"] = request.code
    record["bytes"] = request.sentLength
    record["duration_ms"] = round(seconds * 1000, 3)
    record["rpcs"] = request.rpcs.count if request.rpcs is not None else 0
    # One line whatever the request held: json escapes newlines and control characters.
    return json.dumps(record, ensure_ascii=True, separators=(",", ":")) + "\n"


def _safe_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(_SECRET_NAME.search(name) for name, _ in pairs):
        return query
    return urlencode([(name, "-" if _SECRET_NAME.search(name) else value)
                      for name, value in pairs])


def operation_label(adm) -> str:
    """What the metrics call the request: its operation id, ``openapi``, the operator path's
    name, ``preflight``, or ``none`` (refused before it was routed)."""
    if adm is None:
        return "none"
    if adm.operator is not None:
        return adm.operator.lstrip("/")
    if adm.preflight is not None:
        return "preflight"
    match = adm.match
    if match is None:
        return "none"
    return match.route.operation_id if match.route is not None else "openapi"
