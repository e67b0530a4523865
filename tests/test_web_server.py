"""The web room through the real HTTP stack, in memory (``StringTransport``), with operations
of a test registry that need no Slurm (the real operations are tested against the real
cluster in ``test_server_live``)."""

from __future__ import annotations

import json
import time

from twisted.internet import defer
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.logger import globalLogPublisher
from twisted.trial import unittest

from slurmrest.api.meta import BuildInfoCache
from slurmrest.api.errors import Refusal, error_entry
from slurmrest.api.registry import ApiError, NotModified, Param, Registry, Result, operation
from slurmrest.web.auth import Authenticator
from slurmrest.web.channel import GatewayRequest, GatewaySite
from slurmrest.web.content import YAML_TYPE, decode
from slurmrest.web.gateway import Gateway
from slurmrest.wire.credentials import TokenMinter
from slurmrest.wire.errors import CommunicationError, ProtocolError, SlurmError
from tests.memory_http import SiteClient

KEY = b"test-jwt-key-of-32-bytes-exactly"


class Clientless:
    """Stands where the slurmctld client goes: records the credentials handlers were given."""

    def __init__(self):
        self.bound = []

    def bind(self, credential):
        self.bound.append(credential)
        return credential


def test_registry(state: dict) -> Registry:
    reg = Registry()

    @operation("GET", "/echo", operation_id="echo", summary="echo", registry=reg,
               params=(Param("n", type=int), Param("flag", type=bool)))
    async def echo(call):
        state.setdefault("calls", []).append(call)
        return {"user": call.user, "params": call.params}

    @operation("GET", "/item/{item_id}", operation_id="item", summary="item", registry=reg,
               params=(Param("item_id", "path", int),))
    async def item(call):
        return {"item": call.params["item_id"]}

    @operation("GET", "/item/special", operation_id="special", summary="special", registry=reg)
    async def special(call):
        return {"special": True}

    @operation("POST", "/submit", operation_id="submit", summary="submit", registry=reg,
               request_schema={"oneOf": [{"type": "object"}, {"type": "array"}]})
    async def submit(call):
        state.setdefault("calls", []).append(call)
        return {"got": call.body}

    @operation("GET", "/slow", operation_id="slow", summary="slow", registry=reg)
    async def slow(call):
        state["slow"] = d = defer.Deferred(lambda _: state.__setitem__("cancelled", True))
        await d
        return {"slow": True}

    @operation("GET", "/boom", operation_id="boom", summary="boom", registry=reg)
    async def boom(call):
        raise RuntimeError("secret internals")

    @operation("GET", "/cached", operation_id="cached", summary="cached", registry=reg)
    async def cached(call):
        state["cached_calls"] = state.get("cached_calls", 0) + 1
        if "result" not in state:
            state["result"] = Result({"big": list(range(5))}, cache={})
        return state["result"]

    @operation("GET", "/unchanged", operation_id="unchanged", summary="304", registry=reg)
    async def unchanged(call):
        raise NotModified()

    @operation("GET", "/fail/{kind}", operation_id="fail", summary="failures", registry=reg,
               params=(Param("kind", "path"),), errors={2017: 404}, refused=409)
    async def fail(call):
        kind = call.params["kind"]
        if kind == "slurm":
            raise SlurmError(2017, "Unable to find JobId=1")
        if kind == "denied":  # the map shared by every operation
            raise SlurmError(2002)
        if kind == "other":  # this operation's status for any other refusal
            raise SlurmError(2016)
        if kind == "refusal":  # worded by the handler, with a payload beside the errors
            raise Refusal(2017, [error_entry(2017, "no job 1", "lookup")], payload={"jobs": []})
        if kind == "down":
            raise CommunicationError(1800)
        if kind == "timeout":
            raise CommunicationError(1802, timeout=True)
        if kind == "garbage":
            raise ProtocolError("truncated reply")
        if kind == "api":
            raise ApiError(400, description="bad thing")
        raise AssertionError(kind)

    return reg


class RecordingRequest(GatewayRequest):
    made: list = []

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.body_seen = []
        RecordingRequest.made.append(self)

    def handleContentChunk(self, data):
        self.body_seen.append(data)
        super().handleContentChunk(data)


