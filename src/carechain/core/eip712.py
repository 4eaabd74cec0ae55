"""EIP-712 typed data for CareChain's signed actions, in the JSON shape every wallet signs.

`eth_signTypedData_v4` (MetaMask, ethers' `signTypedData`, viem) and eth-account take the same
dict, so a patient can sign in any wallet and a relayer submits the signature unchanged. Checking
many signatures at once (a clinic's file of 10,000) hashes them here directly (`typed_digest`), with the
type and domain hashes computed once, rather than through eth-account's general encoder.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from carechain.core import signatures

DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]

# One entry per signed action; the contract's *_TYPEHASH constants hash exactly these strings.
TYPES: dict[str, dict[str, list[dict[str, str]]]] = {
    "ConsentRegistry": {
        "Grant": [
            {"name": "patient", "type": "address"},
            {"name": "grantee", "type": "address"},
            {"name": "purpose", "type": "bytes32"},
            {"name": "scopes", "type": "uint64"},
            {"name": "expiresAt", "type": "uint64"},
            {"name": "nonce", "type": "uint256"},
            {"name": "deadline", "type": "uint256"},
        ],
        "Revoke": [
            {"name": "patient", "type": "address"},
            {"name": "grantee", "type": "address"},
            {"name": "purpose", "type": "bytes32"},
            {"name": "nonce", "type": "uint256"},
            {"name": "deadline", "type": "uint256"},
        ],
    },
    "AccessGrants": {
        "AccessGrant": [
            {"name": "patient", "type": "address"},
            {"name": "provider", "type": "address"},
            {"name": "categories", "type": "uint64"},
            {"name": "expiresAt", "type": "uint64"},
            {"name": "nonce", "type": "uint256"},
            {"name": "deadline", "type": "uint256"},
        ],
        "AccessRevoke": [
            {"name": "patient", "type": "address"},
            {"name": "provider", "type": "address"},
            {"name": "nonce", "type": "uint256"},
            {"name": "deadline", "type": "uint256"},
        ],
        "RecordAccessGrant": [
            {"name": "patient", "type": "address"},
            {"name": "provider", "type": "address"},
            {"name": "recordId", "type": "bytes32"},
            {"name": "expiresAt", "type": "uint64"},
            {"name": "nonce", "type": "uint256"},
            {"name": "deadline", "type": "uint256"},
        ],
        "RecordAccessRevoke": [
            {"name": "patient", "type": "address"},
            {"name": "provider", "type": "address"},
            {"name": "recordId", "type": "bytes32"},
            {"name": "nonce", "type": "uint256"},
            {"name": "deadline", "type": "uint256"},
        ],
    },
    # ERC-8356's Grant, verbatim (normative), and CareChain's signed subject acts in the same domain; each is
    # signed by a per-grant subject key, never by a patient's address (docs/private-consent.md).
    "ConsentGrants": {
        "Grant": [
            {"name": "scopeRef", "type": "bytes32"},
            {"name": "purposeProfileRef", "type": "bytes32"},
            {"name": "termsRef", "type": "bytes32"},
            {"name": "assetTokenId", "type": "uint256"},
            {"name": "subjectCommit", "type": "bytes32"},
            {"name": "grantee", "type": "address"},
            {"name": "agent", "type": "address"},
            {"name": "policy", "type": "uint256"},
            {"name": "nonce", "type": "uint256"},
        ],
        "RevokeBySubject": [
            {"name": "grantId", "type": "bytes32"},
            {"name": "reasonCode", "type": "bytes32"},
            {"name": "nonce", "type": "uint256"},
        ],
        "RevokeScopeLeaf": [
            {"name": "grantId", "type": "bytes32"},
            {"name": "leaf", "type": "bytes32"},
            {"name": "nonce", "type": "uint256"},
        ],
        "BurnNonce": [
            {"name": "subjectCommit", "type": "bytes32"},
            {"name": "nonce", "type": "uint256"},
        ],
    },
}

DOMAIN_NAMES = {
    "ConsentRegistry": "CareChain ConsentRegistry",
    "AccessGrants": "CareChain AccessGrants",
    "ConsentGrants": "ConsentGrant",  # ERC-8356's, so a signature is portable across its implementations
}
DOMAIN_VERSION = "1"


@dataclass(frozen=True)
class Domain:
    """An EIP-712 domain: binds a signature to one contract on one chain."""

    name: str
    version: str
    chain_id: int
    verifying_contract: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": to_checksum_address(self.verifying_contract),
        }


def consent_domain(chain_id: int, registry: str) -> Domain:
    """The domain of a ConsentRegistry deployment (what its `eip712Domain()` reports)."""
    return contract_domain("ConsentRegistry", chain_id, registry)


def contract_domain(contract: str, chain_id: int, address: str) -> Domain:
    """The domain of a deployment of `contract` (ConsentRegistry, AccessGrants, ConsentGrants)."""
    return Domain(DOMAIN_NAMES[contract], DOMAIN_VERSION, chain_id, address)


def type_string(primary: str, contract: str = "ConsentRegistry") -> str:
    """`Grant(address patient,...)`: the string whose keccak is the contract's typehash."""
    return encode_type(primary, TYPES[contract][primary])


