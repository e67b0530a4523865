"""HTTP to a ``GatewaySite`` in memory: treq's client (a real HTTP/1.1 client, which parses
our answers as any client would) and the site's own channel, joined by ``twisted.test.iosim``.

``treq.testing.StubTreq`` serves a ``Resource`` through a plain ``Site``; the gateway is its
own ``Site`` (it admits requests at header time, in its channel), hence this small agent.
"""

from __future__ import annotations

import json

from treq.client import HTTPClient
from twisted.internet.address import IPv4Address
from twisted.internet.defer import succeed
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.testing import MemoryReactorClock
from twisted.test import iosim
from twisted.web.client import Agent
from twisted.web.iweb import IAgentEndpointFactory, IBodyProducer
from zope.interface import implementer

SERVER = IPv4Address("TCP", "127.0.0.1", 6820)


@implementer(IAgentEndpointFactory)
class _Loopback:
    """Every URI is a TCP connection the memory reactor records (and we then join)."""

    def __init__(self, reactor):
        self.reactor = reactor

    def endpointForURI(self, uri):
        return TCP4ClientEndpoint(self.reactor, "127.0.0.1", uri.port)


@implementer(IBodyProducer)
class _Body:
    """A request body written at once (treq's default producer needs a running reactor)."""

    def __init__(self, data: bytes):
        self.data = data
        self.length = len(data)

    def startProducing(self, consumer):
        consumer.write(self.data)
        return succeed(None)

    def pauseProducing(self):
        pass

    def resumeProducing(self):
        pass

    def stopProducing(self):
        pass


class Answer:
    """A response, read whole: ``status``, ``header(name)``, ``body``, ``json()``."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Answer {self.status} {self.body[:200]!r}>"


class SiteClient:
    """``await SiteClient(site).request("GET", "/slurm/v1/ping", headers={...})``: one
    connection per request, from ``peer``."""

    def __init__(self, site, peer: IPv4Address | None = None):
        self.site = site
        self.peer = peer or IPv4Address("TCP", "127.0.0.1", 40000)
        self.reactor = MemoryReactorClock()
        self.http = HTTPClient(Agent.usingEndpointFactory(self.reactor, _Loopback(self.reactor)),
                               data_to_body_producer=_Body)
        self._pumps: list[iosim.IOPump] = []

    async def request(self, method: str, path: str, headers: dict | None = None,
                      body: bytes | None = None) -> Answer:
        response = self.http.request(method, f"http://127.0.0.1:{SERVER.port}{path}",
                                     headers=headers or {}, data=body)
        self._join()
        response = await response
        body = await self._pumped(response.content())
        return Answer(response.code, {name.decode("latin-1").lower(): values[-1].decode("latin-1")
                                      for name, values in response.headers.getAllRawHeaders()},
                      body)

    async def _pumped(self, d):
        self.flush()
        return await d

    def flush(self) -> None:
        """Move whatever either side has written (an answer that came later, say)."""
        for pump in self._pumps:
            pump.flush()

    def _join(self) -> None:
        _, _, factory, _, _ = self.reactor.tcpClients.pop()
        server = self.site.buildProtocol(self.peer)
        client = factory.buildProtocol(None)
        self._pumps.append(iosim.connect(
            server, iosim.FakeTransport(server, isServer=True, hostAddress=SERVER,
                                        peerAddress=self.peer),
            client, iosim.FakeTransport(client, isServer=False, hostAddress=self.peer,
                                        peerAddress=SERVER)))
