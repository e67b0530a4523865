"""Watching the job list: ``GET /slurm/v1/jobs?watch=true`` as server-sent events.

Instead of polling GET /jobs, a client keeps one response open (``text/event-stream``) and
gets one ``jobs`` event with the current job documents, then one event per added, changed
or removed job as slurmctld reports changes (``GET /slurm/v1/job/{id}?watch=true``: the same,
of that job's records only)::

    id: 12
    event: changed
    data: {"account":"science",...,"job_id":1234,...}

Every event has an id (``<feed>-<n>``: ids of a feed that stopped are never confused with
those of a later one); a client that reconnects with ``Last-Event-ID`` gets the events it
missed (when they are still kept: the last ``KEPT_EVENTS``), else a fresh ``jobs`` event.

One ``Feed`` per user serves all that user's watchers: one loop asks slurmctld every
``interval`` seconds with the ``last_update`` of the reply it holds (Slurm's no-change reply
while nothing changed), through the credential of one of the watchers. The records of a new
reply that are the very objects of the last one (``wire.reuse``: unchanged bytes) are
unchanged; only the others are converted and serialised. A watcher is admitted only after
an RPC with its own credential (as every answer, see ``revalidated``) and ends when its
token expires (its ``exp``), when slurmctld refuses its credential, or, in the web room,
when it stops reading (its unsent bytes bounded). The loop stops with its last watcher.
"""

from __future__ import annotations

import base64
import json
import time
from collections import deque
from typing import Callable, Hashable

from twisted.internet import defer, task

from slurmrest.api.registry import Stream
from slurmrest.api.state import Slot
from slurmrest.wire.errors import CommunicationError, NoChange, SlurmError
from slurmrest.wire.primitives import NO_VAL

#: How many events a feed keeps for watchers that resume with Last-Event-ID.
KEPT_EVENTS = 4096

#: How long a client waits before it reconnects (ms), sent with the first event.
RETRY = b"retry: 1000\n"

_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _json(value) -> bytes:
    text = _JSON.encode(value)
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":")).encode("ascii")


def event(epoch: int, seq: int, kind: str, data: bytes) -> bytes:
    """One server-sent event (``data`` is one line of JSON); its id is ``epoch-seq``."""
    return b"id: %d-%d\nevent: %s\ndata: %s\n\n" % (epoch, seq, kind.encode(), data)


def parse_event_id(text: str | None) -> tuple[int, int] | None:
    """``"epoch-seq"`` → (epoch, seq); anything else None (the watcher gets a snapshot)."""
    epoch, _, seq = (text or "").strip().partition("-")
    return (int(epoch), int(seq)) if epoch.isdigit() and seq.isdigit() else None


def token_expiry(credential) -> float | None:
    """The ``exp`` of a JWT credential (read, not verified: slurmctld verifies it), or None."""
    token = getattr(credential, "token", None)
    if not token or token.count(".") != 2:
        return None
    try:
        part = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        return float(claims["exp"])
    except (ValueError, KeyError, TypeError):
        return None


def _ident(rec: dict) -> tuple:
    return rec.get("job_id"), rec.get("array_task_id")


def _removed(rec: dict) -> bytes:
    task_id = rec.get("array_task_id")
    return _json({"job_id": rec.get("job_id"),
                  "array_task_id": None if task_id in (None, NO_VAL) else task_id})


