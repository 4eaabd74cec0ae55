"""Per-grant keys: every subject key, salt and scope salt of a patient's grants from one wallet signature.

On chain a patient is only `subjectCommit = keccak256(abi.encode(subjectSalt, subjectKey))`, with a
fresh key and salt per grant, so that two grants of one person do not link (ERC-8356, Privacy rule 7).
Patients never manage those keys: their wallet signs one EIP-712 message, `KeyDerivation`, and
HKDF-SHA256 (RFC 5869) expands that signature into any grant's keys, again on any device, whenever
needed. A wallet that does not sign deterministically (RFC 6979: contract wallets, some hardware
wallets) cannot recreate them; such a patient keeps a random secret in an encrypted keystore instead.

docs/key-derivation.md is the specification, docs/vectors/key-derivation.json its test vectors.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, get_args

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from eth_abi.abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import PrivateKey
from eth_utils.crypto import keccak

from carechain.core import eip712, signatures
from carechain.core.config import decrypt_keystore, read_keystore
from carechain.core.files import write_private
from carechain.core.values import bytes32, checksum, hex_bytes, uint
from carechain.errors import ConfigError, InputError, NondeterministicSignature

SCHEME: Final = "carechain/keys/v1"
NOTICE: Final = (
    "This signature creates the private keys of your CareChain consents. It is not a login and sends no "
    "transaction. Sign it only in the CareChain portal or the carechain command line."
)
DOMAIN_NAME: Final = "CareChain key derivation"
DOMAIN_VERSION: Final = "1"
KEY_DERIVATION_FIELDS: Final = [{"name": "notice", "type": "string"}, {"name": "scheme", "type": "string"}]

HKDF_SALT: Final = SCHEME.encode()
INFO_PREFIX: Final = b"carechain/v1/"
OKM_LENGTH: Final = 96  # subject key material, subject salt, scope salt: 32 bytes each
INDEX_BITS: Final = 32
SECRET_LENGTH: Final = 32

Role = Literal["subject", "guardian"]
ROLES: Final[tuple[Role, ...]] = get_args(Role)


def derivation_domain(chain_id: int, grants_contract: str) -> eip712.Domain:
    """The KeyDerivation domain: keys made for one ConsentGrants deployment are of no use on another."""
    return eip712.Domain(
        DOMAIN_NAME,
        DOMAIN_VERSION,
        uint(chain_id, "chain id", minimum=1),
        checksum(grants_contract, "ConsentGrants address"),
    )


def derivation_typed_data(chain_id: int, grants_contract: str) -> dict[str, Any]:
    """The `eth_signTypedData_v4` payload a patient's wallet signs once to make all their grant keys."""
    return eip712.struct_data(
        derivation_domain(chain_id, grants_contract),
        "KeyDerivation",
        KEY_DERIVATION_FIELDS,
        {"notice": NOTICE, "scheme": SCHEME},
    )


def sign_derivation(account: LocalAccount, chain_id: int, grants_contract: str) -> bytes:
    """`account`'s KeyDerivation signature, as a wallet gives it (r ‖ s ‖ v)."""
    return eip712.sign(account, derivation_typed_data(chain_id, grants_contract))


def check_deterministic(first: bytes | str, second: bytes | str) -> bytes:
    """The IKM of `first` if the wallet gave the same signature for the same message twice, else an error."""
    ikm = signature_ikm(first)
    if signature_ikm(second) != ikm:
        raise NondeterministicSignature(
            "the wallet signed the key-derivation message twice with two different signatures: it does not "
            "sign deterministically (RFC 6979; contract wallets and some hardware wallets do not), so it "
            "could not make the same consent keys again. Use a keystore secret instead of the wallet "
            "signature (carechain.core.keys.create_secret)."
        )
    return ikm


def signature_ikm(signature: bytes | str) -> bytes:
    """The input keying material of a KeyDerivation signature (bytes or the wallet's 0x-hex): its 65 bytes
    r ‖ s ‖ v with v 27 or 28.

    A v of 0 or 1 (some hardware wallets) becomes 27 or 28 first, so one key gives one set of keys in
    every wallet; a high s (EIP-2) is refused, a wallet following RFC 6979 and EIP-2 never gives one.
    """
    if isinstance(signature, str):
        raw = hex_bytes(signature, "signature", 65)
    elif isinstance(signature, bytes | bytearray):
        raw = bytes(signature)
    else:
        raise InputError(f"a signature is bytes or 0x-hex, got {type(signature).__name__}")
    if len(raw) == 65 and raw[64] in (0, 1):
        raw = raw[:64] + bytes([raw[64] + 27])
    return signatures.check(raw)


def extract(ikm: bytes) -> bytes:
    """HKDF-Extract (RFC 5869) with SHA-256 and the salt "carechain/keys/v1": HMAC-SHA256(salt, ikm)."""
    mac = hmac.HMAC(HKDF_SALT, hashes.SHA256())
    mac.update(ikm)
    return mac.finalize()


