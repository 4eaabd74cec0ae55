"""ConsentRegistry.grantBySig / useNonce: a patient signs a consent (EIP-712), anyone relays it."""

import pytest
from brownie import ZERO_ADDRESS, chain, web3
from conftest import GENOMICS, HMB, LABS, TREAT, hex32, now, reverts, sign_grant, sign_revoke, values
from eth_account import Account
from eth_keys import keys

from carechain.core import eip712

pytestmark = pytest.mark.usefixtures("synced_clock")

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
PATIENT, GRANTEE, PURPOSE, SCOPES, EXPIRES_AT, NONCE, DEADLINE, SIGNATURE = range(8)


def replace(signed: tuple, field: int, value) -> tuple:
    """The signed grant with one field changed after signing (what a dishonest relayer would send)."""
    return (*signed[:field], value, *signed[field + 1:])


def high_s(signature: bytes) -> bytes:
    """The malleable twin of an ECDSA signature: (r, n - s, v flipped) recovers the same key."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64]), signature[64]
    return r + (SECP256K1_N - s).to_bytes(32) + bytes([55 - v])  # v: 27 <-> 28


def compact(signature: bytes) -> bytes:
    """The EIP-2098 64-byte form of a signature: r || (v - 27) << 255 | s."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64]), signature[64]
    return r + ((v - 27) << 255 | s).to_bytes(32)


def grant_digest(registry, signed: tuple) -> bytes:
    """The EIP-712 digest a signed grant's signature is made over."""
    message = dict(zip(["patient", "grantee", "purpose", "scopes", "expiresAt", "nonce", "deadline"],
                       signed[:SIGNATURE], strict=True))
    domain = eip712.consent_domain(chain.id, registry.address)
    return eip712.digest(eip712.typed_data(domain, "Grant", message))


def test_relayed_grant_by_fresh_key_without_ether(registry, signer, grantee, relayer):
    expires_at = now() + 86400
    signed = sign_grant(registry, signer, grantee, HMB, LABS | GENOMICS, expires_at)
    tx = registry.grantBySig(signed, {"from": relayer})
    consent = values(registry.getConsent(signer.address, grantee, HMB))
    assert consent == (LABS | GENOMICS, tx.timestamp, expires_at, 0)
    assert registry.isPermitted(signer.address, grantee, HMB, LABS | GENOMICS)
    assert registry.nonces(signer.address) == 1
    assert web3.eth.get_balance(signer.address) == 0
    assert tx.events["ConsentGranted"] == {
        "patient": signer.address, "grantee": grantee, "purpose": hex32(HMB), "scopes": LABS | GENOMICS,
        "expiresAt": expires_at, "actor": signer.address,
    }


def test_nonces_advance_one_per_signature(registry, signer, grantee, relayer):
    registry.grantBySig(sign_grant(registry, signer, grantee, HMB), {"from": relayer})
    registry.grantBySig(sign_grant(registry, signer, grantee, TREAT), {"from": relayer})
    assert registry.nonces(signer.address) == 2
    assert registry.isPermitted(signer.address, grantee, TREAT, LABS)


def test_replayed_signature_reverts(registry, signer, grantee, relayer):
    """Revoked first, so only the spent nonce stands between the replay and a new consent."""
    signed = sign_grant(registry, signer, grantee)
    registry.grantBySig(signed, {"from": relayer})
    registry.revokeBySig(*sign_revoke(registry, signer, grantee), {"from": relayer})
    with reverts("InvalidAccountNonce", signer.address, 2):
        registry.grantBySig(signed, {"from": relayer})
    assert not registry.isPermitted(signer.address, grantee, HMB, LABS)


def test_signature_for_a_future_nonce_reverts(registry, signer, grantee, relayer):
    with reverts("InvalidAccountNonce", signer.address, 0):
        registry.grantBySig(sign_grant(registry, signer, grantee, nonce=1), {"from": relayer})


def test_expired_deadline_reverts(registry, signer, grantee, relayer):
    deadline = now() + 60
    signed = sign_grant(registry, signer, grantee, deadline=deadline)
    chain.sleep(120)
    chain.mine()
    with reverts("SignatureExpired", deadline, ...):
        registry.grantBySig(signed, {"from": relayer})
    assert registry.nonces(signer.address) == 0


def test_signature_for_another_chain_id_reverts(registry, signer, grantee, relayer):
    signed = sign_grant(registry, signer, grantee, chain_id=chain.id + 1)
    with reverts("InvalidSignature", signer.address):
        registry.grantBySig(signed, {"from": relayer})


def test_signature_for_another_contract_reverts(registry, signer, grantee, relayer, stranger):
    signed = sign_grant(registry, signer, grantee, verifying_contract=stranger.address)
    with reverts("InvalidSignature", signer.address):
        registry.grantBySig(signed, {"from": relayer})


def test_signature_for_one_deployment_fails_on_another(ConsentRegistry, registry, signer, grantee, relayer):
    second = ConsentRegistry.deploy({"from": relayer})
    signed = sign_grant(registry, signer, grantee)
    with reverts("InvalidSignature", signer.address):
        second.grantBySig(signed, {"from": relayer})
    registry.grantBySig(signed, {"from": relayer})
    assert registry.isPermitted(signer.address, grantee, HMB, LABS)


