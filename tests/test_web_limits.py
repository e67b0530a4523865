"""``web.limits``: each limit of the HTTP server answered with its status, in memory through
the real HTTP stack (the gateway's channel and site)."""

from __future__ import annotations

from twisted.internet.address import IPv4Address
from twisted.trial import unittest

from slurmrest.web.limits import DEFAULT_LIMITS, Limits
from tests.test_web_server import connect, creds, make_site, request, responses


def site_with(**limits):
    site = make_site()
    site.gateway.limits = DEFAULT_LIMITS.with_settings([f"{k}={v}" for k, v in limits.items()])
    from slurmrest.web.limits import Counter
    site.gateway.in_flight = Counter(site.gateway.limits.max_in_flight_per_user)
    site.connections = Counter(site.gateway.limits.max_connections_per_address)
    return site


class LimitTests(unittest.TestCase):
    def test_whole_request_time_not_only_idle_time(self):
        site = site_with(request_seconds=30)
        channel, transport = connect(site)
        head = request("GET", "/slurm/v1/echo", creds())
        clock = site.reactor
        for i in range(5):  # a byte every 10 s: never idle long, but 30 s for the request
            channel.dataReceived(head[i:i + 1])
            clock.advance(10)
        (r,) = responses(transport.value())
        self.assertEqual((r.status, r.header("connection")), (408, "close"))
        self.assertTrue(transport.disconnecting)

    def test_timer_stops_once_the_request_is_in(self):
        site = site_with(request_seconds=30)
        channel, transport = connect(site)
        head = request("GET", "/slurm/v1/echo", creds())
        channel.dataReceived(head[:10])
        channel.dataReceived(head[10:])
        site.reactor.advance(60)
        self.assertEqual([r.status for r in responses(transport.value())], [200])
        self.assertFalse(transport.disconnecting)

    def test_too_many_headers(self):
        site = site_with(max_headers=10)
        headers = dict(creds(), **{f"X-{i}": "v" for i in range(20)})
        channel, transport = connect(site)
        channel.dataReceived(request("GET", "/slurm/v1/echo", headers))
        (r,) = responses(transport.value())
        self.assertEqual(r.status, 431)
        self.assertEqual(r.json()["errors"][0]["error"], "Request header fields too large")

    def test_head_too_large(self):
        site = site_with(max_head_bytes=2048)
        channel, transport = connect(site)
        channel.dataReceived(request("GET", "/slurm/v1/echo", dict(creds(), X="v" * 4000)))
        self.assertEqual([r.status for r in responses(transport.value())], [431])

    def test_request_line_too_long(self):
        site = site_with(max_head_bytes=2048)
        channel, transport = connect(site)
        channel.dataReceived(request("GET", "/slurm/v1/echo?n=" + "1" * 4000, creds()))
        self.assertEqual([r.status for r in responses(transport.value())], [414])

    def test_connections_per_address_and_overall(self):
        site = site_with(max_connections_per_address=2, max_connections=3)
        a = IPv4Address("TCP", "127.0.0.2", 1)
        b = IPv4Address("TCP", "127.0.0.3", 1)
        opened = [connect(site, a), connect(site, a)]
        _, third = connect(site, a)
        (r,) = responses(third.value())
        self.assertEqual((r.status, r.header("retry-after")), (503, "1"))
        self.assertTrue(third.disconnecting)
        opened.append(connect(site, b))
        _, fourth = connect(site, b)  # b has one, but the server has three
        self.assertEqual([r.status for r in responses(fourth.value())], [503])
        opened[0][0].connectionLost(Exception("closed"))
        _, again = connect(site, a)
        self.assertEqual(again.value(), b"")  # a slot is free again
        self.assertFalse(again.disconnecting)

    def test_in_flight_per_user_429_with_retry_after(self):
        site = site_with(max_in_flight_per_user=2)
        slow = [connect(site) for _ in range(2)]
        for channel, _ in slow:
            channel.dataReceived(request("GET", "/slurm/v1/slow", creds()))
        channel, transport = connect(site)
        channel.dataReceived(request("GET", "/slurm/v1/echo", creds()))
        (r,) = responses(transport.value())
        self.assertEqual((r.status, r.header("retry-after")), (429, "1"))
        # Another user is not held back; and once alice's are answered she may ask again.
        channel, transport = connect(site)
        channel.dataReceived(request("GET", "/slurm/v1/echo", creds("bob")))
        self.assertEqual([r.status for r in responses(transport.value())], [200])
        for channel, _ in slow:
            channel.connectionLost(Exception("gone"))
        channel, transport = connect(site)
        channel.dataReceived(request("GET", "/slurm/v1/echo", creds()))
        self.assertEqual([r.status for r in responses(transport.value())], [200])

    def test_settings(self):
        limits = Limits().with_settings(["request_seconds=5", "max-headers=7"])
        self.assertEqual((limits.request_seconds, limits.max_headers), (5.0, 7))
        with self.assertRaises(ValueError):
            Limits().with_settings(["nonsense=1"])
        with self.assertRaises(ValueError):
            Limits().with_settings(["max_headers=0"])

    def test_slow_reader_is_bounded_in_time(self):
        site = site_with(drain_seconds=60)
        channel, transport = connect(site)
        channel.dataReceived(request("GET", "/slurm/v1/echo", creds()))
        # The transport says its send buffer is full: no more is read from this client...
        channel.pauseProducing()
        self.assertEqual(transport.producerState, "paused")
        site.reactor.advance(59)
        self.assertFalse(transport.disconnecting)
        # ...and one that reads nothing for drain_seconds is cut off.
        site.reactor.advance(2)
        self.assertTrue(transport.disconnected or transport.disconnecting)

    def test_reader_that_drains_keeps_its_connection(self):
        site = site_with(drain_seconds=60)
        channel, transport = connect(site)
        channel.pauseProducing()
        site.reactor.advance(30)
        channel.resumeProducing()
        site.reactor.advance(50)  # past drain_seconds since the pause (short of idle time)
        self.assertFalse(transport.disconnecting)
        channel.dataReceived(request("GET", "/slurm/v1/echo", creds()))
        self.assertEqual([r.status for r in responses(transport.value())], [200])