def make_site(state=None, registry=None, *, api_keys=(), max_body_size=1000, ctld=None,
              minter=None) -> GatewaySite:
    state = {} if state is None else state
    minter = minter or TokenMinter(KEY)
    auth = Authenticator(minter, api_keys=api_keys, proxy_users=frozenset({"root", "slurm"}))
    # No slurmctld here: the version for ``meta`` is given rather than asked for.
    known = BuildInfoCache()
    known.update({"version": "22.05.8"})
    gateway = Gateway(ctld if ctld is not None else Clientless(), auth,
                      registry=registry if registry is not None else test_registry(state),
                      max_body_size=max_body_size, build_info=known)
    site = GatewaySite(gateway, reactor=MemoryReactorClock())
    site.requestFactory = RecordingRequest
    return site


def connect(site, peer=None):
    peer = peer or IPv4Address("TCP", "127.0.0.1", 40000)
    channel = site.buildProtocol(peer)
    transport = StringTransport(peerAddress=peer)
    channel.makeConnection(transport)
    return channel, transport


def request(method="GET", target="/slurm/v1/echo", headers=None, body=b"", version="HTTP/1.1",
            length=None) -> bytes:
    lines = [f"{method} {target} {version}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or length is not None:
        lines.append(f"Content-Length: {len(body) if length is None else length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.body[:200]!r}>"


def responses(raw: bytes) -> list[Response]:
    out = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        n = int(headers.get("content-length", 0))
        out.append(Response(status, headers, rest[:n]))
        raw = rest[n:]
    return out


def exchange(site, data: bytes, peer=None) -> tuple[list[Response], StringTransport]:
    channel, transport = connect(site, peer)
    channel.dataReceived(data)
    return responses(transport.value()), transport


def creds(user="alice", minter=None, **claims):
    token = (minter or TokenMinter(KEY)).mint(user)
    return {"X-SLURM-USER-NAME": user, "X-SLURM-USER-TOKEN": token}


def expired_token(user="alice", key=KEY):
    import jwt
    now = int(time.time())
    return jwt.encode({"iat": now - 100, "exp": now - 10, "sun": user}, key, algorithm="HS256")


class ServingTests(unittest.TestCase):
    def setUp(self):
        self.state = {}
        self.site = make_site(self.state)
        RecordingRequest.made = []

    async def get(self, target, headers=None):
        """GET through a real HTTP client (treq), in memory."""
        h = creds()
        h.update(headers or {})
        return await SiteClient(self.site).request("GET", target, headers=h)

    async def post(self, target, content_type, body, headers=None):
        h = dict(creds(), **{"Content-Type": content_type})
        h.update(headers or {})
        return await SiteClient(self.site).request("POST", target, headers=h, body=body)

    async def test_payload_in_envelope(self):
        r = await self.get("/slurm/v1/echo?n=3&flag=no&unknown=1")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-type"), "application/json")
        doc = r.json()
        self.assertEqual(list(doc)[:2], ["meta", "errors"])
        self.assertEqual(doc["meta"]["plugin"]["type"], "openapi/v1")
        self.assertEqual(doc["errors"], [])
        self.assertEqual(doc["user"], "alice")
        self.assertEqual(doc["params"], {"n": 3, "flag": False})

    async def test_both_version_prefixes_and_trailing_slash(self):
        for target in ("/slurm/v0.0.38/echo", "/slurm/v1/echo", "/slurm/v1/echo/"):
            self.assertEqual((await self.get(target)).status, 200, target)
        self.assertEqual((await self.get("/slurm/v0.0.38/echo")).json()["meta"]["plugin"]["type"],
                         "openapi/v0.0.38")
        self.assertEqual((await self.get("/slurm/v2/echo")).status, 404)

    async def test_credential_passed_to_the_client(self):
        h = creds()
        await self.get("/slurm/v1/echo")
        credential = self.site.gateway.ctld.bound[-1]
        self.assertEqual(credential.user_name, "alice")
        self.assertEqual(credential.token, TokenMinter(KEY).mint("alice"))
        self.assertEqual(h["X-SLURM-USER-TOKEN"], credential.token)

    async def test_typed_path_parameter(self):
        self.assertEqual((await self.get("/slurm/v1/item/42")).json()["item"], 42)
        r = await self.get("/slurm/v1/item/abc")
        self.assertEqual(r.status, 400)
        self.assertIn("item_id", r.json()["errors"][0]["description"])
        # A literal segment wins over a parameter.
        self.assertEqual((await self.get("/slurm/v1/item/special")).json()["special"], True)

    async def test_bad_query_parameter(self):
        r = await self.get("/slurm/v1/echo?n=lots")
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["errors"][0]["error"], "Invalid parameter")

    def test_absolute_form_target(self):
        # Bytes: no client library sends the absolute form to a server that is no proxy.
        target = "http://gateway.example:6820/slurm/v1/echo?n=1"
        (r,), _ = exchange(self.site, request("GET", target, creds()))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["params"], {"n": 1})

    async def test_unknown_path(self):
        r = await self.get("/nothing/here")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.header("content-type"), "application/json")
        self.assertIn("/openapi/v3", r.json()["errors"][0]["description"])

    async def test_wrong_method(self):
        r = await SiteClient(self.site).request("PUT", "/slurm/v1/echo", headers=creds())
        self.assertEqual(r.status, 405)
        self.assertEqual(r.header("allow"), "GET, HEAD")
        self.assertEqual(r.json()["errors"][0]["error"], "Method not allowed")

    def test_head(self):
        raw = request("HEAD", "/slurm/v1/echo", creds())
        channel, transport = connect(self.site)
        channel.dataReceived(raw)
        head = transport.value()
        self.assertTrue(head.startswith(b"HTTP/1.1 200"))
        self.assertTrue(head.endswith(b"\r\n\r\n"), head)

    async def test_yaml_answer(self):
        for accept in ("application/x-yaml", "application/yaml", "text/yaml"):
            r = await self.get("/slurm/v1/echo?n=7", {"Accept": accept})
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("content-type"), YAML_TYPE)
            doc = decode(r.body, YAML_TYPE)
            self.assertEqual(doc["params"], {"n": 7})
            self.assertEqual(doc["errors"], [])

    async def test_accept_any_and_quality(self):
        r = await self.get("/slurm/v1/echo", {"Accept": "*/*"})
        self.assertEqual(r.header("content-type"), "application/json")
        r = await self.get("/slurm/v1/echo", {"Accept": "application/json;q=0.5, text/yaml;q=0.9"})
        self.assertEqual(r.header("content-type"), YAML_TYPE)

    async def test_unacceptable(self):
        r = await self.get("/slurm/v1/echo", {"Accept": "text/html"})
        self.assertEqual(r.status, 406)
        self.assertEqual(r.header("content-type"), "application/json")
        self.assertNotIn("calls", self.state)

    async def test_json_body(self):
        r = await self.post("/slurm/v1/submit", "application/json", b'{"a": [1, 2]}')
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["got"], {"a": [1, 2]})

    async def test_yaml_body(self):
        r = await self.post("/slurm/v1/submit", "application/x-yaml", b"a:\n- 1\n- x\n",
                            {"Accept": "text/yaml"})
        self.assertEqual(r.status, 200)
        self.assertEqual(decode(r.body, YAML_TYPE)["got"], {"a": [1, "x"]})

    async def test_yaml_body_is_loaded_safely(self):
        body = b"a: !!python/object/apply:os.system ['true']\n"
        r = await self.post("/slurm/v1/submit", "application/yaml", body)
        self.assertEqual(r.status, 400)

    async def test_malformed_json_body(self):
        r = await self.post("/slurm/v1/submit", "application/json", b'{"a": ')
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["errors"][0]["error"], "Unable to parse query.")
        self.assertNotIn("calls", self.state)

    async def test_deeply_nested_body_is_a_400(self):
        r = await self.post("/slurm/v1/submit", "application/json", b"[" * 900)
        self.assertEqual(r.status, 400)
        r = await self.post("/slurm/v1/submit", "application/x-yaml", b"[" * 900)
        self.assertEqual(r.status, 400)

    def test_recursion_limit_is_bad_input(self):
        from slurmrest.web.content import BadDocument
        self.assertRaises(BadDocument, decode, b"[" * 200_000 + b"]" * 200_000, "application/json")

    async def test_unsupported_body_type(self):
        r = await self.post("/slurm/v1/submit", "application/x-www-form-urlencoded", b"a=1")
        self.assertEqual(r.status, 415)
        self.assertNotIn("calls", self.state)

    def test_body_too_large_refused_before_reading(self):
        h = dict(creds(), **{"Content-Type": "application/json"})
        # Announce 5000 bytes (limit 1000), send only a few: answered at once, then closed.
        (r,), transport = exchange(self.site, request("POST", "/slurm/v1/submit", h, b"{",
                                                      length=5000))
        self.assertEqual(r.status, 413)
        self.assertEqual(r.header("connection"), "close")
        self.assertTrue(transport.disconnecting)
        self.assertEqual(RecordingRequest.made[0].body_seen, [])
        self.assertNotIn("calls", self.state)

    def test_chunked_body_too_large(self):
        h = dict(creds(), **{"Content-Type": "application/json",
                             "Transfer-Encoding": "chunked"})
        raw = request("POST", "/slurm/v1/submit", h)
        chunk = b"x" * 600
        raw += b"%x\r\n%s\r\n" % (len(chunk), chunk) * 2 + b"0\r\n\r\n"
        (r,), transport = exchange(self.site, raw)
        self.assertEqual(r.status, 413)
        self.assertTrue(transport.disconnecting)
        self.assertNotIn("calls", self.state)

    def test_chunked_body_too_large_answered_in_the_accepted_format(self):
        h = dict(creds(), **{"Content-Type": "application/json", "Accept": "application/x-yaml",
                             "Transfer-Encoding": "chunked"})
        chunk = b"x" * 600
        raw = request("POST", "/slurm/v1/submit", h) + b"%x\r\n%s\r\n" % (len(chunk), chunk) * 2
        (r,), _ = exchange(self.site, raw)
        self.assertEqual((r.status, r.header("content-type")), (413, YAML_TYPE))
        self.assertEqual(decode(r.body, YAML_TYPE)["errors"][0]["error"],
                         "Request body too large")

    def test_chunked_body_within_limit(self):
        h = dict(creds(), **{"Content-Type": "application/json",
                             "Transfer-Encoding": "chunked"})
        raw = request("POST", "/slurm/v1/submit", h) + b"3\r\n[1,\r\n3\r\n 2]\r\n0\r\n\r\n"
        (r,), _ = exchange(self.site, raw)
        self.assertEqual((r.status, r.json()["got"]), (200, [1, 2]))

    def test_pipelined_requests_answered_in_order(self):
        h = creds()
        raw = b"".join(request("GET", f"/slurm/v1/item/{i}", h) for i in range(5))
        rs, transport = exchange(self.site, raw)
        self.assertEqual([r.json()["item"] for r in rs], [0, 1, 2, 3, 4])
        self.assertFalse(transport.disconnecting)

    def test_client_disconnect_cancels_the_handler(self):
        channel, transport = connect(self.site)
        channel.dataReceived(request("GET", "/slurm/v1/slow", creds()))
        self.assertIn("slow", self.state)
        channel.connectionLost(Exception("client went away"))
        self.assertTrue(self.state.get("cancelled"))
        self.assertEqual(transport.value(), b"")

    def test_cancelled_inside_still_answers(self):
        channel, transport = connect(self.site)
        channel.dataReceived(request("GET", "/slurm/v1/slow", creds()))
        self.state["slow"].cancel()
        (r,) = responses(transport.value())
        self.assertEqual(r.status, 500)
        self.flushLoggedErrors(defer.CancelledError)

    async def test_unexpected_exception_is_a_json_500(self):
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        r = await self.get("/slurm/v1/boom")
        self.assertEqual(r.status, 500)
        self.assertEqual(r.header("content-type"), "application/json")
        self.assertNotIn(b"secret internals", r.body)
        self.assertNotIn(b"Traceback", r.body)
        self.assertTrue(any(e.get("log_failure") for e in events))
        self.flushLoggedErrors(RuntimeError)

    async def test_slurm_failures_statuses(self):
        expected = {"slurm": 404, "down": 503, "timeout": 504, "garbage": 502, "api": 400,
                    "denied": 403, "other": 409, "refusal": 404}
        for kind, status in expected.items():
            r = await self.get(f"/slurm/v1/fail/{kind}")
            self.assertEqual(r.status, status, kind)
            self.assertEqual(r.header("content-type"), "application/json")
        err = (await self.get("/slurm/v1/fail/slurm")).json()["errors"][0]
        self.assertEqual(err["error_number"], 2017)
        self.assertEqual(err["error"], "Invalid job id specified")
        self.assertEqual(err["description"], "Unable to find JobId=1")
        self.assertEqual(err["source"], "slurm_v1_fail")
        doc = (await self.get("/slurm/v1/fail/refusal")).json()
        self.assertEqual((doc["jobs"], doc["errors"]), ([], [{
            "description": "no job 1", "error_number": 2017,
            "error": "Invalid job id specified", "source": "lookup"}]))

    async def test_not_modified(self):
        r = await self.get("/slurm/v1/unchanged")
        self.assertEqual((r.status, r.body), (304, b""))

    async def test_result_cache_serialises_once(self):
        first = await self.get("/slurm/v1/cached")
        cache = self.state["result"].cache
        self.assertEqual(len(cache), 1)
        # Prove the second answer comes from the cache: change the stored bytes.
        key = next(iter(cache))
        cache[key] = cache[key].replace(b"[0,1,2,3,4]", b"[9]")
        second = await self.get("/slurm/v1/cached")
        self.assertEqual(first.json()["big"], [0, 1, 2, 3, 4])
        self.assertEqual(second.json()["big"], [9])
        self.assertEqual(self.state["cached_calls"], 2)
        await self.get("/slurm/v1/cached", {"Accept": "text/yaml"})
        self.assertEqual(len(cache), 2)

    async def test_openapi_paths(self):
        for path in ("/openapi", "/openapi.json", "/openapi/v3"):
            r = await self.get(path)
            self.assertEqual(r.status, 200, path)
            self.assertEqual(r.json()["openapi"], "3.0.3")
        r = await self.get("/openapi.yaml")
        self.assertEqual(r.header("content-type"), YAML_TYPE)
        self.assertIn("/slurm/v1/echo", decode(r.body, YAML_TYPE)["paths"])
        self.assertEqual((await self.get("/openapi")).body, (await self.get("/openapi")).body)

    def test_openapi_needs_authentication(self):
        (r,), _ = exchange(self.site, request("GET", "/openapi/v3"))
        self.assertEqual(r.status, 401)

    def test_ipv6_client(self):
        peer = IPv6Address("TCP", "::1", 40000)
        (r,), _ = exchange(self.site, request("GET", "/slurm/v1/echo", creds()), peer)
        self.assertEqual(r.status, 200)

    def test_no_100_continue_for_a_refused_request(self):
        h = {"Expect": "100-continue", "Content-Type": "application/json"}
        (r,), transport = exchange(self.site, request("POST", "/slurm/v1/submit", h, length=10))
        self.assertEqual(r.status, 401)
        self.assertNotIn(b"100 Continue", transport.value())
        self.assertTrue(transport.disconnecting)

    def test_100_continue_for_an_admitted_request(self):
        h = dict(creds(), **{"Expect": "100-continue", "Content-Type": "application/json"})
        channel, transport = connect(self.site)
        channel.dataReceived(request("POST", "/slurm/v1/submit", h, length=7))
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 100 Continue"))
        transport.clear()
        channel.dataReceived(b'{"a":1}')
        (r,) = responses(transport.value())
        self.assertEqual(r.json()["got"], {"a": 1})

    async def test_a_bug_in_admission_is_a_json_500(self):
        def broken(*args):
            raise KeyError("bug")
        self.site.gateway.admit = broken
        r = await self.get("/slurm/v1/echo")
        self.assertEqual(r.status, 500)
        self.assertEqual(r.header("content-type"), "application/json")
        self.flushLoggedErrors(KeyError)

    async def test_access_log_has_no_secrets(self):
        token = creds()["X-SLURM-USER-TOKEN"]
        lines = []
        self.site.logFile = type("F", (), {"write": lambda self, s: lines.append(s)})()
        await self.get("/slurm/v1/echo", {"X-SLURM-API-KEY": "not-a-key"})
        await self.get("/slurm/v1/echo")
        self.assertEqual(len(lines), 2)
        for line in lines:
            self.assertNotIn(token, line)
            self.assertNotIn("not-a-key", line)


