"""Message tables, one module per Slurm protocol version.

``BY_VERSION`` maps a protocol version (e.g. 0x2600) to its ``{msg_type: Struct | None}``
table. A new Slurm version is a new module deriving from the previous one (``Struct.replace``)
where layouts are shared.
"""

from slurmrest.wire.tables import v22_05

BY_VERSION = {
    v22_05.PROTOCOL_VERSION: v22_05.BODIES,
}
