"""The real Slurm test cluster, as tests see it, and the command that brings it up.

Tests::

    cluster = Cluster.from_environment()      # SLURMREST_TEST_CLUSTER=DIR, else SkipTest
    token = cluster.token("alice")
    cluster.run(["sbatch", "--parsable", "--wrap", "true"], user="alice")

Command line (as root)::

    python -m slurmrest.testing.cluster up|down|status DIR [--port-base N|auto]
        [--restd] [--no-verify] [--cluster-name NAME]
"""

import os
import subprocess
import time
import unittest

from slurmrest.testing.layout import DAEMONS, NODES, Layout, pid_alive

ENVIRONMENT_VARIABLE = "SLURMREST_TEST_CLUSTER"


class TokenError(Exception):
    """``scontrol token`` failed; the message never carries the token."""


class Cluster:
    """A running test cluster under ``dir`` (made by this module or by ``testcluster.sh``)."""

    def __init__(self, dir):
        self.layout = Layout.load(dir)
        self.dir = self.layout.dir

    @classmethod
    def from_environment(cls):
        """The cluster named by ``$SLURMREST_TEST_CLUSTER``; ``unittest.SkipTest`` when unset."""
        directory = os.environ.get(ENVIRONMENT_VARIABLE)
        if not directory:
            raise unittest.SkipTest(f"{ENVIRONMENT_VARIABLE} is not set (no real test cluster)")
        return cls(directory)

    def __repr__(self):
        return f"Cluster({self.dir!r})"

    # ------------------------------------------------------------ what it is
    @property
    def cluster_name(self):
        return self.layout.cluster_name

    @property
    def slurm_conf(self):
        return self.layout.slurm_conf

    @property
    def jwt_key_path(self):
        return self.layout.jwt_key_path

    @property
    def ports(self):
        return self.layout.ports

    @property
    def ctld_port(self):
        return self.layout.ports.ctld

    @property
    def dbd_port(self):
        return self.layout.ports.dbd

    @property
    def slurmd_ports(self):
        return self.layout.ports.slurmd

    @property
    def mysql_port(self):
        return self.layout.ports.mysql

    @property
    def nodes(self):
        return list(NODES)

    @property
    def env(self):
        """This process's environment with ``SLURM_CONF`` pointing at the cluster."""
        env = dict(os.environ)
        env.pop("SLURM_JWT", None)
        env["SLURM_CONF"] = self.slurm_conf
        return env

    @property
    def restd_url(self):
        """The reference slurmrestd's URL, or None when none runs for this cluster."""
        if not self.layout.restd or self.daemon_pid("slurmrestd") is None:
            return None
        return self.layout.restd_url

    def jwt_key(self):
        """The cluster's HS256 key (bytes); readable by root and the SlurmUser only."""
        with open(self.jwt_key_path, "rb") as f:
            return f.read()

    # ------------------------------------------------------------ daemons
    def daemon_pid(self, stem):
        """The PID of daemon ``stem`` (``slurmctld``, ``slurmd.n1``, ...) if it runs."""
        for name, comm in DAEMONS:
            if name == stem:
                return pid_alive(self.layout.pid_file(stem), comm)
        raise KeyError(stem)

    def daemon_pids(self):
        """``{stem: pid}`` of every daemon of this cluster that runs now."""
        result = {}
        for name, comm in DAEMONS:
            pid = pid_alive(self.layout.pid_file(name), comm)
            if pid is not None:
                result[name] = pid
        return result

    # ------------------------------------------------------------ using it
    def run(self, argv, user=None, check=True, input=None, env=None, cwd=None, timeout=120):
        """Run a Slurm command against the cluster; text in and out.

        ``user``: run as that POSIX user (``runuser -u``), in the cluster's world-writable
        ``jobs/`` directory unless ``cwd`` says otherwise. ``env``: extra variables (e.g.
        ``{"SLURM_JWT": token}``).
        """
        full_env = self.env
        if env:
            full_env.update(env)
        argv = [str(a) for a in argv]
        if user is not None:
            # runuser -u keeps the environment (but HOME, SHELL, USER, LOGNAME): SLURM_CONF
            # and a SLURM_JWT pass that way, never on a command line other users can read.
            argv = ["runuser", "-u", user, "--", *argv]
            if cwd is None:
                cwd = self.layout.path("jobs")
        return subprocess.run(
            argv,
            input=input,
            capture_output=True,
            text=True,
            check=check,
            env=full_env,
            cwd=cwd,
            timeout=timeout,
            stdin=None if input is not None else subprocess.DEVNULL,
        )

    def token(self, user, lifespan=600):
        """A JWT for ``user`` minted by ``scontrol token`` (as root)."""
        proc = self.run(
            ["scontrol", "token", f"username={user}", f"lifespan={int(lifespan)}"], check=False
        )
        for line in proc.stdout.splitlines():
            if line.startswith("SLURM_JWT="):
                return line[len("SLURM_JWT="):].strip()
        raise TokenError(f"scontrol token username={user} failed (exit {proc.returncode}): "
                         f"{proc.stderr.strip()}")

    def submit(self, script_or_argv, user="alice", name="slurmrest-test", extra=()):
        """Submit a batch job as ``user``; returns its job id (int).

        ``script_or_argv``: a shell command for ``--wrap`` (str), or sbatch arguments (list).
        Output goes to the cluster's ``jobs/`` directory.
        """
        argv = ["sbatch", "--parsable", "-J", name, "-o", self.layout.path("jobs", "%x-%j.out"),
                *extra]
        if isinstance(script_or_argv, str):
            argv += ["--wrap", script_or_argv]
        else:
            argv += list(script_or_argv)
        out = self.run(argv, user=user).stdout.strip()
        return int(out.split(";")[0])

    def job_state(self, job_id):
        """The job's state as slurmctld reports it (``PENDING``, ``COMPLETED``...); None once
        slurmctld has forgotten it."""
        proc = self.run(["scontrol", "-o", "show", "job", str(job_id)], check=False)
        if proc.returncode != 0:
            return None
        for item in proc.stdout.split():
            if item.startswith("JobState="):
                return item.split("=", 1)[1]
        return None

    def wait_for_job_state(self, job_id, states, timeout=60, interval=0.25):
        """Poll until the job's state is one of ``states``; returns it. ``TimeoutError``
        after ``timeout`` seconds (with the last state seen)."""
        if isinstance(states, str):
            states = {states}
        states = set(states)
        deadline = time.monotonic() + timeout
        state = None
        while True:
            state = self.job_state(job_id)
            if state in states:
                return state
            if time.monotonic() >= deadline:
                raise TimeoutError(f"job {job_id} is {state}, not one of {sorted(states)} "
                                   f"after {timeout}s")
            time.sleep(interval)

    def accounting_state(self, job_id, timeout=60, interval=0.5, until=("COMPLETED",)):
        """The job's state in slurmdbd (``sacct``), polled until it is one of ``until``
        or ``timeout`` passes; returns the last state seen (or None)."""
        deadline = time.monotonic() + timeout
        state = None
        while True:
            proc = self.run(["sacct", "-n", "-X", "-P", "-j", str(job_id), "-o", "State"],
                            check=False)
            lines = [l.strip() for l in proc.stdout.splitlines() if l.strip()]
            state = lines[0] if lines else None
            if state in until or time.monotonic() >= deadline:
                return state
            time.sleep(interval)

    def cancel(self, *job_ids):
        """``scancel`` the jobs (as root); missing jobs are not an error."""
        if job_ids:
            self.run(["scancel", *map(str, job_ids)], check=False)


def main(argv=None):
    from slurmrest.testing.bringup import main as bringup_main

    return bringup_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
