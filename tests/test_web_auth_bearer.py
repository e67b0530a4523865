"""``Authorization: Bearer <jwt>`` (slurmrestd 23.02+): the rules as properties, over any
users, header spellings and keys (Hypothesis), with and without the cluster's key."""

from __future__ import annotations

import jwt
from hypothesis import given, settings, strategies as st
from twisted.trial import unittest
from twisted.web.http_headers import Headers

from slurmrest.web.auth import (AuthenticationFailed, Authenticator, IdentityRefused,
                                bearer_token)
from slurmrest.wire.credentials import TokenMinter

KEY = b"test-jwt-key-of-32-bytes-exactly"
PROXIES = frozenset({"root", "slurm"})

users = st.sampled_from(["alice", "bob", "root", "slurm", "carol"])
#: "Bearer" as clients write it: the scheme is case-insensitive (RFC 6750, RFC 9110).
bearer_schemes = st.sampled_from(["Bearer", "bearer", "BEARER", "bEaReR"])
other_schemes = st.sampled_from(["Basic", "Token", "JWT", "Digest", "Bearer:"])


def headers(pairs) -> Headers:
    h = Headers()
    for name, value in pairs.items():
        if value is not None:
            h.addRawHeader(name.encode(), value.encode())
    return h


def outcome(authenticator, pairs):
    """The identity's user, or the refusal's status."""
    try:
        return authenticator.authenticate(headers(pairs)).user
    except AuthenticationFailed as e:
        return e.status


class BearerRules(unittest.TestCase):
    def setUp(self):
        self.minter = TokenMinter(KEY)
        self.auth = Authenticator(self.minter, proxy_users=PROXIES)
        self.keyless = Authenticator(None)

    @settings(max_examples=200, deadline=None)
    @given(owner=users, name=st.none() | users, scheme=bearer_schemes)
    def test_the_user_is_the_tokens_unless_named_and_allowed(self, owner, name, scheme):
        token = self.minter.mint(owner)
        got = outcome(self.auth, {"Authorization": f"{scheme} {token}",
                                  "X-SLURM-USER-NAME": name})
        if name is None or name == owner or owner in PROXIES:
            self.assertEqual(got, name or owner)
        else:
            self.assertEqual(got, IdentityRefused.status)  # 403: not the token's to ask

    @settings(max_examples=100, deadline=None)
    @given(owner=users, name=users, scheme=bearer_schemes)
    def test_bearer_and_x_slurm_user_token_are_one_credential(self, owner, name, scheme):
        token = self.minter.mint(owner)
        bearer = outcome(self.auth, {"Authorization": f"{scheme} {token}",
                                     "X-SLURM-USER-NAME": name})
        classic = outcome(self.auth, {"X-SLURM-USER-TOKEN": token, "X-SLURM-USER-NAME": name})
        both = outcome(self.auth, {"Authorization": f"{scheme} {token}",
                                   "X-SLURM-USER-TOKEN": token, "X-SLURM-USER-NAME": name})
        self.assertEqual(bearer, classic)
        self.assertEqual(both, classic)

    @settings(max_examples=100, deadline=None)
    @given(owner=users, other=users, name=st.none() | users)
    def test_two_different_tokens_are_refused(self, owner, other, name):
        first, second = self.minter.mint(owner), self.minter.mint(other, lifespan=61)
        got = outcome(self.auth, {"Authorization": f"Bearer {first}",
                                  "X-SLURM-USER-TOKEN": second, "X-SLURM-USER-NAME": name})
        self.assertEqual(got, 401)

    @settings(max_examples=100, deadline=None)
    @given(owner=users, name=st.none() | users,
           key=st.binary(min_size=32, max_size=64).filter(lambda k: k != KEY))
    def test_a_token_of_another_key_is_refused_whatever_the_name(self, owner, name, key):
        forged = TokenMinter(key).mint(owner)
        self.assertEqual(outcome(self.auth, {"Authorization": f"Bearer {forged}",
                                             "X-SLURM-USER-NAME": name}), 401)

    @settings(max_examples=50, deadline=None)
    @given(owner=users, scheme=other_schemes)
    def test_other_schemes_are_no_credentials(self, owner, scheme):
        token = self.minter.mint(owner)
        self.assertIsNone(bearer_token(headers({"Authorization": f"{scheme} {token}"})))
        self.assertEqual(outcome(self.auth, {"Authorization": f"{scheme} {token}"}), 401)

    @settings(max_examples=100, deadline=None)
    @given(owner=users, name=st.none() | users)
    def test_without_the_key_the_name_or_the_tokens_user_goes_to_slurmctld(self, owner, name):
        # No key: nothing verified here (slurmctld does), the user as the request says.
        token = self.minter.mint(owner)
        identity = self.keyless.authenticate(headers({"Authorization": f"Bearer {token}",
                                                      "X-SLURM-USER-NAME": name}))
        self.assertEqual(identity.user, name or owner)
        self.assertEqual(identity.credential.token, token)
        self.assertEqual(identity.method, "token")

    def test_a_token_that_names_nobody_needs_a_name(self):
        nameless = jwt.encode({"exp": 2**31}, KEY, algorithm="HS256")
        self.assertEqual(outcome(self.keyless, {"Authorization": f"Bearer {nameless}"}), 401)
        self.assertEqual(outcome(self.keyless, {"Authorization": "Bearer not.a.jwt"}), 401)
        self.assertEqual(outcome(self.keyless, {"Authorization": f"Bearer {nameless}",
                                                "X-SLURM-USER-NAME": "alice"}), "alice")
        self.assertEqual(outcome(self.auth, {"Authorization": "Bearer"}), 401)
        self.assertEqual(outcome(self.auth, {"Authorization": "Bearer   "}), 401)
