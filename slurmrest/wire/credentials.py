"""auth/jwt credentials: what goes in the credential slot of a request, and HS256 tokens.

slurmctld checks (§2.3 of the protocol reference): the signature with the cluster's
``jwt_key`` (the whole file, trailing newline included), ``exp`` not in the past, and the user
named by ``sun`` (or ``username``). It looks at nothing else. A token may carry a different
``user_name`` beside it only if the token's user is root or SlurmUser (proxy mode).

Tokens are secrets: nothing here puts one in a ``repr``, a log line or an exception message.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import jwt

DEFAULT_LIFESPAN = 1800  # DEFAULT_AUTH_TOKEN_LIFESPAN in Slurm's read_config.h
# A cached token is reused while at least this share of its lifespan remains, so a request
# never leaves with a token about to expire mid-flight.
REUSE_WHILE_REMAINING = 0.5


class InvalidToken(Exception):
    """A token that slurmctld would refuse (bad signature, expired, no user, …).

    The message says why, never what the token was.
    """


@dataclass(frozen=True)
class Credential:
    """The auth/jwt credential of one request: a token and the user to act as.

    ``user_name`` None means "the user named in the token".
    """

    token: str = field(repr=False)
    user_name: str | None = None

    def __repr__(self):
        return f"Credential(user_name={self.user_name!r}, token=<hidden>)"

    __str__ = __repr__


class TokenMinter:
    """Mints and checks HS256 tokens with the cluster's ``jwt_key``."""

    def __init__(self, key: bytes, lifespan: int = DEFAULT_LIFESPAN, *, clock=time.time):
        if not key:
            raise ValueError("empty JWT key")
        if lifespan <= 0:
            raise ValueError("lifespan must be positive")
        self._key = bytes(key)
        self.lifespan = lifespan
        self._clock = clock
        self._cache: dict[tuple[str, int], tuple[str, float]] = {}

    def __repr__(self):
        return f"TokenMinter(lifespan={self.lifespan}, key=<hidden>)"

    @classmethod
    def from_file(cls, path: str, lifespan: int = DEFAULT_LIFESPAN, **kwargs) -> "TokenMinter":
        """The key is the file's entire contents, as slurmctld reads it."""
        with open(path, "rb") as f:
            return cls(f.read(), lifespan, **kwargs)

    def mint(self, user_name: str, lifespan: int | None = None) -> str:
        """A token for ``user_name`` (claims ``iat``, ``exp``, ``sun``); reused while fresh."""
        if not user_name:
            raise ValueError("a token needs a user name")
        lifespan = self.lifespan if lifespan is None else int(lifespan)
        if lifespan <= 0:
            raise ValueError("lifespan must be positive")
        now = self._clock()
        cached = self._cache.get((user_name, lifespan))
        if cached is not None and cached[1] - now >= lifespan * REUSE_WHILE_REMAINING:
            return cached[0]
        issued = int(now)
        expires = issued + lifespan
        token = jwt.encode(
            {"iat": issued, "exp": expires, "sun": user_name}, self._key, algorithm="HS256"
        )
        if len(self._cache) > 4096:
            self._forget_expired(now)
        self._cache[(user_name, lifespan)] = (token, expires)
        return token

    def credential_for(self, user_name: str, lifespan: int | None = None) -> Credential:
        """A credential acting as ``user_name`` with a token of its own."""
        return Credential(self.mint(user_name, lifespan), user_name)

    def verify(self, token: str) -> dict:
        """The token's claims if slurmctld would accept it, else ``InvalidToken``.

        Checked like ``auth_p_verify``: HS256 signature with this key, ``exp`` present and not
        past, a user in ``sun`` or ``username``. ``iat``/``nbf``/``aud`` are not Slurm's
        business and are not checked.
        """
        if not isinstance(token, str) or not token:
            raise InvalidToken("no token")
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                options={
                    "require": ["exp"],
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                    "verify_iss": False,
                },
                leeway=0,
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("token expired") from None
        except jwt.MissingRequiredClaimError:
            raise InvalidToken("token has no exp claim") from None
        except jwt.InvalidSignatureError:
            raise InvalidToken("token signature does not match the cluster key") from None
        except jwt.InvalidAlgorithmError:
            raise InvalidToken("token is not signed with HS256") from None
        except jwt.PyJWTError as e:
            raise InvalidToken(f"malformed token ({type(e).__name__})") from None
        exp = claims.get("exp")
        if not isinstance(exp, int) or isinstance(exp, bool):
            # PyJWT converts "123"; Slurm reads exp as an integer grant and refuses others.
            raise InvalidToken("token's exp claim is not an integer")
        user = claims.get("sun") or claims.get("username")
        if not isinstance(user, str) or not user:
            raise InvalidToken("token names no user (no sun or username claim)")
        return claims

    def _forget_expired(self, now):
        for key, (_, expires) in list(self._cache.items()):
            if expires - now < self.lifespan * REUSE_WHILE_REMAINING:
                del self._cache[key]


def token_user(claims: dict) -> str | None:
    """The user a token speaks for (``sun``, else ``username``), as slurmctld reads it."""
    user = claims.get("sun") or claims.get("username")
    return user if isinstance(user, str) and user else None
