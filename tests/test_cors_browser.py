"""CORS for browser portals, tested with a real browser: Debian's headless Chromium loads a
page from one loopback origin and calls our API (on another) with ``fetch``, the way a
portal does: with the user's token in headers, so the browser sends a preflight first.
From an allowed origin the call goes through (the preflight answered 204 before
authentication); from another origin the browser refuses it."""

from __future__ import annotations

import json
import os
import shutil
import tempfile

from twisted.internet import defer, protocol, reactor
from twisted.web import resource, server

from tests.test_operating_live import OperatingBase, value

CHROMIUM = "/usr/bin/chromium"
#: What works here (the machine's notes): no sandbox as root, no GPU, no network chatter.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage")

PAGE = """<!doctype html><html><body><script>
async function call(headers) {
  try {
    const r = await fetch(%(api)s + "/slurm/v0.0.38/ping", {headers});
    const doc = await r.json();
    return {status: r.status, ping: doc.pings ? doc.pings[0].ping : null};
  } catch (e) {
    return {error: String(e)};
  }
}
(async () => {
  const result = {
    token: await call({"X-SLURM-USER-NAME": "alice", "X-SLURM-USER-TOKEN": %(token)s}),
    bearer: await call({"Authorization": "Bearer " + %(token)s}),
  };
  await fetch("/result", {method: "POST", body: JSON.stringify(result)});
})();
</script></body></html>"""


class Page(resource.Resource):
    """The portal: its page, and /result, where the page posts what fetch gave it."""

    isLeaf = True

    def __init__(self, html: str):
        super().__init__()
        self.html = html.encode()
        self.result = defer.Deferred()

    def render_GET(self, request):
        request.setHeader(b"Content-Type", b"text/html; charset=utf-8")
        return self.html

    def render_POST(self, request):
        if not self.result.called:
            self.result.callback(json.loads(request.content.read()))
        return b""


class Browser(protocol.ProcessProtocol):
    def __init__(self):
        self.ended = defer.Deferred()
        self.err = b""

    def errReceived(self, data):
        self.err = (self.err + data)[-4000:]

    def processEnded(self, reason):
        self.ended.callback(None)


class CorsBrowserTests(OperatingBase):
    timeout = 120

    async def test_allowed_origin_calls_the_api(self):
        # The allowed origin is known only once the page listens: reserve its port first.
        from tests.test_server_live import free_port
        origin = free_port()
        (base,) = await self.start(["-f", self.cluster.slurm_conf, "-l", "127.0.0.1:0",
                                    "--cors-origin", f"http://127.0.0.1:{origin}"])
        page = Page(PAGE % {"api": json.dumps(base), "token": json.dumps(self.alice)})
        result = await self.open_on(page, origin)
        self.assertEqual(result["token"], {"status": 200, "ping": "UP"}, result)
        self.assertEqual(result["bearer"], {"status": 200, "ping": "UP"}, result)
        s = await self.scrape(base + "/metrics")
        self.assertGreaterEqual(value(s, "slurmrest_requests_total", operation="preflight",
                                      method="OPTIONS", status="204"), 1)
        self.assertEqual(value(s, "slurmrest_requests_total", operation="slurm_v0_0_38_ping",
                               method="GET", status="200"), 2)

    async def test_other_origin_is_refused_by_the_browser(self):
        from tests.test_server_live import free_port
        origin, allowed = free_port(), free_port()
        (base,) = await self.start(["-f", self.cluster.slurm_conf, "-l", "127.0.0.1:0",
                                    "--cors-origin", f"http://127.0.0.1:{allowed}"])
        page = Page(PAGE % {"api": json.dumps(base), "token": json.dumps(self.alice)})
        result = await self.open_on(page, origin)
        for call in ("token", "bearer"):
            self.assertIn("error", result[call], result)  # TypeError: Failed to fetch
        s = await self.scrape(base + "/metrics")
        self.assertGreaterEqual(value(s, "slurmrest_requests_total", operation="none",
                                      method="OPTIONS", status="403"), 1)
        # The browser never sent the call itself: its preflight was refused.
        self.assertEqual(value(s, "slurmrest_requests_total", operation="slurm_v0_0_38_ping",
                               method="GET", status="200"), 0)

    async def open_on(self, page: Page, origin_port: int) -> dict:
        port = reactor.listenTCP(origin_port, server.Site(page), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.assertTrue(os.path.exists(CHROMIUM), "Debian's chromium: scripts/setup installs it")
        profile = tempfile.mkdtemp(prefix="slurmrest-chromium-")
        self.addCleanup(shutil.rmtree, profile, True)
        browser = Browser()
        process = reactor.spawnProcess(
            browser, CHROMIUM, [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                                f"http://127.0.0.1:{origin_port}/"], env=dict(os.environ))
        try:
            return await page.result
        finally:
            if process.pid is not None:
                process.signalProcess("KILL")  # ours, by its pid
            await browser.ended
