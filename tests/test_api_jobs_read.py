"""Jobs: record → v0.0.38 job document (hand-built records first), job id parsing, the job list
cache, and GET /jobs, /job/{job_id} against the real test cluster (``SLURMREST_TEST_CLUSTER``)."""

import json
import os

from twisted.internet import defer
from twisted.trial import unittest

from slurmrest.api import job_records, jobs
from slurmrest.api.convert import INFINITE16, MEM_PER_CPU, NICE_OFFSET, NO_VAL, NO_VAL16
from slurmrest.api.registry import ApiError

# Job 17 of the reference samples (running, one core of n1) as RESPONSE_JOB_INFO decodes it.
JOB17 = {
    "array_job_id": 0, "array_task_id": NO_VAL, "array_task_str": None, "array_max_tasks": 0,
    "assoc_id": 6, "container": None, "delay_boot": 0, "job_id": 17, "user_id": 2001,
    "group_id": 2001, "het_job_id": 0, "het_job_id_set": None, "het_job_offset": 0,
    "profile": 0, "job_state": 1, "batch_flag": 1, "state_reason": 0, "power_flags": 0,
    "reboot": 0, "restart_cnt": 0, "show_flags": 0x13, "deadline": 0, "alloc_sid": 1,
    "time_limit": 5, "time_min": 0, "nice": NICE_OFFSET, "submit_time": 1795587159,
    "eligible_time": 1795587159, "accrue_time": 1795587159, "start_time": 1795587159,
    "end_time": 1795587459, "suspend_time": 0, "pre_sus_time": 0, "resize_time": 0,
    "last_sched_eval": 1795587159, "preempt_time": 0, "priority": 1, "billable_tres": 1.0,
    "cluster": "testcluster", "nodes": "n1", "sched_nodes": None, "partition": "debug",
    "account": "science", "admin_comment": None, "site_factor": NICE_OFFSET, "network": None,
    "comment": None, "batch_features": None, "batch_host": "n1", "burst_buffer": None,
    "burst_buffer_state": None, "system_comment": None, "qos": "normal",
    "preemptable_time": 0, "licenses": None, "state_desc": None, "resv_name": None,
    "mcs_label": None, "exit_code": 0, "derived_ec": 0, "gres_total": None,
    "job_resrcs": {
        "nhosts": 1, "ncpus": 1, "node_req": 1, "nodes": "n1", "whole_node": 0,
        "threads_per_core": 1, "cr_type": 0x14, "cpu_array_reps": [1], "cpu_array_value": [1],
        "cpus": [1], "cpus_used": [0], "memory_allocated": [100], "memory_used": [0],
        "sockets_per_node": [1], "cores_per_socket": [2], "sock_core_rep_count": [1],
        "core_bitmap": (2, "0x1"), "core_bitmap_used": (2, "0x0"),
    },
    "gres_detail_str": [], "name": "rest-single", "user_name": "alice", "wckey": None,
    "req_switch": 0, "wait4switch": 0, "alloc_node": "127.0.0.1", "node_inx": (4, "0x1"),
    "select_jobinfo": {"plugin_id": 109}, "features": None, "prefer": None,
    "cluster_features": None, "work_dir": "/var/lib/slurmtest/jobs", "dependency": None,
    "command": None, "num_cpus": 1, "max_cpus": 0, "num_nodes": 1, "max_nodes": 0,
    "requeue": 1, "ntasks_per_node": 0, "ntasks_per_tres": 0, "num_tasks": 1,
    "shared": NO_VAL16, "cpu_freq_min": NO_VAL, "cpu_freq_max": NO_VAL,
    "cpu_freq_gov": NO_VAL, "cronspec": None, "contiguous": 0, "core_spec": NO_VAL16,
    "cpus_per_task": 1, "pn_min_cpus": 1, "pn_min_memory": MEM_PER_CPU | 100,
    "pn_min_tmp_disk": 0, "req_nodes": None, "req_node_inx": None, "exc_nodes": None,
    "exc_node_inx": None, "std_err": None, "std_in": None,
    "std_out": "/var/lib/slurmtest/jobs/rest-%j.out",
    "multi_core": {"boards_per_node": 0, "sockets_per_board": 0, "sockets_per_node": NO_VAL16,
                   "cores_per_socket": NO_VAL16, "threads_per_core": NO_VAL16,
                   "ntasks_per_board": 0, "ntasks_per_socket": INFINITE16,
                   "ntasks_per_core": INFINITE16, "plane_size": 0},
    "bitflags": 0x40000 | 0x100000 | 0x100000000, "tres_alloc_str": "cpu=1,mem=100M,node=1,billing=1",
    "tres_req_str": "cpu=1,mem=100M,node=1,billing=1", "start_protocol_ver": 0x2600,
    "fed_origin_str": None, "fed_siblings_active": 0, "fed_siblings_active_str": None,
    "fed_siblings_viable": 0, "fed_siblings_viable_str": None, "cpus_per_tres": None,
    "mem_per_tres": None, "tres_bind": None, "tres_freq": None, "tres_per_job": None,
    "tres_per_node": None, "tres_per_socket": None, "tres_per_task": None, "mail_type": 0,
    "mail_user": None, "selinux_context": None,
}

