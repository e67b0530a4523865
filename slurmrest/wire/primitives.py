"""Slurm's pack primitives (§3 of the protocol reference) and its special values.

The table-driven codec in ``schema`` compiles its own inlined versions of these for speed;
the functions here are the plain reference forms, used for framing (``protocol``), by tests
to cross-check the compiled code, and by the API room to interpret special values.
"""

import struct
from typing import NamedTuple

from slurmrest.wire.errors import ProtocolError


# -- protocol versions (src/common/slurm_protocol_common.h) ---------------------------------

SLURM_22_05_PROTOCOL_VERSION = 38 << 8  # 0x2600
SLURM_21_08_PROTOCOL_VERSION = 37 << 8  # 0x2500
SLURM_20_11_PROTOCOL_VERSION = 36 << 8  # 0x2400
SLURM_PROTOCOL_VERSION = SLURM_22_05_PROTOCOL_VERSION
SLURM_ONE_BACK_PROTOCOL_VERSION = SLURM_21_08_PROTOCOL_VERSION
SLURM_MIN_PROTOCOL_VERSION = SLURM_20_11_PROTOCOL_VERSION

# -- limits (src/common/pack.h) -------------------------------------------------------------

MAX_MSG_SIZE = 1024 * 1024 * 1024  # whole message, length prefix excluded
MAX_PACK_MEM_LEN = 1024 * 1024 * 1024  # one packmem / packstr

# -- special values (slurm/slurm.h, §3.4) ---------------------------------------------------

INFINITE8 = 0xFF
INFINITE16 = 0xFFFF
INFINITE = 0xFFFFFFFF
INFINITE64 = 0xFFFFFFFFFFFFFFFF
NO_VAL8 = 0xFE
NO_VAL16 = 0xFFFE
NO_VAL = 0xFFFFFFFE
NO_VAL64 = 0xFFFFFFFFFFFFFFFE
NO_CONSUME_VAL64 = 0xFFFFFFFFFFFFFFFD
MAX_JOB_ID = 0x03FFFFFF
SLURM_MAX_NORMAL_STEP_ID = 0xFFFFFFF0
SLURM_PENDING_STEP = 0xFFFFFFFD
SLURM_EXTERN_CONT = 0xFFFFFFFC
SLURM_BATCH_SCRIPT = 0xFFFFFFFB
SLURM_INTERACTIVE_STEP = 0xFFFFFFFA
NICE_OFFSET = 0x80000000
MEM_PER_CPU = 0x8000000000000000
SHARED_FORCE = 0x8000
CORE_SPEC_THREAD = 0x8000
SLURM_SUCCESS = 0
SLURM_ERROR = -1

# -- header flags (§1.3) --------------------------------------------------------------------

SLURM_PROTOCOL_NO_FLAGS = 0x0000
SLURM_GLOBAL_AUTH_KEY = 0x0001
SLURMDBD_CONNECTION = 0x0002
SLURM_MSG_KEEP_BUFFER = 0x0004
SLURM_DROP_PRIV = 0x0008
USE_BCAST_NETWORK = 0x0010
CTLD_QUEUE_PROCESSING = 0x0020

# -- plugin ids -----------------------------------------------------------------------------

AUTH_PLUGIN_NONE = 100
AUTH_PLUGIN_MUNGE = 101
AUTH_PLUGIN_JWT = 102
#: Header flag (23.11 and newer): no auth credential follows the header (replies).
SLURM_NO_AUTH_CRED = 1 << 6

SELECT_PLUGIN_CONS_RES = 101
SELECT_PLUGIN_LINEAR = 102
SELECT_PLUGIN_SERIAL = 106
SELECT_PLUGIN_CRAY_LINEAR = 107
SELECT_PLUGIN_CRAY_CONS_RES = 108
SELECT_PLUGIN_CONS_TRES = 109
SELECT_PLUGIN_CRAY_CONS_TRES = 110

