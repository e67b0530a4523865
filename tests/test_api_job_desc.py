"""The v0.0.38 job document → job_desc conversion and its validation (no cluster needed)."""

from __future__ import annotations

import os
import time

from twisted.trial import unittest

from slurmrest.api import job_desc as jd
from slurmrest.api import job_keys, job_values
from slurmrest.wire import enums
from slurmrest.wire.primitives import INFINITE, MEM_PER_CPU, NICE_OFFSET, NO_VAL, NO_VAL64

ENV = {"PATH": "/bin:/usr/bin", "LANG": "C"}
SCRIPT = "#!/bin/bash\ntrue\n"


def submit(job: dict, **body) -> dict:
    descs, het = jd.submission({"script": SCRIPT, "job": job, **body})
    assert not het
    return descs[0]


def update(doc: dict) -> dict:
    return jd.job_desc(doc, submit=False)


class SubmitDocumentTests(unittest.TestCase):
    def test_sample_single(self):
        # The body of the reference sample POST_slurm_v0.0.38_job_submit__single.
        desc = submit({"name": "rest-single", "environment": ENV,
                       "current_working_directory": "/srv/testcluster/jobs",
                       "partition": "debug",
                       "standard_output": "/srv/testcluster/jobs/rest-%j.out",
                       "time_limit": 5})
        self.assertEqual(desc["name"], "rest-single")
        self.assertEqual(desc["partition"], "debug")
        self.assertEqual(desc["work_dir"], "/srv/testcluster/jobs")
        self.assertEqual(desc["std_out"], "/srv/testcluster/jobs/rest-%j.out")
        self.assertEqual(desc["time_limit"], 5)
        self.assertEqual(desc["script"], SCRIPT)
        # the environment in document order, then what sbatch adds
        self.assertEqual(desc["environment"],
                         ["PATH=/bin:/usr/bin", "LANG=C", "SLURM_JOB_NAME=rest-single"])
        # identity always from the credential: the release's "not given" (table default)
        self.assertNotIn("user_id", desc)
        self.assertNotIn("group_id", desc)
        # what slurm_opt_create_job_desc(set_defaults=true) fills
        self.assertEqual(desc["min_cpus"], 1)
        self.assertEqual(desc["mail_type"], 0)
        self.assertEqual(desc["contiguous"], 0)
        self.assertNotIn("num_tasks", desc)
        self.assertNotIn("priority", desc)

    def test_defaults_work_dir_to_server_cwd(self):
        desc = submit({"environment": ENV})
        self.assertEqual(desc["work_dir"], os.getcwd())
        self.assertNotIn("name", desc)
        self.assertEqual(desc["environment"], ["PATH=/bin:/usr/bin", "LANG=C"])

    def test_relative_work_dir_is_made_absolute(self):
        desc = submit({"environment": ENV, "cwd": "jobs"})
        self.assertEqual(desc["work_dir"], os.path.join(os.getcwd(), "jobs"))

    def test_keys_are_case_insensitive_and_aliases_work(self):
        desc = submit({"Environment": ENV, "NTASKS": 4, "job_name": "x", "Constraint": "fast"})
        self.assertEqual(desc["num_tasks"], 4)
        self.assertEqual(desc["name"], "x")
        self.assertEqual(desc["features"], "fast")

    def test_tasks_and_cpus_set_bitflags_like_sbatch(self):
        desc = submit({"environment": ENV, "tasks": 3, "cpus_per_task": 2})
        self.assertEqual(desc["num_tasks"], 3)
        self.assertEqual(desc["cpus_per_task"], 2)
        self.assertEqual(desc["min_cpus"], 6)
        self.assertEqual(desc["bitflags"], enums.JOB_NTASKS_SET | enums.JOB_CPUS_SET)

    def test_numbers_as_text_convert_like_data_t(self):
        desc = submit({"environment": ENV, "tasks": "2", "nice": "-5", "time_limit": "1:30:00"})
        self.assertEqual(desc["num_tasks"], 2)
        self.assertEqual(desc["nice"], NICE_OFFSET - 5)
        self.assertEqual(desc["time_limit"], 90)

    def test_time_limit_forms(self):
        for text, minutes in (("5", 5), (5, 5), ("0", INFINITE), ("UNLIMITED", INFINITE),
                              ("1-00:00:00", 1440), ("2-3", 2 * 1440 + 180), ("10:30", 11),
                              ("1:00:01", 61)):
            self.assertEqual(submit({"environment": ENV, "time_limit": text})["time_limit"],
                             minutes, text)

    def test_memory(self):
        self.assertEqual(submit({"environment": ENV, "memory_per_node": "2G"})["pn_min_memory"],
                         2048)
        self.assertEqual(submit({"environment": ENV, "memory_per_cpu": 200})["pn_min_memory"],
                         200 | MEM_PER_CPU)
        # per node wins over per cpu, as in slurm_opt_create_job_desc
        both = submit({"environment": ENV, "memory_per_cpu": 200, "memory_per_node": 300})
        self.assertEqual(both["pn_min_memory"], 300)
        self.assertEqual(submit({"environment": ENV, "memory_per_node": "1536K"})["pn_min_memory"],
                         2)
        self.assertEqual(
            submit({"environment": ENV, "temporary_disk_per_node": "1G"})["pn_min_tmp_disk"],
            1024)

    def test_nodes_forms(self):
        desc = submit({"environment": ENV, "nodes": "1-2"})
        self.assertEqual((desc["min_nodes"], desc["max_nodes"]), (1, 2))
        desc = submit({"environment": ENV, "nodes": 2})
        self.assertEqual((desc["min_nodes"], desc["max_nodes"]), (2, 2))
        desc = submit({"environment": ENV, "nodes": [1, 3]})
        self.assertEqual((desc["min_nodes"], desc["max_nodes"]), (1, 3))

    def test_hold_and_priority(self):
        self.assertEqual(submit({"environment": ENV, "hold": True})["priority"], 0)
        self.assertEqual(update({"hold": False})["priority"], INFINITE)
        self.assertEqual(update({"priority": 100})["priority"], 100)
        self.assertEqual(update({"priority": "TOP"})["priority"], NO_VAL - 1)

    def test_array_forms(self):
        for spec in ("1-1000%10", "1,3,5", "0-15:4", "7", "1-3,8-9%2"):
            self.assertEqual(submit({"environment": ENV, "array": spec})["array_inx"], spec)

    def test_signal(self):
        desc = submit({"environment": ENV, "signal": "USR1@30"})
        self.assertEqual((desc["warn_signal"], desc["warn_time"], desc["warn_flags"]),
                         (10, 30, 0))
        desc = submit({"environment": ENV, "signal": "B:SIGTERM"})
        self.assertEqual((desc["warn_signal"], desc["warn_time"], desc["warn_flags"]),
                         (15, 60, enums.KILL_JOB_BATCH))
        desc = submit({"environment": ENV, "signal": "12"})
        self.assertEqual(desc["warn_signal"], 12)

    def test_exclusive_and_oversubscribe(self):
        self.assertEqual(submit({"environment": ENV, "exclusive": "user"})["shared"],
                         enums.JOB_SHARED_USER)
        self.assertEqual(submit({"environment": ENV, "exclusive": True})["shared"],
                         enums.JOB_SHARED_NONE)
        self.assertEqual(submit({"environment": ENV, "exclusive": "mcs"})["shared"],
                         enums.JOB_SHARED_MCS)
        self.assertNotIn("shared", submit({"environment": ENV, "exclusive": False}))
        self.assertEqual(submit({"environment": ENV, "oversubscribe": True})["shared"],
                         enums.JOB_SHARED_OK)

    def test_boolean_flags_honour_their_value(self):
        self.assertEqual(submit({"environment": ENV, "requeue": False})["requeue"], 0)
        self.assertEqual(submit({"environment": ENV, "requeue": True})["requeue"], 1)
        self.assertEqual(submit({"environment": ENV, "spread_job": True})["bitflags"],
                         enums.SPREAD_JOB)
        self.assertNotIn("bitflags", submit({"environment": ENV, "spread_job": False}))
        self.assertEqual(submit({"environment": ENV,
                                 "kill_on_invalid_dependency": "no"})["bitflags"],
                         enums.NO_KILL_INV_DEP)

    def test_strings_reach_their_fields(self):
        doc = {"environment": ENV, "account": "science", "qos": "normal", "comment": "c",
               "dependency": "afterok:1", "licenses": "matlab:1", "reservation": "maint",
               "standard_error": "none", "standard_input": "/dev/zero", "mail_user": "a@b",
               "exclude_nodes": "n1", "nodelist": "n2", "wckey": "w", "prefer": "p",
               "burst_buffer": "bb", "container": "/c", "cluster_constraint": "cc"}
        desc = submit(doc)
        self.assertEqual(
            {k: desc[k] for k in ("account", "qos", "comment", "dependency", "licenses",
                                  "reservation", "std_err", "std_in", "mail_user", "exc_nodes",
                                  "req_nodes", "wckey", "prefer", "burst_buffer", "container",
                                  "cluster_features")},
            {"account": "science", "qos": "normal", "comment": "c", "dependency": "afterok:1",
             "licenses": "matlab:1", "reservation": "maint", "std_err": "/dev/null",
             "std_in": "/dev/zero", "mail_user": "a@b", "exc_nodes": "n1", "req_nodes": "n2",
             "wckey": "w", "prefer": "p", "burst_buffer": "bb", "container": "/c",
             "cluster_features": "cc"})
        self.assertIn("SLURM_JOB_DEPENDENCY=afterok:1", desc["environment"])

    def test_gres_and_gpus(self):
        desc = submit({"environment": ENV, "gres": "gpu:2,foo", "gpus_per_node": "1"})
        self.assertEqual(desc["tres_per_node"], "gres:gpu:1,gres:gpu:2,gres:foo")
        desc = submit({"environment": ENV, "gpus": "a100:2", "cpus_per_gpu": 4,
                       "memory_per_gpu": "1G", "gres_flags": "enforce-binding"})
        self.assertEqual(desc["tres_per_job"], "gres:gpu:a100:2")
        self.assertEqual(desc["cpus_per_tres"], "gres:gpu:4")
        self.assertEqual(desc["mem_per_tres"], "gres:gpu:1024")
        self.assertEqual(desc["bitflags"], enums.GRES_ENFORCE_BIND)
        self.assertNotIn("tres_per_node", submit({"environment": ENV, "gres": "none"}))

    def test_mail_type(self):
        self.assertEqual(submit({"environment": ENV, "mail_type": "BEGIN,END"})["mail_type"], 3)
        self.assertEqual(submit({"environment": ENV, "mail_type": "ALL"})["mail_type"],
                         enums.MAIL_ALL)

    def test_begin_time(self):
        self.assertEqual(submit({"environment": ENV, "begin_time": 1900000000})["begin_time"],
                         1900000000)
        self.assertEqual(
            submit({"environment": ENV, "begin_time": "uts1900000000"})["begin_time"],
            1900000000)
        self.assertEqual(job_values.parse_time("now+1hour", now=1900000000), 1900003600)
        self.assertEqual(job_values.parse_time("now-90", now=1900000000), 1899999910)
        self.assertEqual(job_values.parse_time("now+2days", now=1900000000), 1900172800)
        self.assertEqual(job_values.parse_time("2030-01-02T03:04:05"),
                         int(time.mktime((2030, 1, 2, 3, 4, 5, 0, 0, -1))))

    def test_yaml_timestamps(self):
        # what the web room's YAML decoder hands over for `begin_time: 2030-01-02T03:04:05`
        import datetime
        desc = submit({"environment": ENV, "begin_time": datetime.datetime(2030, 1, 2, 3, 4, 5),
                       "deadline": datetime.date(2030, 1, 3)})
        self.assertEqual(desc["begin_time"], int(time.mktime((2030, 1, 2, 3, 4, 5, 0, 0, -1))))
        self.assertEqual(desc["deadline"], int(time.mktime((2030, 1, 3, 0, 0, 0, 0, 0, -1))))
        desc = submit({"environment": {1: "x", "A": datetime.date(2030, 1, 3)}})
        self.assertEqual(desc["environment"][:2], ["1=x", "A=2030-01-03"])

    def test_distribution_and_cpu_frequency(self):
        desc = submit({"environment": ENV, "distribution": "block:cyclic,Pack"})
        self.assertEqual(desc["task_dist"], 0x12 | enums.SLURM_DIST_PACK_NODES)
        desc = submit({"environment": ENV, "distribution": "plane=4"})
        self.assertEqual((desc["task_dist"], desc["plane_size"]), (4, 4))
        desc = submit({"environment": ENV, "cpu_frequency": "low-high:performance"})
        self.assertEqual((desc["cpu_freq_min"], desc["cpu_freq_max"], desc["cpu_freq_gov"]),
                         (0x80000001, 0x80000003, 0x82000000))

    def test_core_and_thread_specification(self):
        self.assertEqual(submit({"environment": ENV, "core_specification": 1})["core_spec"], 1)
        self.assertEqual(submit({"environment": ENV, "thread_specification": 2})["core_spec"],
                         2 | 0x8000)

    def test_environment_values_become_text(self):
        desc = submit({"environment": {"A": 1, "B": True, "C": None, "D": "x=y"}})
        self.assertEqual(desc["environment"], ["A=1", "B=true", "C=", "D=x=y"])

    def test_argv(self):
        self.assertEqual(submit({"environment": ENV, "argv": ["a", "b c"]})["argv"],
                         ["a", "b c"])

    def test_session_id_is_alloc_sid(self):
        descs, _ = jd.submission({"script": SCRIPT, "job": {"environment": ENV}},
                                 session_id=4242)
        self.assertEqual(descs[0]["alloc_sid"], 4242)


