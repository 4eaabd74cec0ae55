"""`python -m carechain.dev.vectors > docs/vectors/key-derivation.json`: the key scheme's test vectors.

Every value is computed from the fixed inputs below, never typed: Anvil's first dev key as the wallet
(a published test key, so no patient's), chain 31337 and Anvil's first deployment address as the
ConsentGrants contract, and the bytes 0x00..0x1f as a keystore secret. tests/unit/test_key_derivation.py
recomputes each value its own way and checks that this file still writes the committed one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from eth_account import Account
from eth_utils.crypto import keccak

from carechain.core import eip712, grants, keys
from carechain.core.grants import AgentKind, GrantInput, Op, Policy
from carechain.offchain.scopes import ScopeTree

WALLET_KEY: Final = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # Anvil's account 0
CHAIN_ID: Final = 31337
GRANTS_CONTRACT: Final = "0x5FbDB2315678afecb367f032d93F642f64180aa3"  # Anvil's first deployment
SECRET: Final = bytes(range(32))
INDICES: Final = (0, 1, 2**32 - 1)
SECRET_INDICES: Final = (0, 1)
GRANTEE: Final = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # Anvil's account 1
AGENT: Final = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"  # Anvil's account 2
SUB_GRANTEE: Final = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"  # Anvil's account 3
ZERO_ADDRESS: Final = "0x" + "00" * 20
CATEGORIES: Final = ("labs", "imaging", "genomics")
POLICY: Final = Policy(
    not_before=1_767_225_600,  # 2026-01-01
    expires_at=1_798_761_600,  # 2027-01-01
    ops=Op.READ | Op.QUERY,
    purpose_code=6,
    uses_max=100,
    agent_kind=AgentKind.SESSION_KEY,
    flags=grants.FLAG_SCOPE_IS_ROOT | grants.FLAG_DELEGABLE,
)
JSON_SAFE: Final = 2**53 - 1  # larger whole numbers are written as decimal strings, as JS reads them


def generate() -> dict[str, Any]:
    """The vectors, as docs/vectors/key-derivation.json holds them."""
    wallet = Account.from_key(WALLET_KEY)
    typed = keys.derivation_typed_data(CHAIN_ID, GRANTS_CONTRACT)
    signature = keys.sign_derivation(wallet, CHAIN_ID, GRANTS_CONTRACT)
    roots = {
        "signature": keys.KeyRoot.from_signature(signature),
        "keystoreSecret": keys.KeyRoot.from_secret(SECRET),
    }
    subject = roots["signature"].grant_keys("subject", 0)
    tree = ScopeTree(subject.scope_salt, [grants.category_scope(name) for name in CATEGORIES])
    grant = GrantInput(
        tree.root,
        keccak(text="carechain:example:purpose-profile/v1"),
        keccak(text="carechain:example:terms/v1"),
        1,
        subject.commitment,
        GRANTEE,
        AGENT,
        POLICY,
    )
    domain = grants.grant_domain(CHAIN_ID, GRANTS_CONTRACT)
    grant_id = subject.commitment  # a root grant's id is its subjectCommit
    withdrawn = tree.leaf(grants.category_scope("genomics"))
    child = GrantInput(
        grants.resource_hash(subject.scope_salt, grants.category_scope("labs")),
        grant.purpose_profile_ref,
        grant.terms_ref,
        grant.asset_token_id,
        grant.subject_commit,
        SUB_GRANTEE,
        ZERO_ADDRESS,
        Policy(POLICY.not_before, POLICY.expires_at, Op.READ, POLICY.purpose_code, 10),
    )
    vectors: dict[str, Any] = _json(
        {
            "about": "Test vectors of CareChain's key scheme carechain/keys/v1 and of the ERC-8356 grant "
            "typed data; generated from the inputs, never edited: python -m carechain.dev.vectors",
            "specification": "docs/key-derivation.md",
            "inputs": {
                "walletPrivateKey": WALLET_KEY,
                "walletAddress": wallet.address,
                "chainId": CHAIN_ID,
                "verifyingContract": GRANTS_CONTRACT,
                "keystoreSecret": SECRET,
            },
            "keyDerivation": {
                **_hashes(
                    eip712.encode_type("KeyDerivation", keys.KEY_DERIVATION_FIELDS),
                    keys.derivation_domain(CHAIN_ID, GRANTS_CONTRACT),
                ),
                "typedData": typed,
                "digest": eip712.digest(typed),
                "signature": signature,
                "prk": roots["signature"].prk,
            },
            "keystoreSecret": {"ikm": SECRET, "prk": roots["keystoreSecret"].prk},
            "grantKeys": [
                _grant_keys(source, roots[source], role, index)
                for source, indices in (("signature", INDICES), ("keystoreSecret", SECRET_INDICES))
                for role in keys.ROLES
                for index in indices
            ],
            "policy": {**_policy(POLICY), "packed": hex(POLICY.pack())},
            "scope": {
                "scopeSalt": subject.scope_salt,
                "root": tree.root,
                "leaves": [
                    {
                        "name": name,
                        "resourceId": grants.resource_id(subject.scope_salt, name),
                        "resourceHash": grants.resource_hash(subject.scope_salt, name),
                        "leaf": tree.leaf(name),
                        "proof": tree.proof(name),
                    }
                    for name in tree.names
                ],
            },
            "grant": _signed(subject, grants.grant_typed_data(domain, grant, 0)),
            "revokeBySubject": _signed(
                subject,
                grants.revoke_typed_data(domain, grant_id, keccak(text="carechain:example:reason"), 1),
            ),
            "revokeScopeLeaf": _signed(
                subject, grants.revoke_leaf_typed_data(domain, grant_id, withdrawn, 2)
            ),
            "burnNonce": _signed(subject, grants.burn_nonce_typed_data(domain, subject.commitment, 3)),
            "subGrant": {
                "parentGrantId": grant_id,
                "grant": dict(
                    zip((f["name"] for f in grants.TYPES["Grant"]), child.as_tuple(), strict=False)
                ),
                "policy": _policy(child.policy),
                "subGrantId": grants.sub_grant_id(grant_id, child),
            },
        }
    )
    return vectors


def _grant_keys(source: str, root: keys.KeyRoot, role: keys.Role, index: int) -> dict[str, Any]:
    granted = root.grant_keys(role, index)
    return {
        "root": source,
        "role": role,
        "index": index,
        "info": keys.info(role, index),
        "okm": keys.expand(root.prk, role, index),
        "privateKey": granted.private_key,
        "address": granted.address,
        "subjectSalt": granted.salt,
        "scopeSalt": granted.scope_salt,
        "subjectCommit": granted.commitment,
    }


def _policy(policy: Policy) -> dict[str, int]:
    return {
        "notBefore": policy.not_before,
        "expiresAt": policy.expires_at,
        "ops": policy.ops,
        "purposeCode": policy.purpose_code,
        "usesMax": policy.uses_max,
        "agentKind": policy.agent_kind,
        "flags": policy.flags,
    }


def _signed(subject: keys.GrantKeys, payload: dict[str, Any]) -> dict[str, Any]:
    """A payload, its hashes and the index-0 subject key's signature and subjectSig of it."""
    signature = grants.sign(subject, payload)
    return {
        **_hashes(grants.type_string(payload["primaryType"]), grants.grant_domain(CHAIN_ID, GRANTS_CONTRACT)),
        "typedData": payload,
        "digest": eip712.digest(payload),
        "signer": subject.address,
        "signature": signature,
        "subjectSig": grants.subject_sig(subject.salt, signature),
    }


def _hashes(type_string: str, domain: eip712.Domain) -> dict[str, Any]:
    """What a contract hard-codes: the type string, its hash and the domain separator."""
    return {
        "typeString": type_string,
        "typeHash": keccak(text=type_string),
        "domainSeparator": eip712.domain_separator(domain),
    }


def _json(value: Any) -> Any:
    """Bytes as 0x-hex, whole numbers past 2^53 - 1 as decimal strings, enums as their numbers."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value) if value <= JSON_SAFE else str(value)
    if isinstance(value, Mapping):
        return {key: _json(item) for key, item in value.items()}
    return [_json(item) for item in value]


def main() -> int:
    print(json.dumps(generate(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
