"""The table compiler: every field type and combinator, packing rules, unpack robustness."""

import struct

from hypothesis import given, settings, strategies as st
from twisted.trial import unittest

from slurmrest.wire.errors import ProtocolError
from slurmrest.wire.primitives import NO_VAL, NO_VAL16, Bitmap
from slurmrest.wire.schema import (
    BITSTR, BOOL, DOUBLE, I32, MEM, STR, STR_ARRAY, TIME, U8, U16, U16_ARRAY, U32,
    U32_ARRAY, U64, U64_ARRAY, AbsentIf, Counted, List, Optional, Struct, Tagged,
    Unsupported,
)


def one(ftype, **kw):
    return Struct("t", [("f", ftype, *([kw["default"]] if "default" in kw else []))])


class ScalarFieldTests(unittest.TestCase):

    def check(self, ftype, value, wire):
        s = one(ftype)
        self.assertEqual(s.pack({"f": value}), wire)
        self.assertEqual(s.unpack(wire), ({"f": value}, len(wire)))

    def test_integers(self):
        self.check(U8, 0xAB, b"\xab")
        self.check(U16, NO_VAL16, b"\xff\xfe")
        self.check(U32, NO_VAL, b"\xff\xff\xff\xfe")
        self.check(U64, 2 ** 64 - 1, b"\xff" * 8)
        self.check(I32, -1, b"\xff\xff\xff\xff")
        self.check(TIME, -1, b"\xff" * 8)

    def test_bool(self):
        self.check(BOOL, True, b"\1")
        self.check(BOOL, False, b"\0")
        self.assertEqual(one(BOOL).unpack(b"\x07"), ({"f": True}, 1))  # any non-zero

    def test_double(self):
        self.check(DOUBLE, 2.5, struct.pack(">d", 2.5e6))

    def test_defaults(self):
        self.assertEqual(one(U32).pack({}), b"\0\0\0\0")
        self.assertEqual(one(U32, default=NO_VAL).pack({}), b"\xff\xff\xff\xfe")
        self.assertEqual(one(U32, default=NO_VAL).defaults(), {"f": NO_VAL})

    def test_out_of_range_is_value_error(self):
        e = self.assertRaises(ValueError, one(U16).pack, {"f": 70000})
        self.assertIn("t.f", str(e))
        self.assertRaises(ValueError, one(U32).pack, {"f": -1})
        self.assertRaises(ValueError, one(U32).pack, {"f": "1"})

    def test_fixed_runs_are_merged(self):
        """Adjacent fixed-size fields are read with a single unpack_from call."""
        s = Struct("run", [("a", U32), ("b", U16), ("c", TIME), ("d", DOUBLE), ("e", STR),
                           ("f", U8)])
        src = s.source()
        # One call for a-d plus e's length prefix, one for f.
        self.assertEqual(src.count("(buf, off)"), 2, src)
        self.assertIn("d['a'], d['b'], d['c'], d['d'], n1 = ", src)
        record = {"a": 1, "b": 2, "c": 3, "d": 0.5, "e": "x", "f": 9}
        wire = s.pack(record)
        self.assertEqual(s.unpack(wire)[0], record)
        # A failure inside the merged call still names the right field.
        e = self.assertRaises(ProtocolError, s.unpack, wire[:24])
        self.assertEqual(e.message, "run.e: truncated input")
        e = self.assertRaises(ProtocolError, s.unpack, wire[:5])
        self.assertEqual(e.message, "run.b: truncated input")


