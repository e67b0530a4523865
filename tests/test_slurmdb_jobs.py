"""GET /slurmdb/{v0.0.38,v1}/jobs and /job/{job_id} against the real test cluster.

Real jobs (completed with steps, failed, cancelled, killed by a signal, an array, a het
job) are submitted once per run, and waited for until slurmdbd has their final records.
Our answers are checked against ``sacct -P`` (ids, states, exit codes, elapsed, TRES) and
against the real slurmrestd (``differential.compare``, values included) for several
parameter combinations and every /job/{id} form, under v0.0.38 and v1.

Never send slurmrestd 22.05 a malformed job id: it calls fatal() and dies.
"""

import grp
import json
import time
import uuid

from twisted.trial import unittest

from slurmrest.testing.cluster import Cluster
from slurmrest.wire.credentials import TokenMinter
from tests import differential

TAG = f"d1{uuid.uuid4().hex[:6]}"
V38, V1 = "/slurmdb/v0.0.38", "/slurmdb/v1"

#: Our deliberate differences (job_documents' docstring): compared by hand in ``_exit_codes``
#: (exit codes), against sacct (the actual CPU frequency: slurmrestd prints the low 32 bits of
#: a double, 0) or left out (the CPU governor slurmrestd gets wrong for NO_VAL).
DEVIATIONS = ("jobs/*/exit_code/status", "jobs/*/exit_code/return_code",
              "jobs/*/steps/*/exit_code/status", "jobs/*/steps/*/exit_code/return_code",
              "jobs/*/derived_exit_code/status", "jobs/*/derived_exit_code/return_code",
              "jobs/*/steps/*/CPU/governor", "jobs/*/steps/*/statistics/CPU/actual_frequency")

_made: dict = {}


def made() -> dict:
    """The jobs of this run, by kind, once slurmdbd has their final records."""
    if _made:
        return _made
    cluster = Cluster.from_environment()
    if not cluster.restd_url:
        raise unittest.SkipTest("the test cluster has no slurmrestd to compare with")
    out = "/dev/null"

    def submit(kind, script, *extra, user="alice"):
        return cluster.submit(script, user=user, name=f"{TAG}-{kind}", extra=["-o", out, *extra])

    jobs = {
        "steps": submit("steps", "srun -n2 true; srun -n1 sleep 1; exit 0", "-n2"),
        "failed": submit("failed", "exit 3"),
        "cancelled": submit("cancelled", "sleep 120"),
        "signaled": submit("signaled", "kill -9 $$"),
        "array": submit("array", "exit $SLURM_ARRAY_TASK_ID", "--array=1-3"),
    }
    het = cluster.run(["sbatch", "--parsable", "-J", f"{TAG}-het", "-o", out, "-n1", "-p",
                       "debug", ":", "-n2", "-p", "long", "--wrap", "true"], user="bob")
    jobs["het"] = int(het.stdout.strip().split(";")[0])
    cluster.wait_for_job_state(jobs["cancelled"], "RUNNING", timeout=60)
    cluster.cancel(jobs["cancelled"])
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        rows = sacct(cluster, "-X")
        finished = [r for r in rows if r["State"] not in ("PENDING", "RUNNING", "COMPLETING")]
        if len(rows) == 9 and len(finished) == len(rows):  # 3 array tasks, 2 het parts
            break
        time.sleep(0.5)
    else:
        raise TimeoutError(f"slurmdbd has not got the final records: {rows}")
    _made.update(jobs, cluster=cluster)
    return _made


def sacct(cluster, *args) -> list[dict]:
    """``sacct -P`` for this run's jobs (by name; all users) as dicts."""
    names = ",".join(f"{TAG}-{k}" for k in
                     ("steps", "failed", "cancelled", "signaled", "array", "het"))
    fmt = ("JobIDRaw,JobID,JobName,State,ExitCode,DerivedExitCode,ElapsedRaw,AllocTRES,User,"
           "AveCPUFreq")
    proc = cluster.run(["sacct", "-P", "-a", "--noconvert", "-S", "2020-01-01", "--name", names,
                        "-o", fmt, *args])
    lines = proc.stdout.splitlines()
    keys = lines[0].split("|")
    return [dict(zip(keys, line.split("|"))) for line in lines[1:] if line]


def exit_text(doc: dict) -> str:
    """A document's exit code in sacct's ``code:signal``."""
    if doc["status"] == "SIGNALED":
        return f"0:{doc['signal']['signal_id']}"
    code = doc["return_code"] or 0
    # sacct shows a shell's 128+N exit (killed by signal N) as N (print.c); we send the real
    # exit code
    return f"{code - 128 if code >= 128 else code}:0"


