"""Reservations: record → v0.0.38 document (hand-built records first)."""

from twisted.trial import unittest

from slurmrest.api.state import ServerState
from slurmrest.api import reservations, runner
from slurmrest.api.registry import REGISTRY
from slurmrest.api.convert import NO_VAL
from tests.records import RESERVATION_RECORD, Bitmap, decoded

# The test cluster's reservation "maint" as RESPONSE_RESERVATION_INFO decodes it (§5.8).
MAINT = decoded(RESERVATION_RECORD, {
    "core_cnt": 2, "end_time": 1798182613, "flags": (1 << 0) | (1 << 15), "name": "maint",
    "node_cnt": 1, "node_list": "n4", "resv_watts": NO_VAL, "start_time": 1798179013,
    "tres_str": "cpu=2", "users": "root", "node_inx": Bitmap(4, "0x8"),
})


def maint(**changes) -> dict:
    """MAINT with other values, as the decoder would give them."""
    return decoded(RESERVATION_RECORD, MAINT, **changes)

# What the real slurmrestd 22.05.8 answered (reference sample).
MAINT_DOCUMENT = {
    "flags": ["MAINT", "SPEC_NODES"], "accounts": "", "burst_buffer": "", "core_count": 2,
    "core_spec_cnt": 0, "end_time": 1798182613, "features": "", "groups": "", "licenses": "",
    "max_start_delay": 0, "name": "maint", "node_count": 1, "node_list": "n4", "partition": "",
    "start_time": 1798179013, "watts": 4294967294, "tres": "cpu=2", "users": "root",
}


class ReservationDocumentTests(unittest.TestCase):
    def test_matches_slurmrestd_sample(self):
        self.assertEqual(reservations.reservation_document(MAINT), MAINT_DOCUMENT)

    def test_flag_order_is_slurmrestds(self):
        word = (1 << 25) | (1 << 0) | (1 << 35) | (1 << 32) | (1 << 29)
        doc = reservations.reservation_document(maint(flags=word))
        self.assertEqual(doc["flags"],
                         ["MAINT", "FLEX", "HOURLY", "NO_HOLD_JOBS_AFTER_END", "MAGNETIC"])

    def test_purge_completed(self):
        doc = reservations.reservation_document(maint(flags=1 << 20, purge_comp_time=300))
        self.assertEqual(doc["flags"], [])
        self.assertEqual(doc["purge_completed"], {"time": 300})
        self.assertNotIn("purge_completed", reservations.reservation_document(MAINT))


class ReservationSchemaTests(unittest.TestCase):
    def test_document_matches_the_declared_schema(self):
        from tests.differential import schema_mismatches
        for rec in (MAINT, maint(flags=1 << 20, purge_comp_time=60)):
            self.assertEqual(schema_mismatches(reservations.reservation_document(rec),
                                               reservations.RESERVATION_SCHEMA), [])


class CachedReservationsTests(unittest.TestCase):
    """GET /reservations and /reservation/{name} from the per-user cache (the stand-in
    controller answers each ``last_update`` from a script; ``None``: unchanged)."""

    def test_reused_while_unchanged_then_rebuilt(self):
        from twisted.internet import defer

        from slurmrest.api.registry import Call
        from slurmrest.wire.errors import NoChange

        script = [{"last_update": 10, "records": [MAINT]}, None, None,
                  {"last_update": 20, "records": []}]
        asked = []

        class Controller:
            credential = "t"

            async def reservations(self, update_time=0):
                asked.append(update_time)
                reply = script.pop(0)
                if reply is None:
                    raise NoChange(1900)
                return reply

        server = ServerState()
        server.build_info.update({"version": "22.05.8"})  # known: the runner asks no more

        def run(handler, **params):
            call = Call(params=params, body=None, user="alice", slurmctld=Controller(), state=server)
            return self.successResultOf(defer.ensureDeferred(
                runner.run(REGISTRY.find(handler.__name__), call)))

        first = run(reservations.get_reservations)
        self.assertEqual(first.payload, {"reservations": [MAINT_DOCUMENT]})
        self.assertIs(run(reservations.get_reservations), first)
        one = run(reservations.get_reservation, reservation_name="MAINT")
        self.assertEqual(one.payload, {"reservations": [MAINT_DOCUMENT]})
        gone = run(reservations.get_reservation, reservation_name="maint")
        self.assertEqual((gone.status, gone.errors[0]["errno"]), (404, 2053))
        self.assertEqual(asked, [0, 10, 10, 10])
