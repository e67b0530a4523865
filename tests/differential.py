"""Differential testing: the same request to the real slurmrestd and to slurmrest, compared.

Usage in a trial test (an ``async def test_*`` method: trial runs it itself)::

    cluster = Cluster.from_environment()
    cmp = await differential.compare(cluster, "/slurm/v0.0.38/partitions")
    differential.assert_same(self, cmp)

Documents are compared recursively: every field's presence and JSON type (null, boolean,
integer, number, string, array, object) always, and its value unless the field's path matches
one of ``loose`` (type-checked only) or ``ignore`` (skipped). Paths are ``/``-separated, with
``*`` for any list index or key: ``"jobs/*/start_time"``. Lists of records are matched by a
key (``KEYS``: jobs by ``job_id``, nodes and partitions by ``name`` …) rather than position,
so that a job submitted by someone else between the two requests does not shift everything;
records present on one side only are reported unless ``partial=True``.

Where slurmrest deliberately differs from slurmrestd 22.05 (bugs fixed, better statuses) the
difference is listed in ``KNOWN_DEVIATIONS`` with the reason, and ignored by default.
"""

from __future__ import annotations

import fnmatch
import json
import os
from dataclasses import dataclass, field
from typing import Any, Iterable

#: Always skipped: who answered, and the list of errors of a successful answer.
ALWAYS_IGNORED = ("meta", "meta/*")

#: How records in lists are matched, by the path of the list.
KEYS = {
    "jobs": "job_id",
    "nodes": "name",
    "partitions": "name",
    "reservations": "name",
    "licenses": "LicenseName",
    "QOS": "name",
    "TRES": "id",
    "statistics/RPCs": "rpc",
    "statistics/users": "user",
    "accounts": "name",
    "clusters": "name",
    "wckeys": "id",
}

#: Values that depend on the moment of the request (type-checked only).
MOMENT_DEPENDENT = (
    "jobs/*/start_time",        # pending jobs: "never earlier than now"
    "jobs/*/end_time",
    "jobs/*/last_sched_evaluation",
    "jobs/*/accrue_time",
    "jobs/*/priority",
    "jobs/*/state_reason",      # scheduler may pass between the two requests
    "jobs/*/job_state",
    "jobs/*/nodes",
    "jobs/*/batch_host",
    "jobs/*/flags",
    "jobs/*/job_resources",
    "jobs/*/job_resources/*",
    "jobs/*/job_resources/**",
    "jobs/*/tres_alloc_str",
    "jobs/*/cpus",
    "jobs/*/node_count",
    "jobs/*/tasks",
    "jobs/*/eligible_time",
    "nodes/*/cpu_load",
    "nodes/*/free_memory",
    "nodes/*/last_busy",
    "nodes/*/alloc_memory",
    "nodes/*/alloc_cpus",
    "nodes/*/idle_cpus",
    "nodes/*/tres_used",
    "nodes/*/tres_weighted",
    "nodes/*/state",
    "nodes/*/state_flags",
    "nodes/*/state_flags/*",
    "reservations/*/start_time",  # TIME_FLOAT reservations move with the clock
    "reservations/*/end_time",
)

#: Of a pending (or held) job, only these change between two requests: its other fields are
#: compared by value even where ``MOMENT_DEPENDENT`` makes them loose for running jobs.
PENDING_MOMENT_DEPENDENT = (
    "jobs/*/last_sched_evaluation",  # every scheduler pass
    "jobs/*/start_time",             # the scheduler's estimate, "never earlier than now"
    "jobs/*/state_reason",           # Priority, Resources, ... as the scheduler sees it
    "jobs/*/eligible_time",          # set by the first scheduler pass after submission
    "jobs/*/accrue_time",
)

#: Loose arrays are compared by length too, but for these, whose length is a moment's (a
#: node completing a job has COMPLETING among its state flags for a while).
LENGTH_MAY_CHANGE = (
    "nodes/*/state_flags",
    "jobs/*/flags",
    "jobs/*/job_resources/allocated_nodes",
)

#: Deliberate differences from slurmrestd 22.05 (path pattern → why). Ignored by default.
KNOWN_DEVIATIONS = {
    "jobs/*/cpus_per_task": "slurmrestd tests cpu_freq_min instead of cpus_per_task",
    "jobs/*/cpu_frequency_minimum": "slurmrestd misspells the key when a value is set",
    "jobs/*/cpu_frequency_minumum": "slurmrestd misspells the key when a value is set",
    "jobs/*/core_spec": "slurmrestd swaps core_spec and thread_spec",
    "jobs/*/thread_spec": "slurmrestd swaps core_spec and thread_spec",
    "nodes/*/partitions": "GET /node/{name}: slurmrestd takes partitions of node index 0",
    "nodes/*/partitions/*": "GET /node/{name}: slurmrestd takes partitions of node index 0",
    "partitions/*/default_time_limit": "DefaultTime=UNLIMITED: slurmrestd prints 4294967295",
}


