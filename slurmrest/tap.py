"""``twistd slurmrest``: options, listeners and the service tree.

One ``Listener`` per listening address under one ``MultiService`` (as ``twisted.web.tap``
does). Sockets are bound in ``privilegedStartService``; twistd's own ``--uid``/``--gid`` drop
privileges right after, so a root-started server can listen on 443 and read the cluster's
``jwt_key`` (read at start-up) yet run as someone else.
"""

from __future__ import annotations

import functools
import gc
import re
import socket
from dataclasses import dataclass

from OpenSSL import SSL, crypto
from twisted.application import service
from twisted.internet import defer, endpoints
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IStreamServerEndpoint, IStreamServerEndpointStringParser
from twisted.logger import Logger
from twisted.plugin import getPlugins
from twisted.python import usage
from zope.interface import implementer

from slurmrest.api.registry import load_operations
from slurmrest.web.auth import Authenticator, load_api_keys
from slurmrest.web.channel import GatewaySite
from slurmrest.web.gateway import DEFAULT_MAX_BODY_SIZE, Gateway
from slurmrest.web.limits import DEFAULT_LIMITS

DEFAULT_LISTEN = ("127.0.0.1:6820", "[::1]:6820")

log = Logger()


class Options(usage.Options):
    synopsis = "[options]"
    optFlags = [
        ["reuse-port", None, "listen on host:port addresses with SO_REUSEPORT, so that several "
                             "slurmrest processes (one per core) share them; the kernel spreads "
                             "the connections"],
    ]
    longdesc = ("A REST gateway to Slurm (slurmrestd 22.05 compatible). Listens on "
                "127.0.0.1:6820 and [::1]:6820 unless told otherwise with -l. To run as "
                "another user once the sockets are bound, give twistd itself --uid/--gid "
                "(twistd --uid slurmrest --gid slurmrest slurmrest -l :443 ...).")
    optParameters = [
        ["slurm-conf", "f", None, "slurm.conf to use (default: $SLURM_CONF, else "
                                  "/etc/slurm/slurm.conf)"],
        ["tls-cert", None, None, "PEM certificate (chain): serve every host:port listener "
                                 "over TLS 1.2+"],
        ["tls-key", None, None, "PEM private key of --tls-cert"],
        ["api-key-file", None, None, "keys of authenticating proxies, one per line "
                                     "(# comments); must not be readable by others"],
        ["max-body-size", None, DEFAULT_MAX_BODY_SIZE, "largest request body, bytes", int],
        ["jwt-key", None, None, "the cluster's HS256 jwt_key (default: AuthAltParameters' "
                                "jwt_key in slurm.conf, when readable)"],
        ["access-log", None, None, "log each request as one JSON line (time, client, user, "
                                   "method, path, status, bytes, duration, Slurm RPCs) to "
                                   "this file, or - for standard output (default: no "
                                   "access log)"],
    ]

    def __init__(self):
        super().__init__()
        self["listen"] = []
        self["cors-origin"] = []
        self["metrics-listen"] = []
        self["limit"] = []

    def opt_limit(self, setting):
        """a server limit, name=value (repeatable): request_seconds (30), max_headers (100),
        max_head_bytes (16384), max_connections (4096), max_connections_per_address (256),
        max_in_flight_per_user (64), drain_seconds (60), retry_after_seconds (1)"""
        self["limit"].append(setting)

    def opt_cors_origin(self, origin):
        """a browser origin (scheme://host[:port]) that may call the API (repeatable;
        default: none, no CORS)"""
        if not re.fullmatch(r"https?://[^/\s]+", origin.rstrip("/")):
            raise usage.UsageError(f"--cors-origin {origin}: not an origin (scheme://host[:port])")
        self["cors-origin"].append(origin)

    def opt_metrics_listen(self, address):
        """serve /metrics on this address only (host:port or an endpoint string; repeatable;
        default: /metrics beside the API)"""
        self["metrics-listen"].append(address)

    def opt_listen(self, address):
        """host:port, [ipv6]:port, :port (all addresses) or a Twisted endpoint string (repeatable)"""
        self["listen"].append(address)

    opt_l = opt_listen

    def postOptions(self):
        if bool(self["tls-cert"]) != bool(self["tls-key"]):
            raise usage.UsageError("--tls-cert and --tls-key go together")
        if self["max-body-size"] < 0:
            raise usage.UsageError("--max-body-size must not be negative")
        if not self["listen"]:
            self["listen"] = list(DEFAULT_LISTEN)
        try:
            self["limits"] = DEFAULT_LIMITS.with_settings(self["limit"])
        except ValueError as e:
            raise usage.UsageError(f"--limit: {e}") from None


