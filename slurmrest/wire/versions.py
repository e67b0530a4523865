"""What differs between Slurm releases, as data.

A ``SlurmVersion`` bundles one release's protocol number, the fixed start of its message
header, its message body tables, its named RPCs (which request, which replies answer it,
how a method's arguments fill the request body, with the defaults libslurm sends), its
enums, and its slurmdbd tables (``DbdTables``). ``slurmrest.wire.tables`` holds the list of
known versions, one module per release; a client (of slurmctld or of slurmdbd) picks one of
them.
"""

from __future__ import annotations

from types import MappingProxyType, ModuleType
from typing import Callable, Mapping, NamedTuple

from slurmrest.wire.schema import Struct

__all__ = ["SlurmVersion", "DbdTables", "Rpc", "Arg", "REQUIRED"]

#: A parameter without a default (the caller must pass it).
REQUIRED = object()
#: ``SlurmVersion.derive(dbd=...)``'s default: the slurmdbd tables of the release derived from.
INHERIT = object()


class Arg(NamedTuple):
    """Stands for a method argument in an ``Rpc`` declaration (its body, ``shareable`` or
    ``controller``), optionally passed through ``convert`` first (e.g. ``int``)."""

    name: str
    convert: Callable | None = None


class Rpc(NamedTuple):
    """One named RPC: a client method ``name(credential, *params)``.

    ``params``: ``(name, default)`` pairs in call order (``REQUIRED``: no default).
    ``body``: the request body, a dict whose values may be ``Arg``s (nested dicts too), or a
    single ``Arg`` whose value is the whole body. ``replies``: the reply types that answer
    it. ``result``: what the method returns: ``"body"`` (the reply's decoded body),
    ``"message"`` (the whole reply ``Message``) or ``"return_code"`` (of an RC reply).
    ``shareable``: whether identical concurrent calls may share one RPC (``True``,
    ``False`` or an ``Arg``). ``controller``: an ``Arg`` naming the controller index to talk
    to (no failover), or None for the usual order.
    """

    name: str
    request: int
    replies: tuple
    params: tuple = ()
    body: object = MappingProxyType({})
    result: str = "body"
    shareable: object = True
    controller: Arg | None = None
    doc: str | None = None


class DbdTables:
    """One release's slurmdbd messages: the REQUEST_PERSIST_INIT body (``persist_init``),
    the request and reply bodies by message type (``requests``, ``replies``), which reply
    answers which request besides PERSIST_RC (``reply_to``) and the requests that change
    the database (``writes``: only after these does DBD_FINI commit), and the "no change"
    records of the MODIFY requests by kind (``no_change``: ``{"qos": {...}}``)."""

    def __init__(self, name: str, protocol: int, *, persist_init: Struct,
                 requests: Mapping[int, Struct], replies: Mapping[int, Struct],
                 reply_to: Mapping[int, int], writes: frozenset,
                 no_change: Mapping[str, dict] | None = None):
        self.name = name
        self.protocol = protocol
        self.persist_init = persist_init
        self.requests = MappingProxyType(dict(requests))
        self.replies = MappingProxyType(dict(replies))
        self.reply_to = MappingProxyType(dict(reply_to))
        self.writes = frozenset(writes)
        self.no_change = MappingProxyType(dict(no_change or {}))
        missing = [t for t in self.reply_to.values() if t not in self.replies]
        missing += [t for t in (*self.reply_to, *self.writes) if t not in self.requests]
        if missing:
            raise TypeError(f"{name}: slurmdbd messages without a table: {missing}")

    def __repr__(self):
        return f"DbdTables({self.name!r}, 0x{self.protocol:04x})"

    def derive(self, name: str, protocol: int, *, persist_init: Struct | None = None,
               requests: Mapping | None = None, replies: Mapping | None = None,
               reply_to: Mapping | None = None, writes: frozenset | None = None,
               no_change: Mapping | None = None) -> "DbdTables":
        """The next release's tables: ``requests``, ``replies``, ``reply_to`` and
        ``no_change`` update this one's; ``writes``, if given, replaces it."""
        return DbdTables(
            name, protocol,
            persist_init=persist_init if persist_init is not None else self.persist_init,
            requests={**self.requests, **(requests or {})},
            replies={**self.replies, **(replies or {})},
            reply_to={**self.reply_to, **(reply_to or {})},
            writes=writes if writes is not None else self.writes,
            no_change={**self.no_change, **(no_change or {})})


class SlurmVersion:
    """One Slurm release as the wire sees it (``dbd``: its slurmdbd tables, or None;
    ``forward``: the header's forward block when ``forward.cnt`` is not 0)."""

    def __init__(self, name: str, protocol: int, header: Struct,
                 bodies: Mapping[int, Struct | None], rpcs: tuple[Rpc, ...],
                 enums: ModuleType, dbd: DbdTables | None = None,
                 forward: Struct | None = None):
        self.name = name
        self.protocol = protocol
        #: The header's fixed fields up to ``body_length`` (forward, ret_list and orig_addr
        #: that follow are read by ``protocol``).
        self.header = header
        self.bodies = MappingProxyType(dict(bodies))
        self.rpcs = MappingProxyType({rpc.name: rpc for rpc in rpcs})
        if len(self.rpcs) != len(rpcs):
            raise TypeError(f"{name}: two named RPCs share a name")
        self.enums = enums
        self.dbd = dbd
        self.forward = forward
        #: Request types that change nothing: identical concurrent ones may share one RPC.
        self.read_types = frozenset(r.request for r in rpcs if r.shareable is True)

    def __repr__(self):
        return f"SlurmVersion({self.name!r}, 0x{self.protocol:04x})"

    def derive(self, name: str, protocol: int, *, header: Struct | None = None,
               bodies: Mapping | None = None, rpcs: Mapping[str, Rpc | None] | None = None,
               enums: ModuleType | None = None, dbd: DbdTables | None = INHERIT,
               forward: Struct | None = None) -> "SlurmVersion":
        """The next release: what it changes, the rest as in this one. ``bodies`` and
        ``rpcs`` are updates (a value of None drops an RPC; a body of None is bodiless);
        ``dbd``: its slurmdbd tables (``self.dbd.derive(...)``; None: none yet)."""
        table = dict(self.rpcs)
        for rpc_name, rpc in (rpcs or {}).items():
            if rpc is None:
                table.pop(rpc_name, None)
            else:
                table[rpc_name] = rpc
        return SlurmVersion(name, protocol, header if header is not None else self.header,
                            {**self.bodies, **(bodies or {})}, tuple(table.values()),
                            enums if enums is not None else self.enums,
                            self.dbd if dbd is INHERIT else dbd,
                            forward if forward is not None else self.forward)
