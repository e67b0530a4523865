"""GET /jobs at scale, in memory: what a rebuild costs at 1k, 10k and 50k job records (arrays
split into records, several users), full against incremental (``wire.reuse`` +
``job_cache`` + ``content.encode_with_items``), the unchanged answer, and resident memory.

    .venv/bin/python benchmarks/bench_job_scale.py [--sizes 1000,10000,50000] [--rounds 5]

Each size runs in its own process (so that its resident memory is its own). Frames are packed
by the table from realistic records (strings, TRES, job_resources of running jobs); one
record's comment changes between rebuilds, as with a queue changing 5 times a second.
Bounded: at most ``--rounds`` rebuilds per figure and 100,000 records. Prints figures,
asserts nothing (but says if an incremental body ever differs from the full one).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
USERS = ("alice", "bob", "carol", "dave")


def records(count: int) -> list[dict]:
    sys.path.insert(0, HERE)
    from bench_codec import job_record
    from slurmrest.wire.primitives import NO_VAL
    out = []
    for i in range(count):
        rec = job_record(i)
        user = USERS[i % len(USERS)]
        rec["user_name"], rec["user_id"] = user, 2001 + i % len(USERS)
        if i % 10:  # nine in ten are tasks of arrays of 100, split into records
            rec["array_job_id"] = 100000 + i // 100
            rec["array_task_id"] = i % 100
        else:
            rec["array_task_id"] = NO_VAL
        if i % 3:
            rec["job_state"] = 0  # pending, held: no resources
            rec["job_resrcs"] = None
            rec["nodes"] = None
        out.append(rec)
    return out


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def measure(count: int, rounds: int) -> dict:
    from slurmrest.api.job_cache import JobListCache
    from slurmrest.api.job_records import job_document
    from slurmrest.api.registry import Result
    from slurmrest.web import content
    from slurmrest.wire.schema import Counted, Struct
    from slurmrest.wire.tables.v22_05 import JOB_INFO, JOB_RECORD

    plain = Struct("job_info", [(f.name, f.type) for f in JOB_INFO.fields[:-1]]
                   + [("records", Counted(JOB_RECORD, "record_count"))])
    meta = {"plugin": {"type": "openapi/v0.0.38"}}
    recs = records(count)

    def frame(stamp):
        return JOB_INFO.pack({"record_count": len(recs), "last_update": stamp,
                              "last_backfill": 0, "records": recs})

    frames = []
    for r in range(rounds + 1):
        recs[(r * 7919) % count]["comment"] = f"churn-{r}"
        frames.append(frame(r + 1))
    frame_mib = len(frames[0]) / 2**20
    del recs
    out = {"jobs": count, "frame_MiB": round(frame_mib, 1)}
    base = rss_mib()  # the frames are the input, not the server's memory

    def full(body):
        reply = plain.unpack_exact(body)
        docs = [job_document(rec) for rec in reply["records"]]
        return content.encode({"meta": meta, "errors": [], "jobs": docs}, content.JSON)

    cache = JobListCache()
    users = {}

    def incremental(body, user="alice", visible=None):
        reply = JOB_INFO.unpack_exact(body)
        if visible is not None:
            reply = {**reply, "records": [r for r in reply["records"]
                                          if r["user_name"] in visible]}
        result = cache.put(user, (reply,), convert=job_document)
        users[user] = result
        return content.encode_with_items({"meta": meta, "errors": [], **result.payload},
                                         *result.items, content.JSON)

    started = time.perf_counter()
    first = incremental(frames[0])
    out["first_build_ms"] = round((time.perf_counter() - started) * 1000, 1)
    times = []
    digests = []
    for i, body in enumerate(frames[1:], 1):
        started = time.perf_counter()
        got = incremental(body)
        times.append(time.perf_counter() - started)
        if i <= 2:
            digests.append(hashlib.sha256(got).digest())
        del got
    times.sort()
    out["incremental_rebuild_ms"] = round(times[len(times) // 2] * 1000, 2)
    out["rss_one_user_MiB"] = round(rss_mib() - base, 1)

    # The unchanged answer: the kept Result's serialised body (what a no-change reply gives).
    result: Result = users["alice"]
    key = (content.JSON, "slurm", "v0.0.38", "22.05.8")
    result.cache[key] = first
    started = time.perf_counter()
    for _ in range(1000):
        result.cache.get(key)
    out["unchanged_answer_us"] = round((time.perf_counter() - started) * 1000, 3)

    # Three more users, each seeing only their own jobs plus alice's (PrivateData-like).
    for user in USERS[1:]:
        incremental(frames[-1], user, visible={user, "alice"})
    out["rss_four_users_MiB"] = round(rss_mib() - base, 1)
    del first

    started = time.perf_counter()
    expected = [hashlib.sha256(full(body)).digest() for body in frames[1:3]]
    out["full_rebuild_ms"] = round((time.perf_counter() - started) / 2 * 1000, 1)
    out["identical_to_full"] = expected == digests
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    rounds = max(2, min(args.rounds, 20))
    if args.one:
        print(json.dumps(measure(min(args.one, 100000), rounds)))
        return 0
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run([sys.executable, __file__, "--one", str(size), "--rounds",
                              str(rounds)], capture_output=True, text=True, timeout=900)
        if out.returncode:
            print(out.stderr, file=sys.stderr)
            continue
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    columns = ("jobs", "frame_MiB", "full_rebuild_ms", "first_build_ms",
               "incremental_rebuild_ms", "unchanged_answer_us", "rss_one_user_MiB",
               "rss_four_users_MiB", "identical_to_full")
    print(" ".join(f"{c:>22}" for c in columns))
    for row in rows:
        print(" ".join(f"{row.get(c)!s:>22}" for c in columns))
    print("(unchanged_answer_us: per request, the kept body; the no-change RPC is extra. "
          "rss_*: growth of resident memory once the input frames are made: the kept records, documents and pieces)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
