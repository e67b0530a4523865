"""CORS for browser portals: off unless origins are given (``--cors-origin``, repeatable).

A preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) from an
allowed origin is answered 204 before authentication (browsers send no credentials with
it); from any other origin 403, without CORS headers, so the browser refuses the call.
Answers to an allowed origin's requests carry ``Access-Control-Allow-Origin`` (that origin,
never ``*``: the API answers per user). ``X-SLURM-API-KEY`` is not among the allowed
headers: a proxy's key has no business in a browser.
"""

from __future__ import annotations

from slurmrest.web import errors

ALLOWED_METHODS = b"GET, HEAD, POST, PUT, DELETE"
ALLOWED_HEADERS = b"Authorization, Content-Type, Accept, X-SLURM-USER-NAME, X-SLURM-USER-TOKEN"
MAX_AGE = b"600"
_VARY = (b"Vary", b"Origin")


class Cors:
    def __init__(self, origins=()):
        self.origins = frozenset(o.rstrip("/").encode("ascii") for o in origins)

    def __bool__(self) -> bool:
        return bool(self.origins)

    @staticmethod
    def is_preflight(method: bytes, headers) -> bool:
        return (method.upper() == b"OPTIONS" and headers.hasHeader(b"Origin")
                and headers.hasHeader(b"Access-Control-Request-Method"))

    def answer_headers(self, headers) -> tuple:
        """The headers every answer to this request carries (none without an allowed
        ``Origin``)."""
        if not self.origins:
            return ()
        origin = headers.getRawHeaders(b"Origin")
        if not origin:
            return ()
        if origin[0] in self.origins:
            return ((b"Access-Control-Allow-Origin", origin[0]), _VARY)
        return (_VARY,)

    def preflight(self, headers) -> tuple[int, tuple] | errors.HttpFailure:
        """(204, headers) for an allowed origin; a 403 failure for any other. The origin and
        ``Vary`` are not among them: every answer gets those (``answer_headers``)."""
        origin = headers.getRawHeaders(b"Origin")[0]
        if origin not in self.origins:
            return errors.failure(403, "Origin not allowed",
                                  "this origin may not call the API from a browser",
                                  source="cors")
        return 204, ((b"Access-Control-Allow-Methods", ALLOWED_METHODS),
                     (b"Access-Control-Allow-Headers", ALLOWED_HEADERS),
                     (b"Access-Control-Max-Age", MAX_AGE))
