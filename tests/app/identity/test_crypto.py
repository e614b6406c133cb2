"""The sealing primitives: fields bound to their account and column, keys wrapped and named."""

from __future__ import annotations

import uuid

import pytest

from app.identity.crypto import (
    BadMasterKey,
    DataKey,
    Keyring,
    UnknownMasterKey,
    Unreadable,
    key_id,
    new_master_key,
    parse_master_key,
)


def test_a_sealed_field_opens_only_in_its_own_account_and_column() -> None:
    account = uuid.uuid4()
    key = DataKey.generate(account)
    sealed = key.seal("email", "ada@example.com")
    assert b"ada@example.com" not in sealed
    assert key.open("email", sealed) == "ada@example.com"
    with pytest.raises(Unreadable):
        key.open("birth_date", sealed)  # moved to another column
    with pytest.raises(Unreadable):
        DataKey(uuid.uuid4(), key.key).open("email", sealed)  # moved to another account
    with pytest.raises(Unreadable):
        DataKey.generate(account).open("email", sealed)  # another key
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(Unreadable):
        key.open("email", tampered)
    assert key.seal("email", "ada@example.com") != sealed  # a fresh nonce each time


def test_data_keys_unwrap_under_the_master_key_that_wrapped_them() -> None:
    old, new = new_master_key(), new_master_key()
    account = uuid.uuid4()
    data_key = DataKey.generate(account)
    old_id, wrapped = Keyring.from_settings(old).wrap(data_key)
    assert old_id == key_id(parse_master_key(old))
    rotating = Keyring.from_settings(new, old)
    assert rotating.unwrap(account, old_id, wrapped).key == data_key.key
    new_id, rewrapped = rotating.wrap(data_key)
    assert new_id == rotating.current_id != old_id
    with pytest.raises(UnknownMasterKey, match="MYDRTV_PRIVACY_OLD_MASTER_KEYS"):
        Keyring.from_settings(new).unwrap(account, old_id, wrapped)
    with pytest.raises(Unreadable):
        rotating.unwrap(uuid.uuid4(), old_id, wrapped)  # a wrapped key is bound to its account
    assert Keyring.from_settings(new).unwrap(account, new_id, rewrapped).key == data_key.key


def test_email_hashes_are_keyed_and_hold_every_key_during_a_rotation() -> None:
    old, new = new_master_key(), new_master_key()
    email = "ada@example.com"
    assert Keyring.from_settings(old).email_hash(email) == Keyring.from_settings(old).email_hash(email)
    assert Keyring.from_settings(old).email_hash(email) != Keyring.from_settings(new).email_hash(email)
    assert Keyring.from_settings(new, old).email_hashes(email) == [
        Keyring.from_settings(new).email_hash(email),
        Keyring.from_settings(old).email_hash(email),
    ]


@pytest.mark.parametrize("text", ["", "short", "A" * 40, "not base64 at all!!"])
def test_malformed_master_keys_are_refused(text: str) -> None:
    with pytest.raises(BadMasterKey):
        Keyring.from_settings(text)
