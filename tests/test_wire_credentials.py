"""JWT credentials and the HS256 token minter."""

import os

import jwt
from twisted.trial import unittest

from slurmrest.wire.credentials import Credential, InvalidToken, TokenMinter

KEY = b"0123456789abcdef0123456789abcdef\n"


class Clock:
    def __init__(self, now=1_700_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


class CredentialTests(unittest.TestCase):
    def test_repr_hides_token(self):
        credential = Credential("secret.token.value", "alice")
        self.assertNotIn("secret", repr(credential))
        self.assertNotIn("secret", str(credential))
        self.assertIn("alice", repr(credential))

    def test_frozen_and_hashable(self):
        a, b = Credential("t", "alice"), Credential("t", "alice")
        self.assertEqual(a, b)
        self.assertEqual(hash(a), hash(b))
        with self.assertRaises(Exception):
            a.token = "other"


class TokenMinterTests(unittest.TestCase):
    def setUp(self):
        self.clock = Clock()
        self.minter = TokenMinter(KEY, lifespan=600, clock=self.clock)

    def test_claims(self):
        token = self.minter.mint("alice")
        claims = jwt.decode(token, KEY, algorithms=["HS256"], options={"verify_exp": False})
        self.assertEqual(claims, {"iat": 1_700_000_000, "exp": 1_700_000_600, "sun": "alice"})
        self.assertEqual(jwt.get_unverified_header(token)["alg"], "HS256")

    def test_whole_file_is_the_key(self):
        path = self.mktemp()
        with open(path, "wb") as f:
            f.write(KEY)
        minter = TokenMinter.from_file(path)
        token = minter.mint("bob")
        # The trailing newline is part of the key, as in slurmctld.
        jwt.decode(token, KEY, algorithms=["HS256"])
        self.assertRaises(jwt.InvalidSignatureError, jwt.decode, token, KEY.strip(),
                          algorithms=["HS256"])

    def test_cache_until_half_life(self):
        first = self.minter.mint("alice")
        self.clock.now += 299
        self.assertEqual(self.minter.mint("alice"), first)
        self.assertNotEqual(self.minter.mint("bob"), first)
        self.clock.now += 2
        self.assertNotEqual(self.minter.mint("alice"), first)

    def test_explicit_lifespan(self):
        token = self.minter.mint("alice", lifespan=60)
        claims = jwt.decode(token, KEY, algorithms=["HS256"], options={"verify_exp": False})
        self.assertEqual(claims["exp"] - claims["iat"], 60)

    def test_credential_for(self):
        credential = self.minter.credential_for("alice")
        self.assertEqual(credential.user_name, "alice")
        self.assertEqual(credential.token, self.minter.mint("alice"))

    def test_verify_good(self):
        minter = TokenMinter(KEY)
        claims = minter.verify(minter.mint("alice"))
        self.assertEqual(claims["sun"], "alice")

    def test_verify_username_claim(self):
        token = jwt.encode({"exp": 2**40, "username": "bob"}, KEY, algorithm="HS256")
        self.assertEqual(TokenMinter(KEY).verify(token)["username"], "bob")

    def test_verify_ignores_iat_nbf_in_future(self):
        token = jwt.encode({"exp": 2**40, "iat": 2**39, "nbf": 2**39, "sun": "a"},
                           KEY, algorithm="HS256")
        TokenMinter(KEY).verify(token)

    def assertRefused(self, token, why):
        e = self.assertRaises(InvalidToken, TokenMinter(KEY).verify, token)
        self.assertIn(why, str(e))
        if isinstance(token, str) and token:
            self.assertNotIn(token, str(e))

    def test_verify_refusals(self):
        self.assertRefused(jwt.encode({"exp": 1, "sun": "a"}, KEY, algorithm="HS256"),
                           "expired")
        self.assertRefused(jwt.encode({"sun": "a"}, KEY, algorithm="HS256"), "exp")
        self.assertRefused(jwt.encode({"exp": 2**40}, KEY, algorithm="HS256"), "user")
        self.assertRefused(jwt.encode({"exp": 2**40, "sun": "a"}, b"other-key-of-enough-length!!!!!!",
                                      algorithm="HS256"), "signature")
        self.assertRefused(jwt.encode({"exp": 2**40, "sun": "a"}, KEY, algorithm="HS512"),
                           "HS256")
        self.assertRefused("not-a-token", "malformed")
        self.assertRefused("", "no token")

    def test_repr_hides_key(self):
        self.assertNotIn("0123", repr(self.minter))

    def test_refuses_empty_key(self):
        self.assertRaises(ValueError, TokenMinter, b"")