def tres_text(entries: list[dict]) -> str:
    """A TRES list in sacct's AllocTRES spelling (``billing=1,cpu=1,mem=100M,node=1``)."""
    items = []
    for e in entries:
        if e["count"] is None:
            continue
        name = f"{e['type']}/{e['name']}" if e["name"] else e["type"]
        items.append(f"{name}={e['count']}M" if e["type"] == "mem" else f"{name}={e['count']}")
    return ",".join(sorted(items))


def step_suffix(step: dict) -> str:
    return str(step["step"]["id"])


async def get(path: str, user: str = "alice", token: str | None = None):
    """(status, document) of our answer to ``GET path``."""
    cluster = made()["cluster"]
    url = await differential.start_ours(cluster)
    headers = {"X-SLURM-USER-NAME": user,
               "X-SLURM-USER-TOKEN": token if token is not None else cluster.token(user)}
    status, body = await differential._request(url + path, "GET", headers, None)
    return status, json.loads(body)


class SlurmdbJobsTestCase(unittest.TestCase):
    timeout = 240

    def setUp(self):
        self.jobs = made()
        self.cluster = self.jobs["cluster"]

    async def tearDown(self):
        await differential.stop_ours()

    def names(self, *kinds):
        """This run's job names, comma-separated as %2C: slurmrestd 22.05 refuses a raw
        comma in a query (400 "Unable to parse query.")."""
        return "%2C".join(f"{TAG}-{k}" for k in kinds)

    async def same(self, path, *, status=None, our_path=None, partial=False):
        """Compare with slurmrestd by value (the jobs are finished: nothing moves), our
        deliberate deviations checked separately (under v1 an empty list comes without
        slurmrestd's error 9003); returns the comparison."""
        v1 = bool(our_path and our_path.startswith(V1))
        cmp = await differential.compare(self.cluster, path, strict=True,
                                         ignore=DEVIATIONS + (("errors",) if v1 else ()),
                                         our_path=our_path, partial=partial)
        differential.assert_same(self, cmp, status=status)
        if v1 and cmp.our_status == 200:  # no "Nothing found" beside an empty list
            self.assertEqual(cmp.ours["errors"], [])
            self.assertTrue(all(e["error_number"] == 9003 for e in cmp.reference["errors"]))
        if cmp.our_status == 200 and cmp.reference_status == 200:
            self._exit_codes(cmp.reference, cmp.ours)
        return cmp

    def _exit_codes(self, reference, ours):
        """Where slurmrestd says SUCCESS/0 for a nonzero exit we say ERROR with the code;
        otherwise both agree exactly."""
        ref_jobs = {j["job_id"]: j for j in reference["jobs"]}
        for job in ours["jobs"]:
            ref = ref_jobs[job["job_id"]]
            pairs = [(ref[k], job[k]) for k in ("exit_code", "derived_exit_code")]
            pairs += [(r["exit_code"], o["exit_code"]) for r, o in zip(ref["steps"], job["steps"])]
            for theirs, mine in pairs:
                if mine["status"] == "ERROR" and theirs["status"] == "SUCCESS":
                    self.assertGreater(mine["return_code"], 0)
                else:
                    self.assertEqual(theirs, mine)


