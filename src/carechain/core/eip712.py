"""EIP-712 typed data for CareChain's signed actions, in the JSON shape every wallet signs.

`eth_signTypedData_v4` (MetaMask, ethers' `signTypedData`, viem) and eth-account take the same
dict, so a patient can sign in any wallet and a relayer submits the signature unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

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
}

DOMAIN_NAMES = {"ConsentRegistry": "CareChain ConsentRegistry", "AccessGrants": "CareChain AccessGrants"}
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
    """The domain of a deployment of `contract` (ConsentRegistry, AccessGrants)."""
    return Domain(DOMAIN_NAMES[contract], DOMAIN_VERSION, chain_id, address)


def type_string(primary: str, contract: str = "ConsentRegistry") -> str:
    """`Grant(address patient,...)`: the string whose keccak is the contract's typehash."""
    fields = ",".join(f"{f['type']} {f['name']}" for f in TYPES[contract][primary])
    return f"{primary}({fields})"


def typed_data(
    domain: Domain, primary: str, message: dict[str, Any], contract: str = "ConsentRegistry"
) -> dict[str, Any]:
    """The full `eth_signTypedData_v4` payload (JSON-serialisable: bytes32 as 0x-hex)."""
    fields = TYPES[contract][primary]
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
    """The address that signed `payload` (checksummed)."""
    return str(Account.recover_message(encode_typed_data(full_message=payload), signature=signature))


def digest(payload: dict[str, Any]) -> bytes:
    """The 32-byte EIP-712 digest a contract checks (`_hashTypedDataV4`)."""
    signable = encode_typed_data(full_message=payload)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def export_types() -> dict[str, Any]:
    """What `abi/eip712.json` holds: every signed action's types, for frontends."""
    return {
        contract: {
            "domain": {"name": DOMAIN_NAMES[contract], "version": DOMAIN_VERSION},
            "types": {"EIP712Domain": DOMAIN_TYPE, **types},
            "typeStrings": {primary: type_string(primary, contract) for primary in types},
        }
        for contract, types in TYPES.items()
    }


def dumps(payload: dict[str, Any]) -> str:
    """Stable JSON text of a payload (what `carechain consent sign` writes)."""
    return json.dumps(payload, indent=2, sort_keys=True)
