"""Our OpenAPI document is usable, not only valid: openapi-python-client generates a client
from the server's own /openapi/v3, and that client (typed models, httpx underneath, the
token as ``Authorization: Bearer``) drives ping, jobs, submit, job, cancel, nodes and
partitions through slurmrest against the real cluster."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from twisted.internet.threads import deferToThread

from tests.test_operating_live import OperatingBase

GENERATOR = Path(sys.prefix) / "bin" / "openapi-python-client"


class GeneratedClientTests(OperatingBase):
    timeout = 300

    async def test_generated_client_drives_the_api(self):
        (base,) = await self.start(["-f", self.cluster.slurm_conf, "-l", "127.0.0.1:0"])
        response, body = await self.request("GET", base + "/openapi/v3", self.auth())
        self.assertEqual(response.code, 200)
        spec = Path(self.dir) / "openapi.json"
        spec.write_bytes(body)
        package = f"slurmrest_generated_{uuid.uuid4().hex[:8]}"
        self.assertTrue(GENERATOR.exists(), "scripts/setup installs openapi-python-client")
        done = await deferToThread(subprocess.run, [
            str(GENERATOR), "generate", "--path", str(spec), "--meta", "none",
            "--output-path", str(Path(self.dir) / package)],
            capture_output=True, text=True, timeout=240)
        self.assertEqual(done.returncode, 0, done.stdout[-3000:] + done.stderr[-3000:])
        sys.path.insert(0, self.dir)
        self.addCleanup(sys.path.remove, self.dir)
        gen = importlib.import_module(package)
        api = importlib.import_module(f"{package}.api.slurm")
        modules = {name: importlib.import_module(f"{package}.api.slurm.slurm_v0_0_38_{name}")
                   for name in ("ping", "get_jobs", "submit_job", "get_job", "cancel_job",
                                "get_nodes", "get_partitions")}
        submission = importlib.import_module(f"{package}.models.v0038_job_submission")
        self.assertTrue(api)
        # (Connection: close: no keep-alive connection outlives the test's server.)
        client = gen.AuthenticatedClient(base_url=base, token=self.alice,
                                         headers={"Connection": "close"})

        def call(name, *args, **kwargs):
            return deferToThread(lambda: modules[name].sync_detailed(*args, client=client,
                                                                     **kwargs))

        r = await call("ping")
        self.assertEqual(r.status_code, 200, r.content[:300])
        self.assertEqual([p.ping for p in r.parsed.pings], ["UP"])

        tag = f"generated-{uuid.uuid4().hex[:8]}"
        body = submission.V0038JobSubmission.from_dict({
            "script": "#!/bin/sh\nsleep 60\n",
            "job": {"name": tag, "partition": "debug", "hold": True, "time_limit": 5,
                    "environment": {"PATH": "/bin:/usr/bin"},
                    "current_working_directory": "/tmp"}})
        r = await call("submit_job", body=body)
        self.assertEqual(r.status_code, 200, r.content[:500])
        job_id = r.parsed.job_id
        self.addCleanup(self.cluster.cancel, job_id)
        # What slurmctld itself says of the job the generated client submitted.
        shown = self.cluster.run(["scontrol", "-o", "show", "job", str(job_id)]).stdout
        self.assertIn(f"JobName={tag}", shown)
        self.assertIn("UserId=alice(", shown)

        r = await call("get_job", str(job_id))
        self.assertEqual(r.status_code, 200, r.content[:300])
        (job,) = r.parsed.jobs
        self.assertEqual((job.job_id, job.name, job.user_name, job.job_state),
                         (job_id, tag, "alice", "PENDING"))

        r = await call("get_jobs")
        self.assertEqual(r.status_code, 200)
        self.assertIn(job_id, [j.job_id for j in r.parsed.jobs])

        r = await call("get_nodes")
        self.assertEqual(r.status_code, 200)
        self.assertEqual(sorted(n.name for n in r.parsed.nodes),
                         sorted(self.cluster.nodes))
        r = await call("get_partitions")
        self.assertEqual(r.status_code, 200)
        self.assertEqual({p.name for p in r.parsed.partitions}, {"debug", "long"})

        r = await call("cancel_job", str(job_id))
        self.assertEqual(r.status_code, 200, r.content[:300])
        state = self.cluster.wait_for_job_state(job_id, {"CANCELLED"}, timeout=30)
        self.assertEqual(state, "CANCELLED")
        r = await call("get_job", "999999999")
        self.assertEqual(r.status_code, 404)
        self.assertTrue(json.loads(r.content)["errors"])
