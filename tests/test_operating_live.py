"""The operator's side of a real server against the real cluster: /healthz, /livez,
/readyz (one shared check), Authorization: Bearer, /metrics (parsed with
prometheus_client's own parser, on the API listener and on a listener of its own), and the
JSON access log (every field, and never a secret)."""

from __future__ import annotations

import json
import os

from prometheus_client.parser import text_string_to_metric_families
from twisted.internet import defer, reactor
from twisted.web.client import readBody
from twisted.web.http_headers import Headers

from slurmrest import tap
from slurmrest.api.health import Readiness
from slurmrest.wire.conf import SlurmConfig
from slurmrest.wire.credentials import TokenMinter
from slurmrest.wire.dbd_client import SlurmdbdClient
from tests.test_server_live import LiveBase, free_port


class OperatingBase(LiveBase):
    async def start(self, argv) -> list[str]:
        """``twistd slurmrest ARGV`` in this process (``self.top``, ``self.site``); the base
        URL of each TCP listener."""
        options = tap.Options()
        options.parseOptions(argv)
        self.top = top = tap.makeService(options)
        top.privilegedStartService()
        top.startService()
        self.addCleanup(top.stopService)
        self.site = next(iter(top)).factory
        self.gateway = self.site.gateway
        return [f"http://{(await svc.listening).getHost().host}:"
                f"{(await svc.listening).getHost().port}" for svc in top]

    async def request(self, method, url, headers=None):
        h = Headers({k.encode(): [v.encode()] for k, v in (headers or {}).items()})
        response = await self.http.request(method.encode(), url.encode("ascii"), h)
        return response, await readBody(response)

    async def scrape(self, url) -> dict:
        """{(name, labels as a sorted tuple): value} of every sample at ``url``."""
        response, body = await self.request("GET", url)
        self.assertEqual(response.code, 200, body[:300])
        self.assertTrue(response.headers.getRawHeaders(b"Content-Type")[0]
                        .startswith(b"text/plain"))
        samples = {}
        for family in text_string_to_metric_families(body.decode()):
            for s in family.samples:
                samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
        return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


