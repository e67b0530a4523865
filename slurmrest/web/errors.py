"""From a failure to an HTTP status and slurmrestd-shaped error entries.

Every failure becomes a document (JSON or YAML), never an HTML page or a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from slurmrest.api.errors import ApiError, error_entry

NOT_FOUND_TEXT = "Unable find requested URL. Please view /openapi/v3 for API reference."
NOT_ALLOWED_TEXT = ("Requested REST method is not defined at URL. "
                    "Please view /openapi/v3 for API reference.")


@dataclass
class HttpFailure(Exception):
    """A failure the web room answers itself: status, error entries, extra headers."""

    status: int
    errors: list[dict]
    headers: dict[str, str] = field(default_factory=dict)
    #: Close the connection after answering (a body we refused to read may be in flight).
    close: bool = False

    def __str__(self) -> str:
        return f"{self.status} {self.errors[0].get('description', '') if self.errors else ''}"


def failure(status: int, error: str, description: str = "", *, number: int = -1,
            source: str = "slurmrest", headers: dict | None = None, close: bool = False) -> HttpFailure:
    return HttpFailure(status, [error_entry(number, description, source, error=error)],
                       headers or {}, close)


def internal_error(source: str = "slurmrest", *, close: bool = False) -> HttpFailure:
    """The last resort: a bug, answered without its details (they go to the log)."""
    return failure(500, "Internal error", "the server failed to handle the request; see its log",
                   source=source, close=close)


def from_exception(e: BaseException, source: str) -> HttpFailure:
    """What to answer for an exception an operation raised: the operations room made every
    failure it knows an ``ApiError``; anything else is a bug."""
    if isinstance(e, HttpFailure):
        return e
    if isinstance(e, ApiError):
        return HttpFailure(e.status, e.errors)
    return internal_error(source)
