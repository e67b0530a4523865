"""Pure conversions of GET /slurmdb/.../jobs: job and step records to documents
(``api.slurmdb.job_documents``) and query parameters to ``job_cond`` (``job_query``).
The live behaviour against slurmdbd, sacct and slurmrestd is in ``test_slurmdb_jobs``."""

import grp
import os

from twisted.trial import unittest

from slurmrest.api.errors import ApiError
from slurmrest.api.slurmdb import job_documents as D
from slurmrest.api.slurmdb import job_query as Q
from slurmrest.wire import enums
from slurmrest.wire.primitives import (
    INFINITE, MEM_PER_CPU, NO_VAL, NO_VAL64, SLURM_BATCH_SCRIPT, SLURM_EXTERN_CONT)
from slurmrest.wire.tables import dbd_v22_05 as T
from tests.test_converter_keys import ReadKeys, decoded

TRES = {1: {"id": 1, "type": "cpu", "name": ""}, 2: {"id": 2, "type": "mem", "name": ""},
        3: {"id": 3, "type": "energy", "name": ""}, 4: {"id": 4, "type": "node", "name": ""},
        1001: {"id": 1001, "type": "gres", "name": "gpu"}}
QOS = {1: {"id": 1, "name": "normal"}, 2: {"id": 2, "name": "high"}}
ASSOCS = {("c1", 6): {"id": 6, "acct": "science", "cluster": "c1", "partition": None,
                      "user": "alice"}}


def names():
    return D.JobNames(TRES, QOS, ASSOCS)


def job_record(**fields):
    base = {"jobid": 42, "cluster": "c1", "associd": 6, "qosid": 1, "exitcode": 3 << 8,
            "derived_ec": 0, "state": enums.JOB_FAILED, "gid": os.getgid(), "uid": 0,
            "requid": INFINITE, "array_task_id": NO_VAL, "het_job_offset": NO_VAL,
            "timelimit": INFINITE, "req_mem": MEM_PER_CPU | 100, "flags": 0x4,
            "tres_alloc_str": "1=2,2=200,3=" + str(NO_VAL64), "tres_req_str": "1=2,1001=1",
            "wckey": "*w", "steps_count": 1,
            "steps": [{"step_id": SLURM_BATCH_SCRIPT, "job_id": 42, "step_het_comp": NO_VAL,
                       "nodes": "n[1-2]", "nnodes": 2, "exitcode": 9, "state": 4,
                       "stepname": "batch", "task_dist": 0x2 | 0x800000,
                       "req_cpufreq_gov": enums.CPU_FREQ_PERFORMANCE,
                       "stats": {"tres_usage_in_max": "1=30,2=5",
                                 "tres_usage_in_max_nodeid": "1=1,2=0",
                                 "tres_usage_in_max_taskid": "1=3,2=0",
                                 "tres_usage_in_ave": "3=0"}}]}
    base.update(fields)
    return decoded(T.JOB_REC, base)


class ExitCodes(unittest.TestCase):
    def test_success(self):
        self.assertEqual(D.exit_code(0), {"status": "SUCCESS", "return_code": 0})

    def test_nonzero_exit_is_an_error_with_its_code(self):
        # slurmrestd 22.05 says SUCCESS/0 here; sacct says 3:0
        self.assertEqual(D.exit_code(3 << 8), {"status": "ERROR", "return_code": 3})

    def test_signal_has_its_name(self):
        self.assertEqual(D.exit_code(9), {"status": "SIGNALED", "return_code": None,
                                          "signal": {"signal_id": 9, "name": "Killed"}})
        self.assertEqual(D.exit_code(10)["signal"]["name"], "User defined signal 1")

    def test_pending_as_int32(self):
        self.assertEqual(D.exit_code(-2), {"status": "PENDING", "return_code": None})

    def test_unknown_signal_is_named_anyway(self):
        self.assertTrue(D.signal_name(200).startswith("Unknown signal"))