class HealthTests(OperatingBase):
    async def test_health_and_liveness_need_no_credentials(self):
        (base,) = await self.start(["-f", self.cluster.slurm_conf, "-l", "127.0.0.1:0"])
        before = self.gateway.readiness.checks
        for path in ("/healthz", "/livez"):
            response, body = await self.request("GET", base + path)
            self.assertEqual((response.code, json.loads(body)), (200, {"status": "ok"}))
            response, body = await self.request("HEAD", base + path)
            self.assertEqual((response.code, body), (200, b""))
            response, body = await self.request("POST", base + path)
            self.assertEqual(response.code, 405)
        self.assertEqual(self.gateway.readiness.checks, before)  # no Slurm RPC for these

    async def test_ready_when_both_daemons_answer_one_check_for_many_probes(self):
        (base,) = await self.start(["-f", self.cluster.slurm_conf, "-l", "127.0.0.1:0"])
        readiness = self.gateway.readiness
        readiness.interval = 3600  # within the interval every probe gets the last check
        answers = await defer.gatherResults([
            defer.ensureDeferred(self.request("GET", base + "/readyz")) for _ in range(20)])
        for response, body in answers:
            doc = json.loads(body)
            self.assertEqual(response.code, 200, doc)
            self.assertEqual((doc["ready"], doc["status"]), (True, "ready"))
            self.assertTrue(doc["slurmctld"]["answering"])
            self.assertTrue(doc["slurmdbd"]["answering"])
        self.assertEqual(readiness.checks, 1)
        samples = await self.scrape(base + "/metrics")
        self.assertEqual(value(samples, "slurmrest_slurm_rpcs_total", daemon="slurmctld",
                               type="REQUEST_PING"), 1)
        self.assertEqual(value(samples, "slurmrest_slurm_rpcs_total", daemon="slurmdbd",
                               type="DBD_GET_STATS"), 1)
        self.assertEqual(value(samples, "slurmrest_requests_total", operation="readyz",
                               method="GET", status="200"), 20)

    async def test_not_ready_when_slurmdbd_is_out_of_reach(self):
        config = SlurmConfig.load(self.cluster.slurm_conf)
        (base,) = await self.start(["-f", self.cluster.slurm_conf, "-l", "127.0.0.1:0"])
        dead = SlurmdbdClient(config, reactor, host="127.0.0.1", port=free_port())
        minter = TokenMinter.from_file(self.cluster.jwt_key_path)
        self.gateway.readiness = self.gateway.operator.readiness = Readiness(
            self.gateway.ctld, dead, lambda: minter.credential_for(config.slurm_user),
            interval=0)
        response, body = await self.request("GET", base + "/readyz")
        doc = json.loads(body)
        self.assertEqual(response.code, 503, doc)
        self.assertEqual((doc["ready"], doc["status"]), (False, "not ready"))
        self.assertTrue(doc["slurmctld"]["answering"])
        self.assertFalse(doc["slurmdbd"]["answering"])
        self.assertEqual(doc["slurmdbd"]["error"], "SLURM_COMMUNICATIONS_CONNECTION_ERROR")


    async def test_ready_without_a_key_of_our_own(self):
        # A server that cannot mint tokens asks with none: the daemons' refusals show that
        # they answer.
        config = SlurmConfig.load(self.cluster.slurm_conf)
        (base,) = await self.start(["-f", self.cluster.slurm_conf, "-l", "127.0.0.1:0"])
        readiness = Readiness(self.gateway.ctld, self.gateway.dbd, lambda: None, interval=0)
        report = await readiness.check()
        self.assertTrue(report["ready"], report)
        self.assertTrue(report["slurmctld"]["error"])  # refused, yet answering
        self.assertTrue(report["slurmdbd"]["error"])
        dead = SlurmdbdClient(config, reactor, host="127.0.0.1", port=free_port())
        report = await Readiness(self.gateway.ctld, dead, lambda: None, interval=0).check()
        self.assertFalse(report["ready"])


class BearerTests(OperatingBase):
    async def test_bearer_token_alone_is_its_users(self):
        (base,) = await self.start(["-f", self.cluster.slurm_conf, "-l", "127.0.0.1:0",
                                    "--access-log", os.path.join(self.dir, "access.log")])
        bob = self.cluster.token("bob")
        response, body = await self.request("GET", base + "/slurm/v0.0.38/ping",
                                            {"Authorization": f"Bearer {self.alice}"})
        self.assertEqual(response.code, 200, body[:300])
        self.assertEqual(json.loads(body)["pings"][0]["ping"], "UP")
        # The caller's own jobs: submitted as bob, shown to bob's Bearer token with bob's name.
        job = self.cluster.submit("sleep 60", user="bob")
        self.addCleanup(self.cluster.cancel, job)
        response, body = await self.request("GET", f"{base}/slurm/v0.0.38/job/{job}",
                                            {"authorization": f"bearer {bob}"})
        self.assertEqual(response.code, 200, body[:300])
        self.assertEqual(json.loads(body)["jobs"][0]["user_name"], "bob")
        cases = [
            ({"Authorization": f"Bearer {bob}", "X-SLURM-USER-NAME": "bob"}, 200),
            ({"Authorization": f"Bearer {bob}", "X-SLURM-USER-NAME": "alice"}, 403),
            ({"Authorization": f"Bearer {bob}", "X-SLURM-USER-TOKEN": self.alice,
              "X-SLURM-USER-NAME": "alice"}, 401),
            ({"Authorization": "Bearer not-a-jwt"}, 401),
            ({"Authorization": "Bearer "}, 401),
            ({"Authorization": f"Basic {bob}"}, 401),
            ({"Authorization": f"Bearer {self.cluster.token('root')}",
              "X-SLURM-USER-NAME": "alice"}, 200),  # root may act for others, as slurmctld
        ]
        for headers, status in cases:
            response, body = await self.request("GET", base + "/slurm/v0.0.38/ping", headers)
            self.assertEqual(response.code, status, (headers.keys(), body[:300]))
        self.site._logFile.flush()
        users = [json.loads(line)["user"]
                 for line in open(os.path.join(self.dir, "access.log"))]
        self.assertEqual(users, ["alice", "bob", "bob", None, None, None, None, None, "alice"])


