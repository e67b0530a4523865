"""The Slurm versions this codec speaks: one module per release, and the one list of them.

Each module builds a ``SlurmVersion`` (``slurmrest.wire.versions``) named ``VERSION``; a
newer release derives from the one before (``SlurmVersion.derive``, ``Struct.replace``) where
layouts are shared. Adding a release is its module plus one entry in ``VERSIONS``.
"""

from slurmrest.wire import primitives as P
from slurmrest.wire.errors import ProtocolError
from slurmrest.wire.schema import struct
from slurmrest.wire.tables import v22_05, v24_11

#: Every version we speak, oldest first.
VERSIONS = (
    v22_05.VERSION,
    v24_11.VERSION,
)
NEWEST = VERSIONS[-1]
#: The releases whose slurmdbd tables we have, oldest first: a slurmdbd client told no
#: version offers the first and learns (``dbd_client``), as the slurmctld client does.
DBD_VERSIONS = tuple(version for version in VERSIONS if version.dbd is not None)
FIRST_DBD, NEWEST_DBD = DBD_VERSIONS[0], DBD_VERSIONS[-1]

#: Releases we can name but not speak: their header (20.11 and 21.08 carry msg_index after
#: the flags), enough to say which protocol a peer talks instead of misreading its frame.
OLDER_HEADERS = {
    protocol: struct("header", """
        version         u16
        flags           u16
        msg_index       u16
        msg_type        u16
        body_length     u32
    """)
    for protocol in (P.SLURM_20_11_PROTOCOL_VERSION, P.SLURM_21_08_PROTOCOL_VERSION)
}

BY_PROTOCOL = {version.protocol: version for version in VERSIONS}
HEADERS = {**OLDER_HEADERS, **{version.protocol: version.header for version in VERSIONS}}
#: Older than this, a frame is not even named.
OLDEST_PROTOCOL = min(HEADERS)


def version_for(protocol):
    """The ``SlurmVersion`` of a protocol number; ProtocolError when we have no tables."""
    try:
        return BY_PROTOCOL[protocol]
    except KeyError:
        raise ProtocolError(f"no message tables for protocol version 0x{protocol:04x}") \
            from None
