"""Unit tests of ``slurmrest.api.convert``: bitmaps, array task strings, hostlists."""

from twisted.trial import unittest

from slurmrest.api import convert


class BitmapTests(unittest.TestCase):
    def test_hex_mask(self):
        # §3.3's example: 10 bits with bits 0, 1 and 9 set.
        self.assertEqual(convert.bit_indexes("0x203"), [0, 1, 9])

    def test_other_forms(self):
        self.assertEqual(convert.bit_indexes(None), [])
        self.assertEqual(convert.bit_indexes("0x0"), [])
        self.assertEqual(convert.bit_indexes(0b1010), [1, 3])
        self.assertEqual(convert.bit_indexes([4, 2]), [2, 4])
        self.assertEqual(convert.bit_indexes((10, "0x3")), [0, 1])

    def test_bit_fmt(self):
        self.assertEqual(convert.bit_fmt([1, 2, 3, 4, 5, 7]), "1-5,7")
        self.assertEqual(convert.bit_fmt([0]), "0")
        self.assertEqual(convert.bit_fmt([]), "")


def mask(indexes):
    return hex(sum(1 << i for i in indexes)).upper().replace("0X", "0x")


class ArrayTaskStringTests(unittest.TestCase):
    def test_not_an_array(self):
        self.assertIsNone(convert.array_task_string(None))
        self.assertEqual(convert.array_task_string(""), "")

    def test_ranges(self):
        self.assertEqual(convert.array_task_string(mask([1, 2, 3, 4, 5, 7])), "1-5,7")

    def test_max_tasks_suffix(self):
        self.assertEqual(convert.array_task_string(mask(range(1, 11)), 2), "1-10%2")

    def test_step_function(self):
        self.assertEqual(convert.array_task_string(mask(range(0, 101, 5))), "0-100:5")

    def test_no_step_for_short_or_dense(self):
        # Five tasks or fewer, or a span of 10 or less: plain ranges.
        self.assertEqual(convert.array_task_string(mask([0, 5, 10, 15, 20])), "0,5,10,15,20")
        self.assertEqual(convert.array_task_string(mask([0, 2, 4, 6, 8, 10])), "0,2,4,6,8,10")

    def test_truncated_like_bit_fmt_in_64_bytes(self):
        tasks = list(range(0, 200, 3)) + [200]
        full = convert.bit_fmt(tasks)
        self.assertGreater(len(full), 61)
        out = convert.array_task_string(mask(tasks))
        self.assertEqual(out, full[:60] + "...")
        self.assertEqual(len(out), 63)


class HostlistTests(unittest.TestCase):
    def test_expand(self):
        self.assertEqual(convert.hostnames("n[1-3,7],login"), ["n1", "n2", "n3", "n7", "login"])
        self.assertEqual(convert.hostnames("c[08-10]"), ["c08", "c09", "c10"])
        self.assertEqual(convert.hostnames("r[1-2]n[1-2]"), ["r1n1", "r1n2", "r2n1", "r2n2"])
        self.assertEqual(convert.hostnames(None), [])


class NamesTests(unittest.TestCase):
    def test_root_and_unknown(self):
        self.assertEqual(convert.user_name(0), "root")
        self.assertIsNone(convert.user_name(convert.NO_VAL))
        self.assertEqual(convert.group_name(0), "root")
        self.assertIsNone(convert.group_name(convert.NO_VAL))
