"""Real reply frames captured from a live cluster, and the mutations the wire fuzzers apply
to them (``tests/test_wire_fuzz.py``, ``benchmarks/fuzz_wire.py``).

``capture(cluster)`` asks slurmctld and slurmdbd for every kind of read the product makes,
through the real clients, and keeps each reply's payload as the decoder saw it (a frame
without its length prefix). ``mutate(payload, rng)`` gives a damaged copy: bits flipped,
bytes overwritten, lengths set to edge values, cut short, extended, a slice repeated.
``decode(kind, payload)`` runs the one decoder of that kind of frame; the contract under
test is that nothing but ``ProtocolError`` escapes it.
"""

from __future__ import annotations

import random
import struct
from typing import Callable

from slurmrest.wire import dbd_framing
from slurmrest.wire.errors import ProtocolError  # noqa: F401 (the contract: re-exported)
from slurmrest.wire.protocol import protocol_for
from slurmrest.wire.tables import NEWEST

CTLD, DBD = "slurmctld", "slurmdbd"
_PROTOCOL = protocol_for(NEWEST)

#: The reads captured (named methods of the clients) and their arguments.
CTLD_READS = (("ping", {}), ("build_info", {}), ("jobs", {}), ("nodes", {}),
              ("partitions", {}), ("reservations", {}), ("licenses", {}), ("stats", {}),
              ("fed_info", {}))
DBD_READS = ("associations", "users", "accounts", "qos", "tres", "clusters", "wckeys",
             "jobs")


#: The slurmdbd tables of the release the captured frames came from (the client learns
#: it from its first connection); slurmctld frames name their release in their header.
_DBD_TABLES: list = []


def decode(kind: str, payload: bytes):
    if kind == CTLD:
        return _PROTOCOL.decode(payload)
    return dbd_framing.decode(payload, _DBD_TABLES[-1] if _DBD_TABLES else NEWEST.dbd)


async def capture(cluster, user: str = "root") -> list[tuple[str, bytes]]:
    """(kind, payload) of each reply to the reads above, from ``cluster``'s daemons."""
    from twisted.internet import reactor

    from slurmrest.wire.client import SlurmctldClient
    from slurmrest.wire.conf import SlurmConfig
    from slurmrest.wire.credentials import TokenMinter
    from slurmrest.wire.dbd_client import SlurmdbdClient

    config = SlurmConfig.load(cluster.slurm_conf)
    with open(cluster.jwt_key_path, "rb") as f:
        credential = TokenMinter(f.read()).credential_for(user)
    frames: list[tuple[str, bytes]] = []

    ctld = SlurmctldClient(config, reactor)
    original = ctld.protocol.decode

    def recording(payload, _decode=original):
        frames.append((CTLD, bytes(payload)))
        return _decode(payload)

    ctld.protocol = _Recording(ctld.protocol, recording)
    bound = ctld.bind(credential)
    for name, kwargs in CTLD_READS:
        await getattr(bound, name)(**kwargs)

    dbd = SlurmdbdClient(config, reactor)
    saved = dbd_framing.decode

    def recording_dbd(payload, tables=None):
        frames.append((DBD, bytes(payload)))
        if tables is not None and (not _DBD_TABLES or _DBD_TABLES[-1] is not tables):
            _DBD_TABLES.append(tables)
        return saved(payload, tables)

    dbd_framing.decode = recording_dbd
    try:
        bound_dbd = dbd.bind(credential)
        for name in DBD_READS:
            await getattr(bound_dbd, name)({})
    finally:
        dbd_framing.decode = saved
        await dbd.close()
    return frames


class _Recording:
    """A protocol whose ``decode`` also records (everything else is the real one's)."""

    def __init__(self, protocol, decode: Callable):
        self._protocol = protocol
        self.decode = decode

    def __getattr__(self, name):
        return getattr(self._protocol, name)


_EDGES = (0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFE, 0xFFFFFFFF)


def mutate(payload: bytes, rng: random.Random) -> bytes:
    """A damaged copy of ``payload`` (one to four mutations)."""
    data = bytearray(payload)
    for _ in range(rng.randint(1, 4)):
        how = rng.randrange(7)
        n = len(data)
        if how == 0 and n:  # flip a bit
            i = rng.randrange(n)
            data[i] ^= 1 << rng.randrange(8)
        elif how == 1 and n:  # overwrite a byte
            data[rng.randrange(n)] = rng.randrange(256)
        elif how == 2 and n >= 4:  # a length or count set to an edge value
            i = rng.randrange(n - 3)
            data[i:i + 4] = struct.pack(">I", rng.choice(_EDGES))
        elif how == 3 and n:  # cut short
            del data[rng.randrange(n):]
        elif how == 4:  # extended with garbage
            data += rng.randbytes(rng.randint(1, 64))
        elif how == 5 and n >= 2:  # a slice repeated
            i = rng.randrange(n)
            j = min(n, i + rng.randint(1, 64))
            data[j:j] = data[i:j]
        elif how == 6 and n >= 2:  # a u16 set to an edge value
            i = rng.randrange(n - 1)
            data[i:i + 2] = struct.pack(">H", rng.choice(_EDGES) & 0xFFFF)
    return bytes(data)


def run(frames: list[tuple[str, bytes]], count: int, seed: int = 0):
    """Decode ``count`` mutated frames: (decoded, refused, escaped) where ``escaped`` lists
    (exception, kind, payload) of every exception other than ProtocolError."""
    rng = random.Random(seed)
    decoded = refused = 0
    escaped = []
    for _ in range(count):
        kind, payload = frames[rng.randrange(len(frames))]
        damaged = mutate(payload, rng)
        try:
            decode(kind, damaged)
            decoded += 1
        except ProtocolError:
            refused += 1
        except Exception as e:  # the contract broken: kept to report
            escaped.append((e, kind, damaged))
    return decoded, refused, escaped
