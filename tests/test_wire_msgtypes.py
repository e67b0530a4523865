"""MsgType against Slurm 22.05's slurm_msg_type_t (the TSV in the shared docs)."""

import os

from twisted.trial import unittest

from slurmrest.wire.msgtypes import MsgType, msg_type_name

# The generated enum is checked against the list it was generated from, when it is at hand.
_TSV = os.environ.get("SLURMREST_MSG_TYPES_TSV",
                      "/work/shared/docs/slurm-22.05-msg-types.tsv")


class MsgTypeTableTests(unittest.TestCase):

    def test_every_tsv_row(self):
        """Every member of slurm_msg_type_t is present with its number, and nothing else is."""
        if not os.path.exists(_TSV):
            raise unittest.SkipTest(f"{_TSV} not available")
        with open(_TSV, encoding="ascii") as f:
            rows = [line.split("\t") for line in f.read().splitlines() if line.strip()]
        expected = {name: int(number) for name, number in rows}
        self.assertEqual(len(expected), len(rows))
        self.assertEqual({m.name: m.value for m in MsgType}, expected)

    def test_no_aliases(self):
        """Every number belongs to exactly one name."""
        self.assertEqual(len(MsgType.__members__), len(MsgType))

    def test_numbers_the_gateway_uses(self):
        """The numbers of §4.1 of the protocol reference."""
        self.assertEqual(MsgType.REQUEST_PING, 1008)
        self.assertEqual(MsgType.REQUEST_LICENSE_INFO, 1021)
        self.assertEqual(MsgType.RESPONSE_LICENSE_INFO, 1022)
        self.assertEqual(MsgType.REQUEST_BUILD_INFO, 2001)
        self.assertEqual(MsgType.RESPONSE_BUILD_INFO, 2002)
        self.assertEqual(MsgType.REQUEST_JOB_INFO, 2003)
        self.assertEqual(MsgType.RESPONSE_JOB_INFO, 2004)
        self.assertEqual(MsgType.REQUEST_NODE_INFO, 2007)
        self.assertEqual(MsgType.REQUEST_PARTITION_INFO, 2009)
        self.assertEqual(MsgType.REQUEST_JOB_INFO_SINGLE, 2021)
        self.assertEqual(MsgType.REQUEST_RESERVATION_INFO, 2024)
        self.assertEqual(MsgType.REQUEST_STATS_INFO, 2035)
        self.assertEqual(MsgType.REQUEST_NODE_INFO_SINGLE, 2040)
        self.assertEqual(MsgType.REQUEST_FED_INFO, 2049)
        self.assertEqual(MsgType.RESPONSE_CONTROL_STATUS, 2054)
        self.assertEqual(MsgType.REQUEST_UPDATE_JOB, 3001)
        self.assertEqual(MsgType.REQUEST_UPDATE_NODE, 3002)
        self.assertEqual(MsgType.REQUEST_DELETE_NODE, 3014)
        self.assertEqual(MsgType.REQUEST_SUBMIT_BATCH_JOB, 4003)
        self.assertEqual(MsgType.RESPONSE_SUBMIT_BATCH_JOB, 4004)
        self.assertEqual(MsgType.REQUEST_SUBMIT_BATCH_HET_JOB, 4028)
        self.assertEqual(MsgType.REQUEST_CANCEL_JOB_STEP, 5005)
        self.assertEqual(MsgType.REQUEST_KILL_JOB, 5032)
        self.assertEqual(MsgType.RESPONSE_JOB_ARRAY_ERRORS, 5034)
        self.assertEqual(MsgType.REQUEST_AUTH_TOKEN, 5039)
        self.assertEqual(MsgType.RESPONSE_SLURM_RC, 8001)
        self.assertEqual(MsgType.RESPONSE_SLURM_RC_MSG, 8002)

    def test_misnamed_defunct_placeholders(self):
        """DEFUNCT_RPC_4017..4019 are one below their names (Slurm's header miscounts)."""
        self.assertEqual(MsgType.DEFUNCT_RPC_4017, 4016)
        self.assertEqual(MsgType.DEFUNCT_RPC_4018, 4017)
        self.assertEqual(MsgType.DEFUNCT_RPC_4019, 4018)
        self.assertEqual(MsgType.REQUEST_JOB_READY, 4019)
        self.assertEqual(MsgType.RESPONSE_JOB_READY, 4020)
        for member in MsgType:
            if member.name.startswith("DEFUNCT_RPC_") and member.name not in (
                    "DEFUNCT_RPC_4017", "DEFUNCT_RPC_4018", "DEFUNCT_RPC_4019"):
                self.assertEqual(member.name, f"DEFUNCT_RPC_{member.value}")

    def test_fits_the_header(self):
        """Message types travel as u16."""
        for member in MsgType:
            self.assertTrue(0 < member.value < 0x10000, member)

    def test_names(self):
        self.assertEqual(msg_type_name(1008), "REQUEST_PING")
        self.assertEqual(msg_type_name(MsgType.RESPONSE_SLURM_RC), "RESPONSE_SLURM_RC")
        # rpc_num2string prints unknown numbers in decimal.
        self.assertEqual(msg_type_name(65000), "65000")
