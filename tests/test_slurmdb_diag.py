"""``/slurmdb/v0.0.38/diag``: slurmdbd's statistics against ``sacctmgr show stats`` and the
real slurmrestd; refused to alice with 403 and Slurm's text (slurmrestd: 500).

Needs ``SLURMREST_TEST_CLUSTER`` (and slurmrestd for the differential tests).
"""

from __future__ import annotations

import re

from tests import differential
from tests.test_slurmdb_qos import QosTestCase

DIAG = "/slurmdb/v0.0.38/diag"

#: What changes with every request to slurmdbd (both servers' own requests count).
CHANGING = ("statistics/RPCs/*/count", "statistics/RPCs/*/time/*",
            "statistics/users/*/count", "statistics/users/*/time/*",
            "statistics/rollups/*/*")


def sacctmgr_stats(text: str) -> dict:
    """``sacctmgr show stats``: its start time, and counts by RPC name and by user."""
    since = re.search(r"Data since .*\((\d+)\)", text)
    assert since, f"no start time in sacctmgr show stats: {text!r}"
    out = {"since": int(since.group(1)), "rpcs": {}, "users": {}}
    section = None
    for line in text.splitlines():
        if "by message type" in line:
            section = "rpcs"
        elif "by user" in line:
            section = "users"
        elif section and "count:" in line:
            m = re.match(r"\s*([^\s(]+)\s*\(\s*\d+\)\s+count:(\d+)\s+ave_time:(\d+)\s+"
                         r"total_time:(\d+)", line)
            assert m, f"unexpected sacctmgr show stats line: {line!r}"
            out[section][m.group(1)] = (int(m.group(2)), int(m.group(3)), int(m.group(4)))
    return out


class DiagTests(QosTestCase):
    async def test_matches_sacctmgr(self):
        theirs = sacctmgr_stats(self.cluster.run(["sacctmgr", "show", "stats"]).stdout)
        status, doc = await self.request("GET", DIAG)
        self.assertEqual(status, 200)
        stats = doc["statistics"]
        self.assertEqual(stats["time_start"], theirs["since"])
        ours = {r["rpc"]: r for r in stats["RPCs"]}
        self.assertLessEqual(set(theirs["rpcs"]), set(ours))
        for name, (count, _average, total) in theirs["rpcs"].items():
            # ours was asked later: at least as many, never fewer
            self.assertGreaterEqual(ours[name]["count"], count, name)
            self.assertGreaterEqual(ours[name]["time"]["total"], total, name)
            r = ours[name]
            self.assertEqual(r["time"]["average"], r["time"]["total"] // r["count"])
        self.assertGreater(ours["DBD_GET_STATS"]["count"], theirs["rpcs"]["DBD_GET_STATS"][0])
        users = {u["user"]: u for u in stats["users"]}
        self.assertLessEqual(set(theirs["users"]), set(users))
        self.assertIn("root", users)
        for rollup in stats["rollups"]:
            self.assertIn(rollup["type"], ("internal", "user", "unknown"))
            self.assertGreater(rollup["total_time"], 0)

    async def test_differential(self):
        for prefix in ("/slurmdb/v0.0.38", "/slurmdb/v1"):
            cmp = await differential.compare(self.cluster, DIAG, user="root", loose=CHANGING,
                                             our_path=f"{prefix}/diag")
            differential.assert_same(self, cmp)
            self.assertTrue(cmp.ours["statistics"]["RPCs"])

    async def test_alice_refused(self):
        # slurmdbd's own words beside Slurm's text are ours only
        cmp = await differential.compare(self.cluster, DIAG, user="alice",
                                         ignore=("errors/*/description",))
        differential.assert_same(self, cmp, status=403)  # slurmrestd: 500
        self.assertIn("privilege", cmp.ours["errors"][0]["description"])
        self.assertEqual(cmp.ours["errors"][0]["error"], "Access/permission denied")
        self.assertNotIn("statistics", cmp.ours)
