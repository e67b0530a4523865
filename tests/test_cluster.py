"""The test cluster harness, proved on the real cluster (``SLURMREST_TEST_CLUSTER``)."""

import base64
import ipaddress
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from twisted.trial.unittest import TestCase

from slurmrest.testing import bringup, configs
from slurmrest.testing.cluster import Cluster
from slurmrest.testing.layout import Layout, Ports, free_port_base, port_is_free

JOB_NAME = "slurmrest-test-cluster"


class PortSchemeTests(TestCase):
    """Ports derive from one base; the default base is the reference cluster's."""

    def test_default_base_gives_reference_ports(self):
        p = Ports.from_base()
        self.assertEqual((p.ctld, p.dbd, p.restd, p.slurmd, p.mysql),
                         (6817, 6819, 6820, (6831, 6832, 6833, 6834), 3307))

    def test_base_moves_every_port(self):
        p = Ports.from_base(7800)
        self.assertEqual((p.ctld, p.dbd, p.restd, p.slurmd, p.mysql),
                         (7800, 7802, 7803, (7814, 7815, 7816, 7817), 4290))
        self.assertEqual(p.base, 7800)
        self.assertEqual(Ports.from_dict(p.as_dict()), p)

    def test_two_bases_apart_share_no_port(self):
        a, b = Ports.from_base(6817), Ports.from_base(7817)
        self.assertFalse(set(a.all()) & set(b.all()))

    def test_out_of_range_base_refused(self):
        self.assertRaises(ValueError, Ports.from_base, 1000)
        self.assertRaises(ValueError, Ports.from_base, 65530)

    def test_free_port_base_skips_a_busy_base(self):
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            busy = s.getsockname()[1]
            self.assertFalse(port_is_free(busy))
            # a base whose slurmctld port is the busy one is passed over
            self.assertEqual(free_port_base([busy, 20000]), 20000)


class LayoutTests(TestCase):
    """``Layout.load`` reads cluster.json, or the shell script's configs when there is none."""

    def make_dir(self):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        os.makedirs(os.path.join(d, "etc"))
        return d

    def test_round_trip_through_cluster_json(self):
        d = self.make_dir()
        layout = Layout(dir=d, ports=Ports.from_base(9100), cluster_name="c2", restd=True)
        layout.write_json()
        loaded = Layout.load(d)
        self.assertEqual(loaded, layout)
        self.assertEqual(loaded.restd_url, "http://127.0.0.1:9103")

    def test_shell_layout_without_cluster_json(self):
        d = self.make_dir()
        written = Layout(dir=d, ports=Ports.from_base(9200), cluster_name="shell", restd=True)
        with open(written.slurm_conf, "w") as f:
            f.write(configs.slurm_conf(written, loopback_only=True))
        with open(written.slurmdbd_conf, "w") as f:
            f.write(configs.slurmdbd_conf(written, True, "pw"))
        with open(os.path.join(d, "env.sh"), "w") as f:
            f.write(configs.env_sh(written, restd_running=True))
        self.assertEqual(Layout.load(d), written)

    def test_not_a_cluster_directory(self):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        self.assertRaises(FileNotFoundError, Layout.load, d)

    def test_from_environment_skips_without_variable(self):
        saved = os.environ.pop("SLURMREST_TEST_CLUSTER", None)
        if saved is not None:
            self.addCleanup(os.environ.__setitem__, "SLURMREST_TEST_CLUSTER", saved)
        self.assertRaises(unittest.SkipTest, Cluster.from_environment)


