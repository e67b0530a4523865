"""What an operator watches: Prometheus metrics, through ``prometheus_client``.

One ``Metrics`` per gateway, with its own ``CollectorRegistry`` (several gateways in one
process, as in the tests, do not mix their figures):

- ``slurmrest_requests_total{operation,method,status}`` and
  ``slurmrest_request_duration_seconds{operation}`` (a histogram), from head to answer;
- ``slurmrest_requests_in_flight`` and ``slurmrest_connections_open``;
- ``slurmrest_slurm_rpcs_total{daemon,type}``, ``slurmrest_slurm_rpc_errors_total
  {daemon,type,error}`` and ``slurmrest_slurm_rpc_duration_seconds{daemon,type}``: fed by the
  clients' RPC observers (``rpc_observed``, added by the assembly: this room imports no wire);
- ``slurmrest_cache_hits_total{cache}`` and ``slurmrest_cache_misses_total{cache}``: read at
  scrape time from the caches the operations keep (``hits``, ``rebuilds``).

``rpc_observed`` also counts the RPCs of the request being answered (``RequestRpcs``, a
context variable the gateway sets per request), for the access log.
"""

from __future__ import annotations

import contextvars

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST

#: Requests answer in well under a millisecond from a cache, in seconds when Slurm is slow.
REQUEST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                   2.5, 5.0, 10.0, 30.0)
RPC_BUCKETS = (0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
               1.0, 2.5, 5.0, 10.0, 30.0)


class RequestRpcs:
    """The Slurm RPCs one request made (the access log's ``rpcs``)."""

    __slots__ = ("count",)

    def __init__(self):
        self.count = 0


#: The request the running code answers (set by the gateway for each request it runs).
CURRENT_REQUEST: contextvars.ContextVar[RequestRpcs | None] = contextvars.ContextVar(
    "slurmrest_request_rpcs", default=None)


class _Caches:
    """A collector over the caches the operations keep (``ServerState``): their own counters,
    read when scraped, so that a cache hit costs nothing more than it did."""

    def __init__(self, state):
        self.state = state

    def describe(self):
        return []

    def collect(self):
        hits = CounterMetricFamily("slurmrest_cache_hits", "requests answered from a cache",
                                   labels=["cache"])
        misses = CounterMetricFamily("slurmrest_cache_misses",
                                     "cache entries (re)built from Slurm's replies",
                                     labels=["cache"])
        for name, kept in self.state.kept():
            if hasattr(kept, "hits") and hasattr(kept, "rebuilds"):
                hits.add_metric([name], kept.hits)
                misses.add_metric([name], kept.rebuilds)
        yield hits
        yield misses


class Metrics:
    def __init__(self, state=None):
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("slurmrest_requests", "HTTP requests answered",
                                ["operation", "method", "status"], registry=registry)
        self.request_seconds = Histogram("slurmrest_request_duration_seconds",
                                         "time from a request's head to its answer",
                                         ["operation"], buckets=REQUEST_BUCKETS,
                                         registry=registry)
        # Gauges read when scraped: the channel keeps plain counts (no lock per request).
        #: Requests admitted and not yet answered; open HTTP connections.
        self.requests_in_flight = 0
        self.connections_open = 0
        Gauge("slurmrest_requests_in_flight", "requests admitted and not yet answered",
              registry=registry).set_function(lambda: self.requests_in_flight)
        Gauge("slurmrest_connections_open", "open HTTP connections",
              registry=registry).set_function(lambda: self.connections_open)
        self.rpcs = Counter("slurmrest_slurm_rpcs", "Slurm RPCs sent", ["daemon", "type"],
                            registry=registry)
        self.rpc_errors = Counter("slurmrest_slurm_rpc_errors", "Slurm RPCs that failed",
                                  ["daemon", "type", "error"], registry=registry)
        self.rpc_seconds = Histogram("slurmrest_slurm_rpc_duration_seconds",
                                     "time from sending a Slurm RPC to its decoded reply",
                                     ["daemon", "type"], buckets=RPC_BUCKETS,
                                     registry=registry)
        if state is not None:
            registry.register(_Caches(state))
        self._request_children: dict[tuple, tuple] = {}
        self._rpc_children: dict[tuple, tuple] = {}

    def request_answered(self, operation: str, method: str, status: int,
                         seconds: float) -> None:
        # The labelled children, found once per label set (``labels()`` costs microseconds
        # per call: a lock, a tuple, a dict; a request's whole work is tens of them).
        key = (operation, method, status)
        children = self._request_children.get(key)
        if children is None:
            children = self._request_children[key] = (
                self.requests.labels(operation, method, str(status)).inc,
                self.request_seconds.labels(operation).observe)
        children[0]()
        children[1](seconds)

    def rpc_observed(self, daemon: str, msg_type: str, seconds: float,
                     error: str | None) -> None:
        """An ``RpcObservers`` observer (``wire.observe``)."""
        key = (daemon, msg_type)
        children = self._rpc_children.get(key)
        if children is None:
            children = self._rpc_children[key] = (
                self.rpcs.labels(daemon, msg_type).inc,
                self.rpc_seconds.labels(daemon, msg_type).observe)
        children[0]()
        children[1](seconds)
        if error is not None:
            self.rpc_errors.labels(daemon, msg_type, error).inc()
        current = CURRENT_REQUEST.get()
        if current is not None:
            current.count += 1

    def exposition(self) -> bytes:
        """The text format a Prometheus server scrapes."""
        return generate_latest(self.registry)