# What the real slurmrestd 22.05.8 answered for it (reference sample GET /job/17).
JOB17_DOCUMENT = {'account': 'science', 'accrue_time': 1795587159, 'admin_comment': '', 'array_job_id': 0, 'array_task_id': None, 'array_max_tasks': 0, 'array_task_string': '', 'association_id': 6, 'batch_features': '', 'batch_flag': True, 'batch_host': 'n1', 'flags': ['JOB_ACCRUE_OVER', 'JOB_WAS_RUNNING'], 'burst_buffer': '', 'burst_buffer_state': '', 'cluster': 'testcluster', 'cluster_features': '', 'command': '', 'comment': '', 'container': '', 'contiguous': False, 'core_spec': None, 'thread_spec': None, 'cores_per_socket': None, 'billable_tres': 1.0, 'cpus_per_task': None, 'cpu_frequency_minimum': None, 'cpu_frequency_maximum': None, 'cpu_frequency_governor': None, 'cpus_per_tres': '', 'deadline': 0, 'delay_boot': 0, 'dependency': '', 'derived_exit_code': 0, 'eligible_time': 1795587159, 'end_time': 1795587459, 'excluded_nodes': '', 'exit_code': 0, 'features': '', 'federation_origin': '', 'federation_siblings_active': '', 'federation_siblings_viable': '', 'gres_detail': [], 'group_id': 2001, 'group_name': 'alice', 'job_id': 17, 'job_resources': {'nodes': 'n1', 'allocated_cores': 1, 'allocated_hosts': 1, 'allocated_nodes': [{'sockets': {'0': {'cores': {'0': 'allocated'}}}, 'nodename': 'n1', 'cpus_used': 0, 'memory_used': 0, 'memory_allocated': 100}]}, 'job_state': 'RUNNING', 'last_sched_evaluation': 1795587159, 'licenses': '', 'max_cpus': 0, 'max_nodes': 0, 'mcs_label': '', 'memory_per_tres': '', 'name': 'rest-single', 'nodes': 'n1', 'nice': None, 'tasks_per_core': None, 'tasks_per_node': 0, 'tasks_per_socket': None, 'tasks_per_board': 0, 'cpus': 1, 'node_count': 1, 'tasks': 1, 'het_job_id': 0, 'het_job_id_set': '', 'het_job_offset': 0, 'partition': 'debug', 'prefer': '', 'memory_per_node': None, 'memory_per_cpu': 100, 'minimum_cpus_per_node': 1, 'minimum_tmp_disk_per_node': 0, 'preempt_time': 0, 'pre_sus_time': 0, 'priority': 1, 'profile': None, 'qos': 'normal', 'reboot': False, 'required_nodes': '', 'requeue': True, 'resize_time': 0, 'restart_cnt': 0, 'resv_name': '', 'shared': None, 'show_flags': ['SHOW_ALL', 'SHOW_DETAIL', 'SHOW_LOCAL'], 'sockets_per_board': 0, 'sockets_per_node': None, 'start_time': 1795587159, 'state_description': '', 'state_reason': 'None', 'standard_error': '', 'standard_input': '', 'standard_output': '/var/lib/slurmtest/jobs/rest-%j.out', 'submit_time': 1795587159, 'suspend_time': 0, 'system_comment': '', 'time_limit': 5, 'time_minimum': 0, 'threads_per_core': None, 'tres_bind': '', 'tres_freq': '', 'tres_per_job': '', 'tres_per_node': '', 'tres_per_socket': '', 'tres_per_task': '', 'tres_req_str': 'cpu=1,mem=100M,node=1,billing=1', 'tres_alloc_str': 'cpu=1,mem=100M,node=1,billing=1', 'user_id': 2001, 'user_name': 'alice', 'wckey': '', 'current_working_directory': '/var/lib/slurmtest/jobs'}


