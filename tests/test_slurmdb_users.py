"""``/slurmdb/.../users`` and ``/user/{user_name}`` against the real test cluster.

Reads are cross-checked with ``sacctmgr -nP show user`` (default accounts, admin levels,
associations, coordinators) and with the real slurmrestd; users added through the API
(``d2tmp...``) are seen by sacctmgr, removed again, and a failing write adds none of them.
"""

from __future__ import annotations

import json

from tests import differential
from tests.test_slurmdb_associations import V38, LiveAccounting


class Reads(LiveAccounting):
    async def test_users_match_sacctmgr(self):
        status, doc = await self.api("GET", f"{V38}/users")
        self.assertEqual(status, 200, doc)
        ours = sorted([u["name"], u["default"]["account"] or "", u["administrator_level"]]
                      for u in doc["users"])
        theirs = sorted(self.sacctmgr("show", "user", "format=user,defaultaccount,admin"))
        self.assertEqual(ours, theirs)
        assocs = sorted([u["name"], a["account"], a["cluster"], a["partition"] or ""]
                        for u in doc["users"] for a in u["associations"])
        theirs = sorted(r for r in self.sacctmgr(
            "show", "user", "withassoc", "format=user,account,cluster,partition"))
        self.assertEqual(assocs, theirs)
        by_name = {u["name"]: u for u in doc["users"]}
        self.assertEqual(by_name["root"]["administrator_level"], "Administrator")
        self.assertEqual(by_name["alice"]["default"]["account"], "science")

    async def test_same_as_slurmrestd(self):
        for user in ("root", "alice"):
            for path in (f"{V38}/users", f"{V38}/users?with_deleted=1", f"{V38}/user/alice",
                         f"{V38}/user/bob?with_deleted=true"):
                cmp = await differential.compare(self.cluster, path, user=user)
                differential.assert_same(self, cmp)

    async def test_fits_reference_schema(self):
        await self.assertFitsReference(f"{V38}/users")
        await self.assertFitsReference(f"{V38}/user/alice", f"{V38}/user/{{user_name}}")

    async def test_unknown_user(self):
        # slurmrestd: 500 "Nothing found"
        status, doc = await self.api("GET", f"{V38}/user/{self.tag}")
        self.assertRefused(status, doc, 404, "Nothing found")
        self.assertEqual(doc["users"], [])
        status, doc = await self.api("GET", f"{V38}/users?with_deleted=maybe")
        self.assertEqual(status, 400, doc)

    async def test_v1(self):
        _, old = await self.api("GET", f"{V38}/user/alice")
        status, new = await self.api("GET", "/slurmdb/v1/user/alice")
        self.assertEqual(status, 200, new)
        self.assertEqual(old["users"], new["users"])