class LeanAnswerTests(unittest.TestCase):
    """The one-write answer, the envelope's cached head, the cheap access log."""

    def setUp(self):
        self.state = {}
        self.site = make_site(self.state)

    def test_one_write_with_date_and_server(self):
        channel, transport = connect(self.site)
        writes = []
        real_write = transport.write
        transport.write = lambda data: (writes.append(data), real_write(data))
        channel.dataReceived(request("GET", "/slurm/v1/item/3", creds()))
        self.assertEqual(len(writes), 1)
        (r,) = responses(writes[0])
        self.assertEqual(r.json()["item"], 3)
        self.assertTrue(r.header("server").startswith("slurmrest/"))
        from email.utils import parsedate_to_datetime
        self.assertLess(abs(parsedate_to_datetime(r.header("date")).timestamp() - time.time()), 5)
        self.assertIsNone(r.header("connection"))

    def test_date_made_once_a_second(self):
        from slurmrest.web.channel import http_date
        self.assertIs(http_date(1700000000.2), http_date(1700000000.9))
        self.assertEqual(http_date(1700000001), b"Tue, 14 Nov 2023 22:13:21 GMT")

    def test_connection_close_answers(self):
        for raw in (request("GET", "/slurm/v1/echo", dict(creds(), Connection="close")),
                    request("GET", "/slurm/v1/echo", creds(), version="HTTP/1.0")):
            (r,), transport = exchange(self.site, raw)
            self.assertEqual((r.status, r.header("connection")), (200, "close"))
            self.assertTrue(transport.disconnecting)

    def test_304_and_head_carry_no_body(self):
        channel, transport = connect(self.site)
        channel.dataReceived(request("GET", "/slurm/v1/unchanged", creds()))
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 304 Not Modified\r\n"))
        self.assertTrue(transport.value().endswith(b"\r\n\r\n"))
        self.assertNotIn(b"Content-Type", transport.value())
        transport.clear()
        channel.dataReceived(request("HEAD", "/slurm/v1/item/1", creds()))
        head = transport.value()
        (r,) = responses(head)  # the length is announced, no body follows
        self.assertGreater(int(r.header("content-length")), 0)
        self.assertEqual(r.body, b"")
        self.assertTrue(head.endswith(b"\r\n\r\n"))

    def test_cached_envelope_head_is_the_envelope(self):
        gateway = self.site.gateway
        for target in ("/slurm/v1/echo?n=1", "/slurm/v0.0.38/item/5", "/slurm/v1/echo?n=2"):
            r = self.get(target)
            doc = r.json()
            payload = {k: v for k, v in doc.items() if k not in ("meta", "errors")}
            adm = type("A", (), {"family": "slurm", "version": target.split("/")[2]})()
            self.assertEqual(doc, gateway.envelope(adm, payload))
            self.assertEqual(list(doc)[:2], ["meta", "errors"])
        self.assertEqual(len(gateway._json_heads), 2)  # one per API version

    def test_payload_with_envelope_keys_takes_the_general_path(self):
        reg = Registry()

        @operation("GET", "/odd", operation_id="odd", summary="", registry=reg)
        async def odd(call):
            return {"errors": [{"error": "from the handler"}], "x": 1}

        site = make_site(registry=reg)
        (r,), _ = exchange(site, request("GET", "/slurm/v1/odd", creds()))
        doc = r.json()
        self.assertEqual(doc["errors"], [{"error": "from the handler"}])
        self.assertEqual(list(doc).count("errors"), 1)

    def get(self, target):
        (r,), _ = exchange(self.site, request("GET", target, creds()))
        return r