def expand(prk: bytes, role: Role, index: int) -> bytes:
    """HKDF-Expand (RFC 5869) with SHA-256: the 96 bytes of one grant's keys (OKM)."""
    return HKDFExpand(hashes.SHA256(), OKM_LENGTH, info(role, index)).derive(prk)


def info(role: Role, index: int) -> bytes:
    """HKDF's info for one grant's keys: b"carechain/v1/" + role + b"/" + index as 4 big-endian bytes."""
    if role not in ROLES:
        raise InputError(f"a key role is {' or '.join(ROLES)}, got {role!r}")
    return INFO_PREFIX + role.encode() + b"/" + uint(index, "grant index", INDEX_BITS).to_bytes(4, "big")


def subject_commitment(salt: bytes, key_address: str) -> bytes:
    """ERC-8356's subjectCommit: keccak256(abi.encode(bytes32 subjectSalt, address subjectKey))."""
    return keccak(encode(["bytes32", "address"], [bytes32(salt, "subject salt"), checksum(key_address)]))


@dataclass(frozen=True)
class GrantKeys:
    """One grant's subject key, subject salt and scope salt; `repr` shows only what goes on chain."""

    index: int
    role: Role
    private_key: bytes = field(repr=False)
    address: str
    salt: bytes = field(repr=False)
    scope_salt: bytes = field(repr=False)
    commitment: bytes


@dataclass(frozen=True)
class KeyRoot:
    """HKDF's pseudorandom key (PRK) of one wallet on one deployment, or of one keystore secret."""

    prk: bytes = field(repr=False)

    @classmethod
    def from_signature(cls, signature: bytes | str) -> KeyRoot:
        """The root of a wallet's KeyDerivation signature (see `signature_ikm`)."""
        return cls(extract(signature_ikm(signature)))

    @classmethod
    def from_secret(cls, secret: bytes) -> KeyRoot:
        """The root of a keystore secret (`create_secret`): the secret itself is the keying material."""
        return cls(extract(bytes32(secret, "key-derivation secret")))

    def grant_keys(self, role: Role, index: int) -> GrantKeys:
        """The keys of grant number `index` (0 to 2^32 - 1) for `role`, the same every time."""
        okm = expand(self.prk, role, index)
        # Reduced into [1, n - 1]: a valid secp256k1 key for every output, biased by under 2^-127.
        scalar = int.from_bytes(okm[:32], "big") % (signatures.SECP256K1_N - 1) + 1
        key = PrivateKey(scalar.to_bytes(32, "big"))
        address = key.public_key.to_checksum_address()
        salt = okm[32:64]
        return GrantKeys(
            index, role, key.to_bytes(), address, salt, okm[64:96], subject_commitment(salt, address)
        )


# ---- the keystore secret, for wallets that do not sign deterministically ----


def create_secret() -> bytes:
    """32 random bytes instead of a wallet signature: a valid secp256k1 key, as a keystore stores one."""
    while True:
        secret = os.urandom(SECRET_LENGTH)
        if 0 < int.from_bytes(secret, "big") < signatures.SECP256K1_N:
            return secret


def save_secret(path: Path, secret: bytes, password: str, iterations: int | None = None) -> Path:
    """Encrypt `secret` into a new keystore file (scrypt; `iterations` is its n), readable by its owner only.

    An existing file is never overwritten: it may hold another secret, whose grants would be lost.
    """
    if not 0 < int.from_bytes(bytes32(secret, "key-derivation secret"), "big") < signatures.SECP256K1_N:
        raise InputError(
            "a key-derivation secret is a number from 1 to the secp256k1 order (see create_secret)"
        )
    if not password:
        raise InputError("a keystore needs a password: with an empty one the secret is not protected")
    keystore = Account.encrypt(secret, password, kdf="scrypt", iterations=iterations)
    del keystore["address"]  # the secret's own address is no wallet: nothing should invite funding it
    keystore["scheme"] = SCHEME  # what the file is, so that a wallet's keystore is not taken for one
    text = json.dumps(keystore, indent=2) + "\n"
    return write_private(path, text, "it may hold another secret; choose a new file")


def load_secret(path: Path, password: str) -> bytes:
    """The secret of a `save_secret` keystore; a wrong password or a wallet's keystore is a ConfigError."""
    keystore = read_keystore(path)
    if keystore.get("scheme") != SCHEME:
        raise ConfigError(
            f"keystore {path} is not a CareChain key-derivation secret (no scheme {SCHEME!r}); "
            "a wallet's keystore is not one"
        )
    secret = decrypt_keystore(path, keystore, password)
    if len(secret) != SECRET_LENGTH:
        raise ConfigError(f"keystore {path} is corrupt (it holds {len(secret)} bytes, a secret is 32)")
    return secret