class Writes(LiveAccounting):
    def user_rows(self, name):
        return self.sacctmgr("show", "user", name, "withassoc",
                             "format=user,defaultaccount,admin,account,cluster")

    def coordinators(self, name):
        rows = self.sacctmgr("show", "user", name, "withcoord", "format=user,coord")
        return rows[0][1] if rows else None

    async def test_add_modify_delete(self):
        self.add_account(self.tag)
        name = f"{self.tag}u"
        self.remove_user(name)
        status, doc = await self.api("POST", f"{V38}/users", {"users": [{
            "name": name, "administrator_level": "Operator",
            "default": {"account": self.tag},
            "associations": [{"account": self.tag, "cluster": self.cluster_name}],
            "coordinators": [{"name": self.tag, "direct": 1}]}]})
        self.assertEqual(status, 200, doc)
        self.assertEqual(doc["errors"], [])
        self.assertEqual(self.user_rows(name),
                         [[name, self.tag, "Operator", self.tag, self.cluster_name]])
        self.assertEqual(self.coordinators(name), self.tag)
        # the API reads back what sacctmgr shows
        status, doc = await self.api("GET", f"{V38}/user/{name}")
        self.assertEqual(status, 200, doc)
        (user,) = doc["users"]
        self.assertEqual(user["administrator_level"], "Operator")
        self.assertEqual(user["default"]["account"], self.tag)
        self.assertEqual(user["coordinators"], [{"name": self.tag, "direct": 1}])
        self.assertEqual([a["account"] for a in user["associations"]], [self.tag])
        # POST again: slurmdbd's add updates the user that exists (its admin level)
        status, doc = await self.api("POST", f"{V38}/users", {"users": [{
            "name": name, "administrator_level": "None"}]})
        self.assertEqual(status, 200, doc)
        self.assertEqual(self.user_rows(name)[0][2], "None")
        # delete, then again
        status, doc = await self.api("DELETE", f"{V38}/user/{name}")
        self.assertEqual((status, doc["removed_users"]), (200, [name]), doc)
        self.assertEqual(self.user_rows(name), [])
        status, doc = await self.api("DELETE", f"{V38}/user/{name}")
        self.assertRefused(status, doc, 404, "Nothing found")
        self.assertEqual(doc["removed_users"], [])

    async def test_failing_write_adds_nobody(self):
        self.add_account(self.tag)
        good, bad = f"{self.tag}a", f"{self.tag}b"
        self.remove_user(good)
        self.remove_user(bad)
        status, doc = await self.api("POST", f"{V38}/users", {"users": [
            {"name": good, "default": {"account": self.tag},
             "associations": [{"account": self.tag, "cluster": self.cluster_name}]},
            {"name": bad, "associations": [{"account": f"{self.tag}nosuch",
                                             "cluster": self.cluster_name}]}]})
        self.assertGreaterEqual(status, 400, doc)
        self.assertLess(status, 500, doc)
        self.assertEqual(self.user_rows(good), [])
        self.assertEqual(self.user_rows(bad), [])
        # a coordinated account that does not exist (slurmdbd would accept it)
        status, doc = await self.api("POST", f"{V38}/users", {"users": [
            {"name": good, "default": {"account": self.tag},
             "associations": [{"account": self.tag, "cluster": self.cluster_name}]},
            {"name": bad, "coordinators": [{"name": f"{self.tag}nosuch", "direct": 1}]}]})
        self.assertRefused(status, doc, 400, f"{self.tag}nosuch")
        self.assertEqual(self.user_rows(good), [])
        self.assertEqual(self.user_rows(bad), [])

    async def test_existing_user_modified(self):
        """POST for a user that exists: its new association, default account and admin
        level (slurmdbd's add alone would skip the user)."""
        self.add_account(self.tag)
        name = f"{self.tag}u"
        self.remove_user(name)
        self.cluster.run(["sacctmgr", "-i", "add", "user", name, "account=science",
                          "AdminLevel=Operator"])
        status, doc = await self.api("POST", f"{V38}/users", {"users": [{
            "name": name, "default": {"account": self.tag},
            "associations": [{"account": self.tag, "cluster": self.cluster_name}]}]})
        self.assertEqual(status, 200, doc)
        rows = self.user_rows(name)
        self.assertEqual(sorted(r[3] for r in rows), sorted(["science", self.tag]))
        self.assertEqual({(r[1], r[2]) for r in rows}, {(self.tag, "Operator")})

    async def test_bad_bodies_write_nothing(self):
        name = f"{self.tag}u"
        self.remove_user(name)
        bad = [
            ({"users": [{"name": name, "administrator_level": "Boss"}]}, "Boss"),
            ({"users": [{"name": name, "administrator_level": 3}]}, "administrator_level"),
            ({"users": [{"name": name, "colour": "blue"}]}, "colour"),
            ({"users": [{"administrator_level": "None"}]}, "name"),
            ({"users": [{"name": 7}]}, "name"),
            ({"users": [{"name": name, "associations": [{"cluster": "x"}]}]}, "account"),
            ({"users": [{"name": name, "associations": [
                {"account": "science", "cluster": self.cluster_name, "user": "bob"}]}]},
             "user"),
            ({"users": [{"name": name, "coordinators": [{"direct": 1}]}]}, "name"),
            ({"users": [{"name": name, "flags": ["FAMOUS"]}]}, "FAMOUS"),
            ({"users": {"name": name}}, "list"),
            ({"user": [{"name": name}]}, "user"),
        ]
        for body, word in bad:
            status, doc = await self.api("POST", f"{V38}/users", body)
            self.assertRefused(status, doc, 400, word)
        self.assertEqual(self.user_rows(name), [])

    async def test_alice_refused(self):
        name = f"{self.tag}u"
        self.remove_user(name)
        status, doc = await self.api("POST", f"{V38}/users", {"users": [{"name": name}]},
                                     user="alice")
        self.assertRefused(status, doc, 403, "Access/permission denied")
        self.assertEqual(self.user_rows(name), [])
        status, doc = await self.api("DELETE", f"{V38}/user/bob", user="alice")
        self.assertRefused(status, doc, 403, "Access/permission denied")
        self.assertEqual(len(self.user_rows("bob")), 1)
        # the same entries as slurmrestd's (its status: 500)
        await self.compare_refusal("POST", "/users", {"users": [{"name": name}]})
        await self.compare_refusal("DELETE", "/user/bob", None)
        self.assertEqual(self.user_rows(name), [])
        self.assertEqual(len(self.user_rows("bob")), 1)

    async def test_writes_as_slurmrestd(self):
        self.add_account(self.tag)
        name = f"{self.tag}u"
        self.remove_user(name)
        body = {"users": [{"name": name, "default": {"account": self.tag},
                           "associations": [{"account": self.tag, "user": name,
                                             "cluster": self.cluster_name}]}]}
        cmp = await differential.compare(self.cluster, f"{V38}/users", user="root",
                                         method="POST", body=body)
        differential.assert_same(self, cmp)
        self.assertEqual(self.user_rows(name),
                         [[name, self.tag, "None", self.tag, self.cluster_name]])
        cmp = await differential.compare(self.cluster, f"{V38}/user/{name}", user="root")
        differential.assert_same(self, cmp)
        self.assertIn(name, json.dumps(cmp.ours))


