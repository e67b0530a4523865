"""The pack primitives and special values of §3 of the protocol reference."""

import struct

from hypothesis import given, strategies as st
from twisted.trial import unittest

from slurmrest.wire import primitives as P
from slurmrest.wire.errors import ProtocolError


class ConstantTests(unittest.TestCase):

    def test_special_values(self):
        """§3.4's table, value by value."""
        self.assertEqual(
            (P.INFINITE8, P.INFINITE16, P.INFINITE, P.INFINITE64),
            (0xFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF))
        self.assertEqual(
            (P.NO_VAL8, P.NO_VAL16, P.NO_VAL, P.NO_VAL64),
            (0xFE, 0xFFFE, 0xFFFFFFFE, 0xFFFFFFFFFFFFFFFE))
        self.assertEqual(P.NO_CONSUME_VAL64, 0xFFFFFFFFFFFFFFFD)
        self.assertEqual(P.MAX_JOB_ID, 0x03FFFFFF)
        self.assertEqual(P.SLURM_MAX_NORMAL_STEP_ID, 0xFFFFFFF0)
        self.assertEqual(
            (P.SLURM_PENDING_STEP, P.SLURM_EXTERN_CONT, P.SLURM_BATCH_SCRIPT,
             P.SLURM_INTERACTIVE_STEP),
            (0xFFFFFFFD, 0xFFFFFFFC, 0xFFFFFFFB, 0xFFFFFFFA))
        self.assertEqual(P.NICE_OFFSET, 0x80000000)
        self.assertEqual(P.MEM_PER_CPU, 0x8000000000000000)
        self.assertEqual((P.SHARED_FORCE, P.CORE_SPEC_THREAD), (0x8000, 0x8000))
        self.assertEqual((P.SLURM_SUCCESS, P.SLURM_ERROR), (0, -1))

    def test_versions_and_limits(self):
        self.assertEqual(P.SLURM_22_05_PROTOCOL_VERSION, 0x2600)
        self.assertEqual(P.SLURM_21_08_PROTOCOL_VERSION, 0x2500)
        self.assertEqual(P.SLURM_20_11_PROTOCOL_VERSION, 0x2400)
        self.assertEqual(P.SLURM_PROTOCOL_VERSION, 9728)
        self.assertEqual(P.MAX_MSG_SIZE, 1 << 30)
        self.assertEqual(P.MAX_PACK_MEM_LEN, 1 << 30)

    def test_flag_words(self):
        self.assertEqual(P.USE_DEFAULT_ACCT | P.USE_DEFAULT_PART | P.USE_DEFAULT_QOS
                         | P.USE_DEFAULT_WCKEY, 0x1E000000)
        self.assertEqual((P.BACKFILL_SCHED, P.BACKFILL_LAST), (1 << 32, 1 << 33))
        self.assertEqual(P.SELECT_PLUGIN_IDS["select/cons_tres"], 109)
        self.assertEqual(P.AUTH_PLUGIN_JWT, 102)


class ScalarTests(unittest.TestCase):

    def test_big_endian(self):
        self.assertEqual(P.pack_u8(0xAB), b"\xab")
        self.assertEqual(P.pack_u16(0x1234), b"\x12\x34")
        self.assertEqual(P.pack_u32(0x12345678), b"\x12\x34\x56\x78")
        self.assertEqual(P.pack_u64(1), b"\0" * 7 + b"\1")

    def test_signed(self):
        """C ints go through pack32 as two's complement; time_t is signed 64-bit."""
        self.assertEqual(P.pack_i32(-1), b"\xff\xff\xff\xff")
        self.assertEqual(P.pack_time(-2), b"\xff" * 7 + b"\xfe")
        self.assertEqual(P.as_signed32(0xFFFFFFFF), -1)
        self.assertEqual(P.as_signed32(1900), 1900)

    def test_double_is_times_a_million(self):
        """§3.2: IEEE bits of d x 1e6, not a fixed-point integer."""
        self.assertEqual(P.pack_double(1.5), struct.pack(">d", 1500000.0))
        self.assertEqual(P.unpack_double(P.pack_double(0.25)), (0.25, 8))

    def test_unpack_bounds(self):
        self.assertEqual(P.unpack_u16(b"\x00\x01\x02", 1), (0x0102, 3))
        self.assertEqual(P.unpack_u32(b"\0\0\0\7"), (7, 4))
        self.assertRaises(ProtocolError, P.unpack_u32, b"\0\0\0")
        self.assertRaises(ProtocolError, P.unpack_u16, b"\0", 0)


