"""Short-lived JWT access tokens (HS256, PyJWT) and the principal they carry."""

from __future__ import annotations

import time
import uuid

import jwt
import msgspec

from core.errors import Unauthorized

# Roles from least to most powerful (``app.accounts.tables.ROLES`` lists the same).
RANKS = {"viewer": 0, "moderator": 1, "admin": 2}


class Principal(msgspec.Struct, frozen=True):
    """Who is calling: the opaque user id, the public handle and the role (the role at token
    issue until ``app.auth.principals`` replaces it with the current one)."""

    id: uuid.UUID
    handle: str
    role: str
    expires_at: int | None = None  # the token's ``exp``, when it came from a token

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def outranks(self, role: str) -> bool:
        """Whether this principal's role is above ``role``: only then may it restrict that user."""
        return RANKS.get(self.role, -1) > RANKS.get(role, len(RANKS))


class AccessTokens:
    def __init__(self, secret: str, issuer: str, lifetime_seconds: int) -> None:
        self._secret = secret
        self._issuer = issuer
        self.lifetime_seconds = lifetime_seconds

    def issue(self, principal: Principal) -> str:
        now = int(time.time())
        claims = {
            "sub": str(principal.id),
            "handle": principal.handle,
            "role": principal.role,
            "iss": self._issuer,
            "iat": now,
            "exp": now + self.lifetime_seconds,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                issuer=self._issuer,
                options={"require": ["sub", "exp", "iat", "iss"]},
            )
            return Principal(
                id=uuid.UUID(claims["sub"]),
                handle=claims["handle"],
                role=claims["role"],
                expires_at=int(claims["exp"]),
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("the access token has expired", code="token_expired") from exc
        except (jwt.InvalidTokenError, KeyError, ValueError) as exc:
            raise Unauthorized("the access token is not valid", code="invalid_token") from exc
