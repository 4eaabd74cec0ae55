"""ConsentRegistry.grantFor: a live delegate (or the patient) grants on the patient's behalf."""

import pytest
from brownie import ZERO_ADDRESS, chain
from conftest import GENOMICS, HMB, LABS, NEVER, hex32, now, reverts, values

pytestmark = pytest.mark.usefixtures("synced_clock")


@pytest.fixture
def appointed(registry, patient, delegate):
    """The delegate, appointed by the patient until removed."""
    registry.setDelegate(delegate, NEVER, {"from": patient})
    return delegate


def test_delegate_grants_for_patient(registry, patient, grantee, appointed):
    tx = registry.grantFor(patient, grantee, HMB, LABS | GENOMICS, NEVER, {"from": appointed})
    assert values(registry.getConsent(patient, grantee, HMB)) == (LABS | GENOMICS, tx.timestamp, 0, 0)
    assert values(registry.getConsent(appointed, grantee, HMB)) == (0, 0, 0, 0)
    assert registry.isPermitted(patient, grantee, HMB, LABS | GENOMICS)
    assert tx.events["ConsentGranted"] == {
        "patient": patient, "grantee": grantee, "purpose": hex32(HMB), "scopes": LABS | GENOMICS,
        "expiresAt": 0, "actor": appointed,
    }


def test_patient_may_grant_for_themself(registry, patient, grantee):
    expires_at = now() + 86400
    tx = registry.grantFor(patient, grantee, HMB, LABS, expires_at, {"from": patient})
    assert values(registry.getConsent(patient, grantee, HMB)) == (LABS, tx.timestamp, expires_at, 0)
    assert tx.events["ConsentGranted"] == {
        "patient": patient, "grantee": grantee, "purpose": hex32(HMB), "scopes": LABS,
        "expiresAt": expires_at, "actor": patient,
    }


def test_stranger_cannot_grant_for_patient(registry, patient, grantee, stranger):
    with reverts("NotPatientOrDelegate", stranger.address, patient.address):
        registry.grantFor(patient, grantee, HMB, LABS, NEVER, {"from": stranger})


def test_grantee_cannot_grant_itself_a_consent(registry, patient, grantee):
    with reverts("NotPatientOrDelegate", grantee.address, patient.address):
        registry.grantFor(patient, grantee, HMB, LABS, NEVER, {"from": grantee})


def test_delegate_of_another_patient_cannot_grant(registry, patient, grantee, stranger, appointed):
    """An appointment is per patient: the patient's delegate has no power over anyone else."""
    with reverts("NotPatientOrDelegate", appointed.address, stranger.address):
        registry.grantFor(stranger, grantee, HMB, LABS, NEVER, {"from": appointed})


def test_lapsed_delegate_cannot_grant(registry, patient, grantee, delegate):
    registry.setDelegate(delegate, now() + 3600, {"from": patient})
    chain.sleep(3601)
    chain.mine()
    with reverts("NotPatientOrDelegate", delegate.address, patient.address):
        registry.grantFor(patient, grantee, HMB, LABS, NEVER, {"from": delegate})
    assert values(registry.getConsent(patient, grantee, HMB)) == (0, 0, 0, 0)


def test_delegate_grant_of_live_consent_reverts(registry, patient, grantee, appointed):
    registry.grant(grantee, HMB, LABS, NEVER, {"from": patient})
    with reverts("ConsentAlreadyActive", patient.address, grantee.address, HMB):
        registry.grantFor(patient, grantee, HMB, GENOMICS, NEVER, {"from": appointed})


def test_delegate_grant_is_validated_like_a_grant(registry, patient, grantee, appointed):
    with reverts("InvalidGrantee", ZERO_ADDRESS):
        registry.grantFor(patient, ZERO_ADDRESS, HMB, LABS, NEVER, {"from": appointed})
    with reverts("EmptyScopes"):
        registry.grantFor(patient, grantee, HMB, 0, NEVER, {"from": appointed})
    past = now() - 10
    with reverts("InvalidExpiry", past, ...):
        registry.grantFor(patient, grantee, HMB, LABS, past, {"from": appointed})