class HetJobTests(unittest.TestCase):
    def test_components_in_order_script_on_the_leader(self):
        descs, het = jd.submission({"script": SCRIPT, "jobs": [
            {"environment": ENV, "partition": "debug", "tasks": 1},
            {"environment": ENV, "partition": "long", "tasks": 2}]})
        self.assertTrue(het)
        self.assertEqual([d["partition"] for d in descs], ["debug", "long"])
        self.assertEqual([d["num_tasks"] for d in descs], [1, 2])
        self.assertEqual(descs[0]["script"], SCRIPT)
        self.assertNotIn("script", descs[1])

    def test_every_component_is_checked(self):
        with self.assertRaises(jd.JobDocumentError) as cm:
            jd.submission({"script": SCRIPT, "jobs": [
                {"environment": ENV, "bogus": 1},
                {"environment": ENV},
                {"partition": "long", "tasks": 0}]})
        sources = [e["source"] for e in cm.exception.errors]
        self.assertEqual(sources, ["jobs[0].bogus", "jobs[2].tasks"])
        self.assertEqual(cm.exception.status, 400)

    def test_missing_environment_in_a_component(self):
        with self.assertRaises(jd.JobDocumentError) as cm:
            jd.submission({"script": SCRIPT, "jobs": [{"environment": ENV}, {"name": "x"}]})
        self.assertEqual([(e["error_number"], e["source"]) for e in cm.exception.errors],
                         [(jd.ESLURM_ENVIRONMENT_MISSING, "jobs[1].environment")])

    def test_empty_list(self):
        with self.assertRaises(jd.JobDocumentError) as cm:
            jd.submission({"script": SCRIPT, "jobs": []})
        self.assertEqual(cm.exception.errors[0]["error_number"], jd.ESLURM_REST_INVALID_JOBS_DESC)