class AgainstSacct(SlurmdbJobsTestCase):
    async def test_jobs_and_steps_agree_with_sacct(self):
        status, doc = await get(f"{V38}/jobs?start_time=2020-01-01&job_name="
                                + self.names("steps", "failed", "cancelled", "signaled",
                                             "array", "het"))
        self.assertEqual(status, 200)
        rows = {r["JobIDRaw"] if "." not in r["JobID"] else r["JobID"]: r
                for r in sacct(self.cluster)}
        seen = set()
        for job in doc["jobs"]:
            job_id = str(job["job_id"])
            row = rows[job_id]
            seen.add(job_id)
            self.assertEqual(job["state"]["current"], row["State"].split()[0], job_id)
            self.assertEqual(exit_text(job["exit_code"]), row["ExitCode"], job_id)
            self.assertEqual(exit_text(job["derived_exit_code"]), row["DerivedExitCode"])
            self.assertEqual(str(job["time"]["elapsed"]), row["ElapsedRaw"], job_id)
            self.assertEqual(tres_text(job["tres"]["allocated"]),
                             ",".join(sorted(row["AllocTRES"].split(","))) if row["AllocTRES"]
                             else "", job_id)
            self.assertEqual(job["user"], row["User"])
            # steps are named by the job's displayed id (123_4.batch, 123+1.0)
            display = row["JobID"]
            for step in job["steps"]:
                key = f"{display}.{step_suffix(step)}"
                srow = rows[key]
                seen.add(key)
                self.assertEqual(step["state"], srow["State"].split()[0], key)
                self.assertEqual(exit_text(step["exit_code"]), srow["ExitCode"], key)
                self.assertEqual(str(step["time"]["elapsed"]), srow["ElapsedRaw"], key)
                self.assertEqual(f"{step['statistics']['CPU']['actual_frequency']}K"
                                 if step['statistics']['CPU']['actual_frequency'] else "0",
                                 srow["AveCPUFreq"], key)
                self.assertEqual(tres_text(step["tres"]["allocated"]),
                                 ",".join(sorted(srow["AllocTRES"].split(","))), key)
        self.assertEqual(seen, {k for k, r in rows.items()
                                if "." not in k or r["JobID"] == k})
        kinds = {j["name"].rsplit("-", 1)[1]: j for j in doc["jobs"]}
        self.assertEqual(kinds["failed"]["exit_code"], {"status": "ERROR", "return_code": 3})
        self.assertEqual(kinds["signaled"]["exit_code"]["signal"],
                         {"signal_id": 9, "name": "Killed"})
        self.assertEqual(kinds["cancelled"]["state"]["current"], "CANCELLED")
        self.assertEqual(kinds["cancelled"]["kill_request_user"], "root")
        self.assertEqual(len(kinds["steps"]["steps"]), 3)  # batch, 0 and 1

    async def test_filters_agree_with_sacct(self):
        base = f"{V1}/jobs?start_time=2020-01-01&job_name=" + self.names(
            "steps", "failed", "cancelled", "signaled", "array", "het")
        cases = {
            "state=failed,CD&end_time=now": ["-s", "failed,completed", "-E", "now"],
            "partition=long": ["-r", "long"],
            "account=physics": ["-A", "physics"],
            "qos=normal": ["-q", "normal"],
            "group=bob": ["--group", "bob"],
            "groups=alice": ["--group", "alice"],
        }
        node = self.cluster.run(["sacct", "-nXP", "-j", str(self.jobs["failed"]),
                                 "-o", "NodeList"]).stdout.strip()
        cases[f"node={node}"] = ["-N", node]
        for query, args in cases.items():
            status, doc = await get(f"{base}&{query}")
            self.assertEqual(status, 200, query)
            expected = {r["JobIDRaw"] for r in sacct(self.cluster, "-X", *args)}
            self.assertTrue(expected, query)  # each case selects some of this run's jobs
            self.assertEqual({str(j["job_id"]) for j in doc["jobs"]}, expected, query)
        # exit_code: slurmdbd ignores it; we filter on the code the job exited with
        status, doc = await get(f"{base}&exit_code=3")
        self.assertEqual({j["job_id"] for j in doc["jobs"]},
                         {int(r["JobIDRaw"]) for r in sacct(self.cluster, "-X")
                          if r["ExitCode"] == "3:0"})