class JobDocumentTests(unittest.TestCase):
    def test_matches_slurmrestd_sample(self):
        doc = job_records.job_document(JOB17)
        expected = dict(JOB17_DOCUMENT)
        # Deliberate fix: slurmrestd reports cpus_per_task only when cpu_freq_min is set.
        self.assertIsNone(expected["cpus_per_task"])
        expected["cpus_per_task"] = 1
        self.assertEqual(doc, expected)

    def test_key_order_is_slurmrestds(self):
        self.assertEqual(list(job_records.job_document(JOB17)), list(JOB17_DOCUMENT))

    def test_pending_array_meta_record(self):
        rec = dict(JOB17, job_state=0, array_job_id=20, job_id=20, array_task_id=NO_VAL,
                   array_task_str="0x7FE", array_max_tasks=2, job_resrcs=None, nodes=None,
                   state_reason=1, priority=0, nice=NICE_OFFSET + 10, num_tasks=NO_VAL)
        doc = job_records.job_document(rec)
        self.assertEqual(doc["array_task_string"], "1-10%2")
        self.assertIsNone(doc["array_task_id"])
        self.assertEqual(doc["job_state"], "PENDING")
        self.assertEqual(doc["state_reason"], "Priority")
        self.assertEqual(doc["nice"], 10)
        self.assertIsNone(doc["cpus"])
        self.assertIsNone(doc["tasks"])
        self.assertNotIn("job_resources", doc)

    def test_state_flags_take_precedence(self):
        doc = job_records.job_document(dict(JOB17, job_state=3 | 0x8000))
        self.assertEqual(doc["job_state"], "COMPLETING")

    def test_special_values(self):
        doc = job_records.job_document(dict(
            JOB17, core_spec=0x8000 | 2, pn_min_memory=2048, shared=0, contiguous=NO_VAL16,
            priority=NO_VAL, profile=0x1, time_limit=0xFFFFFFFF, cpu_freq_min=2000000,
            group_id=NO_VAL, user_name=None))
        self.assertEqual((doc["core_spec"], doc["thread_spec"]), (None, 2))
        self.assertEqual((doc["memory_per_node"], doc["memory_per_cpu"]), (2048, None))
        self.assertEqual(doc["shared"], "none")
        self.assertIsNone(doc["contiguous"])
        self.assertIsNone(doc["priority"])
        self.assertEqual(doc["profile"], ["None"])
        self.assertIsNone(doc["time_limit"])
        self.assertEqual(doc["cpu_frequency_minimum"], 2000000)
        self.assertIsNone(doc["group_id"])
        self.assertNotIn("group_name", doc)
        self.assertEqual(doc["user_name"], "alice")  # resolved locally from user_id

    def test_cpus_rather_than_cores(self):
        res = job_records.job_resources(JOB17["job_resrcs"], select_type_param=0x1 | 0x10)
        self.assertEqual(res["allocated_cpus"], 1)
        self.assertNotIn("allocated_cores", res)

    def test_allocated_cores_across_nodes(self):
        res = {"nhosts": 2, "ncpus": 3, "nodes": "n[3-4]", "cr_type": 0x14,
               "cpus_used": [0, 0], "memory_allocated": [100, 200], "memory_used": [0, 0],
               "sockets_per_node": [1], "cores_per_socket": [2], "sock_core_rep_count": [2],
               "core_bitmap": (4, "0xE"), "core_bitmap_used": (4, "0x4")}
        nodes = job_records.job_resources(res)["allocated_nodes"]
        self.assertEqual([n["nodename"] for n in nodes], ["n3", "n4"])
        self.assertEqual(nodes[0]["sockets"], {"0": {"cores": {"1": "allocated"}}})
        self.assertEqual(nodes[1]["sockets"],
                         {"0": {"cores": {"0": "allocated_and_in_use", "1": "allocated"}}})
        self.assertEqual(nodes[1]["memory_allocated"], 200)


class JobIdTests(unittest.TestCase):
    def test_forms(self):
        self.assertEqual(jobs.parse_job_id("123"), (123, None, None))
        self.assertEqual(jobs.parse_job_id("123_4"), (123, 4, None))
        self.assertEqual(jobs.parse_job_id("123+1"), (123, None, 1))

    def test_bad(self):
        for text in ("abc", "12abc", "0", "", "1_", "1+", "1_2_3", "-5", str(NO_VAL)):
            e = self.assertRaises(ApiError, jobs.parse_job_id, text)
            self.assertEqual(e.status, 400)
            self.assertEqual(e.errors[0]["error_number"], 9002)
            self.assertEqual(e.errors[0]["description"], f"Unable to find JobId={text}")
