"""Inet mode: one HTTP conversation over stdin/stdout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

from twisted.internet.testing import StringTransport
from twisted.trial import unittest

from slurmrest import inet
from slurmrest.testing.cluster import Cluster
from tests.test_web_server import responses
from tests.test_tap import write_conf


def command() -> list[str]:
    script = os.path.join(os.path.dirname(sys.executable), "slurmrest")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "slurmrest.inet"]


PIPELINED = (b"GET /slurm/v1/ping HTTP/1.1\r\nAccept: */*\r\n\r\n"
             b"GET /slurm/v0.0.38/licenses HTTP/1.1\r\nAccept: application/x-yaml\r\n\r\n"
             b"GET /slurm/v1/diag HTTP/1.1\r\n\r\n")


class InetLiveTests(unittest.TestCase):
    def setUp(self):
        self.cluster = Cluster.from_environment()

    def run_inet(self, data, env=None):
        full_env = dict(self.cluster.env, **(env or {}))
        return subprocess.run(command() + ["-f", self.cluster.slurm_conf], input=data,
                              capture_output=True, env=full_env, timeout=60)

    def test_pipelined_requests_answered_in_order(self):
        proc = self.run_inet(PIPELINED)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        rs = responses(proc.stdout)
        self.assertEqual([r.status for r in rs], [200, 200, 200])
        self.assertEqual(json.loads(rs[0].body)["pings"][0]["ping"], "UP")
        self.assertEqual(rs[1].header("content-type"), "application/x-yaml")
        self.assertIn(b"LicenseName: matlab", rs[1].body)
        self.assertIn("statistics", json.loads(rs[2].body))

    def test_token_from_environment(self):
        proc = self.run_inet(b"GET /slurm/v1/ping HTTP/1.1\r\n\r\n",
                             {"SLURM_JWT": self.cluster.token("alice")})
        (r,) = responses(proc.stdout)
        self.assertEqual(r.status, 200, r.body)

    def over_socket(self, family):
        """Run inet mode with a socket as stdin/stdout; send a request without credentials."""
        import socket
        if family == socket.AF_UNIX:
            ours, theirs = socket.socketpair()
        else:
            listener = socket.create_server(("127.0.0.1", 0))
            ours = socket.create_connection(listener.getsockname())
            theirs, _ = listener.accept()
            listener.close()
        with ours, theirs:
            proc = subprocess.Popen(command() + ["-f", self.cluster.slurm_conf], stdin=theirs,
                                    stdout=theirs, stderr=subprocess.PIPE, env=self.cluster.env)
            theirs.close()
            ours.sendall(b"GET /slurm/v1/ping HTTP/1.1\r\n\r\n")
            ours.shutdown(socket.SHUT_WR)
            data = b""
            ours.settimeout(60)
            while chunk := ours.recv(65536):
                data += chunk
            proc.wait(timeout=60)
        return responses(data)

    def test_unix_socket_peer_is_the_caller(self):
        import socket
        (r,) = self.over_socket(socket.AF_UNIX)
        self.assertEqual(r.status, 200, r.body)

    def test_network_socket_peer_must_authenticate(self):
        import socket
        (r,) = self.over_socket(socket.AF_INET)
        self.assertEqual(r.status, 401, r.body)

    def test_empty_input_exits(self):
        proc = self.run_inet(b"")
        self.assertEqual((proc.returncode, proc.stdout), (0, b""))


class InetWithoutKeyTests(unittest.TestCase):
    def test_clear_error_without_key_or_token(self):
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        conf = write_conf(directory, os.path.join(directory, "unreadable.key"))
        env = {k: v for k, v in os.environ.items() if k != "SLURM_JWT"}
        proc = subprocess.run(command() + ["-f", conf], input=b"", capture_output=True,
                              env=env, timeout=60)
        self.assertEqual(proc.returncode, 2)
        self.assertIn(b"SLURM_JWT", proc.stderr)
        self.assertIn(b"jwt_key", proc.stderr)


class InetChannelTests(unittest.TestCase):
    """The half-close logic in memory: answers finish before the channel closes."""

    def test_closes_after_the_last_answer(self):
        from slurmrest.api.registry import Registry, operation
        from slurmrest.web.auth import Authenticator
        from slurmrest.web.channel import GatewaySite
        from slurmrest.web.gateway import Gateway
        from slurmrest.wire.credentials import TokenMinter
        from twisted.internet import defer

        reg = Registry()
        pending = []

        @operation("GET", "/wait", operation_id="wait", summary="", registry=reg)
        async def wait(call):
            d = defer.Deferred()
            pending.append(d)
            await d
            return {"user": call.user}

        class NoClient:
            def bind(self, c):
                return c

        minter = TokenMinter(b"k" * 32)
        from slurmrest.api.meta import BuildInfoCache
        known = BuildInfoCache()
        known.update({"version": "22.05.8"})
        site = GatewaySite(Gateway(NoClient(), Authenticator(minter), registry=reg,
                                   build_info=known))
        channel = inet.InetChannel()
        channel.site, channel.requestFactory, channel.local_user = site, site.requestFactory, "alice"
        channel.timeOut = None
        transport = StringTransport()
        channel.makeConnection(transport)
        channel.dataReceived(b"GET /slurm/v1/wait HTTP/1.1\r\n\r\n" * 2)
        channel.readConnectionLost()
        self.assertFalse(transport.disconnecting)
        pending[0].callback(None)
        self.assertFalse(transport.disconnecting)
        pending[1].callback(None)
        self.assertTrue(transport.disconnecting)
        rs = responses(transport.value())
        self.assertEqual([json.loads(r.body)["user"] for r in rs], ["alice", "alice"])