def encode_type(primary: str, fields: list[dict[str, str]]) -> str:
    """EIP-712's encodeType of a flat struct: `Name(type1 name1,type2 name2)`."""
    members = ",".join(f"{f['type']} {f['name']}" for f in fields)
    return f"{primary}({members})"


def typed_data(
    domain: Domain, primary: str, message: dict[str, Any], contract: str = "ConsentRegistry"
) -> dict[str, Any]:
    """The full `eth_signTypedData_v4` payload (JSON-serialisable: bytes32 as 0x-hex)."""
    return struct_data(domain, primary, TYPES[contract][primary], message)


def struct_data(
    domain: Domain, primary: str, fields: list[dict[str, str]], message: dict[str, Any]
) -> dict[str, Any]:
    """The payload of any flat struct `primary` of `fields` (the gateway's read request is not in TYPES)."""
    missing = [f["name"] for f in fields if f["name"] not in message]
    if missing:
        raise ValueError(f"{primary} message misses {', '.join(missing)}")
    return {
        "types": {"EIP712Domain": DOMAIN_TYPE, primary: fields},
        "primaryType": primary,
        "domain": domain.as_dict(),
        "message": {f["name"]: _jsonable(message[f["name"]]) for f in fields},
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def sign(account: LocalAccount, payload: dict[str, Any]) -> bytes:
    """Sign a typed-data payload as a wallet would (65 bytes r || s || v)."""
    return bytes(account.sign_typed_data(full_message=payload).signature)


def recover(payload: dict[str, Any], signature: bytes) -> str:
    """The address that signed `payload` (checksummed); InputError for a malformed signature."""
    return signatures.recover(digest(payload), signature)


def digest(payload: dict[str, Any]) -> bytes:
    """The 32-byte EIP-712 digest a contract checks (`_hashTypedDataV4`)."""
    signable = encode_typed_data(full_message=payload)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


@lru_cache(maxsize=64)
def domain_separator(domain: Domain) -> bytes:
    """What the contract's DOMAIN_SEPARATOR() returns for `domain` (computed once per domain)."""
    return keccak(
        _DOMAIN_TYPEHASH
        + keccak(text=domain.name)
        + keccak(text=domain.version)
        + _uint_word(domain.chain_id)
        + _address_word(domain.verifying_contract)
    )


def typed_digest(
    separator: bytes, primary: str, message: dict[str, Any], contract: str = "ConsentRegistry"
) -> bytes:
    """`digest(typed_data(...))` of one of TYPES' messages, some 10x faster: the values are hashed as
    given (already checked: eth-account's range checks are what costs), the type hash is precomputed."""
    typehash, words = _STRUCTS[contract, primary]
    struct = keccak(typehash + b"".join(word(message[name]) for name, word in words))
    return keccak(b"\x19\x01" + separator + struct)


def _uint_word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _address_word(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


def _bytes32_word(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else bytes.fromhex(value[2:])


_WORDS: Final[dict[str, Callable[[Any], bytes]]] = {
    "address": _address_word,
    "bytes32": _bytes32_word,
    "uint64": _uint_word,
    "uint256": _uint_word,
}
_DOMAIN_TYPEHASH: Final = keccak(text=encode_type("EIP712Domain", DOMAIN_TYPE))
# Per signed action: its type hash, and each field's name with how its value becomes a 32-byte word.
_STRUCTS: Final = {
    (contract, primary): (
        keccak(text=type_string(primary, contract)),
        [(f["name"], _WORDS[f["type"]]) for f in fields],
    )
    for contract, types in TYPES.items()
    for primary, fields in types.items()
}


def export_types() -> dict[str, Any]:
    """What `abi/eip712.json` holds: one entry per signed action, keyed `<Contract>.<PrimaryType>`, whose
    `types` (one primary type, no EIP712Domain) ethers' `signTypedData(domain, types, value)` takes as they
    are; the signer adds the domain's chainId and verifyingContract, which the file cannot know."""
    return {
        f"{contract}.{primary}": {
            "contract": contract,
            "domain": {"name": DOMAIN_NAMES[contract], "version": DOMAIN_VERSION},
            "signerFills": {
                "chainId": "the id of the chain the contract is deployed on",
                "verifyingContract": f"contracts.{contract}.address in deployments/<chainId>.json",
            },
            "domainType": DOMAIN_TYPE,
            "primaryType": primary,
            "types": {primary: fields},
            "typeString": type_string(primary, contract),
            "typeHash": "0x" + _STRUCTS[contract, primary][0].hex(),
        }
        for contract, types in TYPES.items()
        for primary, fields in types.items()
    }


def dumps(payload: dict[str, Any]) -> str:
    """Stable JSON text of a payload (what `carechain consent sign` writes)."""
    return json.dumps(payload, indent=2, sort_keys=True)
