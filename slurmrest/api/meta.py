"""The ``meta`` block of every response, and the controller's build info it is made from.

slurmrestd reports which plugin answered and which Slurm it talks to. We take the Slurm
version from the controller's ``RESPONSE_BUILD_INFO`` (its ``version`` string) and keep it:
the version of a running slurmctld does not change under us, and ``/ping`` needs the
controller list from the same message.
"""

from __future__ import annotations

import time
from typing import Any, Awaitable, Callable

from twisted.internet.defer import ensureDeferred

from slurmrest.wire.errors import NoChange

#: What slurmrestd calls its plugins, per API family and version prefix.
_PLUGINS = {
    ("slurm", "v0.0.38"): ("openapi/v0.0.38", "Slurm OpenAPI v0.0.38"),
    ("slurmdb", "v0.0.38"): ("openapi/dbv0.0.38", "Slurm OpenAPI DB v0.0.38"),
    ("slurm", "v1"): ("openapi/v1", "slurmrest OpenAPI v1"),
    ("slurmdb", "v1"): ("openapi/dbv1", "slurmrest OpenAPI DB v1"),
}


def plugin(family: str, version: str) -> dict:
    kind, name = _PLUGINS.get((family, version), (f"openapi/{version}", f"slurmrest {version}"))
    return {"type": kind, "name": name}


def slurm_version(release: str | None) -> dict | None:
    """``"22.05.8"`` → slurmrestd's ``Slurm`` block; ``None`` while the version is unknown."""
    if not release:
        return None
    parts = (release.split("-")[0].split(".") + ["0", "0", "0"])[:3]
    try:
        major, minor, micro = (int(p) for p in parts)
    except ValueError:
        return {"version": {}, "release": release}
    return {"version": {"major": major, "micro": micro, "minor": minor}, "release": release}


def meta(family: str, version: str, release: str | None) -> dict:
    block: dict[str, Any] = {"plugin": plugin(family, version)}
    slurm = slurm_version(release)
    if slurm is not None:
        block["Slurm"] = slurm
    return block


class BuildInfoCache:
    """The controller's build info, fetched with some caller's credential and kept for
    ``max_age`` seconds (the controller list can change on reconfigure; the version cannot
    without a restart, so ``release`` stays known even when the cache is stale).

    Past ``max_age`` it is revalidated with its own ``last_update``: while the configuration
    is unchanged slurmctld answers ``SLURM_NO_CHANGE_IN_DATA`` and nothing is decoded again.
    """

    def __init__(self, max_age: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.max_age = max_age
        self._clock = clock
        self._info: dict | None = None
        self._fetched = 0.0
        self.release: str | None = None
        #: How often a revalidation found the build info unchanged.
        self.unchanged = 0
        self._learning = False

    async def get(self, fetch: Callable[..., Awaitable[dict]], *, fresh: bool = False,
                  max_age: float | None = None) -> dict:
        """The cached build info, or ``await fetch(last_update)`` if none is fresh enough
        (``fetch`` raises ``NoChange`` when the one held is still current). ``max_age``
        overrides the cache's own (0: always ask, which also authenticates the caller)."""
        info = self._info
        if info is None or fresh:
            self.update(await fetch(0))
        elif self._clock() - self._fetched >= (self.max_age if max_age is None else max_age):
            try:
                self.update(await fetch(info.get("last_update") or 0))
            except NoChange:
                self.unchanged += 1
                self._fetched = self._clock()
        return self._info

    def learn(self, fetch: Callable[..., Awaitable[dict]]) -> None:
        """Fetch the build info in the background unless it is known or being fetched
        (a failure only leaves the release unknown for now)."""
        if self.release is not None or self._learning:
            return
        self._learning = True

        async def learn():
            try:
                self.update(await fetch(0))
            except Exception:
                pass
            finally:
                self._learning = False

        ensureDeferred(learn())

    def update(self, info: dict) -> None:
        self._info = info
        self._fetched = self._clock()
        self.release = info.get("version") or self.release


async def build_info(call, *, max_age: float | None = None) -> dict:
    """The build info for ``call``, through its state's cache.

    ``max_age=0`` makes the caller's own RPC (a no-change reply while nothing changed), for
    operations whose answer is nothing but the build info and RPCs that cannot tell a refused
    credential from a dead controller (ping)."""
    return await call.state.build_info.get(call.slurmctld.build_info, max_age=max_age)


def learn_release(call) -> None:
    """Start learning the Slurm release for ``meta`` without waiting for it (operations that
    must not depend on slurmctld answering)."""
    call.state.build_info.learn(call.slurmctld.build_info)
