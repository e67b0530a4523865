"""The parts of ``slurm.conf`` a client of slurmctld needs.

Syntax followed (Slurm's ``s_p_parse_file`` in ``src/common/parse_config.c``): keys are
case-insensitive, ``#`` starts a comment (``\\#`` is a literal ``#``), a line holds one or more
``Key=Value`` pairs separated by blanks, a value may be double-quoted, and ``include PATH``
reads another file (relative paths are taken from the directory of ``slurm.conf``; globs are
expanded). Lines that start a record (``NodeName=``, ``PartitionName=``, …) hold that record's
attributes, not global options; they are kept in ``records`` and do not leak into the options.

For scalar options the last occurrence wins, as in Slurm. ``SlurmctldHost`` may appear several
times: the first line is the primary controller, the others are backups in order.
"""

from __future__ import annotations

import glob
import os
import random
import shlex
from dataclasses import dataclass, field

DEFAULT_PATH = "/etc/slurm/slurm.conf"
DEFAULT_SLURMCTLD_PORT = 6817
DEFAULT_DBD_PORT = 6819
DEFAULT_MESSAGE_TIMEOUT = 10
DEFAULT_STATE_SAVE_LOCATION = "/var/spool/slurmctld"
JWT_KEY_FILE_NAME = "jwt_hs256.key"

# Keys whose line is a record of its own (the rest of the line are its attributes).
RECORD_KEYS = frozenset({"nodename", "partitionname", "downnodes", "frontendname", "nodeset"})
MAX_INCLUDE_DEPTH = 16


class ConfigError(Exception):
    """slurm.conf cannot be read or lacks what a client needs."""


@dataclass(frozen=True)
class Controller:
    """One ``SlurmctldHost`` entry: index 0 is the primary, the others are backups."""

    name: str
    address: str
    port: int


@dataclass(frozen=True)
class AuthAltParameters:
    """``AuthAltParameters``: where the JWT keys live (§2.3 of the protocol reference)."""

    jwt_key: str | None = None
    jwks: str | None = None
    disable_token_creation: bool = False
    max_token_lifespan: int | None = None
    options: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class SlurmConfig:
    """What a client of slurmctld needs from ``slurm.conf``."""

    path: str
    controllers: tuple[Controller, ...]
    port_range: tuple[int, int]
    cluster_name: str | None = None
    message_timeout: int = DEFAULT_MESSAGE_TIMEOUT
    auth_type: str | None = None
    auth_alt_types: tuple[str, ...] = ()
    auth_alt_parameters: AuthAltParameters = AuthAltParameters()
    accounting_storage_host: str | None = None
    accounting_storage_port: int = DEFAULT_DBD_PORT
    state_save_location: str = DEFAULT_STATE_SAVE_LOCATION
    slurm_user: str = "root"
    slurmctld_addr: str | None = None
    options: dict = field(default_factory=dict, repr=False, compare=False)
    records: tuple = field(default=(), repr=False, compare=False)

    @classmethod
    def load(cls, path: str | None = None) -> "SlurmConfig":
        """Read ``path``, else ``$SLURM_CONF``, else ``/etc/slurm/slurm.conf``."""
        path = path or os.environ.get("SLURM_CONF") or DEFAULT_PATH
        options, records, hosts = {}, [], []
        _read_file(path, os.path.dirname(os.path.abspath(path)), options, records, hosts, 0)
        return cls.from_options(path, options, records, hosts)

    @classmethod
    def from_text(cls, text: str, path: str = "<text>") -> "SlurmConfig":
        """Parse configuration text (``include`` lines relative to the directory of ``path``)."""
        options, records, hosts = {}, [], []
        base = os.path.dirname(os.path.abspath(path)) if path != "<text>" else os.getcwd()
        _parse_lines(text.splitlines(), path, base, options, records, hosts, 0)
        return cls.from_options(path, options, records, hosts)

    @classmethod
    def from_options(cls, path, options, records=(), hosts=()) -> "SlurmConfig":
        port_range = _port_range(options.get("slurmctldport"))
        # Slurm's clients pick one port of the range per process:
        # port + (time(NULL) + getpid()) % count in _slurm_api_get_comm_config().
        port = port_range[0] + random.randrange(port_range[1] - port_range[0] + 1)
        controllers = tuple(
            Controller(name, address, port) for name, address in _controller_hosts(options, hosts)
        )
        if not controllers:
            raise ConfigError(f"{path}: no SlurmctldHost (or ControlMachine) configured")
        state_save = options.get("statesavelocation") or DEFAULT_STATE_SAVE_LOCATION
        return cls(
            path=path,
            controllers=controllers,
            port_range=port_range,
            cluster_name=options.get("clustername"),
            message_timeout=_integer(options, "messagetimeout", DEFAULT_MESSAGE_TIMEOUT),
            auth_type=options.get("authtype"),
            auth_alt_types=tuple(_split_list(options.get("authalttypes"))),
            auth_alt_parameters=_auth_alt_parameters(
                options.get("authaltparameters"), state_save
            ),
            accounting_storage_host=options.get("accountingstoragehost"),
            accounting_storage_port=_integer(options, "accountingstorageport", DEFAULT_DBD_PORT),
            state_save_location=state_save,
            slurm_user=options.get("slurmuser") or "root",
            slurmctld_addr=options.get("slurmctldaddr"),
            options=dict(options),
            records=tuple(records),
        )

    @property
    def jwt_key_path(self) -> str | None:
        """The HS256 key file slurmctld loads, or None (a JWKS without ``jwt_key``)."""
        return self.auth_alt_parameters.jwt_key

    @property
    def jwt_enabled(self) -> bool:
        """Whether slurmctld accepts auth/jwt credentials."""
        return "auth/jwt" in self.auth_alt_types or self.auth_type == "auth/jwt"

    def get(self, key: str, default=None):
        """Any global option by its (case-insensitive) name."""
        return self.options.get(key.lower(), default)