class AgainstSlurmrestd(SlurmdbJobsTestCase):
    def qos_id(self, name):
        rows = self.cluster.run(["sacctmgr", "-nP", "show", "qos", name, "format=id"])
        return int(rows.stdout.split()[0])

    def assoc_id(self, user, account):
        rows = self.cluster.run(["sacctmgr", "-nP", "show", "assoc", f"user={user}",
                                 f"account={account}", "format=id"])
        return int(rows.stdout.split()[0])

    async def test_job_forms(self):
        jobs = self.jobs
        array = f"{jobs['array']}_2"
        forms = [str(jobs["steps"]), str(jobs["failed"]), str(jobs["cancelled"]),
                 str(jobs["signaled"]), str(jobs["array"]), array, str(jobs["het"]),
                 f"{jobs['het']}%2B1", f"{jobs['steps']}.batch"]
        for form in forms:
            cmp = await self.same(f"{V38}/job/{form}")
            self.assertTrue(cmp.ours["jobs"], form)
            await self.same(f"{V38}/job/{form}", our_path=f"{V1}/job/{form}")
        # 123.0: slurmrestd reads a number (and so the whole job); we select step 0, as
        # ``sacct -j 123.0`` does, and its document is slurmrestd's step 0.
        form = f"{jobs['steps']}.0"
        for prefix in (V38, V1):
            cmp = await differential.compare(self.cluster, f"{V38}/job/{form}", strict=True,
                                             ignore=DEVIATIONS + ("jobs/*/steps",),
                                             our_path=f"{prefix}/job/{form}")
            differential.assert_same(self, cmp)
            [theirs], [mine] = cmp.reference["jobs"], cmp.ours["jobs"]
            self.assertEqual([s["step"]["id"] for s in mine["steps"]], [0])
            step0 = [s for s in theirs["steps"] if s["step"]["id"] == 0]
            ignored = ("*/CPU/governor", "*/statistics/CPU/actual_frequency")
            self.assertEqual(differential.diff_documents(step0, mine["steps"], ignore=ignored),
                             [])
        self.assertEqual(sacct(self.cluster, "-j", form)[0]["JobID"], form)
        # the array task and the het component are one record each
        cmp = await self.same(f"{V38}/job/{array}")
        self.assertEqual([j["array"]["task_id"] for j in cmp.ours["jobs"]], [2])
        cmp = await self.same(f"{V38}/job/{jobs['het']}%2B1")
        self.assertEqual([j["het"]["job_offset"] for j in cmp.ours["jobs"]], [1])

    async def test_job_lists(self):
        names = self.names("steps", "failed", "cancelled", "signaled", "array", "het")
        for query in (f"job_name={names}",
                      f"job_name={names}&skip_steps=true",
                      f"job_name={names}&start_time=2020-01-01&end_time=2099-01-01",
                      (f"start_time=2020-01-01&end_time=now&state=completed%2Cfailed"
                       f"&job_name={names}"),
                      f"job_name={names}&account=physics",
                      f"job_name={names}&partition=long",
                      f"step={self.jobs['array']}_1%2C{self.jobs['failed']}",
                      f"job_name={names}&cluster={self.cluster.cluster_name}",
                      f"job_name={names}&node=n1",
                      f"job_name={names}&cpus_min=2",
                      # numbers where slurmrestd passes its text to slurmdbd as it is
                      f"job_name={names}&qos={self.qos_id('normal')}",
                      f"job_name={names}&groups={grp.getgrnam('alice').gr_gid}",
                      f"job_name={names}&reason=0",
                      f"job_name={names}&association={self.assoc_id('alice', 'science')}",
                      f"job_name={names}&nodes_min=1&nodes_max=1&cpus_min=1&cpus_max=1",
                      f"job_name={names}&format=jobid%2Cstate&disable_wait_for_result=true",
                      f"job_name={names}&submit_time=2020-01-01",
                      f"job_name={names}&constraints=nosuchfeature",
                      f"job_name={names}&wckey=nosuchwckey&reservation=nosuchresv"):
            await self.same(f"{V38}/jobs?{query}")
            await self.same(f"{V38}/jobs?{query}", our_path=f"{V1}/jobs?{query}")

    async def test_skip_steps_leaves_steps_out(self):
        query = f"{V38}/jobs?job_name={self.names('steps')}"
        cmp = await self.same(query + "&skip_steps=true")
        self.assertEqual([j["steps"] for j in cmp.ours["jobs"]], [[]])
        cmp = await self.same(query + "&skip_steps=false")
        self.assertEqual(len(cmp.ours["jobs"][0]["steps"]), 3)

    async def test_no_parameters(self):
        # v0.0.38: slurmdbd's NULL condition, as slurmrestd. Other tests' jobs may run
        # meanwhile: this run's (finished) jobs are compared by value.
        cmp = await differential.compare(self.cluster, f"{V38}/jobs", ignore=("jobs",))
        differential.assert_same(self, cmp)
        ours = {j["job_id"]: j for j in cmp.ours["jobs"]}
        mine = {j for kind, j in self.jobs.items() if kind != "cluster"}
        self.assertTrue(mine <= set(ours))
        reference = {"jobs": [j for j in cmp.reference["jobs"]
                              if j["name"].startswith(TAG)]}
        subset = {"jobs": [j for j in cmp.ours["jobs"] if j["name"].startswith(TAG)]}
        self.assertEqual(differential.diff_documents(reference, subset, ignore=DEVIATIONS), [])
        self._exit_codes(reference, subset)
        # v1: sacct's defaults (local cluster, since midnight): today's jobs are there
        status, doc = await get(f"{V1}/jobs")
        self.assertEqual(status, 200)
        self.assertTrue({self.jobs["failed"], self.jobs["het"]}
                        <= {j["job_id"] for j in doc["jobs"]})
        self.assertEqual({j["cluster"] for j in doc["jobs"]}, {self.cluster.cluster_name})

    async def test_nothing_found(self):
        # /jobs: v0.0.38 as slurmrestd (200, error 9003); v1 without the error
        query = f"/jobs?job_name={TAG}-nothing"
        cmp = await self.same(V38 + query)
        self.assertEqual(cmp.ours["errors"][0]["error_number"], 9003)
        status, doc = await get(V1 + query)
        self.assertEqual((status, doc["jobs"], doc["errors"]), (200, [], []))
        # /job/{id}: 404 under both (slurmrestd: 200), the same document
        cmp = await differential.compare(self.cluster, f"{V38}/job/999999")
        differential.assert_same(self, cmp, status=404)
        self.assertEqual(cmp.ours["errors"], cmp.reference["errors"])
        status, doc = await get(f"{V1}/job/999999")
        self.assertEqual((status, doc["jobs"], doc["errors"][0]["error_number"]),
                         (404, [], 9003))


