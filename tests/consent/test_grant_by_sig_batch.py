"""ConsentRegistry.grantBySigBatch: many patients' signed consents submitted in one transaction."""

import pytest
from conftest import GENOMICS, HMB, LABS, TREAT, hex32, reverts, sign_grant, values
from eth_account import Account


@pytest.fixture
def cohort():
    """Three patients who only sign."""
    return [Account.create() for _ in range(3)]


def test_batch_grants_every_patients_consent(registry, cohort, grantee, relayer):
    batch = [sign_grant(registry, member, grantee, HMB, LABS << i) for i, member in enumerate(cohort)]
    tx = registry.grantBySigBatch(batch, {"from": relayer})
    for i, member in enumerate(cohort):
        assert values(registry.getConsent(member.address, grantee, HMB)) == (LABS << i, tx.timestamp, 0, 0)
        assert registry.nonces(member.address) == 1
    assert tx.events["ConsentGranted"] == [
        {"patient": member.address, "grantee": grantee, "purpose": hex32(HMB), "scopes": LABS << i,
         "expiresAt": 0, "actor": member.address}
        for i, member in enumerate(cohort)
    ]


def test_batch_takes_one_patients_consecutive_nonces(registry, signer, grantee, relayer):
    batch = [sign_grant(registry, signer, grantee, HMB, LABS, nonce=0),
             sign_grant(registry, signer, grantee, TREAT, GENOMICS, nonce=1)]
    tx = registry.grantBySigBatch(batch, {"from": relayer})
    assert registry.nonces(signer.address) == 2
    assert registry.isPermitted(signer.address, grantee, HMB, LABS)
    assert registry.isPermitted(signer.address, grantee, TREAT, GENOMICS)
    assert [event["purpose"] for event in tx.events["ConsentGranted"]] == [hex32(HMB), hex32(TREAT)]


def test_empty_batch_reverts(registry, relayer):
    with reverts("EmptyBatch"):
        registry.grantBySigBatch([], {"from": relayer})


def test_one_forged_item_reverts_the_whole_batch(registry, cohort, grantee, relayer):
    batch = [sign_grant(registry, member, grantee) for member in cohort]
    victim = cohort[1].address
    batch[1] = sign_grant(registry, Account.create(), grantee, patient=victim)
    with reverts("InvalidSignature", victim):
        registry.grantBySigBatch(batch, {"from": relayer})
    for member in cohort:
        assert values(registry.getConsent(member.address, grantee, HMB)) == (0, 0, 0, 0)
        assert registry.nonces(member.address) == 0


def test_one_expired_item_reverts_the_whole_batch(registry, cohort, grantee, relayer):
    batch = [sign_grant(registry, member, grantee) for member in cohort]
    batch[2] = sign_grant(registry, cohort[2], grantee, deadline=1)
    with reverts("SignatureExpired", 1, ...):
        registry.grantBySigBatch(batch, {"from": relayer})
    assert not registry.isPermitted(cohort[0].address, grantee, HMB, LABS)


def test_item_repeated_in_a_batch_reverts(registry, signer, grantee, relayer):
    signed = sign_grant(registry, signer, grantee)
    with reverts("InvalidAccountNonce", signer.address, 1):
        registry.grantBySigBatch([signed, signed], {"from": relayer})
    assert registry.nonces(signer.address) == 0
    assert not registry.isPermitted(signer.address, grantee, HMB, LABS)


def test_item_already_submitted_reverts_the_batch(registry, cohort, grantee, relayer):
    batch = [sign_grant(registry, member, grantee) for member in cohort]
    registry.grantBySig(batch[0], {"from": relayer})
    with reverts("InvalidAccountNonce", cohort[0].address, 1):
        registry.grantBySigBatch(batch, {"from": relayer})
    assert not registry.isPermitted(cohort[1].address, grantee, HMB, LABS)


def test_batch_item_with_expiry(registry, signer, grantee, relayer):
    expires_at = 2**40
    tx = registry.grantBySigBatch([sign_grant(registry, signer, grantee, expires_at=expires_at)],
                                  {"from": relayer})
    assert values(registry.getConsent(signer.address, grantee, HMB)) == (LABS, tx.timestamp, expires_at, 0)
    assert tx.events["ConsentGranted"] == {
        "patient": signer.address, "grantee": grantee, "purpose": hex32(HMB), "scopes": LABS,
        "expiresAt": expires_at, "actor": signer.address,
    }
