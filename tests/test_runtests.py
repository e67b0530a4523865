"""The test runner's last line (what CI reads) counts what trial ran."""

import io
import os
import subprocess
import sys
import tempfile
import textwrap

from twisted.trial import reporter, runner, unittest

from slurmrest.testing.runtests import summary_line


def sample_case():
    """A test case with one test of every outcome (built here so trial does not collect it)."""

    class Sample(unittest.SynchronousTestCase):
        def test_pass(self):
            pass

        def test_fail(self):
            self.fail("deliberately")

        def test_error(self):
            raise RuntimeError("deliberately")

        def test_skip(self):
            raise unittest.SkipTest("deliberately")

        def test_todo(self):
            self.fail("expected")

        test_todo.todo = "expected failure"

        def test_unexpected_success(self):
            pass

        test_unexpected_success.todo = "passes anyway"

    return Sample


class SummaryLineTests(unittest.TestCase):
    def run_sample(self, *names):
        result = reporter.Reporter(stream=io.StringIO())
        Sample = sample_case()
        suite = runner.TestSuite([Sample(name) for name in names])
        suite.run(result)
        return result

    def test_every_outcome_counted(self):
        result = self.run_sample("test_pass", "test_fail", "test_error", "test_skip",
                                 "test_todo", "test_unexpected_success")
        # passed: the pass and the expected failure; failed: fail, error, unexpected success
        self.assertEqual(summary_line(result), ("2 passed, 3 failed, 1 skipped", 2, 3))

    def test_no_skip_clause_without_skips(self):
        result = self.run_sample("test_pass", "test_pass")
        self.assertEqual(summary_line(result), ("2 passed, 0 failed", 2, 0))


class RunnerProcessTests(unittest.TestCase):
    """``python -m slurmrest.testing.runtests`` as CI runs it: last line and exit status."""

    def run_module(self, body):
        d = tempfile.mkdtemp()
        self.addCleanup(subprocess.run, ["rm", "-rf", d])
        with open(os.path.join(d, "sample_runtests_mod.py"), "w") as f:
            f.write(textwrap.dedent(body))
        env = dict(os.environ)
        env.pop("SLURMREST_TEST_SUMMARY", None)
        return subprocess.run(
            [sys.executable, "-m", "slurmrest.testing.runtests", "--temp-directory",
             os.path.join(d, "_trial_temp"), "sample_runtests_mod"],
            cwd=d, capture_output=True, text=True, timeout=120, env=env)

    def test_failure_gives_non_zero_and_counts(self):
        proc = self.run_module("""
            from twisted.trial import unittest
            class T(unittest.SynchronousTestCase):
                def test_a(self): pass
                def test_b(self): self.fail("no")
                def test_c(self): raise unittest.SkipTest("later")
        """)
        self.assertEqual(proc.stdout.splitlines()[-1], "1 passed, 1 failed, 1 skipped")
        self.assertEqual(proc.returncode, 1)

    def test_success_gives_zero(self):
        proc = self.run_module("""
            from twisted.trial import unittest
            class T(unittest.SynchronousTestCase):
                def test_a(self): pass
        """)
        self.assertEqual(proc.stdout.splitlines()[-1], "1 passed, 0 failed")
        self.assertEqual(proc.returncode, 0)

    def test_import_error_is_a_failure(self):
        proc = self.run_module("import no_such_module_anywhere\n")
        self.assertEqual(proc.stdout.splitlines()[-1], "0 passed, 1 failed")
        self.assertEqual(proc.returncode, 1)

    def test_no_test_named_runs_the_tests_package(self):
        d = tempfile.mkdtemp()
        self.addCleanup(subprocess.run, ["rm", "-rf", d])
        os.makedirs(os.path.join(d, "tests"))
        with open(os.path.join(d, "tests", "__init__.py"), "w"):
            pass
        with open(os.path.join(d, "tests", "test_only.py"), "w") as f:
            f.write("from twisted.trial import unittest\n"
                    "class T(unittest.SynchronousTestCase):\n"
                    "    def test_a(self): pass\n"
                    "    def test_b(self): pass\n")
        env = dict(os.environ)
        env.pop("SLURMREST_TEST_SUMMARY", None)
        # an option with a separate value must not be taken for a test name
        proc = subprocess.run(
            [sys.executable, "-m", "slurmrest.testing.runtests", "--temp-directory",
             os.path.join(d, "_trial_temp")],
            cwd=d, capture_output=True, text=True, timeout=120, env=env)
        self.assertEqual(proc.stdout.splitlines()[-1], "2 passed, 0 failed")
        self.assertEqual(proc.returncode, 0)