class Watcher(Stream):
    """One open event stream. ``attach(sink)``: the web room's sink (``write(bytes) ->
    bool``, False once it dropped a client that stopped reading; ``close()``)."""

    def __init__(self, feed: "Feed", load, credential, last_event_id: str | None,
                 wants: Callable[[dict], bool] | None = None):
        self.feed = feed
        #: Which job records this watcher follows (None: all; GET /job/{id}: that job's).
        self.wants = wants
        self.load = load
        self.credential = credential
        self.last_event_id = last_event_id
        self.expires = token_expiry(credential)
        self.sink = None
        self._timer = None

    def attach(self, sink) -> None:
        self.sink = sink
        if self.expires is not None:
            delay = max(0.0, self.expires - self.feed.clock())
            self._timer = self.feed.reactor.callLater(delay, self.end)
        self.feed.join(self)

    def send(self, data: bytes) -> None:
        if self.sink is not None and not self.sink.write(data):
            self.detach()

    def end(self) -> None:
        """Finish the stream (token expired, credential refused, server going away)."""
        sink = self.sink
        self.detach()
        if sink is not None:
            sink.close()

    def detach(self) -> None:
        """The stream is over (the client went away, or was dropped): forget it."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        self.sink = None
        self.feed.leave(self)


class Feed:
    """The job list of one user as a sequence of events, and that user's watchers."""

    def __init__(self, watch: "JobWatch", user: Hashable, convert: Callable[[dict], dict]):
        self.watch = watch
        self.user = user
        self.convert = convert
        self.reactor = watch.reactor
        self.clock = watch.clock
        self.watchers: list[Watcher] = []
        #: ident → (record, its document as JSON), in slurmctld's order.
        self.jobs: dict[tuple, tuple[dict, bytes]] = {}
        self.last_update = 0
        self.epoch = int(watch.clock() * 1e6)
        self.seq = 0
        self.events: deque[tuple[int, bytes, dict]] = deque(maxlen=KEPT_EVENTS)
        self._snapshot: tuple[int, bytes] | None = None
        self._loop: defer.Deferred | None = None
        #: Replies that changed something, and events published (diagnostics, benchmarks).
        self.changes = 0

    # -- the state -------------------------------------------------------------------

    def publish(self, reply: dict, quiet: bool = False) -> None:
        """Take a full reply: one event per added, changed or removed job, sent to all
        (``quiet``: the first reply of a feed, which only makes its state)."""
        records = reply.get("records") or ()
        self.last_update = max(self.last_update, reply.get("last_update") or 0)
        before, after = self.jobs, {}
        out = []
        for rec in records:
            ident = _ident(rec)
            known = before.get(ident)
            if known is not None and (known[0] is rec or known[0] == rec):
                after[ident] = known
                continue
            after[ident] = (rec, _json(self.convert(rec)))
            out.append(("changed" if known is not None else "added", after[ident][1], rec))
        for ident, (rec, _) in before.items():
            if ident not in after:
                out.append(("removed", _removed(rec), rec))
        self.jobs = after
        if not out or quiet:
            return
        self.changes += 1
        for kind, data, rec in out:
            self.seq += 1
            data = event(self.epoch, self.seq, kind, data)
            self.events.append((self.seq, data, rec))
            for watcher in list(self.watchers):
                if watcher.wants is None or watcher.wants(rec):
                    watcher.send(data)

    def snapshot(self, wants=None) -> bytes:
        """The ``jobs`` event: every current document (that ``wants``), with the id of the
        latest event (and the client's reconnection delay). The whole list's is made once
        per event id and shared by every watcher that joins meanwhile."""
        if wants is None and self._snapshot is not None and self._snapshot[0] == self.seq:
            return self._snapshot[1]
        data = b'{"jobs":[' + b",".join(doc for rec, doc in self.jobs.values()
                                       if wants is None or wants(rec)) + b"]}"
        whole = RETRY + event(self.epoch, self.seq, "jobs", data)
        if wants is None:
            self._snapshot = (self.seq, whole)
        return whole

    def missed(self, last_event_id: str | None, wants=None) -> bytes:
        """What a watcher that saw ``last_event_id`` needs: the events after it when they
        are all kept (and it is one of this feed's), else a snapshot."""
        seen = parse_event_id(last_event_id)
        if seen is not None and seen[0] == self.epoch and seen[1] <= self.seq:
            first = self.events[0][0] if self.events else self.seq + 1
            if seen[1] >= first - 1:
                return RETRY + b"".join(data for seq, data, rec in self.events
                                        if seq > seen[1] and (wants is None or wants(rec)))
        return self.snapshot(wants)

    # -- watchers and the loop ---------------------------------------------------------

    def join(self, watcher: Watcher) -> None:
        self.watchers.append(watcher)
        watcher.send(self.missed(watcher.last_event_id, watcher.wants))
        if self._loop is None and self.watchers:
            self._loop = defer.ensureDeferred(self._run())

    def leave(self, watcher: Watcher) -> None:
        if watcher in self.watchers:
            self.watchers.remove(watcher)

    async def _run(self) -> None:
        try:
            while self.watchers:
                await task.deferLater(self.reactor, self.watch.interval, lambda: None)
                if not self.watchers:
                    break
                watcher = self.watchers[-1]  # the newest token lives longest
                try:
                    reply = await watcher.load(self.last_update)
                except NoChange:
                    continue
                except CommunicationError:
                    continue  # slurmctld away for now: ask again next time
                except SlurmError:
                    watcher.end()  # its credential is refused: its stream ends
                    continue
                self.publish(reply)
        finally:
            self._loop = None
            if self.watch.feeds.get(self.user) is self:
                del self.watch.feeds[self.user]
            # Stop with the last watcher; one that joined meanwhile gets a new feed.
            for watcher in list(self.watchers):
                watcher.end()

    def stop(self) -> defer.Deferred | None:
        """End every watcher and the loop (its RPC in flight cancelled)."""
        for watcher in list(self.watchers):
            watcher.end()
        loop = self._loop
        if loop is not None:
            loop.addErrback(lambda f: f.trap(defer.CancelledError))
            loop.cancel()
        return loop


class JobWatch:
    """The feeds of a server, one per user."""

    def __init__(self, reactor=None, interval: float = 0.1, clock=time.time):
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        self.interval = interval
        self.clock = clock
        self.feeds: dict[Hashable, Feed] = {}

    async def watcher(self, user: Hashable, load, credential, convert,
                      last_event_id: str | None = None, wants=None) -> Watcher:
        """A watcher of ``user``'s jobs, admitted by its own RPC (``load``): a full reply
        for a new feed, a no-change check (or the change, published) for a running one."""
        feed = self.feeds.get(user)
        if feed is None:
            reply = await load(0)
            feed = self.feeds.get(user)  # another watcher may have made it meanwhile
            if feed is None:
                feed = self.feeds[user] = Feed(self, user, convert)
                feed.publish(reply, quiet=True)
                reply = None
        else:
            try:
                reply = await load(feed.last_update)
            except NoChange:
                reply = None
            feed = self.feeds.setdefault(user, feed)
        if reply is not None:
            feed.publish(reply)
        return Watcher(feed, load, credential, last_event_id, wants)

    def __len__(self) -> int:
        return sum(len(feed.watchers) for feed in self.feeds.values())

    def stop(self) -> defer.Deferred:
        """End every stream and loop (the server is going away)."""
        loops = [d for d in (feed.stop() for feed in list(self.feeds.values())) if d]
        return defer.DeferredList(loops)


#: The feeds of a server.
WATCH = Slot("job_watch", JobWatch)
