"""Envelope encryption: a fresh AES-256-GCM data key per record version, wrapped by the custodian key.

A stored blob is `nonce || AES-GCM(data key, content)`, bound by its AAD to its record id and
version; the chain anchors keccak256 of that blob. The data key is stored only wrapped (AES-GCM
under the custodian key, AAD again the record id and version), so rotating the custodian key
re-wraps 44-byte keys and never touches a blob or the chain, and destroying a wrapped key makes
every copy of its blob unreadable (crypto-shredding).

The custodian key comes from CARECHAIN_GATEWAY_KEY (64 hex digits or base64 of 32 bytes) or from
a key file named by CARECHAIN_GATEWAY_KEY_FILE (one key a line; the first wraps, all unwrap). It is
never a command-line argument, and no repr, log line or error message shows it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from carechain.errors import ConfigError, IntegrityFailure, KeyUnavailable

KEY_ENV = "CARECHAIN_GATEWAY_KEY"
KEY_FILE_ENV = "CARECHAIN_GATEWAY_KEY_FILE"
NONCE_BYTES = 12
# Protocol labels in every stored blob, wrapped key and key id: fixed for good, whatever the module's path.
_BLOB_AAD = b"carechain.gateway.blob"
_WRAP_AAD = b"carechain.gateway.key"
_KEY_ID_LABEL = b"carechain.gateway.key-id"


def parse_key(text: str, where: str) -> bytes:
    """A 32-byte key from 64 hex digits (0x optional) or base64; the error never shows the value."""
    value = text.strip()
    hex_part = value.removeprefix("0x")
    if len(hex_part) == 64:
        try:
            return bytes.fromhex(hex_part)
        except ValueError:
            pass
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) == 32:
        return raw
    raise ConfigError(f"{where} is not a 32-byte key (64 hex digits or base64)")


def new_key() -> bytes:
    """A fresh 256-bit key (a custodian key, or a data key)."""
    return AESGCM.generate_key(bit_length=256)


def key_id(key: bytes) -> str:
    """A short public name of a custodian key, stored beside what it wraps (reveals nothing of it)."""
    return hashlib.sha256(_KEY_ID_LABEL + key).hexdigest()[:16]


@dataclass(frozen=True)
class Keyring:
    """Custodian keys by id: `current` wraps new data keys; every key in the ring unwraps."""

    keys: tuple[bytes, ...] = field(repr=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise ConfigError("a keyring needs at least one custodian key")

    @property
    def current(self) -> bytes:
        return self.keys[0]

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    def find(self, wanted: str) -> bytes | None:
        return next((key for key in self.keys if key_id(key) == wanted), None)

    def __repr__(self) -> str:
        return f"Keyring(ids={[key_id(k) for k in self.keys]})"


def load_keyring(env: Mapping[str, str] | None = None) -> Keyring:
    """The custodian keys from CARECHAIN_GATEWAY_KEY or the key file CARECHAIN_GATEWAY_KEY_FILE."""
    env = os.environ if env is None else env
    if env.get(KEY_ENV):
        return Keyring((parse_key(env[KEY_ENV], KEY_ENV),))
    if env.get(KEY_FILE_ENV):
        return read_key_file(Path(env[KEY_FILE_ENV]).expanduser())
    raise ConfigError(f"no custodian key: set {KEY_ENV} (hex or base64) or {KEY_FILE_ENV}=path/to/keyfile")


def read_key_file(path: Path) -> Keyring:
    """One key a line (hex or base64); blank lines and lines starting with # are skipped."""
    try:
        lines = path.read_text().splitlines()
    except OSError as err:
        raise ConfigError(f"cannot read key file {path}: {err.strerror}") from None
    keys = [
        parse_key(line, f"line {number} of key file {path}")
        for number, line in enumerate(lines, 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not keys:
        raise ConfigError(f"key file {path} holds no key")
    return Keyring(tuple(keys))


def _aad(tag: bytes, record_id: bytes, version: int) -> bytes:
    return tag + record_id + version.to_bytes(4, "big")


def encrypt(data_key: bytes, record_id: bytes, version: int, content: bytes) -> bytes:
    """The blob of one record version: nonce || ciphertext+tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(data_key).encrypt(nonce, content, _aad(_BLOB_AAD, record_id, version))


def decrypt(data_key: bytes, record_id: bytes, version: int, blob: bytes) -> bytes:
    try:
        return AESGCM(data_key).decrypt(
            blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(_BLOB_AAD, record_id, version)
        )
    except (InvalidTag, ValueError):
        raise IntegrityFailure("the stored record does not decrypt: refusing to serve it") from None


def wrap(custodian_key: bytes, record_id: bytes, version: int, data_key: bytes) -> bytes:
    """The data key as stored: nonce || AES-GCM(custodian key, data key)."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(custodian_key).encrypt(nonce, data_key, _aad(_WRAP_AAD, record_id, version))


def unwrap(custodian_key: bytes, record_id: bytes, version: int, wrapped: bytes) -> bytes:
    try:
        return AESGCM(custodian_key).decrypt(
            wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _aad(_WRAP_AAD, record_id, version)
        )
    except (InvalidTag, ValueError):
        raise KeyUnavailable("a wrapped data key does not unwrap under its custodian key") from None
