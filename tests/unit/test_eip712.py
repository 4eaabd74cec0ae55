"""carechain.core.eip712: payloads any wallet signs, recovery, and the exported types."""

from __future__ import annotations

import json

import pytest
from eth_account import Account
from eth_utils.crypto import keccak

from carechain.core import eip712

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def _grant(**overrides):
    message = {
        "patient": "0x" + "11" * 20,
        "grantee": "0x" + "22" * 20,
        "purpose": b"\x33" * 32,
        "scopes": 5,
        "expiresAt": 0,
        "nonce": 0,
        "deadline": 2_000_000_000,
    }
    message.update(overrides)
    return message


def test_type_string_matches_the_contract_typehash_text():
    assert eip712.type_string("Grant") == (
        "Grant(address patient,address grantee,bytes32 purpose,uint64 scopes,uint64 expiresAt,uint256 nonce,"
        "uint256 deadline)"
    )
    assert eip712.type_string("Revoke") == (
        "Revoke(address patient,address grantee,bytes32 purpose,uint256 nonce,uint256 deadline)"
    )


def test_payload_is_json_serialisable_and_signs_and_recovers():
    account = Account.create()
    payload = eip712.typed_data(
        eip712.consent_domain(31337, REGISTRY), "Grant", _grant(patient=account.address)
    )
    assert json.loads(eip712.dumps(payload))["message"]["purpose"] == "0x" + "33" * 32
    signature = eip712.sign(account, payload)
    assert len(signature) == 65
    assert eip712.recover(payload, signature) == account.address


def test_digest_binds_chain_id_and_contract():
    message = _grant()
    base = eip712.digest(eip712.typed_data(eip712.consent_domain(31337, REGISTRY), "Grant", message))
    other_chain = eip712.digest(eip712.typed_data(eip712.consent_domain(1, REGISTRY), "Grant", message))
    other_contract = eip712.digest(
        eip712.typed_data(eip712.consent_domain(31337, "0x" + "44" * 20), "Grant", message)
    )
    assert len({base, other_chain, other_contract}) == 3


def test_digest_follows_eip712_by_hand():
    domain = eip712.consent_domain(31337, REGISTRY)
    message = _grant()
    domain_hash = keccak(
        keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
        + keccak(text="CareChain ConsentRegistry")
        + keccak(text="1")
        + (31337).to_bytes(32, "big")
        + bytes(12)
        + bytes.fromhex(REGISTRY[2:])
    )
    struct_hash = keccak(
        keccak(text=eip712.type_string("Grant"))
        + bytes(12)
        + bytes.fromhex("11" * 20)
        + bytes(12)
        + bytes.fromhex("22" * 20)
        + b"\x33" * 32
        + (5).to_bytes(32, "big")
        + bytes(32)
        + bytes(32)
        + (2_000_000_000).to_bytes(32, "big")
    )
    assert eip712.digest(eip712.typed_data(domain, "Grant", message)) == keccak(
        b"\x19\x01" + domain_hash + struct_hash
    )


def test_missing_field_is_refused():
    message = _grant()
    del message["deadline"]
    with pytest.raises(ValueError, match="deadline"):
        eip712.typed_data(eip712.consent_domain(31337, REGISTRY), "Grant", message)


def test_export_types_lists_every_signed_action():
    exported = eip712.export_types()["ConsentRegistry"]
    assert exported["domain"] == {"name": "CareChain ConsentRegistry", "version": "1"}
    assert set(exported["typeStrings"]) == {"Grant", "Revoke"}
    assert exported["types"]["EIP712Domain"] == eip712.DOMAIN_TYPE
