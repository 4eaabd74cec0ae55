"""The gateway's stored formats do not move with the code: a key id, a record blob and a wrapped data key made
by the gateway before the package was regrouped (its labels were `carechain.gateway.*`) still read."""

from __future__ import annotations

import pytest

from carechain.errors import IntegrityFailure, KeyUnavailable
from carechain.services.gateway import crypto

CUSTODIAN_KEY = bytes(range(32))
DATA_KEY = bytes(range(32, 64))
RECORD = bytes([7]) * 32
# Made by the gateway of commit 157bb13 (src/carechain/gateway/crypto.py) from the values above.
KEY_ID = "b034cda0417b89b4"
BLOB = bytes.fromhex(
    "0bb501461fd1f760b8e9ab616a66dd796d096d074be66a5cec0cc0f184f993f163ed43d79bd3ace452513a9ee7da0ac6"
    "182fd3908a30784c294d"
)
WRAPPED = bytes.fromhex(
    "f563b5b5eedea165b9a96dea1a9203badc8d46189f4aa944ba1d8a938db59ab5fbfb6730dd24267f4f1fd527aaeab795"
    "b3fbc0382a9c9b4bd0adddc8"
)


def test_a_custodian_keys_id_is_what_it_was() -> None:
    assert crypto.key_id(CUSTODIAN_KEY) == KEY_ID


def test_a_stored_data_key_unwraps_and_its_record_decrypts() -> None:
    data_key = crypto.unwrap(CUSTODIAN_KEY, RECORD, 0, WRAPPED)
    assert data_key == DATA_KEY
    assert crypto.decrypt(data_key, RECORD, 0, BLOB) == b'{"resourceType":"Observation"}'


def test_the_labels_bind_record_and_version() -> None:
    with pytest.raises(IntegrityFailure):
        crypto.decrypt(DATA_KEY, RECORD, 1, BLOB)
    with pytest.raises(KeyUnavailable):
        crypto.unwrap(CUSTODIAN_KEY, bytes(32), 0, WRAPPED)