class BringUpChoicesTests(TestCase):
    """What ``up`` decides before it starts anything: ports and names of an existing DIR."""

    def existing(self, base, name="kept"):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        os.makedirs(os.path.join(d, "etc"))
        layout = Layout(dir=d, ports=Ports.from_base(base), cluster_name=name)
        with open(layout.slurm_conf, "w") as f:
            f.write(configs.slurm_conf(layout, loopback_only=True))
        layout.write_json()
        return d

    def test_existing_cluster_keeps_its_ports_and_name(self):
        d = self.existing(9300)
        layout = bringup.resolve_layout(d, None, None, restd=False)
        self.assertEqual((layout.ports.base, layout.cluster_name), (9300, "kept"))

    def test_explicit_base_and_name_win(self):
        d = self.existing(9300)
        layout = bringup.resolve_layout(d, "9400", "other", restd=True)
        self.assertEqual((layout.ports.base, layout.cluster_name), (9400, "other"))
        self.assertEqual(layout.restd_url, "http://127.0.0.1:9403")

    def test_auto_keeps_free_ports_of_an_existing_cluster(self):
        d = self.existing(9300)
        if not all(port_is_free(p) for p in Ports.from_base(9300).all()):
            raise unittest.SkipTest("ports of base 9300 are in use here")
        self.assertEqual(bringup.resolve_layout(d, "auto", None, False).ports.base, 9300)

    def test_auto_keeps_the_ports_while_any_of_its_daemons_runs(self):
        # slurmctld is dead, a port is taken, but the cluster's "munged" still runs: moving to
        # new ports would strand it, so the cluster keeps its ports.
        d = self.existing(9300)
        busy = socket.socket()
        self.addCleanup(busy.close)
        busy.bind(("127.0.0.1", Ports.from_base(9300).ctld))
        busy.listen(1)
        fake = os.path.join(tempfile.mkdtemp(), "munged")  # comm is the file name
        self.addCleanup(shutil.rmtree, os.path.dirname(fake))
        shutil.copy("/bin/sleep", fake)
        proc = subprocess.Popen([fake, "60"])
        self.addCleanup(proc.wait)
        self.addCleanup(proc.kill)
        for _ in range(200):  # until the kernel shows the new name (not a timing assertion)
            with open(f"/proc/{proc.pid}/comm") as f:
                if f.read().strip() == "munged":
                    break
            time.sleep(0.01)
        os.makedirs(os.path.join(d, "run"), exist_ok=True)
        with open(os.path.join(d, "run", "munged.pid"), "w") as f:
            f.write(str(proc.pid))
        self.assertEqual(bringup.resolve_layout(d, "auto", None, False).ports.base, 9300)
        proc.kill()
        proc.wait()
        self.assertNotEqual(bringup.resolve_layout(d, "auto", None, False).ports.base, 9300)

    def test_new_directory_gets_the_default_ports(self):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        layout = bringup.resolve_layout(os.path.join(d, "new"), None, None, False)
        self.assertEqual((layout.ports.ctld, layout.cluster_name), (6817, "testcluster"))

    def test_slurm_conf_carries_the_ports_and_loopback_binding(self):
        layout = Layout(dir="/x", ports=Ports.from_base(9500))
        text = configs.slurm_conf(layout, loopback_only=True)
        for line in ("SlurmctldPort=9500", "AccountingStoragePort=9502", "SlurmdPort=9514",
                     "Port=[9514-9517]", "AuthAltTypes=auth/jwt",
                     "AuthAltParameters=jwt_key=/x/jwt_hs256.key",
                     "CommunicationParameters=NoInAddrAny,NoCtldInAddrAny"):
            self.assertIn(line, text)
        self.assertNotIn("NoInAddrAny", configs.slurm_conf(layout, loopback_only=False))
        dbd = configs.slurmdbd_conf(layout, True, "pw")
        self.assertIn("StoragePort=5990", dbd)
        self.assertIn("DbdPort=9502", dbd)

    def test_bad_port_base_is_a_usage_error(self):
        self.assertRaises(SystemExit, bringup.parse_args, ["up", "/x", "--port-base", "80"])


