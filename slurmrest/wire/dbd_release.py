"""Which release's tables a slurmdbd understands: learnt from REQUEST_PERSIST_INIT itself.

slurmdbd serves a connection in the protocol its client names in the init message, if it
can unpack that (any release from its SLURM_MIN_PROTOCOL_VERSION up to its own). The
answers differ by direction, which decides the order of the tries:

- a 24.11 slurmdbd refuses a 22.05 init with PERSIST_RC ``SLURM_PROTOCOL_VERSION_ERROR``
  (1005, "Failed to unpack SLURM_PERSIST_INIT message"): unambiguous;
- a 22.05 slurmdbd refuses a 24.11 init with rc -1 and the same text it gives a bad token:
  ambiguous.

So the candidates are tried oldest first: the first one accepted is the one to use, 1005
means "try the next", and anything else (a refused token, slurmdbd down) is the caller's
error, not a reason to guess another release.
"""

from __future__ import annotations

from slurmrest.wire.dbd_client import SlurmdbdClient
from slurmrest.wire.errors import SLURM_PROTOCOL_VERSION_ERROR, ProtocolError, SlurmError
from slurmrest.wire.versions import SlurmVersion


async def choose_dbd_version(config, credential, candidates, reactor=None,
                             **client_options) -> SlurmVersion:
    """The oldest of ``candidates`` (``SlurmVersion``s with ``dbd`` tables) whose
    PERSIST_INIT the slurmdbd of ``config`` accepts from ``credential``; ProtocolError when
    it accepts none. ``client_options`` go to each probing ``SlurmdbdClient``."""
    ordered = sorted((c for c in candidates if c.dbd is not None),
                     key=lambda c: c.dbd.protocol)
    if not ordered:
        raise ProtocolError("no slurmdbd tables to choose from")
    refused = []
    for version in ordered:
        client = SlurmdbdClient(config, reactor, version=version, **client_options)
        try:
            await client.bind(credential).tres({"id_list": ["1"]})  # the init, then a tiny read
        except SlurmError as e:
            if e.errno != SLURM_PROTOCOL_VERSION_ERROR:
                raise
            refused.append(version.name)
        else:
            return version
        finally:
            await client.close()
    raise ProtocolError(f"slurmdbd at {config.accounting_storage_host}:"
                        f"{config.accounting_storage_port} accepts none of the releases "
                        f"{', '.join(refused)}", SLURM_PROTOCOL_VERSION_ERROR)
