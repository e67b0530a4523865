"""slurm.conf reading: the parts a slurmctld client needs."""

import os

from twisted.python.filepath import FilePath
from twisted.trial import unittest

from slurmrest.wire.conf import ConfigError, Controller, SlurmConfig


class SlurmConfigTests(unittest.TestCase):
    def write(self, name, text):
        path = FilePath(self.dir).preauthChild(name)
        path.setContent(text.encode())
        return path.path

    def setUp(self):
        self.dir = self.mktemp()
        os.makedirs(self.dir)

    def test_minimal(self):
        config = SlurmConfig.from_text("SlurmctldHost=ctl\n")
        self.assertEqual(config.controllers, (Controller("ctl", "ctl", 6817),))
        self.assertEqual(config.message_timeout, 10)
        self.assertEqual(config.accounting_storage_port, 6819)
        self.assertEqual(config.slurm_user, "root")
        self.assertIsNone(config.cluster_name)

    def test_host_with_address_and_backups(self):
        config = SlurmConfig.from_text(
            "SlurmctldHost=primary(10.0.0.1)\n"
            "slurmctldhost=backup1\n"
            "SLURMCTLDHOST=backup2(fd00::2)\n"
            "SlurmctldPort=7000\n")
        self.assertEqual(config.controllers, (
            Controller("primary", "10.0.0.1", 7000),
            Controller("backup1", "backup1", 7000),
            Controller("backup2", "fd00::2", 7000),
        ))

    def test_legacy_control_machine(self):
        config = SlurmConfig.from_text(
            "ControlMachine=head\nControlAddr=192.168.1.1\n"
            "BackupController=head2\nBackupAddr=192.168.1.2\n")
        self.assertEqual([(c.name, c.address) for c in config.controllers],
                         [("head", "192.168.1.1"), ("head2", "192.168.1.2")])

    def test_port_range_picks_a_port_in_range(self):
        ports = set()
        for _ in range(200):
            config = SlurmConfig.from_text("SlurmctldHost=a\nSlurmctldPort=6817-6820\n")
            self.assertEqual(config.port_range, (6817, 6820))
            ports.add(config.controllers[0].port)
        self.assertTrue(ports <= {6817, 6818, 6819, 6820})
        self.assertGreater(len(ports), 1)

    def test_bad_port(self):
        self.assertRaises(ConfigError, SlurmConfig.from_text,
                          "SlurmctldHost=a\nSlurmctldPort=abc\n")
        self.assertRaises(ConfigError, SlurmConfig.from_text,
                          "SlurmctldHost=a\nSlurmctldPort=7000-6000\n")

    def test_no_controller(self):
        self.assertRaises(ConfigError, SlurmConfig.from_text, "ClusterName=x\n")

    def test_comments_quotes_several_pairs_per_line(self):
        config = SlurmConfig.from_text(
            "# a comment\n"
            "ClusterName=c1   MessageTimeout=30 # trailing comment\n"
            'SlurmctldHost=h\nSlurmUser="slurm"\n'
            "AccountingStorageHost=db AccountingStoragePort=7031\n"
            "MailProg=/bin/mail\\#x\n")
        self.assertEqual(config.cluster_name, "c1")
        self.assertEqual(config.message_timeout, 30)
        self.assertEqual(config.slurm_user, "slurm")
        self.assertEqual(config.accounting_storage_host, "db")
        self.assertEqual(config.accounting_storage_port, 7031)
        self.assertEqual(config.get("MAILPROG"), "/bin/mail#x")

    def test_record_lines_do_not_leak(self):
        config = SlurmConfig.from_text(
            "SlurmctldHost=h\nSlurmctldPort=6817\n"
            "NodeName=n[1-4] Port=[6831-6834] CPUs=2\n"
            "PartitionName=debug Nodes=n[1-4] State=UP\n")
        self.assertEqual(config.controllers[0].port, 6817)
        self.assertIsNone(config.get("cpus"))
        self.assertEqual(config.records[0]["nodename"], "n[1-4]")
        self.assertEqual(config.records[1]["partitionname"], "debug")

    def test_include_relative_and_glob(self):
        os.makedirs(os.path.join(self.dir, "conf.d"))
        self.write("conf.d/10-a.conf", "ClusterName=from-include\n")
        self.write("conf.d/20-b.conf", "MessageTimeout=42\n")
        self.write("nodes.conf", "NodeName=n1 CPUs=1\n")
        path = self.write("slurm.conf", "SlurmctldHost=h\ninclude nodes.conf\n"
                                        "Include conf.d/*.conf\n")
        config = SlurmConfig.load(path)
        self.assertEqual(config.cluster_name, "from-include")
        self.assertEqual(config.message_timeout, 42)
        self.assertEqual(config.records[0]["nodename"], "n1")

    def test_include_loop_is_refused(self):
        path = self.write("slurm.conf", "SlurmctldHost=h\ninclude slurm.conf\n")
        self.assertRaises(ConfigError, SlurmConfig.load, path)

    def test_missing_file(self):
        self.assertRaises(ConfigError, SlurmConfig.load, os.path.join(self.dir, "nope"))

    def test_path_from_environment(self):
        path = self.write("slurm.conf", "SlurmctldHost=envhost\n")
        self.patch(os, "environ", dict(os.environ, SLURM_CONF=path))
        self.assertEqual(SlurmConfig.load().controllers[0].name, "envhost")

    def test_auth_alt_parameters(self):
        config = SlurmConfig.from_text(
            "SlurmctldHost=h\nAuthType=auth/munge\nAuthAltTypes=auth/jwt\n"
            "AuthAltParameters=jwt_key=/etc/slurm/key,disable_token_creation,"
            "max_token_lifespan=600\n")
        self.assertTrue(config.jwt_enabled)
        self.assertEqual(config.auth_alt_types, ("auth/jwt",))
        self.assertEqual(config.jwt_key_path, "/etc/slurm/key")
        self.assertTrue(config.auth_alt_parameters.disable_token_creation)
        self.assertEqual(config.auth_alt_parameters.max_token_lifespan, 600)

    def test_jwt_key_defaults_to_state_save_location(self):
        config = SlurmConfig.from_text(
            "SlurmctldHost=h\nAuthAltTypes=auth/jwt\nStateSaveLocation=/var/lib/ctld\n")
        self.assertEqual(config.jwt_key_path, "/var/lib/ctld/jwt_hs256.key")

    def test_jwks_without_jwt_key_means_no_hs256_key(self):
        config = SlurmConfig.from_text(
            "SlurmctldHost=h\nAuthAltTypes=auth/jwt\nAuthAltParameters=jwks=/etc/jwks.json\n")
        self.assertIsNone(config.jwt_key_path)
        self.assertEqual(config.auth_alt_parameters.jwks, "/etc/jwks.json")

    def test_test_cluster_conf(self):
        """The shape of the real test cluster's slurm.conf (as testcluster.sh writes it)."""
        path = self.write("slurm.conf", (
            "ClusterName=testcluster\nSlurmctldHost=localhost(127.0.0.1)\n"
            "SlurmctldPort=6817\nSlurmUser=slurm\n"
            "AuthAltTypes=auth/jwt\nAuthAltParameters=jwt_key=/tmp/x/jwt_hs256.key\n"
            "NodeName=n[1-4] NodeHostname=localhost NodeAddr=127.0.0.1 Port=[6831-6834]\n"))
        config = SlurmConfig.load(path)
        self.assertEqual(config.controllers, (Controller("localhost", "127.0.0.1", 6817),))
        self.assertEqual(config.slurm_user, "slurm")
        self.assertEqual(config.jwt_key_path, "/tmp/x/jwt_hs256.key")
