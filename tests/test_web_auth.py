"""Authentication: every way in and every refusal, at header time (no body read, no RPC)."""

from __future__ import annotations

import os
import tempfile
import time

from hypothesis import HealthCheck, given, settings, strategies as st
from twisted.trial import unittest
from twisted.web.http_headers import Headers

from slurmrest.api.registry import load_operations
from slurmrest.web.auth import (AuthenticationFailed, Authenticator, IdentityRefused,
                                load_api_keys)
from slurmrest.web.routing import Router
from slurmrest.wire.credentials import TokenMinter
from tests.test_web_server import (KEY, Clientless, RecordingRequest, creds, exchange,
                                   expired_token, make_site, request)
from tests.memory_http import SiteClient

API_KEY = b"proxy-key-0123456789"


def headers(**kw) -> Headers:
    h = Headers()
    for name, value in kw.items():
        h.addRawHeader(name.replace("_", "-").encode(), value.encode() if isinstance(value, str) else value)
    return h


class AuthenticatorTests(unittest.TestCase):
    def setUp(self):
        self.minter = TokenMinter(KEY)
        self.auth = Authenticator(self.minter, api_keys=(b"other-key", API_KEY),
                                  proxy_users=frozenset({"root", "slurm"}))

    def test_own_token(self):
        token = self.minter.mint("alice")
        identity = self.auth.authenticate(headers(X_SLURM_USER_NAME="alice",
                                                  X_SLURM_USER_TOKEN=token))
        self.assertEqual((identity.user, identity.method), ("alice", "token"))
        self.assertEqual(identity.credential.token, token)
        self.assertNotIn(token, repr(identity))

    def test_no_credentials(self):
        self.assertRaises(AuthenticationFailed, self.auth.authenticate, headers())

    def test_name_only_and_token_only(self):
        token = self.minter.mint("alice")
        self.assertRaises(AuthenticationFailed, self.auth.authenticate,
                          headers(X_SLURM_USER_NAME="alice"))
        self.assertRaises(AuthenticationFailed, self.auth.authenticate,
                          headers(X_SLURM_USER_TOKEN=token))

    def test_garbage_expired_and_foreign_tokens(self):
        for token in ("garbage", expired_token("alice"),
                      TokenMinter(b"another-cluster-key-of-32-bytes!!").mint("alice")):
            with self.assertRaises(AuthenticationFailed) as cm:
                self.auth.authenticate(headers(X_SLURM_USER_NAME="alice", X_SLURM_USER_TOKEN=token))
            self.assertEqual(cm.exception.status, 401)
            self.assertNotIn(token, str(cm.exception))

    def test_exp_as_text_refused_every_time(self):
        # PyJWT takes "exp": "<digits>"; Slurm does not (and the second use once gave 500).
        import jwt
        token = jwt.encode({"exp": str(int(time.time()) + 60), "sun": "alice"}, KEY,
                           algorithm="HS256")
        for _ in range(2):
            with self.assertRaises(AuthenticationFailed) as cm:
                self.auth.authenticate(headers(X_SLURM_USER_NAME="alice",
                                               X_SLURM_USER_TOKEN=token))
            self.assertEqual(cm.exception.status, 401)

    def test_verified_tokens_remembered_until_they_expire(self):
        import jwt
        now = int(time.time())
        token = jwt.encode({"iat": now, "exp": now + 2, "sun": "alice"}, KEY, algorithm="HS256")
        h = headers(X_SLURM_USER_NAME="alice", X_SLURM_USER_TOKEN=token)
        self.auth.authenticate(h)
        self.assertIn(token, self.auth._seen)
        # Once the remembered claims say "expired", they are not trusted: the token is
        # checked again (here still valid, so its real claims come back).
        self.auth._seen[token] = (now - 1, dict(self.auth._seen[token][1], sun="mallory"))
        self.assertEqual(self.auth.authenticate(h).user, "alice")
        self.assertEqual(self.auth._seen[token][0], now + 2)
        expired = expired_token("alice")
        self.auth._seen[expired] = (now - 1, {"exp": now - 1, "sun": "alice"})
        self.assertRaises(AuthenticationFailed, self.auth.authenticate,
                          headers(X_SLURM_USER_NAME="alice", X_SLURM_USER_TOKEN=expired))
        self.assertNotIn(expired, self.auth._seen)
        # A refused token is never remembered.
        self.assertRaises(AuthenticationFailed, self.auth.authenticate,
                          headers(X_SLURM_USER_NAME="alice", X_SLURM_USER_TOKEN="x.y.z"))
        self.assertNotIn("x.y.z", self.auth._seen)

    def test_seen_tokens_bounded(self):
        self.auth.SEEN_TOKENS = 3
        for user in ("u1", "u2", "u3", "u4", "u5"):
            token = self.minter.mint(user)
            self.auth.authenticate(headers(X_SLURM_USER_NAME=user, X_SLURM_USER_TOKEN=token))
        self.assertEqual(len(self.auth._seen), 3)

    def test_token_of_another_user(self):
        token = self.minter.mint("bob")
        with self.assertRaises(IdentityRefused) as cm:
            self.auth.authenticate(headers(X_SLURM_USER_NAME="alice", X_SLURM_USER_TOKEN=token))
        self.assertEqual(cm.exception.status, 403)

    def test_proxy_token(self):
        for proxy in ("root", "slurm"):
            token = self.minter.mint(proxy)
            identity = self.auth.authenticate(headers(X_SLURM_USER_NAME="alice",
                                                      X_SLURM_USER_TOKEN=token))
            self.assertEqual(identity.user, "alice")
            self.assertEqual(identity.credential.user_name, "alice")

    def test_without_the_key_tokens_pass_through(self):
        auth = Authenticator(None)
        identity = auth.authenticate(headers(X_SLURM_USER_NAME="alice", X_SLURM_USER_TOKEN="opaque"))
        self.assertEqual(identity.credential.token, "opaque")

    def test_api_key_with_user_name_or_id(self):
        identity = self.auth.authenticate(headers(X_SLURM_API_KEY=API_KEY, X_SLURM_USER_NAME="root"))
        self.assertEqual((identity.user, identity.method), ("root", "api-key"))
        self.assertEqual(self.minter.verify(identity.credential.token)["sun"], "root")
        identity = self.auth.authenticate(headers(X_SLURM_API_KEY=API_KEY, X_SLURM_USER_ID="0"))
        self.assertEqual(identity.user, "root")

    def test_api_key_refusals(self):
        with self.assertRaises(AuthenticationFailed) as cm:
            self.auth.authenticate(headers(X_SLURM_API_KEY=b"wrong", X_SLURM_USER_NAME="root"))
        self.assertEqual(cm.exception.status, 401)
        self.assertRaises(AuthenticationFailed, self.auth.authenticate,
                          headers(X_SLURM_API_KEY=API_KEY))
        with self.assertRaises(IdentityRefused):
            self.auth.authenticate(headers(X_SLURM_API_KEY=API_KEY,
                                           X_SLURM_USER_NAME="no-such-user-xyz"))
        with self.assertRaises(IdentityRefused):
            self.auth.authenticate(headers(X_SLURM_API_KEY=API_KEY, X_SLURM_USER_NAME="root",
                                           X_SLURM_USER_ID="12345"))

    def test_api_key_without_configured_keys(self):
        auth = Authenticator(self.minter)
        self.assertRaises(AuthenticationFailed, auth.authenticate,
                          headers(X_SLURM_API_KEY=b"", X_SLURM_USER_NAME="root"))

    def test_api_keys_need_the_jwt_key(self):
        self.assertRaises(ValueError, Authenticator, None, api_keys=(API_KEY,))

    def test_local_identity(self):
        identity = self.auth.authenticate(headers(), local_user="alice")
        self.assertEqual((identity.user, identity.method), ("alice", "local"))
        self.assertEqual(self.minter.verify(identity.credential.token)["sun"], "alice")
        # Explicit credentials still win over the local identity.
        token = self.minter.mint("bob")
        identity = self.auth.authenticate(headers(X_SLURM_USER_NAME="bob", X_SLURM_USER_TOKEN=token),
                                          local_user="alice")
        self.assertEqual(identity.user, "bob")


