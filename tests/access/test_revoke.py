"""AccessGrants.revokeAccess / revokeRecordAccess: the patient (or a live delegate) ends a grant at once."""

import pytest
from brownie import ZERO_ADDRESS
from conftest import LABS, NEVER, hex32, mine_at, now, record_id, reverts, values

pytestmark = pytest.mark.usefixtures("synced_clock")

NO_RECORD = bytes(32)


@pytest.fixture
def granted(access, patient, provider):
    """The patient granted the provider LABS for a day; returns the expiry."""
    expires_at = now() + 86400
    access.grantAccess(patient, provider, LABS, expires_at, {"from": patient})
    return expires_at


@pytest.fixture
def record_granted(access, patient, provider, lab_record):
    """The patient granted the provider the lab record for a day; returns the expiry."""
    expires_at = now() + 86400
    access.grantRecordAccess(provider, lab_record, expires_at, {"from": patient})
    return expires_at


def test_revoke_ends_a_category_grant(access, patient, provider, lab_record, granted):
    granted_at = access.getGrant(patient, provider)[1]
    tx = access.revokeAccess(patient, provider, {"from": patient})
    assert values(access.getGrant(patient, provider)) == (LABS, granted_at, granted, tx.timestamp)
    assert not access.canAccess(provider, lab_record)
    assert tx.events["AccessRevoked"] == {
        "patient": patient,
        "provider": provider,
        "recordId": hex32(NO_RECORD),
        "actor": patient,
    }


def test_revoke_ends_a_record_grant(access, patient, provider, lab_record, record_granted):
    granted_at = access.getRecordGrant(provider, lab_record)[1]
    tx = access.revokeRecordAccess(provider, lab_record, {"from": patient})
    assert values(access.getRecordGrant(provider, lab_record)) == (
        0,
        granted_at,
        record_granted,
        tx.timestamp,
    )
    assert not access.canAccess(provider, lab_record)
    assert tx.events["AccessRevoked"] == {
        "patient": patient,
        "provider": provider,
        "recordId": hex32(lab_record),
        "actor": patient,
    }


def test_revoked_grant_gives_no_access_before_its_expiry(access, patient, provider, lab_record, granted):
    access.revokeAccess(patient, provider, {"from": patient})
    mine_at(granted - 1)
    assert not access.canAccess(provider, lab_record)
    assert tuple(access.accessBasis(provider, lab_record)) == (0, 0)


def test_revoking_one_grant_leaves_the_other(access, patient, provider, lab_record, granted, record_granted):
    access.revokeRecordAccess(provider, lab_record, {"from": patient})
    assert tuple(access.accessBasis(provider, lab_record)) == (2, 0)
    access.revokeAccess(patient, provider, {"from": patient})
    assert not access.canAccess(provider, lab_record)


def test_delegate_revokes(access, registry, patient, provider, delegate, lab_record, granted, record_granted):
    registry.setDelegate(delegate, NEVER, {"from": patient})
    tx = access.revokeAccess(patient, provider, {"from": delegate})
    assert tx.events["AccessRevoked"]["actor"] == delegate
    tx = access.revokeRecordAccess(provider, lab_record, {"from": delegate})
    assert tx.events["AccessRevoked"] == {
        "patient": patient,
        "provider": provider,
        "recordId": hex32(lab_record),
        "actor": delegate,
    }
    assert not access.canAccess(provider, lab_record)


@pytest.mark.parametrize("who", ["stranger", "provider", "custodian"])
def test_others_cannot_revoke(
    access, patient, provider, stranger, custodian, lab_record, granted, record_granted, who
):
    caller = {"stranger": stranger, "provider": provider, "custodian": custodian}[who]
    with reverts("NotPatientOrDelegate", caller.address, patient.address):
        access.revokeAccess(patient, provider, {"from": caller})
    with reverts("NotPatientOrDelegate", caller.address, patient.address):
        access.revokeRecordAccess(provider, lab_record, {"from": caller})
    assert tuple(access.accessBasis(provider, lab_record)) == (1, 0)


def test_revoke_never_granted_reverts(access, patient, provider, lab_record):
    with reverts("GrantNotActive", patient.address, provider.address, NO_RECORD):
        access.revokeAccess(patient, provider, {"from": patient})
    with reverts("GrantNotActive", patient.address, provider.address, lab_record):
        access.revokeRecordAccess(provider, lab_record, {"from": patient})


def test_revoke_twice_reverts(access, patient, provider, lab_record, granted, record_granted):
    access.revokeAccess(patient, provider, {"from": patient})
    access.revokeRecordAccess(provider, lab_record, {"from": patient})
    with reverts("GrantNotActive", patient.address, provider.address, NO_RECORD):
        access.revokeAccess(patient, provider, {"from": patient})
    with reverts("GrantNotActive", patient.address, provider.address, lab_record):
        access.revokeRecordAccess(provider, lab_record, {"from": patient})


def test_revoke_expired_grant_reverts(access, patient, provider, lab_record, granted, record_granted):
    mine_at(max(granted, record_granted))
    with reverts("GrantNotActive", patient.address, provider.address, NO_RECORD):
        access.revokeAccess(patient, provider, {"from": patient})
    with reverts("GrantNotActive", patient.address, provider.address, lab_record):
        access.revokeRecordAccess(provider, lab_record, {"from": patient})


def test_revoke_record_grant_of_unknown_record_reverts(access, patient, provider):
    unknown = record_id("never-anchored")
    with reverts("UnknownRecord", unknown):
        access.revokeRecordAccess(provider, unknown, {"from": patient})


def test_revoke_for_zero_patient_reverts(access, provider, stranger):
    with reverts("InvalidPatient", ZERO_ADDRESS):
        access.revokeAccess(ZERO_ADDRESS, provider, {"from": stranger})


def test_revoke_works_after_the_provider_lost_their_credential(
    access, credentials, registrar, patient, provider, granted
):
    """Nothing a registrar does can stand in the way of a patient's revocation."""
    credentials.revoke(provider, credentials.PROVIDER(), {"from": registrar})
    tx = access.revokeAccess(patient, provider, {"from": patient})
    assert tx.events["AccessRevoked"]["provider"] == provider