class VariableFieldTests(unittest.TestCase):

    def test_str(self):
        s = one(STR)
        self.assertEqual(s.pack({}), b"\0\0\0\0")
        self.assertEqual(s.pack({"f": ""}), b"\0\0\0\1\0")
        self.assertEqual(s.pack({"f": "ab"}), b"\0\0\0\3ab\0")
        self.assertEqual(s.unpack(b"\0\0\0\0")[0], {"f": None})
        self.assertEqual(s.unpack(b"\0\0\0\1\0")[0], {"f": ""})
        self.assertEqual(s.unpack(b"\0\0\0\3ab\0")[0], {"f": "ab"})
        self.assertEqual(s.pack({"f": b"raw"}), b"\0\0\0\4raw\0")
        self.assertRaises(ValueError, s.pack, {"f": "a\0b"})
        e = self.assertRaises(ValueError, s.pack, {"f": 0})
        self.assertIn("t.f: expected a string, got int", str(e))

    def test_arrays(self):
        self.assertEqual(one(U16_ARRAY).pack({"f": [1, 2]}), b"\0\0\0\2\0\1\0\2")
        self.assertEqual(one(U32_ARRAY).pack({}), b"\0\0\0\0")
        self.assertEqual(one(U32_ARRAY).unpack(b"\0\0\0\0")[0], {"f": []})
        wire = b"\0\0\0\1" + b"\0" * 7 + b"\5"
        self.assertEqual(one(U64_ARRAY).unpack(wire), ({"f": [5]}, 12))

    def test_str_array(self):
        s = one(STR_ARRAY)
        wire = b"\0\0\0\3" + b"\0\0\0\2a\0" + b"\0\0\0\0" + b"\0\0\0\1\0"
        self.assertEqual(s.pack({"f": ["a", None, ""]}), wire)
        self.assertEqual(s.unpack(wire), ({"f": ["a", None, ""]}, len(wire)))

    def test_mem(self):
        s = one(MEM)
        self.assertEqual(s.pack({"f": b"\0\1"}), b"\0\0\0\2\0\1")
        self.assertEqual(s.unpack(b"\0\0\0\2\0\1"), ({"f": b"\0\1"}, 6))

    def test_bitstr(self):
        s = one(BITSTR)
        self.assertEqual(s.pack({}), b"\xff\xff\xff\xfe")  # NULL bitmap: NO_VAL alone
        self.assertEqual(s.unpack(b"\xff\xff\xff\xfe"), ({"f": None}, 4))
        wire = b"\0\0\0\x0a" + b"\0\0\0\6" + b"0x203\0"
        self.assertEqual(s.pack({"f": Bitmap(10, "0x203")}), wire)
        value = s.unpack(wire)[0]["f"]
        self.assertEqual(value, Bitmap(10, "0x203"))
        self.assertEqual(value.indexes(), [0, 1, 9])
        self.assertEqual(s.pack({"f": (10, "0x203")}), wire)
        # Zero bits: the string is read, the bitmap is NULL (as in C).
        self.assertEqual(s.unpack(b"\0\0\0\0\0\0\0\4" + b"0x0\0"), ({"f": None}, 12))


