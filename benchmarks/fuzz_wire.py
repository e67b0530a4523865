"""A million mutated real frames through the wire decoders: prints how many decoded, how
many were refused with ProtocolError, that no other exception escaped, and the time.

    SLURMREST_TEST_CLUSTER=var/testcluster .venv/bin/python benchmarks/fuzz_wire.py [--count N] [--seed S]

The frames are captured from the live cluster first (``slurmrest.testing.frames``).
"""

from __future__ import annotations

import argparse
import sys
import time

from twisted.internet import defer, task

from slurmrest.testing import frames as F
from slurmrest.testing.cluster import Cluster


async def captured():
    return await F.capture(Cluster.from_environment())


def main(reactor, args):
    async def go():
        frames = await captured()
        by_kind = {k: sum(1 for kind, _ in frames if kind == k) for k in (F.CTLD, F.DBD)}
        print(f"captured {len(frames)} real frames ({by_kind[F.CTLD]} slurmctld, "
              f"{by_kind[F.DBD]} slurmdbd, {sum(len(p) for _, p in frames)} bytes)")
        started = time.perf_counter()
        decoded, refused, escaped = F.run(frames, args.count, seed=args.seed)
        seconds = time.perf_counter() - started
        print(f"{args.count} mutated frames in {seconds:.1f} s "
              f"({args.count / seconds:,.0f}/s): {decoded} decoded, {refused} ProtocolError, "
              f"{len(escaped)} other exceptions escaped")
        for e, kind, payload in escaped[:10]:
            print(f"  {kind}: {e!r}: {payload[:48].hex()}")
        if escaped:
            raise SystemExit(1)
    return defer.ensureDeferred(go())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=13)
    task.react(main, (parser.parse_args(),))
