"""The operator's side in memory: CORS answers (allowed, refused, off), health without
credentials, the gauges of connections and requests in flight, and Readiness' sharing,
rate limit and bound on a clock of its own (the real daemons: tests.test_operating_live)."""

from __future__ import annotations

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.trial import unittest

from slurmrest.api.health import Readiness
from slurmrest.web.cors import Cors
from slurmrest.wire.errors import CommunicationError, SlurmError
from tests.test_web_server import connect, creds, exchange, make_site, request, responses

PORTAL = "https://portal.example.org"
PREFLIGHT = {"Origin": PORTAL, "Access-Control-Request-Method": "GET",
             "Access-Control-Request-Headers": "x-slurm-user-name,x-slurm-user-token"}


class CorsTests(unittest.TestCase):
    def setUp(self):
        self.site = make_site()
        self.site.gateway.cors = Cors([PORTAL])

    def test_preflight_of_an_allowed_origin_needs_no_credentials(self):
        (r,), transport = exchange(self.site, request("OPTIONS", "/slurm/v1/echo", PREFLIGHT))
        self.assertEqual(r.status, 204)
        self.assertEqual(r.header("access-control-allow-origin"), PORTAL)
        self.assertIn("X-SLURM-USER-TOKEN", r.header("access-control-allow-headers"))
        self.assertNotIn("API-KEY", r.header("access-control-allow-headers"))
        self.assertIn("POST", r.header("access-control-allow-methods"))
        # Exactly once: a browser refuses an answer with two.
        self.assertEqual(transport.value().count(b"Access-Control-Allow-Origin"), 1)

    def test_answers_to_an_allowed_origin_carry_it(self):
        for headers, status in ((dict(creds(), Origin=PORTAL), 200), ({"Origin": PORTAL}, 401)):
            (r,), transport = exchange(self.site, request("GET", "/slurm/v1/echo", headers))
            self.assertEqual(r.status, status)
            self.assertEqual(r.header("access-control-allow-origin"), PORTAL)
            self.assertEqual(r.header("vary"), "Origin")

    def test_other_origins_get_nothing_to_read(self):
        other = dict(PREFLIGHT, Origin="https://evil.example.org")
        (r,), transport = exchange(self.site, request("OPTIONS", "/slurm/v1/echo", other))
        self.assertEqual(r.status, 403)
        self.assertNotIn(b"Access-Control-Allow-", transport.value())
        (r,), transport = exchange(self.site, request(
            "GET", "/slurm/v1/echo", dict(creds(), Origin="https://evil.example.org")))
        self.assertEqual(r.status, 200)  # answered, but the browser will not show it
        self.assertNotIn(b"Access-Control-Allow-", transport.value())

    def test_off_by_default(self):
        site = make_site()
        (r,), transport = exchange(site, request("OPTIONS", "/slurm/v1/echo", PREFLIGHT))
        self.assertEqual(r.status, 401)  # no special case: authentication first, as ever
        self.assertNotIn(b"Access-Control-", transport.value())


class OperatorEndpointTests(unittest.TestCase):
    def test_health_needs_no_credentials(self):
        site = make_site()
        for path in ("/healthz", "/livez"):
            (r,), _ = exchange(site, request("GET", path))
            self.assertEqual((r.status, r.json()), (200, {"status": "ok"}))
            (r,), _ = exchange(site, request("DELETE", path))
            self.assertEqual((r.status, r.header("allow")), (405, "GET, HEAD"))

    def test_gauges(self):
        site = make_site({})
        metrics = site.gateway.metrics
        channel, transport = connect(site)
        self.assertEqual(metrics.connections_open, 1)
        channel.dataReceived(request("GET", "/slurm/v1/slow", creds()))
        self.assertEqual(metrics.requests_in_flight, 1)  # the slow one waits
        channel.connectionLost(None)
        self.assertEqual(metrics.requests_in_flight, 0)
        self.assertEqual(metrics.connections_open, 0)
        (r,), _ = exchange(site, request("GET", "/slurm/v1/echo", creds()))
        self.assertEqual(metrics.requests_in_flight, 0)
        text = metrics.exposition().decode()
        self.assertIn('slurmrest_requests_total{method="GET",operation="slurm_v1_echo",'
                      'status="200"} 1.0', text)


class FakeDaemon:
    """Stands where a client goes: each RPC is a Deferred the test fires."""

    def __init__(self):
        self.calls = []

    def bind(self, credential):
        return self

    def ping(self, index):
        d = defer.Deferred()
        self.calls.append(d)
        return d

    stats = lambda self: self.ping(0)  # noqa: E731


class ReadinessTests(unittest.TestCase):
    def setUp(self):
        self.clock = Clock()
        self.ctld, self.dbd = FakeDaemon(), FakeDaemon()
        self.readiness = Readiness(self.ctld, self.dbd, lambda: None, reactor=self.clock,
                                   interval=2, timeout=1)

    def test_one_check_for_every_probe_within_the_interval(self):
        probes = [defer.ensureDeferred(self.readiness.check()) for _ in range(5)]
        self.assertEqual((len(self.ctld.calls), len(self.dbd.calls)), (1, 1))
        self.ctld.calls[0].callback({"return_code": 0})
        self.dbd.calls[0].callback({})
        reports = [self.successResultOf(p) for p in probes]
        self.assertTrue(all(r["ready"] for r in reports))
        self.assertTrue(self.successResultOf(defer.ensureDeferred(self.readiness.check()))
                        ["ready"])
        self.assertEqual(len(self.ctld.calls), 1)  # still within the interval
        self.clock.advance(2)
        defer.ensureDeferred(self.readiness.check())
        self.assertEqual(len(self.ctld.calls), 2)

    def test_bounded_and_classified(self):
        probe = defer.ensureDeferred(self.readiness.check())
        self.ctld.calls[0].errback(SlurmError(2010))  # refused: it answers all the same
        self.clock.advance(1)  # slurmdbd silent past the bound
        report = self.successResultOf(probe)
        self.assertFalse(report["ready"])
        self.assertTrue(report["slurmctld"]["answering"])
        self.assertFalse(report["slurmdbd"]["answering"])
        self.assertIn("no answer within 1 s", report["slurmdbd"]["error"])
        self.clock.advance(2)
        probe = defer.ensureDeferred(self.readiness.check())
        self.ctld.calls[1].errback(CommunicationError(1001))  # SLURM_COMMUNICATIONS_CONNECTION_ERROR
        self.dbd.calls[1].callback({})
        report = self.successResultOf(probe)
        self.assertFalse(report["slurmctld"]["answering"])
        self.assertTrue(report["slurmdbd"]["answering"])
