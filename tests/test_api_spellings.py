"""slurmrestd 22.05's spellings of Slurm's values (slurmrest.api.spellings): hand-picked
values, and the vocabulary of the real slurmrestd's sample responses."""

import json
import os

from twisted.trial import unittest

from slurmrest.api import spellings as S
from slurmrest.wire import enums as E
from slurmrest.wire.primitives import NO_VAL, NO_VAL16

_SAMPLES = os.environ.get("SLURMREST_REFERENCE_SAMPLES", "/work/shared/reference/samples")


def _sample(name):
    path = os.path.join(_SAMPLES, name)
    if not os.path.exists(path):
        raise unittest.SkipTest(f"{path} not available")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class SpellingTests(unittest.TestCase):

    def test_job_flags(self):
        value = E.JOB_ACCRUE_OVER | E.JOB_WAS_RUNNING | E.JOB_SEND_ENV | E.JOB_NTASKS_SET
        self.assertEqual(E.flag_names(value, S.RESTD_JOB_FLAG_NAMES),
                         ["JOB_ACCRUE_OVER", "JOB_WAS_RUNNING"])

    def test_show_flags(self):
        self.assertEqual(E.flag_names(0x13, S.RESTD_SHOW_FLAG_NAMES),
                         ["SHOW_ALL", "SHOW_DETAIL", "SHOW_LOCAL"])

    def test_job_state_and_reason_as_slurm_prints_them(self):
        self.assertEqual(S.restd_job_state(E.JOB_RUNNING | E.JOB_COMPLETING), "COMPLETING")
        self.assertEqual(S.restd_job_reason(16), "JobHeldUser")

    def test_job_shared_and_profile(self):
        self.assertEqual([S.restd_job_shared(v) for v in (0, 1, 2, 3, NO_VAL16, 9)],
                         ["none", "shared", "user", "mcs", None, 9])
        self.assertIsNone(S.restd_profile_names(0))
        self.assertEqual(S.restd_profile_names(1), ["None"])
        self.assertEqual(S.restd_profile_names(E.ACCT_GATHER_PROFILE_TASK
                                               | E.ACCT_GATHER_PROFILE_ENERGY),
                         ["Energy", "Task"])

    def test_node_state(self):
        self.assertEqual(S.restd_node_state(E.NODE_STATE_MIXED | E.NODE_STATE_DRAIN), "mixed")
        self.assertEqual(S.restd_node_state(NO_VAL), "invalid")
        self.assertEqual(S.restd_node_state_flags(E.NODE_STATE_IDLE | E.NODE_STATE_DRAIN
                                                  | E.NODE_STATE_NO_RESPOND),
                         ["DRAIN", "NOT_RESPONDING"])
        # An invalid base state has no flags at all (NO_VAL has every flag bit but one).
        self.assertEqual(S.restd_node_state_flags(NO_VAL), [])

    def test_partitions(self):
        self.assertEqual(E.flag_names(E.PART_FLAG_DEFAULT | E.PART_FLAG_LLN,
                                      S.RESTD_PARTITION_FLAG_NAMES),
                         ["default", "least_loaded_nodes"])
        self.assertEqual(S.restd_partition_state(E.PARTITION_DRAIN), "DRAIN")
        self.assertEqual(S.restd_preempt_mode_names(NO_VAL16), ["disabled"])
        self.assertEqual(S.restd_preempt_mode_names(0), ["disabled"])
        self.assertEqual(S.restd_preempt_mode_names(0x8002), ["requeue", "gang_schedule"])
        self.assertEqual(S.restd_preempt_mode_names(E.PREEMPT_MODE_CANCEL), [])

    def test_reservation_flags(self):
        purge = E.RESERVE_FLAG_PURGE_COMP | E.RESERVE_FLAG_MAGNETIC | E.RESERVE_FLAG_MAINT
        self.assertEqual(E.flag_names(purge, S.RESTD_RESERVATION_FLAG_NAMES),
                         ["MAINT", "MAGNETIC"])


class ReferenceSampleTests(unittest.TestCase):
    """Every spelling the real slurmrestd printed is one these decoders can produce."""

    def test_jobs(self):
        job_states = {E.job_state_string(v) for v in range(E.JOB_END)}
        job_states |= {name for _, name in E._JOB_STATE_SHOWN_FLAGS}
        reasons = set(E._JOB_REASON_STRINGS)
        restd_flags = {name for _, name in S.RESTD_JOB_FLAG_NAMES}
        seen = 0
        for name in os.listdir(_SAMPLES) if os.path.isdir(_SAMPLES) else ():
            if not (name.startswith("GET_slurm_v0.0.38_job") and name.endswith(".json")):
                continue
            for job in _sample(name).get("jobs", []):
                seen += 1
                self.assertIn(job["job_state"], job_states)
                self.assertIn(job["state_reason"], reasons)
                self.assertLessEqual(set(job["flags"]), restd_flags)
                self.assertEqual(
                    E.flag_names(E.flags_from_names(job["show_flags"], S.RESTD_SHOW_FLAG_NAMES),
                                 S.RESTD_SHOW_FLAG_NAMES), job["show_flags"])
        if not seen:
            raise unittest.SkipTest("no job samples")

    def test_a_held_job(self):
        """rest-held: PENDING, JobHeldUser; its request carried SHOW_ALL|SHOW_DETAIL|SHOW_LOCAL."""
        job = next(j for j in _sample("GET_slurm_v0.0.38_job_{job_id}__after-update.json")["jobs"]
                   if j["name"] == "rest-held")
        self.assertEqual(job["job_state"], E.job_state_string(E.JOB_PENDING))
        self.assertEqual(job["state_reason"], E.job_reason_string(16))  # WAIT_HELD_USER
        self.assertEqual(job["show_flags"], E.flag_names(0x13, S.RESTD_SHOW_FLAG_NAMES))

    def test_nodes(self):
        nodes = _sample("GET_slurm_v0.0.38_nodes.json")["nodes"]
        for node in nodes:
            self.assertIn(node["state"], {name.lower() for name in
                                          E.NODE_STATE_BASE_NAMES.values()})
            # No reboot pending: next_state is NO_VAL.
            self.assertEqual(node["next_state_after_reboot"],
                             E.node_state_base_name(NO_VAL).lower())
            self.assertEqual(node["next_state_after_reboot_flags"], [])
        states = {node["name"]: node["state"] for node in nodes}
        self.assertEqual(states["n2"], E.node_state_base_name(E.NODE_STATE_IDLE).lower())

    def test_partitions(self):
        parts = {p["name"]: p for p in _sample("GET_slurm_v0.0.38_partitions.json")["partitions"]}
        self.assertEqual(parts["debug"]["flags"],
                         E.flag_names(E.PART_FLAG_DEFAULT, S.RESTD_PARTITION_FLAG_NAMES))
        self.assertEqual(parts["long"]["flags"], [])
        self.assertEqual(parts["debug"]["state"], E.partition_state_string(E.PARTITION_UP))
        self.assertEqual(parts["debug"]["preemption_mode"],
                         S.restd_preempt_mode_names(E.PREEMPT_MODE_OFF))

    def test_reservations(self):
        resv = _sample("GET_slurm_v0.0.38_reservations.json")["reservations"][0]
        flags = E.flags_from_names(resv["flags"], S.RESTD_RESERVATION_FLAG_NAMES)
        self.assertEqual(flags, E.RESERVE_FLAG_MAINT | E.RESERVE_FLAG_SPEC_NODES)
        self.assertEqual(E.flag_names(flags, S.RESTD_RESERVATION_FLAG_NAMES), resv["flags"])
