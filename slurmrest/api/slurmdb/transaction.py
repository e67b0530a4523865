"""One request's writes, all or nothing: ``await write_all(call, step, ...)``.

Each step is ``await step(txn)`` on the same slurmdbd transaction (the ``add_*``/``apply_*``
functions of the record modules, with their prepared records bound); DBD_FINI commits only
after every step succeeded, and any failure (a refusal, slurmdbd going away, the client
cancelling) closes the connection instead, which makes slurmdbd roll back.
"""

from __future__ import annotations

from typing import Awaitable, Callable


async def write_all(call, *steps: Callable[[object], Awaitable[None]]) -> None:
    txn = await call.slurmdbd.begin()
    try:
        for step in steps:
            await step(txn)
        await txn.commit()
    finally:
        txn.abort()  # a no-op once committed
