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
