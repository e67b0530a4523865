"""What the web room and the runner do for the accounting family, in memory: the slurmdbd
client bound to the caller, the API version given to handlers, undeclared query parameters
refused, slurmdbd out of reach answered as slurmrestd words it, and slurmdb operations not
waiting for slurmctld (the real operations are tested against the real cluster in
``test_slurmdb_*``)."""

from __future__ import annotations

from twisted.internet import defer
from twisted.internet.testing import MemoryReactorClock
from twisted.trial import unittest

from slurmrest.api.meta import BuildInfoCache
from slurmrest.api.registry import Param, Registry, operation
from slurmrest.web.auth import Authenticator
from slurmrest.web.channel import GatewaySite
from slurmrest.web.gateway import Gateway
from slurmrest.wire.credentials import TokenMinter
from slurmrest.wire.errors import (
    ESLURM_DB_CONNECTION, SLURM_COMMUNICATIONS_CONNECTION_ERROR, CommunicationError)
from tests.memory_http import SiteClient
from tests.test_web_server import KEY, Clientless, creds


class SilentController:
    """A slurmctld that never answers build info (frozen): slurmdb must not wait for it."""

    def __init__(self):
        self.asked = []

    def bind(self, credential):
        return self

    def build_info(self, last_update=0):
        d = defer.Deferred()
        self.asked.append(d)
        return d


def registry(seen: list) -> Registry:
    reg = Registry()

    @operation("GET", "/things", family="slurmdb", operation_id="get_things", summary="things",
               params=(Param("name"),), registry=reg)
    async def things(call):
        seen.append(call)
        return {"things": [call.params.get("name")]}

    @operation("GET", "/down", family="slurmdb", operation_id="down", summary="down",
               registry=reg)
    async def down(call):
        raise CommunicationError(SLURM_COMMUNICATIONS_CONNECTION_ERROR,
                                 "connect to slurmdbd at 127.0.0.1:6819 refused")

    @operation("GET", "/lenient", operation_id="lenient", summary="slurm family",
               params=(Param("name"),), registry=reg)
    async def lenient(call):
        return {"params": call.params}

    return reg


class SlurmdbFamilyTests(unittest.TestCase):
    def setUp(self):
        self.seen = []
        self.ctld = Clientless()
        self.dbd = Clientless()
        self.site = self.make(self.ctld, known=True)

    def make(self, ctld, known):
        build_info = BuildInfoCache()
        if known:
            build_info.update({"version": "22.05.8"})
        auth = Authenticator(TokenMinter(KEY), proxy_users=frozenset({"root"}))
        gateway = Gateway(ctld, auth, dbd=self.dbd, registry=registry(self.seen),
                          build_info=build_info)
        return GatewaySite(gateway, reactor=MemoryReactorClock())

    async def get(self, target, site=None):
        return await SiteClient(site or self.site).request("GET", target, headers=creds())

    async def test_slurmdbd_bound_and_version_given(self):
        for version in ("v0.0.38", "v1"):
            r = await self.get(f"/slurmdb/{version}/things?name=x")
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.json()["things"], ["x"])
            self.assertEqual(self.seen[-1].version, version)
        self.assertEqual(len(self.dbd.bound), 2)
        self.assertIs(self.seen[-1].slurmdbd, self.dbd.bound[-1])

    async def test_slurm_family_gets_no_slurmdbd(self):
        r = await self.get("/slurm/v1/lenient?name=x&other=1")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["params"], {"name": "x"})  # unknown ones ignored there
        self.assertEqual(self.dbd.bound, [])

    async def test_undeclared_query_parameter_refused(self):
        r = await self.get("/slurmdb/v0.0.38/things?name=x&users=alice&zz=1")
        self.assertEqual(r.status, 400)
        (entry,) = r.json()["errors"]
        self.assertEqual(entry["error_number"], 9000)
        self.assertEqual(entry["error"], "Query empty or not RFC7320 compliant")
        self.assertIn("users, zz", entry["description"])
        self.assertEqual(self.seen, [])  # refused before the operation ran

    async def test_slurmdbd_down_is_503_in_slurmrestd_words(self):
        r = await self.get("/slurmdb/v1/down")
        self.assertEqual(r.status, 503)
        (entry,) = r.json()["errors"]
        self.assertEqual(entry["error_number"], ESLURM_DB_CONNECTION)
        self.assertEqual(entry["error"], "Unable to connect to database")
        self.assertIn("refused", entry["description"])

    async def test_slurmdb_does_not_wait_for_slurmctld(self):
        ctld = SilentController()
        site = self.make(ctld, known=False)
        r = await self.get("/slurmdb/v1/things", site)
        self.assertEqual(r.status, 200)
        self.assertNotIn("Slurm", r.json()["meta"])  # not known yet
        self.assertEqual(len(ctld.asked), 1)
        await self.get("/slurmdb/v1/things", site)
        self.assertEqual(len(ctld.asked), 1)  # one fetch in flight, not one per request
        ctld.asked[0].callback({"version": "22.05.8"})
        r = await self.get("/slurmdb/v1/things", site)
        self.assertEqual(r.json()["meta"]["Slurm"]["release"], "22.05.8")

    async def test_failed_learning_is_retried_later(self):
        ctld = SilentController()
        site = self.make(ctld, known=False)
        await self.get("/slurmdb/v1/things", site)
        ctld.asked[0].errback(CommunicationError(1800))
        r = await self.get("/slurmdb/v1/things", site)
        self.assertEqual(r.status, 200)
        self.assertEqual(len(ctld.asked), 2)