# SelectType (build info ``select_type``) -> plugin id for select_jobinfo.
SELECT_PLUGIN_IDS = {
    "select/cons_res": SELECT_PLUGIN_CONS_RES,
    "select/linear": SELECT_PLUGIN_LINEAR,
    "select/serial": SELECT_PLUGIN_SERIAL,
    "select/cray_aries": SELECT_PLUGIN_CRAY_CONS_TRES,
    "select/cons_tres": SELECT_PLUGIN_CONS_TRES,
}

# -- request constants used by the tables' callers ------------------------------------------

SHOW_ALL = 0x0001
SHOW_DETAIL = 0x0002
SHOW_MIXED = 0x0008
SHOW_LOCAL = 0x0010
SHOW_SIBLING = 0x0020
SHOW_FEDERATION = 0x0040
SHOW_FUTURE = 0x0080

STAT_COMMAND_RESET = 0
STAT_COMMAND_GET = 1

# job_desc bitflags that _pack_job_desc_msg ORs in for NULL account/partition/qos/wckey.
USE_DEFAULT_ACCT = 1 << 25
USE_DEFAULT_PART = 1 << 26
USE_DEFAULT_QOS = 1 << 27
USE_DEFAULT_WCKEY = 1 << 28
BACKFILL_SCHED = 1 << 32
BACKFILL_LAST = 1 << 33

KILL_FULL_JOB = 0x0008

# -- scalar primitives ----------------------------------------------------------------------

_U8 = struct.Struct(">B")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_I32 = struct.Struct(">i")
_U64 = struct.Struct(">Q")
_TIME = struct.Struct(">q")
_DOUBLE = struct.Struct(">d")

FLOAT_MULT = 1000000.0  # packdouble multiplies by this before sending (§3.2)


def pack_u8(v):
    return _U8.pack(v)


def pack_u16(v):
    return _U16.pack(v)


def pack_u32(v):
    return _U32.pack(v)


def pack_i32(v):
    return _I32.pack(v)


def pack_u64(v):
    return _U64.pack(v)


def pack_time(t):
    return _TIME.pack(t)


def pack_double(d):
    return _DOUBLE.pack(d * FLOAT_MULT)


def unpack_double(buf, offset=0):
    """The value is ``IEEE bits / 1e6``, not a fixed-point integer (§3.2)."""
    return _DOUBLE.unpack_from(buf, offset)[0] / FLOAT_MULT, offset + 8


def encode_text(s):
    """A Python string as the bytes of a C string (no NUL allowed inside)."""
    if isinstance(s, str):
        b = s.encode("utf-8", "surrogateescape")
    elif isinstance(s, (bytes, bytearray, memoryview)):
        b = bytes(s)
    else:  # bytes(5) would quietly be five NULs
        raise TypeError(f"expected a string, got {type(s).__name__}")
    if b"\0" in b:
        raise ValueError("string contains a NUL byte, which Slurm would truncate")
    return b


def pack_str(s):
    """``packstr``: NULL -> u32 0; else u32 len+1, bytes, NUL."""
    if s is None:
        return b"\0\0\0\0"
    b = encode_text(s)
    return _U32.pack(len(b) + 1) + b + b"\0"


def _short(what, need, have):
    return ProtocolError(f"{what}: needs {need} bytes, only {have} left")


def unpack_u16(buf, offset=0):
    if offset + 2 > len(buf):
        raise _short("u16", 2, len(buf) - offset)
    return _U16.unpack_from(buf, offset)[0], offset + 2


def unpack_u32(buf, offset=0):
    if offset + 4 > len(buf):
        raise _short("u32", 4, len(buf) - offset)
    return _U32.unpack_from(buf, offset)[0], offset + 4


def unpack_str(buf, offset=0):
    """``unpackstr``: u32 n (0 = NULL), then n bytes whose last one is the NUL."""
    n, offset = unpack_u32(buf, offset)
    if n == 0:
        return None, offset
    if n > MAX_PACK_MEM_LEN:
        raise ProtocolError(f"string length {n} exceeds 1 GiB")
    if offset + n > len(buf):
        raise _short("string", n, len(buf) - offset)
    return bytes(buf[offset:offset + n - 1]).decode("utf-8", "surrogateescape"), offset + n