class BadDocumentTests(unittest.TestCase):
    def assertRefused(self, body, *expected):
        """``expected``: (error_number, source) of each error, in order."""
        with self.assertRaises(jd.JobDocumentError) as cm:
            jd.submission(body)
        self.assertEqual(cm.exception.status, 400)
        got = [(e["error_number"], e["source"]) for e in cm.exception.errors]
        self.assertEqual(got, list(expected))
        for e in cm.exception.errors:
            self.assertEqual(set(e), {"error_number", "error_code", "error", "description",
                                      "source"})
            self.assertEqual(e["error_code"], e["error_number"])
            self.assertTrue(e["error"] and e["description"])
        return cm.exception.errors

    def test_unknown_field(self):
        errors = self.assertRefused({"script": SCRIPT, "job": {"environment": ENV,
                                                               "bogus_field": 1}},
                                    (jd.ESLURM_REST_FAIL_PARSING, "job.bogus_field"))
        self.assertIn('Unknown key "bogus_field"', errors[0]["description"])

    def test_disabled_field(self):
        self.assertRefused({"script": SCRIPT, "job": {"environment": ENV, "user_id": 0}},
                           (jd.ESLURM_REST_FAIL_PARSING, "job.user_id"))

    def test_no_script(self):
        self.assertRefused({"job": {"environment": ENV}},
                           (jd.ESLURM_JOB_SCRIPT_MISSING, "script"))
        self.assertRefused({"script": "", "job": {"environment": ENV}},
                           (jd.ESLURM_JOB_SCRIPT_MISSING, "script"))
        self.assertRefused({"script": ["x"], "job": {"environment": ENV}},
                           (jd.ESLURM_JOB_SCRIPT_MISSING, "script"))

    def test_no_environment(self):
        errors = self.assertRefused({"script": SCRIPT, "job": {"name": "x"}},
                                    (jd.ESLURM_ENVIRONMENT_MISSING, "job.environment"))
        self.assertEqual(errors[0]["description"], "environment must be set")
        self.assertRefused({"script": SCRIPT, "job": {"environment": {}}},
                           (jd.ESLURM_ENVIRONMENT_MISSING, "job.environment"))

    def test_no_job(self):
        self.assertRefused({"script": SCRIPT}, (jd.ESLURM_REST_INVALID_JOBS_DESC, "job"))
        self.assertRefused({"script": SCRIPT, "job": "x"},
                           (jd.ESLURM_REST_INVALID_JOBS_DESC, "job"))

    def test_unknown_top_level_key(self):
        self.assertRefused({"script": SCRIPT, "job": {"environment": ENV}, "jbo": {}},
                           (jd.ESLURM_REST_FAIL_PARSING, "jbo"))

    def test_wrong_types(self):
        self.assertRefused(
            {"script": SCRIPT, "job": {"environment": ["PATH=/bin"], "tasks": "many",
                                       "hold": "perhaps", "name": {"a": 1},
                                       "cpus_per_task": 0, "argv": "x"}},
            (jd.ESLURM_REST_FAIL_PARSING, "job.environment"),
            (jd.ESLURM_DATA_CONV_FAILED, "job.tasks"),
            (jd.ESLURM_DATA_CONV_FAILED, "job.hold"),
            (jd.ESLURM_DATA_CONV_FAILED, "job.name"),
            (jd.ESLURM_REST_FAIL_PARSING, "job.cpus_per_task"),
            (jd.ESLURM_REST_FAIL_PARSING, "job.argv"))

    def test_bad_values(self):
        for key, value in (("time_limit", "forever"), ("memory_per_node", "lots"),
                           ("nodes", "2-1"), ("nodes", [1, 2, 3]), ("array", "1-"),
                           ("array", "5-1"), ("signal", "BOGUS"), ("signal", "USR1@x"),
                           ("mail_type", "SOMETIMES"), ("exclusive", "always"),
                           ("open_mode", "x"), ("nice", 2**31), ("priority", 0),
                           ("begin_time", "someday"), ("distribution", "spiral"),
                           ("gres_flags", "x"), ("umask", "999"), ("wait_all_nodes", 2),
                           ("cores_per_socket", 70000), ("test_only", True),
                           ("environment", {"A": {"b": 1}})):
            with self.assertRaises(jd.JobDocumentError, msg=f"{key}={value!r}") as cm:
                jd.submission({"script": SCRIPT, "job": {"environment": ENV, key: value}})
            self.assertEqual(cm.exception.errors[0]["source"], f"job.{key}")

    def test_not_an_object(self):
        self.assertRefused([1, 2], (jd.ESLURM_REST_INVALID_QUERY, "body"))