@dataclass(frozen=True)
class Address:
    """One interface address (``::`` for all of them) and a TCP port."""

    host: str
    port: int


@functools.cache
def endpoint_types() -> frozenset[str]:
    """The endpoint-string types Twisted knows: its built-in ones and its plugins' prefixes
    (``tcp:6820`` is an endpoint string, not host "tcp", port 6820)."""
    return frozenset({"tcp", "unix", "ssl"} | {
        parser.prefix for parser in getPlugins(IStreamServerEndpointStringParser)})


def listen_addresses(listen: str) -> list[Address] | None:
    """The addresses of a ``host:port``, ``[ipv6]:port`` or ``:port`` (all addresses) value of
    ``-l``; a host name gives each address it resolves to. None for an endpoint string."""
    host, colon, port = listen.rpartition(":")
    if not colon or not port.isdigit():
        return None
    if host.startswith("[") and host.endswith("]"):
        return [Address(_numeric(host[1:-1], socket.AF_INET6, listen), int(port))]
    if host == "":
        return [Address("::", int(port))]  # one dual-stack socket: IPv4 and IPv6
    if ":" in host or host in endpoint_types():
        return None
    return [Address(a, int(port)) for a in _resolve(host)]


def _numeric(host: str, family: int, listen: str) -> str:
    try:
        socket.inet_pton(family, host)
    except OSError:
        raise usage.UsageError(f"not an address: {listen!r}") from None
    return host


def _resolve(host: str) -> list[str]:
    """A numeric address as it is; a name → each address it resolves to (localhost → both)."""
    try:
        socket.inet_pton(socket.AF_INET, host)
        return [host]
    except OSError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise usage.UsageError(f"cannot resolve {host!r}: {e}") from None
    seen = []
    for family, _, _, _, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6) and sockaddr[0] not in seen:
            seen.append(sockaddr[0])
    return seen


def tls_context(cert_path: str, key_path: str):
    """pyOpenSSL options: TLS 1.2 at least, Twisted's modern cipher list, the chain sent."""
    from twisted.internet import ssl
    from twisted.internet.ssl import TLSVersion

    with open(cert_path, "rb") as f:
        pem = f.read()
    with open(key_path, "rb") as f:
        key = crypto.load_privatekey(crypto.FILETYPE_PEM, f.read())
    blocks = re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", pem, re.S)
    if not blocks:
        raise usage.UsageError(f"{cert_path}: no certificate in it")
    certs = [crypto.load_certificate(crypto.FILETYPE_PEM, b) for b in blocks]
    options = ssl.CertificateOptions(privateKey=key, certificate=certs[0],
                                     extraCertChain=certs[1:], raiseMinimumTo=TLSVersion.TLSv1_2)
    options.getContext()  # a key that does not match the certificate fails here, at start-up
    return options


class GatewayService(service.MultiService):
    """The listeners, and the heap frozen once everything long-lived is loaded."""

    def startService(self):
        super().startService()
        # Everything loaded so far (message tables, the OpenAPI document, the registry) lives
        # as long as the server: out of the collector's sight, a full collection takes
        # 0.1 ms instead of 18 (a pause every half second under load: the p99 latency).
        gc.collect()
        gc.freeze()

    #: Clients with connections of their own to close at stop (the slurmdbd client).
    clients: tuple = ()

    def stopService(self):
        gc.unfreeze()
        stopped = super().stopService()
        closing = [c.close() for c in self.clients if hasattr(c, "close")]
        if not closing:
            return stopped
        return defer.gatherResults([defer.maybeDeferred(lambda: stopped), *closing])


