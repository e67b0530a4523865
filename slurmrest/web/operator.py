"""The operator's endpoints, outside the Slurm API: unauthenticated and cheap.

- ``/healthz`` and ``/livez``: the process answers (no RPC, nothing awaited);
- ``/readyz``: slurmctld and slurmdbd answer within a short bound (``api.health.Readiness``:
  one shared, rate-limited check, never an RPC per probe); 503 when one does not;
- ``/metrics``: the Prometheus text format (``web.metrics``), unless the metrics have a
  listener of their own (``--metrics-listen``).

GET and HEAD only. The names are slurmrestd 26.05's.
"""

from __future__ import annotations

from slurmrest.web import content, errors

HEALTH = "/healthz"
LIVE = "/livez"
READY = "/readyz"
METRICS = "/metrics"

_ALIVE = content.encode({"status": "ok"}, content.JSON)


class OperatorEndpoints:
    def __init__(self, readiness, metrics, *, serve_metrics: bool = True):
        self.readiness = readiness
        self.metrics = metrics
        self.paths = frozenset({HEALTH, LIVE, READY} | ({METRICS} if serve_metrics else set()))

    def refusal(self, method: bytes) -> errors.HttpFailure | None:
        if method.upper() in (b"GET", b"HEAD"):
            return None
        return errors.failure(405, "Method not allowed", "only GET and HEAD are answered here",
                              headers={"Allow": "GET, HEAD"})

    async def answer(self, path: str) -> tuple[int, bytes, bytes]:
        """(status, body, content type) for one of ``paths``."""
        if path == METRICS:
            return 200, self.metrics.exposition(), self.metrics_content_type
        if path == READY:
            report = await self.readiness.check()
            status = 200 if report["ready"] else 503
            body = dict(report, status="ready" if report["ready"] else "not ready")
            return status, content.encode(body, content.JSON), content.JSON.encode()
        return 200, _ALIVE, content.JSON.encode()

    @property
    def metrics_content_type(self) -> bytes:
        from slurmrest.web.metrics import CONTENT_TYPE
        return CONTENT_TYPE.encode()
