"""Frames of slurmdbd's persistent connection (§1.3, §2.1 of the dbd protocol reference).

The first frame is the only one with a Slurm header and a credential: REQUEST_PERSIST_INIT,
whose header starts with an extra u16 message type ("the DBD always unpacks the message type
first"). Every other frame, both ways, is bare: ``u32 length`` (not counting itself),
``u16 msg_type``, body. ``encode*`` return one whole frame, ready for a single ``write``.
Bodies come from a release's ``DbdTables`` (``tables``; the newest release's by default).
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from slurmrest.wire import primitives as P
from slurmrest.wire.dbd_msgtypes import DbdMsgType
from slurmrest.wire.errors import ProtocolError
# Without ``tables``: the release an unlearnt client offers first (the oldest we have).
from slurmrest.wire.tables import FIRST_DBD as DEFAULT

_U32 = struct.Struct(">I")
_U16 = struct.Struct(">H")
# DBD msg_type prefix, version, flags, msg_type, body_length, forward.cnt, ret_cnt, family.
_INIT_HEADER = struct.Struct(">HHHHIHHH")
_INIT_FLAGS = P.SLURM_GLOBAL_AUTH_KEY | P.SLURMDBD_CONNECTION
PERSIST_TYPE_DBD = 1
# What a reply may be at most: slurmdbd's own frame limit (MAX_MSG_SIZE, 1 GiB).
MAX_FRAME = P.MAX_MSG_SIZE


class DbdMessage(NamedTuple):
    msg_type: int
    body: dict


def encode_init(credential, cluster_name, tables=None) -> bytes:
    """REQUEST_PERSIST_INIT with the auth/jwt credential (token, user name), in the
    protocol of ``tables``."""
    tables = tables or DEFAULT.dbd
    version = tables.protocol
    body = tables.persist_init.pack({
        "version": version, "cluster_name": cluster_name,
        "persist_type": PERSIST_TYPE_DBD, "port": 0})
    auth = (_U32.pack(P.AUTH_PLUGIN_JWT) + P.pack_str(credential.token)
            + P.pack_str(credential.user_name))
    init = int(DbdMsgType.SLURM_PERSIST_INIT)
    header = _INIT_HEADER.pack(init, version, _INIT_FLAGS, init, len(body), 0, 0, 0)
    payload = header + auth + body
    return _U32.pack(len(payload)) + payload


def encode(msg_type, body=None, tables=None) -> bytes:
    """A bare frame: length, type, the body packed by the request table for ``msg_type``."""
    table = (tables or DEFAULT.dbd).requests.get(msg_type)
    if table is None:
        raise ValueError(f"no request table for slurmdbd message {msg_type}")
    packed = table.pack(body)
    return _U32.pack(2 + len(packed)) + _U16.pack(int(msg_type)) + packed


def decode(payload, tables=None) -> DbdMessage:
    """A frame without its length prefix; the body must end exactly where the frame does."""
    if len(payload) < 2:
        raise ProtocolError(f"slurmdbd frame of {len(payload)} bytes has no message type")
    msg_type, = _U16.unpack_from(payload, 0)
    table = (tables or DEFAULT.dbd).replies.get(msg_type)
    if table is None:
        raise ProtocolError(f"unexpected slurmdbd message type {msg_type}")
    record, end = table.unpack(payload, 2)
    if end != len(payload):
        raise ProtocolError(f"{table.name}: {len(payload) - end} bytes left over after the "
                            f"body")
    return DbdMessage(_msg_type(msg_type), record)


def _msg_type(number):
    try:
        return DbdMsgType(number)
    except ValueError:
        return number