class AccessLogTests(unittest.TestCase):
    def setUp(self):
        import tempfile
        self.dir = tempfile.mkdtemp()
        self.path = f"{self.dir}/access.log"

    def serve(self, access_log):
        site = make_site()
        site.access_log = access_log
        site.startFactory()
        self.addCleanup(site.stopFactory)
        return site

    def test_off_by_default(self):
        site = make_site()
        site.startFactory()
        self.addCleanup(site.stopFactory)
        self.assertEqual(site.reactor.getDelayedCalls(), [])  # not even the date timer
        (r,), _ = exchange(site, request("GET", "/slurm/v1/echo", creds()))
        self.assertEqual(r.status, 200)

    def test_one_line_per_request_flushed_each_second(self):
        site = self.serve(self.path)
        token = creds()["X-SLURM-USER-TOKEN"]
        exchange(site, request("GET", "/slurm/v1/item/7?x=1", creds()))
        exchange(site, request("GET", "/slurm/v1/echo", {"X-SLURM-API-KEY": "not-a-key"}))
        site.reactor.advance(1)
        with open(self.path) as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines), 2)
        first, second = (json.loads(line) for line in lines)
        self.assertEqual({k: first[k] for k in ("client", "user", "method", "path", "query",
                                                "operation", "status")},
                         {"client": "127.0.0.1", "user": "alice", "method": "GET",
                          "path": "/slurm/v1/item/7", "query": "x=1",
                          "operation": "slurm_v1_item", "status": 200})
        self.assertGreater(first["bytes"], 0)
        self.assertEqual((second["path"], second["status"], second["user"]),
                         ("/slurm/v1/echo", 401, None))
        for line in lines:
            self.assertNotIn(token, line)
            self.assertNotIn("not-a-key", line)

    def test_no_forged_lines(self):
        site = self.serve(self.path)
        # (Twisted refuses control characters in the request line itself: 400, unlogged.)
        exchange(site, b'GET /slurm/v1/echo"x HTTP/1.1\r\n\r\n')
        site.stopFactory()
        with open(self.path) as f:
            text = f.read()
        self.assertEqual(text.count("\n"), 1)
        self.assertEqual(json.loads(text)["path"], '/slurm/v1/echo"x')


