"""How fast the wire codec is: µs per job record decoded (RESPONSE_JOB_INFO of 1000 jobs) and
per job_desc encoded. Bounded in count and time; prints figures, asserts nothing.

    .venv/bin/python benchmarks/bench_codec.py

With ``SLURMREST_TEST_CLUSTER`` set it also decodes the live cluster's whole job queue
(one REQUEST_JOB_INFO with SHOW_ALL|SHOW_DETAIL|SHOW_LOCAL, as GET /jobs sends it).
"""

import os
import socket
import struct
import time

from slurmrest.wire.msgtypes import MsgType
from slurmrest.wire.primitives import NO_VAL, Bitmap
from slurmrest.wire.protocol import protocol_for
from slurmrest.wire.tables import v22_05

JOBS = 1000
TIME_BUDGET = 2.0  # seconds per measurement at most
PROTOCOL_22_05 = protocol_for(v22_05.VERSION)


def job_record(i):
    """A running job with typical strings set, job_resources and a multi_core block."""
    return {
        "array_task_id": NO_VAL, "job_id": 1000 + i, "user_id": 2001, "group_id": 2001,
        "job_state": 1, "batch_flag": 1, "time_limit": 60, "nice": 0x80000000,
        "submit_time": 1700000000 + i, "start_time": 1700000100, "end_time": 1700003700,
        "priority": 4294901759, "billable_tres": 2.0, "cluster": "testcluster",
        "nodes": "n[1-2]", "partition": "debug", "account": "science",
        "site_factor": 0x80000000, "qos": "normal", "exit_code": 0,
        "job_resrcs": {"nhosts": 2, "ncpus": 4, "nodes": "n[1-2]", "cpu_array_reps": [2],
                       "cpu_array_value": [2], "cpus": [2, 2], "cpus_used": [0, 0],
                       "memory_allocated": [1000, 1000], "memory_used": [0, 0],
                       "sockets_per_node": [1], "cores_per_socket": [2],
                       "sock_core_rep_count": [2], "core_bitmap": Bitmap(4, "0xF"),
                       "core_bitmap_used": Bitmap(4, "0x0")},
        "name": f"bench-job-{i}", "user_name": "alice", "alloc_node": "127.0.0.1",
        "node_inx": Bitmap(4, "0x3"), "work_dir": "/home/alice/work",
        "command": "/home/alice/work/run.sh", "num_cpus": 4, "num_nodes": 2,
        "std_err": "/home/alice/work/slurm-%j.out", "std_out": "/home/alice/work/slurm-%j.out",
        "std_in": "/dev/null", "multi_core": {"threads_per_core": 1},
        "tres_alloc_str": "cpu=4,mem=2000M,node=2,billing=4",
        "tres_req_str": "cpu=4,mem=2000M,node=2,billing=4", "start_protocol_ver": 0x2600,
        "mail_type": 0,
    }


def job_desc(i):
    return {
        "name": f"bench-{i}", "script": "#!/bin/sh\nsrun hostname\n",
        "environment": ["PATH=/usr/bin:/bin", "HOME=/home/alice", f"INDEX={i}"],
        "work_dir": "/home/alice", "std_out": "/home/alice/out-%j.txt", "time_limit": 30,
        "min_nodes": 1, "num_tasks": 2, "account": "science", "partition": "debug",
        "user_id": 2001, "group_id": 2001,
    }


def measure(fn, per):
    """Best-of runs: µs per item, within TIME_BUDGET."""
    best = None
    deadline = time.perf_counter() + TIME_BUDGET
    runs = 0
    while runs < 3 or (time.perf_counter() < deadline and runs < 20):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
        runs += 1
        if time.perf_counter() > deadline:
            break
    return best / per * 1e6


def main():
    body = PROTOCOL_22_05.encode_body(MsgType.RESPONSE_JOB_INFO, {
        "last_update": 1700000000, "records": [job_record(i) for i in range(JOBS)]})
    table = v22_05.JOB_INFO
    decoded = table.unpack_exact(body)
    assert len(decoded["records"]) == JOBS
    print(f"RESPONSE_JOB_INFO body: {len(body)} bytes for {JOBS} jobs "
          f"({len(body) // JOBS} bytes/job, 125 fields each)")
    us = measure(lambda: table.unpack_exact(body), JOBS)
    print(f"decode job record:      {us:8.2f} µs/job  ({us * JOBS / 1000:.1f} ms per {JOBS})")

    records = decoded["records"]
    us = measure(lambda: table.pack({"last_update": 0, "records": records}), JOBS)
    print(f"encode job record:      {us:8.2f} µs/job")

    descs = [job_desc(i) for i in range(JOBS)]
    us = measure(lambda: [v22_05.JOB_DESC.pack(d) for d in descs], JOBS)
    print(f"encode job_desc:        {us:8.2f} µs/desc ({len(v22_05.JOB_DESC.pack(descs[0]))} "
          f"bytes)")

    class Cred:
        token, user_name = "x" * 200, "alice"

    us = measure(lambda: [PROTOCOL_22_05.encode(MsgType.REQUEST_SUBMIT_BATCH_JOB, d, Cred)
                          for d in descs], JOBS)
    print(f"encode submit frame:    {us:8.2f} µs/frame")
    frame = PROTOCOL_22_05.encode(MsgType.RESPONSE_JOB_INFO, decoded, Cred)[4:]
    us = measure(lambda: PROTOCOL_22_05.decode(frame), JOBS)
    print(f"decode job info frame:  {us:8.2f} µs/job (header + auth + body)")


def live():
    from slurmrest.testing.cluster import Cluster
    from slurmrest.wire.credentials import Credential

    cluster = Cluster(os.environ["SLURMREST_TEST_CLUSTER"])
    frame = PROTOCOL_22_05.encode(MsgType.REQUEST_JOB_INFO, {"show_flags": 0x13},
                                  Credential(cluster.token("alice"), "alice"))
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", cluster.ctld_port), timeout=30) as s:
        s.sendall(frame)
        data = bytearray()
        while chunk := s.recv(1 << 20):
            data += chunk
    rpc = time.perf_counter() - t0
    (length,) = struct.unpack(">I", data[:4])
    payload = bytes(data[4:4 + length])
    count = PROTOCOL_22_05.decode(payload).body["record_count"]
    us = measure(lambda: PROTOCOL_22_05.decode(payload), max(count, 1))
    print(f"live queue: {count} jobs, {len(payload)} bytes; slurmctld answered in "
          f"{rpc * 1000:.1f} ms; decode {us:.2f} µs/job ({us * count / 1000:.1f} ms)")


if __name__ == "__main__":
    main()
    if os.environ.get("SLURMREST_TEST_CLUSTER"):
        live()
