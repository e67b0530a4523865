"""Every ``/slurm/v0.0.38`` GET document we send (and the submit answer) fits slurmrestd
22.05's own OpenAPI document.

A client generated from ``../shared/reference/slurmrestd-22.05.8-openapi.json`` must parse
whatever we send. Each document is fetched from both servers on the live test cluster (with
running, pending, held, array and het jobs in it) and validated with the OpenAPI 3.0 schema
dialect (``openapi-schema-validator``). slurmrestd's own answers break its schema in a few
fields (``EXEMPT``): only there may ours break it too, and only where slurmrestd's answer to
the same request does.

Needs ``SLURMREST_TEST_CLUSTER`` with slurmrestd running; skipped otherwise.
"""

from __future__ import annotations

import functools
import json
import os
import re

from twisted.trial import unittest

from tests import differential

# ``shared/`` lies beside the checkout (SLURMREST_SHARED names another place).
_SHARED = os.environ.get("SLURMREST_SHARED") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared")
REFERENCE = os.path.join(_SHARED, "reference", "slurmrestd-22.05.8-openapi.json")
REFERENCE_URI = "urn:slurmrestd-22.05.8-openapi"

#: Fields where slurmrestd 22.05 sends null for an unset value (NO_VAL, no string, no
#: allocation yet) although its schema declares them with a plain, not nullable type.
NULL_WHEN_UNSET = (
    "jobs/*/array_task_id", "jobs/*/billable_tres", "jobs/*/core_spec",
    "jobs/*/cores_per_socket", "jobs/*/cpu_frequency_governor", "jobs/*/cpu_frequency_maximum",
    "jobs/*/cpu_frequency_minimum", "jobs/*/cpus", "jobs/*/cpus_per_task",
    "jobs/*/memory_per_cpu", "jobs/*/memory_per_node", "jobs/*/nice", "jobs/*/profile",
    "jobs/*/shared", "jobs/*/sockets_per_node", "jobs/*/tasks", "jobs/*/tasks_per_core",
    "jobs/*/tasks_per_socket", "jobs/*/thread_spec", "jobs/*/threads_per_core",
    "nodes/*/owner", "nodes/*/reason_set_by_user", "nodes/*/tres_used",
    "partitions/*/default_memory_per_cpu", "partitions/*/default_memory_per_node",
    "partitions/*/maximum_memory_per_cpu", "partitions/*/maximum_memory_per_node",
    "partitions/*/over_time_limit",
    "accounts/*/associations/*/partition", "accounts/*/associations/*/user",
)

#: Where slurmrestd's own answers fail its schema (``generic path: JSON type`` → why). Ours
#: may fail it only there, and only where slurmrestd's answer to the same request does too.
EXEMPT = {
    **{f"{p}: null": "slurmrestd: null for unset, the schema says not nullable"
       for p in NULL_WHEN_UNSET},
    **{f"{p}: integer": "slurmrestd: an integer, the schema says string" for p in (
        "meta/Slurm/version/major", "meta/Slurm/version/minor", "meta/Slurm/version/micro",
        "jobs/*/cores_per_socket", "jobs/*/cpu_frequency_maximum")},
}


@functools.cache
def reference() -> tuple[dict, object]:
    """The reference OpenAPI document and a ``referencing`` registry holding it."""
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    with open(REFERENCE) as f:
        document = json.load(f)
    return document, Registry().with_resource(REFERENCE_URI,
                                              Resource(contents=document, specification=DRAFT4))


@functools.cache
def validator(path: str, method: str = "get"):
    """An OpenAPI 3.0 validator for the 200 answer of ``method path`` in the reference."""
    from openapi_schema_validator import OAS30Validator

    document, registry = reference()
    template = path.split("?")[0]
    if template not in document["paths"]:
        template = re.sub(r"/(job|node|partition|reservation|account|cluster)/[^/]+$",
                          lambda m: "/%s/{%s}" % (m.group(1), {"job": "job_id"}.get(
                              m.group(1), m.group(1) + "_name")), template)
    answer = document["paths"][template][method]["responses"]["200"]
    ref = answer["content"]["application/json"]["schema"]["$ref"]
    return OAS30Validator({"$ref": REFERENCE_URI + ref}, registry=registry)


def failures(path: str, document, method: str = "get") -> dict[str, str]:
    """``generic path: JSON type`` (``jobs/*/nice: null``) → the first schema error there."""
    out: dict[str, str] = {}
    for error in validator(path, method).iter_errors(document):
        where = "/".join("*" if isinstance(p, int) else str(p) for p in error.absolute_path)
        # Records keyed by name (job_resources' nodes, sockets, cores) are generic too.
        where = re.sub(r"(allocated_nodes/\*/sockets)/[^/]+", r"\1/*", where)
        where = re.sub(r"(sockets/\*/cores)/[^/]+", r"\1/*", where)
        out.setdefault(f"{where}: {differential.json_type(error.instance)}", error.message)
    return out