class FastHeadParserTests(unittest.TestCase):
    """A request that arrives whole and bodiless is parsed in one go; the answers must be
    the very same as Twisted's line-by-line parser gives (fed one byte at a time)."""

    def answers(self, raw: bytes, split: bool) -> tuple[bytes, bool]:
        site = make_site({})
        channel, transport = connect(site)
        if split:
            for i in range(len(raw)):
                if transport.disconnecting:  # a real connection reads no more
                    break
                channel.dataReceived(raw[i:i + 1])
        else:
            fast = channel._head_received
            channel._head_received = lambda *a: (self.fast.append(a[0]), fast(*a))
            channel.dataReceived(raw)
        lines = [line for line in transport.value().split(b"\r\n")
                 if not line.startswith(b"Date: ")]
        return b"\r\n".join(lines), transport.disconnecting

    def test_same_answers_either_way(self):
        token = creds()["X-SLURM-USER-TOKEN"].encode()
        auth = b"X-SLURM-USER-NAME: alice\r\nX-SLURM-USER-TOKEN: " + token + b"\r\n"
        cases = [
            b"GET /slurm/v1/echo?n=2&flag=1 HTTP/1.1\r\n" + auth + b"\r\n",
            b"HEAD /slurm/v1/item/4 HTTP/1.1\r\n" + auth + b"\r\n",
            b"GET /slurm/v1/echo HTTP/1.0\r\n" + auth + b"\r\n",
            b"GET /slurm/v1/echo HTTP/1.1\r\nConnection: close\r\n" + auth + b"\r\n",
            b"GET /slurm/v1/echo HTTP/1.1\r\n\r\n",
            b"DELETE /slurm/v1/echo HTTP/1.1\r\n" + auth + b"\r\n",
            b"GET /nowhere HTTP/1.1\r\n" + auth + b"\r\n",
            b"GET /slurm/v1/echo HTTP/1.1\r\nAccept: text/yaml\r\n" + auth + b"\r\n",
            b"GET /slurm/v1/echo HTTP/1.1\r\nAccept: text/html\r\n" + auth + b"\r\n",
            b"GET /slurm/v1/echo HTTP/1.1\r\nBad Name: x\r\n" + auth + b"\r\n",
            b"GET /slurm/v1/echo HTTP/1.1\r\nX-A: 1\r\n folded\r\n" + auth + b"\r\n",
            b"GET /slurm/v1/echo HTTP/1.1\r\nX-A: a\x00b\r\n" + auth + b"\r\n",
            b"GET /slurm/v1/echo HTTP/1.1\r\nX-A: a\nb\r\n" + auth + b"\r\n",
            b"GET /slurm/v1/echo HTTP/2.0\r\n" + auth + b"\r\n",
            b"GET /slurm/v1/\x7fecho HTTP/1.1\r\n" + auth + b"\r\n",
            b"GET  /slurm/v1/echo HTTP/1.1\r\n" + auth + b"\r\n",
            b"GET /slurm/v1/echo HTTP/1.1\r\n" + auth + b"\r\n" + b"GET /slurm/v1/item/2 HTTP/1.1\r\n" + auth + b"\r\n",
            b"POST /slurm/v1/submit HTTP/1.1\r\nContent-Length: 2\r\n" + auth + b"\r\n{}",
        ]
        self.fast = []
        for raw in cases:
            whole, split = self.answers(raw, False), self.answers(raw, True)
            self.assertEqual(whole, split, raw)
            self.assertTrue(whole[0].startswith(b"HTTP/1."), raw)
        self.assertEqual(len(self.fast), 10)  # the first nine, and the DEL in a target (Twisted takes it too)

    def test_without_the_fast_path_twisteds_parser_answers(self):
        # What a Twisted that renamed the parser's private state gets: the same answers.
        from slurmrest.web import channel as channel_module
        self.patch(channel_module, "FAST_HEAD_PARSING", False)
        token = creds()["X-SLURM-USER-TOKEN"].encode()
        raw = (b"GET /slurm/v1/echo?n=2 HTTP/1.1\r\nX-SLURM-USER-NAME: alice\r\n"
               b"X-SLURM-USER-TOKEN: " + token + b"\r\n\r\n")
        self.fast = []
        whole, split = self.answers(raw, False), self.answers(raw, True)
        self.assertEqual(whole, split)
        self.assertTrue(whole[0].startswith(b"HTTP/1.1 200"), whole)
        self.assertEqual(self.fast, [])

    def test_parse_head(self):
        from slurmrest.web.channel import parse_head
        self.assertEqual(parse_head(b"GET /a?b HTTP/1.1\r\nX-Y:  z \r\nAccept: */*\r\n\r\n", 10),
                         (b"GET", b"/a?b", b"HTTP/1.1", [(b"X-Y", b"z"), (b"Accept", b"*/*")]))
        for refused in (b"GET /a HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
                        b"GET /a HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n",
                        b"BREW /a HTTP/1.1\r\n\r\n",
                        b"GET /a HTTP/1.1\r\nNoColon\r\n\r\n"):
            self.assertIsNone(parse_head(refused, 10), refused)
        self.assertIsNone(parse_head(b"GET / HTTP/1.1\r\n" + b"A: b\r\n" * 3 + b"\r\n", 2))