# -- bitmaps (§3.3) -------------------------------------------------------------------------


class Bitmap(NamedTuple):
    """A decoded ``pack_bit_str_hex``: bit count and ``bit_fmt_hexmask`` text ("0x…")."""

    nbits: int
    hexmask: str

    def indexes(self):
        return bitstr_to_indexes(self.hexmask, self.nbits)

    def ranges(self):
        return bitstr_to_ranges(self.hexmask, self.nbits)

    def inx(self):
        return bitstr_to_inx(self.hexmask, self.nbits)

    @classmethod
    def from_indexes(cls, nbits, indexes):
        return cls(nbits, bitstr_from_indexes(nbits, indexes))


def hexmask_to_int(hexmask, nbits=None):
    """The integer whose bit i is bit i of the mask (bit 0 = last hex digit's low bit)."""
    if hexmask is None:
        return 0
    text = hexmask[2:] if hexmask[:2] in ("0x", "0X") else hexmask
    value = int(text, 16) if text else 0
    if nbits is not None:
        value &= (1 << nbits) - 1  # bit_unfmt_hexmask ignores digits beyond nbits
    return value


def set_bits(value: int) -> list[int]:
    """The positions of the set bits of ``value``, ascending."""
    out = []
    while value:
        low = value & -value
        out.append(low.bit_length() - 1)
        value ^= low
    return out


def bitstr_to_indexes(hexmask, nbits=None):
    """Set bits of a hex mask, ascending."""
    return set_bits(hexmask_to_int(hexmask, nbits))


def bitstr_to_ranges(hexmask, nbits=None):
    """Set bits as inclusive ``(first, last)`` ranges, ascending."""
    ranges = []
    for i in bitstr_to_indexes(hexmask, nbits):
        if ranges and ranges[-1][1] == i - 1:
            ranges[-1][1] = i
        else:
            ranges.append([i, i])
    return [tuple(r) for r in ranges]


def bitstr_to_inx(hexmask, nbits=None):
    """C's ``bitstr2inx``: flat ``[first, last, …, -1]`` (``[-1]`` for no bitmap)."""
    out = []
    for first, last in bitstr_to_ranges(hexmask, nbits):
        out += (first, last)
    out.append(-1)
    return out


def bitstr_from_indexes(nbits, indexes):
    """``bit_fmt_hexmask``: "0x" + ceil(nbits/4) upper-case digits ("0x0" for 0 bits)."""
    value = 0
    for i in indexes:
        if not 0 <= i < nbits:
            raise ValueError(f"bit {i} outside a bitmap of {nbits} bits")
        value |= 1 << i
    return format_hexmask(nbits, value)


def format_hexmask(nbits, value):
    digits = max(1, (nbits + 3) // 4)
    return "0x" + format(value, "0%dX" % digits)


# -- special values, for the API room -------------------------------------------------------


def unbias(value):
    """``nice`` / ``site_factor`` as sent (biased by NICE_OFFSET) -> signed value."""
    return value - NICE_OFFSET


def bias(value):
    return (value + NICE_OFFSET) & 0xFFFFFFFF


def split_mem(value):
    """A memory field with the MEM_PER_CPU flag -> ``(megabytes, per_cpu)``."""
    return value & ~MEM_PER_CPU & 0xFFFFFFFFFFFFFFFF, bool(value & MEM_PER_CPU)


def split_exit_code(status):
    """A ``wait(2)`` status word -> ``(exit_code, signal)`` as slurm_sprint_job_info prints."""
    if status == NO_VAL:
        return None, None
    low = status & 0x7F
    return (status >> 8) & 0xFF, (low if low not in (0, 0x7F) else 0)


def as_signed32(value):
    """A u32 carrying a C ``int`` (return codes): 0xffffffff -> -1."""
    return value - (1 << 32) if value & 0x80000000 else value