class ReferenceSchemaTests(unittest.TestCase):
    """Both servers' documents against slurmrestd 22.05's OpenAPI document."""

    timeout = 180

    def setUp(self):
        self.fixture = differential.standing_jobs()
        self.cluster = self.fixture["cluster"]
        self.addCleanup(differential.stop_ours)

    async def check(self, path: str, method: str = "get", body=None):
        cmp = await differential.compare(self.cluster, path, method=method.upper(), body=body)
        self.assertEqual((cmp.reference_status, cmp.our_status), (200, 200), cmp.report())
        theirs = failures(path, cmp.reference, method)
        ours = failures(path, cmp.ours, method)
        # The exemptions are facts about slurmrestd: each failure of its own is named.
        unnamed = {w: m for w, m in theirs.items() if w not in EXEMPT}
        # Ours fails only where slurmrestd's own answer fails too, and in the same way.
        not_theirs = {w: m for w, m in ours.items() if w not in theirs or w not in EXEMPT}
        self.assertEqual({"slurmrestd outside EXEMPT": unnamed, "slurmrest": not_theirs},
                         {"slurmrestd outside EXEMPT": {}, "slurmrest": {}}, path)
        return cmp

    async def test_jobs(self):
        cmp = await self.check("/slurm/v0.0.38/jobs")
        ids = {j["job_id"] for j in cmp.ours["jobs"]}
        f = self.fixture
        self.assertTrue({f["held"], f["array"], f["het"], f["het"] + 1, f["running"],
                         f["pending"], f["detailed"]} <= ids)

    async def test_job_held(self):
        await self.check(f"/slurm/v0.0.38/job/{self.fixture['held']}")

    async def test_job_pending(self):
        await self.check(f"/slurm/v0.0.38/job/{self.fixture['pending']}")

    async def test_job_running(self):
        cmp = await self.check(f"/slurm/v0.0.38/job/{self.fixture['running']}")
        self.assertEqual(cmp.ours["jobs"][0]["job_state"], "RUNNING")

    async def test_job_detailed(self):
        await self.check(f"/slurm/v0.0.38/job/{self.fixture['detailed']}")

    async def test_job_array(self):
        await self.check(f"/slurm/v0.0.38/job/{self.fixture['array']}")

    async def test_job_het(self):
        cmp = await self.check(f"/slurm/v0.0.38/job/{self.fixture['het']}")
        self.assertEqual(len(cmp.ours["jobs"]), 2)

    async def test_nodes(self):
        await self.check("/slurm/v0.0.38/nodes")

    async def test_node(self):
        await self.check("/slurm/v0.0.38/node/n3")

    async def test_partitions(self):
        await self.check("/slurm/v0.0.38/partitions")

    async def test_partition(self):
        await self.check("/slurm/v0.0.38/partition/long")

    async def test_reservations(self):
        await self.check("/slurm/v0.0.38/reservations")

    async def test_reservation(self):
        await self.check("/slurm/v0.0.38/reservation/maint")

    async def test_licenses(self):
        await self.check("/slurm/v0.0.38/licenses")

    async def test_diag(self):
        await self.check("/slurm/v0.0.38/diag")

    async def test_ping(self):
        await self.check("/slurm/v0.0.38/ping")

    async def test_slurmdb_qos(self):
        await self.check("/slurmdb/v0.0.38/qos")

    async def test_slurmdb_tres(self):
        await self.check("/slurmdb/v0.0.38/tres")

    async def test_slurmdb_accounts(self):
        await self.check("/slurmdb/v0.0.38/accounts")
        await self.check("/slurmdb/v0.0.38/account/science")

    async def test_slurmdb_clusters(self):
        await self.check("/slurmdb/v0.0.38/clusters")
        await self.check(f"/slurmdb/v0.0.38/cluster/{self.cluster.cluster_name}")

    async def test_submit(self):
        """Not a GET, but a document a generated client parses all the same."""
        name = "schema-submit"
        self.addCleanup(self.cluster.run, ["scancel", "--name", name], check=False)
        body = {"script": "#!/bin/sh\ntrue\n", "job": {
            "name": name, "hold": True, "time_limit": 5,
            "environment": {"PATH": "/bin:/usr/bin"}, "current_working_directory": "/tmp"}}
        await self.check("/slurm/v0.0.38/job/submit", "post", body)
