"""``api.runner.run``: the Slurm version learnt once, and every Slurm failure an ``ApiError``
with the status of the operation's error map (HTTP itself: ``test_web_server``)."""

from __future__ import annotations

from twisted.trial import unittest

from slurmrest.api.errors import ApiError, NotModified, Refusal, error_entry, refusal
from slurmrest.api.registry import Call, Registry, Result, operation
from slurmrest.api.runner import run
from slurmrest.api.state import ServerState
from slurmrest.wire.errors import CommunicationError, NoChange, ProtocolError, SlurmError


class Controller:
    def __init__(self, fail: Exception | None = None):
        self.asked = 0
        self.fail = fail

    async def build_info(self, last_update=0):
        self.asked += 1
        if self.fail is not None:
            raise self.fail
        return {"version": "22.05.8", "last_update": 1}


def failing(failure: BaseException, **declared):
    reg = Registry()

    @operation("GET", "/x", operation_id="x", summary="", registry=reg, **declared)
    async def handler(call):
        raise failure
    return next(iter(reg))


class RunnerTests(unittest.TestCase):
    def call(self, ctld=None):
        return Call(params={}, user="alice", slurmctld=ctld or Controller(), state=self.state)

    def setUp(self):
        self.state = ServerState()

    async def test_version_learnt_once_with_the_callers_client(self):
        reg = Registry()

        @operation("GET", "/v", operation_id="v", summary="", registry=reg)
        async def handler(call):
            return {"release": call.state.build_info.release}
        op, ctld = next(iter(reg)), Controller()
        self.assertEqual(await run(op, self.call(ctld)), {"release": "22.05.8"})
        await run(op, self.call(ctld))
        self.assertEqual(ctld.asked, 1)

    async def test_failing_to_learn_the_version_is_the_callers_failure(self):
        op = failing(AssertionError("the handler must not run"))
        with self.assertRaises(ApiError) as cm:
            await run(op, self.call(Controller(CommunicationError(1800))))
        self.assertEqual(cm.exception.status, 503)
        self.assertEqual(cm.exception.errors[0]["source"], "x")

    async def test_statuses(self):
        self.state.build_info.update({"version": "22.05.8"})
        cases = [
            (SlurmError(2017), {}, 500),                       # slurmrestd's blanket answer
            (SlurmError(2017), {"errors": {2017: 404}}, 404),  # declared by the operation
            (SlurmError(2002), {}, 403),                       # shared by all operations
            (SlurmError(2002), {"errors": {2002: 400}}, 400),  # the operation's own wins
            (SlurmError(2016), {"refused": 400}, 400),         # any other refusal
            (CommunicationError(1800), {"refused": 400}, 503),  # slurmctld down
            (CommunicationError(1802, timeout=True), {}, 504),
            (CommunicationError(1802), {}, 502),               # hung up without a reply
            (ProtocolError("garbage"), {}, 502),
        ]
        for failure, declared, status in cases:
            with self.assertRaises(ApiError, msg=repr(failure)) as cm:
                await run(failing(failure, **declared), self.call(), "src")
            self.assertEqual(cm.exception.status, status, (failure, declared))
            self.assertEqual(cm.exception.errors[0]["source"], "src")

    async def test_slurm_text_and_message(self):
        self.state.build_info.update({"version": "22.05.8"})
        with self.assertRaises(ApiError) as cm:
            await run(failing(SlurmError(2017, "Unable to find JobId=1")), self.call())
        self.assertEqual(cm.exception.errors, [{
            "description": "Unable to find JobId=1", "error_number": 2017,
            "error": "Invalid job id specified", "source": "x"}])

    async def test_no_change_is_not_modified(self):
        self.state.build_info.update({"version": "22.05.8"})
        with self.assertRaises(NotModified):
            await run(failing(NoChange()), self.call())

    async def test_refusal_worded_by_the_handler(self):
        self.state.build_info.update({"version": "22.05.8"})
        entries = [error_entry(2018, form="short")]
        result = await run(failing(Refusal(2018, entries, payload={"nodes": []}),
                                   errors={2018: 404}), self.call())
        self.assertIsInstance(result, Result)
        self.assertEqual((result.status, result.payload, result.errors),
                         (404, {"nodes": []}, [{"error": "Invalid node name specified",
                                                "errno": 2018}]))
        with self.assertRaises(ApiError) as cm:
            await run(failing(refusal(SlurmError(2016), "busy", "slurm_x"), refused=400),
                      self.call())
        self.assertEqual((cm.exception.status, cm.exception.errors[0]["source"]),
                         (400, "slurm_x"))

    def test_refusal_leaves_failures_to_talk_to_slurmctld_alone(self):
        for e in (CommunicationError(1800), ProtocolError("garbage")):
            self.assertIs(refusal(e, "x", "y"), e)

    async def test_other_exceptions_are_left_to_the_web_room(self):
        self.state.build_info.update({"version": "22.05.8"})
        with self.assertRaises(KeyError):
            await run(failing(KeyError("bug")), self.call())


class ErrorEntryTests(unittest.TestCase):
    def test_forms(self):
        self.assertEqual(list(error_entry(2017, "d", "s")),
                         ["description", "error_number", "error", "source"])
        self.assertEqual(error_entry(2017, "d", "s", form="submit")["error_code"], 2017)
        self.assertEqual(error_entry(2053, form="short"),
                         {"error": "Requested reservation is invalid", "errno": 2053})
        self.assertEqual(error_entry(description="d", error="Not found")["error_number"], -1)