def _read_file(path, base, options, records, hosts, depth):
    if depth > MAX_INCLUDE_DEPTH:
        raise ConfigError(f"{path}: include nesting deeper than {MAX_INCLUDE_DEPTH}")
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}") from None
    _parse_lines(lines, path, base, options, records, hosts, depth)


def _parse_lines(lines, path, base, options, records, hosts, depth):
    pending = ""
    for number, raw in enumerate(lines, 1):
        line = _strip_comment(raw)
        # A trailing backslash continues the line.
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if not line:
            continue
        if line[:8].lower() == "include " or line[:8].lower() == "include\t":
            _include(line[8:].strip(), path, base, options, records, hosts, depth)
            continue
        pairs = _pairs(line, path, number)
        if not pairs:
            continue
        first_key = pairs[0][0].lower()
        if first_key == "slurmctldhost":
            hosts.extend(value for key, value in pairs if key.lower() == "slurmctldhost")
            continue
        if first_key in RECORD_KEYS:
            records.append({key.lower(): value for key, value in pairs})
            continue
        for key, value in pairs:
            if key.lower() == "slurmctldhost":
                hosts.append(value)
            else:
                options[key.lower()] = value


def _include(target, path, base, options, records, hosts, depth):
    target = target.strip('"')
    if not os.path.isabs(target):
        target = os.path.join(base, target)
    matches = sorted(glob.glob(target)) if glob.has_magic(target) else [target]
    for match in matches:
        _read_file(match, base, options, records, hosts, depth + 1)


def _strip_comment(line):
    out, i = [], 0
    while i < len(line):
        c = line[i]
        if c == "\\" and line[i + 1 : i + 2] == "#":
            out.append("#")
            i += 2
            continue
        if c == "#":
            break
        out.append(c)
        i += 1
    return "".join(out)


def _pairs(line, path, number):
    lexer = shlex.shlex(line, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    lexer.escape = ""
    try:
        words = list(lexer)
    except ValueError as e:
        raise ConfigError(f"{path}:{number}: {e}") from None
    pairs = []
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise ConfigError(f"{path}:{number}: expected Key=Value, got {word!r}")
        pairs.append((key, value))
    return pairs


def _split_host(value):
    """``name`` or ``name(address)``."""
    value = value.strip()
    if value.endswith(")") and "(" in value:
        name, _, address = value[:-1].partition("(")
        return name.strip(), address.strip()
    return value, value


def _controller_hosts(options, hosts):
    if hosts:
        return [_split_host(h) for h in hosts if h.strip()]
    # Legacy spelling (before 18.08): ControlMachine/ControlAddr, BackupController/BackupAddr.
    found = []
    machine = options.get("controlmachine")
    if machine:
        name = machine.split(",")[0].strip()
        address = (options.get("controladdr") or name).split(",")[0].strip()
        found.append((name, address))
    backup = options.get("backupcontroller")
    if backup:
        found.append((backup.strip(), (options.get("backupaddr") or backup).strip()))
    return found


def _port_range(value):
    if not value:
        return (DEFAULT_SLURMCTLD_PORT, DEFAULT_SLURMCTLD_PORT)
    low, sep, high = value.partition("-")
    try:
        low_port = int(low)
        high_port = int(high) if sep else low_port
    except ValueError:
        raise ConfigError(f"SlurmctldPort: not a port or port range: {value!r}") from None
    if not 0 < low_port <= high_port <= 65535:
        raise ConfigError(f"SlurmctldPort: invalid port range: {value!r}")
    return (low_port, high_port)


def _integer(options, key, default):
    value = options.get(key)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{key}: not an integer: {value!r}") from None


def _split_list(value):
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _auth_alt_parameters(value, state_save_location):
    options = {}
    for item in _split_list(value):
        key, sep, val = item.partition("=")
        options[key.strip().lower()] = val.strip() if sep else True
    jwks = options.get("jwks") if isinstance(options.get("jwks"), str) else None
    jwt_key = options.get("jwt_key") if isinstance(options.get("jwt_key"), str) else None
    if jwt_key is None and jwks is None:
        # auth_jwt.c: the HS256 key defaults to <StateSaveLocation>/jwt_hs256.key.
        jwt_key = os.path.join(state_save_location, JWT_KEY_FILE_NAME)
    max_lifespan = options.get("max_token_lifespan")
    try:
        max_lifespan = int(max_lifespan) if isinstance(max_lifespan, str) else None
    except ValueError:
        max_lifespan = None
    return AuthAltParameters(
        jwt_key=jwt_key,
        jwks=jwks,
        disable_token_creation=bool(options.get("disable_token_creation")),
        max_token_lifespan=max_lifespan,
        options=options,
    )
