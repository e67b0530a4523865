"""Which Slurm release the harness runs in a chroot, decided by ``/etc/debian_version``."""

import os
from unittest import mock

from twisted.trial import unittest

from slurmrest.testing import second
from slurmrest.wire import tables


class OtherReleaseTests(unittest.TestCase):

    def test_debian_12_runs_24_11_in_a_trixie_chroot(self):
        self.assertEqual(second.other_release("12.11\n"), ("24.11", "trixie", 13))

    def test_debian_13_runs_22_05_in_a_bookworm_chroot(self):
        self.assertEqual(second.other_release("13.1\n"), ("22.05", "bookworm", 12))
        self.assertEqual(second.other_release("trixie/sid\n"), ("22.05", "bookworm", 12))

    def test_an_unknown_debian_has_no_second_release(self):
        self.assertIsNone(second.other_release("11.9\n"))
        self.assertIsNone(second.other_release(""))

    def test_every_release_has_tables(self):
        names = {v.name for v in tables.VERSIONS}
        self.assertEqual({r.slurm for r in second.RELEASES} - names, set())

    def test_this_host(self):
        """The code path scripts/test takes on this machine."""
        text = second.read_debian_version()
        release = second.other_release(text)
        if text.startswith("12"):
            self.assertEqual(release.slurm, "24.11")
        elif text.startswith("13"):
            self.assertEqual(release.slurm, "22.05")

    def test_skipped_with_the_reason_scripts_test_gives(self):
        env = {k: v for k, v in os.environ.items() if k != second.ENVIRONMENT_VARIABLE}
        env[second.SKIP_REASON_VARIABLE] = "cannot build a trixie chroot here"
        with mock.patch.dict(os.environ, env, clear=True):
            with self.assertRaises(unittest.SkipTest) as caught:
                second.ChrootCluster.from_environment()
        self.assertEqual(str(caught.exception), "cannot build a trixie chroot here")


class ChrootEnvironmentTests(unittest.TestCase):

    def test_ports_from_the_base_and_a_chroot_per_suite(self):
        env = second.chroot_environment(second.RELEASES[1], 15917)
        self.assertEqual(env, {"CHROOT": "/var/tmp/slurmrest-trixie", "SUITE": "trixie",
                               "CTLD_PORT": "15917", "DBD_PORT": "15919",
                               "RESTD_PORT": "15920", "SLURMD_PORT0": "15931",
                               "MYSQL_PORT": "10417"})

    def test_the_script_is_in_the_checkout(self):
        self.assertTrue(os.access(second.CHROOT_SCRIPT, os.X_OK), second.CHROOT_SCRIPT)
