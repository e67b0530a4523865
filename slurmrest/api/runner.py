"""Running an operation: ``await run(operation, call)``.

What every operation needs besides its handler: the Slurm version for ``meta`` (learnt once,
with the first caller's credential), and its failures as answers. Every Slurm failure leaves
here as an ``ApiError`` with its HTTP status (the operation's error map, ``api.errors``) and
``NoChange`` as ``NotModified``; the web room only writes them out. Anything else (a bug) is
left to the web room's last resort.
"""

from __future__ import annotations

from slurmrest.api import meta
from slurmrest.api.errors import (
    BAD_GATEWAY,
    ESLURM_DB_CONNECTION,
    GATEWAY_TIMEOUT,
    UNAVAILABLE,
    UNREACHABLE,
    ApiError,
    NotModified,
    Refusal,
    error_entry,
    slurm_entry,
)
from slurmrest.api.registry import Call, Operation, Result
from slurmrest.wire.errors import (
    CommunicationError,
    NoChange,
    ProtocolError,
    SlurmError,
)


async def run(operation: Operation, call: Call, source: str | None = None) -> dict | Result:
    """The handler's payload for ``call``; ``source`` names the operation in error entries
    (the web room passes its route's name; the operation id otherwise)."""
    if source is None:
        source = operation.operation_id
    try:
        if call.state.build_info.release is None and call.slurmctld is not None:
            if operation.family == "slurmdb":
                # Accounting must work while slurmctld is down or frozen: its version is
                # learnt beside the operation, and meta gains it as soon as it is known.
                meta.learn_release(call)
            else:
                # A failure here (slurmctld down, credential refused) is the caller's
                # failure too, answered as such rather than met a second time.
                await meta.build_info(call)
        return await operation.handler(call)
    except NoChange:
        raise NotModified() from None
    except Refusal as e:
        status = operation.status_of(e.errno)
        if e.payload is not None:
            return Result(e.payload, status=status, errors=e.entries)
        raise ApiError(status, e.entries) from None
    except SlurmError as e:
        status = _status(operation, e)
        if operation.family == "slurmdb" and isinstance(e, CommunicationError):
            # slurmrestd's words for slurmdbd out of reach, with what happened beside them
            # (``str(e)``: the failure, the address, the timeout).
            how = "connecting to" if status == UNAVAILABLE else "talking to"
            entry = error_entry(ESLURM_DB_CONNECTION, f"Failed {how} slurmdbd: {e}", source)
        else:
            entry = slurm_entry(e, source)
        raise ApiError(status, [entry]) from None


def _status(operation: Operation, e: SlurmError) -> int:
    if isinstance(e, ProtocolError):
        return BAD_GATEWAY
    if isinstance(e, CommunicationError):
        if e.timeout:
            return GATEWAY_TIMEOUT
        if e.errno in UNREACHABLE:  # the daemon is down
            return UNAVAILABLE
        # Connected, then the socket closed without a reply: slurmctld does that when it
        # refuses the credential, or when it dies mid-request.
        return BAD_GATEWAY
    return operation.status_of(e.errno)