class MetricsTests(OperatingBase):
    async def test_requests_rpcs_caches_and_gauges(self):
        (base,) = await self.start(["-f", self.cluster.slurm_conf, "-l", "127.0.0.1:0"])
        for _ in range(3):
            response, body = await self.request("GET", base + "/slurm/v0.0.38/ping", self.auth())
            self.assertEqual(response.code, 200)
        for _ in range(2):  # the second is answered from the jobs cache
            response, body = await self.request("GET", base + "/slurm/v0.0.38/jobs", self.auth())
            self.assertEqual(response.code, 200, body[:300])
        response, _ = await self.request("GET", base + "/slurm/v0.0.38/job/999999", self.auth())
        self.assertEqual(response.code, 404)
        response, _ = await self.request("GET", base + "/slurm/v0.0.38/ping")
        self.assertEqual(response.code, 401)
        response, _ = await self.request("GET", base + "/slurmdb/v0.0.38/tres", self.auth())
        self.assertEqual(response.code, 200)
        s = await self.scrape(base + "/metrics")
        ping = dict(operation="slurm_v0_0_38_ping", method="GET")
        self.assertEqual(value(s, "slurmrest_requests_total", status="200", **ping), 3)
        self.assertEqual(value(s, "slurmrest_requests_total", status="401", **ping), 0)
        self.assertEqual(value(s, "slurmrest_requests_total", operation="none", method="GET",
                               status="401"), 1)  # refused before it was routed
        self.assertEqual(value(s, "slurmrest_requests_total", operation="slurm_v0_0_38_get_job",
                               method="GET", status="404"), 1)
        self.assertEqual(value(s, "slurmrest_request_duration_seconds_count",
                               operation="slurm_v0_0_38_ping"), 3)
        self.assertEqual(value(s, "slurmrest_request_duration_seconds_bucket",
                               operation="slurm_v0_0_38_ping", le="+Inf"), 3)
        self.assertEqual(value(s, "slurmrest_slurm_rpcs_total", daemon="slurmctld",
                               type="REQUEST_PING"), 3)
        self.assertGreaterEqual(value(s, "slurmrest_slurm_rpcs_total", daemon="slurmctld",
                                      type="REQUEST_JOB_INFO"), 2)
        self.assertEqual(value(s, "slurmrest_slurm_rpc_errors_total", daemon="slurmctld",
                               type="REQUEST_JOB_INFO_SINGLE", error="ESLURM_INVALID_JOB_ID"), 1)
        self.assertGreaterEqual(value(s, "slurmrest_slurm_rpcs_total", daemon="slurmdbd",
                                      type="DBD_GET_TRES"), 1)
        self.assertEqual(value(s, "slurmrest_slurm_rpc_duration_seconds_count",
                               daemon="slurmctld", type="REQUEST_PING"), 3)
        # Each GET /jobs is a hit or a rebuild (a job that changed state in between is one).
        self.assertGreaterEqual(value(s, "slurmrest_cache_misses_total", cache="jobs"), 1)
        self.assertEqual(value(s, "slurmrest_cache_hits_total", cache="jobs")
                         + value(s, "slurmrest_cache_misses_total", cache="jobs"), 2)
        # The scrape itself is the one request in flight, on the one open connection.
        self.assertEqual(value(s, "slurmrest_requests_in_flight"), 1)
        self.assertEqual(value(s, "slurmrest_connections_open"), 1)

    async def test_a_listener_of_their_own(self):
        port = free_port()
        urls = await self.start(["-f", self.cluster.slurm_conf, "-l", "127.0.0.1:0",
                                 "--metrics-listen", f"127.0.0.1:{port}"])
        base, metrics = urls
        self.assertEqual(metrics, f"http://127.0.0.1:{port}")
        response, _ = await self.request("GET", base + "/slurm/v0.0.38/ping", self.auth())
        self.assertEqual(response.code, 200)
        # Not beside the API any more: /metrics is an API path like any other there.
        response, _ = await self.request("GET", base + "/metrics", self.auth())
        self.assertEqual(response.code, 404)
        s = await self.scrape(metrics + "/metrics")
        self.assertEqual(value(s, "slurmrest_requests_total", operation="slurm_v0_0_38_ping",
                               method="GET", status="200"), 1)


