"""Password hashing (argon2id) and the strength rule for new passwords."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from core.errors import BadRequest

MIN_LENGTH = 8
MAX_LENGTH = 128  # argon2 takes any length; the cap bounds the strength estimator's work
MIN_SCORE = 2  # zxcvbn: 0 too guessable .. 4 very unguessable

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verifying against this when no account matches keeps "unknown email" as slow as "wrong password".
_DUMMY_HASH = _hasher.hash("no account has this password")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


def check_strength(password: str, *, related: list[str]) -> None:
    """Refuse empty, short, overlong and easily guessed passwords with a reason a user can act on."""
    if not password:
        raise BadRequest("a password is required", code="weak_password")
    if len(password) < MIN_LENGTH:
        raise BadRequest(f"the password must have at least {MIN_LENGTH} characters", code="weak_password")
    if len(password) > MAX_LENGTH:
        raise BadRequest(f"the password must have at most {MAX_LENGTH} characters", code="weak_password")
    verdict = zxcvbn(password, user_inputs=related)
    if verdict["score"] < MIN_SCORE:
        hint = verdict["feedback"].get("warning") or "it is too easy to guess"
        raise BadRequest(f"the password is too weak: {hint}", code="weak_password")