class UpdateDocumentTests(unittest.TestCase):
    def test_only_named_fields_are_sent(self):
        desc = update({"comment": "updated via REST", "time_limit": 7})
        self.assertEqual(desc, {"comment": "updated via REST", "time_limit": 7})

    def test_no_environment_needed_and_none_sent(self):
        desc = update({"name": "new", "environment": ENV})
        self.assertEqual(desc["name"], "new")
        self.assertNotIn("environment", desc)
        self.assertNotIn("work_dir", desc)
        self.assertNotIn("mail_type", desc)

    def test_partition_nice_and_release(self):
        desc = update({"partition": "long", "nice": 10, "hold": False})
        self.assertEqual((desc["partition"], desc["nice"], desc["priority"]),
                         ("long", NICE_OFFSET + 10, INFINITE))

    def test_array_throttle(self):
        self.assertEqual(update({"array": "%3"})["array_inx"], "3")
        self.assertEqual(update({"array": 2})["array_inx"], "2")
        with self.assertRaises(jd.JobDocumentError):
            update({"array": "1-5"})

    def test_bad_update(self):
        with self.assertRaises(jd.JobDocumentError) as cm:
            update({"time_limit": "soon", "nope": 1})
        self.assertEqual([e["source"] for e in cm.exception.errors],
                         ["time_limit", "nope"])