class RealClusterTests(TestCase):
    """The cluster in ``$SLURMREST_TEST_CLUSTER`` works as the harness promises."""

    timeout = 180

    def setUp(self):
        self.cluster = Cluster.from_environment()

    def test_sinfo_lists_the_four_nodes(self):
        out = self.cluster.run(["sinfo", "-h", "-N", "-o", "%N %P %T"]).stdout
        rows = [line.split() for line in out.splitlines()]
        self.assertEqual({r[0] for r in rows}, {"n1", "n2", "n3", "n4"})
        by_partition = {}
        for node, partition, _ in rows:
            by_partition.setdefault(partition, set()).add(node)
        self.assertEqual(by_partition["debug*"], {"n1", "n2", "n3", "n4"})
        self.assertEqual(by_partition["long"], {"n3", "n4"})

    def test_batch_job_as_alice_completes_and_is_accounted(self):
        job_id = self.cluster.submit('echo "hello from $(id -un)"', user="alice", name=JOB_NAME)
        self.addCleanup(self.cluster.cancel, job_id)
        owner = self.cluster.run(["squeue", "-h", "-j", str(job_id), "-o", "%u"], check=False)
        self.assertIn(owner.stdout.strip(), ("alice", ""))  # "" once it has already finished
        self.cluster.wait_for_job_state(job_id, {"COMPLETED"}, timeout=60)
        self.assertEqual(self.cluster.accounting_state(job_id, timeout=60), "COMPLETED")
        # slurmdbd may show the record before its name arrives ("allocation"): poll briefly.
        expected = f"{JOB_NAME}|alice|COMPLETED"
        deadline = time.monotonic() + 30
        while True:
            out = self.cluster.run(["sacct", "-n", "-X", "-P", "-j", str(job_id), "-o",
                                    "JobName,User,State"]).stdout.split()
            if out[:1] == [expected] or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        self.assertEqual(out[:1], [expected])
        with open(os.path.join(self.cluster.dir, "jobs", f"{JOB_NAME}-{job_id}.out")) as f:
            self.assertEqual(f.read().strip(), "hello from alice")

    def test_token_is_accepted_by_slurmctld_and_slurmdbd(self):
        token = self.cluster.token("alice", lifespan=120)
        self.assertEqual(token.count("."), 2)  # header.payload.signature
        jwt = {"SLURM_JWT": token}
        proc = self.cluster.run(["squeue", "-h", "-u", "alice", "-o", "%i"], user="nobody", env=jwt)
        self.assertEqual(proc.returncode, 0)
        proc = self.cluster.run(["sacctmgr", "-n", "-P", "show", "user", "alice",
                                 "format=user"], user="nobody", env=jwt)
        self.assertEqual(proc.stdout.split(), ["alice"])

    def test_run_as_user_passes_the_token_in_the_environment_only(self):
        token = self.cluster.token("alice", lifespan=60)
        proc = self.cluster.run(
            ["sh", "-c", 'id -un; echo "$SLURM_CONF"; [ "$SLURM_JWT" = "$EXPECTED" ] && echo same; '
                         'tr "\\0" " " </proc/$PPID/cmdline'],
            user="nobody", env={"SLURM_JWT": token, "EXPECTED": token})
        user, conf, same, parent_cmdline = proc.stdout.split("\n", 3)
        self.assertEqual((user, conf, same), ("nobody", self.cluster.slurm_conf, "same"))
        self.assertIn("runuser", parent_cmdline)
        self.assertNotIn(token, parent_cmdline)

    def test_forged_token_is_refused(self):
        token = self.cluster.token("alice", lifespan=120)
        head, payload, signature = token.split(".")
        forged = ".".join([head, payload, signature[::-1]])
        proc = self.cluster.run(["squeue", "-h", "-u", "alice"], user="nobody",
                                env={"SLURM_JWT": forged}, check=False)
        self.assertNotEqual(proc.returncode, 0)

    def test_token_names_the_user_and_lifespan(self):
        token = self.cluster.token("bob", lifespan=123)
        payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        self.assertEqual(payload["sun"], "bob")
        self.assertEqual(payload["exp"] - payload["iat"], 123)

    def test_every_listener_is_on_loopback(self):
        pids = self.cluster.daemon_pids()
        for stem in ("slurmctld", "slurmdbd", "mariadbd", "slurmd.n1", "slurmd.n4"):
            self.assertIn(stem, pids)
        listeners = tcp_listeners()
        expected = {
            "slurmctld": {self.cluster.ctld_port},
            "slurmdbd": {self.cluster.dbd_port},
            "mariadbd": {self.cluster.mysql_port},
            **{f"slurmd.{n}": {p} for n, p in zip(self.cluster.nodes, self.cluster.slurmd_ports)},
        }
        if "slurmrestd" in pids:
            expected["slurmrestd"] = {self.cluster.ports.restd}
        with open(self.cluster.slurm_conf) as f:
            loopback_only = "NoInAddrAny" in f.read()
        if not loopback_only:
            # The harness binds Slurm's daemons to the host name's address (NoInAddrAny) only
            # when that resolves to 127/8; otherwise they listen on INADDR_ANY.
            for stem in ("slurmctld", "slurmdbd", *(f"slurmd.{n}" for n in self.cluster.nodes)):
                expected.pop(stem, None)
                pids.pop(stem, None)
        for stem, pid in pids.items():
            addresses = listeners.get(pid, [])
            for address, port in addresses:
                self.assertTrue(ipaddress.ip_address(address).is_loopback,
                                f"{stem} (pid {pid}) listens on {address}:{port}")
            if stem in expected:
                self.assertEqual({port for _, port in addresses}, expected[stem], stem)
        if not loopback_only:
            raise unittest.SkipTest("the host name does not resolve to loopback: Slurm's daemons "
                                    "listen on every address (MariaDB, slurmrestd checked)")

    def test_restd_url_answers_when_running(self):
        url = self.cluster.restd_url
        if url is None:
            raise unittest.SkipTest("no reference slurmrestd runs for this cluster")
        import urllib.request

        token = self.cluster.token("alice", lifespan=120)
        req = urllib.request.Request(f"{url}/slurm/v0.0.38/ping", headers={
            "X-SLURM-USER-NAME": "alice", "X-SLURM-USER-TOKEN": token})
        with urllib.request.urlopen(req, timeout=10) as resp:
            doc = json.load(resp)
        self.assertEqual(doc["pings"][0]["ping"], "UP")


