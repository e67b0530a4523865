"""Framing of one Slurm RPC message: length prefix, header (§1.2), auth credential (§2),
and the body encoded/decoded by the message tables of a Slurm version.

``Protocol.encode`` gives the whole frame as one ``bytes`` for a single write;
``Protocol.decode`` takes a frame *without* its 4-byte length prefix (what the reader has
after reading the prefix and that many bytes) and returns a ``Message``. What differs
between releases (the header's fixed fields, the body tables) comes from the version's
``SlurmVersion`` (``slurmrest.wire.tables``); nothing here names a release.
"""

import ipaddress
import struct
from typing import NamedTuple

from slurmrest.wire import primitives as P, tables
from slurmrest.wire.errors import ProtocolError
from slurmrest.wire.msgtypes import MsgType
from slurmrest.wire.versions import SlurmVersion

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")

AF_UNSPEC, AF_INET, AF_INET6 = 0, 2, 10

# What a request header carries after its fixed fields: forward.cnt 0, ret_cnt 0, and an
# AF_UNSPEC orig_addr (the same in every release we know).
_NO_FORWARD_NO_RET_NO_ADDR = struct.pack(">HHH", 0, 0, AF_UNSPEC)


class Message(NamedTuple):
    """A decoded frame: header version and flags, message type, decoded body (or None)."""

    version: int
    flags: int
    msg_type: int
    body: object


def _msg_type(number):
    try:
        return MsgType(number)
    except ValueError:
        return number


def _type_name(number):
    t = _msg_type(number)
    return t.name if isinstance(t, MsgType) else str(number)


class _Reader:
    """Bounds-checked reads for the (short, irregular) header; bodies use the tables."""

    __slots__ = ("buf", "off")

    def __init__(self, buf, off=0):
        self.buf, self.off = buf, off

    def take(self, n, what):
        if self.off + n > len(self.buf):
            raise ProtocolError(f"frame truncated in {what}: needs {n} bytes, "
                                f"{len(self.buf) - self.off} left")
        start = self.off
        self.off += n
        return start

    def u16(self, what):
        return _U16.unpack_from(self.buf, self.take(2, what))[0]

    def u32(self, what):
        return _U32.unpack_from(self.buf, self.take(4, what))[0]

    def str(self, what):
        n = self.u32(what)
        if n == 0:
            return None
        if n > P.MAX_PACK_MEM_LEN:
            raise ProtocolError(f"{what}: length {n} exceeds 1 GiB")
        start = self.take(n, what)
        return self.buf[start:start + n - 1].decode("utf-8", "surrogateescape")

    def addr(self):
        """``slurm_unpack_addr_no_alloc``: family, then the address for INET/INET6 (§1.4)."""
        family = self.u16("orig_addr")
        if family == AF_INET:
            start = self.take(6, "orig_addr")
            raw = self.buf[start:start + 4]
            # packed with htonl on an address already in network order: reversed on the wire
            return str(ipaddress.IPv4Address(raw[::-1])), int.from_bytes(
                self.buf[start + 4:start + 6], "little")
        if family == AF_INET6:
            n = self.u32("orig_addr")
            if n != 16:
                raise ProtocolError(f"orig_addr: IPv6 address of {n} bytes")
            start = self.take(18, "orig_addr")
            return str(ipaddress.IPv6Address(self.buf[start:start + 16])), int.from_bytes(
                self.buf[start + 16:start + 18], "little")
        return None