class ApiKeyProxy(LiveAccounting):
    """Through the API-key proxy (``--api-key-file``): root's writes work, alice's are 403."""

    KEY = "d2-proxy-key-0123456789abcdef"

    async def start_proxy(self):
        import os

        from twisted.internet import reactor

        from slurmrest.tap import make_gateway
        from slurmrest.web.channel import GatewaySite
        from slurmrest.wire.conf import SlurmConfig

        directory = self.mktemp()
        os.makedirs(directory)
        keyfile = os.path.join(directory, "api-keys")
        with open(keyfile, "w") as f:
            f.write(self.KEY + "\n")
        os.chmod(keyfile, 0o600)
        gateway = make_gateway(SlurmConfig.load(self.cluster.slurm_conf),
                               jwt_key=self.cluster.jwt_key_path, api_key_file=keyfile,
                               reactor=reactor)
        port = reactor.listenTCP(0, GatewaySite(gateway), interface="127.0.0.1")
        self.addCleanup(gateway.dbd.close)
        self.addCleanup(port.stopListening)
        return f"http://127.0.0.1:{port.getHost().port}"

    async def proxied(self, base, method, path, user, body=None):
        import treq
        headers = {"X-SLURM-API-KEY": self.KEY, "X-SLURM-USER-NAME": user}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        response = await treq.request(method, base + path, headers=headers, data=data,
                                      persistent=False)
        return response.code, json.loads(await response.content())

    async def test_writes_through_the_proxy(self):
        base = await self.start_proxy()
        self.add_account(self.tag)
        name = f"{self.tag}p"
        self.remove_user(name)
        body = {"users": [{"name": name, "associations": [
            {"account": self.tag, "cluster": self.cluster_name}]}]}
        status, doc = await self.proxied(base, "POST", f"{V38}/users", "alice", body)
        self.assertRefused(status, doc, 403, "Access/permission denied")
        self.assertEqual(self.sacctmgr("show", "user", name, "format=user"), [])
        status, doc = await self.proxied(base, "POST", f"{V38}/users", "root", body)
        self.assertEqual(status, 200, doc)
        self.assertEqual(self.sacctmgr("show", "user", name, "withassoc",
                                       "format=user,account"), [[name, self.tag]])
        status, doc = await self.proxied(
            base, "GET", f"{V38}/association?account={self.tag}&user={name}", "alice")
        self.assertEqual((status, len(doc["associations"])), (200, 1), doc)
        status, doc = await self.proxied(base, "DELETE", f"{V38}/user/{name}", "root")
        self.assertEqual((status, doc["removed_users"]), (200, [name]), doc)
