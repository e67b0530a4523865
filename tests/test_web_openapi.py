"""The OpenAPI document: valid OpenAPI 3, and it lists exactly what the server routes."""

from __future__ import annotations

import json

from openapi_spec_validator import validate
from twisted.trial import unittest

from slurmrest.api.registry import API_VERSIONS, load_operations
from slurmrest.web.openapi import build_document
from slurmrest.web.routing import OPENAPI_PATHS, Router
from tests.test_web_server import creds, exchange, make_site, request, test_registry


class OpenApiTests(unittest.TestCase):
    def setUp(self):
        self.registry = load_operations()
        self.document = build_document(Router(self.registry))

    def test_validates(self):
        validate(self.document)

    def test_lists_every_operation_under_every_version(self):
        paths = self.document["paths"]
        for op in self.registry:
            for version in API_VERSIONS[op.family]:
                path = f"/{op.family}/{version}{op.path}"
                self.assertIn(path, paths)
                entry = paths[path][op.method.lower()]
                declared = {p.name for p in op.params}
                self.assertEqual({p["name"] for p in entry.get("parameters", [])}, declared)
                self.assertEqual("requestBody" in entry, op.request_schema is not None)
        operations = sum(len(v) for k, v in paths.items() if k not in OPENAPI_PATHS)
        expected = sum(len(API_VERSIONS[op.family]) for op in self.registry)
        self.assertEqual(operations, expected)

    def test_operation_ids_unique(self):
        ids = [entry["operationId"] for methods in self.document["paths"].values()
               for entry in methods.values()]
        self.assertEqual(len(ids), len(set(ids)))
        # slurmrestd's names where ours match its operations.
        self.assertEqual(self.document["paths"]["/slurm/v0.0.38/ping"]["get"]["operationId"],
                         "slurm_v0_0_38_ping")

    def test_security_schemes_for_the_headers(self):
        schemes = self.document["components"]["securitySchemes"]
        self.assertEqual({s["name"] for s in schemes.values()},
                         {"X-SLURM-USER-NAME", "X-SLURM-USER-TOKEN", "X-SLURM-USER-ID",
                          "X-SLURM-API-KEY"})

    def test_response_envelope(self):
        ping = self.document["paths"]["/slurm/v1/ping"]["get"]["responses"]["200"]
        schema = ping["content"]["application/json"]["schema"]
        self.assertEqual(set(schema["properties"]), {"meta", "errors", "pings"})

    def test_error_statuses_are_listed(self):
        paths = self.document["paths"]
        for op in self.registry:
            responses = paths[f"/{op.family}/v0.0.38{op.path}"][op.method.lower()]["responses"]
            listed = {int(code) for code in responses if code not in ("200", "default")}
            # 304: Slurm's "no change" reply, possible for every operation (api.runner).
            self.assertEqual(listed, {304, *op.error_statuses()}, op.operation_id)
        get_job = paths["/slurm/v0.0.38/job/{job_id}"]["get"]["responses"]
        self.assertEqual(get_job["404"]["description"], "Not Found")
        self.assertIn("500", get_job)  # slurmrestd's answer to any other refusal
        update_node = paths["/slurm/v1/node/{node_name}"]["post"]["responses"]
        self.assertIn("409", update_node)  # node busy
        self.assertIn("400", update_node)  # any other refusal

    def test_served_document_is_the_generated_one(self):
        site = make_site(registry=test_registry({}))
        (r,), _ = exchange(site, request("GET", "/openapi/v3", creds()))
        served = json.loads(r.body)
        validate(served)
        self.assertEqual(served, json.loads(json.dumps(site.gateway.openapi)))
        self.assertIs(site.gateway.openapi_bytes("application/json"),
                      site.gateway.openapi_bytes("application/json"))
