"""ConsentRegistry.revoke / revokeFor: a consent permits nothing from the revoking block on."""

import pytest
from brownie import chain
from conftest import GENOMICS, HMB, LABS, NEVER, TREAT, hex32, now, reverts, values

from carechain.core.purposes import ANY_GRANTEE

pytestmark = pytest.mark.usefixtures("synced_clock")


@pytest.fixture
def granted_at(registry, patient, grantee):
    """When the patient's live HMB consent (LABS, no expiry) to the grantee was granted."""
    return registry.grant(grantee, HMB, LABS, NEVER, {"from": patient}).timestamp


def test_revoke_records_time_and_emits_event(registry, patient, grantee, granted_at):
    tx = registry.revoke(grantee, HMB, {"from": patient})
    assert values(registry.getConsent(patient, grantee, HMB)) == (LABS, granted_at, 0, tx.timestamp)
    assert not registry.isPermitted(patient, grantee, HMB, LABS)
    assert tx.events["ConsentRevoked"] == {
        "patient": patient, "grantee": grantee, "purpose": hex32(HMB), "actor": patient,
    }


def test_revoke_leaves_other_consents_alone(registry, patient, grantee, stranger, granted_at):
    registry.grant(grantee, TREAT, LABS, NEVER, {"from": patient})
    registry.grant(stranger, HMB, LABS, NEVER, {"from": patient})
    registry.revoke(grantee, HMB, {"from": patient})
    assert registry.isPermitted(patient, grantee, TREAT, LABS)
    assert registry.isPermitted(patient, stranger, HMB, LABS)


def test_revoking_the_wildcard_stops_every_grantee(registry, patient, grantee, stranger):
    registry.grant(ANY_GRANTEE, HMB, LABS, NEVER, {"from": patient})
    tx = registry.revoke(ANY_GRANTEE, HMB, {"from": patient})
    assert not registry.isPermitted(patient, grantee, HMB, LABS)
    assert not registry.isPermitted(patient, stranger, HMB, LABS)
    assert tx.events["ConsentRevoked"] == {
        "patient": patient, "grantee": ANY_GRANTEE, "purpose": hex32(HMB), "actor": patient,
    }


def test_delegate_revokes_for_patient(registry, patient, grantee, delegate, granted_at):
    registry.setDelegate(delegate, NEVER, {"from": patient})
    tx = registry.revokeFor(patient, grantee, HMB, {"from": delegate})
    assert values(registry.getConsent(patient, grantee, HMB)) == (LABS, granted_at, 0, tx.timestamp)
    assert tx.events["ConsentRevoked"] == {
        "patient": patient, "grantee": grantee, "purpose": hex32(HMB), "actor": delegate,
    }


def test_patient_may_revoke_for_themself(registry, patient, grantee, granted_at):
    tx = registry.revokeFor(patient, grantee, HMB, {"from": patient})
    assert values(registry.getConsent(patient, grantee, HMB)) == (LABS, granted_at, 0, tx.timestamp)
    assert tx.events["ConsentRevoked"]["actor"] == patient


def test_stranger_cannot_revoke_for_patient(registry, patient, grantee, stranger, granted_at):
    with reverts("NotPatientOrDelegate", stranger.address, patient.address):
        registry.revokeFor(patient, grantee, HMB, {"from": stranger})
    assert registry.isPermitted(patient, grantee, HMB, LABS)


def test_grantee_cannot_revoke_for_patient(registry, patient, grantee, granted_at):
    with reverts("NotPatientOrDelegate", grantee.address, patient.address):
        registry.revokeFor(patient, grantee, HMB, {"from": grantee})
    assert registry.isPermitted(patient, grantee, HMB, LABS)


def test_revoke_of_never_granted_consent_reverts(registry, patient, grantee):
    with reverts("ConsentNotRevocable", patient.address, grantee.address, HMB):
        registry.revoke(grantee, HMB, {"from": patient})


def test_revoke_twice_reverts_and_keeps_first_time(registry, patient, grantee, granted_at):
    revoked_at = registry.revoke(grantee, HMB, {"from": patient}).timestamp
    chain.sleep(60)
    with reverts("ConsentNotRevocable", patient.address, grantee.address, HMB):
        registry.revoke(grantee, HMB, {"from": patient})
    assert values(registry.getConsent(patient, grantee, HMB)) == (LABS, granted_at, 0, revoked_at)


def test_expired_consent_can_still_be_revoked(registry, patient, grantee):
    """The record then shows the patient's will, not only the lapse."""
    expires_at = now() + 3600
    granted = registry.grant(grantee, HMB, GENOMICS, expires_at, {"from": patient}).timestamp
    chain.sleep(3601)
    chain.mine()
    tx = registry.revoke(grantee, HMB, {"from": patient})
    assert values(registry.getConsent(patient, grantee, HMB)) == (GENOMICS, granted, expires_at, tx.timestamp)
    assert tx.events["ConsentRevoked"] == {
        "patient": patient, "grantee": grantee, "purpose": hex32(HMB), "actor": patient,
    }