class RealSocketTests(unittest.TestCase):
    """The same site on a real loopback socket (answers written straight to it)."""

    def setUp(self):
        from twisted.internet import reactor
        reg = test_registry({})

        @operation("GET", "/big", operation_id="big", summary="", registry=reg)
        async def big(call):
            return {"big": "x" * 3_000_000}

        site = make_site(registry=reg)
        site.reactor = reactor
        self.port = reactor.listenTCP(0, site, interface="127.0.0.1")
        self.addCleanup(self.port.stopListening)

    def talk(self, raw: bytes, expect: int) -> list[Response]:
        import socket

        def run():
            with socket.create_connection(("127.0.0.1", self.port.getHost().port), 10) as s:
                s.sendall(raw)
                data = b""
                while True:
                    try:
                        got = responses(data)
                        if len(got) >= expect and all(
                                len(r.body) == int(r.header("content-length") or 0)
                                for r in got):
                            return got
                    except (IndexError, ValueError):
                        pass
                    chunk = s.recv(1 << 20)
                    if not chunk:
                        return responses(data)
                    data += chunk
        from twisted.internet.threads import deferToThread
        return deferToThread(run)

    def test_pipelined_and_large_answers_in_order(self):
        h = creds()
        raw = (request("GET", "/slurm/v1/item/1", h) + request("GET", "/slurm/v1/big", h)
               + request("GET", "/slurm/v1/item/2", h))
        d = self.talk(raw, 3)

        def check(rs):
            self.assertEqual([r.status for r in rs], [200, 200, 200])
            self.assertEqual(rs[0].json()["item"], 1)
            self.assertEqual(len(rs[1].json()["big"]), 3_000_000)
            self.assertEqual(rs[2].json()["item"], 2)
        return d.addCallback(check)