#: sbatch options that set the optional values a plain job leaves unset.
DETAILED = ("-t", "5", "--time-min=2", "-n", "2", "-c", "2", "--mincpus=2",
            "--cores-per-socket=1", "--threads-per-core=1", "--sockets-per-node=1",
            "--ntasks-per-core=1", "--ntasks-per-socket=1", "--ntasks-per-node=1",
            "--cpu-freq=low", "--mem=100", "--tmp=10", "--nice=5", "--comment=x",
            "--profile=task", "--oversubscribe", "--licenses=matlab:1", "--core-spec=1",
            "--mail-type=END", "--begin=now+3600", "--dependency=afterany:1",
            "--gres-flags=enforce-binding", "--contiguous")

STANDING_JOB_NAME = "diff-standing"

_standing: dict[str, Any] = {}


def standing_jobs() -> dict[str, Any]:
    """The test cluster (``cluster``) and jobs in the states the documents show, made once
    per test run (trial has no setUpClass) and cancelled when the process exits: ``held``,
    ``array`` (held, tasks 1-10%3), ``het`` (held; debug and long), ``pending`` (begins in
    an hour), ``detailed`` (held, with ``DETAILED``) and ``running`` (sleeps, 1 CPU).
    Skips the test where the cluster has no slurmrestd."""
    if not _standing:
        import atexit
        import unittest

        from slurmrest.testing.cluster import Cluster

        cluster = Cluster.from_environment()
        if not cluster.restd_url:
            raise unittest.SkipTest("no slurmrestd on the test cluster")
        name = STANDING_JOB_NAME
        held = ["--hold", "-t", "5"]  # held jobs stay as they are during the comparisons
        jobs = {
            "held": cluster.submit("true", name=name, extra=held),
            "array": cluster.submit("true", name=name, extra=[*held, "--array=1-10%3"]),
            "pending": cluster.submit("true", name=name, extra=["--begin=now+3600", "-t", "5"]),
            "detailed": cluster.submit("true", name=name, extra=["--hold", *DETAILED]),
            "running": cluster.submit("sleep 300", name=name, extra=["-t", "5", "-n", "1"]),
        }
        out = cluster.run(["sbatch", "--parsable", "-J", name, *held, "-o", "/dev/null",
                           "-n1", "-p", "debug", ":", "-n2", "-p", "long", "--wrap", "true"],
                          user="alice")
        jobs["het"] = int(out.stdout.strip().split(";")[0])
        atexit.register(cluster.cancel, *jobs.values())
        cluster.wait_for_job_state(jobs["running"], "RUNNING", timeout=60)
        _standing.update(jobs, cluster=cluster)
    return _standing


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


@dataclass
class Difference:
    path: str
    kind: str  # "missing" (only in the reference), "extra" (only ours), "type", "value",
    #            "length" (of a loose array), "unmatched" (a keyed record on one side only),
    #            "duplicate" (two records of a keyed list with one key)
    reference: Any = None
    ours: Any = None

    def __str__(self) -> str:
        return f"{self.kind:9} {self.path}: slurmrestd={self.reference!r} slurmrest={self.ours!r}"


def _matches(path: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, p) or (p.endswith("/**") and path.startswith(p[:-2]))
               for p in patterns)


def _generic(path: str) -> str:
    """``jobs/3/name`` → ``jobs/*/name``: list indexes and record keys as ``*``."""
    return "/".join("*" if part.startswith("#") or part.isdigit() else part
                    for part in path.split("/"))


def _pending(record: Any) -> bool:
    return isinstance(record, dict) and record.get("job_state") == "PENDING"


