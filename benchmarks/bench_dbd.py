"""How long slurmdbd reads take through ``SlurmdbdClient``, side by side with Slurm's tools.

    SLURMREST_TEST_CLUSTER=DIR python benchmarks/bench_dbd.py [--rounds N] [--tool-runs N]
        [--max-seconds S] [--submit N]

On the same cluster in one run: our round trip (request, reply, decode; pooled connection)
for DBD_GET_TRES, DBD_GET_QOS, DBD_GET_ASSOCS and DBD_GET_JOBS_COND (every job record of
the database), median and p99; then the whole ``sacctmgr show tres -P`` / ``sacct -P``
processes for comparison (they pay Slurm's two-write framing: about 88 ms per message).
``--submit N`` first runs a bounded job array of N one-second-short jobs as alice (``true``)
so that the jobs query has that many more records; it waits at most ``--max-seconds`` per
100 jobs for them to reach the database. Every loop is bounded in count and in time.
"""

import argparse
import statistics
import subprocess
import sys
import time

from twisted.internet import task

from slurmrest.testing.cluster import Cluster
from slurmrest.wire.conf import SlurmConfig
from slurmrest.wire.credentials import TokenMinter
from slurmrest.wire.dbd_client import SlurmdbdClient
from slurmrest.wire.dbd_msgtypes import DbdMsgType as D
from slurmrest.wire.tables import dbd_v22_05 as T


def summary(name, samples, extra=""):
    ms = sorted(s * 1000 for s in samples)
    p99 = ms[min(len(ms) - 1, int(round(0.99 * (len(ms) - 1))))]
    print(f"{name:<40} n={len(ms):<5} median {statistics.median(ms):9.3f} ms   "
          f"p99 {p99:9.3f} ms {extra}", flush=True)
    return statistics.median(ms)


async def timed(count, max_seconds, make):
    samples, result = [], None
    deadline = time.perf_counter() + max_seconds
    for _ in range(count):
        start = time.perf_counter()
        result = await make()
        samples.append(time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return samples, result


def timed_process(count, max_seconds, argv, env):
    samples = []
    deadline = time.perf_counter() + max_seconds
    for _ in range(count):
        start = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return samples


def submit_jobs(cluster, count, max_seconds):
    if count <= 0:
        return
    out = cluster.run(["sbatch", "--parsable", "-J", "bench-dbd", f"--array=1-{count}",
                       "-o", "/dev/null", "--wrap", "true"], user="alice").stdout
    job_id = out.strip().split(";")[0]
    deadline = time.monotonic() + max_seconds * max(1, count // 100)
    while time.monotonic() < deadline:
        pending = cluster.run(["squeue", "-h", "-j", job_id, "-o", "%i"], check=False)
        if not pending.stdout.strip():
            break
        time.sleep(2)
    else:
        cluster.run(["scancel", job_id], check=False)
        print(f"job array {job_id} did not finish in time: cancelled", flush=True)


async def main(reactor, args):
    cluster = Cluster.from_environment()
    config = SlurmConfig.load(cluster.slurm_conf)
    submit_jobs(cluster, args.submit, args.max_seconds)
    client = SlurmdbdClient(config, reactor, read_timeout=60)
    root = client.bind(TokenMinter(cluster.jwt_key()).credential_for(config.slurm_user))
    ours = {}
    for name, make in [
        ("DBD_GET_TRES", lambda: root.tres({"with_deleted": 1})),
        ("DBD_GET_QOS", lambda: root.qos({"with_deleted": 1})),
        ("DBD_GET_ASSOCS", lambda: root.associations()),
        ("DBD_GET_JOBS_COND (all records)", lambda: root.jobs(
            {"usage_start": 1, "flags": 0x5, "cluster_list": [cluster.cluster_name]})),
    ]:
        await make()  # warm: pooled connection, compiled codecs
        samples, result = await timed(args.rounds, args.max_seconds, make)
        ours[name] = summary(f"ours {name}", samples, f"({len(result)} records)")
        if name.startswith("DBD_GET_JOBS_COND"):
            # how much of it is our decode: the same records packed again and decoded
            got = T.REPLIES[D.DBD_GOT_JOBS]
            payload = got.pack({"my_list": result, "return_code": 0})
            decode_samples = []
            for _ in range(min(args.rounds, 50)):
                start = time.perf_counter()
                got.unpack(payload)
                decode_samples.append(time.perf_counter() - start)
            summary("  of which decode", decode_samples, f"({len(payload)} bytes)")
    print(f"connections opened: {client.connections_opened}", flush=True)
    await client.close()

    env = cluster.env
    tools = [
        ("sacctmgr -nP show tres", ["sacctmgr", "-nP", "show", "tres"], "DBD_GET_TRES"),
        ("sacctmgr -nP show qos", ["sacctmgr", "-nP", "show", "qos"], "DBD_GET_QOS"),
        ("sacctmgr -nP show assoc", ["sacctmgr", "-nP", "show", "assoc"], "DBD_GET_ASSOCS"),
        ("sacct -nP -a -S 1970-01-02 (all)", ["sacct", "-nP", "-a", "-S", "1970-01-02",
                                              "-o", "JobID,State"],
         "DBD_GET_JOBS_COND (all records)"),
    ]
    for name, argv, ours_name in tools:
        samples = timed_process(args.tool_runs, args.max_seconds, argv, env)
        median = summary(name, samples)
        print(f"{'':40} ratio tool/ours {median / ours[ours_name]:8.1f}x", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--tool-runs", type=int, default=10)
    parser.add_argument("--max-seconds", type=float, default=10.0)
    parser.add_argument("--submit", type=int, default=0)
    arguments = parser.parse_args()
    task.react(main, [arguments])
    sys.exit(0)