class CombinatorTests(unittest.TestCase):

    PAIR = Struct("pair", [("name", STR), ("value", STR)])

    def test_list(self):
        s = one(List(self.PAIR))
        self.assertEqual(s.pack({}), b"\xff\xff\xff\xfe")  # None -> NO_VAL
        self.assertEqual(s.unpack(b"\xff\xff\xff\xfe")[0], {"f": None})
        self.assertEqual(s.unpack(b"\0\0\0\0")[0], {"f": []})
        record = {"f": [{"name": "a", "value": None}, {"name": "b", "value": "c"}]}
        self.assertEqual(s.unpack(s.pack(record))[0], record)

    def test_list_with_u16_count(self):
        s = one(List(U32, count=U16, null=None))
        self.assertEqual(s.pack({"f": [7]}), b"\0\1\0\0\0\7")
        self.assertEqual(s.pack({}), b"\0\0")
        self.assertEqual(s.unpack(b"\0\1\0\0\0\7"), ({"f": [7]}, 6))

    def test_counted(self):
        s = Struct("c", [("n", U32), ("t", TIME), ("items", Counted(U16, "n"))])
        self.assertEqual(s.pack({"items": [1, 2]}),
                         b"\0\0\0\2" + b"\0" * 8 + b"\0\1\0\2")
        self.assertEqual(s.unpack(s.pack({"items": [1, 2]}))[0],
                         {"n": 2, "t": 0, "items": [1, 2]})
        e = self.assertRaises(ValueError, s.pack, {"n": 3, "items": [1]})
        self.assertIn("c.items", str(e))

    def test_optional_presence_byte(self):
        inner = Struct("mc", [("a", U16), ("b", U16)])
        s = one(Optional(inner))
        self.assertEqual(s.pack({}), b"\0")
        self.assertEqual(s.pack({"f": {"a": 1}}), b"\xff\0\1\0\0")
        self.assertEqual(s.unpack(b"\0"), ({"f": None}, 1))
        self.assertEqual(s.unpack(b"\xff\0\1\0\2"), ({"f": {"a": 1, "b": 2}}, 5))
        e = self.assertRaises(ProtocolError, s.unpack, b"\x01\0\1\0\2")
        self.assertIn("t.f: bad presence flag 1", str(e))

    def test_optional_any_nonzero(self):
        s = one(Optional(Struct("x", [("a", U8)]), present=None))
        self.assertEqual(s.pack({"f": {"a": 3}}), b"\1\3")
        self.assertEqual(s.unpack(b"\7\3"), ({"f": {"a": 3}}, 2))

    def test_optional_flattened(self):
        parts = Struct("parts", [("a", U32), ("b", STR)])
        s = Struct("st", [("packed", Optional(parts, flag=U32, present=1, absent=0,
                                             flatten=True)), ("tail", U16)])
        full = s.pack({"packed": 1, "a": 5, "b": "x", "tail": 2})
        self.assertEqual(s.unpack(full)[0], {"packed": 1, "a": 5, "b": "x", "tail": 2})
        empty = s.pack({"packed": 0, "tail": 2})
        self.assertEqual(empty, b"\0\0\0\0\0\2")
        self.assertEqual(s.unpack(empty)[0], {"packed": 0, "a": None, "b": None, "tail": 2})
        self.assertRaises(ProtocolError, s.unpack, b"\0\0\0\2\0\2")

    def test_tagged(self):
        data = Struct("d", [("x", U16)])
        s = one(Tagged("plugin_id", {109: Struct("e", []), 101: data}))
        self.assertEqual(s.pack({"f": {"plugin_id": 109}}), b"\0\0\0\x6d")
        self.assertEqual(s.unpack(b"\0\0\0\x6d")[0], {"f": {"plugin_id": 109}})
        self.assertEqual(s.unpack(b"\0\0\0\x65\0\4")[0], {"f": {"x": 4, "plugin_id": 101}})
        e = self.assertRaises(ProtocolError, s.unpack, b"\0\0\0\x6e")
        self.assertIn("unsupported plugin_id 110", str(e))
        self.assertRaises(ValueError, s.pack, {"f": {"plugin_id": 110}})

    def test_absent_if(self):
        jr = Struct("jr", [("nhosts", U32), ("nodes", STR)])
        s = one(AbsentIf(jr, NO_VAL))
        self.assertEqual(s.pack({}), b"\xff\xff\xff\xfe")
        self.assertEqual(s.unpack(b"\xff\xff\xff\xfe"), ({"f": None}, 4))
        record = {"f": {"nhosts": 1, "nodes": "n1"}}
        self.assertEqual(s.unpack(s.pack(record))[0], record)
        self.assertRaises(ValueError, s.pack, {"f": {"nhosts": NO_VAL}})
        self.assertRaises(TypeError, AbsentIf, Struct("bad", [("s", STR)]))

    def test_unsupported(self):
        s = one(Unsupported("no federation"))
        e = self.assertRaises(ProtocolError, s.unpack, b"")
        self.assertIn("t.f: no federation", str(e))
        self.assertEqual(s.pack({}), b"")
        self.assertRaises(ValueError, s.pack, {"f": []})

    def test_nested_struct(self):
        step = Struct("step_id", [("job_id", U32, NO_VAL), ("step_id", U32, NO_VAL)])
        s = Struct("k", [("step", step), ("sig", U16)])
        self.assertEqual(s.pack({"sig": 9}), b"\xff\xff\xff\xfe" * 2 + b"\0\x09")
        self.assertEqual(s.pack({"step": {"job_id": 1}, "sig": 9}),
                         b"\0\0\0\1\xff\xff\xff\xfe\0\x09")


class PackingRuleTests(unittest.TestCase):

    def test_unknown_keys(self):
        s = Struct("job_desc", [("name", STR)])
        e = self.assertRaises(ValueError, s.pack, {"name": "x", "nmae": "y"})
        self.assertIn("nmae", str(e))
        inner = Struct("outer", [("inner", s)])
        e = self.assertRaises(ValueError, inner.pack, {"inner": {"bogus": 1}})
        self.assertIn("outer.inner", str(e))

    def test_prepare_hook(self):
        s = Struct("p", [("a", STR), ("flags", U32)],
                   prepare=lambda r: {**r, "flags": r.get("flags", 0) | (r.get("a") is None)})
        self.assertEqual(s.pack({}), b"\0\0\0\0\0\0\0\1")
        self.assertEqual(s.pack({"a": "", "flags": 4}), b"\0\0\0\1\0\0\0\0\4")

    def test_duplicate_names_refused(self):
        self.assertRaises(TypeError, Struct, "d", [("a", U8), ("a", U16)])

    def test_replace_derives_a_table(self):
        base = Struct("b", [("a", U8), ("b", U16), ("c", STR)])
        older = base.replace(drop=("b",), insert=(("a", ("x", U32, 7)),))
        self.assertEqual(older.field_names, ["a", "x", "c"])
        self.assertEqual(older.pack({}), b"\0\0\0\0\7\0\0\0\0")

    def test_many_constants_do_not_shadow_helpers(self):
        """Generated code with dozens of constants (nested tables, struct formats) still
        reaches its helpers (a constant once could be named like one of them)."""
        nested = [Struct(f"n{i}", [("x", U8), ("s", STR)]) for i in range(60)]
        wide = Struct("wide", [(f"f{i}", t) for i, t in enumerate(nested)]
                      + [(f"u{i}", [U8, U16, U32, U64][i % 4]) for i in range(4)]
                      + [("tail", STR)])
        record = {f"f{i}": {"x": i, "s": str(i)} for i in range(60)}
        record["tail"] = "end"
        wire = wide.pack(record)
        self.assertEqual(wide.unpack_exact(wire)["f59"], {"x": 59, "s": "59"})
        self.assertEqual(wide.pack(wide.unpack_exact(wire)), wire)

    def test_pack_accepts_none_record(self):
        self.assertEqual(one(U8).pack(None), b"\0")


