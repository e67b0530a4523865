"""slurmrest: a REST gateway to Slurm that speaks Slurm's binary RPC protocol itself.

Three rooms that never reach into each other:

- ``slurmrest.wire``: bytes, message tables per Slurm version, the Deferred-based clients.
- ``slurmrest.api``: operations; Slurm records to and from API documents; the registry.
- ``slurmrest.web``: HTTP, content negotiation, authentication, routing, OpenAPI.
"""

__version__ = "0.1.0.dev0"
