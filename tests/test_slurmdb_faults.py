"""/slurmdb through HTTP while its daemons fail, against the real test cluster.

slurmdbd stopped (503 with slurmrestd's "Unable to connect to database", /slurm unharmed,
both back when slurmdbd is), slurmdbd frozen (504 after the read timeout, nothing hangs,
back after SIGCONT), slurmctld stopped (/slurmdb unharmed), and a fake slurmdbd on a
loopback port answering garbage or truncated frames (502, the connection never reused).
Every daemon stopped here is started again (or resumed) before the test ends.
"""

from __future__ import annotations

import json
import os
import signal
import struct

from twisted.internet import defer, protocol, reactor
from twisted.internet.task import deferLater
from twisted.trial import unittest
from twisted.web.client import Agent, HTTPConnectionPool, readBody
from twisted.web.http_headers import Headers

from slurmrest import tap
from slurmrest.testing import bringup
from slurmrest.testing.cluster import Cluster
from slurmrest.web.channel import GatewaySite
from slurmrest.wire.conf import SlurmConfig
from slurmrest.wire.dbd_client import SlurmdbdClient
from slurmrest.wire.dbd_msgtypes import DbdMsgType as D
from slurmrest.wire.errors import ESLURM_DB_CONNECTION
from slurmrest.wire.tables import NEWEST_DBD as NEWEST

TRES = "/slurmdb/v0.0.38/tres"
TIMEOUT = 2.0  # the slurmdbd client's connect and read timeouts in these tests
U32 = struct.Struct(">I")


