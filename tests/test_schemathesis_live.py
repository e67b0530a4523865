"""Schemathesis over every operation of our own OpenAPI document, authenticated as alice,
against the real test cluster: a bounded run (``RUN_SECONDS``) that fails on any 5xx, any
status the document does not list, any answer whose Content-Type, headers or body do not match
the document. The longer run with its counts: ``benchmarks/bench_schemathesis.py``.

``POST /slurmdb/*/tres`` is run apart, without the 5xx check: it answers 501 on purpose
(TRES are slurmctld's to create; ``api/slurmdb/tres.py``), which its document lists.
"""

from __future__ import annotations

import os
import sys

from twisted.internet import utils
from twisted.trial import unittest

from tests import differential

#: Seconds of fuzzing per run (the coverage phase comes first and takes a few seconds).
RUN_SECONDS = int(os.environ.get("SLURMREST_SCHEMATHESIS_SECONDS", "60"))
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_headers_conformance,response_schema_conformance")



def schemathesis_binary() -> str | None:
    path = os.path.join(os.path.dirname(sys.executable), "schemathesis")
    return path if os.access(path, os.X_OK) else None


async def run_schemathesis(url: str, token: str, *extra: str, seconds: int = RUN_SECONDS,
                           examples: int = 10) -> tuple[int, str]:
    """``schemathesis run`` against ``url`` as alice: (exit code, its whole output)."""
    argv = ["run", f"{url}/openapi/v3", "-H", "X-SLURM-USER-NAME: alice",
            "-H", f"X-SLURM-USER-TOKEN: {token}", "--no-color", "-w", "2",
            "-n", str(examples), "--max-time", str(seconds),
            "--phases", "examples,coverage,fuzzing", "--request-timeout", "30",
            "--generation-database", "none", *extra]
    out, err, code = await utils.getProcessOutputAndValue(
        schemathesis_binary(), argv, env=dict(os.environ, NO_COLOR="1"))
    return code, (out + err).decode("utf-8", "replace")


class SchemathesisTests(unittest.TestCase):
    timeout = 2 * RUN_SECONDS + 240

    def setUp(self):
        from slurmrest.testing.cluster import Cluster

        self.cluster = Cluster.from_environment()
        if schemathesis_binary() is None:
            raise unittest.SkipTest("schemathesis is not installed (scripts/setup)")

    async def tearDown(self):
        await differential.stop_ours()

    def assertClean(self, code: int, output: str) -> None:
        summary = output[output.rfind("SUMMARY"):] if "SUMMARY" in output else output[-3000:]
        self.assertEqual(code, 0, output[-20000:])
        self.assertIn("Test cases:", summary)
        self.assertNotIn("Failures:", summary)

    async def test_every_operation_holds_to_the_document(self):
        url = await differential.start_ours(self.cluster)
        token = self.cluster.token("alice", lifespan=3 * RUN_SECONDS + 300)
        code, output = await run_schemathesis(url, token, "--checks", CHECKS,
                                              "--exclude-operation-id-regex", "update_tres")
        self.assertClean(code, output)
        # It did test them all: 73 operations (two versions of each, and the documents).
        self.assertRegex(output, r"Tested: (\d+)")
        selected = output.split("Selected: ", 1)[1].split("/", 1)
        self.assertEqual(selected[0].strip(), str(int(selected[1].split()[0]) - 2))

    async def test_update_tres_holds_to_the_document(self):
        url = await differential.start_ours(self.cluster)
        token = self.cluster.token("alice", lifespan=RUN_SECONDS + 300)
        code, output = await run_schemathesis(
            url, token, "--checks", CHECKS.replace("not_a_server_error,", ""),
            "--include-operation-id-regex", "update_tres", seconds=10)
        self.assertClean(code, output)
