"""``slurmrest``: one HTTP/1.1 conversation over stdin/stdout (inet mode).

For scripts, inetd and systemd socket activation (``Accept=yes``)::

    printf 'GET /slurm/v1/diag HTTP/1.1\\r\\nAccept: */*\\r\\n\\r\\n' | slurmrest

Pipelined requests are answered in order; the process exits once stdin is closed and every
answer is written. The caller is the process user (as slurmrestd's rest_auth/local): its
token comes from ``$SLURM_JWT`` if set, else is minted with the cluster's ``jwt_key`` (which
must then be readable: root or SlurmUser).
"""

from __future__ import annotations

import os
import pwd
import socket
import stat
import sys

from twisted.internet import stdio
from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.python import usage
from zope.interface import implementer

from slurmrest.web.channel import GatewayChannel, GatewaySite, socket_peer_user
from slurmrest.web.gateway import DEFAULT_MAX_BODY_SIZE


class Options(usage.Options):
    synopsis = "Usage: slurmrest [-f slurm.conf] [--jwt-key FILE] < requests > answers"
    longdesc = ("One HTTP/1.1 conversation over stdin/stdout, as the process user (inetd, "
                "systemd socket activation with Accept=yes, scripts).")
    optParameters = [
        ["slurm-conf", "f", None, "slurm.conf to use (default: $SLURM_CONF, else "
                                  "/etc/slurm/slurm.conf)"],
        ["jwt-key", None, None, "the cluster's HS256 jwt_key (default: from slurm.conf)"],
        ["max-body-size", None, DEFAULT_MAX_BODY_SIZE, "largest request body, bytes", int],
    ]


@implementer(IHalfCloseableProtocol)
class InetChannel(GatewayChannel):
    """An HTTP channel on stdin/stdout that finishes its work after stdin closes."""

    _input_closed = False

    def readConnectionLost(self):
        self._input_closed = True
        self._maybe_finish()

    def writeConnectionLost(self):
        self.transport.loseConnection()

    def requestDone(self, request):
        super().requestDone(request)
        self._maybe_finish()

    def _maybe_finish(self):
        if self._input_closed and not self.requests and not self._dataBuffer:
            self.transport.loseConnection()

    def connectionLost(self, reason):
        super().connectionLost(reason)
        if self.on_close is not None:
            self.on_close()

    on_close = None


def local_credential_source(minter):
    """How the process user's credential is made: ``$SLURM_JWT``, else minted."""
    from slurmrest.wire.credentials import Credential

    token = os.environ.get("SLURM_JWT")
    if token and token != "daemon":
        # The token says whom it is for; slurmctld checks it, we only read the name.
        return lambda user: Credential(token, token_owner(token) or user)
    if minter is not None:
        return minter.credential_for
    return None


def token_owner(token: str) -> str | None:
    import jwt

    from slurmrest.wire.credentials import token_user
    try:
        return token_user(jwt.decode(token, options={"verify_signature": False}))
    except jwt.PyJWTError:
        return None


def stdin_user(process_user: str) -> str | None:
    """Who is at the other end of stdin: a pipe or terminal is the process user itself; a
    UNIX socket (systemd ``Accept=yes``) is its peer (SO_PEERCRED); a network socket is
    nobody we know, so such a caller must send credentials like any HTTP client."""
    if not stat.S_ISSOCK(os.fstat(0).st_mode):
        return process_user
    with socket.socket(fileno=os.dup(0)) as sock:
        return socket_peer_user(sock)


def make_channel(options, reactor=None) -> InetChannel:
    from slurmrest import tap
    from slurmrest.web.auth import Authenticator
    from slurmrest.wire.conf import SlurmConfig

    config = SlurmConfig.load(options["slurm-conf"])
    user = stdin_user(pwd.getpwuid(os.getuid()).pw_name)
    minter = tap.token_minter(config, options["jwt-key"])
    source = local_credential_source(minter)
    if source is None and user is not None:
        raise usage.UsageError(
            f"cannot act as {user}: set SLURM_JWT (scontrol token) or run as a user who can "
            f"read the cluster's jwt_key ({options['jwt-key'] or config.jwt_key_path})")
    gateway = tap.make_gateway(config, jwt_key=options["jwt-key"],
                               max_body_size=options["max-body-size"], reactor=reactor)
    gateway.authenticator = Authenticator(
        minter, proxy_users=frozenset({"root", config.slurm_user}), local_credential=source)
    site = GatewaySite(gateway)
    channel = InetChannel()
    channel.site = site
    channel.requestFactory = site.requestFactory
    channel.local_user = user
    channel.timeOut = None
    return channel


def _log_problems_to_stderr() -> None:
    """stdout carries the HTTP answers: warnings and failures go to stderr, nothing else."""
    from twisted.logger import (FilteringLogObserver, LogLevel, LogLevelFilterPredicate,
                                globalLogBeginner, textFileLogObserver)

    observer = FilteringLogObserver(textFileLogObserver(sys.stderr),
                                    [LogLevelFilterPredicate(defaultLogLevel=LogLevel.warn)])
    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)


def main(argv=None) -> int:
    from twisted.internet import reactor

    options = Options()
    try:
        options.parseOptions(sys.argv[1:] if argv is None else argv)
        channel = make_channel(options, reactor)
    except (usage.UsageError, OSError) as e:
        print(f"slurmrest: {e}", file=sys.stderr)
        return 2
    _log_problems_to_stderr()
    channel.on_close = lambda: reactor.callLater(0, reactor.stop) if reactor.running else None
    stdio.StandardIO(channel, reactor=reactor)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
