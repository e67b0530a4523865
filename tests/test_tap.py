"""``twistd slurmrest`` options, listener strings and the service tree (no cluster needed:
a slurm.conf written here, nothing contacted)."""

from __future__ import annotations

import os
import pwd
import tempfile

from twisted.internet import reactor
from twisted.internet.endpoints import (SSL4ServerEndpoint, TCP4ServerEndpoint,
                                        TCP6ServerEndpoint, UNIXServerEndpoint)
from twisted.internet.error import CannotListenError
from twisted.python.usage import UsageError
from twisted.trial import unittest

from slurmrest import tap
from slurmrest.web.channel import GatewaySite


def write_conf(directory, key_path=None):
    path = os.path.join(directory, "slurm.conf")
    with open(path, "w") as f:
        f.write("ClusterName=unit\nSlurmctldHost=ctl(127.0.0.1)\nSlurmctldPort=1\n"
                "SlurmUser=slurm\nAuthAltTypes=auth/jwt\n")
        if key_path:
            f.write(f"AuthAltParameters=jwt_key={key_path}\n")
    return path


class OptionsTests(unittest.TestCase):
    def parse(self, *argv):
        options = tap.Options()
        options.parseOptions(list(argv))
        return options

    def test_defaults(self):
        options = self.parse()
        self.assertEqual(options["listen"], ["127.0.0.1:6820", "[::1]:6820"])
        self.assertEqual(options["max-body-size"], 1 << 20)

    def test_repeatable_listen(self):
        options = self.parse("-l", "[::1]:9999", "--listen", "127.0.0.1:9999", "-l", "unix:/x")
        self.assertEqual(options["listen"], ["[::1]:9999", "127.0.0.1:9999", "unix:/x"])

    def test_tls_options_go_together(self):
        self.assertRaises(UsageError, self.parse, "--tls-cert", "c.pem")
        self.assertRaises(UsageError, self.parse, "--tls-key", "k.pem")

    def test_all_options(self):
        options = self.parse("-f", "/etc/x.conf", "--api-key-file", "/k", "--max-body-size",
                             "10", "--jwt-key", "/j")
        self.assertEqual((options["slurm-conf"], options["api-key-file"],
                          options["max-body-size"], options["jwt-key"]),
                         ("/etc/x.conf", "/k", 10, "/j"))

    def test_user_and_group_are_twistds(self):
        """twistd's own --uid/--gid (-u/-g before the plugin name) drop privileges."""
        self.assertRaises(UsageError, self.parse, "-u", "nobody")
        self.assertRaises(UsageError, self.parse, "--group", "nogroup")


