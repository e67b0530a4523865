"""Is the server ready to serve: do slurmctld and slurmdbd answer, within a short bound?

One ``Readiness`` per server. However many probes come (a load balancer per instance, a
kubelet, a person), the daemons see at most one check per ``interval``: probes within it get
the last answer, and probes during a check wait for that same check. Each daemon gets one
cheap RPC (``REQUEST_PING``; ``DBD_GET_STATS``) with the server's own credential, bounded by
``timeout``. A daemon "answers" when it replied, even with a refusal (it is up; the refusal
is the caller's business); it does not when it cannot be reached, hangs up, or is too slow.
"""

from __future__ import annotations

import time
from typing import Callable

from twisted.internet import defer

from slurmrest.api.errors import UNREACHABLE
from slurmrest.coalesce import SharedCalls
from slurmrest.wire.credentials import Credential
from slurmrest.wire.errors import CommunicationError, SlurmError

DEFAULT_INTERVAL = 2.0
DEFAULT_TIMEOUT = 2.0
#: What the checks send when the server cannot mint a token (it does not hold the jwt_key).
NO_TOKEN = Credential("no-token", "nobody")


class Readiness:
    """``await check()`` → ``{"ready": bool, "slurmctld": {...}, "slurmdbd": {...}}``.

    ``ctld``/``dbd``: the clients (``dbd`` None: no accounting, not checked);
    ``credential()``: the server's own credential for the checks (None: the daemons are
    asked with a token that is none, ``NO_TOKEN``; their refusal shows that they answer,
    at the price of a line in their logs per check).
    """

    def __init__(self, ctld, dbd, credential: Callable[[], object], *, reactor=None,
                 interval: float = DEFAULT_INTERVAL, timeout: float = DEFAULT_TIMEOUT):
        if reactor is None:
            from twisted.internet import reactor
        self.ctld, self.dbd, self.credential = ctld, dbd, credential
        self.reactor = reactor
        self.interval, self.timeout = interval, timeout
        self._last: tuple[float, dict] | None = None
        self._checking = SharedCalls(cancel_abandoned=False)
        #: Checks made (each one RPC per daemon): tests and diagnostics.
        self.checks = 0

    async def check(self) -> dict:
        last = self._last
        if last is not None and self.reactor.seconds() - last[0] < self.interval:
            return last[1]
        return await self._checking.join("check", self._check)

    async def _check(self) -> dict:
        self.checks += 1
        credential = self.credential() or NO_TOKEN
        ctld = self.ctld.bind(credential)
        controllers = range(max(1, len(getattr(ctld, "controllers", None) or ())))
        # Any controller that answers serves (a backup takes over from a primary that died).
        probes = {"slurmctld": lambda: _any_answer([ctld.ping(i) for i in controllers])}
        if self.dbd is not None:
            probes["slurmdbd"] = lambda: self.dbd.bind(credential).stats()
        names = list(probes)
        answers = await defer.gatherResults(
            [defer.ensureDeferred(self._probe(probes[name])) for name in names])
        report = dict(zip(names, answers))
        report = {"ready": all(a["answering"] for a in answers), **report}
        self._last = (self.reactor.seconds(), report)
        return report

    async def _probe(self, rpc) -> dict:
        started = time.perf_counter()
        work = defer.ensureDeferred(rpc())
        work.addTimeout(self.timeout, self.reactor)
        error = None
        try:
            await work
            answering = True
        except defer.TimeoutError:
            answering, error = False, f"no answer within {self.timeout:g} s"
        except CommunicationError as e:
            # Connected and hung up (how slurmctld refuses a credential): it is up.
            answering = not e.timeout and e.errno not in UNREACHABLE
            error = e.name
        except SlurmError as e:
            answering, error = True, e.name
        except Exception as e:  # never let a probe fail the server's answer
            answering, error = False, type(e).__name__
        answer = {"answering": answering,
                  "seconds": round(time.perf_counter() - started, 6)}
        if error is not None:
            answer["error"] = error
        return answer


async def _any_answer(rpcs) -> object:
    """A reply of any of several RPCs made at once (once all ended); else the first failure."""
    results = await defer.DeferredList([defer.ensureDeferred(r) for r in rpcs],
                                       consumeErrors=True)
    for ok, value in results:
        if ok:
            return value
    results[0][1].raiseException()
