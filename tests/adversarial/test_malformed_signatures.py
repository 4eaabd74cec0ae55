"""Every signed entry point refuses the malleable high-s twin of a valid signature (s' = n - s, v
flipped: bare ecrecover still recovers the patient) and signatures of the wrong length (0, 64 — the
EIP-2098 short form is not read — and 66 bytes), each with InvalidSignature(patient) and no state
change; the untouched signature then goes through, so the request itself was valid.

Where the rest of the adversarial list lives: tests/consent/test_grant_by_sig.py (replays, deadlines,
altered fields, compact and 63/130-byte forms), tests/consent/test_eip712_domain.py and
tests/access/test_grant_by_sig.py (domain binding), tests/consent/test_erc1271.py (contract wallets on
ConsentRegistry), tests/trials/test_reveal.py (a copied blinded commitment) and, here,
test_contract_wallets.py, test_front_running.py and test_cross_chain.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from brownie import chain
from conftest import (
    LABS,
    category,
    content_hash,
    now,
    record_id,
    reverts,
    sign_access_grant,
    sign_access_revoke,
    sign_grant,
    sign_revoke,
)
from eth_account.signers.local import LocalAccount
from eth_keys import keys

from carechain.core import eip712

pytestmark = pytest.mark.usefixtures("synced_clock")

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
RECORD = record_id("adversarial-lab-1")


def high_s(signature: bytes) -> bytes:
    """The malleable twin: (r, n - s, v flipped) recovers the same key from the same digest."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64]), signature[64]
    return r + (SECP256K1_N - s).to_bytes(32) + bytes([55 - v])  # v: 27 <-> 28


MALFORMED = {
    "high-s": high_s,
    "empty": lambda signature: b"",
    "64-bytes": lambda signature: signature[:64],
    "66-bytes": lambda signature: signature + b"\x00",
}


def sign_record(access: Any, account: LocalAccount, kind: str, **fields: Any) -> tuple[Any, ...]:
    """Arguments of a one-record grant or revocation by signature (EIP-712 `RecordAccess...`)."""
    message = {
        "patient": account.address,
        **fields,
        "nonce": access.nonces(account.address),
        "deadline": now() + 3600,
    }
    domain = eip712.contract_domain("AccessGrants", chain.id, access.address)
    return (*message.values(), eip712.sign(account, eip712.typed_data(domain, kind, message, "AccessGrants")))


def request(entry: str, registry, access, signer, grantee, provider, relayer) -> tuple[Any, list, Any]:
    """(function, arguments, the contract whose nonce the signature spends) of one signed entry point,
    with whatever the request needs already on chain (a consent or grant to revoke)."""
    if entry == "ConsentRegistry.grantBySig":
        return registry.grantBySig, [sign_grant(registry, signer, grantee)], registry
    if entry == "ConsentRegistry.grantBySigBatch":
        return registry.grantBySigBatch, [[sign_grant(registry, signer, grantee)]], registry
    if entry == "ConsentRegistry.revokeBySig":
        registry.grantBySig(sign_grant(registry, signer, grantee), {"from": relayer})
        return registry.revokeBySig, list(sign_revoke(registry, signer, grantee)), registry
    if entry == "AccessGrants.grantAccessBySig":
        return access.grantAccessBySig, list(sign_access_grant(access, signer, provider)), access
    if entry == "AccessGrants.revokeAccessBySig":
        access.grantAccessBySig(*sign_access_grant(access, signer, provider), {"from": relayer})
        return access.revokeAccessBySig, list(sign_access_revoke(access, signer, provider)), access
    fields = {"provider": str(provider), "recordId": RECORD}
    grant = sign_record(access, signer, "RecordAccessGrant", **fields, expiresAt=now() + 86400)
    if entry == "AccessGrants.grantRecordAccessBySig":
        return access.grantRecordAccessBySig, list(grant), access
    access.grantRecordAccessBySig(*grant, {"from": relayer})
    return (
        access.revokeRecordAccessBySig,
        list(sign_record(access, signer, "RecordAccessRevoke", **fields)),
        access,
    )


def with_signature(entry: str, arguments: list, signature: bytes) -> list:
    """The same arguments with the signature replaced (it sits inside the struct for grantBySig)."""
    if entry == "ConsentRegistry.grantBySig":
        return [(*arguments[0][:-1], signature)]
    if entry == "ConsentRegistry.grantBySigBatch":
        return [[(*arguments[0][0][:-1], signature)]]
    return [*arguments[:-1], signature]


def signature_of(entry: str, arguments: list) -> bytes:
    if entry == "ConsentRegistry.grantBySig":
        return arguments[0][-1]
    if entry == "ConsentRegistry.grantBySigBatch":
        return arguments[0][0][-1]
    return arguments[-1]


ENTRIES = [
    "ConsentRegistry.grantBySig",
    "ConsentRegistry.grantBySigBatch",
    "ConsentRegistry.revokeBySig",
    "AccessGrants.grantAccessBySig",
    "AccessGrants.revokeAccessBySig",
    "AccessGrants.grantRecordAccessBySig",
    "AccessGrants.revokeRecordAccessBySig",
]


@pytest.fixture
def signer_record(records, custodian, signer):
    records.anchor(
        RECORD, signer.address, category(LABS), content_hash("adversarial-lab-1"), {"from": custodian}
    )
    return RECORD


@pytest.mark.parametrize("malform", MALFORMED, ids=list(MALFORMED))
@pytest.mark.parametrize("entry", ENTRIES)
def test_malformed_signature_is_refused_then_the_real_one_passes(
    entry, malform, registry, access, signer, grantee, provider, relayer, signer_record
):
    function, arguments, nonces = request(entry, registry, access, signer, grantee, provider, relayer)
    nonce = nonces.nonces(signer.address)
    bad = MALFORMED[malform](signature_of(entry, arguments))
    with reverts("InvalidSignature", signer.address):
        function(*with_signature(entry, arguments, bad), {"from": relayer})
    assert nonces.nonces(signer.address) == nonce
    tx = function(*arguments, {"from": relayer})
    assert tx.status == 1 and nonces.nonces(signer.address) == nonce + 1
    emitted = tx.events.keys()  # (brownie's EventDict iterates over events, not their names)
    assert any(name.endswith(("Granted", "Revoked")) for name in emitted)


def test_high_s_twin_recovers_the_patient_to_bare_ecrecover(registry, signer, grantee):
    """The twin is no random garbage: only the low-s rule tells it from the original."""
    signed = sign_grant(registry, signer, grantee)
    message = dict(
        zip(
            ["patient", "grantee", "purpose", "scopes", "expiresAt", "nonce", "deadline"],
            signed[:7],
            strict=True,
        )
    )
    digest = eip712.digest(
        eip712.typed_data(eip712.consent_domain(chain.id, registry.address), "Grant", message)
    )
    twin = high_s(signed[-1])
    r, s = int.from_bytes(twin[:32]), int.from_bytes(twin[32:64])
    assert s > SECP256K1_N // 2
    recovered = keys.Signature(vrs=(twin[64] - 27, r, s)).recover_public_key_from_msg_hash(digest)
    assert recovered.to_checksum_address() == signer.address
