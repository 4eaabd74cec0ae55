"""carechain.services.gateway.crypto and the store's configuration: keys as hex, base64 or files."""

from __future__ import annotations

import base64
import os

import pytest

from carechain.errors import ConfigError, KeyUnavailable
from carechain.services.gateway import crypto
from carechain.services.gateway.store import Store

RECORD = os.urandom(32)


def test_a_key_reads_as_hex_with_or_without_0x_and_as_base64():
    key = crypto.new_key()
    assert crypto.parse_key(key.hex(), "k") == crypto.parse_key("0x" + key.hex(), "k") == key
    assert crypto.parse_key(base64.b64encode(key).decode(), "k") == key


@pytest.mark.parametrize("text", ["zz" * 32, "ab" * 31, base64.b64encode(b"short").decode(), ""])
def test_a_malformed_key_is_named_never_shown(text):
    with pytest.raises(ConfigError, match=r"^MY_KEY is not a 32-byte key") as bad:
        crypto.parse_key(text, "MY_KEY")
    assert not text or text not in str(bad.value)


def test_the_environment_key_wins_over_a_key_file(tmp_path):
    key, other = crypto.new_key(), crypto.new_key()
    (tmp_path / "k").write_text(other.hex())
    ring = crypto.load_keyring({crypto.KEY_ENV: key.hex(), crypto.KEY_FILE_ENV: str(tmp_path / "k")})
    assert ring.keys == (key,)
    assert crypto.load_keyring({crypto.KEY_FILE_ENV: str(tmp_path / "k")}).keys == (other,)


def test_no_key_configured_says_how_to_give_one():
    with pytest.raises(ConfigError, match="set CARECHAIN_GATEWAY_KEY"):
        crypto.load_keyring({})


def test_key_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="cannot read key file"):
        crypto.read_key_file(tmp_path / "missing")
    (tmp_path / "empty").write_text("# nothing yet\n\n")
    with pytest.raises(ConfigError, match="holds no key"):
        crypto.read_key_file(tmp_path / "empty")
    (tmp_path / "bad").write_text(crypto.new_key().hex() + "\nnot-a-key\n")
    with pytest.raises(ConfigError, match="line 2 of key file"):
        crypto.read_key_file(tmp_path / "bad")


def test_a_keyring_never_shows_its_keys():
    key = crypto.new_key()
    ring = crypto.Keyring((key,))
    assert key.hex() not in repr(ring) and crypto.key_id(key) in repr(ring)
    with pytest.raises(ConfigError, match="at least one"):
        crypto.Keyring(())


def test_a_data_key_unwraps_only_under_its_custodian_key_record_and_version():
    custodian, data_key = crypto.new_key(), crypto.new_key()
    wrapped = crypto.wrap(custodian, RECORD, 0, data_key)
    assert crypto.unwrap(custodian, RECORD, 0, wrapped) == data_key
    for key, record, version in (
        (crypto.new_key(), RECORD, 0),
        (custodian, os.urandom(32), 0),
        (custodian, RECORD, 1),
    ):
        with pytest.raises(KeyUnavailable):
            crypto.unwrap(key, record, version, wrapped)


def test_a_blob_is_bound_to_its_record_and_version():
    data_key = crypto.new_key()
    blob = crypto.encrypt(data_key, RECORD, 3, b"content")
    assert crypto.decrypt(data_key, RECORD, 3, blob) == b"content"
    assert crypto.encrypt(data_key, RECORD, 3, b"content") != blob  # a fresh nonce each time
    with pytest.raises(Exception, match="does not decrypt"):
        crypto.decrypt(data_key, os.urandom(32), 3, blob)


def test_a_bad_database_url_is_one_error_without_its_password():
    with pytest.raises(ConfigError, match="not a database URL") as bad:
        Store("nosuchdb://admin:hunter2@db.example/gateway")
    assert "hunter2" not in str(bad.value)
    with pytest.raises(ConfigError, match="not a database URL"):
        Store("::not a url::")


def test_a_database_that_cannot_be_created_is_one_error(tmp_path):
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ConfigError, match="cannot open the gateway database"):
        Store(f"sqlite:///{tmp_path}/a-file/gateway.db")
