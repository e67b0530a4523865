"""Pure conversions of the association and user operations (no cluster needed): Slurm's name
lists, bodies read against a shape, TRES changes, QOS names, documents of decoded records."""

from twisted.trial import unittest

from slurmrest.api.slurmdb import associations, inputs, users
from slurmrest.api.slurmdb.inputs import BodyError
from slurmrest.wire import primitives as P
from slurmrest.wire.tables import dbd_v22_05 as T
from tests.records import decoded

TRES = {1: {"id": 1, "type": "cpu", "name": ""}, 4: {"id": 4, "type": "node", "name": ""},
        1001: {"id": 1001, "type": "gres", "name": "gpu"}}
QOS = {1: {"id": 1, "name": "normal"}, 2: {"id": 2, "name": "high"}}


class CharListTests(unittest.TestCase):
    def test_like_slurm_addto_char_list(self):
        self.assertEqual(inputs.char_list("Alice,bob,,alice,"), ["bob", "alice"])
        self.assertEqual(inputs.char_list(""), [])
        self.assertEqual(inputs.char_list("'x'"), ["x"])


class ReadTests(unittest.TestCase):
    SHAPE = {"a": inputs.u32, "b": {"c": inputs.string}}

    def test_paths_relative_to_the_entry(self):
        self.assertEqual(inputs.read({"a": 3, "b": {"c": "x"}}, self.SHAPE, "list/0"),
                         {"a": 3, "b/c": "x"})
        self.assertEqual(inputs.read({"a": None, "b": None}, self.SHAPE), {"a": P.INFINITE})

    def test_refusals_name_the_place(self):
        for doc, where in (({"x": 1}, "list/0/x"), ({"b": {"d": 1}}, "list/0/b/d"),
                           ({"a": "1"}, "list/0/a"), ({"a": True}, "list/0/a"),
                           ({"a": -1}, "list/0/a"), ({"a": 2 ** 32}, "list/0/a"),
                           ({"b": []}, "list/0/b"), ("x", "list/0")):
            with self.assertRaises(BodyError) as e:
                inputs.read(doc, self.SHAPE, "list/0")
            self.assertEqual(e.exception.where, where)

    def test_require(self):
        with self.assertRaises(BodyError) as e:
            inputs.require({"a": ""}, "a", where="users/2")
        self.assertEqual(str(e.exception), "users/2/a: missing required field")

    def test_flags(self):
        reader = inputs.flags("DELETED", "DEFAULT")
        self.assertEqual(reader(["default"], "f"), ["DEFAULT"])
        self.assertRaises(BodyError, reader, ["FAMOUS"], "f")


class AssociationTests(unittest.TestCase):
    def test_tres_change_removes_what_is_left_out(self):
        self.assertEqual(associations.tres_change("1=4,4=2", "1=8"), "1=8,4=-1")
        self.assertEqual(associations.tres_change(None, "1=8"), "1=8")
        self.assertEqual(associations.tres_change("1=4", ""), "1=-1")

    def test_qos_names_sorted_and_signed(self):
        self.assertEqual(associations.qos_names(["1", "2", "9"], QOS), ["high", "normal"])
        self.assertEqual(associations.qos_names(["+2", "-1"], QOS), ["+high", "-normal"])
        self.assertIsNone(associations.qos_names([], QOS))
        self.assertIsNone(associations.qos_names(None, QOS))

    def test_document_of_a_decoded_record(self):
        rec = decoded(T.ASSOC_REC, {
            "acct": "science", "cluster": "c", "user": "alice", "is_def": 1, "max_jobs": 3,
            "grp_tres": "1=4,1001=2", "qos_list": ["2", "1"], "def_qos_id": 2,
            "shares_raw": 5, "priority": P.INFINITE})
        doc = associations.association_document(rec, TRES, QOS)
        self.assertEqual(doc["flags"], ["DEFAULT"])
        self.assertEqual(doc["max"]["jobs"]["active"], 3)
        self.assertIsNone(doc["max"]["jobs"]["per"]["count"])
        self.assertEqual(doc["max"]["tres"]["total"], [
            {"type": "cpu", "name": None, "id": 1, "count": 4},
            {"type": "gres", "name": "gpu", "id": 1001, "count": 2}])
        self.assertEqual((doc["qos"], doc["default"]["qos"]), (["high", "normal"], "high"))
        self.assertEqual((doc["shares_raw"], doc["priority"], doc["is_default"]), (5, None, 1))
        self.assertEqual(list(doc), ["account", "cluster", "default", "flags", "max",
                                     "is_default", "min", "parent_account", "partition",
                                     "priority", "qos", "shares_raw", "usage", "user"])

    def test_entry_record(self):
        names, _ = associations._qos_reader(QOS)
        shape = associations.association_shape(TRES, QOS)
        found = inputs.read({"account": "a", "cluster": "c", "qos": ["HIGH", "+normal"],
                             "default": {"qos": None}, "flags": ["DEFAULT"],
                             "max": {"tres": {"per": {"node": [{"type": "gres",
                                                                 "name": "gpu",
                                                                 "count": 1}]}}}}, shape)
        rec = associations.association_record(found, T.ASSOC_REC_NO_CHANGE)
        self.assertEqual(rec["qos_list"], ["2", "+1"])
        self.assertEqual((rec["def_qos_id"], rec["is_def"]), (P.INFINITE, 1))
        self.assertEqual(rec["max_tres_pn"], "1001=1")
        self.assertEqual((rec["max_jobs"], rec["grp_tres"]), (P.NO_VAL, None))
        self.assertEqual(names([], "qos"), ["''"])
        self.assertRaises(BodyError, names, ["nosuch"], "qos")


class UserTests(unittest.TestCase):
    def test_document_of_a_decoded_record(self):
        rec = decoded(T.USER_REC, {
            "name": "alice", "admin_level": 2, "default_acct": "science", "flags": 1,
            "default_wckey": "",
            "assoc_list": [{"acct": "science", "cluster": "c", "user": "alice"}],
            "coord_accts": [{"name": "physics", "direct": 1}]})
        doc = users.user_document(rec)
        self.assertEqual(doc, {
            "administrator_level": "Operator",
            "associations": [{"account": "science", "cluster": "c", "partition": None,
                              "user": "alice"}],
            "coordinators": [{"name": "physics", "direct": 1}],
            "default": {"account": "science", "wckey": ""},
            "flags": ["DELETED"], "name": "alice"})

    def test_admin_levels_as_slurm_reads_them(self):
        self.assertEqual([users.admin_level(t, "x") for t in ("None", "op", "Admin",
                                                              "SuperUser")], [1, 2, 3, 3])
        self.assertRaises(BodyError, users.admin_level, "Boss", "x")
        self.assertRaises(BodyError, users.admin_level, 3, "x")

    def test_entry_record(self):
        rec, coordinated = users.user_record({
            "name": "u", "default": {"account": "a"},
            "associations": [{"account": "a", "cluster": "c"},
                             {"account": "b", "cluster": "c", "user": "u"}],
            "coordinators": [{"name": "a"}, {"name": "b", "direct": 0}]}, "users/0",
            T.ASSOC_REC_NO_CHANGE)
        self.assertEqual([(a["acct"], a["user"], a["is_def"]) for a in rec["assoc_list"]],
                         [("a", "u", 1), ("b", "u", P.NO_VAL16)])
        self.assertEqual(coordinated, ["a"])
