"""Slurm records in the form the wire's decoder produces, for the converter tests.

``decoded(NODE_RECORD, {"name": "n1", ...})`` packs the given fields with the table's defaults
for all the others (Slurm's ``slurm_init_*`` values) and unpacks the bytes again: the
fixture has exactly the keys, nested records and types of a real reply (``Bitmap``s, the
energy and sensor blocks, ``None`` for strings not sent), and names only what matters.
"""

from __future__ import annotations

from slurmrest.wire.primitives import Bitmap
from slurmrest.wire.tables.v22_05 import (JOB_RECORD, NODE_RECORD, PARTITION_RECORD,
                                          RESERVATION_RECORD)

__all__ = ["decoded", "Bitmap", "JOB_RECORD", "NODE_RECORD", "PARTITION_RECORD", "RESERVATION_RECORD"]


def decoded(struct, fields: dict | None = None, **more) -> dict:
    """``fields`` (and ``more``) as ``struct``'s unpacker returns them after packing."""
    record, _ = struct.unpack(struct.pack({**(fields or {}), **more}))
    return record
