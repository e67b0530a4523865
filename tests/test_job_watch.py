"""GET /slurm/v1/jobs?watch=true (server-sent events, ``api/job_watch.py``).

Live, against the real cluster through our server (started in this process): every change
made with scontrol arrives exactly once and in order, cross-checked with ``scontrol show
job``; a client that comes back with ``Last-Event-ID`` gets exactly what it missed; a
watcher's stream ends when its token expires. In memory: a watcher that stops reading is
dropped once its unsent bytes pass the bound, and leaves its feed; events are kept bounded.
"""

from __future__ import annotations

import json
import time
import uuid

from twisted.internet import defer, protocol, reactor
from twisted.internet.task import deferLater
from twisted.trial import unittest

from slurmrest import tap
from slurmrest.api import job_watch
from slurmrest.api.job_records import job_document
from slurmrest.web.event_stream import Sink
from slurmrest.wire.credentials import TokenMinter
from slurmrest.wire.primitives import NO_VAL


class EventClient(protocol.Protocol):
    """An event-stream client: sends one request, parses the events as they come."""

    def __init__(self, request: bytes):
        self.request = request
        self.buffer = bytearray()
        self.head: bytes | None = None
        self.events: list[dict] = []
        self.closed = defer.Deferred()
        self.done = False

    def connectionMade(self):
        self.transport.write(self.request)

    def dataReceived(self, data):
        # Only the new bytes are searched: a snapshot of a big queue comes in many pieces.
        start = max(0, len(self.buffer) - 3)
        self.buffer += data
        if self.head is None:
            if b"\r\n\r\n" not in self.buffer:
                return
            head, _, rest = bytes(self.buffer).partition(b"\r\n\r\n")
            self.head, self.buffer = head, bytearray(rest)
            start = 0
        while (end := self.buffer.find(b"\n\n", start)) >= 0:
            block, self.buffer, start = self.buffer[:end], self.buffer[end + 2:], 0
            fields = dict(line.split(b": ", 1) for line in bytes(block).split(b"\n") if b": " in line)
            if b"event" in fields:
                self.events.append({"id": fields[b"id"].decode(),
                                    "event": fields[b"event"].decode(),
                                    "data": json.loads(fields[b"data"])})

    def connectionLost(self, reason):
        self.done = True
        self.closed.callback(None)


