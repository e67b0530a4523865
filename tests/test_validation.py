"""``api.validation``: the edge's rules on parameters and request documents (pure)."""

from __future__ import annotations

from twisted.trial import unittest

from slurmrest.api import validation
from slurmrest.api.registry import Param
from slurmrest.api.validation import Invalid, check_document, check_params

_UPDATE_TIME = Param("update_time", type=int)
_NAME = Param("name", location="path")


class ParamTests(unittest.TestCase):
    def test_integers_strict_and_in_range(self):
        self.assertEqual(check_params((_UPDATE_TIME,), {"update_time": "17"}),
                         {"update_time": 17})
        for text in ("1_000", " 5", "1e3", str(1 << 64), "9" * 5000, "0x10", ""):
            with self.assertRaises(Invalid, msg=text):
                check_params((_UPDATE_TIME,), {"update_time": text})

    def test_declared_range(self):
        signal = Param("n", type=int, minimum=1, maximum=64)
        self.assertEqual(check_params((signal,), {"n": "64"}), {"n": 64})
        with self.assertRaises(Invalid):
            check_params((signal,), {"n": "65"})
        self.assertEqual(signal.openapi()["schema"], {"type": "integer", "minimum": 1,
                                                      "maximum": 64})

    def test_text_that_cannot_reach_slurm(self):
        for text in ("a\0b", "\ud800"):
            with self.assertRaises(Invalid):
                check_params((_NAME,), {"name": text})
        self.assertEqual(check_params((_NAME,), {"name": "\U0001f600"}),
                         {"name": "\U0001f600"})
        with self.assertRaises(Invalid):  # the accounting family's tables cannot hold it
            check_params((_NAME,), {"name": "\U0001f600"}, bmp_only=True)

    def test_missing_path_parameter(self):
        with self.assertRaises(Invalid):
            check_params((_NAME,), {"name": None})


_SCHEMAS = {"thing": {"type": "object", "properties": {
    "count": {"type": "integer", "minimum": 0, "maximum": 10},
    "name": {"type": "string", "nullable": True},
    "flags": {"type": "array", "items": {"type": "string"}},
    "either": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
}}}
_REF = {"$ref": "#/components/schemas/thing"}


class DocumentTests(unittest.TestCase):
    def problems(self, document, schema=_REF) -> list[str]:
        try:
            check_document(document, schema, _SCHEMAS)
        except Invalid as e:
            return list(validation.walk_problems(e))
        return []

    def test_valid(self):
        self.assertEqual(self.problems({"count": 3, "name": None, "flags": ["a"], "either": "x",
                                        "Count": 4, "unknown": {"left": "to the handler"}}),
                         [])

    def test_declared_types_and_ranges(self):
        self.assertEqual(self.problems({"count": 11}), ["body/count: out of range (0..10)"])
        self.assertEqual(self.problems({"count": 1.5}),
                         ["body/count: 'count' must be an integer, not a number"])
        self.assertEqual(self.problems({"COUNT": "3"}),  # member names as handlers match them
                         ["body/COUNT: 'COUNT' must be an integer, not a string"])
        self.assertEqual(self.problems({"either": [1]}),
                         ["body/either: a list matches none of its forms"])
        self.assertEqual(self.problems({"flags": [1]}),
                         ["body/flags/0: must be a string, not an integer"])
        self.assertEqual(self.problems([]), ["body: must be an object (a dictionary), not a list"])

    def test_universal_rules_everywhere(self):
        self.assertEqual(self.problems({"unknown": "\ud800"}),
                         ["body/unknown: is not encodable text (a lone surrogate)"])
        self.assertEqual(self.problems({"unknown": [1 << 64]}),
                         ["body/unknown/0: integer beyond 64 bits"])
        self.assertEqual(self.problems({"x\ud800": 1}),
                         ["body: member name 'x\\ud800': is not encodable text (a lone surrogate)"])
        self.assertEqual(self.problems({"n": float("inf")}, None),
                         ["body/n: not a finite number"])

    def test_depth_bounded(self):
        doc = []
        for _ in range(validation.MAX_DEPTH + 5):
            doc = [doc]
        self.assertEqual(len(self.problems(doc, None)), 1)

    def test_problems_bounded(self):
        problems = self.problems({"flags": [1] * 200_000})
        self.assertEqual(len(problems), validation.MAX_PROBLEMS + 1)
        self.assertEqual(problems[-1], f"and {200_000 - validation.MAX_PROBLEMS} more problems")
