"""``twistd slurmrest``: options, listeners and the service tree.

One ``StreamServerEndpointService`` per listening address under one ``MultiService`` (as
``twisted.web.tap`` does). Sockets are bound in ``privilegedStartService``; ``-u``/``-g``
drop privileges right after, so a root-started server can listen on 443 and read the
cluster's ``jwt_key`` (read at start-up) yet run as someone else.
"""

from __future__ import annotations

import gc
import grp
import os
import pwd
import re
import socket

from OpenSSL import SSL, crypto
from twisted.application import service
from twisted.application.internet import StreamServerEndpointService
from twisted.internet import defer, endpoints
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IStreamServerEndpoint
from twisted.python import usage
from zope.interface import implementer

from slurmrest.api.registry import load_operations
from slurmrest.web.auth import Authenticator, load_api_keys
from slurmrest.web.channel import GatewaySite
from slurmrest.web.gateway import DEFAULT_MAX_BODY_SIZE, Gateway

DEFAULT_LISTEN = ("127.0.0.1:6820", "[::1]:6820")

#: Endpoint-string types taken as written (``tcp:6820`` is not host "tcp", port 6820).
ENDPOINT_TYPES = frozenset({"tcp", "tcp6", "ssl", "unix", "systemd", "tls", "onion", "le", "lets"})

_V6 = re.compile(r"^\[([^\]]+)\]:(\d+)$")
_HOST_PORT = re.compile(r"^([^:\[\]]*):(\d+)$")


class Options(usage.Options):
    synopsis = "[options]"
    optFlags = [
        ["reuse-port", None, "listen on host:port addresses with SO_REUSEPORT, so that several "
                             "slurmrest processes (one per core) share them; the kernel spreads "
                             "the connections"],
    ]
    longdesc = ("A REST gateway to Slurm (slurmrestd 22.05 compatible). Listens on "
                "127.0.0.1:6820 and [::1]:6820 unless told otherwise with -l.")
    optParameters = [
        ["slurm-conf", "f", None, "slurm.conf to use (default: $SLURM_CONF, else "
                                  "/etc/slurm/slurm.conf)"],
        ["tls-cert", None, None, "PEM certificate (chain): serve every host:port listener "
                                 "over TLS 1.2+"],
        ["tls-key", None, None, "PEM private key of --tls-cert"],
        ["user", "u", None, "user to run as once the sockets are bound"],
        ["group", "g", None, "group to run as once the sockets are bound"],
        ["api-key-file", None, None, "keys of authenticating proxies, one per line "
                                     "(# comments); must not be readable by others"],
        ["max-body-size", None, DEFAULT_MAX_BODY_SIZE, "largest request body, bytes", int],
        ["jwt-key", None, None, "the cluster's HS256 jwt_key (default: AuthAltParameters' "
                                "jwt_key in slurm.conf, when readable)"],
        ["access-log", None, None, "log each request line (client, time, request, status, "
                                   "bytes) to this file, or - for standard output "
                                   "(default: no access log)"],
    ]

    def __init__(self):
        super().__init__()
        self["listen"] = []

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


def endpoint_descriptions(listen: str) -> list[str]:
    """The endpoint strings for one ``-l`` value (a host name may give several addresses)."""
    head = listen.split(":", 1)[0]
    if head in ENDPOINT_TYPES or "=" in listen:
        return [listen]
    m = _V6.match(listen)
    if m:
        hosts, port = [m.group(1)], m.group(2)
    else:
        m = _HOST_PORT.match(listen)
        if not m:
            raise usage.UsageError(f"not an address or endpoint: {listen!r}")
        host, port = m.groups()
        hosts = ["::"] if host == "" else _addresses(host)
    out = []
    for host in hosts:
        kind = "tcp6" if ":" in host else "tcp"
        interface = host.replace(":", r"\:")  # endpoint strings escape their colons
        out.append(f"{kind}:{port}:interface={interface}")
    return out


