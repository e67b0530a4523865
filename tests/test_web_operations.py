"""The first operations' documents (ping, diag, licenses) from decoded Slurm records: the
arithmetic and names slurmrestd uses. Live comparisons are in ``test_server_live``."""

from __future__ import annotations

from twisted.trial import unittest

from slurmrest.api.diag import STATISTICS_FIELDS, message_type_name, statistics_document
from slurmrest.api.licenses import license_document
from slurmrest.api.meta import meta, slurm_version
from slurmrest.api.ping import controller_mode


class PingTests(unittest.TestCase):
    def test_modes(self):
        self.assertEqual(controller_mode(0, 1), "primary")
        self.assertEqual(controller_mode(1, 2), "backup")
        self.assertEqual([controller_mode(i, 3) for i in range(3)],
                         ["primary", "backup1", "backup2"])


class DiagTests(unittest.TestCase):
    RECORD = {
        "parts_packed": 1, "req_time": 1000, "req_time_start": 700, "server_thread_count": 3,
        "schedule_cycle_sum": 100, "schedule_cycle_counter": 7, "schedule_cycle_depth": 15,
        "schedule_queue_len": 2, "bf_cycle_counter": 4, "bf_cycle_sum": 10, "bf_depth_sum": 9,
        "bf_depth_try_sum": 8, "bf_queue_len_sum": 7, "bf_table_size_sum": 6, "bf_active": 5,
        "rpc_type_id": [1008, 99999], "rpc_type_cnt": [3, 0], "rpc_type_time": [10, 0],
        "rpc_user_id": [0, 987654], "rpc_user_cnt": [2, 1], "rpc_user_time": [5, 1],
    }

    def test_fields_and_order(self):
        self.assertEqual(tuple(statistics_document(self.RECORD)), STATISTICS_FIELDS)

    def test_means_as_slurmrestd_computes_them(self):
        doc = statistics_document(self.RECORD)
        self.assertEqual(doc["schedule_cycle_total"], 7)
        self.assertEqual(doc["schedule_cycle_mean"], 14)          # 100 // 7
        self.assertEqual(doc["schedule_cycle_mean_depth"], 2)     # 15 // 7
        self.assertEqual(doc["schedule_cycle_per_minute"], 1)     # 7 // (300 // 60)
        self.assertEqual(doc["schedule_queue_length"], 2)
        self.assertEqual((doc["bf_cycle_mean"], doc["bf_depth_mean"], doc["bf_depth_mean_try"],
                          doc["bf_queue_len_mean"], doc["bf_table_size_mean"]), (2, 2, 2, 1, 1))
        self.assertIs(doc["bf_active"], True)

    def test_no_division_by_zero(self):
        doc = statistics_document({"req_time": 10, "req_time_start": 0})
        self.assertEqual(doc["schedule_cycle_mean"], 0)
        self.assertEqual(doc["schedule_cycle_per_minute"], 0)
        self.assertEqual(doc["bf_cycle_mean"], 0)

    def test_rpc_rows(self):
        doc = statistics_document(self.RECORD)
        self.assertEqual(doc["rpcs_by_message_type"][0],
                         {"message_type": "REQUEST_PING", "type_id": 1008, "count": 3,
                          "average_time": 3, "total_time": 10})
        self.assertEqual(doc["rpcs_by_message_type"][1]["message_type"], "99999")
        self.assertEqual(doc["rpcs_by_message_type"][1]["average_time"], 0)
        self.assertEqual(doc["rpcs_by_user"][0]["user"], "root")
        self.assertEqual(doc["rpcs_by_user"][1]["user"], "987654")  # no such user: its uid

    def test_message_type_names(self):
        self.assertEqual(message_type_name(2035), "REQUEST_STATS_INFO")


class LicensesTests(unittest.TestCase):
    def test_free_is_computed(self):
        doc = license_document({"name": "matlab", "total": 5, "in_use": 2, "reserved": 1,
                                "remote": 0})
        self.assertEqual(doc, {"LicenseName": "matlab", "Total": 5, "Used": 2, "Free": 3,
                               "Reserved": 1, "Remote": False})
        self.assertEqual(license_document({"name": "x", "total": 1, "in_use": 4})["Free"], 0)


class MetaTests(unittest.TestCase):
    def test_version_block(self):
        self.assertEqual(slurm_version("22.05.8"),
                         {"version": {"major": 22, "micro": 8, "minor": 5}, "release": "22.05.8"})
        self.assertIsNone(slurm_version(None))

    def test_plugins(self):
        self.assertEqual(meta("slurm", "v0.0.38", "22.05.8")["plugin"],
                         {"type": "openapi/v0.0.38", "name": "Slurm OpenAPI v0.0.38"})
        self.assertEqual(meta("slurmdb", "v0.0.38", None),
                         {"plugin": {"type": "openapi/dbv0.0.38",
                                     "name": "Slurm OpenAPI DB v0.0.38"}})
