"""``GET /ping``: is each controller of the cluster answering?

As slurmrestd does: the controller list comes from the controller's build info (the
server's cached copy, revalidated with its ``last_update`` on every request, with the caller's
credential), then each controller gets a
``REQUEST_PING`` (all at once); "UP" iff it answered with return code 0.
"""

from __future__ import annotations

from twisted.internet import defer

from slurmrest.api.meta import build_info
from slurmrest.api.registry import Result, operation, schema_ref
from slurmrest.api.state import LastAnswer, Slot
from slurmrest.wire.errors import SLURMCTLD_COMMUNICATIONS_CONNECTION_ERROR, SlurmError

PING = schema_ref("v0.0.38_ping", {
    "type": "object",
    "properties": {
        "hostname": {"type": "string", "description": "slurm controller hostname"},
        "ping": {"type": "string", "description": "slurm controller host up", "enum": ["UP", "DOWN"]},
        "mode": {"type": "string", "description": "slurm controller mode"},
        "status": {"type": "integer", "description": "slurm controller status"},
    },
})


def controller_mode(index: int, count: int) -> str:
    """slurmrestd's names: primary, then "backup" when there is one, else backup1, backup2…"""
    if index == 0:
        return "primary"
    if index == 1 and count == 2:
        return "backup"
    return f"backup{index}"


async def ping_one(ctld, index: int) -> int:
    try:
        reply = await ctld.ping(index)
    except SlurmError as e:  # CommunicationError included: the controller is down
        return e.errno
    except ValueError:
        # slurmctld lists more controllers than our slurm.conf does (edited since we
        # started): we do not know where that one listens, so it cannot be reached.
        return SLURMCTLD_COMMUNICATIONS_CONNECTION_ERROR
    # The RC body ({"return_code": 0}); a non-zero code was raised as SlurmError already.
    return int(reply.get("return_code", 0)) if isinstance(reply, dict) else int(reply or 0)


@operation("GET", "/ping", operation_id="ping", summary="ping test", tags=("slurm",),
           response_schema={"type": "object", "properties": {
               "pings": {"type": "array", "description": "slurm controller pings", "items": PING}}})
async def ping(call):
    # The caller's own build-info RPC, as slurmrestd's slurm_load_ctl_conf: a refused token
    # must fail the request, not read as every controller "DOWN" (a ping RPC with a refused
    # credential looks like a controller that hung up). Unchanged, it is a no-change reply.
    info = await build_info(call, max_age=0)
    machines = list(info.get("control_machine") or [])
    if len(machines) == 1:
        statuses = [await ping_one(call.slurmctld, 0)]
    else:  # all at once: a down backup costs its connect timeout once, not in turn
        statuses = await defer.gatherResults(
            [defer.ensureDeferred(ping_one(call.slurmctld, index)) for index in range(len(machines))])
    # The same answer as last time (the usual case) is the same Result: serialised once.
    key = (tuple(machines), tuple(statuses))
    last = call.state[LAST_PING]
    if last.source == key:
        return last.result
    result = Result({"pings": [
        {"hostname": hostname, "ping": "UP" if status == 0 else "DOWN", "status": status,
         "mode": controller_mode(index, len(machines))}
        for index, (hostname, status) in enumerate(zip(machines, statuses))]}, cache={})
    last.keep(key, result)
    return result


#: The last answer and the (controllers, statuses) it was made from.
LAST_PING = Slot("ping.last", LastAnswer)
