"""Every accounting operation of slurmrestd 22.05 (its endpoint list, beside the checkout in
``shared/reference``) is in our OpenAPI document under both ``/slurmdb/v0.0.38`` and
``/slurmdb/v1``, with slurmrestd's operation name, a response schema and its statuses."""

from __future__ import annotations

import os

from twisted.trial import unittest

from slurmrest.api.registry import load_operations
from slurmrest.web.openapi import build_document
from slurmrest.web.routing import Router

_SHARED = os.environ.get("SLURMREST_SHARED") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared")
ENDPOINTS = os.path.join(_SHARED, "reference", "slurmrestd-22.05.8-endpoints.txt")


def reference_operations() -> list[tuple[str, str, str]]:
    """(method, path, operation id) of slurmrestd's /slurmdb/v0.0.38 operations."""
    out = []
    with open(ENDPOINTS) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[1].startswith("/slurmdb/v0.0.38/"):
                out.append((parts[0], parts[1], parts[2]))
    return out


class AccountingOperationsTests(unittest.TestCase):
    def test_all_32_under_both_prefixes(self):
        reference = reference_operations()
        self.assertEqual(len(reference), 32)
        document = build_document(Router(load_operations()))
        for method, path, operation_id in reference:
            for version in ("v0.0.38", "v1"):
                ours = path.replace("/v0.0.38/", f"/{version}/")
                with self.subTest(method=method, path=ours):
                    operation = document["paths"].get(ours, {}).get(method.lower())
                    self.assertIsNotNone(operation, f"{method} {ours} is missing")
                    if version == "v0.0.38":
                        self.assertEqual(operation["operationId"], operation_id)
                    self.assertIn("200", operation["responses"])
                    self.assertIn("content", operation["responses"]["200"])
        ours = {(m.upper(), p) for p, ops in document["paths"].items()
                if p.startswith("/slurmdb/v0.0.38/") for m in ops}
        self.assertEqual(ours, {(m, p) for m, p, _ in reference})  # nothing extra either