class StringTests(unittest.TestCase):

    def test_null_and_empty_differ(self):
        """NULL is u32 0 alone; "" is u32 1 and the NUL."""
        self.assertEqual(P.pack_str(None), b"\0\0\0\0")
        self.assertEqual(P.pack_str(""), b"\0\0\0\1\0")
        self.assertEqual(P.unpack_str(b"\0\0\0\0"), (None, 4))
        self.assertEqual(P.unpack_str(b"\0\0\0\1\0"), ("", 5))

    def test_length_counts_the_nul(self):
        self.assertEqual(P.pack_str("42"), b"\0\0\0\3" + b"42\0")
        self.assertEqual(P.unpack_str(b"xx\0\0\0\3" + b"42\0", 2), ("42", 9))

    def test_utf8_and_raw_bytes(self):
        self.assertEqual(P.pack_str("é"), b"\0\0\0\3\xc3\xa9\0")
        # Bytes that are not UTF-8 survive a round trip (surrogateescape).
        text, _ = P.unpack_str(b"\0\0\0\2\xff\0")
        self.assertEqual(P.pack_str(text), b"\0\0\0\2\xff\0")

    def test_nul_inside_is_refused(self):
        """C would truncate the string there; refuse rather than send something else."""
        self.assertRaises(ValueError, P.pack_str, "a\0b")

    def test_truncated_and_oversized(self):
        self.assertRaises(ProtocolError, P.unpack_str, b"\0\0\0\5ab")
        e = self.assertRaises(ProtocolError, P.unpack_str, b"\x40\0\0\1" + b"x" * 10)
        self.assertIn("1 GiB", str(e))

    @given(st.text().filter(lambda s: "\0" not in s))
    def test_round_trip(self, s):
        packed = P.pack_str(s)
        self.assertEqual(P.unpack_str(packed), (s, len(packed)))


class BitmapTests(unittest.TestCase):

    def test_reference_example(self):
        """§3.3: 10 bits with bits 0, 1 and 9 set -> "0x203"."""
        self.assertEqual(P.bitstr_from_indexes(10, [0, 1, 9]), "0x203")
        self.assertEqual(P.bitstr_to_indexes("0x203"), [0, 1, 9])
        self.assertEqual(P.bitstr_to_ranges("0x203"), [(0, 1), (9, 9)])
        self.assertEqual(P.bitstr_to_inx("0x203"), [0, 1, 9, 9, -1])

    def test_digit_count_and_case(self):
        """Exactly ceil(nbits/4) upper-case digits; "0x0" for 0 bits; lower case parses."""
        self.assertEqual(P.bitstr_from_indexes(4, [0, 1, 2, 3]), "0xF")
        self.assertEqual(P.bitstr_from_indexes(5, []), "0x00")
        self.assertEqual(P.bitstr_from_indexes(0, []), "0x0")
        self.assertEqual(P.bitstr_to_indexes("0xff"), list(range(8)))

    def test_no_bitmap(self):
        """C's bitstr2inx of a NULL bitmap is [-1]."""
        self.assertEqual(P.bitstr_to_inx(None), [-1])
        self.assertEqual(P.bitstr_to_indexes(None), [])

    def test_bits_beyond_nbits_ignored(self):
        self.assertEqual(P.bitstr_to_indexes("0xF", 2), [0, 1])

    def test_out_of_range_index(self):
        self.assertRaises(ValueError, P.bitstr_from_indexes, 4, [4])

    def test_bitmap_value(self):
        b = P.Bitmap.from_indexes(4, [1, 2, 3])
        self.assertEqual(b, P.Bitmap(4, "0xE"))
        self.assertEqual(b.indexes(), [1, 2, 3])
        self.assertEqual(b.ranges(), [(1, 3)])
        self.assertEqual(b.inx(), [1, 3, -1])

    @given(st.integers(0, 200).flatmap(
        lambda n: st.tuples(st.just(n), st.sets(st.integers(0, max(n - 1, 0)))
                            if n else st.just(set()))))
    def test_round_trip(self, args):
        nbits, idx = args
        mask = P.bitstr_from_indexes(nbits, idx)
        self.assertEqual(len(mask), 2 + max(1, (nbits + 3) // 4))
        self.assertEqual(P.bitstr_to_indexes(mask, nbits), sorted(idx))
        flat = P.bitstr_to_inx(mask, nbits)
        self.assertEqual(flat[-1], -1)
        covered = [i for a, b in zip(flat[:-1:2], flat[1:-1:2]) for i in range(a, b + 1)]
        self.assertEqual(covered, sorted(idx))


class SpecialValueHelperTests(unittest.TestCase):

    def test_nice_bias(self):
        self.assertEqual(P.unbias(0x80000000 + 5), 5)
        self.assertEqual(P.unbias(0x80000000 - 3), -3)
        self.assertEqual(P.bias(-3), 0x7FFFFFFD)

    def test_mem_per_cpu(self):
        self.assertEqual(P.split_mem(P.MEM_PER_CPU | 512), (512, True))
        self.assertEqual(P.split_mem(2048), (2048, False))

    def test_exit_code(self):
        """wait(2) status: exit code in bits 8-15, terminating signal in the low 7 bits."""
        self.assertEqual(P.split_exit_code(0), (0, 0))
        self.assertEqual(P.split_exit_code(2 << 8), (2, 0))
        self.assertEqual(P.split_exit_code(9), (0, 9))
        self.assertEqual(P.split_exit_code(P.NO_VAL), (None, None))
