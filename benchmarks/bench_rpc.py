"""How long slurmctld RPCs take through ``SlurmctldClient``, side by side with Slurm's tools.

    SLURMREST_TEST_CLUSTER=/tmp/refcluster python benchmarks/bench_rpc.py [--pings N]
        [--job-fetches N] [--tool-runs N] [--max-seconds S]

Measures, on the same cluster in one run:

- one ``REQUEST_PING`` (connect, write, read, decode, close): median and p99 over N, on the
  posix reactor's bare socket and through a Twisted transport (the two exchanges);
- ``scontrol ping`` (a whole process: config load, munge, RPC) for comparison;
- fetching and decoding all jobs (``REQUEST_JOB_INFO``) with at least 1000 jobs queued: the
  RPC and the decode separately, next to ``squeue`` and ``squeue --json``;
- 16 concurrent job fetches: one shared RPC (coalescing) vs 16 separate ones.

If the queue holds fewer than 1000 jobs, 1000 held jobs are submitted in ONE ``sbatch
--array=1-1000 --hold`` call (as alice), split into records, and cancelled at the end. Every loop is bounded in
count and in time (``--max-seconds`` per measurement).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid

from twisted.internet import defer, task

from slurmrest.testing.cluster import Cluster
from slurmrest.wire.client import SlurmctldClient, _Exchange
from slurmrest.wire.conf import SlurmConfig
from slurmrest.wire.credentials import TokenMinter
from slurmrest.wire.msgtypes import MsgType

ARRAY_SIZE = 1000


def summary(name, samples, extra=""):
    ms = sorted(s * 1000 for s in samples)
    p99 = ms[min(len(ms) - 1, int(round(0.99 * (len(ms) - 1))))]
    print(f"{name:<44} n={len(ms):<5} median {statistics.median(ms):9.3f} ms   "
          f"p99 {p99:9.3f} ms   min {ms[0]:9.3f} ms {extra}")
    return statistics.median(ms)


async def timed(count, max_seconds, make):
    samples = []
    deadline = time.perf_counter() + max_seconds
    for _ in range(count):
        start = time.perf_counter()
        await make()
        samples.append(time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return samples


def timed_process(count, max_seconds, argv, env):
    samples = []
    deadline = time.perf_counter() + max_seconds
    for _ in range(count):
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True, timeout=120)
        samples.append(time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return samples


async def main(reactor, options):
    cluster = Cluster.from_environment()
    config = SlurmConfig.load(cluster.slurm_conf)
    client = SlurmctldClient(config, reactor)
    minter = TokenMinter(cluster.jwt_key())
    credential = minter.credential_for("alice")
    ctld = client.bind(credential)
    env = cluster.env
    limit = options.max_seconds
    print(f"cluster {cluster.dir}, slurmctld {config.controllers[0].address}:"
          f"{config.controllers[0].port}")

    # -- ping ----------------------------------------------------------------------------
    await ctld.ping(0)  # warm up (frame cache, first connection)
    samples = await timed(options.pings, limit, lambda: ctld.ping(0))
    ours = summary("slurmrest ping RPC", samples)
    # The other exchange implementation (other reactors, and the in-memory tests' one).
    posix_exchange, client._exchange_class = client._exchange_class, _Exchange
    await ctld.ping(0)
    summary("  the same through a Twisted transport", await timed(
        options.pings, limit, lambda: ctld.ping(0)))
    client._exchange_class = posix_exchange
    samples = timed_process(options.tool_runs, limit, ["scontrol", "ping"], env)
    theirs = summary("scontrol ping (process)", samples)
    print(f"{'':<44} scontrol ping / slurmrest ping = {theirs / ours:.0f}x")

    # -- 1000 jobs -----------------------------------------------------------------------
    submitted = None
    reply = await ctld.jobs()
    if reply["record_count"] < ARRAY_SIZE:
        name = f"slurmrest-bench-{uuid.uuid4().hex[:8]}"
        out = cluster.run(["sbatch", "--parsable", "--hold", f"--array=1-{ARRAY_SIZE}",
                           "-J", name, "-o", "/dev/null", "--wrap", "true"],
                          user="alice").stdout
        submitted = int(out.strip().split(";")[0])
        # A held array is one record until its tasks are touched: split them into records.
        cluster.run(["scontrol", "update", f"JobId={submitted}_[1-{ARRAY_SIZE - 1}]",
                     "Comment=slurmrest-bench"])
        print(f"submitted held array job {submitted} ({ARRAY_SIZE} tasks, split into records)")
    try:
        reply = await ctld.jobs()
        count = reply["record_count"]

        samples = await timed(options.job_fetches, limit, ctld.jobs)
        ours = summary(f"slurmrest jobs: RPC + decode ({count} jobs)", samples)

        payload = await _raw_reply(client, credential)
        decode = []
        deadline = time.perf_counter() + limit
        for _ in range(options.job_fetches):
            start = time.perf_counter()
            client.protocol.decode(payload)
            decode.append(time.perf_counter() - start)
            if time.perf_counter() > deadline:
                break
        summary(f"  of which decode ({len(payload) / 1e6:.2f} MB reply)", decode)

        samples = timed_process(options.tool_runs, limit, ["squeue", "-h"], env)
        sq = summary("squeue (process)", samples)
        samples = timed_process(max(1, options.tool_runs // 2), limit,
                                ["squeue", "--json"], env)
        sqj = summary("squeue --json (process)", samples)
        print(f"{'':<44} squeue / slurmrest = {sq / ours:.1f}x, "
              f"squeue --json / slurmrest = {sqj / ours:.1f}x")

        # -- 16 concurrent fetches: coalesced vs not ------------------------------------
        for shareable, label in ((True, "16 concurrent jobs fetches, coalesced"),
                                 (False, "16 concurrent jobs fetches, separate")):
            before = client.counters["connections"]
            start = time.perf_counter()
            await defer.gatherResults([defer.ensureDeferred(client.call(
                MsgType.REQUEST_JOB_INFO, {"last_update": 0, "show_flags": 0x13,
                                           "job_ids": None},
                credential, shareable=shareable)) for _ in range(16)])
            elapsed = time.perf_counter() - start
            print(f"{label:<44} {elapsed * 1000:9.1f} ms total, "
                  f"{client.counters['connections'] - before} connection(s)")
    finally:
        if submitted is not None:
            cluster.cancel(submitted)
            print(f"cancelled array job {submitted}")


async def _raw_reply(client, credential):
    """One JOB_INFO reply payload, captured by decoding nothing (for the decode timing)."""
    frame = client.protocol.encode(MsgType.REQUEST_JOB_INFO, {
        "last_update": 0, "show_flags": 0x13, "job_ids": None}, credential)
    host, port = client.controllers[0]
    exchange = _Exchange(frame, client.reactor, client.connect_timeout, client.read_timeout,
                         f"{host}:{port}", client.max_reply_size)
    return await exchange.connect(host, port)


def run():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pings", type=int, default=1000)
    parser.add_argument("--job-fetches", type=int, default=30)
    parser.add_argument("--tool-runs", type=int, default=20)
    parser.add_argument("--max-seconds", type=float, default=20.0)
    options = parser.parse_args()
    if not os.environ.get("SLURMREST_TEST_CLUSTER"):
        sys.exit("set SLURMREST_TEST_CLUSTER to the test cluster's directory")
    task.react(lambda reactor: defer.ensureDeferred(main(reactor, options)))


if __name__ == "__main__":
    run()
