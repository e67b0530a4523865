"""How the accounting operations word slurmdbd's answers that are not records: nothing
found, and refusals, in slurmrestd's entry form (``source`` names the slurmdb function that
slurmrestd would have called; its accounting entries carry no description of their own).

Statuses (``STATUSES``, the operations' error map): a single record or a deletion that finds
nothing is 404 (slurmrestd: 500); a removal Slurm refuses because jobs run or a user's
default account would go is 409 (slurmrestd: 500); a bad name 400.
"""

from __future__ import annotations

from slurmrest.api.errors import Refusal, error_entry, refusal
from slurmrest.wire.errors import (
    ESLURM_BAD_NAME,
    ESLURM_JOBS_RUNNING_ON_ASSOC,
    ESLURM_NO_REMOVE_DEFAULT_ACCOUNT,
    ESLURM_REST_EMPTY_RESULT,
    SlurmError,
)

#: ``errno -> status`` for the accounting operations of this family (over DEFAULT_STATUS).
STATUSES = {
    ESLURM_REST_EMPTY_RESULT: 404,
    ESLURM_JOBS_RUNNING_ON_ASSOC: 409,
    ESLURM_NO_REMOVE_DEFAULT_ACCOUNT: 409,
    ESLURM_BAD_NAME: 400,
}


def nothing_found(source: str, payload: dict) -> Refusal:
    """slurmrestd's entry for an empty answer, beside the (empty) ``payload``."""
    return Refusal(ESLURM_REST_EMPTY_RESULT,
                   [error_entry(ESLURM_REST_EMPTY_RESULT, "Nothing found", source)], payload)


def refused(e: SlurmError, source: str, payload: dict | None = None) -> Exception:
    """What to raise for slurmdbd refusing: its errno and text, and what it named (the
    blocking jobs or users of a removal) as the description."""
    failure = refusal(e, e.message or None, source)
    if isinstance(failure, Refusal):
        failure.payload = payload
    return failure
