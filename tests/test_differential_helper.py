"""The differential helper's document comparison itself (no servers needed)."""

from twisted.trial import unittest

from tests.differential import diff_documents


class DiffDocumentsTests(unittest.TestCase):
    def kinds(self, ref, ours, **kw):
        return sorted((d.kind, d.path) for d in diff_documents(ref, ours, **kw))

    def test_identical(self):
        doc = {"meta": {"x": 1}, "jobs": [{"job_id": 1, "name": "a", "nice": None}]}
        self.assertEqual(self.kinds(doc, doc), [])

    def test_missing_extra_type_value(self):
        ref = {"a": 1, "b": "x", "c": None, "d": [1, 2]}
        ours = {"a": 1.0, "b": "y", "e": 3, "d": [1, 2]}
        self.assertEqual(self.kinds(ref, ours),
                         [("extra", "e"), ("missing", "c"), ("type", "a"), ("value", "b")])

    def test_meta_is_ignored(self):
        self.assertEqual(self.kinds({"meta": {"a": 1}}, {"meta": {"b": "2"}}), [])

    def test_records_matched_by_key(self):
        ref = {"jobs": [{"job_id": 1, "name": "a"}, {"job_id": 2, "name": "b"}]}
        ours = {"jobs": [{"job_id": 2, "name": "b"}, {"job_id": 3, "name": "c"},
                         {"job_id": 1, "name": "A"}]}
        self.assertEqual(self.kinds(ref, ours),
                         [("unmatched", "jobs/#3"), ("value", "jobs/#1/name")])
        self.assertEqual(self.kinds(ref, ours, partial=True), [("value", "jobs/#1/name")])

    def test_loose_and_ignore(self):
        ref = {"jobs": [{"job_id": 1, "start_time": 5, "nodes": "n1", "x": 1}]}
        ours = {"jobs": [{"job_id": 1, "start_time": 6, "nodes": None, "x": 2}]}
        self.assertEqual(self.kinds(ref, ours, loose=("jobs/*/start_time", "jobs/*/nodes"),
                                    ignore=("jobs/*/x",)), [])
        # loose still checks types other than null.
        ours["jobs"][0]["start_time"] = "6"
        self.assertEqual(self.kinds(ref, ours, loose=("jobs/*/start_time", "jobs/*/nodes"),
                                    ignore=("jobs/*/x",)), [("type", "jobs/#1/start_time")])

    def test_nested_wildcards(self):
        ref = {"jobs": [{"job_id": 1, "job_resources": {"allocated_nodes": [{"cpus_used": 1}]}}]}
        ours = {"jobs": [{"job_id": 1, "job_resources": {"allocated_nodes": [{"cpus_used": 2}]}}]}
        self.assertEqual(self.kinds(ref, ours, loose=("jobs/*/job_resources/**",)), [])
        self.assertEqual(self.kinds(ref, ours),
                         [("value", "jobs/#1/job_resources/allocated_nodes/0/cpus_used")])

    def test_pending_jobs_by_value(self):
        """A pending (or held) job does not change between two requests: its fields are
        compared by value but for the ``pending_loose`` ones."""
        loose = ("jobs/*/priority", "jobs/*/start_time")
        ref = {"jobs": [{"job_id": 1, "job_state": "PENDING", "priority": 1, "start_time": 5},
                        {"job_id": 2, "job_state": "RUNNING", "priority": 1, "start_time": 5}]}
        ours = {"jobs": [{"job_id": 1, "job_state": "PENDING", "priority": 2, "start_time": 6},
                         {"job_id": 2, "job_state": "RUNNING", "priority": 2, "start_time": 6}]}
        self.assertEqual(self.kinds(ref, ours, loose=loose), [])
        self.assertEqual(self.kinds(ref, ours, loose=loose, pending_loose=("jobs/*/start_time",)),
                         [("value", "jobs/#1/priority")])
        # A job that started between the two requests is compared loosely.
        ours["jobs"][0]["job_state"] = "RUNNING"
        self.assertEqual(self.kinds(ref, ours, loose=loose + ("jobs/*/job_state",),
                                    pending_loose=("jobs/*/start_time",)), [])

    def test_loose_arrays_by_length(self):
        ref = {"nodes": [{"name": "n1", "tres_used": ["a"], "state_flags": ["DRAIN"]}]}
        ours = {"nodes": [{"name": "n1", "tres_used": ["a", "b"], "state_flags": []}]}
        loose = ("nodes/*/tres_used", "nodes/*/state_flags")
        # state_flags' length is a moment's (LENGTH_MAY_CHANGE); tres_used's is not.
        self.assertEqual(self.kinds(ref, ours, loose=loose), [("length", "nodes/#n1/tres_used")])

    def test_duplicate_keys_do_not_hide_records(self):
        ref = {"jobs": [{"job_id": 1, "name": "a"}]}
        ours = {"jobs": [{"job_id": 1, "name": "a"}, {"job_id": 1, "name": "b"}]}
        self.assertIn(("duplicate", "jobs"), self.kinds(ref, ours))