async def until(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await deferLater(reactor, 0.05, lambda: None)


class LiveWatchTests(unittest.TestCase):
    timeout = 120

    def setUp(self):
        from slurmrest.testing.cluster import Cluster
        self.cluster = Cluster.from_environment()
        self.tag = f"slurmrest-watch-{uuid.uuid4().hex[:8]}"
        self.minter = TokenMinter(self.cluster.jwt_key(), lifespan=600)

    async def start(self):
        options = tap.Options()
        options.parseOptions([f"--slurm-conf={self.cluster.slurm_conf}",
                              "--listen=tcp:0:interface=127.0.0.1"])
        top = tap.makeService(options)
        top.privilegedStartService()
        top.startService()
        self.addCleanup(top.stopService)
        self.gateway = next(iter(top)).factory.gateway
        self.addCleanup(lambda: self.gateway.state[job_watch.WATCH].stop())
        self.port = (await next(iter(top)).listening).getHost().port

    async def watch(self, user="alice", token=None, last_event_id=None,
                    path=b"/slurm/v1/jobs", first=True) -> EventClient:
        token = token or self.cluster.token(user)
        request = (b"GET %s?watch=true HTTP/1.1\r\nHost: localhost\r\n" % path +
                   b"Accept: text/event-stream\r\nX-SLURM-USER-NAME: %s\r\n"
                   b"X-SLURM-USER-TOKEN: %s\r\n" % (user.encode(), token.encode()))
        if last_event_id is not None:
            request += b"Last-Event-ID: %s\r\n" % last_event_id.encode()
        client = EventClient(request + b"\r\n")
        await protocol.ClientCreator(reactor, lambda: client).connectTCP("127.0.0.1", self.port)
        self.addCleanup(lambda: client.transport.loseConnection())
        if first:
            await until(lambda: client.events, what="the first event")
        return client

    def mine(self, client, job_id):
        return [e for e in client.events
                if e["event"] != "jobs" and e["data"].get("job_id") == job_id]

    def submit(self):
        job_id = self.cluster.submit("sleep 300", user="alice", name=self.tag, extra=["--hold"])
        self.addCleanup(self.cluster.cancel, job_id)
        return job_id

    def scontrol_comment(self, job_id):
        out = self.cluster.run(["scontrol", "-o", "show", "job", str(job_id)]).stdout
        return out.split("Comment=", 1)[1].split()[0] if "Comment=" in out else None

    async def test_every_change_once_in_order(self):
        await self.start()
        client = await self.watch()
        first = client.events[0]
        self.assertEqual(first["event"], "jobs")
        self.assertTrue(client.head.startswith(b"HTTP/1.1 200"))
        self.assertIn(b"Content-Type: text/event-stream", client.head)
        job_id = self.submit()
        await until(lambda: self.mine(client, job_id), what="the added job")
        for n in range(4):
            self.cluster.run(["scontrol", "update", f"JobId={job_id}", f"Comment=watch-{n}"])
            await until(lambda: any(e["data"].get("comment") == f"watch-{n}"
                                    for e in self.mine(client, job_id)), what=f"comment {n}")
        self.assertEqual(self.scontrol_comment(job_id), "watch-3")
        self.cluster.cancel(job_id)
        await until(lambda: any(e["data"].get("job_state") == "CANCELLED"
                                for e in self.mine(client, job_id)), what="the cancel")
        events = self.mine(client, job_id)
        self.assertEqual(events[0]["event"], "added")
        self.assertEqual(events[0]["data"]["name"], self.tag)
        comments = [e["data"].get("comment") for e in events if e["event"] == "changed"]
        seen = [c for c in comments if c and c.startswith("watch-")]
        # each change exactly once, in order (the cancel's event still shows watch-3)
        self.assertEqual(sorted(set(seen), key=seen.index), [f"watch-{n}" for n in range(4)])
        self.assertEqual([seen.count(f"watch-{n}") for n in range(3)], [1, 1, 1])
        ids = [int(e["id"].split("-")[1]) for e in client.events[1:]]
        self.assertEqual(ids, list(range(ids[0], ids[0] + len(ids))))
        # one feed for alice, however many watchers she has
        second = await self.watch()
        self.assertEqual(second.events[0]["event"], "jobs")
        watch = self.gateway.state[job_watch.WATCH]
        self.assertEqual(len(watch.feeds), 1)
        self.assertEqual(len(watch), 2)

    async def test_resume_from_last_event_id(self):
        await self.start()
        keeper = await self.watch()  # keeps the feed running while the other is away
        job_id = self.submit()
        client = await self.watch()
        await until(lambda: self.mine(keeper, job_id), what="the added job")
        await until(lambda: len(client.events) >= 1 + len(self.mine(client, job_id))
                    and (self.mine(client, job_id) or client.events[0]["data"]["jobs"]),
                    what="the job in the second stream")
        last = client.events[-1]["id"]
        client.transport.loseConnection()
        await client.closed
        count = len(keeper.events)
        for n in range(2):
            self.cluster.run(["scontrol", "update", f"JobId={job_id}", f"Comment=away-{n}"])
            await until(lambda: any(e["data"].get("comment") == f"away-{n}"
                                    for e in self.mine(keeper, job_id)), what=f"away {n}")
        missed = keeper.events[count:]
        back = await self.watch(last_event_id=last)
        await until(lambda: len(back.events) >= len(missed), what="the missed events")
        self.assertEqual([e["id"] for e in back.events[:len(missed)]],
                         [e["id"] for e in missed])
        self.assertEqual([e["data"] for e in back.events[:len(missed)]],
                         [e["data"] for e in missed])
        self.assertNotEqual(back.events[0]["event"], "jobs")
        # an id this feed never gave: a fresh snapshot
        other = await self.watch(last_event_id="1-99999")
        self.assertEqual(other.events[0]["event"], "jobs")
        self.assertIn(job_id, [doc["job_id"] for doc in other.events[0]["data"]["jobs"]])

    async def test_one_job(self):
        await self.start()
        job_id, other = self.submit(), self.submit()
        client = await self.watch(path=b"/slurm/v1/job/%d" % job_id)
        self.assertEqual([doc["job_id"] for doc in client.events[0]["data"]["jobs"]], [job_id])
        self.cluster.run(["scontrol", "update", f"JobId={other}", "Comment=not-this-one"])
        self.cluster.run(["scontrol", "update", f"JobId={job_id}", "Comment=this-one"])
        await until(lambda: any(e["data"].get("comment") == "this-one"
                                for e in client.events[1:]), what="the job's change")
        self.assertEqual({e["data"]["job_id"] for e in client.events[1:]}, {job_id})

    async def test_stream_ends_when_the_token_expires(self):
        await self.start()
        minter = TokenMinter(self.cluster.jwt_key(), lifespan=4)
        token = minter.credential_for("alice").token
        started = time.monotonic()
        client = await self.watch(token=token, first=False)
        await client.closed
        self.assertEqual(client.events[0]["event"], "jobs")
        self.assertTrue(client.done)
        self.assertGreaterEqual(time.monotonic() - started, 1.0)
        self.assertEqual(len(self.gateway.state[job_watch.WATCH]), 0)

    async def test_v0_0_38_ignores_watch(self):
        await self.start()
        from twisted.web.client import Agent, readBody
        from twisted.web.http_headers import Headers
        headers = Headers({b"X-SLURM-USER-NAME": [b"alice"],
                           b"X-SLURM-USER-TOKEN": [self.cluster.token("alice").encode()]})
        response = await Agent(reactor).request(
            b"GET", b"http://127.0.0.1:%d/slurm/v0.0.38/jobs?watch=true" % self.port, headers)
        self.assertEqual(response.code, 200)
        self.assertIn("jobs", json.loads(await readBody(response)))


class _Transport:
    """A transport that never sends: what a client that stopped reading looks like."""

    def __init__(self):
        self.dataBuffer = b""
        self.offset = 0
        self._tempDataLen = 0
        self.aborted = False

    def write(self, data):
        self.dataBuffer += data



class _Channel:
    def __init__(self):
        self.transport = _Transport()


class _Request:
    def __init__(self):
        self.channel = _Channel()
        self._disconnected = False
        self.finished = 0

    def registerProducer(self, producer, streaming):
        producer.resumeProducing()  # room for one chunk, then the client reads no more

    def unregisterProducer(self):
        pass


def _write(transport, data):
    transport.write(data)


def _abort(transport):
    transport.aborted = True


class SlowWatcherTests(unittest.TestCase):
    def test_a_watcher_that_stops_reading_is_dropped(self):
        request = _Request()
        request.channel.transport.abortConnection = lambda: _abort(request.channel.transport)
        sink = Sink(request, 10_000, _write)
        watch = job_watch.JobWatch(reactor=reactor, interval=3600)
        feed = watch.feeds["alice"] = job_watch.Feed(watch, "alice", job_document)
        watcher = job_watch.Watcher(feed, None, None, None)
        watcher.sink = sink
        feed.watchers.append(watcher)
        for n in range(40):
            rec = {"job_id": 100, "array_task_id": NO_VAL, "comment": f"c{n}" * 100}
            feed.publish({"records": [rec], "last_update": n + 1})
            if not feed.watchers:
                break
        self.assertTrue(sink.dropped)
        self.assertTrue(request.channel.transport.aborted)
        self.assertEqual(feed.watchers, [])  # nothing more is kept for it
        self.assertEqual(sink._waiting, 0)  # what waited is let go
        self.assertLessEqual(len(request.channel.transport.dataBuffer), 256 * 1024)
        self.assertLess(n, 39)

    def test_events_are_kept_bounded_and_resume_or_snapshot(self):
        watch = job_watch.JobWatch(reactor=reactor, interval=3600)
        feed = job_watch.Feed(watch, "alice", job_document)
        feed.publish({"records": [{"job_id": 1, "array_task_id": NO_VAL}], "last_update": 1},
                     quiet=True)
        self.assertEqual(feed.seq, 0)
        for n in range(job_watch.KEPT_EVENTS + 10):
            feed.publish({"records": [{"job_id": 1, "array_task_id": NO_VAL,
                                       "comment": str(n)}], "last_update": n + 2})
        self.assertEqual(len(feed.events), job_watch.KEPT_EVENTS)
        recent = f"{feed.epoch}-{feed.seq - 2}"
        self.assertEqual(feed.missed(recent).count(b"event: changed"), 2)
        self.assertTrue(feed.missed(f"{feed.epoch}-1").startswith(
            b"retry: 1000\nid: %d-%d\nevent: jobs" % (feed.epoch, feed.seq)))
        self.assertIs(feed.snapshot(), feed.snapshot())  # one per event id, shared
        feed.publish({"records": [], "last_update": 10**6})
        self.assertIn(b"event: removed", feed.events[-1][1])
        self.assertIn(b'"job_id":1', feed.events[-1][1])
