"""The other Slurm release's test cluster: the one the host's Debian does not ship, run in a
chroot of the other Debian (``scripts/testcluster-chroot.sh``), as tests see it.

The host's own Slurm runs natively (``slurmrest.testing.cluster``); which release is the
other one follows from ``/etc/debian_version`` (``other_release``): Debian 12 ships 22.05,
so 24.11 runs in a Debian 13 chroot; on Debian 13 it is the other way round. Tests::

    cluster = ChrootCluster.from_environment()   # SLURMREST_TEST_CLUSTER2=DIR, else SkipTest
    cluster.run(["squeue", "-h"])                # the release's own tools, inside the chroot
"""

from __future__ import annotations

import os
import re
import subprocess
import unittest
from typing import NamedTuple

from slurmrest.wire.conf import SlurmConfig

ENVIRONMENT_VARIABLE = "SLURMREST_TEST_CLUSTER2"
#: Why the second release's tests are skipped, when scripts/test could not bring it up.
SKIP_REASON_VARIABLE = "SLURMREST_TEST_CLUSTER2_SKIPPED"


class Release(NamedTuple):
    """A Slurm release and the Debian suite that ships it."""

    slurm: str
    suite: str
    debian: int


RELEASES = (Release("22.05", "bookworm", 12), Release("24.11", "trixie", 13))


def host_debian(text: str) -> int | None:
    """The Debian major version from ``/etc/debian_version``'s text ("12.11", "13.1",
    "trixie/sid"), or None when it is not one we know."""
    text = text.strip()
    match = re.match(r"(\d+)", text)
    if match:
        return int(match.group(1))
    for release in RELEASES:
        if text.startswith(release.suite):
            return release.debian
    return None


def other_release(debian_version_text: str) -> Release | None:
    """The release to run in a chroot on a host whose ``/etc/debian_version`` says this:
    the one the host does not ship (None on a Debian we do not know)."""
    debian = host_debian(debian_version_text)
    native = [r for r in RELEASES if r.debian == debian]
    if not native:
        return None
    return next(r for r in RELEASES if r is not native[0])


def read_debian_version(path="/etc/debian_version") -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return ""


class ChrootCluster:
    """A running chroot cluster under ``dir`` (made by ``scripts/testcluster-chroot.sh``).

    The same face as ``Cluster`` where tests need it: ``cluster_name``, ``slurm_conf``,
    ``jwt_key_path``, ``ctld_port``, ``restd_url``, ``run`` (inside the chroot, as a user),
    ``token``, ``submit``, ``cancel``.
    """

    def __init__(self, dir):
        self.dir = os.path.abspath(dir)
        self.slurm_conf = os.path.join(self.dir, "etc", "slurm.conf")
        self.jwt_key_path = os.path.join(self.dir, "jwt_hs256.key")
        self._in_chroot = os.path.join(self.dir, "in-chroot")
        if not os.path.exists(self._in_chroot):
            raise FileNotFoundError(f"{self.dir} is not a chroot test cluster (no in-chroot)")
        self.config = SlurmConfig.load(self.slurm_conf)
        self.env_vars = _exports(os.path.join(self.dir, "env.sh"))

    @classmethod
    def from_environment(cls):
        directory = os.environ.get(ENVIRONMENT_VARIABLE)
        if not directory:
            reason = os.environ.get(SKIP_REASON_VARIABLE) or (
                f"{ENVIRONMENT_VARIABLE} is not set (no second-release cluster: scripts/test "
                f"brings one up in a chroot where the machine can build one)")
            raise unittest.SkipTest(reason)
        return cls(directory)

    def __repr__(self):
        return f"ChrootCluster({self.dir!r})"

    @property
    def cluster_name(self):
        return self.config.cluster_name

    @property
    def ctld_port(self):
        return self.config.controllers[0].port

    @property
    def restd_url(self):
        return self.env_vars.get("SLURMRESTD_URL")

    def jwt_key(self):
        with open(self.jwt_key_path, "rb") as f:
            return f.read()

    def run(self, argv, user=None, check=True, input=None, timeout=120):
        """A command of the release's own, inside the chroot (as ``user`` if given)."""
        argv = [str(a) for a in argv]
        if user is not None:
            argv = ["runuser", "-u", user, "--", "env", f"SLURM_CONF={self.slurm_conf}",
                    *argv]
        return subprocess.run([self._in_chroot, *argv], input=input, capture_output=True,
                              text=True, check=check, timeout=timeout,
                              stdin=None if input is not None else subprocess.DEVNULL)

    def token(self, user, lifespan=600):
        proc = self.run(["scontrol", "token", f"username={user}", f"lifespan={int(lifespan)}"])
        for line in proc.stdout.splitlines():
            if line.startswith("SLURM_JWT="):
                return line[len("SLURM_JWT="):].strip()
        raise RuntimeError(f"scontrol token username={user} failed: {proc.stderr.strip()}")

    def submit(self, command, user="alice", name="slurmrest-test", extra=()):
        out = self.run(["sbatch", "--parsable", "-J", name, "-o", "/dev/null", *extra,
                        "--wrap", command], user=user).stdout.strip()
        return int(out.split(";")[0])

    def cancel(self, *job_ids):
        if job_ids:
            self.run(["scancel", *map(str, job_ids)], check=False)


CHROOT_SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "scripts", "testcluster-chroot.sh")
DEFAULT_PORT_BASE = 15917


def chroot_environment(release: Release, port_base: int = DEFAULT_PORT_BASE) -> dict:
    """The knobs of ``scripts/testcluster-chroot.sh`` for ``release`` on ports from
    ``port_base`` (slurmctld base, slurmdbd +2, slurmrestd +3, slurmd +14.., MariaDB
    base - 5500), its chroot in ``/var/tmp/slurmrest-SUITE``."""
    return {"CHROOT": f"/var/tmp/slurmrest-{release.suite}", "SUITE": release.suite,
            "CTLD_PORT": str(port_base), "DBD_PORT": str(port_base + 2),
            "RESTD_PORT": str(port_base + 3), "SLURMD_PORT0": str(port_base + 14),
            "MYSQL_PORT": str(port_base - 5500)}


def main(argv=None):
    """``python -m slurmrest.testing.second suite|release``: the Debian suite (Slurm
    release) to run in a chroot on this host; ``up|down|status DIR [PORT_BASE]``: bring
    that cluster up (building the chroot if missing), stop it, show it. Exit 1, with the
    reason on stderr, when this host has no second release."""
    import sys

    argv = sys.argv[1:] if argv is None else list(argv)
    text = read_debian_version()
    release = other_release(text)
    if release is None:
        print(f"no second release for /etc/debian_version {text.strip()!r}", file=sys.stderr)
        return 1
    command = argv[0] if argv else "release"
    if command == "suite":
        print(release.suite)
        return 0
    if command == "release":
        print(release.slurm)
        return 0
    if command in ("up", "down", "status") and len(argv) in (2, 3):
        port_base = int(argv[2]) if len(argv) == 3 else DEFAULT_PORT_BASE
        env = {**os.environ, **chroot_environment(release, port_base)}
        return subprocess.run([CHROOT_SCRIPT, command, argv[1]], env=env).returncode
    print("usage: python -m slurmrest.testing.second suite|release|up|down|status "
          "[DIR [PORT_BASE]]", file=sys.stderr)
    return 2


def _exports(path):
    values = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                match = re.match(r"export (\w+)=(.*)$", line.strip())
                if match:
                    values[match.group(1)] = match.group(2).strip("'\"")
    except OSError:
        pass
    return values


if __name__ == "__main__":
    raise SystemExit(main())
