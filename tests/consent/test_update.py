"""ConsentRegistry.update / updateFor: change the scopes or expiry of a live consent."""

import pytest
from brownie import chain
from conftest import GENOMICS, HMB, IMAGING, LABS, NEVER, TREAT, hex32, now, reverts, values

pytestmark = pytest.mark.usefixtures("synced_clock")


@pytest.fixture
def granted_at(registry, patient, grantee):
    """When the patient's live HMB consent (LABS, no expiry) to the grantee was granted."""
    return registry.grant(grantee, HMB, LABS, NEVER, {"from": patient}).timestamp


def test_update_changes_scopes_and_expiry_and_keeps_grant_time(registry, patient, grantee, granted_at):
    expires_at = now() + 86400
    tx = registry.update(grantee, HMB, LABS | GENOMICS, expires_at, {"from": patient})
    assert values(registry.getConsent(patient, grantee, HMB)) == (LABS | GENOMICS, granted_at, expires_at, 0)
    assert tx.events["ConsentUpdated"] == {
        "patient": patient, "grantee": grantee, "purpose": hex32(HMB), "scopes": LABS | GENOMICS,
        "expiresAt": expires_at, "actor": patient,
    }
    assert "ConsentGranted" not in tx.events


def test_update_narrows_what_is_permitted(registry, patient, grantee):
    registry.grant(grantee, HMB, LABS | GENOMICS, NEVER, {"from": patient})
    registry.update(grantee, HMB, LABS, NEVER, {"from": patient})
    assert registry.isPermitted(patient, grantee, HMB, LABS)
    assert not registry.isPermitted(patient, grantee, HMB, GENOMICS)


def test_update_can_lift_an_expiry(registry, patient, grantee):
    tx = registry.grant(grantee, HMB, LABS, now() + 3600, {"from": patient})
    registry.update(grantee, HMB, LABS, NEVER, {"from": patient})
    chain.sleep(7200)
    chain.mine()
    assert values(registry.getConsent(patient, grantee, HMB)) == (LABS, tx.timestamp, 0, 0)
    assert registry.isPermitted(patient, grantee, HMB, LABS)


def test_delegate_updates_for_patient(registry, patient, grantee, delegate, granted_at):
    registry.setDelegate(delegate, NEVER, {"from": patient})
    tx = registry.updateFor(patient, grantee, HMB, IMAGING, NEVER, {"from": delegate})
    assert values(registry.getConsent(patient, grantee, HMB)) == (IMAGING, granted_at, 0, 0)
    assert tx.events["ConsentUpdated"] == {
        "patient": patient, "grantee": grantee, "purpose": hex32(HMB), "scopes": IMAGING, "expiresAt": 0,
        "actor": delegate,
    }


def test_patient_may_update_for_themself(registry, patient, grantee, granted_at):
    tx = registry.updateFor(patient, grantee, HMB, GENOMICS, NEVER, {"from": patient})
    assert values(registry.getConsent(patient, grantee, HMB)) == (GENOMICS, granted_at, 0, 0)
    assert tx.events["ConsentUpdated"]["actor"] == patient


def test_stranger_cannot_update_for_patient(registry, patient, grantee, stranger, granted_at):
    with reverts("NotPatientOrDelegate", stranger.address, patient.address):
        registry.updateFor(patient, grantee, HMB, LABS | GENOMICS, NEVER, {"from": stranger})
    assert values(registry.getConsent(patient, grantee, HMB)) == (LABS, granted_at, 0, 0)


def test_grantee_cannot_widen_its_own_consent(registry, patient, grantee, granted_at):
    with reverts("NotPatientOrDelegate", grantee.address, patient.address):
        registry.updateFor(patient, grantee, HMB, LABS | GENOMICS, NEVER, {"from": grantee})


def test_update_of_never_granted_consent_reverts(registry, patient, grantee, granted_at):
    with reverts("ConsentNotActive", patient.address, grantee.address, TREAT):
        registry.update(grantee, TREAT, LABS, NEVER, {"from": patient})


def test_update_of_revoked_consent_reverts(registry, patient, grantee, granted_at):
    revoked_at = registry.revoke(grantee, HMB, {"from": patient}).timestamp
    with reverts("ConsentNotActive", patient.address, grantee.address, HMB):
        registry.update(grantee, HMB, GENOMICS, NEVER, {"from": patient})
    assert values(registry.getConsent(patient, grantee, HMB)) == (LABS, granted_at, 0, revoked_at)


def test_update_of_expired_consent_reverts(registry, patient, grantee):
    """An update cannot revive a lapsed consent: that takes a new grant."""
    expires_at = now() + 3600
    tx = registry.grant(grantee, HMB, LABS, expires_at, {"from": patient})
    chain.sleep(3601)
    chain.mine()
    with reverts("ConsentNotActive", patient.address, grantee.address, HMB):
        registry.update(grantee, HMB, LABS, NEVER, {"from": patient})
    assert values(registry.getConsent(patient, grantee, HMB)) == (LABS, tx.timestamp, expires_at, 0)


def test_update_to_zero_scopes_reverts(registry, patient, grantee, granted_at):
    with reverts("EmptyScopes"):
        registry.update(grantee, HMB, 0, NEVER, {"from": patient})


def test_update_to_past_expiry_reverts(registry, patient, grantee, granted_at):
    past = now() - 10
    with reverts("InvalidExpiry", past, ...):
        registry.update(grantee, HMB, LABS, past, {"from": patient})
    assert values(registry.getConsent(patient, grantee, HMB)) == (LABS, granted_at, 0, 0)
