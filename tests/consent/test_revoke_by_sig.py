"""ConsentRegistry.revokeBySig: a patient signs a revocation (EIP-712 `Revoke`), anyone relays it."""

import pytest
from brownie import ZERO_ADDRESS, chain, web3
from conftest import HMB, LABS, TREAT, hex32, now, reverts, sign_grant, sign_revoke, values
from eth_account import Account

pytestmark = pytest.mark.usefixtures("synced_clock")

PATIENT, GRANTEE = 0, 1  # positions in the arguments of revokeBySig


@pytest.fixture
def granted_at(registry, signer, grantee, relayer):
    """When the signer's HMB consent (LABS) to the grantee was relayed; it spent nonce 0."""
    return registry.grantBySig(sign_grant(registry, signer, grantee), {"from": relayer}).timestamp


def test_relayed_revoke(registry, signer, grantee, relayer, granted_at):
    tx = registry.revokeBySig(*sign_revoke(registry, signer, grantee), {"from": relayer})
    assert values(registry.getConsent(signer.address, grantee, HMB)) == (LABS, granted_at, 0, tx.timestamp)
    assert not registry.isPermitted(signer.address, grantee, HMB, LABS)
    assert registry.nonces(signer.address) == 2
    assert web3.eth.get_balance(signer.address) == 0
    assert tx.events["ConsentRevoked"] == {
        "patient": signer.address, "grantee": grantee, "purpose": hex32(HMB), "actor": signer.address,
    }


def test_replayed_revoke_reverts_and_spares_a_new_grant(registry, signer, grantee, relayer, granted_at):
    signed = sign_revoke(registry, signer, grantee)
    registry.revokeBySig(*signed, {"from": relayer})
    registry.grantBySig(sign_grant(registry, signer, grantee), {"from": relayer})
    with reverts("InvalidAccountNonce", signer.address, 3):
        registry.revokeBySig(*signed, {"from": relayer})
    assert registry.isPermitted(signer.address, grantee, HMB, LABS)


def test_expired_deadline_reverts(registry, signer, grantee, relayer, granted_at):
    deadline = now() + 60
    signed = sign_revoke(registry, signer, grantee, deadline=deadline)
    chain.sleep(120)
    chain.mine()
    with reverts("SignatureExpired", deadline, ...):
        registry.revokeBySig(*signed, {"from": relayer})
    assert registry.isPermitted(signer.address, grantee, HMB, LABS)


def test_signature_by_another_key_reverts(registry, signer, grantee, relayer, granted_at):
    forged = sign_revoke(registry, Account.create(), grantee, patient=signer.address)
    with reverts("InvalidSignature", signer.address):
        registry.revokeBySig(*forged, {"from": relayer})
    assert registry.isPermitted(signer.address, grantee, HMB, LABS)


def test_relayer_cannot_redirect_a_revocation(registry, signer, grantee, relayer, stranger, granted_at):
    """A revocation signed for one grantee cannot be spent on another consent."""
    registry.grantBySig(sign_grant(registry, signer, stranger), {"from": relayer})
    signed = list(sign_revoke(registry, signer, grantee))
    signed[GRANTEE] = stranger.address
    with reverts("InvalidSignature", signer.address):
        registry.revokeBySig(*signed, {"from": relayer})
    assert registry.isPermitted(signer.address, stranger, HMB, LABS)


def test_grant_signature_cannot_revoke(registry, signer, grantee, relayer, granted_at):
    """Grant and Revoke are separate EIP-712 types: a grant's signature is no revocation."""
    signed = sign_grant(registry, signer, grantee)
    patient, to, purpose, _, _, nonce, deadline, signature = signed
    with reverts("InvalidSignature", signer.address):
        registry.revokeBySig(patient, to, purpose, nonce, deadline, signature, {"from": relayer})


def test_zero_patient_reverts(registry, signer, grantee, relayer):
    signed = list(sign_revoke(registry, signer, grantee))
    signed[PATIENT] = ZERO_ADDRESS
    with reverts("InvalidPatient", ZERO_ADDRESS):
        registry.revokeBySig(*signed, {"from": relayer})


def test_revoke_of_never_granted_consent_reverts(registry, signer, grantee, relayer, granted_at):
    with reverts("ConsentNotRevocable", signer.address, grantee.address, TREAT):
        registry.revokeBySig(*sign_revoke(registry, signer, grantee, TREAT), {"from": relayer})
    assert registry.nonces(signer.address) == 1


def test_use_nonce_voids_a_pending_revoke(registry, signer, funded_signer, grantee, relayer, granted_at):
    signed = sign_revoke(registry, signer, grantee)
    registry.useNonce({"from": funded_signer})
    with reverts("InvalidAccountNonce", signer.address, 2):
        registry.revokeBySig(*signed, {"from": relayer})
    assert registry.isPermitted(signer.address, grantee, HMB, LABS)