class Listener(service.Service):
    """``factory`` listening on ``endpoint``, from ``privilegedStartService`` on (before
    twistd sheds its privileges). ``listening`` fires with the ``IListeningPort``.

    An endpoint that fails while starting raises there, so that twistd stops at start-up
    rather than logging the error and serving on fewer addresses than it was asked to
    (what ``strports.service`` does, for endpoints that are not strings)."""

    def __init__(self, endpoint: IStreamServerEndpoint, factory):
        self.endpoint, self.factory = endpoint, factory
        self.listening: defer.Deferred | None = None

    def privilegedStartService(self):
        super().privilegedStartService()
        starting, failed = True, []

        def failure(reason):
            if starting:
                failed.append(reason)
            elif not reason.check(defer.CancelledError):
                log.failure("cannot listen on {endpoint}", reason, endpoint=self.endpoint)

        self.listening = self.endpoint.listen(self.factory)
        self.listening.addErrback(failure)
        starting = False
        if failed:
            failed[0].raiseException()

    def startService(self):
        super().startService()
        if self.listening is None:
            self.privilegedStartService()

    def stopService(self):
        super().stopService()
        if self.listening is None:
            return None
        self.listening.cancel()
        return self.listening.addCallback(lambda port: port and port.stopListening())


def token_minter(config, jwt_key: str | None):
    """The cluster's key, if we can read it: then we check tokens and mint them."""
    from slurmrest.wire.credentials import TokenMinter

    path = jwt_key or config.jwt_key_path
    if not path:
        return None
    try:
        return TokenMinter.from_file(path)
    except OSError:
        if jwt_key:  # asked for explicitly: that must work
            raise usage.UsageError(f"cannot read --jwt-key {jwt_key}") from None
        return None


def make_gateway(config, *, jwt_key=None, api_key_file=None, max_body_size=DEFAULT_MAX_BODY_SIZE,
                 reactor=None, ctld=None, dbd=None, cors_origins=(),
                 serve_metrics=True, limits=DEFAULT_LIMITS) -> Gateway:
    """The gateway for ``config``: its slurmctld client (``ctld``) and slurmdbd client
    (``dbd``, at slurm.conf's AccountingStorageHost/Port) unless they are given."""
    from slurmrest.wire.client import SlurmctldClient
    from slurmrest.wire.dbd_client import SlurmdbdClient

    minter = token_minter(config, jwt_key)
    api_keys = ()
    if api_key_file:
        try:
            api_keys = load_api_keys(api_key_file)
        except (OSError, ValueError) as e:
            raise usage.UsageError(str(e)) from None
        if minter is None:
            raise usage.UsageError("--api-key-file needs the cluster's jwt_key (--jwt-key) "
                                   "to mint the users' tokens")
    authenticator = Authenticator(minter, api_keys=api_keys,
                                  proxy_users=frozenset({"root", config.slurm_user}))
    load_operations()
    ctld = ctld if ctld is not None else SlurmctldClient(config, reactor)
    dbd = dbd if dbd is not None else SlurmdbdClient(config, reactor)
    gateway = Gateway(ctld, authenticator, max_body_size=max_body_size, dbd=dbd,
                      readiness=readiness(config, minter, ctld, dbd, reactor),
                      cors_origins=cors_origins, serve_metrics=serve_metrics,
                      limits=limits)
    for client in (ctld, dbd):
        observers = getattr(client, "observers", None)
        if observers is not None:
            observers.add(gateway.metrics.rpc_observed)
    return gateway


def readiness(config, minter, ctld, dbd, reactor=None):
    """/readyz's check, with a token of the SlurmUser's when we can mint one."""
    from slurmrest.api.health import Readiness

    user = config.slurm_user or "root"
    return Readiness(ctld, dbd, (lambda: minter.credential_for(user)) if minter else
                     (lambda: None), reactor=reactor)