class AccessLogToStdoutTests(unittest.TestCase):
    def test_dash_is_the_real_standard_output(self):
        """Not ``sys.stdout`` (twistd makes that a logger): file descriptor 1 itself."""
        import os
        import sys
        import tempfile
        with tempfile.TemporaryFile() as out:
            saved = os.dup(1)
            os.dup2(out.fileno(), 1)
            try:
                site = make_site()
                site.access_log = "-"
                site.startFactory()
                exchange(site, request("GET", "/slurm/v1/item/9", creds()))
                site.stopFactory()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
            out.seek(0)
            line = json.loads(out.read())
            self.assertEqual((line["path"], line["status"]), ("/slurm/v1/item/9", 200))
        self.assertFalse(sys.stdout.closed)


class IdleTimeoutTests(unittest.TestCase):
    def test_idle_connection_closed_after_answers(self):
        site = make_site()
        channel, transport = connect(site)
        channel.dataReceived(request("GET", "/slurm/v1/echo", creds()))  # the fast parser
        (r,) = responses(transport.value())
        self.assertEqual(r.status, 200)
        site.reactor.advance(site.IDLE_TIMEOUT - 1)
        self.assertFalse(transport.disconnecting)
        channel.dataReceived(request("GET", "/slurm/v1/echo", creds()))  # resets the clock
        site.reactor.advance(site.IDLE_TIMEOUT - 1)
        self.assertFalse(transport.disconnecting)
        site.reactor.advance(2)
        self.assertTrue(transport.disconnecting)