class OptionParserTests(unittest.TestCase):
    def test_str_to_mbytes(self):
        for text, mb in (("100", 100), ("1K", 1), ("1025k", 2), ("3M", 3), ("2g", 2048),
                         ("1T", 1048576), ("2GB", 2048)):
            self.assertEqual(job_values.str_to_mbytes(text), mb, text)
        for text in ("", "x", "-1", "1Q", "1B"):
            self.assertEqual(job_values.str_to_mbytes(text), NO_VAL64, text)

    def test_signal_number(self):
        for text, n in (("KILL", 9), ("SIGKILL", 9), ("sigusr1", 10), ("USR2", 12), ("15", 15),
                        (" TERM ", 15), ("BOGUS", 0), ("15x", 0), ("SIGUSR1X", 0)):
            self.assertEqual(job_values.signal_number(text), n, text)

    def test_node_count(self):
        self.assertEqual(job_values.node_count("3"), (3, 3))
        self.assertEqual(job_values.node_count("1-4"), (1, 4))
        self.assertRaises(job_values.InvalidValue, job_values.node_count, "2-")
        self.assertRaises(job_values.InvalidValue, job_values.node_count, "x")
        self.assertEqual(job_values.node_count("1k"), (1024, 1024))


# -- any document: refused cleanly, or a job_desc the codec can pack -----------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from slurmrest.wire.tables.v22_05 import JOB_DESC  # noqa: E402

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                     st.floats(allow_nan=True, allow_infinity=True),
                     st.text(max_size=12), st.sampled_from(
                         ["1-2", "0", "-1", "UNLIMITED", "2G", "USR1@30", "B:TERM", "1-10%2",
                          "now+1hour", "user", "true", "none", "low-high", "plane=2",
                          "block:cyclic", "TOP", "1:00:00", "gpu:2", "enforce-binding"]))
