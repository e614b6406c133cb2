"""Secure links: what nginx's secure_link module would accept, and the reasons for refusing."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid

import pytest

from core.errors import DomainError
from media.secure_links import SecureLinks

SECRET = "s" * 40
VIDEO = uuid.UUID("6f1c2a34-9d3e-4c5b-8a7f-0e1d2c3b4a59")


def _parts(prefix: str) -> tuple[str, str]:
    _, media, kind, signature, expires, *_ = prefix.split("/")
    assert (media, kind) == ("media", "l")
    return signature, expires


def test_a_link_covers_its_generation_until_it_expires() -> None:
    links = SecureLinks(SECRET, 300)
    now = time.time()
    prefix, expires = links.prefix(VIDEO, "g2", now=now)
    assert expires == int(now + 300)
    assert prefix.endswith(f"/{expires}/{VIDEO}/g2/")
    signature, written = _parts(prefix)
    assert links.check(signature, written, VIDEO, "g2", now=now) == expires
    assert links.check(signature, written, VIDEO, "g2", now=expires) == expires  # nginx: not before


def test_the_signature_is_nginx_s_base64url_md5_of_expiry_path_and_secret() -> None:
    digest = hashlib.md5(f"1700000000/{VIDEO}/g2 {SECRET}".encode()).digest()
    expected = base64.b64encode(digest).decode().replace("+", "-").replace("/", "_").rstrip("=")
    assert SecureLinks(SECRET, 300).signature(VIDEO, "g2", 1_700_000_000) == expected
    assert len(expected) == 22


def _refusal(links: SecureLinks, signature: str, expires: str, video: uuid.UUID, generation: str) -> str:
    with pytest.raises(DomainError) as refused:
        links.check(signature, expires, video, generation)
    assert refused.value.status_code == 403
    return refused.value.code


def test_wrong_or_expired_links_are_refused_with_a_reason() -> None:
    links = SecureLinks(SECRET, 300)
    signature, expires = _parts(links.prefix(VIDEO, "g2")[0])
    tampered = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert _refusal(links, tampered, expires, VIDEO, "g2") == "signed_url_invalid"
    assert _refusal(links, signature, str(int(expires) + 1), VIDEO, "g2") == "signed_url_invalid"
    assert _refusal(links, signature, expires, VIDEO, "g1") == "signed_url_invalid"
    assert _refusal(links, signature, expires, uuid.uuid4(), "g2") == "signed_url_invalid"
    assert _refusal(links, "é" * 22, expires, VIDEO, "g2") == "signed_url_invalid"
    assert _refusal(links, signature, "-5", VIDEO, "g2") == "signed_url_invalid"
    assert _refusal(SecureLinks("t" * 40, 300), signature, expires, VIDEO, "g2") == "signed_url_invalid"
    old_signature, old_expires = _parts(links.prefix(VIDEO, "g2", now=time.time() - 301)[0])
    assert _refusal(links, old_signature, old_expires, VIDEO, "g2") == "signed_url_expired"


@pytest.mark.parametrize("secret", ["", "short", "x" * 31, 'quote"' + "x" * 40, "$var" + "x" * 40])
def test_secrets_nginx_could_misread_or_anyone_could_guess_are_refused(secret: str) -> None:
    with pytest.raises(ValueError, match="32 characters"):
        SecureLinks(secret, 300)
