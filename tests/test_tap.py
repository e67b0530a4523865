"""``twistd slurmrest`` options, listener strings and the service tree (no cluster needed:
a slurm.conf written here, nothing contacted)."""

from __future__ import annotations

import os
import pwd
import tempfile

from twisted.application.internet import StreamServerEndpointService
from twisted.internet.endpoints import SSL4ServerEndpoint, TCP4ServerEndpoint, TCP6ServerEndpoint
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
        options = self.parse("-f", "/etc/x.conf", "-u", "nobody", "-g", "nogroup",
                             "--api-key-file", "/k", "--max-body-size", "10", "--jwt-key", "/j")
        self.assertEqual((options["slurm-conf"], options["user"], options["group"],
                          options["api-key-file"], options["max-body-size"], options["jwt-key"]),
                         ("/etc/x.conf", "nobody", "nogroup", "/k", 10, "/j"))


class ListenStringTests(unittest.TestCase):
    def test_addresses(self):
        self.assertEqual(tap.endpoint_descriptions("127.0.0.1:9"), ["tcp:9:interface=127.0.0.1"])
        self.assertEqual(tap.endpoint_descriptions("[::1]:9"), [r"tcp6:9:interface=\:\:1"])
        self.assertEqual(tap.endpoint_descriptions(":9"), [r"tcp6:9:interface=\:\:"])

    def test_names_resolve_to_each_address(self):
        self.assertIn("tcp:9:interface=127.0.0.1", tap.endpoint_descriptions("localhost:9"))

    def test_endpoint_strings_as_written(self):
        for s in ("tcp:9", "tcp6:9:interface=\\:\\:1", "unix:/run/slurmrest.sock",
                  "systemd:domain=INET:index=0", "ssl:443:privateKey=k.pem"):
            self.assertEqual(tap.endpoint_descriptions(s), [s])

    def test_garbage(self):
        self.assertRaises(UsageError, tap.endpoint_descriptions, "no-port-here")


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
            self.assertIsInstance(svc, StreamServerEndpointService)
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

    def test_unknown_user_or_group(self):
        self.assertRaises(UsageError, self.make, "-u", "no-such-user-xyz")
        self.assertRaises(UsageError, self.make, "-g", "no-such-group-xyz")

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

    def test_missing_slurm_conf(self):
        options = tap.Options()
        options.parseOptions(["-f", self.dir + "/nope.conf"])
        self.assertRaises(UsageError, tap.makeService, options)


class PrivilegeDropTests(unittest.TestCase):
    def test_bind_then_drop(self):
        """Sockets are bound before the drop (which ``-u``/``-g`` ask for)."""
        events = []

        class Recording(tap.GatewayService):
            def drop_privileges(self):
                events.append(("drop", [s._waitingForPort.called for s in self]))

        top = Recording(uid=pwd.getpwnam("nobody").pw_uid, gid=None)
        conf = write_conf(tempfile.mkdtemp())
        options = tap.Options()
        options.parseOptions(["-f", conf, "-l", "127.0.0.1:0", "-l", "[::1]:0"])
        for svc in list(tap.makeService(options)):
            svc.disownServiceParent()
            svc.setServiceParent(top)
        top.privilegedStartService()
        self.addCleanup(top.stopService)
        self.assertEqual(events, [("drop", [True, True])])

    def test_drop_really_drops(self):
        if os.getuid() != 0:
            raise unittest.SkipTest("needs root")
        import subprocess
        import sys
        code = ("from slurmrest.tap import GatewayService, _uid, _gid; import os; "
                "s = GatewayService(_uid('nobody'), _gid('nogroup')); s.drop_privileges(); "
                "print(os.getuid(), os.getgid(), os.getgroups())")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout.split(maxsplit=2)
        nobody = pwd.getpwnam("nobody")
        self.assertEqual(int(out[0]), nobody.pw_uid)
        import grp
        self.assertEqual(int(out[1]), grp.getgrnam("nogroup").gr_gid)


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
        port = (await next(iter(top))._waitingForPort).getHost().port

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
        return [(await svc._waitingForPort).getHost() for svc in top]

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
