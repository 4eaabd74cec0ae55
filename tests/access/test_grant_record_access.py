"""AccessGrants.grantRecordAccess: the patient (or a live delegate) opens one record to a provider."""

import pytest
from brownie import chain
from conftest import (
    LABS,
    NEVER,
    PROVIDER,
    attest,
    category,
    content_hash,
    hex32,
    mine_at,
    now,
    record_id,
    reverts,
    values,
)

pytestmark = pytest.mark.usefixtures("synced_clock")

OTHER_LAB = record_id("lab-result-2")


@pytest.fixture
def other_lab(records, custodian, patient):
    """A second lab result of the same patient, same category."""
    records.anchor(OTHER_LAB, patient, category(LABS), content_hash("lab-result-2"), {"from": custodian})
    return OTHER_LAB


def test_grant_opens_that_record_only(access, patient, provider, lab_record, other_lab):
    expires_at = now() + 86400
    tx = access.grantRecordAccess(provider, lab_record, expires_at, {"from": patient})
    assert values(access.getRecordGrant(provider, lab_record)) == (0, tx.timestamp, expires_at, 0)
    assert values(access.getGrant(patient, provider)) == (0, 0, 0, 0)
    assert access.canAccess(provider, lab_record)
    assert not access.canAccess(provider, other_lab)
    assert tx.events["AccessGranted"] == {
        "patient": patient,
        "provider": provider,
        "recordId": hex32(lab_record),
        "categories": 0,
        "expiresAt": expires_at,
        "actor": patient,
    }


def test_delegate_grants_a_record(access, registry, patient, provider, delegate, lab_record):
    registry.setDelegate(delegate, NEVER, {"from": patient})
    tx = access.grantRecordAccess(provider, lab_record, now() + 86400, {"from": delegate})
    assert tx.events["AccessGranted"]["actor"] == delegate
    assert tx.events["AccessGranted"]["patient"] == patient
    assert access.canAccess(provider, lab_record)


@pytest.mark.parametrize("who", ["stranger", "custodian", "provider"])
def test_only_the_records_patient_or_delegate_grants(
    access, patient, provider, stranger, custodian, lab_record, who
):
    """Not even the custodian who holds the record may open it to someone."""
    caller = {"stranger": stranger, "custodian": custodian, "provider": provider}[who]
    with reverts("NotPatientOrDelegate", caller.address, patient.address):
        access.grantRecordAccess(provider, lab_record, now() + 86400, {"from": caller})
    assert values(access.getRecordGrant(provider, lab_record)) == (0, 0, 0, 0)


def test_delegate_of_another_patient_reverts(
    access, registry, patient, provider, delegate, stranger, lab_record
):
    registry.setDelegate(delegate, NEVER, {"from": stranger})
    with reverts("NotPatientOrDelegate", delegate.address, patient.address):
        access.grantRecordAccess(provider, lab_record, now() + 86400, {"from": delegate})


def test_unknown_record_reverts(access, patient, provider):
    unknown = record_id("never-anchored")
    with reverts("UnknownRecord", unknown):
        access.grantRecordAccess(provider, unknown, now() + 86400, {"from": patient})


def test_uncredentialed_grantee_reverts(access, patient, stranger, lab_record):
    with reverts("UncredentialedProvider", stranger.address):
        access.grantRecordAccess(stranger, lab_record, now() + 86400, {"from": patient})


def test_grantee_whose_credential_expired_reverts(
    access, credentials, registrar, patient, stranger, lab_record
):
    valid_until = now() + 3600
    attest(credentials, registrar, stranger, PROVIDER, valid_until=valid_until)
    mine_at(valid_until)
    with reverts("UncredentialedProvider", stranger.address):
        access.grantRecordAccess(stranger, lab_record, now() + 86400, {"from": patient})


@pytest.mark.parametrize("when", ["never", "past"])
def test_expiry_not_in_the_future_reverts(access, patient, provider, lab_record, when):
    expires_at = NEVER if when == "never" else now() - 10
    with reverts("InvalidExpiry", expires_at, ...):
        access.grantRecordAccess(provider, lab_record, expires_at, {"from": patient})


def test_regrant_replaces_the_expiry_and_revives_a_revoked_grant(access, patient, provider, lab_record):
    access.grantRecordAccess(provider, lab_record, now() + 86400, {"from": patient})
    access.revokeRecordAccess(provider, lab_record, {"from": patient})
    chain.sleep(60)
    expires_at = now() + 3600
    tx = access.grantRecordAccess(provider, lab_record, expires_at, {"from": patient})
    assert values(access.getRecordGrant(provider, lab_record)) == (0, tx.timestamp, expires_at, 0)
    assert access.canAccess(provider, lab_record)
    mine_at(expires_at)
    assert not access.canAccess(provider, lab_record)


def test_record_grant_survives_an_amendment(access, records, patient, provider, custodian, lab_record):
    """A grant is on the record, not on one version: the latest version is what the gateway serves."""
    access.grantRecordAccess(provider, lab_record, now() + 86400, {"from": patient})
    records.amend(lab_record, content_hash("lab-result-1 v1"), {"from": custodian})
    assert access.canAccess(provider, lab_record)
