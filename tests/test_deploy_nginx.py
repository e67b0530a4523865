"""etc/nginx/ for real: Debian's nginx on loopback, with a generated certificate, in front of
three slurmrest processes, against the real cluster.

- Pattern 1 (pass-through): the client's own token works, through TLS; a client's
  X-SLURM-API-KEY never reaches slurmrest.
- Pattern 2 (client certificates): the person is the certificate's CN; whatever X-SLURM-*
  or Authorization headers the client adds, the job is submitted as that person.
- Killing one slurmrest process under a bounded load loses no GET (nginx retries it on
  another), and no POST is applied twice (nginx never repeats one that reached a process).
  The figures are printed (requests, failures, rate): README.rst quotes them.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from twisted.internet import defer, reactor
from twisted.internet.ssl import Certificate, PrivateCertificate, optionsForClientTLS
from twisted.internet.task import deferLater
from twisted.trial import unittest
from twisted.web.client import Agent, FileBodyProducer, HTTPConnectionPool, readBody
from twisted.web.http_headers import Headers
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer

from slurmrest.testing.cluster import Cluster
from tests.test_server_live import free_port, self_signed

NGINX_DIR = Path(__file__).resolve().parent.parent / "etc" / "nginx"
NGINX = "/usr/sbin/nginx"
INSTANCES = 3
API_KEY = "nginx-proxy-key-" + uuid.uuid4().hex
JOB = {"environment": {"PATH": "/bin:/usr/bin"}, "current_working_directory": "/tmp",
       "hold": True, "time_limit": 1}
SCRIPT = "#!/bin/sh\ntrue\n"


def user_certificates(directory: str, users) -> tuple[str, dict[str, bytes]]:
    """A CA for the site's people and a certificate (PEM: cert + key) for each user."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "site users CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    ca_path = os.path.join(directory, "users-ca.pem")
    with open(ca_path, "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    pems = {}
    for user in users:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example")])
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(ca_name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(hours=1))
                .sign(ca_key, hashes.SHA256()))
        pems[user] = (cert.public_bytes(serialization.Encoding.PEM)
                      + key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return ca_path, pems


@implementer(IPolicyForHTTPS)
class ClientTLS:
    """Trust our server certificate (name "localhost"); present ``client`` if given."""

    def __init__(self, server_pem: bytes, client_pem: bytes | None = None):
        self.root = Certificate.loadPEM(server_pem)
        self.client = PrivateCertificate.loadPEM(client_pem) if client_pem else None

    def creatorForNetloc(self, hostname, port):
        return optionsForClientTLS("localhost", trustRoot=self.root,
                                   clientCertificate=self.client)


class NginxFront(unittest.TestCase):
    """nginx (both patterns) in front of three slurmrest processes, started for each test
    (trial has no per-class set-up; they start in about a second)."""

    timeout = 300

    def start_front(cls):
        cls.cluster = Cluster.from_environment()
        if not os.path.exists(NGINX):
            raise AssertionError("Debian's nginx: scripts/setup installs nginx-light")
        cls.dir = d = Path(__import__("tempfile").mkdtemp(prefix="slurmrest-nginx-"))
        cls.cert, cls.key, cls.server_pem = self_signed(str(d))
        cls.users_ca, cls.user_pems = user_certificates(str(d), ("alice", "bob"))
        key_file = d / "api-keys"
        key_file.write_text(API_KEY + "\n")
        key_file.chmod(0o600)
        cls.processes, cls.ports = [], []
        for i in range(INSTANCES):
            port = free_port()
            argv = [str(Path(sys.prefix) / "bin" / "twistd"), "--nodaemon", "--pidfile=",
                    f"--logfile={d}/slurmrest-{i}.log", "slurmrest",
                    "-f", cls.cluster.slurm_conf, "-l", f"127.0.0.1:{port}",
                    "--api-key-file", str(key_file), "--access-log", f"{d}/access-{i}.log"]
            cls.processes.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                                  stderr=subprocess.STDOUT,
                                                  start_new_session=True))
            cls.ports.append(port)
        cls.https, cls.certs_port = free_port(), free_port()
        cls.nginx = cls.start_nginx()
        for port in cls.ports:
            cls.wait_for(port)
        cls.wait_for(cls.https)

    def start_nginx(cls) -> subprocess.Popen:
        d = cls.dir
        (d / "tmp").mkdir()
        upstream = (NGINX_DIR / "slurmrest-upstream.conf").read_text()
        for i, port in enumerate(cls.ports):
            upstream = upstream.replace(f"127.0.0.1:682{i + 1}", f"127.0.0.1:{port}")
        files = {"slurmrest-upstream.conf": upstream}
        for name, port in (("slurmrest-passthrough.conf", cls.https),
                           ("slurmrest-client-certificates.conf", cls.certs_port)):
            text = (NGINX_DIR / name).read_text()
            for listen in ("443", "8443"):
                text = text.replace(f"listen {listen} ssl;", f"listen 127.0.0.1:{port} ssl;")
                text = text.replace(f"listen [::]:{listen} ssl;", f"listen [::1]:{port} ssl;")
            text = (text.replace("/etc/ssl/certs/slurmrest.pem", cls.cert)
                    .replace("/etc/ssl/private/slurmrest.key", cls.key)
                    .replace("/etc/ssl/certs/site-users-ca.pem", cls.users_ca)
                    .replace("/etc/nginx/slurmrest-api-key.conf", str(d / "api-key.conf")))
            files[name] = text
        (d / "api-key.conf").write_text(f'proxy_set_header X-SLURM-API-KEY "{API_KEY}";\n')
        for name, text in files.items():
            (d / name).write_text(text)
        temp = " ".join(f"{kind}_temp_path {d}/tmp/{kind};"
                        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (d / "nginx.conf").write_text(
            f"user root;\nworker_processes 1;\ndaemon off;\npid {d}/nginx.pid;\n"
            f"error_log {d}/nginx-error.log info;\nevents {{ worker_connections 512; }}\n"
            f"http {{\n  access_log {d}/nginx-access.log;\n  {temp}\n"
            + "".join(f"  include {d}/{name};\n" for name in files) + "}\n")
        check = subprocess.run([NGINX, "-t", "-p", str(d), "-c", str(d / "nginx.conf")],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise AssertionError(check.stderr)
        return subprocess.Popen([NGINX, "-p", str(d), "-c", str(d / "nginx.conf")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def wait_for(cls, port):
        import socket
        for _ in range(300):  # a bound (30 s), not a timing assertion
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"nothing listens on {port}: see {cls.dir}")

    def stop_front(cls):
        for process in [cls.nginx, *cls.processes]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # ours, by pid
        for process in [cls.nginx, *cls.processes]:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.addCleanup(self.stop_front)
        self.start_front()
        self.alice = self.cluster.token("alice")
        self.pool = HTTPConnectionPool(reactor, persistent=True)
        self.pool.maxPersistentPerHost = 16
        self.pools = {}
        self.addCleanup(self.pool.closeCachedConnections)

    def agent(self, user=None) -> Agent:
        """A client (a person's, with their certificate): connections of its own, as a
        pool shared between people would reuse one person's TLS connection for another."""
        pool = self.pool
        if user is not None:
            pool = self.pools.get(user)
            if pool is None:
                pool = self.pools[user] = HTTPConnectionPool(reactor, persistent=True)
                self.addCleanup(pool.closeCachedConnections)
        return Agent(reactor, contextFactory=ClientTLS(
            self.server_pem, self.user_pems[user] if user else None), pool=pool)

    async def request(self, method, url, headers=None, body=None, agent=None):
        h = Headers({k.encode(): [v.encode()] for k, v in (headers or {}).items()})
        producer = None
        if body is not None:
            h.setRawHeaders(b"Content-Type", [b"application/json"])
            producer = FileBodyProducer(__import__("io").BytesIO(json.dumps(body).encode()))
        response = await (agent or self.agent()).request(method.encode(), url.encode(), h,
                                                         producer)
        return response.code, await readBody(response)

    def squeue_names(self, prefix) -> dict[str, list[int]]:
        out = self.cluster.run(["squeue", "-h", "-o", "%j %i"]).stdout
        found: dict[str, list[int]] = {}
        for line in out.splitlines():
            name, job = line.split()
            if name.startswith(prefix):
                found.setdefault(name, []).append(int(job))
        return found

    def cancel_named(self, prefix):
        self.cluster.cancel(*[j for jobs in self.squeue_names(prefix).values() for j in jobs])


class PatternTests(NginxFront):
    async def test_pass_through_the_clients_own_token(self):
        base = f"https://localhost:{self.https}"
        for headers in ({"X-SLURM-USER-NAME": "alice", "X-SLURM-USER-TOKEN": self.alice},
                        {"Authorization": f"Bearer {self.alice}"}):
            status, body = await self.request("GET", base + "/slurm/v0.0.38/ping", headers)
            self.assertEqual(status, 200, body[:300])
            self.assertEqual(json.loads(body)["pings"][0]["ping"], "UP")
        status, body = await self.request("GET", base + "/slurm/v0.0.38/ping")
        self.assertEqual(status, 401)
        # The proxy's key, sent by a client, is dropped: it would have made anyone root.
        status, body = await self.request("GET", base + "/slurm/v0.0.38/ping",
                                          {"X-SLURM-API-KEY": API_KEY,
                                           "X-SLURM-USER-NAME": "root"})
        self.assertEqual(status, 401, body[:300])

    async def test_client_certificates_the_proxy_says_who(self):
        base = f"https://localhost:{self.certs_port}"
        tag = f"nginx-cert-{uuid.uuid4().hex[:8]}-"
        self.addCleanup(self.cancel_named, tag)
        root = self.cluster.token("root")
        attempts = {
            "plain": {},
            "name": {"X-SLURM-USER-NAME": "root"},
            "token": {"X-SLURM-USER-NAME": "root", "X-SLURM-USER-TOKEN": root},
            "bearer": {"Authorization": f"Bearer {root}"},
            "id": {"X-SLURM-USER-ID": "0"},
            "key": {"X-SLURM-API-KEY": "nonsense", "X-SLURM-USER-NAME": "root"},
        }
        for user in ("alice", "bob"):
            for what, headers in attempts.items():
                status, body = await self.request(
                    "POST", base + "/slurm/v0.0.38/job/submit", headers,
                    {"script": SCRIPT, "job": dict(JOB, name=f"{tag}{user}-{what}")},
                    agent=self.agent(user))
                self.assertEqual(status, 200, (user, what, body[:300]))
                job = json.loads(body)["job_id"]
                out = self.cluster.run(["squeue", "-h", "-j", str(job), "-o", "%u"]).stdout
                self.assertEqual(out.strip(), user, what)
        # No certificate: nginx refuses before anything reaches slurmrest.
        status, _ = await self.request("GET", base + "/slurm/v0.0.38/ping",
                                       {"X-SLURM-USER-NAME": "alice",
                                        "X-SLURM-USER-TOKEN": self.alice})
        self.assertEqual(status, 400)


class KillOneInstanceTests(NginxFront):
    GETS = 600
    POSTS = 40
    CONCURRENCY = 8

    async def load(self, count, make, kill_after, victim) -> tuple[list, float]:
        """``count`` requests, ``CONCURRENCY`` at a time; ``victim`` SIGKILLed once
        ``kill_after`` have been answered. (status, body) of each, and the seconds taken."""
        answers = [None] * count
        done = [0]
        semaphore = defer.DeferredSemaphore(self.CONCURRENCY)

        async def one(i):
            try:
                answers[i] = await make(i)
            except Exception as e:  # a lost request: counted, not raised
                answers[i] = (None, repr(e).encode())
            done[0] += 1
            if done[0] == kill_after and self.processes[victim].poll() is None:
                os.kill(self.processes[victim].pid, signal.SIGKILL)  # ours, by pid

        started = time.perf_counter()
        await defer.gatherResults([semaphore.run(lambda i=i: defer.ensureDeferred(one(i)))
                                   for i in range(count)])
        return answers, time.perf_counter() - started

    async def test_killing_one_loses_no_get_and_applies_no_post_twice(self):
        base = f"https://localhost:{self.https}"
        auth = {"X-SLURM-USER-NAME": "alice", "X-SLURM-USER-TOKEN": self.alice}
        gets, seconds = await self.load(
            self.GETS, lambda i: self.request("GET", base + "/slurm/v0.0.38/ping", auth),
            kill_after=self.GETS // 4, victim=1)
        self.assertIsNotNone(self.processes[1].poll())  # it was killed
        lost = [a for a in gets if a[0] != 200]
        print(f"\nnginx + {INSTANCES} slurmrest, one SIGKILLed after {self.GETS // 4}: "
              f"{self.GETS} GET /ping, {len(lost)} lost, {self.GETS / seconds:.0f} req/s "
              f"(concurrency {self.CONCURRENCY})")
        self.assertEqual(lost, [])

        tag = f"nginx-post-{uuid.uuid4().hex[:8]}-"
        self.addCleanup(self.cancel_named, tag)
        posts, seconds = await self.load(
            self.POSTS, lambda i: self.request(
                "POST", base + "/slurm/v0.0.38/job/submit", auth,
                {"script": SCRIPT, "job": dict(JOB, name=f"{tag}{i}")}),
            kill_after=self.POSTS // 4, victim=2)
        self.assertIsNotNone(self.processes[2].poll())
        applied = self.squeue_names(tag)
        failed = [i for i, a in enumerate(posts) if a[0] != 200]
        print(f"nginx, another SIGKILLed after {self.POSTS // 4}: {self.POSTS} POST "
              f"job/submit, {len(failed)} failed (not retried), {len(applied)} applied, "
              f"none twice, {self.POSTS / seconds:.0f} req/s")
        for name, jobs in applied.items():
            self.assertEqual(len(jobs), 1, (name, jobs))  # never applied twice
        for i, (status, body) in enumerate(posts):
            if status == 200:
                self.assertEqual(applied.get(f"{tag}{i}"), [json.loads(body)["job_id"]])
        # Only a POST in flight on the killed process may be lost, never more than those.
        self.assertLessEqual(len(failed), self.CONCURRENCY)