def diff_documents(reference: Any, ours: Any, *, ignore: Iterable[str] = (),
                   loose: Iterable[str] = (), pending_loose: Iterable[str] | None = None,
                   partial: bool = False, keys: dict[str, str] = KEYS) -> list[Difference]:
    """Every difference between two decoded documents (see the module docstring). Job
    records pending on both sides are compared with ``pending_loose`` instead of ``loose``
    when it is given."""
    ignore = tuple(ignore) + ALWAYS_IGNORED
    loose = tuple(loose)
    out: list[Difference] = []

    def walk(ref, our, path, loose=loose):
        generic = _generic(path)
        if path and _matches(generic, ignore):
            return
        rt, ot = json_type(ref), json_type(our)
        if rt != ot:
            # A loose field may be null on one side at the moment of asking (e.g. a pending
            # job's nodes); a different non-null type is always an error.
            if not (_matches(generic, loose) and "null" in (rt, ot)):
                out.append(Difference(path, "type", ref, our))
            return
        if rt == "object":
            for key in ref:
                sub = f"{path}/{key}" if path else key
                if key not in our:
                    if not _matches(_generic(sub), ignore):
                        out.append(Difference(sub, "missing", ref[key], None))
                    continue
                walk(ref[key], our[key], sub, loose)
            for key in our:
                sub = f"{path}/{key}" if path else key
                if key not in ref and not _matches(_generic(sub), ignore):
                    out.append(Difference(sub, "extra", None, our[key]))
            return
        if rt == "array":
            key = keys.get(generic)
            if key and all(isinstance(r, dict) and key in r for r in ref + our):
                ref_by = {r[key]: r for r in ref}
                our_by = {r[key]: r for r in our}
                if len(ref_by) != len(ref) or len(our_by) != len(our):
                    # Two records with one key: one would hide the other. (How many hid.)
                    out.append(Difference(path, "duplicate", len(ref) - len(ref_by),
                                          len(our) - len(our_by)))
                for k, r in ref_by.items():
                    if k in our_by:
                        o = our_by[k]
                        both_pending = generic == "jobs" and _pending(r) and _pending(o)
                        walk(r, o, f"{path}/#{k}", tuple(pending_loose)
                             if both_pending and pending_loose is not None else loose)
                    elif not partial:
                        out.append(Difference(f"{path}/#{k}", "unmatched", k, None))
                if not partial:
                    for k in our_by.keys() - ref_by.keys():
                        out.append(Difference(f"{path}/#{k}", "unmatched", None, k))
                return
            if _matches(generic, loose):
                if len(ref) != len(our) and not _matches(generic, LENGTH_MAY_CHANGE):
                    out.append(Difference(path, "length", len(ref), len(our)))
                for i, (r, o) in enumerate(zip(ref, our)):
                    walk(r, o, f"{path}/{i}", loose)
                return
            if len(ref) != len(our):
                out.append(Difference(path, "value", ref, our))
                return
            for i, (r, o) in enumerate(zip(ref, our)):
                walk(r, o, f"{path}/{i}", loose)
            return
        if ref != our and not _matches(generic, loose):
            out.append(Difference(path, "value", ref, our))

    walk(reference, ours, "")
    return out


@dataclass
class Comparison:
    method: str
    path: str
    reference_status: int
    our_status: int
    reference: Any
    ours: Any
    differences: list[Difference] = field(default_factory=list)

    def report(self) -> str:
        lines = [f"{self.method} {self.path}: slurmrestd {self.reference_status}, "
                 f"slurmrest {self.our_status}"]
        lines.extend(str(d) for d in self.differences)
        return "\n".join(lines)