# A struct with one of everything, for the robustness tests.
KITCHEN_INNER = Struct("inner", [("id", U32), ("nodes", STR), ("d", DOUBLE),
                                 ("bm", BITSTR)])
KITCHEN = Struct("kitchen", [
    ("record_count", U32), ("t", TIME),
    ("records", Counted(KITCHEN_INNER, "record_count")),
    ("kv", List(CombinatorTests.PAIR)), ("arr", U16_ARRAY), ("sa", STR_ARRAY),
    ("mc", Optional(Struct("mc", [("a", U16), ("b", U16)]))),
    ("sel", Tagged("plugin_id", {109: Struct("e", [])}, default={"plugin_id": 109})),
    ("jr", AbsentIf(Struct("jr", [("nhosts", U32), ("s", STR), ("cpus", U16_ARRAY)]))),
    ("b", BOOL), ("rc", I32), ("mem", MEM),
])
KITCHEN_RECORD = {
    "t": -5,
    "records": [{"id": 1, "nodes": "n[1-2]", "d": 1.5, "bm": Bitmap(10, "0x203")},
                {"id": 2}, {"id": 3, "nodes": ""}, {"id": 4, "nodes": "n4"}],
    "kv": [{"name": "a", "value": ""}], "arr": [1, 2, 3], "sa": ["x", None],
    "mc": {"a": 1}, "jr": {"nhosts": 2, "s": "é", "cpus": [2, 2]}, "b": True, "rc": -1,
    "mem": b"\0\1\2",
}