class AccessLogTests(OperatingBase):
    async def test_one_json_line_per_request_and_no_secret(self):
        path = os.path.join(self.dir, "access.log")
        key = "proxy-key-" + os.urandom(8).hex()
        key_file = os.path.join(self.dir, "keys")
        with open(key_file, "w") as f:
            f.write(key + "\n")
        os.chmod(key_file, 0o600)
        (base,) = await self.start(["-f", self.cluster.slurm_conf, "-l", "127.0.0.1:0",
                                    "--access-log", path, "--api-key-file", key_file])
        bob = self.cluster.token("bob")
        requests = [
            ("GET", "/slurm/v0.0.38/ping", self.auth(), 200),
            ("GET", "/slurm/v0.0.38/ping", {"Authorization": f"Bearer {bob}"}, 200),
            ("GET", "/slurm/v0.0.38/ping", {"X-SLURM-API-KEY": key,
                                            "X-SLURM-USER-NAME": "alice"}, 200),
            ("GET", "/slurm/v0.0.38/ping", {"X-SLURM-API-KEY": key + "x",
                                            "X-SLURM-USER-NAME": "alice"}, 401),
            ("GET", "/slurm/v0.0.38/ping?token=" + bob + "&x=1", self.auth(), 200),
            ("GET", "/slurm/v0.0.38/nope", self.auth(), 404),
            ("GET", "/healthz", {"X-Forwarded-For": "192.0.2.7"}, 200),
        ]
        for method, target, headers, status in requests:
            response, _ = await self.request(method, base + target, headers)
            self.assertEqual(response.code, status, target)
        self.site._logFile.flush()
        with open(path) as f:
            text = f.read()
        for secret in (self.alice, bob, key):
            self.assertNotIn(secret, text)
            self.assertNotIn(secret[-20:], text)
        lines = [json.loads(line) for line in text.splitlines()]
        self.assertEqual(len(lines), len(requests))
        first = lines[0]
        self.assertEqual(sorted(first), sorted(["time", "client", "user", "method", "path",
                                                "operation", "status", "bytes", "duration_ms",
                                                "rpcs"]))
        self.assertRegex(first["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual((first["client"], first["user"], first["method"], first["path"],
                          first["operation"], first["status"]),
                         ("127.0.0.1", "alice", "GET", "/slurm/v0.0.38/ping",
                          "slurm_v0_0_38_ping", 200))
        self.assertGreater(first["bytes"], 100)
        self.assertGreaterEqual(first["duration_ms"], 0)
        self.assertGreaterEqual(first["rpcs"], 1)  # the ping (and build info, at first)
        self.assertEqual([line["user"] for line in lines],
                         ["alice", "bob", "alice", None, "alice", "alice", None])
        self.assertEqual([line["status"] for line in lines], [s for *_, s in requests])
        self.assertEqual(lines[4]["query"], "token=-&x=1")
        self.assertEqual(lines[5]["rpcs"], 0)
        self.assertEqual(lines[6]["forwarded_for"], "192.0.2.7")

    async def test_off_by_default(self):
        (base,) = await self.start(["-f", self.cluster.slurm_conf, "-l", "127.0.0.1:0"])
        self.assertIsNone(self.site.access_log)
        self.assertIsNone(self.site._logFile)
