"""The whole server against the real test cluster: listeners (IPv4, IPv6, TLS at once),
ping/diag/licenses compared with the real slurmrestd, every auth path with real tokens, and
slurmctld down, silent, and back."""

from __future__ import annotations

import datetime
import io
import ipaddress
import json
import os
import re
import socket
import subprocess
import tempfile
import time

import jwt
from twisted.internet import protocol, reactor
from twisted.internet.endpoints import SSL4ServerEndpoint
from twisted.internet.task import deferLater
from twisted.internet.ssl import Certificate, optionsForClientTLS
from twisted.protocols.portforward import ProxyFactory
from twisted.trial import unittest
from twisted.web.client import Agent, FileBodyProducer, HTTPConnectionPool, readBody
from twisted.web.http_headers import Headers
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer

from slurmrest import tap
from slurmrest.testing.cluster import Cluster
from slurmrest.web.channel import GatewaySite
from slurmrest.web.content import YAML_TYPE, decode
from slurmrest.wire.conf import SlurmConfig


def self_signed(directory: str) -> tuple[str, str, bytes]:
    """A throwaway certificate for localhost, 127.0.0.1 and ::1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.IPAddress(ipaddress.ip_address("::1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_path, key_path = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    with open(cert_path, "wb") as f:
        f.write(cert_pem)
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    os.chmod(key_path, 0o600)
    return cert_path, key_path, cert_pem


@implementer(IPolicyForHTTPS)
class TrustOnly:
    """Trust exactly our throwaway certificate, checked against the name "localhost"."""

    def __init__(self, pem: bytes):
        self.root = Certificate.loadPEM(pem)

    def creatorForNetloc(self, hostname, port):
        return optionsForClientTLS("localhost", trustRoot=self.root)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Silent(protocol.Protocol):
    """Accepts, reads, never answers: a slurmctld that hangs."""


def slurm_conf_copy(cluster, directory: str, port: int, message_timeout: int = 2) -> str:
    lines = []
    with open(cluster.slurm_conf) as f:
        for line in f:
            key = line.split("=", 1)[0].strip().lower()
            if key in ("slurmctldport", "messagetimeout"):
                continue
            lines.append(line)
    lines.append(f"\nSlurmctldPort={port}\nMessageTimeout={message_timeout}\n")
    path = os.path.join(directory, "slurm.conf")
    with open(path, "w") as f:
        f.writelines(lines)
    return path


class LiveBase(unittest.TestCase):
    timeout = 120

    def setUp(self):
        self.cluster = Cluster.from_environment()
        self.dir = tempfile.mkdtemp(prefix="slurmrest-live-")
        self.http = Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False))
        self.alice = self.cluster.token("alice")

    def auth(self, user="alice", token=None):
        return {"X-SLURM-USER-NAME": user, "X-SLURM-USER-TOKEN": token or self.alice}

    async def start(self, argv) -> list[str]:
        """Run ``twistd slurmrest ARGV`` in this process; the base URL of each listener."""
        options = tap.Options()
        options.parseOptions(argv)
        top = tap.makeService(options)
        top.privilegedStartService()
        top.startService()
        self.addCleanup(top.stopService)
        self.gateway = next(iter(top)).factory.gateway
        urls = []
        for svc in top:
            port = (await svc.listening).getHost()
            if not hasattr(port, "host"):  # a UNIX socket
                urls.append(f"unix:{port.name}")
                continue
            scheme = "https" if isinstance(svc.endpoint, SSL4ServerEndpoint) else "http"
            host = f"[{port.host}]" if ":" in port.host else port.host
            urls.append(f"{scheme}://{host}:{port.port}")
        return urls

    async def get(self, url, headers=None, client=None):
        """GET with Twisted's Agent (it takes IPv6 literals in URLs as they are)."""
        headers = headers if headers is not None else self.auth()
        h = Headers({k.encode(): [v.encode()] for k, v in headers.items()})
        response = await (client or self.http).request(b"GET", url.encode("ascii"), h)
        body = await readBody(response)
        return response, body


