"""From a failure to an HTTP status and slurmrestd-shaped error entries.

Every failure becomes a document (JSON or YAML), never an HTML page or a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from slurmrest.api.registry import ApiError
from slurmrest.wire.errors import CommunicationError, ProtocolError, SlurmError

NOT_FOUND_TEXT = "Unable find requested URL. Please view /openapi/v3 for API reference."
NOT_ALLOWED_TEXT = ("Requested REST method is not defined at URL. "
                    "Please view /openapi/v3 for API reference.")

#: Slurm errors with a more telling HTTP status than slurmrestd's blanket 500.
SLURM_ERROR_STATUS = {
    "ESLURM_ACCESS_DENIED": 403,
    "ESLURM_USER_ID_MISSING": 403,
    "ESLURM_INVALID_JOB_ID": 404,
    "ESLURM_INVALID_NODE_NAME": 404,
    "ESLURM_INVALID_PARTITION_NAME": 404,
    "ESLURM_RESERVATION_INVALID": 404,
    "SLURM_PROTOCOL_AUTHENTICATION_ERROR": 401,
    "ESLURM_IN_STANDBY_MODE": 503,
    "SLURMCTLD_COMMUNICATIONS_CONNECTION_ERROR": 503,
}


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


def entry(error: str, description: str = "", number: int = -1, source: str = "slurmrest") -> dict:
    return {"description": description, "error_number": number, "error": error, "source": source}


def failure(status: int, error: str, description: str = "", *, number: int = -1,
            source: str = "slurmrest", headers: dict | None = None, close: bool = False) -> HttpFailure:
    return HttpFailure(status, [entry(error, description, number, source)], headers or {}, close)


def slurm_error_entry(e: SlurmError, source: str) -> dict:
    text = getattr(e, "text", None) or str(e)
    description = getattr(e, "message", None) or text
    return entry(text, description, getattr(e, "errno", -1), source)


def from_exception(e: BaseException, source: str) -> HttpFailure:
    """What to answer for an exception a handler raised."""
    if isinstance(e, HttpFailure):
        return e
    if isinstance(e, ApiError):
        return HttpFailure(e.status, e.errors)
    if isinstance(e, ProtocolError):
        return HttpFailure(502, [slurm_error_entry(e, source)])
    if isinstance(e, CommunicationError):
        if getattr(e, "timeout", False):
            return HttpFailure(504, [slurm_error_entry(e, source)])
        if getattr(e, "errno", None) == 1800:  # could not connect: slurmctld is down
            return HttpFailure(503, [slurm_error_entry(e, source)])
        # Connected, then the socket closed without a reply: slurmctld does that when it
        # refuses the credential, or when it dies mid-request.
        return HttpFailure(502, [slurm_error_entry(e, source)])
    if isinstance(e, SlurmError):
        status = SLURM_ERROR_STATUS.get(getattr(e, "name", ""), 500)
        return HttpFailure(status, [slurm_error_entry(e, source)])
    return failure(500, "Internal error", "the server failed to handle the request; see its log",
                   source=source)
