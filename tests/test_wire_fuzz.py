"""The wire decoders' contract under fuzzing: whatever bytes arrive, nothing but
``ProtocolError`` escapes ``Protocol.decode`` (slurmctld) or ``dbd_framing.decode``
(slurmdbd). Real reply frames are captured from the live test cluster and damaged
(``slurmrest.testing.frames``); Hypothesis adds arbitrary bytes and chosen damage. Bounded
here; the million-frame run is ``benchmarks/fuzz_wire.py``."""

from __future__ import annotations

import random
import struct

from hypothesis import HealthCheck, given, settings, strategies as st
from twisted.trial import unittest

from slurmrest.testing import frames as F
from slurmrest.wire.errors import ProtocolError
from slurmrest.wire.tables import NEWEST

#: Mutated frames per suite run.
COUNT = 20_000
_captured: list = []


def _check(kind: str, payload: bytes) -> None:
    try:
        F.decode(kind, payload)
    except ProtocolError:
        pass


class ArbitraryBytesTests(unittest.TestCase):
    @settings(max_examples=2000, deadline=None)
    @given(st.binary(max_size=512))
    def test_slurmctld_frames(self, data):
        _check(F.CTLD, data)

    @settings(max_examples=2000, deadline=None)
    @given(st.binary(max_size=512))
    def test_slurmdbd_frames(self, data):
        _check(F.DBD, data)

    @settings(max_examples=2000, deadline=None)
    @given(st.sampled_from(sorted(NEWEST.dbd.replies)), st.binary(max_size=256))
    def test_slurmdbd_bodies_of_every_reply_type(self, msg_type, body):
        _check(F.DBD, struct.pack(">H", msg_type) + body)


class CapturedFrameTests(unittest.TestCase):
    timeout = 600

    async def setUp(self):
        from slurmrest.testing.cluster import Cluster

        if not _captured:
            _captured.extend(await F.capture(Cluster.from_environment()))

    def test_captured_frames_decode(self):
        kinds = {kind for kind, _ in _captured}
        self.assertEqual(kinds, {F.CTLD, F.DBD})
        self.assertGreaterEqual(len(_captured), len(F.CTLD_READS) + len(F.DBD_READS))
        for kind, payload in _captured:
            F.decode(kind, payload)  # undamaged, each decodes

    def test_mutated_frames_raise_only_protocol_error(self):
        decoded, refused, escaped = F.run(_captured, COUNT, seed=random.randrange(1 << 32))
        self.assertEqual(escaped, [], [(repr(e), kind, payload[:64].hex())
                                       for e, kind, payload in escaped[:5]])
        self.assertEqual(decoded + refused, COUNT)
        self.assertGreater(refused, 0)

    @settings(max_examples=500, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.data())
    def test_chosen_damage(self, data):
        kind, payload = data.draw(st.sampled_from(_captured))
        cut = data.draw(st.integers(0, len(payload)))
        at = data.draw(st.integers(0, max(0, len(payload) - 4)))
        value = data.draw(st.sampled_from((0, 1, 0xFFFF, 0xFFFFFFFE, 0xFFFFFFFF)))
        damaged = bytearray(payload[:cut] or payload)
        if len(damaged) >= at + 4:
            damaged[at:at + 4] = struct.pack(">I", value)
        _check(kind, bytes(damaged))