class Protocol:
    """Encoder/decoder for one Slurm version's header and message tables."""

    def __init__(self, slurm_version: SlurmVersion):
        self.slurm_version = slurm_version
        self.version = slurm_version.protocol
        self.bodies = slurm_version.bodies
        self._header = slurm_version.header
        for table in (self._header, *self.bodies.values()):
            if table is not None:  # compile now: no first-request latency, errors at import
                table.source("unpack")
                table.source("pack")

    def __repr__(self):
        return f"Protocol(0x{self.version:04x})"

    def table(self, msg_type):
        """The body ``Struct`` of ``msg_type`` (None for bodiless types)."""
        try:
            return self.bodies[msg_type]
        except KeyError:
            raise ProtocolError(f"no body table for message type {_type_name(msg_type)} in "
                                f"protocol 0x{self.version:04x}") from None

    # -- bodies --------------------------------------------------------------------------

    def encode_body(self, msg_type, body):
        table = self.table(msg_type)
        if table is None:
            if body:
                raise ValueError(f"{_type_name(msg_type)} has no body")
            return b""
        return table.pack(body)

    def decode_body(self, msg_type, data):
        """Decode exactly ``data`` (left-over bytes are a ProtocolError)."""
        table = self.table(msg_type)
        if table is None:
            if len(data):
                raise ProtocolError(f"{_type_name(msg_type)} has no body, got {len(data)} "
                                    f"bytes")
            return None
        return table.unpack_exact(data)

    # -- frames --------------------------------------------------------------------------

    def encode(self, msg_type, body, credential, flags=0):
        """One whole frame: u32 length, header, auth/jwt credential, body."""
        payload = self.encode_body(msg_type, body)
        auth = (_U32.pack(P.AUTH_PLUGIN_JWT)
                + P.pack_str(credential.token if credential is not None else None)
                + P.pack_str(credential.user_name if credential is not None else None))
        header = self._header.pack({"version": self.version, "flags": flags,
                                    "msg_type": int(msg_type), "body_length": len(payload)})
        length = len(header) + len(_NO_FORWARD_NO_RET_NO_ADDR) + len(auth) + len(payload)
        if length > P.MAX_MSG_SIZE:
            raise ValueError(f"message of {length} bytes exceeds MAX_MSG_SIZE")
        return _U32.pack(length) + header + _NO_FORWARD_NO_RET_NO_ADDR + auth + payload

    def decode(self, payload):
        """Parse a frame without its length prefix into a ``Message``.

        The header is read with the layout of the version it announces, the body with the
        tables of that version: this one's, or another of ``tables.VERSIONS``. The body must
        fill ``body_length`` exactly.
        """
        if not isinstance(payload, bytes):
            payload = bytes(payload)
        r = _Reader(payload)
        version = r.u16("header version")
        if version == self.version:
            proto, layout = self, self._header
        else:  # another version we know (or an older one we can only name)
            if version < tables.OLDEST_PROTOCOL:
                raise ProtocolError(f"protocol version 0x{version:04x} not supported")
            layout = tables.HEADERS.get(version)
            if layout is None:
                raise ProtocolError(f"no message tables for protocol version 0x{version:04x}")
            proto = protocol_for(version)
        fixed, r.off = layout.unpack(payload, 0)
        flags, msg_type, body_length = fixed["flags"], fixed["msg_type"], fixed["body_length"]

        forward_cnt = r.u16("header forward.cnt")
        if forward_cnt:
            # (a controller's replies to a client are never forwarded; read it all the same)
            _, r.off = proto.slurm_version.forward.unpack(payload, r.off)
        ret_cnt = r.u16("header ret_cnt")
        for _ in range(ret_cnt):
            # _pack_ret_list: err, type, node name, then that type's body with no length.
            r.u32("ret_list err")
            ret_type = r.u16("ret_list msg_type")
            r.str("ret_list node_name")
            table = proto.table(ret_type)
            if table is not None:
                _, r.off = table.unpack(payload, r.off)
        r.addr()

        # 22.05 never sets this bit; 24.11 sets it on its replies and packs no credential.
        plugin = None if flags & P.SLURM_NO_AUTH_CRED else r.u32("auth plugin id")
        if plugin is None:
            pass
        elif plugin == P.AUTH_PLUGIN_JWT:
            r.str("auth token")
            r.str("auth user name")
        elif plugin == P.AUTH_PLUGIN_MUNGE:
            r.str("auth credential")
        elif plugin == P.AUTH_PLUGIN_NONE:  # auth_none.c: uid, gid, hostname
            r.u32("auth uid")
            r.u32("auth gid")
            r.str("auth hostname")
        else:
            raise ProtocolError(f"unsupported auth plugin id {plugin}")

        left = len(payload) - r.off
        if body_length > left:
            raise ProtocolError(f"body_length {body_length} exceeds the {left} bytes left "
                                f"in the frame")
        body = proto._decode_at(msg_type, payload, r.off, body_length)
        return Message(version, flags, _msg_type(msg_type), body)

    def _decode_at(self, msg_type, payload, offset, length):
        table = self.table(msg_type)
        if table is None:
            if length:
                raise ProtocolError(f"{_type_name(msg_type)} has no body, got {length} bytes")
            return None
        if offset + length == len(payload):
            record, end = table.unpack(payload, offset)  # no copy in the usual case
        else:
            record, end = table.unpack(payload[offset:offset + length])
            end += offset
        if end != offset + length:
            raise ProtocolError(f"{table.name}: {offset + length - end} bytes left over "
                                f"after the body")
        return record


_PROTOCOLS = {}


def protocol_for(version):
    """The ``Protocol`` of a ``SlurmVersion`` or of a protocol number (ProtocolError when
    there are no tables for it): one per version, made on first use."""
    release = version if isinstance(version, SlurmVersion) else tables.version_for(version)
    proto = _PROTOCOLS.get(release)
    if proto is None:
        proto = _PROTOCOLS[release] = Protocol(release)
    return proto


# Convenience: the newest version's codec and its methods.
NEWEST = protocol_for(tables.NEWEST)
encode = NEWEST.encode
decode = NEWEST.decode
encode_body = NEWEST.encode_body
decode_body = NEWEST.decode_body