def makeService(options) -> service.MultiService:
    from twisted.internet import reactor

    from slurmrest.wire.conf import ConfigError, SlurmConfig

    try:
        config = SlurmConfig.load(options["slurm-conf"])
    except (OSError, ConfigError) as e:
        raise usage.UsageError(f"cannot load slurm.conf: {e}") from None
    gateway = make_gateway(config, jwt_key=options["jwt-key"],
                           api_key_file=options["api-key-file"],
                           max_body_size=options["max-body-size"], reactor=reactor,
                           cors_origins=tuple(options["cors-origin"]),
                           serve_metrics=not options["metrics-listen"],
                           limits=options.get("limits") or DEFAULT_LIMITS)
    access_log = options["access-log"]
    if access_log not in (None, "-"):
        try:
            open(access_log, "a").close()  # a log that cannot be written fails at start-up
        except OSError as e:
            raise usage.UsageError(f"cannot write the access log: {e}") from None
    site = GatewaySite(gateway, access_log=access_log)
    tls = (options["tls-cert"], options["tls-key"]) if options["tls-cert"] else None
    try:
        context = tls_context(*tls) if tls else None
    except (OSError, ValueError, crypto.Error, SSL.Error) as e:
        raise usage.UsageError(f"cannot use the TLS certificate or key: {e}") from None
    top = GatewayService()
    top.clients = (gateway.dbd,)
    for listen in options["listen"]:
        for endpoint in listener_endpoints(reactor, listen, context,
                                           reuse_port=options["reuse-port"]):
            Listener(endpoint, site).setServiceParent(top)
    if options["metrics-listen"]:
        metrics_site = metrics_only_site(gateway)
        for listen in options["metrics-listen"]:
            for endpoint in listener_endpoints(reactor, listen):
                Listener(endpoint, metrics_site).setServiceParent(top)
    return top


def metrics_only_site(gateway):
    """A listener of the metrics' own: ``/metrics`` and nothing else."""
    from prometheus_client.twisted import MetricsResource
    from twisted.web import resource, server

    root = resource.Resource()
    root.putChild(b"metrics", MetricsResource(registry=gateway.metrics.registry))
    site = server.Site(root)
    site.noisy = False
    return site


def listener_endpoints(reactor, listen: str, context=None, reuse_port=False) -> list:
    """The server endpoints of one ``-l`` value. Addresses (``host:port``) are TLS-wrapped
    when ``context`` is given, and shared with other processes when ``reuse_port``;
    endpoint strings are Twisted's, taken as written."""
    addresses = listen_addresses(listen)
    if addresses is None:
        try:
            return [endpoints.serverFromString(reactor, listen)]
        except (ValueError, TypeError, OSError) as e:  # unknown type, bad argument, file
            raise usage.UsageError(f"-l {listen}: {e}") from None
        except IndexError:  # systemd:...:index=N beyond the sockets handed down
            raise usage.UsageError(f"-l {listen}: no such socket from systemd") from None
    return [address_endpoint(reactor, a, context, reuse_port) for a in addresses]


def address_endpoint(reactor, address: Address, context=None, reuse_port=False):
    if reuse_port:
        return ReusePortEndpoint(reactor, address.host, address.port, context)
    if context is not None:
        return endpoints.SSL4ServerEndpoint(reactor, address.port, context,
                                            interface=address.host)
    tcp = endpoints.TCP6ServerEndpoint if ":" in address.host else endpoints.TCP4ServerEndpoint
    return tcp(reactor, address.port, interface=address.host)


@implementer(IStreamServerEndpoint)
class ReusePortEndpoint:
    """A TCP listener with ``SO_REUSEPORT``: processes that all listen so on one address share
    it, and the kernel spreads new connections among them (Python runs one core per
    process; this is how a host's cores all serve)."""

    def __init__(self, reactor, host: str, port: int, context=None, backlog: int = 128):
        self.reactor, self.host, self.port = reactor, host, port
        self.context, self.backlog = context, backlog

    def listen(self, factory):
        return defer.execute(self._listen, factory)

    def _listen(self, factory):
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((self.host, self.port))
            sock.listen(self.backlog)
            sock.setblocking(False)
            if self.context is not None:
                from twisted.protocols.tls import TLSMemoryBIOFactory
                factory = TLSMemoryBIOFactory(self.context, False, factory)
            return self.reactor.adoptStreamPort(sock.fileno(), family, factory)
        except OSError as e:
            raise CannotListenError(self.host, self.port, e) from None
        finally:
            sock.close()  # the reactor holds its own copy of the descriptor
