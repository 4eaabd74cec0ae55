"""Off-chain helpers of the access clients: role ids, salted hashes, record ids and categories."""

from __future__ import annotations

import pytest
from eth_utils.crypto import keccak

from carechain.clients import bytes32, category_bit, checksum, content_hash, license_hash, record_id, role_id
from carechain.errors import InputError


def test_role_ids_match_the_contract_constants():
    assert role_id("provider") == keccak(text="carechain.credential.PROVIDER")
    assert role_id(" Custodian ") == keccak(text="carechain.credential.CUSTODIAN")
    with pytest.raises(InputError, match="unknown credential role 'surgeon'"):
        role_id("surgeon")


def test_license_hash_is_salted_and_needs_a_real_salt():
    salt = b"\x01" * 16
    assert license_hash("MD-12345", salt) == keccak(salt + b"MD-12345")
    assert license_hash("MD-12345", salt) != license_hash("MD-12345", b"\x02" * 16)
    with pytest.raises(InputError, match="16 random bytes"):
        license_hash("MD-12345", b"short")


def test_record_id_is_opaque_and_stable():
    secret = b"\x07" * 32
    assert record_id(secret, "LAB-1") == record_id(secret, "LAB-1") != record_id(secret, "LAB-2")
    assert b"LAB-1" not in record_id(secret, "LAB-1")
    with pytest.raises(InputError, match="16 random bytes"):
        record_id(b"", "LAB-1")


def test_category_bits_follow_the_scope_table():
    assert category_bit("labs") == 7 and category_bit("Genomics") == 16
    with pytest.raises(InputError, match="unknown record category"):
        category_bit("x-rays")


def test_content_hash_is_keccak_of_the_ciphertext():
    assert content_hash(b"\x00\x01") == keccak(b"\x00\x01")


@pytest.mark.parametrize(
    ("value", "message"), [("0x12", "32 bytes"), ("0xzz", "not hex"), (b"\x00" * 31, "32 bytes")]
)
def test_bytes32_rejects_bad_values(value, message):
    with pytest.raises(InputError, match=message):
        bytes32(value, "record id")


def test_checksum_rejects_non_addresses():
    with pytest.raises(InputError, match="not an Ethereum address"):
        checksum("0x123", "provider")


def test_a_guardians_term_is_floored_to_a_whole_utc_day():
    """termEndsAt is public (the account's calldata and storage): an exact second shared by one minor's
    accounts would link them, so the client floors it to the day's start (UTC), for predict and deploy."""
    from carechain.clients.guardianship import DAY, _setup, term_end

    day = 20_000 * DAY  # 2024-10-04T00:00:00Z
    assert term_end(day + 13 * 3600 + 7) == day and term_end(day) == day
    salt, guardian = bytes(32), "0x" + "11" * 20
    assert _setup(salt, guardian, day + DAY - 1, "0x" + "00" * 20)[2] == day
