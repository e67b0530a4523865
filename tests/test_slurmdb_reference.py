"""``api/slurmdb/reference.py`` (pure code): ReferenceTable with a fake fetch function and a
fake clock; tres_list / tres_string / find_tres on a TRES table."""

from __future__ import annotations

from twisted.internet import defer
from twisted.trial import unittest

from slurmrest.api.slurmdb.reference import (
    ReferenceTable,
    find_tres,
    parse_tres,
    tres_list,
    tres_string,
)

BY_ID = {1: {"id": 1, "type": "cpu", "name": ""}, 2: {"id": 2, "type": "mem", "name": None},
         4: {"id": 4, "type": "node", "name": None},
         1001: {"id": 1001, "type": "gres", "name": "gpu"},
         1002: {"id": 1002, "type": "gres", "name": "mps"}}


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class FakeFetch:
    """A fetch function whose calls wait until the test answers them."""

    def __init__(self):
        self.pending: list[defer.Deferred] = []
        self.value = 0

    async def __call__(self, call):
        d = defer.Deferred()
        self.pending.append(d)
        return await d

    def answer(self):
        self.value += 1
        self.pending.pop(0).callback({"version": self.value})


class ReferenceTableTests(unittest.TestCase):
    def setUp(self):
        self.clock, self.fetch = Clock(), FakeFetch()
        self.table = ReferenceTable(self.fetch, max_age=10, clock=self.clock)

    def test_concurrent_callers_share_one_fetch(self):
        a = defer.ensureDeferred(self.table.get(None))
        b = defer.ensureDeferred(self.table.get(None))
        self.assertEqual(len(self.fetch.pending), 1)
        self.fetch.answer()
        first, second = self.successResultOf(a), self.successResultOf(b)
        self.assertEqual(first, {"version": 1})
        self.assertIs(second, first)
        self.assertEqual(self.table.fetches, 1)

    def test_kept_for_max_age(self):
        first = defer.ensureDeferred(self.table.get(None))
        self.fetch.answer()
        self.successResultOf(first)
        self.clock.now += 9.9
        self.assertEqual(self.successResultOf(defer.ensureDeferred(self.table.get(None))),
                         {"version": 1})
        self.assertEqual(self.fetch.pending, [])
        self.clock.now += 0.2  # older than max_age: fetched again
        again = defer.ensureDeferred(self.table.get(None))
        self.assertEqual(len(self.fetch.pending), 1)
        self.fetch.answer()
        self.assertEqual(self.successResultOf(again), {"version": 2})

    def test_forget(self):
        first = defer.ensureDeferred(self.table.get(None))
        self.fetch.answer()
        self.successResultOf(first)
        self.table.forget()
        again = defer.ensureDeferred(self.table.get(None))
        self.assertEqual(len(self.fetch.pending), 1)
        self.fetch.answer()
        self.assertEqual(self.successResultOf(again), {"version": 2})

    def test_forget_during_a_fetch(self):
        # a write lands while a fetch is under way: that answer may predate the write, so
        # it is given to its callers but not kept, and later callers fetch anew
        early = defer.ensureDeferred(self.table.get(None))
        self.table.forget()
        late = defer.ensureDeferred(self.table.get(None))
        self.assertEqual(len(self.fetch.pending), 2)  # not joined to the old fetch
        self.fetch.answer()
        self.assertEqual(self.successResultOf(early), {"version": 1})
        self.fetch.answer()
        self.assertEqual(self.successResultOf(late), {"version": 2})
        self.assertEqual(self.successResultOf(defer.ensureDeferred(self.table.get(None))),
                         {"version": 2})
        self.assertEqual(self.fetch.pending, [])

    def test_failure_is_not_kept(self):
        first = defer.ensureDeferred(self.table.get(None))
        self.fetch.pending.pop(0).errback(RuntimeError("slurmdbd down"))
        self.failureResultOf(first, RuntimeError)
        again = defer.ensureDeferred(self.table.get(None))
        self.fetch.answer()
        self.assertEqual(self.successResultOf(again), {"version": 1})


class TresTextTests(unittest.TestCase):
    def test_parse(self):
        self.assertEqual(parse_tres("1=4,2=1000,x=1,1001=2,3"), [(1, 4), (2, 1000), (1001, 2)])
        self.assertEqual(parse_tres(None), [])

    def test_list(self):
        self.assertEqual(tres_list("1=4,1001=2,77=1", BY_ID), [
            {"type": "cpu", "name": None, "id": 1, "count": 4},
            {"type": "gres", "name": "gpu", "id": 1001, "count": 2},
            {"type": None, "name": None, "id": 77, "count": 1}])

    def test_string(self):
        self.assertEqual(tres_string([{"type": "CPU", "count": 4}, {"id": 2, "count": 10},
                                      {"type": "gres", "name": "MPS", "count": 1},
                                      {"type": "node", "name": None, "id": 4, "count": 0}],
                                     BY_ID), "1=4,2=10,1002=1,4=0")
        self.assertEqual(tres_string([], BY_ID), "")

    def test_string_round_trip(self):
        text = "1=4,2=1000,1001=2"
        self.assertEqual(tres_string(tres_list(text, BY_ID), BY_ID), text)

    def test_find_by_type_only_takes_the_first_of_its_type(self):
        self.assertEqual(find_tres({"type": "gres"}, BY_ID), 1001)  # as Slurm's _find_tres_id

    def test_refused(self):
        for entries, words in (
                ([{"type": "cpu", "id": 2, "count": 1}], "doesn't match"),
                ([{"type": "gres", "name": "nosuch", "count": 1}], "Couldn't find TRES"),
                ([{"name": "gpu", "count": 1}], "Missing required field 'type'"),
                ([{"id": 99, "count": 1}], "unknown TRES id"),
                ([{"type": "cpu", "count": -1}], "below 0"),
                ([{"type": "cpu", "count": "4"}], "count must be an integer"),
                ([{"type": "cpu", "count": True}], "count must be an integer"),
                ([{"type": "cpu"}], "count must be an integer"),
                ([{"type": "cpu", "count": 1, "unit": "M"}], "unknown TRES field 'unit'"),
                ([{"type": 5, "count": 1}], "type must be a string"),
                (["cpu=4"], "must be an object"),
                ("1=4", "must be a list"),
        ):
            with self.assertRaises(ValueError) as caught:
                tres_string(entries, BY_ID)
            self.assertIn(words, str(caught.exception), entries)
