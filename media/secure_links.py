"""Signed media links that nginx's ``secure_link`` module checks by itself.

A link is ``/media/l/{signature}/{expires}/{video_id}/{generation}/{file}``. The signature is the
base64url MD5 (no padding, as nginx decodes it) of ``"{expires}/{video_id}/{generation} {secret}"``:
it covers a whole generation rather than one file, so the relative URLs inside a playlist resolve
to links signed alike, and nginx (``deploy/nginx/mydrtv.conf``) sends every file of it with no
request to a server. The server checks the same links the same way when nginx is not in front.

MD5 is what nginx's module offers. The secret goes last and the signed fields have fixed shapes
(digits, a UUID, a generation name), so no two signed strings can be made to run together.
A link cannot be revoked: it works until ``expires``, which is the delay before a video made
private stops being served through such links.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
import uuid

from core.errors import Forbidden

# Written into nginx's configuration between double quotes: nothing nginx would read as a variable
# or the end of the string, and long enough not to be guessed.
SECRET = re.compile(r"[A-Za-z0-9_.+/=~-]{32,}")
_EXPIRES = re.compile(r"[0-9]{1,12}")


class SecureLinks:
    def __init__(self, secret: str, lifetime_seconds: int) -> None:
        if not SECRET.fullmatch(secret):
            raise ValueError(
                "at least 32 characters of letters, digits and _.+/=~- (it is written into nginx's"
                " configuration): `openssl rand -hex 32` makes one"
            )
        if lifetime_seconds <= 0:
            raise ValueError("a link's lifetime must be positive")
        self._secret = secret
        self.lifetime_seconds = lifetime_seconds

    def signature(self, video_id: uuid.UUID, generation: str, expires: int) -> str:
        signed = f"{expires}/{video_id}/{generation} {self._secret}".encode()
        return base64.urlsafe_b64encode(hashlib.md5(signed).digest()).decode().rstrip("=")

    def prefix(self, video_id: uuid.UUID, generation: str, now: float | None = None) -> tuple[str, int]:
        """The URL prefix of a generation's files (ending in ``/``) and when it expires (Unix seconds)."""
        expires = int((time.time() if now is None else now) + self.lifetime_seconds)
        signature = self.signature(video_id, generation, expires)
        return f"/media/l/{signature}/{expires}/{video_id}/{generation}/", expires

    def check(
        self, signature: str, expires: str, video_id: uuid.UUID, generation: str, now: float | None = None
    ) -> int:
        """The link's expiry if it grants ``generation`` of ``video_id``; 403 with the reason
        otherwise. As nginx does: a wrong signature first, then the expiry."""
        if not _EXPIRES.fullmatch(expires):
            raise Forbidden("this signed URL is not valid", code="signed_url_invalid")
        expiry = int(expires)
        expected = self.signature(video_id, generation, expiry).encode()
        if not hmac.compare_digest(signature.encode(), expected):
            raise Forbidden("this signed URL is not valid", code="signed_url_invalid")
        if expiry < (time.time() if now is None else now):
            raise Forbidden("this signed URL has expired; ask for a new one", code="signed_url_expired")
        return expiry