class Values(unittest.TestCase):
    def test_u32_low_bits_and_specials(self):
        self.assertEqual(D.u32(MEM_PER_CPU | 100), 100)
        self.assertIsNone(D.u32(NO_VAL))
        self.assertIsNone(D.u32(INFINITE))
        self.assertIsNone(D.u32(NO_VAL64))
        self.assertEqual(D.u32(0), 0)

    def test_frequency(self):
        self.assertEqual(D._frequency(2599.0), 2599)
        self.assertIsNone(D._frequency(float("nan")))
        self.assertEqual(D._frequency(None), 0)

    def test_wckey(self):
        self.assertEqual(D.wckey("*x"), {"wckey": "x", "flags": ["ASSIGNED_DEFAULT"]})
        self.assertEqual(D.wckey(""), {"wckey": "", "flags": []})
        self.assertIsNone(D.wckey(None))

    def test_job_flags(self):
        self.assertEqual(D.job_flags(0x4), ["CLEAR_SCHEDULING", "STARTED_ON_SCHEDULE"])
        self.assertEqual(D.job_flags(0), [])

    def test_governors_whole_bits_only(self):
        self.assertEqual(D.governors(enums.CPU_FREQ_PERFORMANCE), ["Performance"])
        self.assertEqual(D.governors(NO_VAL), [])
        self.assertEqual(D.governors(0), [])

    def test_task_distribution(self):
        self.assertEqual(enums.task_dist_name(0), "Unknown")
        self.assertEqual(enums.task_dist_name(0x2 | 0x800000), "Block,Pack")
        self.assertEqual(enums.task_dist_name(0x2000), "Unknown")
        self.assertEqual(enums.task_dist_name(0x0122), "BBlockCyclic")

    def test_state_and_reason_numbers(self):
        self.assertEqual(enums.job_state_base_number("completed"), enums.JOB_COMPLETE)
        self.assertEqual(enums.job_state_base_number("CA"), enums.JOB_CANCELLED)
        self.assertEqual(enums.job_state_base_number("oom"), enums.JOB_OOM)
        self.assertIsNone(enums.job_state_base_number("bogus"))
        self.assertEqual(enums.job_reason_number("priority"), 1)
        self.assertIsNone(enums.job_reason_number("no such reason"))