class BadInput(SlurmdbJobsTestCase):
    async def test_raw_comma_works(self):
        # slurmrestd 22.05: 400 "Unable to parse query." for an unencoded comma
        names = self.names("steps", "failed", "cancelled").replace("%2C", ",")
        status, doc = await get(f"{V38}/jobs?start_time=2020-01-01&end_time=now"
                                f"&state=completed,failed&job_name={names}")
        self.assertEqual(status, 200)
        self.assertEqual({j["state"]["current"] for j in doc["jobs"]}, {"COMPLETED", "FAILED"})

    async def test_refused_with_400(self):
        for query in ("users=alice", "state=bogus", "start_time=garbage", "step=abc",
                      "start_time=now&submit_time=now", "cpus_min=x", "qos=nosuchqos",
                      "account=", "skip_steps=maybe"):
            for prefix in (V38, V1):
                status, doc = await get(f"{prefix}/jobs?{query}")
                self.assertEqual(status, 400, query)
                self.assertTrue(doc["errors"], query)
        for form in ("abc", "0", "12x", "1.bogus", "1_99999999999"):  # slurmrestd dies
            status, doc = await get(f"{V38}/job/{form}")
            self.assertEqual(status, 400, form)
            self.assertEqual(doc["errors"][0]["error_number"], 9000)

    async def test_unknown_query_field_agrees_but_for_the_status(self):
        cmp = await differential.compare(self.cluster, f"{V38}/jobs?users=alice",
                                         ignore=("errors",))
        differential.assert_same(self, cmp, status=400)  # slurmrestd: 500


class Authentication(SlurmdbJobsTestCase):
    async def test_bad_tokens_are_401(self):
        key = self.cluster.jwt_key()
        expired = TokenMinter(key, clock=lambda: time.time() - 3600).mint("alice", 60)
        for token in ("garbage", expired):
            status, doc = await get(f"{V38}/jobs", token=token)
            self.assertEqual(status, 401)  # slurmrestd: 200 with error 1007 inside
            self.assertTrue(doc["errors"])

    async def test_user_unknown_to_slurmdbd(self):
        # This slurmdbd takes a name it does not know as uid 99 (PrivateData is off, so it
        # sees every job): both servers answer alike. (A slurmdbd that refuses the name
        # answers 1007, SLURM_PROTOCOL_AUTHENTICATION_ERROR: 401 here, slurmrestd 200.)
        query = f"{V38}/jobs?job_name={self.names('failed')}"
        cmp = await differential.compare(self.cluster, query, user="nosuchuser",
                                         strict=True, ignore=DEVIATIONS)
        differential.assert_same(self, cmp)


class ReferenceSchema(SlurmdbJobsTestCase):
    async def test_documents_fit_slurmrestds_schema_where_its_own_do(self):
        from tests.test_reference_schema import failures
        names = self.names("steps", "failed", "cancelled", "signaled", "array", "het")
        for path in (f"{V38}/jobs?job_name={names}", f"{V38}/job/{self.jobs['het']}"):
            cmp = await differential.compare(self.cluster, path, strict=True)
            theirs, ours = failures(path, cmp.reference), failures(path, cmp.ours)
            self.assertEqual({w: m for w, m in ours.items() if w not in theirs}, {}, path)
            self.assertTrue(cmp.ours["jobs"])