class SecondClusterTests(TestCase):
    """A second cluster comes up beside the running one, on other ports (about 20 s)."""

    timeout = 300

    def setUp(self):
        self.cluster = Cluster.from_environment()
        if os.geteuid() != 0:
            raise unittest.SkipTest("bringing a cluster up needs root")

    def cli(self, *args, timeout=150):
        return subprocess.run([sys.executable, "-m", "slurmrest.testing.cluster", *args],
                              capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    def test_second_cluster_beside_the_first(self):
        d = tempfile.mkdtemp(prefix="slurmrest-second-")
        self.addCleanup(shutil.rmtree, d, ignore_errors=True)
        self.addCleanup(self.cli, "down", d)
        up = self.cli("up", d, "--port-base", "auto", "--no-verify", "--cluster-name", "second")
        self.assertEqual(up.returncode, 0, up.stderr[-3000:])
        status = self.cli("status", d)
        self.assertEqual(status.returncode, 0, status.stdout[-3000:])
        self.assertIn("slurmctld    running", status.stdout)
        second = Cluster(d)
        self.assertEqual(second.cluster_name, "second")
        self.assertFalse(set(second.ports.all()) & set(self.cluster.ports.all()))
        self.assertIsNone(second.restd_url)
        for c, name in ((second, "second"), (self.cluster, self.cluster.cluster_name)):
            out = c.run(["scontrol", "show", "config"]).stdout
            self.assertRegex(out, rf"(?m)^ClusterName\s*=\s*{re.escape(name)}$")
            self.assertRegex(out, rf"(?m)^SlurmctldPort\s*=\s*{c.ctld_port}$")
            nodes = c.run(["sinfo", "-h", "-N", "-o", "%N"]).stdout.split()
            self.assertEqual(set(nodes), {"n1", "n2", "n3", "n4"})
        pids = second.daemon_pids()
        self.assertFalse(set(pids.values()) & set(self.cluster.daemon_pids().values()))
        down = self.cli("down", d)
        self.assertEqual(down.returncode, 0, down.stderr[-3000:])
        self.assertEqual(second.daemon_pids(), {})
        self.assertEqual(self.cli("status", d).returncode, 3)
        self.assertTrue(all(port_is_free(p) for p in second.ports.all()))
        # the first cluster is untouched
        self.assertIn("UP", self.cluster.run(["scontrol", "ping"]).stdout)


def tcp_listeners():
    """``{pid: [(address, port), ...]}`` of every listening TCP socket (``ss -ltnpH``)."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    result = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 6:
            continue
        local = fields[3]
        address, _, port = local.rpartition(":")
        address = address.strip("[]").split("%")[0]
        if address == "*":
            address = "0.0.0.0"
        for pid in re.findall(r"pid=(\d+)", line):
            result.setdefault(int(pid), []).append((address, int(port)))
    return result


class PackageCheckTests(TestCase):
    """The harness installs only what dpkg says is missing."""

    def test_missing_package_is_reported(self):
        if shutil.which("dpkg-query") is None:
            raise unittest.SkipTest("not a Debian system")
        self.assertEqual(bringup.missing_packages(["coreutils", "no-such-package-slurmrest"]),
                         ["no-such-package-slurmrest"])


class StopOnlyOwnProcessesTests(TestCase):
    """``down`` signals a PID from DIR/run only when that process belongs to DIR."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="slurmrest-stop-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        os.makedirs(os.path.join(self.dir, "run"))
        self.layout = Layout(dir=self.dir)
        # a stand-in named "slurmctld" (its /proc/PID/comm), kept outside DIR
        bindir = tempfile.mkdtemp(prefix="slurmrest-bin-")
        self.addCleanup(shutil.rmtree, bindir, ignore_errors=True)
        self.fake = os.path.join(bindir, "slurmctld")
        shutil.copy(shutil.which("sleep"), self.fake)

    def start(self, env):
        """Start the stand-in as a daemon would run: detached, not our child."""
        out = subprocess.run(["sh", "-c", '"$0" 60 </dev/null >/dev/null 2>&1 & echo $!',
                              self.fake], env=env, capture_output=True, text=True, check=True)
        pid = int(out.stdout)
        self.addCleanup(kill_if_alive, pid)
        with open(self.layout.pid_file("slurmctld"), "w") as f:
            f.write(f"{pid}\n")
        deadline = time.monotonic() + 10
        while bringup.comm_of(pid) != "slurmctld" and time.monotonic() < deadline:
            time.sleep(0.05)
        return pid

    def test_a_stranger_with_the_right_name_is_left_alone(self):
        pid = self.start({"PATH": os.environ.get("PATH", "")})
        bringup.stop_group(self.layout, ["slurmctld"])
        self.assertTrue(bringup.alive(pid))
        self.assertTrue(os.path.exists(self.layout.pid_file("slurmctld")))

    def test_a_process_of_this_cluster_is_stopped(self):
        pid = self.start({"SLURM_CONF": self.layout.slurm_conf})
        bringup.stop_group(self.layout, ["slurmctld"])
        self.assertFalse(bringup.alive(pid))
        self.assertFalse(os.path.exists(self.layout.pid_file("slurmctld")))


def kill_if_alive(pid):
    if bringup.alive(pid) and bringup.comm_of(pid) == "slurmctld":
        os.kill(pid, 9)