class ListenStringTests(unittest.TestCase):
    def endpoints(self, listen, **kw):
        return tap.listener_endpoints(reactor, listen, **kw)

    def test_addresses(self):
        A = tap.Address
        self.assertEqual(tap.listen_addresses("127.0.0.1:9"), [A("127.0.0.1", 9)])
        self.assertEqual(tap.listen_addresses("[::1]:9"), [A("::1", 9)])
        self.assertEqual(tap.listen_addresses(":9"), [A("::", 9)])

    async def listening_on(self, listen):
        """Where the endpoints of ``listen`` (port 0) really listen: (type, host) each."""
        out = []
        for endpoint in self.endpoints(listen):
            port = await endpoint.listen(GatewaySite(None))
            self.addCleanup(port.stopListening)
            out.append((type(endpoint), port.getHost().host))
        return out

    async def test_address_endpoints(self):
        self.assertEqual(await self.listening_on("127.0.0.1:0"),
                         [(TCP4ServerEndpoint, "127.0.0.1")])
        self.assertEqual(await self.listening_on("[::1]:0"), [(TCP6ServerEndpoint, "::1")])
        self.assertEqual(await self.listening_on(":0"), [(TCP6ServerEndpoint, "::")])

    def test_names_resolve_to_each_address(self):
        self.assertIn(tap.Address("127.0.0.1", 9), tap.listen_addresses("localhost:9"))

    def test_endpoint_strings_are_not_addresses(self):
        for s in ("tcp:9", "tcp6:9:interface=\\:\\:1", "unix:/run/slurmrest.sock",
                  "systemd:domain=INET:index=0", "ssl:443:privateKey=k.pem"):
            self.assertIsNone(tap.listen_addresses(s), s)

    async def test_endpoint_strings_are_twisteds(self):
        self.assertEqual(await self.listening_on("tcp6:0:interface=\\:\\:1"),
                         [(TCP6ServerEndpoint, "::1")])
        unix, = self.endpoints("unix:/run/slurmrest.sock")
        self.assertIsInstance(unix, UNIXServerEndpoint)

    def test_systemd_sockets(self):
        """``systemd:`` adopts a socket handed down (LISTEN_FDS), in a process of its own."""
        import subprocess
        import sys
        code = (  # Twisted reads LISTEN_FDS once, when its endpoints module is imported
            "import os, socket, sys\n"
            "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
            "port = s.getsockname()[1]\n"
            "if s.fileno() != 3: os.dup2(s.fileno(), 3)\n"
            "os.environ.update(LISTEN_FDS='1', LISTEN_FDNAMES='http',\n"
            "                  LISTEN_PID=str(os.getpid()))\n"
            "from twisted.internet import reactor\n"
            "from slurmrest import tap\n"
            "from slurmrest.web.channel import GatewaySite\n"
            "e, = tap.listener_endpoints(reactor, 'systemd:domain=INET:index=0')\n"
            "d = e.listen(GatewaySite(None))\n"
            "d.addCallback(lambda p: print(p.getHost().port == port))\n"
            "try:\n"
            "    tap.listener_endpoints(reactor, 'systemd:domain=INET:index=1')\n"
            "except tap.usage.UsageError as e:\n"
            "    print(e)\n")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(out.stdout.splitlines(),
                         ["True", "-l systemd:domain=INET:index=1: no such socket from systemd"],
                         out.stderr)

    def test_endpoint_types_are_twisteds(self):
        self.assertTrue({"tcp", "tcp6", "unix", "ssl", "systemd"} <= tap.endpoint_types())

    def test_garbage(self):
        for listen in ("no-port-here", "[nonsense]:9", "tcp:abc", "::1:9"):
            self.assertRaises(UsageError, self.endpoints, listen)