def _addresses(host: str) -> list[str]:
    """A numeric address as it is; a name → each address it resolves to (localhost → both)."""
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
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
    """The listeners; after binding them (as root, maybe), become ``uid``/``gid``."""

    def __init__(self, uid: int | None = None, gid: int | None = None):
        super().__init__()
        self.uid, self.gid = uid, gid

    def privilegedStartService(self):
        super().privilegedStartService()
        self.drop_privileges()

    def startService(self):
        super().startService()
        # Everything loaded so far (message tables, the OpenAPI document, the registry) lives
        # as long as the server: out of the collector's sight, a full collection takes
        # 0.1 ms instead of 18 (a pause every half second under load: the p99 latency).
        gc.collect()
        gc.freeze()

    def stopService(self):
        gc.unfreeze()
        return super().stopService()

    def drop_privileges(self):
        if self.gid is not None:
            os.setgroups([self.gid])
            os.setgid(self.gid)
        if self.uid is not None:
            if self.gid is None:
                os.setgid(pwd.getpwuid(self.uid).pw_gid)
                os.initgroups(pwd.getpwuid(self.uid).pw_name, pwd.getpwuid(self.uid).pw_gid)
            os.setuid(self.uid)


def _uid(name: str | None) -> int | None:
    if name is None:
        return None
    try:
        return int(name) if name.isdigit() else pwd.getpwnam(name).pw_uid
    except KeyError:
        raise usage.UsageError(f"no such user: {name}") from None


def _gid(name: str | None) -> int | None:
    if name is None:
        return None
    try:
        return int(name) if name.isdigit() else grp.getgrnam(name).gr_gid
    except KeyError:
        raise usage.UsageError(f"no such group: {name}") from None


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
                 reactor=None, ctld=None) -> Gateway:
    """The gateway for ``config``: its slurmctld client (``ctld``) unless one is given."""
    from slurmrest.wire.client import SlurmctldClient

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
    return Gateway(ctld if ctld is not None else SlurmctldClient(config, reactor),
                   authenticator, max_body_size=max_body_size)


def makeService(options) -> service.MultiService:
    from twisted.internet import reactor

    from slurmrest.wire.conf import ConfigError, SlurmConfig

    try:
        config = SlurmConfig.load(options["slurm-conf"])
    except (OSError, ConfigError) as e:
        raise usage.UsageError(f"cannot load slurm.conf: {e}") from None
    gateway = make_gateway(config, jwt_key=options["jwt-key"],
                           api_key_file=options["api-key-file"],
                           max_body_size=options["max-body-size"], reactor=reactor)
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
    top = GatewayService(_uid(options["user"]), _gid(options["group"]))
    for listen in options["listen"]:
        for endpoint in listener_endpoints(reactor, listen, context,
                                           reuse_port=options["reuse-port"]):
            svc = StreamServerEndpointService(endpoint, site)
            svc._raiseSynchronously = True  # a port that cannot be bound stops the start
            svc.setServiceParent(top)
    return top


def listener_endpoints(reactor, listen: str, context=None, reuse_port=False) -> list:
    """The server endpoints of one ``-l`` value. Addresses (``host:port``) are TLS-wrapped
    when ``context`` is given, and shared with other processes when ``reuse_port``;
    endpoint strings are used as written."""
    descriptions = endpoint_descriptions(listen)
    if reuse_port and _is_address(listen):
        return [ReusePortEndpoint(reactor, *_address_of(d), context) for d in descriptions]
    if context is None or descriptions == [listen] and not _is_address(listen):
        return [endpoints.serverFromString(reactor, d) for d in descriptions]
    return [_tls_endpoint(reactor, d, context) for d in descriptions]


def _address_of(description: str) -> tuple[str, int]:
    """``tcp[6]:PORT:interface=ADDR`` → (ADDR, PORT)."""
    m = re.match(r"^tcp6?:(\d+):interface=(.*)$", description)
    return m.group(2).replace(r"\:", ":"), int(m.group(1))


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


def _is_address(listen: str) -> bool:
    return bool(_V6.match(listen) or (_HOST_PORT.match(listen)
                                      and listen.split(":", 1)[0] not in ENDPOINT_TYPES))


def _tls_endpoint(reactor, description: str, context):
    """``tcp[6]:PORT:interface=ADDR`` → the same address, TLS-wrapped with ``context``."""
    interface, port = _address_of(description)
    return endpoints.SSL4ServerEndpoint(reactor, port, context, interface=interface)
