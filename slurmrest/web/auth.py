"""Who is asking: authentication from the request headers alone (the body is never needed).

Three ways in, as slurmrestd offers them and one more:

- ``X-SLURM-USER-NAME`` + ``X-SLURM-USER-TOKEN``: the caller's own JWT, passed on to
  slurmctld. When we hold the cluster's ``jwt_key`` we check it first (signature, expiry,
  user) and refuse a bad one without any RPC. ``Authorization: Bearer <jwt>`` is the same
  token, as slurmrestd 23.02+ takes it; the user is then the token's own (``sun``) unless
  ``X-SLURM-USER-NAME`` names one. Both token headers at once must carry the same token.
- ``X-SLURM-API-KEY`` + ``X-SLURM-USER-NAME`` or ``X-SLURM-USER-ID``: an authenticating proxy
  in front of us vouches for the user; we mint that user's short-lived token.
- local: the peer's own identity (inet mode: the process user; a UNIX-socket listener: the
  peer's credentials); we mint that user's token.

Nothing here writes a token or a key into a message or a log line.
"""

from __future__ import annotations

import hmac
import os
import pwd
import stat
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable

import jwt

from slurmrest.wire.credentials import Credential, InvalidToken, TokenMinter, token_user

USER_NAME = b"X-SLURM-USER-NAME"
USER_ID = b"X-SLURM-USER-ID"
USER_TOKEN = b"X-SLURM-USER-TOKEN"
API_KEY = b"X-SLURM-API-KEY"
AUTHORIZATION = b"Authorization"


class AuthenticationFailed(Exception):
    """401: no usable credentials. The text is safe to show (it never quotes a secret)."""

    status = 401


class IdentityRefused(AuthenticationFailed):
    """403: genuine credentials that do not grant the identity asked for."""

    status = 403


@dataclass(frozen=True)
class Identity:
    user: str
    credential: Credential = field(repr=False)
    #: "token", "api-key" or "local".
    method: str


def load_api_keys(path: str) -> tuple[bytes, ...]:
    """One key per line, ``#`` starts a comment. The file must not be readable by others."""
    st = os.stat(path)
    if st.st_mode & (stat.S_IROTH | stat.S_IWOTH):
        raise PermissionError(f"{path}: API key file is accessible by other users "
                              f"(mode {stat.S_IMODE(st.st_mode):04o}); chmod o-rwx it")
    keys = []
    with open(path, "rb") as f:
        for line in f:
            key = line.split(b"#", 1)[0].strip()
            if key:
                keys.append(key)
    if not keys:
        raise ValueError(f"{path}: no API keys in the file")
    return tuple(keys)


def _header(headers, name: bytes) -> str | None:
    values = headers.getRawHeaders(name)
    if not values:
        return None
    try:
        return values[0].decode("ascii").strip()
    except UnicodeDecodeError:
        raise AuthenticationFailed(f"{name.decode()} is not ASCII") from None


