"""``python -m slurmrest.rpc``'s summaries against what scontrol and sinfo print on the live
test cluster: node states (drained, in a maintenance reservation), jobs, partitions."""

import datetime
import json
import subprocess
import sys
import time

from twisted.trial import unittest

from slurmrest.testing.cluster import Cluster


class RpcSummaryTests(unittest.TestCase):

    def setUp(self):
        self.cluster = Cluster.from_environment()

    def rpc(self, *argv):
        """The summary lines of one ``python -m slurmrest.rpc`` run (as root, which holds the
        cluster's JWT key)."""
        proc = subprocess.run(
            [sys.executable, "-m", "slurmrest.rpc", "-f", self.cluster.slurm_conf,
             "--user", "root", *argv],
            capture_output=True, text=True, timeout=60, env=self.cluster.env,
            stdin=subprocess.DEVNULL)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout.splitlines()

    def scontrol(self, *argv):
        """``scontrol -o show …``: one ``{key: value}`` per line."""
        out = self.cluster.run(["scontrol", "-o", "show", *argv]).stdout
        return [dict(item.split("=", 1) for item in line.split() if "=" in item)
                for line in out.splitlines() if line.strip()]

    def node_states(self):
        """rpc's node summary: ``{name: state}``."""
        return {line.split()[0]: line.split()[1] for line in self.rpc("nodes")}

    def assert_nodes_as_scontrol(self):
        ours = self.node_states()
        theirs = {node["NodeName"]: node["State"] for node in self.scontrol("node")}
        self.assertEqual(ours, theirs)
        return ours

    def test_nodes(self):
        states = self.assert_nodes_as_scontrol()
        self.assertEqual(sorted(states), self.cluster.nodes)

    def test_drained_node(self):
        self.addCleanup(self.cluster.run, ["scontrol", "update", "nodename=n4", "state=resume"],
                        check=False)
        self.cluster.run(["scontrol", "update", "nodename=n4", "state=drain",
                          "reason=slurmrest-rpc-test"])
        states = self.assert_nodes_as_scontrol()
        self.assertIn("+DRAIN", states["n4"])
        sinfo = self.cluster.run(["sinfo", "-N", "-n", "n4", "-h", "-o", "%T"]).stdout.split()
        self.assertTrue(set(sinfo) <= {"drained", "draining"} and sinfo, sinfo)

    def test_node_in_maintenance(self):
        """MAINT (bit 15) printed as MAINTENANCE, as scontrol prints it (it used to come out
        as COMPLETING)."""
        start = datetime.datetime.now().replace(microsecond=0) - datetime.timedelta(seconds=5)
        name = "slurmrest-rpc-maint"
        self.addCleanup(self.cluster.run, ["scontrol", "delete", f"reservationname={name}"],
                        check=False)
        self.cluster.run(["scontrol", "create", "reservation", f"reservationname={name}",
                          f"starttime={start.isoformat()}", "duration=5", "nodes=n3",
                          "users=root", "flags=maint,ignore_jobs"])
        # slurmctld marks the nodes of a starting maintenance reservation in its background
        # loop (every few seconds): wait for scontrol to show it.
        deadline = time.monotonic() + 60
        while "MAINTENANCE" not in self.scontrol("node", "n3")[0]["State"]:
            self.assertLess(time.monotonic(), deadline, "n3 never went into maintenance")
            time.sleep(0.5)
        states = self.assert_nodes_as_scontrol()
        self.assertIn("+MAINTENANCE", states["n3"])
        self.assertNotIn("COMPLETING", states["n3"])

    def test_jobs(self):
        held = self.cluster.submit("true", name="slurmrest-rpc-held", extra=["--hold"])
        running = self.cluster.submit("sleep 60", name="slurmrest-rpc-run")
        self.addCleanup(self.cluster.cancel, held, running)
        self.cluster.wait_for_job_state(running, "RUNNING")
        for job_id in (held, running):
            (theirs,) = self.scontrol("job", str(job_id))
            (line,) = self.rpc("job", str(job_id))[1:]
            ours = line.split()
            self.assertEqual(ours[:5], [str(job_id), theirs["JobName"], "2001",
                                        theirs["JobState"], theirs["Partition"]])
            nodes = theirs["NodeList"]
            self.assertEqual(ours[6:], [] if nodes in ("", "(null)") else [nodes])
        listed = {line.split()[0]: line.split()[3] for line in self.rpc("jobs")[1:]}
        self.assertEqual((listed[str(held)], listed[str(running)]), ("PENDING", "RUNNING"))

    def test_partitions(self):
        ours = {}
        for line in self.rpc("partitions"):
            name, *fields = line.split()
            ours[name] = dict(field.split("=", 1) for field in fields)
        sinfo = self.cluster.run(["sinfo", "-h", "-o", "%R %a %N"]).stdout.split("\n")
        theirs = {row.split()[0]: row.split()[1:] for row in sinfo if row.strip()}
        self.assertEqual(sorted(ours), sorted(theirs))
        for name, (avail, nodes) in theirs.items():
            self.assertEqual((ours[name]["state"].lower(), ours[name]["nodes"]), (avail, nodes))