class MakeServiceTests(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.key = os.path.join(self.dir, "jwt.key")
        with open(self.key, "wb") as f:
            f.write(os.urandom(32))
        self.conf = write_conf(self.dir, self.key)

    def make(self, *argv):
        options = tap.Options()
        options.parseOptions(["-f", self.conf, *argv])
        return tap.makeService(options)

    def test_one_service_per_address(self):
        top = self.make("-l", "127.0.0.1:0", "-l", "[::1]:0", "-l", "unix:" + self.dir + "/s")
        services = list(top)
        self.assertEqual(len(services), 3)
        for svc in services:
            self.assertIsInstance(svc, tap.Listener)
            self.assertIsInstance(svc.factory, GatewaySite)
        self.assertIsInstance(services[0].endpoint, TCP4ServerEndpoint)
        self.assertIsInstance(services[1].endpoint, TCP6ServerEndpoint)
        self.assertIs(services[0].factory, services[2].factory)

    def test_the_cluster_key_is_used(self):
        gateway = next(iter(self.make("-l", "127.0.0.1:0"))).factory.gateway
        self.assertIsNotNone(gateway.authenticator.minter)
        self.assertEqual(gateway.authenticator.proxy_users, frozenset({"root", "slurm"}))

    def test_unreadable_explicit_key_refused(self):
        self.assertRaises(UsageError, self.make, "--jwt-key", self.dir + "/missing")

    def test_tls_wraps_addresses_only(self):
        from tests.test_server_live import self_signed
        cert, key, _ = self_signed(self.dir)
        top = self.make("--tls-cert", cert, "--tls-key", key, "-l", "127.0.0.1:0",
                        "-l", "[::1]:0", "-l", "tcp:0:interface=127.0.0.1")
        kinds = [type(s.endpoint) for s in top]
        self.assertEqual(kinds, [SSL4ServerEndpoint, SSL4ServerEndpoint, TCP4ServerEndpoint])

    def test_bad_tls_files_are_usage_errors(self):
        from tests.test_server_live import self_signed
        cert, key, _ = self_signed(self.dir)
        self.assertRaises(UsageError, self.make, "--tls-cert", cert, "--tls-key", self.dir + "/no")
        self.assertRaises(UsageError, self.make, "--tls-cert", key, "--tls-key", key)
        self.assertRaises(UsageError, self.make, "--tls-cert", cert, "--tls-key", cert)
        other = tempfile.mkdtemp()
        _, other_key, _ = self_signed(other)
        self.assertRaises(UsageError, self.make, "--tls-cert", cert, "--tls-key", other_key)

    def test_api_key_file_checked(self):
        keys = os.path.join(self.dir, "keys")
        with open(keys, "w") as f:
            f.write("k1\n")
        os.chmod(keys, 0o604)
        self.assertRaises(UsageError, self.make, "--api-key-file", keys)
        os.chmod(keys, 0o600)
        gateway = next(iter(self.make("--api-key-file", keys))).factory.gateway
        self.assertEqual(gateway.authenticator.api_keys, (b"k1",))

    def test_api_keys_need_the_jwt_key(self):
        keys = os.path.join(self.dir, "keys")
        with open(keys, "w") as f:
            f.write("k1\n")
        os.chmod(keys, 0o600)
        self.conf = write_conf(self.dir, None)
        self.assertRaises(UsageError, self.make, "--api-key-file", keys)

    def test_access_log(self):
        site = next(iter(self.make("-l", "127.0.0.1:0"))).factory
        self.assertIsNone(site.access_log)  # off unless asked for
        path = os.path.join(self.dir, "access.log")
        site = next(iter(self.make("--access-log", path, "-l", "127.0.0.1:0"))).factory
        self.assertEqual(site.access_log, path)
        self.assertTrue(os.path.exists(path))  # tried at start-up, not at the first request
        site = next(iter(self.make("--access-log", "-", "-l", "127.0.0.1:0"))).factory
        self.assertEqual(site.access_log, "-")
        self.assertRaises(UsageError, self.make, "--access-log", self.dir + "/no/such/dir/log")

    def test_cors_origins(self):
        gateway = next(iter(self.make("-l", "127.0.0.1:0"))).factory.gateway
        self.assertFalse(gateway.cors)  # off unless asked for
        gateway = next(iter(self.make("--cors-origin", "https://portal.example.org",
                                      "--cors-origin", "http://127.0.0.1:8080/",
                                      "-l", "127.0.0.1:0"))).factory.gateway
        self.assertEqual(gateway.cors.origins,
                         {b"https://portal.example.org", b"http://127.0.0.1:8080"})
        for bad in ("*", "portal.example.org", "ftp://x", "https://x/path"):
            self.assertRaises(UsageError, self.make, "--cors-origin", bad)

    def test_metrics_listener(self):
        services = list(self.make("-l", "127.0.0.1:0"))
        self.assertEqual(len(services), 1)
        self.assertIn("/metrics", services[0].factory.gateway.operator.paths)
        services = list(self.make("-l", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"))
        self.assertEqual(len(services), 2)
        self.assertNotIn("/metrics", services[0].factory.gateway.operator.paths)
        self.assertIsNot(services[1].factory, services[0].factory)

    def test_missing_slurm_conf(self):
        options = tap.Options()
        options.parseOptions(["-f", self.dir + "/nope.conf"])
        self.assertRaises(UsageError, tap.makeService, options)


class ListenerTests(unittest.TestCase):
    async def test_listens_and_stops(self):
        listener = tap.Listener(TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1"),
                                GatewaySite(None))
        listener.privilegedStartService()
        listener.startService()
        port = await listener.listening
        self.assertEqual(port.getHost().host, "127.0.0.1")
        await listener.stopService()
        self.assertFalse(port.connected)

    def test_an_address_that_cannot_be_bound_stops_the_start(self):
        """Raised from privilegedStartService (twistd then exits), not logged and skipped."""
        import socket
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            listener = tap.Listener(TCP4ServerEndpoint(reactor, port, interface="127.0.0.1"),
                                    GatewaySite(None))
            self.assertRaises(CannotListenError, listener.privilegedStartService)
        self.assertEqual(self.flushLoggedErrors(), [])


class PrivilegeDropTests(unittest.TestCase):
    """twistd binds (privilegedStartService), then sheds root for --uid/--gid."""

    timeout = 60

    def test_bind_then_drop(self):
        """The sockets are bound in privilegedStartService, before twistd drops root."""
        conf = write_conf(tempfile.mkdtemp())
        options = tap.Options()
        options.parseOptions(["-f", conf, "-l", "127.0.0.1:0", "-l", "[::1]:0"])
        top = tap.makeService(options)
        top.privilegedStartService()
        self.addCleanup(top.stopService)
        self.assertEqual([svc.listening.called for svc in top], [True, True])

    async def test_twistd_uid_gid(self):
        """As root: a port below 1024 bound and a root-only jwt_key read, then run as
        nobody:nogroup (twistd --uid/--gid)."""
        if os.getuid() != 0:
            raise unittest.SkipTest("needs root")
        import grp
        import socket
        import sys

        from twisted.internet.threads import deferToThread
        from twisted.internet.utils import getProcessOutputAndValue

        from slurmrest.wire.credentials import TokenMinter

        directory = tempfile.mkdtemp()
        os.chmod(directory, 0o755)
        key = os.path.join(directory, "jwt.key")
        with open(key, "wb") as f:
            f.write(os.urandom(32))
        os.chmod(key, 0o600)
        conf = write_conf(directory, key)
        port = low_free_port()
        twistd = os.path.join(os.path.dirname(sys.executable), "twistd")
        log = os.path.join(directory, "twistd.log")
        pidfile = os.path.join(directory, "twistd.pid")
        argv = ["--pidfile", pidfile, "--logfile", log, "--uid", "nobody", "--gid", "nogroup",
                "slurmrest", "-f", conf, "-l", f"127.0.0.1:{port}"]
        out, err, code = await getProcessOutputAndValue(twistd, argv, env=dict(os.environ))
        self.assertEqual(code, 0, err)
        pid = int(open(pidfile).read())
        self.addCleanup(_stop, pid)

        def ask(token=None):
            headers = b""
            if token:
                headers = (b"X-SLURM-USER-NAME: alice\r\nX-SLURM-USER-TOKEN: "
                           + token.encode() + b"\r\n")
            for _ in range(100):
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                        s.sendall(b"GET /slurm/v1/ping HTTP/1.1\r\nConnection: close\r\n"
                                  + headers + b"\r\n")
                        data = b""
                        while chunk := s.recv(65536):
                            data += chunk
                        return data
                except ConnectionRefusedError:
                    import time
                    time.sleep(0.1)
            raise AssertionError(open(log).read())

        answer = await deferToThread(ask)
        self.assertTrue(answer.startswith(b"HTTP/1.1 401"), answer[:100])
        with open(f"/proc/{pid}/status") as f:
            ids = {line.split(":")[0]: line.split()[1:] for line in f}
        self.assertEqual(int(ids["Uid"][0]), pwd.getpwnam("nobody").pw_uid)
        self.assertEqual(int(ids["Gid"][0]), grp.getgrnam("nogroup").gr_gid)
        # The key was read as root: a token it signed is accepted (the ping itself then
        # fails, no slurmctld listens), a forged one is not.
        minted = TokenMinter.from_file(key).mint("alice")
        answer = await deferToThread(ask, minted)
        self.assertFalse(answer.startswith(b"HTTP/1.1 401"), answer[:300])


def low_free_port() -> int:
    """A free loopback port below 1024 (only root may bind it)."""
    import random
    import socket
    for port in random.sample(range(600, 1024), 424):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise unittest.SkipTest("no free port below 1024")


def _stop(pid: int) -> None:
    """Stop the twistd this test started (by its pid), and wait until it is gone."""
    import signal
    import time
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


class AllAddressesTests(unittest.TestCase):
    async def test_colon_port_listens_on_ipv4_and_ipv6(self):
        from twisted.internet.threads import deferToThread

        directory = tempfile.mkdtemp()
        options = tap.Options()
        options.parseOptions(["-f", write_conf(directory), "-l", ":0"])
        top = tap.makeService(options)
        top.privilegedStartService()
        top.startService()
        self.addCleanup(top.stopService)
        port = (await next(iter(top)).listening).getHost().port

        def ask(family, host):
            import socket
            with socket.socket(family) as s:
                s.settimeout(10)
                s.connect((host, port))
                s.sendall(b"GET /slurm/v1/ping HTTP/1.1\r\nConnection: close\r\n\r\n")
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
                return data

        import socket
        for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            answer = await deferToThread(ask, family, host)
            self.assertTrue(answer.startswith(b"HTTP/1.1 401"), answer[:100])


class ReusePortTests(unittest.TestCase):
    async def start(self, *argv):
        options = tap.Options()
        options.parseOptions(["-f", write_conf(tempfile.mkdtemp()), *argv])
        top = tap.makeService(options)
        top.privilegedStartService()
        top.startService()
        self.addCleanup(top.stopService)
        return [(await svc.listening).getHost() for svc in top]

    async def test_two_servers_share_one_address(self):
        import socket
        from twisted.internet.threads import deferToThread

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        first = await self.start("--reuse-port", "-l", f"127.0.0.1:{port}", "-l", f"[::1]:{port}")
        second = await self.start("--reuse-port", "-l", f"127.0.0.1:{port}")
        self.assertEqual({h.port for h in first + second}, {port})
        self.assertEqual(first[1].host, "::1")

        def ask(family, host):
            with socket.socket(family) as s:
                s.settimeout(10)
                s.connect((host, port))
                s.sendall(b"GET /slurm/v1/ping HTTP/1.1\r\nConnection: close\r\n\r\n")
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
                return data

        for _ in range(4):  # whichever process the kernel picks answers
            answer = await deferToThread(ask, socket.AF_INET, "127.0.0.1")
            self.assertTrue(answer.startswith(b"HTTP/1.1 401"), answer[:100])
        answer = await deferToThread(ask, socket.AF_INET6, "::1")
        self.assertTrue(answer.startswith(b"HTTP/1.1 401"), answer[:100])

    async def test_without_the_flag_the_address_is_taken(self):
        import socket
        from twisted.internet.error import CannotListenError

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        await self.start("--reuse-port", "-l", f"127.0.0.1:{port}")
        with self.assertRaises(CannotListenError):
            await self.start("-l", f"127.0.0.1:{port}")

    def test_tls_and_endpoint_strings(self):
        from tests.test_server_live import self_signed
        directory = tempfile.mkdtemp()
        cert, key, _ = self_signed(directory)
        options = tap.Options()
        options.parseOptions(["-f", write_conf(directory), "--reuse-port", "--tls-cert", cert,
                              "--tls-key", key, "-l", "127.0.0.1:0",
                              "-l", "tcp:0:interface=127.0.0.1"])
        endpoints = [svc.endpoint for svc in tap.makeService(options)]
        self.assertIsInstance(endpoints[0], tap.ReusePortEndpoint)
        self.assertIsNotNone(endpoints[0].context)
        self.assertIsInstance(endpoints[1], TCP4ServerEndpoint)  # taken as written


class HeapFreezeTests(unittest.TestCase):
    def test_start_freezes_stop_unfreezes(self):
        import gc
        top = tap.GatewayService()
        top.startService()
        try:
            self.assertGreater(gc.get_freeze_count(), 0)
        finally:
            top.stopService()
        self.assertEqual(gc.get_freeze_count(), 0)