def _shape(value):
    """Keys and types of a document, recursively (the first item stands for a list)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


class ListenersTests(LiveBase):
    async def test_ipv4_ipv6_and_tls_at_once(self):
        cert, key, pem = self_signed(self.dir)
        urls = await self.start(["-f", self.cluster.slurm_conf, "--tls-cert", cert,
                                 "--tls-key", key, "-l", "127.0.0.1:0", "-l", "[::1]:0",
                                 "-l", "tcp:0:interface=127.0.0.1",
                                 "-l", r"tcp6:0:interface=\:\:1"])
        self.assertEqual([u.split(":")[0] for u in urls], ["https", "https", "http", "http"])
        tls = Agent(reactor, contextFactory=TrustOnly(pem),
                    pool=HTTPConnectionPool(reactor, persistent=False))
        for base in urls:
            client = tls if base.startswith("https") else self.http
            for path, key_ in (("ping", "pings"), ("diag", "statistics"),
                               ("licenses", "licenses")):
                response, body = await self.get(f"{base}/slurm/v0.0.38/{path}", client=client)
                self.assertEqual(response.code, 200, (base, path, body[:300]))
                doc = json.loads(body)
                self.assertEqual(doc["errors"], [])
                self.assertEqual(doc["meta"]["Slurm"]["release"].split(".")[0], "22")
                self.assertIn(key_, doc)
            response, body = await self.get(f"{base}/slurm/v1/ping", client=client)
            self.assertEqual(json.loads(body)["pings"][0]["ping"], "UP")

    async def test_tls_refuses_old_protocols(self):
        cert, key, pem = self_signed(self.dir)
        (base,) = await self.start(["-f", self.cluster.slurm_conf, "--tls-cert", cert,
                                    "--tls-key", key, "-l", "127.0.0.1:0"])
        port = int(base.rsplit(":", 1)[1])
        from OpenSSL import SSL
        from twisted.internet.threads import deferToThread

        def handshake(version):
            ctx = SSL.Context(SSL.TLS_METHOD)
            ctx.set_min_proto_version(version)
            ctx.set_max_proto_version(version)
            # Let the client offer old protocols at all (OpenSSL's default forbids TLS 1.1).
            ctx.set_cipher_list(b"DEFAULT:@SECLEVEL=0")
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.settimeout(None)  # pyOpenSSL wants a blocking socket
            conn = SSL.Connection(ctx, sock)
            conn.set_connect_state()
            try:
                conn.do_handshake()
                return conn.get_protocol_version_name()
            except SSL.Error as e:
                return str(e)
            finally:
                sock.close()

        self.assertIn("protocol version", await deferToThread(handshake, SSL.TLS1_1_VERSION))
        self.assertEqual(await deferToThread(handshake, SSL.TLS1_2_VERSION), "TLSv1.2")


class UnixSocketTests(LiveBase):
    async def test_peer_credentials_authenticate(self):
        """On a UNIX socket the peer's own identity (SO_PEERCRED) is the caller's."""
        path = os.path.join(self.dir, "slurmrest.sock")
        await self.start(["-f", self.cluster.slurm_conf, "-l", f"unix:{path}"])
        from twisted.internet.threads import deferToThread

        def ask(user):
            argv = ["curl", "-s", "--unix-socket", path, "http://localhost/slurm/v1/diag"]
            if user:
                os.chmod(self.dir, 0o755)
                os.chmod(path, 0o777)
                argv = ["runuser", "-u", user, "--"] + argv
            return subprocess.run(argv, capture_output=True, timeout=30).stdout

        def count(doc, uid):
            return sum(u["count"] for u in doc["statistics"]["rpcs_by_user"] if u["user_id"] == uid)

        before = json.loads(await deferToThread(ask, None))
        self.assertEqual(before["errors"], [], before)
        as_bob = json.loads(await deferToThread(ask, "bob"))
        self.assertEqual(as_bob["errors"], [], as_bob)
        after = json.loads(await deferToThread(ask, None))
        # bob's stats request was counted as bob's (a snapshot does not count itself).
        self.assertGreater(count(after, 2002), count(before, 2002))


class ReferenceComparisonTests(LiveBase):
    async def test_same_documents_as_slurmrestd(self):
        # The harness knows the slurmrestd it started; one started otherwise can be named.
        reference = self.cluster.restd_url or os.environ.get("SLURMREST_REFERENCE_URL")
        if reference is None:
            raise unittest.SkipTest("no reference slurmrestd runs for this cluster")
        (base,) = await self.start(["-f", self.cluster.slurm_conf, "-l", "tcp:0:interface=127.0.0.1"])
        for path in ("ping", "diag", "licenses"):
            _, ours = await self.get(f"{base}/slurm/v0.0.38/{path}")
            _, theirs = await self.get(f"{reference}/slurm/v0.0.38/{path}")
            ours, theirs = json.loads(ours), json.loads(theirs)
            self.assertEqual(_shape(ours), _shape(theirs), path)
            self.assertEqual(list(ours), list(theirs), path)
            if path != "diag":  # diag's counters move between the two requests
                self.assertEqual(ours, theirs, path)
        # Slurm's own tools agree on the licenses.
        shown = self.cluster.run(["scontrol", "-o", "show", "licenses"]).stdout
        _, ours = await self.get(f"{base}/slurm/v1/licenses")
        for lic in json.loads(ours)["licenses"]:
            self.assertIn(f"LicenseName={lic['LicenseName']}", shown)
            self.assertIn(f"Total={lic['Total']}", shown)

    async def test_yaml_both_ways(self):
        (base,) = await self.start(["-f", self.cluster.slurm_conf, "-l", "tcp:0:interface=127.0.0.1"])
        response, body = await self.get(f"{base}/slurm/v1/ping",
                                        dict(self.auth(), Accept="application/x-yaml"))
        self.assertEqual(response.headers.getRawHeaders("content-type"), [YAML_TYPE])
        doc = decode(body, YAML_TYPE)
        self.assertEqual(doc["pings"][0]["ping"], "UP")
        _, body = await self.get(f"{base}/slurm/v1/ping")
        self.assertEqual(doc, json.loads(body))


class YamlBodyTests(LiveBase):
    async def test_yaml_request_body_reaches_slurm(self):
        """A YAML body (safe-loaded) becomes a real job: submitted held, then cancelled."""
        (base,) = await self.start(["-f", self.cluster.slurm_conf, "-l", "tcp:0:interface=127.0.0.1"])
        name = f"slurmrest-web-yaml-{os.getpid()}"
        body = (f"script: |\n  #!/bin/sh\n  true\njob:\n  name: {name}\n  hold: true\n"
                f"  current_working_directory: /tmp\n  environment:\n    PATH: /bin:/usr/bin\n")
        h = Headers({k.encode(): [v.encode()] for k, v in self.auth().items()})
        h.addRawHeader(b"Content-Type", b"application/x-yaml")
        h.addRawHeader(b"Accept", b"application/x-yaml")
        response = await self.http.request(b"POST", f"{base}/slurm/v1/job/submit".encode(), h,
                                           FileBodyProducer(io.BytesIO(body.encode())))
        doc = decode(await readBody(response), YAML_TYPE)
        self.assertEqual(response.code, 200, doc)
        job_id = doc["job_id"]
        self.addCleanup(self.cluster.cancel, job_id)
        shown = self.cluster.run(["scontrol", "-o", "show", "job", str(job_id)]).stdout
        self.assertIn(f"JobName={name}", shown)
        self.assertIn("UserId=alice(", shown)


class LiveAuthTests(LiveBase):
    async def asserting(self, base, headers, status):
        rpcs = self.gateway.ctld.counters["rpcs"]
        response, body = await self.get(f"{base}/slurm/v1/diag", headers)
        self.assertEqual(response.code, status, body[:300])
        for value in headers.values():
            if len(value) > 20:
                self.assertNotIn(value.encode(), body)
        if status in (401, 403):
            self.assertEqual(self.gateway.ctld.counters["rpcs"], rpcs, "an RPC was sent")
        return json.loads(body)

    async def test_token_paths(self):
        (base,) = await self.start(["-f", self.cluster.slurm_conf, "-l", "tcp:0:interface=127.0.0.1"])
        await self.asserting(base, self.auth(), 200)
        await self.asserting(base, {}, 401)
        await self.asserting(base, {"X-SLURM-USER-NAME": "alice"}, 401)
        await self.asserting(base, {"X-SLURM-USER-TOKEN": self.alice}, 401)
        await self.asserting(base, self.auth(token="garbage.garbage.garbage"), 401)
        now = int(time.time())
        expired = jwt.encode({"iat": now - 600, "exp": now - 60, "sun": "alice"},
                             self.cluster.jwt_key(), algorithm="HS256")
        doc = await self.asserting(base, self.auth(token=expired), 401)
        self.assertIn("expired", doc["errors"][0]["description"])
        await self.asserting(base, self.auth("bob", self.alice), 403)
        # SlurmUser's and root's tokens may act for alice, as slurmctld allows.
        for proxy in ("slurm", "root"):
            await self.asserting(base, self.auth("alice", self.cluster.token(proxy)), 200)

    async def test_api_key_proxy(self):
        keyfile = os.path.join(self.dir, "api-keys")
        with open(keyfile, "w") as f:
            f.write("# proxy\nsecret-proxy-key-123456789\n")
        os.chmod(keyfile, 0o600)
        (base,) = await self.start(["-f", self.cluster.slurm_conf, "--api-key-file", keyfile,
                                    "-l", "tcp:0:interface=127.0.0.1"])
        doc = await self.asserting(base, {"X-SLURM-API-KEY": "secret-proxy-key-123456789",
                                          "X-SLURM-USER-NAME": "alice"}, 200)
        users = {u["user"] for u in doc["statistics"]["rpcs_by_user"]}
        self.assertIn("alice", users)
        await self.asserting(base, {"X-SLURM-API-KEY": "secret-proxy-key-123456789",
                                    "X-SLURM-USER-ID": "2002"}, 200)
        await self.asserting(base, {"X-SLURM-API-KEY": "wrong-proxy-key-1234567890",
                                    "X-SLURM-USER-NAME": "alice"}, 401)

    def test_world_readable_api_key_file_refused(self):
        keyfile = os.path.join(self.dir, "api-keys")
        with open(keyfile, "w") as f:
            f.write("secret-proxy-key-123456789\n")
        os.chmod(keyfile, 0o644)
        options = tap.Options()
        options.parseOptions(["-f", self.cluster.slurm_conf, "--api-key-file", keyfile])
        from twisted.python.usage import UsageError
        with self.assertRaises(UsageError) as cm:
            tap.makeService(options)
        self.assertNotIn("secret-proxy-key", str(cm.exception))


class ControllerTroubleTests(LiveBase):
    async def serve(self, conf):
        config = SlurmConfig.load(conf)
        gateway = tap.make_gateway(config, jwt_key=self.cluster.jwt_key_path, reactor=reactor)
        port = reactor.listenTCP(0, GatewaySite(gateway), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        return f"http://127.0.0.1:{port.getHost().port}"

    async def test_down_then_back(self):
        ctld_port = free_port()
        base = await self.serve(slurm_conf_copy(self.cluster, self.dir, ctld_port))
        for path in ("ping", "diag", "licenses"):
            response, body = await self.get(f"{base}/slurm/v1/{path}")
            self.assertEqual(response.code, 503, body[:300])
            err = json.loads(body)["errors"][0]
            self.assertEqual(err["error_number"], 1800)
        # slurmctld "comes back": a forwarder to the real one on the configured port.
        forwarder = reactor.listenTCP(ctld_port, ProxyFactory("127.0.0.1", self.cluster.ctld_port),
                                      interface="127.0.0.1")
        self.addCleanup(forwarder.stopListening)
        response, body = await self.get(f"{base}/slurm/v1/ping")
        self.assertEqual(response.code, 200, body[:300])
        self.assertEqual(json.loads(body)["pings"][0]["ping"], "UP")

    async def test_client_going_away_abandons_the_rpc(self):
        """A client that hangs up cancels its operation, down to the slurmctld connection."""
        connections = []

        class Recording(Silent):
            def connectionMade(self):
                connections.append(self)

            def connectionLost(self, reason):
                self.lost = True

        silent = reactor.listenTCP(0, protocol.Factory.forProtocol(Recording),
                                   interface="127.0.0.1")
        self.addCleanup(silent.stopListening)
        conf = slurm_conf_copy(self.cluster, self.dir, silent.getHost().port, message_timeout=30)
        base = await self.serve(conf)
        d = self.http.request(b"GET", f"{base}/slurm/v1/diag".encode(),
                              Headers({k.encode(): [v.encode()] for k, v in self.auth().items()}))
        while not connections:
            await deferLater(reactor, 0.01, lambda: None)
        d.cancel()  # the client hangs up long before MessageTimeout
        d.addErrback(lambda f: None)
        for _ in range(500):
            if getattr(connections[0], "lost", False):
                break
            await deferLater(reactor, 0.01, lambda: None)
        self.assertTrue(getattr(connections[0], "lost", False),
                        "the slurmctld connection outlived the client")

    async def test_silent_controller_times_out(self):
        factory = protocol.Factory.forProtocol(Silent)
        silent = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(silent.stopListening)
        conf = slurm_conf_copy(self.cluster, self.dir, silent.getHost().port, message_timeout=1)
        base = await self.serve(conf)
        response, body = await self.get(f"{base}/slurm/v1/diag")
        self.assertEqual(response.code, 504, body[:300])
        self.assertEqual(response.headers.getRawHeaders("content-type"), ["application/json"])
        # The server is still up and answers what needs no slurmctld.
        response, _ = await self.get(f"{base}/openapi/v3")
        self.assertEqual(response.code, 200)


class RevalidationLiveTests(LiveBase):
    """What the server keeps between requests is revalidated with slurmctld's own
    ``last_update`` and is exactly as fresh as a full fetch."""

    def licenses_shown(self) -> dict[str, int]:
        """Used count per license, as ``scontrol show licenses`` says."""
        used = {}
        for line in self.cluster.run(["scontrol", "-o", "show", "licenses"]).stdout.splitlines():
            fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
            used[fields["LicenseName"]] = int(fields["Used"])
        return used

    async def ours(self, base) -> dict[str, int]:
        _, body = await self.get(f"{base}/slurm/v1/licenses")
        return {lic["LicenseName"]: lic["Used"] for lic in json.loads(body)["licenses"]}

    async def test_licenses_follow_a_job_taking_one(self):
        from twisted.internet.threads import deferToThread
        (base,) = await self.start(["-f", self.cluster.slurm_conf, "-l", "tcp:0:interface=127.0.0.1"])
        _, first = await self.get(f"{base}/slurm/v1/licenses")
        _, second = await self.get(f"{base}/slurm/v1/licenses")
        from slurmrest.api.licenses import LICENSES
        cache = self.gateway.state[LICENSES]
        self.assertGreaterEqual(cache.hits, 1)  # the second was "no change in data"
        self.assertEqual(first, second)
        name = f"slurmrest-lic-{os.getpid()}"
        job_id = await deferToThread(self.cluster.submit, "sleep 120", "alice", name,
                                     ("--licenses=fluent:1", "-p", "debug", "-t", "5"))
        self.addCleanup(self.cluster.cancel, job_id)
        await deferToThread(self.cluster.wait_for_job_state, job_id, "RUNNING", 60)
        # Other engineers' jobs may take licenses meanwhile: agree with scontrol, read right
        # after, within a few tries.
        for _ in range(5):
            ours = await self.ours(base)
            shown = await deferToThread(self.licenses_shown)
            if ours == shown:
                break
        self.assertEqual(ours, shown)
        self.assertGreaterEqual(ours["fluent"], 1)
        await deferToThread(self.cluster.cancel, job_id)
        await deferToThread(self.cluster.wait_for_job_state, job_id,
                            {"CANCELLED", "COMPLETED", None}, 60)
        for _ in range(20):  # the licenses come back once the job's end is processed
            ours = await self.ours(base)
            shown = await deferToThread(self.licenses_shown)
            if ours == shown:
                break
            await deferLater(reactor, 0.25, lambda: None)
        self.assertEqual(ours, shown)

    async def test_build_info_revalidated(self):
        (base,) = await self.start(["-f", self.cluster.slurm_conf, "-l", "tcp:0:interface=127.0.0.1"])
        cache = self.gateway.build_info
        cache.max_age = 0  # revalidate at every request
        for _ in range(3):
            response, body = await self.get(f"{base}/slurm/v1/ping")
            self.assertEqual(response.code, 200, body[:300])
            self.assertEqual(json.loads(body)["pings"][0]["ping"], "UP")
        self.assertGreaterEqual(cache.unchanged, 2)
        self.assertEqual(cache.release, json.loads(body)["meta"]["Slurm"]["release"])


class PassThroughLiveTests(LiveBase):
    """Without the cluster's jwt_key the server cannot check tokens itself: every answer must
    then ride on an RPC that slurmctld verified for the caller's own credential."""

    async def start_without_key(self):
        text = open(self.cluster.slurm_conf).read()
        text = re.sub(r"jwt_key=\S+", f"jwt_key={self.dir}/no-such-key", text)
        conf = os.path.join(self.dir, "slurm.conf")
        with open(conf, "w") as f:
            f.write(text)
        (base,) = await self.start(["-f", conf, "-l", "tcp:0:interface=127.0.0.1"])
        return base

    async def test_forged_token_on_ping_is_an_error_not_down(self):
        base = await self.start_without_key()
        response, body = await self.get(f"{base}/slurm/v1/ping")  # fills the build-info cache
        self.assertEqual(response.code, 200)
        self.assertEqual(json.loads(body)["pings"][0]["ping"], "UP")
        response, body = await self.get(f"{base}/slurm/v1/ping",
                                        self.auth(token="forged.token.value"))
        self.assertEqual(response.code, 502, body)
        document = json.loads(body)
        self.assertNotIn("pings", document)
        self.assertEqual(document["errors"][0]["error_number"], 1802)
        self.assertNotIn(b"forged.token.value", body)