def test_signature_by_another_key_reverts(registry, signer, grantee, relayer):
    forged = sign_grant(registry, Account.create(), grantee, patient=signer.address)
    with reverts("InvalidSignature", signer.address):
        registry.grantBySig(forged, {"from": relayer})
    assert registry.nonces(signer.address) == 0


@pytest.mark.parametrize(("field", "value"), [
    (GRANTEE, "0x" + "11" * 20), (PURPOSE, TREAT), (SCOPES, LABS | GENOMICS), (EXPIRES_AT, 2**40),
    (DEADLINE, 2**40),
], ids=["grantee", "purpose", "scopes", "expiresAt", "deadline"])
def test_relayer_cannot_alter_a_signed_field(registry, signer, grantee, relayer, field, value):
    tampered = replace(sign_grant(registry, signer, grantee), field, value)
    with reverts("InvalidSignature", signer.address):
        registry.grantBySig(tampered, {"from": relayer})


def test_zero_patient_reverts(registry, signer, grantee, relayer):
    signed = replace(sign_grant(registry, signer, grantee), PATIENT, ZERO_ADDRESS)
    with reverts("InvalidPatient", ZERO_ADDRESS):
        registry.grantBySig(signed, {"from": relayer})


def test_high_s_twin_of_a_valid_signature_reverts(registry, signer, grantee, relayer):
    signed = sign_grant(registry, signer, grantee)
    twin = high_s(signed[SIGNATURE])
    # The twin is a valid signature to bare ecrecover; only the low-s rule refuses it.
    r, s, v = int.from_bytes(twin[:32]), int.from_bytes(twin[32:64]), twin[64] - 27
    assert s > SECP256K1_N // 2
    recovered = keys.Signature(vrs=(v, r, s)).recover_public_key_from_msg_hash(grant_digest(registry, signed))
    assert recovered.to_checksum_address() == signer.address
    with reverts("InvalidSignature", signer.address):
        registry.grantBySig(replace(signed, SIGNATURE, twin), {"from": relayer})
    registry.grantBySig(signed, {"from": relayer})
    assert registry.isPermitted(signer.address, grantee, HMB, LABS)


@pytest.mark.parametrize("malform", [
    lambda sig: b"", lambda sig: sig[:63], lambda sig: sig + b"\x00", lambda sig: sig * 2,
], ids=["empty", "63-bytes", "66-bytes", "130-bytes"])
def test_wrong_length_signature_reverts(registry, signer, grantee, relayer, malform):
    signed = sign_grant(registry, signer, grantee)
    with reverts("InvalidSignature", signer.address):
        registry.grantBySig(replace(signed, SIGNATURE, malform(signed[SIGNATURE])), {"from": relayer})
    assert registry.nonces(signer.address) == 0


def test_compact_eip2098_signature_reverts(registry, signer, grantee, relayer):
    """OpenZeppelin 5 reads only 65-byte signatures: the 64-byte short form is a second encoding."""
    signed = sign_grant(registry, signer, grantee)
    with reverts("InvalidSignature", signer.address):
        registry.grantBySig(replace(signed, SIGNATURE, compact(signed[SIGNATURE])), {"from": relayer})


def test_signature_for_a_live_consent_reverts(registry, signer, grantee, relayer):
    registry.grantBySig(sign_grant(registry, signer, grantee), {"from": relayer})
    with reverts("ConsentAlreadyActive", signer.address, grantee.address, HMB):
        registry.grantBySig(sign_grant(registry, signer, grantee, scopes=GENOMICS), {"from": relayer})
    assert registry.nonces(signer.address) == 1


def test_grant_by_sig_is_validated_like_a_grant(registry, signer, relayer, grantee):
    with reverts("InvalidGrantee", ZERO_ADDRESS):
        registry.grantBySig(sign_grant(registry, signer, ZERO_ADDRESS), {"from": relayer})
    with reverts("EmptyScopes"):
        registry.grantBySig(sign_grant(registry, signer, grantee, scopes=0), {"from": relayer})
    past = now() - 10
    with reverts("InvalidExpiry", past, ...):
        registry.grantBySig(sign_grant(registry, signer, grantee, expires_at=past), {"from": relayer})


def test_use_nonce_burns_a_pending_signature(registry, signer, funded_signer, grantee, relayer):
    signed = sign_grant(registry, signer, grantee)
    tx = registry.useNonce({"from": funded_signer})
    assert tx.events["NonceUsed"] == {"patient": signer.address, "nonce": 0}
    assert registry.nonces(signer.address) == 1
    with reverts("InvalidAccountNonce", signer.address, 1):
        registry.grantBySig(signed, {"from": relayer})
    assert not registry.isPermitted(signer.address, grantee, HMB, LABS)


def test_use_nonce_returns_the_burned_nonce(registry, patient):
    registry.useNonce({"from": patient})
    assert registry.useNonce.call({"from": patient}) == 1
    tx = registry.useNonce({"from": patient})
    assert tx.events["NonceUsed"] == {"patient": patient, "nonce": 1}
    assert registry.nonces(patient) == 2