class HostileClientTests(unittest.TestCase):
    """What a hostile client run found (issue 13), each answered with a status now."""

    def setUp(self):
        from twisted.logger import globalLogPublisher

        self.failures = []
        self.observer = lambda e: self.failures.append(e) if e.get("log_failure") else None
        globalLogPublisher.addObserver(self.observer)

    def tearDown(self):
        from twisted.logger import globalLogPublisher

        globalLogPublisher.removeObserver(self.observer)

    def exchange(self, data: bytes):
        site = make_site()
        channel, transport = connect(site)
        channel.dataReceived(data)
        return responses(transport.value()), transport

    def head(self, first: str, headers: dict, eol: str = "\r\n") -> bytes:
        lines = [first, *(f"{k}: {v}" for k, v in headers.items())]
        return (eol.join(lines) + eol + eol).encode("latin-1")

    def test_content_length_of_thousands_of_digits(self):
        (r,), transport = self.exchange(self.head(
            "POST /slurm/v1/submit HTTP/1.1",
            dict(creds(), **{"Content-Type": "application/json", "Content-Length": "9" * 5000})))
        self.assertEqual(r.status, 400)
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.failures, [])  # no traceback in the log

    def test_bare_lf_request_is_answered(self):
        (r,), transport = self.exchange(self.head("GET /slurm/v1/echo HTTP/1.1", creds(),
                                                  eol="\n"))
        self.assertEqual(r.status, 400)
        self.assertIn("CRLF", r.json()["errors"][0]["description"])

    def test_chunk_declaring_more_than_the_body_limit(self):
        (r,), transport = self.exchange(self.head(
            "POST /slurm/v1/submit HTTP/1.1",
            dict(creds(), **{"Content-Type": "application/json",
                             "Transfer-Encoding": "chunked"})) + b"200000\r\n")
        self.assertEqual(r.status, 413)
        self.assertTrue(transport.disconnecting)

    def test_accept_with_a_weight_that_does_not_parse(self):
        (r,), _ = self.exchange(request("GET", "/slurm/v1/echo",
                                        dict(creds(), Accept="*/*;q=abc")))
        self.assertEqual(r.status, 200)


class NestingTests(unittest.TestCase):
    def test_deep_yaml_refused_before_parsing(self):
        from slurmrest.web import content

        body = b"a: " + b"[" * 3000 + b"]" * 3000
        with self.assertRaises(content.BadDocument) as cm:
            content.decode(body, content.YAML_TYPE)
        self.assertIn("nested deeper", str(cm.exception))
        # Brackets side by side are not nesting; a usual document is parsed as ever.
        self.assertEqual(len(content.decode(b"a: [" + b"[1]," * 200 + b"[2]]",
                                            content.YAML_TYPE)["a"]), 201)
        self.assertEqual(content.decode(b"a: {b: [1, {c: 2}]}", content.YAML_TYPE),
                         {"a": {"b": [1, {"c": 2}]}})

    def test_deep_yaml_request_is_400(self):
        site = make_site()
        channel, transport = connect(site)
        body = b"[" * 400 + b"]" * 400  # within the test site's 1000-byte body limit
        channel.dataReceived(request("POST", "/slurm/v1/submit",
                                     dict(creds(), **{"Content-Type": "application/x-yaml"}),
                                     body=body))
        (r,) = responses(transport.value())
        self.assertEqual(r.status, 400)
