"""A version's named RPCs (``SlurmVersion.rpcs``) compiled into client methods.

Each ``Rpc`` becomes one plain function ``name(client, credential, <params>)`` with the
declared signature and defaults, which builds the request body inline, awaits
``client.call`` and checks the reply type: as fast as a hand-written method, and the same
Python argument rules (positional or keyword, missing or unknown arguments are TypeErrors).
Compiled once per version, on first use.
"""

from __future__ import annotations

import linecache
from collections.abc import Mapping

from slurmrest.wire.errors import ProtocolError
from slurmrest.wire.msgtypes import MsgType
from slurmrest.wire.versions import REQUIRED, Arg, Rpc, SlurmVersion

__all__ = ["methods_of", "return_code", "unexpected"]

_RC_TYPES = (MsgType.RESPONSE_SLURM_RC, MsgType.RESPONSE_SLURM_RC_MSG)
_LITERALS = (int, str, bool, float, type(None))
_COMPILED: dict[SlurmVersion, dict] = {}


def methods_of(version: SlurmVersion) -> dict:
    """``{name: function(client, credential, ...)}`` for every named RPC of ``version``."""
    methods = _COMPILED.get(version)
    if methods is None:
        methods = _COMPILED[version] = {name: _compile(rpc) for name, rpc in
                                        version.rpcs.items()}
    return methods


def return_code(message):
    """The return code of an RC reply (None for other replies), as the C int it is."""
    if message.msg_type not in _RC_TYPES:
        return None
    rc = message.body["return_code"]
    return rc - (1 << 32) if rc >= 1 << 31 else rc  # a C int sent as u32 (-1 = SLURM_ERROR)


def _replies_now(client, name):
    """The replies to RPC ``name`` in the release ``client`` speaks now."""
    version = getattr(client, "slurm_version", None)
    return version.rpcs[name].replies if version is not None else ()


def unexpected(message, msg_type):
    try:
        got = MsgType(message.msg_type).name
    except ValueError:
        got = str(message.msg_type)
    return ProtocolError(f"expected {MsgType(msg_type).name}, slurmctld sent {got}")


class _Source:
    """The source of one function being generated, and the names it refers to."""

    def __init__(self):
        self.ns = {"_unexpected": unexpected, "_return_code": return_code,
                   "_replies_now": _replies_now}

    def const(self, value, hint):
        if type(value) in _LITERALS:  # (a MsgType is not: it keeps its name)
            return repr(value)
        name = f"_{hint}{len(self.ns)}"
        self.ns[name] = value
        return name

    def value(self, template):
        """A Python expression building ``template`` afresh (its ``Arg``s are parameters)."""
        if isinstance(template, Arg):
            if template.convert is None:
                return template.name
            return f"{self.const(template.convert, 'convert')}({template.name})"
        if isinstance(template, Mapping):
            items = ", ".join(f"{key!r}: {self.value(v)}" for key, v in template.items())
            return "{" + items + "}"
        return self.const(template, "k")


def _compile(rpc: Rpc):
    src = _Source()
    params = []
    for name, default in rpc.params:
        params.append(name if default is REQUIRED else f"{name}={src.const(default, 'd')}")
    request = src.const(rpc.request, "request")
    body = src.value(rpc.body)
    options = [f"shareable={src.value(rpc.shareable)}"]
    if rpc.controller is not None:
        options.append(f"controller={src.value(rpc.controller)}")
    first = src.const(rpc.replies[0], "reply")
    if len(rpc.replies) == 1:
        check = f"if message.msg_type != {first}:"
    else:
        check = f"if message.msg_type not in {src.const(frozenset(rpc.replies), 'replies')}:"
    result = {"body": "message.body", "message": "message",
              "return_code": "_return_code(message)"}[rpc.result]
    lines = [
        f"async def {rpc.name}(client, credential{''.join(', ' + p for p in params)}):",
        f"    message = await client.call({request}, {body}, credential, "
        f"{', '.join(options)})",
        f"    {check}",
        # The client may have learnt another release during this very call (its first):
        # that release's replies to the same RPC are right too.
        f"        if message.msg_type not in _replies_now(client, {rpc.name!r}):",
        f"            raise _unexpected(message, {first})",
        f"    return {result}",
    ]
    source = "\n".join(lines) + "\n"
    filename = f"<slurmrest.wire.methods {rpc.name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), src.ns)  # tracebacks show the generated line
    function = src.ns[rpc.name]
    function.__qualname__ = f"SlurmctldClient.{rpc.name}"
    function.__doc__ = rpc.doc or (f"``{MsgType(rpc.request).name}``: the "
                                   f"{'reply body' if rpc.result == 'body' else rpc.result}"
                                   f" of ``{MsgType(rpc.replies[0]).name}``.")
    function.source = source
    return function