class ApiKeyFileTests(unittest.TestCase):
    def write(self, text, mode):
        fd, path = tempfile.mkstemp()
        self.addCleanup(os.unlink, path)
        os.write(fd, text)
        os.close(fd)
        os.chmod(path, mode)
        return path

    def test_keys_and_comments(self):
        path = self.write(b"# proxies\nkey-one\n\n  key-two  # the second\n", 0o600)
        self.assertEqual(load_api_keys(path), (b"key-one", b"key-two"))

    def test_world_readable_refused(self):
        path = self.write(b"key\n", 0o644)
        with self.assertRaises(PermissionError) as cm:
            load_api_keys(path)
        self.assertNotIn("key\n", str(cm.exception))

    def test_empty_refused(self):
        self.assertRaises(ValueError, load_api_keys, self.write(b"# none\n", 0o600))


class Everywhere(Clientless):
    """A client that would let any handler run: it must never be bound for refused requests."""


_ROUTES = [(r.template, r.operation.method) for r in Router(load_operations()).routes]
_PATHS = [("/openapi/v3", "GET"), ("/openapi", "GET"), ("/", "GET"), ("/nothing", "DELETE")]

_bad_credentials = st.one_of(
    st.just({}),
    st.builds(lambda u: {"X-SLURM-USER-NAME": u}, st.sampled_from(["alice", "root", ""])),
    st.builds(lambda t: {"X-SLURM-USER-TOKEN": t}, st.text("abcdef.", min_size=1, max_size=40)),
    st.builds(lambda t: {"X-SLURM-USER-NAME": "alice", "X-SLURM-USER-TOKEN": t},
              st.text("abcdefXYZ0123456789._-", min_size=1, max_size=80)),
    st.just({"X-SLURM-USER-NAME": "alice", "X-SLURM-USER-TOKEN": expired_token("alice")}),
    st.just({"X-SLURM-USER-NAME": "alice",
             "X-SLURM-USER-TOKEN": TokenMinter(b"wrong-key-wrong-key-wrong-key-32").mint("alice")}),
    st.builds(lambda k: {"X-SLURM-API-KEY": k, "X-SLURM-USER-NAME": "alice"},
              st.text("abcdefghij0123456789", min_size=0, max_size=30)),
)