_VALUES = st.one_of(_SCALARS, st.lists(_SCALARS, max_size=3),
                    st.dictionaries(st.text(max_size=5), _SCALARS, max_size=3))
_KEYS = st.one_of(st.sampled_from(sorted(job_keys.KEYS)), st.text(max_size=8))


class AnyDocumentTests(unittest.TestCase):
    @settings(max_examples=400, deadline=None)
    @given(st.dictionaries(_KEYS, _VALUES, max_size=6), st.booleans())
    def test_refused_or_packable(self, job, het):
        job = {"environment": ENV, **job}
        body = {"script": SCRIPT, "jobs" if het else "job": [job, job] if het else job}
        try:
            descs, _ = jd.submission(body, session_id=1)
        except jd.JobDocumentError as e:
            self.assertEqual(e.status, 400)
            for entry in e.errors:
                self.assertIsInstance(entry["error_number"], int)
                self.assertIsInstance(entry["description"], str)
            return
        for desc in descs:
            JOB_DESC.pack(desc)  # every value fits its wire field

    @settings(max_examples=200, deadline=None)
    @given(st.dictionaries(_KEYS, _VALUES, max_size=6))
    def test_updates_refused_or_packable(self, doc):
        try:
            desc = jd.job_desc(doc, submit=False)
        except jd.JobDocumentError:
            return
        desc["job_id_str"] = "1"
        JOB_DESC.pack(desc)

    def test_out_of_range_values_are_refused_not_packed_wrong(self):
        # Each of these once reached the codec and failed there (or would have wrapped).
        for key, value in (("time_limit", 2**40), ("time_limit", "99999999999"),
                           ("delay_boot", "4294967295"), ("nodes", "99999999999"),
                           ("nodes", [1, 2**40]), ("cpu_frequency", "99999999999"),
                           ("memory_per_node", "9007199254740993T"), ("begin_time", 2**70),
                           ("name", "a\0b"), ("environment", {"A": "x\0"})):
            doc = {"environment": ENV, key: value}
            with self.assertRaises(jd.JobDocumentError, msg=f"{key}={value!r}"):
                jd.submission({"script": SCRIPT, "job": doc})
        with self.assertRaises(jd.JobDocumentError):
            jd.submission({"script": "#!/bin/sh\0", "job": {"environment": ENV}})