class FaultsBase(unittest.TestCase):
    timeout = 180

    def setUp(self):
        self.cluster = Cluster.from_environment()
        self.config = SlurmConfig.load(self.cluster.slurm_conf)
        self.http = Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False))
        self.tokens = {user: self.cluster.token(user) for user in ("root", "alice")}

    def serve(self, dbd=None, ctld=None):
        """slurmrest in this process with its own slurmdbd client (short timeouts)."""
        if dbd is None:
            dbd = SlurmdbdClient(self.config, reactor, connect_timeout=TIMEOUT,
                                 read_timeout=TIMEOUT)
        self.addCleanup(dbd.close)
        self.dbd = dbd
        gateway = tap.make_gateway(self.config, jwt_key=self.cluster.jwt_key_path,
                                   reactor=reactor, dbd=dbd, ctld=ctld)
        port = reactor.listenTCP(0, GatewaySite(gateway), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.base = f"http://127.0.0.1:{port.getHost().port}"
        return gateway

    async def get(self, path, user="alice"):
        headers = Headers({b"X-SLURM-USER-NAME": [user.encode()],
                           b"X-SLURM-USER-TOKEN": [self.tokens[user].encode()]})
        response = await self.http.request(b"GET", f"{self.base}{path}".encode(), headers)
        body = await readBody(response)
        return response.code, json.loads(body)

    async def assert_ok(self, path, user="alice"):
        status, doc = await self.get(path, user)
        self.assertEqual(status, 200, (path, doc.get("errors")))
        self.assertEqual(doc["errors"], [])
        return doc

    async def assert_tres_as_sacctmgr(self, user="alice"):
        doc = await self.assert_ok(TRES, user)
        out = self.cluster.run(["sacctmgr", "-nP", "show", "tres", "withdeleted", "format=id"]).stdout
        self.assertEqual(sorted(t["id"] for t in doc["TRES"]),
                         sorted(int(line) for line in out.split()))


class SlurmdbdStoppedTests(FaultsBase):
    async def test_503_then_both_recover(self):
        self.serve()
        await self.assert_tres_as_sacctmgr()  # a pooled connection to the slurmdbd we stop
        pid = self.cluster.daemon_pid("slurmdbd")
        os.kill(pid, signal.SIGTERM)
        try:
            bringup.wait_for(30, "slurmdbd to exit", lambda: not bringup.alive(pid))
            for version in ("v0.0.38", "v1"):
                status, doc = await self.get(f"/slurmdb/{version}/tres")
                self.assertEqual(status, 503, doc)
                (entry,) = doc["errors"]
                self.assertEqual(entry["error_number"], ESLURM_DB_CONNECTION)
                self.assertEqual(entry["error"], "Unable to connect to database")
                self.assertIn("slurmdbd", entry["description"])  # what happened, and where
                self.assertIn(str(self.cluster.dbd_port), entry["description"])
                self.assertNotIn("TRES", doc)
            # slurmctld keeps answering without its accounting daemon
            doc = await self.assert_ok("/slurm/v0.0.38/ping")
            self.assertEqual(doc["pings"][0]["ping"], "UP")
            doc = await self.assert_ok("/slurm/v0.0.38/jobs")
            self.assertIn("jobs", doc)
        finally:
            bringup.start_slurmdbd(self.cluster.layout)
        await self.assert_tres_as_sacctmgr()
        await self.assert_tres_as_sacctmgr("root")
        await self.assert_ok("/slurm/v0.0.38/ping")

    async def test_pooled_connections_closed_by_a_restart_are_replaced(self):
        """slurmdbd restarted between two requests: the second gets a fresh connection and
        a right answer, never the error of the connection slurmdbd closed."""
        self.serve()
        await self.assert_tres_as_sacctmgr()
        await self.assert_tres_as_sacctmgr("root")
        opened = self.dbd.connections_opened
        pid = self.cluster.daemon_pid("slurmdbd")
        os.kill(pid, signal.SIGTERM)
        try:
            bringup.wait_for(30, "slurmdbd to exit", lambda: not bringup.alive(pid))
        finally:
            bringup.start_slurmdbd(self.cluster.layout)
        await self.assert_tres_as_sacctmgr()
        await self.assert_tres_as_sacctmgr("root")
        self.assertEqual(self.dbd.connections_opened, opened + 2)


class SlurmdbdFrozenTests(FaultsBase):
    async def test_504_no_hang_then_back(self):
        self.serve()
        await self.assert_tres_as_sacctmgr()  # alice has a pooled, initialised connection
        pid = self.cluster.daemon_pid("slurmdbd")
        os.kill(pid, signal.SIGSTOP)
        try:
            # alice on her pooled connection (read timeout), root on a new one (its init
            # times out), several at once: every one answered 504, none left hanging.
            requests = [self.get(TRES), self.get(TRES, "root"), self.get("/slurmdb/v1/tres"),
                        self.get("/slurmdb/v1/tres", "root")]
            answers = await defer.gatherResults(
                [defer.ensureDeferred(r) for r in requests], consumeErrors=True)
            for status, doc in answers:
                self.assertEqual(status, 504, doc)
                (entry,) = doc["errors"]
                self.assertEqual(entry["error_number"], ESLURM_DB_CONNECTION)
                self.assertIn(f"{TIMEOUT:g} s", entry["description"])
            # slurmctld does not wait for its accounting daemon to answer pings
            await self.assert_ok("/slurm/v0.0.38/ping")
        finally:
            os.kill(pid, signal.SIGCONT)
        await self.assert_tres_as_sacctmgr()
        await self.assert_tres_as_sacctmgr("root")


class SlurmctldStoppedTests(FaultsBase):
    async def test_slurmdb_works_without_slurmctld(self):
        gateway = self.serve()
        pid = self.cluster.daemon_pid("slurmctld")
        os.kill(pid, signal.SIGTERM)
        try:
            bringup.wait_for(60, "slurmctld to exit", lambda: not bringup.alive(pid))
            status, doc = await self.get("/slurm/v0.0.38/ping")
            self.assertEqual(status, 503, doc)
            # a fresh server: the release is unknown and cannot be learnt now
            self.assertIsNone(gateway.state.build_info.release)
            for user in ("alice", "root"):
                doc = await self.assert_ok(TRES, user)
                self.assertTrue(doc["TRES"])
                self.assertEqual(doc["meta"]["plugin"]["type"], "openapi/dbv0.0.38")
            await self.settle_learning(gateway)
        finally:
            bringup.start_slurmctld(self.cluster.layout)
            bringup.wait_for(60, "the nodes to register again",
                             lambda: bringup.nodes_registered(self.cluster.layout))
        await self.assert_ok("/slurm/v0.0.38/ping")
        doc = await self.assert_ok(TRES)
        await self.settle_learning(gateway)
        doc = await self.assert_ok(TRES)
        self.assertEqual(doc["meta"]["Slurm"]["release"].split(".")[0], "22")

    async def test_slurmdb_works_while_slurmctld_is_frozen(self):
        """The release is learnt beside the operation: a silent slurmctld delays nothing."""
        gateway = self.serve()
        pid = self.cluster.daemon_pid("slurmctld")
        os.kill(pid, signal.SIGSTOP)
        try:
            for user in ("alice", "root"):
                await self.assert_tres_as_sacctmgr(user)
            self.assertIsNone(gateway.state.build_info.release)
        finally:
            os.kill(pid, signal.SIGCONT)
        await self.settle_learning(gateway)
        doc = await self.assert_ok(TRES)
        self.assertEqual(doc["meta"]["Slurm"]["release"].split(".")[0], "22")

    async def settle_learning(self, gateway):
        """Wait for the background build-info fetch the slurmdb operations start."""
        for _ in range(400):
            if not gateway.state.build_info._learning:
                return
            await deferLater(reactor, 0.05, lambda: None)
        self.fail("learning the release never ended")


# -- a fake slurmdbd ----------------------------------------------------------------------

def persist_rc(rc=0, comment=None):
    body = NEWEST.dbd.replies[D.PERSIST_RC].pack(
        {"comment": comment, "flags": 0, "rc": rc, "ret_info": 0})
    return U32.pack(2 + len(body)) + struct.pack(">H", D.PERSIST_RC) + body


class FakeSlurmdbd(protocol.Protocol):
    """Answers REQUEST_PERSIST_INIT properly, then every request with ``factory.answer``
    (``close`` after it: drop the connection). Records connections and requests."""

    def connectionMade(self):
        self.factory.connections.append(self)
        self.buffer = b""
        self.frames = []
        self.requests = []  # besides the init and DBD_FINI
        self.lost = False

    def dataReceived(self, data):
        self.buffer += data
        while len(self.buffer) >= 4:
            n, = U32.unpack_from(self.buffer)
            if len(self.buffer) < 4 + n:
                return
            frame, self.buffer = self.buffer[4:4 + n], self.buffer[4 + n:]
            self.frames.append(frame)
            if len(self.frames) == 1:
                self.transport.write(self.factory.init_answer)
            elif frame[:2] == struct.pack(">H", D.DBD_FINI):
                self.transport.write(persist_rc())
            else:
                self.requests.append(frame)
                self.transport.write(self.factory.answer)
                if self.factory.close:
                    self.transport.loseConnection()

    def connectionLost(self, reason=None):
        self.lost = True


class FakeSlurmdbdTests(FaultsBase):
    def fake(self, answer, close=False, init_answer=None):
        factory = protocol.Factory.forProtocol(FakeSlurmdbd)
        factory.connections, factory.answer, factory.close = [], answer, close
        factory.init_answer = init_answer if init_answer is not None else persist_rc()
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.serve(SlurmdbdClient(self.config, reactor, host="127.0.0.1",
                                  port=port.getHost().port, connect_timeout=TIMEOUT,
                                  read_timeout=TIMEOUT))
        return factory

    async def assert_bad_gateway(self, factory, path=TRES):
        status, doc = await self.get(path)
        self.assertEqual(status, 502, doc)
        (entry,) = doc["errors"]
        self.assertTrue(entry["description"])
        # the connection that carried garbage is closed
        for _ in range(200):
            if all(c.lost for c in factory.connections):
                break
            await deferLater(reactor, 0.01, lambda: None)
        self.assertTrue(all(c.lost for c in factory.connections), "a connection kept open")
        return entry

    async def test_garbage_reply(self):
        factory = self.fake(U32.pack(6) + b"\xff\xfegarb")  # a message type nobody has
        entry = await self.assert_bad_gateway(factory)
        self.assertIn("unexpected slurmdbd message type", entry["description"])
        await self.assert_bad_gateway(factory)
        # the second request came on a new connection: one request per connection
        self.assertEqual([len(c.requests) for c in factory.connections], [1, 1])

    async def test_insane_frame_length(self):
        factory = self.fake(U32.pack(0xfffffff0) + b"\0" * 16)
        await self.assert_bad_gateway(factory)

    async def test_truncated_body_in_a_whole_frame(self):
        # DBD_GOT_TRES announcing 3 records and carrying none
        factory = self.fake(U32.pack(6) + struct.pack(">HI", D.DBD_GOT_TRES, 3))
        await self.assert_bad_gateway(factory)
        self.assertEqual([len(c.requests) for c in factory.connections], [1])

    async def test_frame_cut_short(self):
        """Half a frame, then the connection closes: 502, not a wait for the rest."""
        factory = self.fake(U32.pack(40) + struct.pack(">HI", D.DBD_GOT_TRES, 3), close=True)
        entry = await self.assert_bad_gateway(factory)
        self.assertIn("slurmdbd closed the connection", entry["description"])

    async def test_garbage_init_reply(self):
        factory = self.fake(persist_rc(), init_answer=U32.pack(4) + b"\x00\x01\x02\x03")
        await self.assert_bad_gateway(factory)

    async def test_wrong_reply_type_then_a_good_one(self):
        """A reply of the wrong type is refused; the fake's next connection answers right."""
        factory = self.fake(persist_rc(rc=0))
        doc = await self.assert_ok(TRES)  # PERSIST_RC rc 0 to a read: nothing to list
        self.assertEqual(doc["TRES"], [])
        factory.answer = U32.pack(10) + struct.pack(">HIi", D.DBD_GOT_QOS, 0, 0)
        entry = await self.assert_bad_gateway(factory)  # on the pooled connection
        self.assertEqual(entry["description"],
                         "slurmdbd answered DBD_GET_TRES with DBD_GOT_QOS")
        factory.answer = U32.pack(10) + struct.pack(">HIi", D.DBD_GOT_TRES, 0, 0)
        doc = await self.assert_ok(TRES)
        self.assertEqual([len(c.requests) for c in factory.connections], [2, 1])

    async def test_client_going_away_abandons_the_request(self):
        """An HTTP client that hangs up while slurmdbd is silent cancels the request down to
        its slurmdbd connection (closed, not left waiting for the read timeout)."""
        factory = self.fake(b"")  # the init is answered, requests never
        self.dbd.read_timeout = 60
        headers = Headers({b"X-SLURM-USER-NAME": [b"alice"],
                           b"X-SLURM-USER-TOKEN": [self.tokens["alice"].encode()]})
        d = self.http.request(b"GET", f"{self.base}{TRES}".encode(), headers)
        for _ in range(500):
            if factory.connections and factory.connections[0].requests:
                break
            await deferLater(reactor, 0.01, lambda: None)
        self.assertEqual(len(factory.connections[0].requests), 1)
        d.cancel()
        d.addErrback(lambda f: None)
        for _ in range(500):
            if factory.connections[0].lost:
                break
            await deferLater(reactor, 0.01, lambda: None)
        self.assertTrue(factory.connections[0].lost,
                        "the slurmdbd connection outlived the client")