class Documents(unittest.TestCase):
    def test_job_document(self):
        doc = D.job_document(job_record(), names())
        self.assertEqual(doc["job_id"], 42)
        self.assertEqual(doc["association"], {"account": "science", "cluster": "c1",
                                              "partition": None, "user": "alice"})
        self.assertEqual(doc["qos"], "normal")
        self.assertEqual(doc["state"], {"current": "FAILED", "reason": "None"})
        self.assertEqual(doc["exit_code"], {"status": "ERROR", "return_code": 3})
        self.assertEqual(doc["required"], {"CPUs": 0, "memory": 100})
        self.assertIsNone(doc["time"]["limit"])
        self.assertIsNone(doc["kill_request_user"])
        self.assertEqual(doc["group"], grp.getgrgid(os.getgid()).gr_name)
        self.assertEqual(doc["wckey"], {"wckey": "w", "flags": ["ASSIGNED_DEFAULT"]})
        self.assertEqual(doc["het"], {"job_id": 0, "job_offset": None})
        self.assertEqual(doc["array"]["task_id"], None)
        self.assertEqual(doc["reservation"], {"id": 0, "name": 0})
        self.assertEqual(doc["tres"]["allocated"], [
            {"type": "cpu", "name": None, "id": 1, "count": 2},
            {"type": "mem", "name": None, "id": 2, "count": 200},
            {"type": "energy", "name": None, "id": 3, "count": None}])
        self.assertEqual(doc["tres"]["requested"][1],
                         {"type": "gres", "name": "gpu", "id": 1001, "count": 1})

    def test_step_document(self):
        step = D.job_document(job_record(), names())["steps"][0]
        self.assertEqual(step["step"], {"job_id": 42, "het": {"component": None},
                                        "id": "batch", "name": "batch"})
        self.assertEqual(step["nodes"], {"list": ["n1", "n2"], "count": 2, "range": "n[1-2]"})
        self.assertEqual(step["exit_code"]["status"], "SIGNALED")
        self.assertEqual(step["state"], "CANCELLED")
        self.assertEqual(step["task"], {"distribution": "Block,Pack"})
        self.assertEqual(step["CPU"]["governor"], ["Performance"])
        # max usage: per TRES of slurmdbd's table, with the node (an index) and the task
        self.assertEqual(step["tres"]["requested"]["max"], [
            {"type": "cpu", "name": None, "id": 1, "count": 30, "task": 3, "node": "n2"},
            {"type": "mem", "name": None, "id": 2, "count": 5, "task": 0, "node": "n1"}])
        self.assertEqual(step["tres"]["requested"]["min"], [])
        self.assertEqual(step["tres"]["requested"]["average"],
                         [{"type": "energy", "name": None, "id": 3, "count": 0}])

    def test_unknown_ids(self):
        doc = D.job_document(job_record(associd=99, qosid=7, tres_req_str="77=1"), names())
        self.assertEqual(doc["association"], {"id": 99, "account": None, "cluster": None,
                                              "partition": None, "user": None})
        self.assertIsNone(doc["qos"])  # slurmrestd fails the whole answer here
        self.assertEqual(doc["tres"]["requested"],
                         [{"type": None, "name": None, "id": 77, "count": 1}])

    def test_association_ids_are_per_cluster(self):
        doc = D.job_document(job_record(cluster="c2"), names())
        self.assertIsNone(doc["association"]["account"])

    def test_reads_only_decoded_keys(self):
        read, missing = set(), set()
        D.job_document(ReadKeys(job_record(), "job", read, missing), names())
        self.assertEqual(missing, set())
        self.assertIn("job.steps.stats", read)

    def test_recurring_parts_are_converted_once(self):
        n = names()
        self.assertIs(n.tres_list("1=2"), n.tres_list("1=2"))
        self.assertIs(n.hosts("n[1-2]"), n.hosts("n[1-2]"))
        self.assertEqual(n.hosts("n[1-2]"), ["n1", "n2"])


class StepIds(unittest.TestCase):
    def test_forms(self):
        self.assertEqual(Q.selected_step("123"), {
            "job_id": 123, "step_id": NO_VAL, "step_het_comp": NO_VAL,
            "array_task_id": NO_VAL, "het_job_offset": NO_VAL})
        self.assertEqual(Q.selected_step("123_4")["array_task_id"], 4)
        self.assertEqual(Q.selected_step("123+1")["het_job_offset"], 1)
        self.assertEqual(Q.selected_step("123.batch")["step_id"], SLURM_BATCH_SCRIPT)
        self.assertEqual(Q.selected_step("123.extern")["step_id"], SLURM_EXTERN_CONT)
        self.assertEqual(Q.selected_step("123.0+2")["step_het_comp"], 2)
        self.assertEqual(Q.selected_step("123_4.1")["step_id"], 1)

    def test_malformed(self):
        # slurmrestd 22.05 calls fatal() and dies on these
        for text in ("abc", "", "0", "12x", "123.bogus", "123_", "123.-1", "4294967294",
                     "1_99999999999", "1+4294967296", "1.0+99999999999"):
            self.assertIsNone(Q.selected_step(text), text)