def _decode(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


async def _request(url: str, method: str, headers: dict, body: bytes | None):
    """One HTTP request with treq: (status, body bytes)."""
    import treq
    response = await treq.request(method, url, headers=headers, data=body, persistent=False)
    return response.code, await response.content()


def our_url() -> str | None:
    """Where slurmrest answers, for differential tests: ``$SLURMREST_TEST_URL`` if set, else
    the in-process server started by ``start_ours`` (None until then)."""
    return os.environ.get("SLURMREST_TEST_URL") or _started.get("url")


_started: dict[str, Any] = {}


async def start_ours(cluster) -> str:
    """Start slurmrest in this process on a loopback port, talking to ``cluster``, once per
    test run; return its base URL. (Or use an already running one: ``SLURMREST_TEST_URL``.)"""
    url = our_url()
    if url:
        return url
    from twisted.internet import reactor

    from slurmrest.tap import make_gateway
    from slurmrest.web.channel import GatewaySite
    from slurmrest.wire.conf import SlurmConfig

    gateway = make_gateway(SlurmConfig.load(cluster.slurm_conf), jwt_key=cluster.jwt_key_path,
                           reactor=reactor)
    port = reactor.listenTCP(0, GatewaySite(gateway), interface="127.0.0.1")
    _started.update(port=port, gateway=gateway,
                    url=f"http://127.0.0.1:{port.getHost().port}")
    return _started["url"]


async def stop_ours() -> None:
    """Stop the in-process server (trial's reactor must be clean after each test module)."""
    port = _started.pop("port", None)
    _started.pop("url", None)
    gateway = _started.pop("gateway", None)
    if port is not None:
        await port.stopListening()
    if gateway is not None and gateway.dbd is not None:
        await gateway.dbd.close()  # its pooled slurmdbd connections and their idle timers


async def compare(cluster, path: str, *, user: str = "alice", method: str = "GET",
                  body: Any = None, ignore: Iterable[str] = (), loose: Iterable[str] = (),
                  partial: bool = False, deviations: bool = False, strict: bool = False,
                  our_path: str | None = None) -> Comparison:
    """Send ``method path`` (with ``body`` as JSON) as ``user`` to both servers and compare.

    Jobs pending on both sides (held ones too) are compared by value but for the
    ``PENDING_MOMENT_DEPENDENT`` fields. ``deviations=True`` also reports the
    ``KNOWN_DEVIATIONS``; ``strict=True`` compares the ``MOMENT_DEPENDENT`` values too (for records known not to change meanwhile, e.g. a
    running job's allocation); ``our_path`` sends a different path to slurmrest (e.g. a
    ``/slurm/v1`` one)."""
    if not cluster.restd_url:
        import unittest
        raise unittest.SkipTest("the test cluster has no slurmrestd to compare with")
    ours = await start_ours(cluster)
    token = cluster.token(user)
    headers = {"X-SLURM-USER-NAME": user, "X-SLURM-USER-TOKEN": token}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    ref_status, ref_body = await _request(cluster.restd_url + path, method, headers, data)
    our_status, our_body = await _request(ours + (our_path or path), method, headers,
                                          data)
    reference, mine = _decode(ref_body), _decode(our_body)
    ignored = tuple(ignore) + (() if deviations else tuple(KNOWN_DEVIATIONS))
    differences = diff_documents(
        reference, mine, ignore=ignored,
        loose=tuple(loose) + (() if strict else MOMENT_DEPENDENT),
        pending_loose=tuple(loose) + (() if strict else PENDING_MOMENT_DEPENDENT),
        partial=partial)
    return Comparison(method, path, ref_status, our_status, reference, mine, differences)


def assert_same(testcase, comparison: Comparison, *, status: int | None = None) -> None:
    """Fail ``testcase`` unless both answered the same status (or ``status`` for ours, where
    we deliberately differ) and the documents agree."""
    expected = comparison.reference_status if status is None else status
    if comparison.our_status != expected or comparison.differences:
        testcase.fail(comparison.report())


def schema_mismatches(document: dict, schema: dict, resolve=None, path: str = "") -> list[str]:
    """Fields of ``document`` that its (compact, ``api.schemas``-made) OpenAPI object schema
    does not declare, or declares with another JSON type. ``resolve(name)`` gives a named
    schema for ``$ref``s (default: ``api.registry.SCHEMAS``)."""
    if resolve is None:
        from slurmrest.api.registry import SCHEMAS
        resolve = SCHEMAS.__getitem__
    if "$ref" in schema:
        schema = resolve(schema["$ref"].rsplit("/", 1)[1])
    out = []
    properties = schema.get("properties", {})
    for key, value in document.items():
        where = f"{path}/{key}" if path else key
        declared = properties.get(key)
        if declared is None:
            out.append(f"{where}: not in the schema")
            continue
        if "$ref" in declared:
            declared = resolve(declared["$ref"].rsplit("/", 1)[1])
        kind = json_type(value)
        if kind == "null":
            if not declared.get("nullable"):
                out.append(f"{where}: null but not nullable")
            continue
        expected = declared.get("type")
        if expected == "number" and kind == "integer":
            kind = "number"
        if expected and kind != expected:
            out.append(f"{where}: {kind}, schema says {expected}")
        elif kind == "object" and declared.get("properties"):
            out.extend(schema_mismatches(value, declared, resolve, where))
        elif kind == "array" and "items" in declared:
            items = declared["items"]
            if "$ref" in items:
                items = resolve(items["$ref"].rsplit("/", 1)[1])
            for i, item in enumerate(value):
                if items.get("type") == "object" and isinstance(item, dict):
                    out.extend(schema_mismatches(item, items, resolve, f"{where}/{i}"))
                elif json_type(item) != items.get("type"):
                    out.append(f"{where}/{i}: {json_type(item)}, schema says {items.get('type')}")
    return out
