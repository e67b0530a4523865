"""A plain ``pip install .`` (not editable) gives a working twistd plugin and console script.

The development virtualenv puts the checkout on ``sys.path``, which would hide a packaging
mistake (a plugin file left out of the wheel); so this builds a fresh virtualenv, installs the
checkout into it the way a user would, and asks that environment's ``twistd``.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from twisted.trial import unittest

CHECKOUT = Path(__file__).resolve().parent.parent


def _clean_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


_installed = {}


def installed_venv() -> Path:
    """A fresh virtualenv with the checkout pip-installed into it (built once per run)."""
    if "venv" not in _installed:
        tmp = Path(tempfile.mkdtemp(prefix="slurmrest-pip-"))
        import atexit
        atexit.register(subprocess.run, ["rm", "-rf", str(tmp)])
        venv = tmp / "venv"
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(venv)], check=True, env=_clean_env())
        # Build from a copy of the tracked files: a build must not depend on (or write into)
        # the working tree.
        source = tmp / "src"
        files = subprocess.run(["git", "-C", str(CHECKOUT), "ls-files"], check=True,
                               capture_output=True, text=True).stdout.split()
        for name in files:
            if (CHECKOUT / name).is_file():
                target = source / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes((CHECKOUT / name).read_bytes())
        result = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(source)],
                                capture_output=True, text=True, env=_clean_env(), cwd="/")
        if result.returncode:
            raise AssertionError(f"pip install . failed:\n{result.stderr[-2000:]}")
        _installed["venv"] = venv
    return _installed["venv"]


class PipInstallTests(unittest.TestCase):
    def setUp(self):
        self.venv = installed_venv()

    def run_in_venv(self, *argv):
        return subprocess.run([str(self.venv / "bin" / argv[0]), *argv[1:]], capture_output=True,
                              text=True, env=_clean_env(), cwd="/")

    def test_twistd_lists_the_plugin(self):
        result = self.run_in_venv("twistd", "--help")
        self.assertEqual(result.returncode, 0, result.stderr)
        commands = [line.split()[0] for line in result.stdout.splitlines()
                    if line.startswith("    ") and line.split()]
        self.assertIn("slurmrest", commands)
        # The plugin is the installed copy, not the checkout's.
        where = self.run_in_venv(
            "python", "-c",
            "import twisted.plugins.slurmrest_plugin as p, slurmrest; print(p.__file__); "
            "print(slurmrest.__file__)")
        self.assertEqual(where.returncode, 0, where.stderr)
        for path in where.stdout.split():
            self.assertTrue(path.startswith(str(self.venv)), path)

    def test_twistd_slurmrest_help_and_console_script(self):
        result = self.run_in_venv("twistd", "slurmrest", "--help")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("--listen", result.stdout)
        self.assertTrue((self.venv / "bin" / "slurmrest").exists())
        result = self.run_in_venv("slurmrest", "--help")
        self.assertEqual(result.returncode, 0, result.stderr)