class RobustnessTests(unittest.TestCase):

    def setUp(self):
        self.wire = KITCHEN.pack(KITCHEN_RECORD)

    def test_round_trip(self):
        record, end = KITCHEN.unpack(self.wire)
        self.assertEqual(end, len(self.wire))
        self.assertEqual(record["records"][3], {"id": 4, "nodes": "n4", "d": 0.0, "bm": None})
        self.assertEqual(record["jr"], KITCHEN_RECORD["jr"])
        self.assertEqual(KITCHEN.pack(record), self.wire)

    def test_truncated_at_every_byte(self):
        """Any prefix of a valid body fails with ProtocolError, nothing else."""
        for i in range(len(self.wire)):
            try:
                KITCHEN.unpack(self.wire[:i])
            except ProtocolError as e:
                self.assertTrue(str(e.message).startswith("kitchen"), e.message)
            else:
                self.fail(f"prefix of {i} bytes decoded")

    def test_field_path_in_message(self):
        """The message names the field, down to the list element."""
        offset = self.wire.index(b"n4\0") - 4
        e = self.assertRaises(ProtocolError, KITCHEN.unpack, self.wire[:offset + 5])
        self.assertEqual(e.message, "kitchen.records[3].nodes: length 3 runs past the end "
                                    "of the input (1 bytes left)")
        e = self.assertRaises(ProtocolError, KITCHEN.unpack, self.wire[:2])
        self.assertEqual(e.message, "kitchen.record_count: truncated input")
        e = self.assertRaises(ProtocolError, KITCHEN.unpack, self.wire[:6])
        self.assertEqual(e.message, "kitchen.t: truncated input")

    def test_lying_count(self):
        """A count that cannot fit fails before anything is allocated."""
        wire = b"\xff\xff\xff\xf0" + b"\0" * 8 + b"\0" * 40
        e = self.assertRaises(ProtocolError, KITCHEN.unpack, wire)
        self.assertIn("kitchen.records: count 4294967280 cannot fit", e.message)
        for ftype in (U16_ARRAY, U64_ARRAY, STR_ARRAY, List(U32)):
            self.assertRaises(ProtocolError, one(ftype).unpack, b"\x7f\xff\xff\xff" + b"\0" * 8)

    def test_string_over_a_gibibyte(self):
        e = self.assertRaises(ProtocolError, one(STR).unpack, b"\x40\0\0\1" + b"x" * 8)
        self.assertEqual(e.message, "t.f: length 1073741825 exceeds 1 GiB")
        self.assertRaises(ProtocolError, one(MEM).unpack, b"\xff\xff\xff\xff")

    def test_bad_offset(self):
        self.assertRaises(ProtocolError, KITCHEN.unpack, self.wire, len(self.wire) + 1)

    def test_unpack_exact(self):
        self.assertEqual(KITCHEN.unpack_exact(self.wire)["rc"], -1)
        e = self.assertRaises(ProtocolError, KITCHEN.unpack_exact, self.wire + b"\0")
        self.assertIn("1 bytes left over", e.message)

    def test_buffer_types(self):
        self.assertEqual(KITCHEN.unpack(bytearray(self.wire))[1], len(self.wire))
        self.assertEqual(KITCHEN.unpack(memoryview(self.wire))[1], len(self.wire))

    @settings(max_examples=300, deadline=None)
    @given(st.binary(max_size=300))
    def test_random_bytes(self, data):
        try:
            KITCHEN.unpack(data)
        except ProtocolError:
            pass

    @settings(max_examples=300, deadline=None)
    @given(st.data())
    def test_mutated_bodies(self, data):
        wire = bytearray(self.wire)
        for _ in range(data.draw(st.integers(1, 4))):
            i = data.draw(st.integers(0, len(wire) - 1))
            wire[i] = data.draw(st.integers(0, 255))
        try:
            KITCHEN.unpack(bytes(wire))
        except ProtocolError:
            pass


_texts = st.one_of(st.none(), st.text(max_size=20).filter(lambda s: "\0" not in s))


class RoundTripPropertyTests(unittest.TestCase):

    @settings(max_examples=200, deadline=None)
    @given(st.fixed_dictionaries({
        "t": st.integers(-2 ** 63, 2 ** 63 - 1),
        "records": st.lists(st.fixed_dictionaries({
            "id": st.integers(0, 2 ** 32 - 1), "nodes": _texts,
            # multiples of 1/1024 survive x1e6 and /1e6 exactly, so re-packing is byte-exact
            "d": st.integers(-10 ** 6, 10 ** 6).map(lambda x: x / 1024),
            "bm": st.one_of(st.none(), st.integers(1, 64).flatmap(
                lambda n: st.sets(st.integers(0, n - 1)).map(
                    lambda s, n=n: Bitmap.from_indexes(n, s)))),
        }), max_size=5),
        "kv": st.one_of(st.none(), st.lists(st.fixed_dictionaries(
            {"name": _texts, "value": _texts}), max_size=3)),
        "arr": st.lists(st.integers(0, 65535), max_size=5),
        "sa": st.lists(_texts, max_size=4),
        "mc": st.one_of(st.none(), st.fixed_dictionaries(
            {"a": st.integers(0, 65535), "b": st.integers(0, 65535)})),
        "b": st.booleans(), "rc": st.integers(-2 ** 31, 2 ** 31 - 1),
        "mem": st.binary(max_size=10),
    }))
    def test_pack_unpack(self, record):
        wire = KITCHEN.pack(record)
        decoded, end = KITCHEN.unpack(wire)
        self.assertEqual(end, len(wire))
        self.assertEqual(decoded["record_count"], len(record["records"]))
        for got, sent in zip(decoded["records"], record["records"]):
            self.assertEqual(got["id"], sent["id"])
            self.assertEqual(got["nodes"], sent["nodes"])
            self.assertEqual(got["d"], sent["d"])
            self.assertEqual(got["bm"], sent["bm"] if sent["bm"] and sent["bm"].nbits else None)
        for key in ("t", "kv", "arr", "sa", "mc", "b", "rc", "mem"):
            expected = record[key]
            if key == "mc" and expected is not None:
                expected = dict(expected)
            self.assertEqual(decoded[key], expected, key)
        self.assertEqual(KITCHEN.pack(decoded), wire)
