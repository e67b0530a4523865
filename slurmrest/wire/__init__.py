"""Slurm's binary RPC protocol: primitives, message tables per protocol version, clients.

Nothing here knows about HTTP. Records are plain dicts keyed by Slurm's own field names.
"""