class Conditions(unittest.TestCase):
    def query(self, params, **kw):
        kw.setdefault("cluster", "c1")
        kw.setdefault("qos_by_id", QOS)
        kw.setdefault("null_without_params", True)
        return Q.job_query(params, **kw)

    def refused(self, params):
        with self.assertRaises(ApiError) as caught:
            self.query(params)
        self.assertEqual(caught.exception.status, 400)
        return caught.exception.errors[0]

    def test_no_parameters(self):
        self.assertIsNone(self.query({}).cond)  # v0.0.38: slurmdbd's NULL condition
        cond = self.query({}, null_without_params=False).cond  # v1: sacct's defaults
        self.assertEqual(cond["cluster_list"], ["c1"])
        self.assertEqual(cond["flags"], enums.JOBCOND_FLAG_DUP | enums.JOBCOND_FLAG_NO_TRUNC)
        self.assertEqual(cond["db_flags"], enums.SLURMDB_JOB_FLAG_NOTSET)
        self.assertNotIn("usage_start", cond)  # slurmdbd's midnight..now

    def test_lists(self):
        cond = self.query({"account": "a,b,a", "cluster": "x", "state": "completed,CA,5",
                           "qos": "normal,2", "groups": "0", "group": "0",
                           "reason": "Priority", "step": "7.batch,8_1",
                           "association": "3", "node": "n[1-2]"}).cond
        self.assertEqual(cond["acct_list"], ["a", "b"])
        self.assertEqual(cond["cluster_list"], ["x"])
        self.assertEqual(cond["state_list"], ["3", "4", "5"])
        self.assertEqual(cond["qos_list"], ["1", "2"])
        self.assertEqual(cond["groupid_list"], ["0"])
        self.assertEqual(cond["reason_list"], ["1"])
        self.assertEqual([s["job_id"] for s in cond["step_list"]], [7, 8])
        self.assertEqual(cond["associd_list"], ["3"])
        self.assertEqual(cond["used_nodes"], "n[1-2]")

    def test_group_names(self):
        name = grp.getgrgid(os.getgid()).gr_name
        cond = self.query({"group": name}).cond
        self.assertEqual(cond["groupid_list"], [str(os.getgid())])

    def test_flags_and_numbers(self):
        cond = self.query({"skip_steps": True, "disable_wait_for_result": False,
                           "cpus_min": "2", "nodes_max": "3"}).cond
        self.assertTrue(cond["flags"] & enums.JOBCOND_FLAG_NO_STEP)
        self.assertFalse(cond["flags"] & enums.JOBCOND_FLAG_NO_WAIT)
        self.assertEqual((cond["cpus_min"], cond["nodes_max"]), (2, 3))

    def test_times(self):
        cond = self.query({"start_time": "uts1700000000", "end_time": "2030-01-01"}).cond
        self.assertEqual(cond["usage_start"], 1700000000)
        self.assertGreater(cond["usage_end"], 1700000000)
        cond = self.query({"submit_time": "uts1700000000"}).cond
        self.assertTrue(cond["flags"] & enums.JOBCOND_FLAG_NO_DEFAULT_USAGE)

    def test_exit_code(self):
        query = self.query({"exit_code": "3"})
        self.assertEqual(query.exit_code, 3)
        self.assertTrue(D.exit_code(3 << 8)["return_code"] == query.exit_code)

    def test_refusals(self):
        self.assertEqual(self.refused({"state": "bogus"})["source"], "state")
        self.assertEqual(self.refused({"start_time": "garbage"})["description"],
                         "Unable to parse time format")
        self.assertEqual(self.refused({"start_time": "uts1700000000",
                                       "submit_time": "uts1700000000"})["description"],
                         "start_time and submit_time are mutually exclusive")
        self.assertEqual(self.refused({"step": "abc"})["description"],
                         "Unable to parse job/step format")
        self.refused({"account": ""})
        self.refused({"cpus_min": "x"})
        self.refused({"qos": "nosuchqos"})
        self.refused({"group": "no-such-group-here"})
        self.refused({"association": "x"})
        self.refused({"exit_code": "x"})

    def test_single_job(self):
        cond = Q.single_job_cond("5_2", "c1")
        self.assertEqual(cond["step_list"][0]["array_task_id"], 2)
        self.assertEqual(cond["cluster_list"], ["c1"])
        with self.assertRaises(ApiError):
            Q.single_job_cond("abc", "c1")