class RpcAccountingTests(unittest.TestCase):
    """The ``db-`` commands (slurmdbd, through the accounting client) against sacctmgr and
    sacct on the live test cluster."""

    timeout = 120

    def setUp(self):
        self.cluster = Cluster.from_environment()

    rpc = RpcSummaryTests.rpc

    def sacctmgr(self, *argv):
        out = self.cluster.run(["sacctmgr", "-nP", "show", *argv]).stdout
        return [line.split("|") for line in out.splitlines() if line.strip()]

    def fields(self, line):
        """``name k=v k=v`` -> (name, {k: v})."""
        name, *rest = line.split(" ")
        return name, dict(item.split("=", 1) for item in rest)

    def test_users_as_sacctmgr(self):
        ours = {name: (f["default_account"], f["admin_level"])
                for name, f in map(self.fields, self.rpc("db-users"))}
        theirs = {user: (account, level) for user, account, level in
                  self.sacctmgr("user", "format=user,defaultaccount,adminlevel")}
        self.assertEqual(ours, theirs)

    def test_accounts_qos_tres_as_sacctmgr(self):
        # descriptions hold spaces: the JSON form
        ours = {a["name"]: (a["description"], a["organization"])
                for a in json.loads("\n".join(self.rpc("db-accounts", "--json")))}
        self.assertEqual(ours, {a: (d, o) for a, d, o in self.sacctmgr(
            "account", "format=account,description,organization")})
        ours = {name: (f["id"], f["priority"]) for name, f in map(self.fields, self.rpc("db-qos"))}
        self.assertEqual(ours, {n: (i, p) for n, i, p in self.sacctmgr(
            "qos", "format=name,id,priority")})
        ours = set(self.rpc("db-tres"))
        theirs = {f"{i} {t}" + (f"/{n}" if n else "") for t, n, i in self.sacctmgr(
            "tres", "format=type,name,id")}
        self.assertEqual(ours, theirs)

    def test_associations_and_clusters_as_sacctmgr(self):
        ours = {(f["cluster"], f["account"], f["user"], f["partition"], ident)
                for ident, f in map(self.fields, self.rpc("db-associations"))}
        theirs = {(c, a, u, p, i) for c, a, u, p, i in self.sacctmgr(
            "assoc", "format=cluster,account,user,partition,id")}
        self.assertEqual(ours, theirs)
        ours = {name: f["control_port"] for name, f in map(self.fields, self.rpc("db-clusters"))}
        self.assertEqual(ours, {c: p for c, p in self.sacctmgr(
            "cluster", "format=cluster,controlport")})

    def test_one_job_as_sacct(self):
        job_id = self.cluster.submit("true", user="alice", name="rpc-db-job")
        self.addCleanup(self.cluster.cancel, job_id)
        self.assertEqual(self.cluster.accounting_state(job_id, until=("COMPLETED",)),
                         "COMPLETED")
        deadline = time.monotonic() + 30
        while True:  # slurmdbd may still hold the step's placeholder record for a moment
            lines = self.rpc("db-jobs", str(job_id))
            if any("name=rpc-db-job" in line for line in lines) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        self.assertEqual(len(lines), 1, lines)
        ident, f = self.fields(lines[0].replace(" COMPLETED ", " state=COMPLETED "))
        row = self.cluster.run(["sacct", "-nPX", "-j", str(job_id), "-o",
                                "JobIDRaw,State,User,Account,Partition,JobName"]).stdout.split("|")
        self.assertEqual([ident, f["state"], f["user"], f["account"], f["partition"], f["name"]],
                         [r.strip() for r in row])