def bearer_token(headers) -> str | None:
    """The token of ``Authorization: Bearer <token>`` (the scheme in any case), "" for a
    Bearer without one, None for no Authorization header or another scheme."""
    value = _header(headers, AUTHORIZATION)
    if value is None:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def _claims(token: str) -> dict:
    """A token's claims unverified (we hold no key: slurmctld verifies it)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise AuthenticationFailed("invalid token: not a JWT") from None
    return claims if isinstance(claims, dict) else {}


class Authenticator:
    """Turns request headers (and the peer's local identity, if any) into an ``Identity``."""

    #: How many verified tokens are remembered (least recently used ones are forgotten).
    SEEN_TOKENS = 4096

    def __init__(self, minter: TokenMinter | None = None, *, api_keys: tuple[bytes, ...] = (),
                 proxy_users: frozenset[str] = frozenset({"root"}),
                 local_credential: Callable[[str], Credential] | None = None):
        self.minter = minter
        self.api_keys = tuple(api_keys)
        if self.api_keys and minter is None:
            raise ValueError("API keys need the cluster's jwt_key (to mint users' tokens)")
        #: Token users allowed to act for another user (root and SlurmUser, as slurmctld).
        self.proxy_users = frozenset(proxy_users)
        self._local_credential = local_credential
        self._seen: OrderedDict[str, tuple[float, dict]] = OrderedDict()

    def authenticate(self, headers, local_user: str | None = None) -> Identity:
        if headers.hasHeader(API_KEY):
            return self._by_api_key(headers)
        if headers.hasHeader(USER_TOKEN) or headers.hasHeader(AUTHORIZATION):
            return self._by_token(headers)
        if local_user is not None:
            return self._local(local_user)
        raise AuthenticationFailed("no credentials: send X-SLURM-USER-NAME and X-SLURM-USER-TOKEN")

    def _by_token(self, headers) -> Identity:
        token = _header(headers, USER_TOKEN)
        bearer = bearer_token(headers) if headers.hasHeader(AUTHORIZATION) else None
        user = _header(headers, USER_NAME)
        if token is not None and bearer is not None and token != bearer:
            raise AuthenticationFailed("X-SLURM-USER-TOKEN and Authorization: Bearer "
                                       "carry different tokens")
        if token is None and bearer is None:
            raise AuthenticationFailed("Authorization: only the Bearer scheme is accepted")
        if token is None:
            token = bearer
            if not token:
                raise AuthenticationFailed("empty Authorization: Bearer token")
            if not user:
                # slurmrestd 23.02+: the user is the token's own.
                claims = self._verified(token) if self.minter is not None else _claims(token)
                user = token_user(claims)
                if not user:
                    raise AuthenticationFailed("the token names no user: send "
                                               "X-SLURM-USER-NAME")
        if not token:
            raise AuthenticationFailed("empty X-SLURM-USER-TOKEN")
        if not user:
            raise AuthenticationFailed("X-SLURM-USER-TOKEN needs X-SLURM-USER-NAME")
        if self.minter is not None:
            owner = token_user(self._verified(token))
            if owner != user and owner not in self.proxy_users:
                raise IdentityRefused(
                    f"the token is not {user}'s and its user may not act for others")
        return Identity(user, Credential(token, user), "token")

    def _verified(self, token: str) -> dict:
        """The token's claims; a token seen before is not checked again until it expires
        (a client sends the same token with every request; HS256 checks are not free)."""
        seen = self._seen.get(token)
        if seen is not None:
            expires, claims = seen
            if expires > time.time():
                self._seen.move_to_end(token)
                return claims
            del self._seen[token]
        try:
            claims = self.minter.verify(token)
        except InvalidToken as e:
            raise AuthenticationFailed(f"invalid token: {e}") from None
        try:
            # PyJWT takes an "exp" of "123" (it converts); we keep the number it meant.
            expires = float(claims["exp"])
        except (KeyError, TypeError, ValueError, OverflowError):
            return claims  # checked, but not kept: checked again next time
        self._seen[token] = (expires, claims)
        if len(self._seen) > self.SEEN_TOKENS:
            self._seen.popitem(last=False)
        return claims

    def _by_api_key(self, headers) -> Identity:
        offered = headers.getRawHeaders(API_KEY)[0].strip()
        # Compare with every key, always: the time taken says nothing about which matched.
        matched = False
        for key in self.api_keys:
            matched |= hmac.compare_digest(offered, key)
        if not matched:
            raise AuthenticationFailed("invalid API key")
        user = _header(headers, USER_NAME)
        uid = _header(headers, USER_ID)
        try:
            if user:
                entry = pwd.getpwnam(user)
                if uid and str(entry.pw_uid) != uid:
                    raise IdentityRefused("X-SLURM-USER-ID does not match X-SLURM-USER-NAME")
            elif uid:
                user = pwd.getpwuid(int(uid)).pw_name
            else:
                raise AuthenticationFailed("an API key needs X-SLURM-USER-NAME or X-SLURM-USER-ID")
        except (KeyError, ValueError):
            raise IdentityRefused("no such user") from None
        return Identity(user, self.minter.credential_for(user), "api-key")

    def _local(self, user: str) -> Identity:
        if self._local_credential is not None:
            credential = self._local_credential(user)
            return Identity(credential.user_name or user, credential, "local")
        if self.minter is None:
            raise AuthenticationFailed("local authentication needs the cluster's jwt_key")
        return Identity(user, self.minter.credential_for(user), "local")
