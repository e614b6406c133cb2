"""Crypto-shredding of personal data: a data key per account, wrapped by a master key.

Every personal field of an ``accounts`` row is sealed with AES-256-GCM (``cryptography``) under
that account's own random data key. The data key is stored only wrapped (AES-GCM again) by the
master key from settings, which never reaches the database. Destroying the wrapped data key
(``shred_user_keys``) leaves ciphertext that no one can open any more, in the live database and
in every copy of the data taken before.

Ciphertexts are bound to their row and column (associated data: the account id and the field
name), so a sealed field copied into another row or column does not open.

Login looks an account up by a keyed hash of its normalised email (HMAC-SHA256 under a key
derived from the master key with HKDF): equal emails hash equally, so the hash also keeps emails
unique, and without the master key the hash cannot be checked against a guess.

During a master-key rotation the keyring holds the new key and the old ones: data keys wrapped by
any of them open, new ones are wrapped by the new key, and email hashes under every key match.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # GCM's standard nonce; random per seal (2^32 seals per key stay far from a clash)


class CryptoError(Exception):
    """Base of the errors below."""


class BadMasterKey(CryptoError):
    """A master key setting that is not 32 bytes in URL-safe base64."""


class UnknownMasterKey(CryptoError):
    """A data key wrapped by a master key this keyring does not hold (an old one no longer
    configured during a rotation)."""


class KeyringMissing(CryptoError):
    """Sealed fields had to be opened or sealed, and no master key is configured."""


class Unreadable(CryptoError):
    """A ciphertext that does not open: its key was shredded, or it was tampered with or moved."""


def new_master_key() -> str:
    """A fresh master key, as the setting takes it."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


def parse_master_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (ValueError, TypeError) as exc:
        raise BadMasterKey("a privacy master key must be URL-safe base64 of 32 bytes") from exc
    if len(key) != KEY_BYTES:
        raise BadMasterKey(f"a privacy master key must be 32 bytes; this one has {len(key)}")
    return key


def key_id(master: bytes) -> str:
    """A name for a master key, stored beside each data key it wraps; it reveals nothing of the key."""
    return hashlib.sha256(b"mydrtv master key id\x00" + master).hexdigest()[:16]


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose).derive(master)


def _seal(cipher: AESGCM, plaintext: bytes, associated: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + cipher.encrypt(nonce, plaintext, associated)


def _open(cipher: AESGCM, sealed: bytes, associated: bytes) -> bytes:
    try:
        return cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated)
    except (InvalidTag, ValueError) as exc:
        raise Unreadable("the ciphertext does not open with this key") from exc


class DataKey:
    """One account's data key: seals and opens that account's fields."""

    def __init__(self, account_id: uuid.UUID, key: bytes) -> None:
        self.account_id = account_id
        self.key = key
        self._cipher = AESGCM(key)

    @classmethod
    def generate(cls, account_id: uuid.UUID) -> DataKey:
        return cls(account_id, AESGCM.generate_key(bit_length=KEY_BYTES * 8))

    def _associated(self, field: str) -> bytes:
        return self.account_id.bytes + b"\x00" + field.encode()

    def seal(self, field: str, plaintext: str) -> bytes:
        return _seal(self._cipher, plaintext.encode(), self._associated(field))

    def open(self, field: str, sealed: bytes) -> str:
        return _open(self._cipher, sealed, self._associated(field)).decode()


class Keyring:
    """The master key in use (``current``) and the ones a rotation is moving away from (``old``)."""

    def __init__(self, current: bytes, old: Sequence[bytes] = ()) -> None:
        self.current_id = key_id(current)
        masters = [current, *(key for key in old if key != current)]
        self._wrappers = {key_id(key): AESGCM(key) for key in masters}
        self._lookups = [_derive(key, b"mydrtv email lookup") for key in masters]  # current first

    @classmethod
    def from_settings(cls, master: str, old: str = "") -> Keyring:
        """``master`` is ``MYDRTV_PRIVACY_MASTER_KEY``; ``old`` the comma-separated
        ``MYDRTV_PRIVACY_OLD_MASTER_KEYS`` still accepted during a rotation."""
        if not master.strip():
            raise BadMasterKey("no privacy master key is configured (MYDRTV_PRIVACY_MASTER_KEY)")
        return cls(parse_master_key(master), [parse_master_key(k) for k in old.split(",") if k.strip()])

    @property
    def key_ids(self) -> list[str]:
        return list(self._wrappers)

    def wrap(self, data_key: DataKey) -> tuple[str, bytes]:
        """The data key sealed under the current master key, and that key's id."""
        wrapper = self._wrappers[self.current_id]
        return self.current_id, _seal(wrapper, data_key.key, data_key.account_id.bytes)

    def unwrap(self, account_id: uuid.UUID, master_key_id: str, wrapped: bytes) -> DataKey:
        wrapper = self._wrappers.get(master_key_id)
        if wrapper is None:
            raise UnknownMasterKey(
                f"a data key is wrapped by master key {master_key_id}, which is not configured;"
                " add it to MYDRTV_PRIVACY_OLD_MASTER_KEYS until the rotation is done"
            )
        return DataKey(account_id, _open(wrapper, wrapped, account_id.bytes))

    def email_hash(self, email: str) -> bytes:
        """The lookup hash of a normalised email under the current master key."""
        return self.email_hashes(email)[0]

    def email_hashes(self, email: str) -> list[bytes]:
        """The lookup hash under every master key held, the current one first."""
        return [hmac.new(key, email.encode(), hashlib.sha256).digest() for key in self._lookups]