class NoCredentialsNoBodyTests(unittest.TestCase):
    @settings(max_examples=200, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(route=st.sampled_from(_ROUTES + _PATHS), bad=_bad_credentials,
           announced=st.integers(0, 10_000_000), chunked=st.booleans())
    def test_refused_before_the_body(self, route, bad, announced, chunked):
        """For every registered path and method, bad credentials → 401 from the headers
        alone: no handler runs (the client is never bound), no body byte is read, and the
        connection closes when a body was announced."""
        template, method = route
        path = template.replace("{", "x").replace("}", "")
        ctld = Everywhere()
        site = make_site(registry=load_operations(), ctld=ctld, api_keys=(b"the-real-key",))
        RecordingRequest.made = []
        h = dict(bad, **{"Content-Type": "application/json"})
        body = b'{"this would be a 400": '  # never complete, never parsed
        if chunked:
            h["Transfer-Encoding"] = "chunked"
            raw = request(method, path, h) + b"%x\r\n%s\r\n" % (len(body), body)
        else:
            raw = request(method, path, h, body, length=max(announced, len(body)))
        (r,), transport = exchange(site, raw)
        self.assertEqual(r.status, 401, (method, path, bad))
        self.assertEqual(r.json()["errors"][0]["error"], "Authentication failure")
        self.assertEqual(ctld.bound, [])
        self.assertEqual(RecordingRequest.made[0].body_seen, [])
        self.assertTrue(transport.disconnecting)
        for secret in bad.values():
            if len(secret) > 8:
                self.assertNotIn(secret.encode(), transport.value())


class AuthOverHttpTests(unittest.TestCase):
    def setUp(self):
        self.site = make_site(api_keys=(API_KEY,))

    async def status(self, h):
        return await SiteClient(self.site).request("GET", "/slurm/v1/echo", headers=h)

    async def test_statuses(self):
        self.assertEqual((await self.status(creds("alice"))).status, 200)
        self.assertEqual((await self.status({})).status, 401)
        expired = {"X-SLURM-USER-NAME": "alice", "X-SLURM-USER-TOKEN": expired_token()}
        self.assertEqual((await self.status(expired)).status, 401)
        other = creds("bob")
        other["X-SLURM-USER-NAME"] = "alice"
        r = await self.status(other)
        self.assertEqual(r.status, 403)
        self.assertNotIn(other["X-SLURM-USER-TOKEN"].encode(), r.body)
        proxied = creds("root")
        proxied["X-SLURM-USER-NAME"] = "alice"
        self.assertEqual((await self.status(proxied)).json()["user"], "alice")
        r = await self.status({"X-SLURM-API-KEY": API_KEY.decode(), "X-SLURM-USER-NAME": "root"})
        self.assertEqual((r.status, r.json()["user"]), (200, "root"))
        wrong_key = {"X-SLURM-API-KEY": "nope", "X-SLURM-USER-NAME": "root"}
        self.assertEqual((await self.status(wrong_key)).status, 401)

    def test_no_body_refusal_keeps_the_connection(self):
        rs, transport = exchange(self.site, request("GET", "/slurm/v1/echo", {}) +
                                 request("GET", "/slurm/v1/echo", creds()))
        self.assertEqual([r.status for r in rs], [401, 200])
        self.assertFalse(transport.disconnecting)
