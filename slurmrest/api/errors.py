"""Failures as answers: the one builder of error entries, and which HTTP status a failure is.

An operation declares the statuses of the Slurm refusals it meets (AMP's ``errors = {...}``
is the model): ``@operation(..., errors={ESLURM_INVALID_JOB_ID: 404}, refused=400)``, on top
of ``DEFAULT_STATUS`` (shared by all); any other refusal is the operation's ``refused``
status (500, slurmrestd's blanket answer, unless it says otherwise). A handler only words a
refusal (``Refusal``, ``refusal``); ``api.runner`` gives it its status and turns every Slurm
failure into an ``ApiError``, which is all the web room knows of failures.
"""

from __future__ import annotations

from slurmrest.wire.errors import (
    ESLURM_ACCESS_DENIED,
    ESLURM_DB_CONNECTION,
    ESLURM_IN_STANDBY_MODE,
    ESLURM_REST_INVALID_QUERY,
    ESLURM_USER_ID_MISSING,
    SLURM_PROTOCOL_AUTHENTICATION_ERROR,
    SLURM_COMMUNICATIONS_CONNECTION_ERROR,
    SLURMCTLD_COMMUNICATIONS_CONNECTION_ERROR,
    CommunicationError,
    ProtocolError,
    SlurmError,
    strerror,
)

#: MySQL's ER_CANT_AGGREGATE_2COLLATIONS, which slurmdbd passes on as its errno: the text of
#: a name cannot be compared with its table's (a character the table's charset lacks). The
#: request's fault, hence 400 (api.validation refuses the plainest cases before asking).
MYSQL_ILLEGAL_MIX_OF_COLLATIONS = 1267

#: Refusals that mean the same for every operation: who asks, or a controller that cannot
#: take anything now.
DEFAULT_STATUS = {
    SLURM_PROTOCOL_AUTHENTICATION_ERROR: 401,
    ESLURM_ACCESS_DENIED: 403,
    ESLURM_USER_ID_MISSING: 403,
    ESLURM_IN_STANDBY_MODE: 503,
    SLURMCTLD_COMMUNICATIONS_CONNECTION_ERROR: 503,
    SLURM_COMMUNICATIONS_CONNECTION_ERROR: 503,
    ESLURM_DB_CONNECTION: 503,
    MYSQL_ILLEGAL_MIX_OF_COLLATIONS: 400,
}

#: The errnos of a daemon that could not be reached at all (``api.runner``: 503).
UNREACHABLE = frozenset({SLURMCTLD_COMMUNICATIONS_CONNECTION_ERROR,
                         SLURM_COMMUNICATIONS_CONNECTION_ERROR})

#: Statuses of failing to talk to slurmctld at all (``api.runner``); every operation can
#: answer them.
BAD_GATEWAY, UNAVAILABLE, GATEWAY_TIMEOUT = 502, 503, 504
GATEWAY_STATUSES = (BAD_GATEWAY, UNAVAILABLE, GATEWAY_TIMEOUT)

#: Statuses the web room answers for any operation before (or instead of) running it: a
#: parameter or body that does not hold to the declaration 400, no acceptable format 406,
#: too many requests of the caller in flight 429 (with Retry-After); for one with a body
#: also 413 (too large) and 415 (not JSON or YAML). And 304: nothing changed since the
#: caller's update_time (Slurm's "no change" reply).
EDGE_STATUSES = (400, 406, 429)
BODY_STATUSES = (413, 415)
NOT_MODIFIED_STATUS = 304

#: The shapes slurmrestd 22.05 gives its error entries.
FULL = "full"        # description, error_number, error, source (most of them)
SUBMIT = "submit"    # the same with error_code beside error_number (its job submit path)
SHORT = "short"      # {error, errno} (its node, partition and reservation lookups)


def error_entry(number: int = -1, description: str | None = "",
                source: str | None = "slurmrest", *,
                error: str | None = None, form: str = FULL) -> dict:
    """One slurmrestd-shaped error entry; ``error`` defaults to Slurm's text for ``number``;
    a ``description`` or ``source`` of None is left out."""
    if error is None:
        error = strerror(number)
    if form == SHORT:
        return {"error": error, "errno": number}
    entry = {}
    if description is not None:  # slurmrestd's accounting plugin often words none
        entry["description"] = description
    entry["error_number"] = number
    if form == SUBMIT:
        entry["error_code"] = number
    entry["error"] = error
    if source is not None:
        entry["source"] = source
    return entry


def slurm_entry(e: SlurmError, source: str) -> dict:
    """The entry of a Slurm failure nobody worded: Slurm's text, and its RC_MSG text (if
    any) as the description."""
    text = e.text or str(e)
    return error_entry(e.errno, e.message or text, source, error=text)


class ApiError(Exception):
    """A failure with its HTTP status and slurmrestd-shaped error ``errors`` (entries)."""

    def __init__(self, status: int, errors: list[dict] | None = None, *, description: str = ""):
        super().__init__(description or (errors[0].get("description") if errors else "")
                         or str(status))
        self.status = status
        self.errors = errors if errors is not None else [
            error_entry(description=description, error="Unspecified error")]


class NotModified(Exception):
    """Nothing changed since the caller's ``update_time``: HTTP 304, no body."""


class Refusal(Exception):
    """Slurm refused (``errno``), worded by the handler (``entries``); the operation's error
    map decides the status. With a ``payload`` the answer carries it beside the errors
    (slurmrestd answers ``{"jobs": []}`` for a job that does not exist)."""

    def __init__(self, errno: int, entries: list[dict], payload: dict | None = None):
        super().__init__(entries[0].get("description") if entries else errno)
        self.errno = errno
        self.entries = entries
        self.payload = payload


def refusal(e: SlurmError, description: str, source: str, *, form: str = FULL) -> Exception:
    """What to raise for a ``SlurmError`` a handler caught: a ``Refusal`` worded so, or the
    error itself when slurmctld was not reached or not understood (the runner's to answer)."""
    if isinstance(e, (CommunicationError, ProtocolError)):
        return e
    return Refusal(e.errno, [error_entry(e.errno, description, source, form=form)])
