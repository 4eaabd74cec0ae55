"""carechain.core.eip712: payloads any wallet signs, recovery, and the exported types."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak

from carechain.core import eip712

ROOT = Path(__file__).resolve().parents[2]
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


ERC_8356_GRANT = (
    "Grant(bytes32 scopeRef,bytes32 purposeProfileRef,bytes32 termsRef,uint256 assetTokenId,"
    "bytes32 subjectCommit,address grantee,address agent,uint256 policy,uint256 nonce)"
)
EXPORTED = eip712.export_types()


def test_the_export_holds_one_primary_type_per_entry():
    """ethers' signTypedData(domain, types, value) refuses two primary types, or EIP712Domain, in `types`."""
    assert set(EXPORTED) == {f"{c}.{p}" for c, types in eip712.TYPES.items() for p in types}
    for key, entry in EXPORTED.items():
        contract, primary = key.split(".")
        assert entry["contract"] == contract and entry["primaryType"] == primary
        assert entry["types"] == {primary: eip712.TYPES[contract][primary]}
        assert entry["domain"] == {"name": eip712.DOMAIN_NAMES[contract], "version": "1"}
        assert set(entry["signerFills"]) == {"chainId", "verifyingContract"}
        assert entry["domainType"] == eip712.DOMAIN_TYPE
        assert entry["typeString"] == eip712.type_string(primary, contract)
        assert entry["typeHash"] == "0x" + keccak(text=entry["typeString"]).hex()


def test_consent_grants_signs_erc_8356s_grant_in_its_domain():
    grant = EXPORTED["ConsentGrants.Grant"]
    assert grant["typeString"] == ERC_8356_GRANT
    assert grant["domain"] == {"name": "ConsentGrant", "version": "1"}
    assert "contracts.ConsentGrants.address" in grant["signerFills"]["verifyingContract"]


def test_the_exported_consent_grants_types_are_the_ones_the_contract_hashes():
    source = (ROOT / "contracts" / "ConsentGrants.sol").read_text()
    hashed = set(re.findall(r'keccak256\(\s*"(\w+\([^"]*\))"\s*\)', source))
    exported = {e["typeString"] for e in EXPORTED.values() if e["contract"] == "ConsentGrants"}
    assert len(hashed) == 4
    assert exported == hashed


@pytest.mark.parametrize("key", sorted(EXPORTED))
def test_an_entry_alone_gives_the_contracts_digest(key):
    """eth-account over an entry as the file holds it (its domain plus the two fields the signer fills) hashes
    what the contract checks."""
    entry = EXPORTED[key]
    primary = entry["primaryType"]
    values = {
        "address": "0x" + "1a" * 20,
        "bytes32": "0x" + "2b" * 32,
        "uint64": 2**64 - 1,
        "uint256": 2**200 + 7,
    }
    message = {f["name"]: values[f["type"]] for f in entry["types"][primary]}
    domain = {**entry["domain"], "chainId": 31337, "verifyingContract": REGISTRY}
    signable = encode_typed_data(domain, entry["types"], message)
    from_file = keccak(b"\x19" + signable.version + signable.header + signable.body)
    separator = eip712.domain_separator(eip712.contract_domain(entry["contract"], 31337, REGISTRY))
    assert from_file == eip712.typed_digest(separator, primary, message, entry["contract"])
