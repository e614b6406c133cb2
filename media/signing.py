"""Short-lived signed URLs for private videos' media.

The signature is a JWT (PyJWT, HS256 with the deployment's secret) carried as a path segment:
``/media/t/{token}/{video_id}/{generation}/master.m3u8``. A playlist names its segments by
relative URL, so a player resolving them keeps the token in the path without our rewriting any
playlist. The audience ``media`` keeps access tokens and media tokens from standing in for each
other.
"""

from __future__ import annotations

import time
import uuid

import jwt

from core.errors import Forbidden

_AUDIENCE = "media"


class MediaTokens:
    def __init__(self, secret: str, issuer: str, lifetime_seconds: int) -> None:
        self._secret = secret
        self._issuer = issuer
        self.lifetime_seconds = lifetime_seconds

    def issue(self, video_id: uuid.UUID, now: float | None = None) -> tuple[str, int]:
        """A token for every file of ``video_id``'s media, and when it expires (Unix seconds)."""
        expires = int((time.time() if now is None else now) + self.lifetime_seconds)
        claims = {"sub": str(video_id), "aud": _AUDIENCE, "iss": self._issuer, "exp": expires}
        return jwt.encode(claims, self._secret, algorithm="HS256"), expires

    def check(self, token: str, video_id: uuid.UUID) -> int:
        """The token's expiry if it grants ``video_id``; 403 with the reason otherwise."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=_AUDIENCE,
                issuer=self._issuer,
                options={"require": ["exp", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Forbidden(
                "this signed URL has expired; ask for a new one", code="signed_url_expired"
            ) from exc
        except jwt.InvalidTokenError as exc:
            raise Forbidden("this signed URL is not valid", code="signed_url_invalid") from exc
        if claims["sub"] != str(video_id):
            raise Forbidden("this signed URL is for another video", code="signed_url_invalid")
        return int(claims["exp"])
