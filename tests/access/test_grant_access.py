"""AccessGrants.grantAccess: a patient (or a live delegate) grants a credentialed provider access to record
categories until a time."""

import pytest
from brownie import ZERO_ADDRESS, chain
from conftest import (
    GENOMICS,
    IMAGING,
    LABS,
    NEVER,
    PROVIDER,
    at_next_block,
    attest,
    hex32,
    mine_at,
    now,
    reverts,
    values,
)

pytestmark = pytest.mark.usefixtures("synced_clock")

NO_RECORD = bytes(32)


def test_grant_stores_grant_and_emits_event(access, patient, provider, lab_record):
    expires_at = now() + 86400
    tx = access.grantAccess(patient, provider, LABS | IMAGING, expires_at, {"from": patient})
    assert values(access.getGrant(patient, provider)) == (LABS | IMAGING, tx.timestamp, expires_at, 0)
    assert access.canAccess(provider, lab_record)
    assert tx.events["AccessGranted"] == {
        "patient": patient,
        "provider": provider,
        "recordId": hex32(NO_RECORD),
        "categories": LABS | IMAGING,
        "expiresAt": expires_at,
        "actor": patient,
    }


def test_grant_of_other_categories_gives_no_access_to_labs(access, patient, provider, lab_record):
    access.grantAccess(patient, provider, GENOMICS | IMAGING, now() + 86400, {"from": patient})
    assert not access.canAccess(provider, lab_record)


def test_grantee_without_provider_credential_reverts(access, patient, stranger, credentials):
    with reverts("UncredentialedProvider", stranger.address):
        access.grantAccess(patient, stranger, LABS, now() + 86400, {"from": patient})
    assert values(access.getGrant(patient, stranger)) == (0, 0, 0, 0)


def test_grantee_whose_credential_expired_reverts(access, credentials, registrar, patient, stranger):
    valid_until = now() + 3600
    attest(credentials, registrar, stranger, PROVIDER, valid_until=valid_until)
    access.grantAccess(patient, stranger, LABS, now() + 86400, {"from": patient})
    mine_at(valid_until)
    with reverts("UncredentialedProvider", stranger.address):
        access.grantAccess(patient, stranger, GENOMICS, now() + 86400, {"from": patient})
    assert values(access.getGrant(patient, stranger))[0] == LABS


@pytest.mark.parametrize("action", ["suspend", "revoke"])
def test_grantee_whose_credential_was_withdrawn_reverts(
    access, credentials, registrar, patient, provider, action
):
    getattr(credentials, action)(provider, PROVIDER, {"from": registrar})
    with reverts("UncredentialedProvider", provider.address):
        access.grantAccess(patient, provider, LABS, now() + 86400, {"from": patient})


def test_grantee_with_another_credential_only_reverts(access, patient, reviewer):
    """A REVIEWER (or EMERGENCY, CUSTODIAN...) credential is not a licence to receive grants."""
    with reverts("UncredentialedProvider", reviewer.address):
        access.grantAccess(patient, reviewer, LABS, now() + 86400, {"from": patient})


def test_zero_categories_reverts(access, patient, provider):
    with reverts("EmptyCategories"):
        access.grantAccess(patient, provider, 0, now() + 86400, {"from": patient})


@pytest.mark.parametrize("when", ["never", "past"])
def test_expiry_not_in_the_future_reverts(access, patient, provider, when):
    """Unlike a consent, an access grant always ends: 0 is not "never"."""
    expires_at = NEVER if when == "never" else now() - 10
    with reverts("InvalidExpiry", expires_at, ...):
        access.grantAccess(patient, provider, LABS, expires_at, {"from": patient})


def test_expiry_at_the_block_time_reverts(access, patient, provider):
    at = chain[-1].timestamp + 30
    at_next_block(at)
    with reverts("InvalidExpiry", at, at):
        access.grantAccess(patient, provider, LABS, at, {"from": patient})


def test_delegate_grants_for_the_patient(access, registry, patient, provider, delegate, lab_record):
    registry.setDelegate(delegate, NEVER, {"from": patient})
    expires_at = now() + 86400
    tx = access.grantAccess(patient, provider, LABS, expires_at, {"from": delegate})
    assert values(access.getGrant(patient, provider)) == (LABS, tx.timestamp, expires_at, 0)
    assert access.canAccess(provider, lab_record)
    assert tx.events["AccessGranted"] == {
        "patient": patient,
        "provider": provider,
        "recordId": hex32(NO_RECORD),
        "categories": LABS,
        "expiresAt": expires_at,
        "actor": delegate,
    }


@pytest.mark.parametrize("who", ["stranger", "provider", "custodian"])
def test_non_patient_non_delegate_reverts(access, patient, provider, stranger, custodian, who):
    caller = {"stranger": stranger, "provider": provider, "custodian": custodian}[who]
    with reverts("NotPatientOrDelegate", caller.address, patient.address):
        access.grantAccess(patient, provider, LABS, now() + 86400, {"from": caller})
    assert values(access.getGrant(patient, provider)) == (0, 0, 0, 0)


def test_lapsed_or_removed_delegate_reverts(access, registry, patient, provider, delegate):
    until = now() + 3600
    registry.setDelegate(delegate, until, {"from": patient})
    mine_at(until)
    with reverts("NotPatientOrDelegate", delegate.address, patient.address):
        access.grantAccess(patient, provider, LABS, now() + 86400, {"from": delegate})
    registry.setDelegate(delegate, NEVER, {"from": patient})
    registry.removeDelegate(delegate, {"from": patient})
    with reverts("NotPatientOrDelegate", delegate.address, patient.address):
        access.grantAccess(patient, provider, LABS, now() + 86400, {"from": delegate})


def test_delegate_of_another_patient_reverts(access, registry, patient, provider, delegate, stranger):
    registry.setDelegate(delegate, NEVER, {"from": stranger})
    with reverts("NotPatientOrDelegate", delegate.address, patient.address):
        access.grantAccess(patient, provider, LABS, now() + 86400, {"from": delegate})


def test_zero_patient_reverts(access, provider, stranger):
    with reverts("InvalidPatient", ZERO_ADDRESS):
        access.grantAccess(ZERO_ADDRESS, provider, LABS, now() + 86400, {"from": stranger})


def test_caller_is_checked_before_the_grant(access, patient, stranger):
    with reverts("NotPatientOrDelegate", stranger.address, patient.address):
        access.grantAccess(patient, stranger, 0, NEVER, {"from": stranger})


def test_regrant_replaces_categories_and_expiry(access, patient, provider, lab_record):
    access.grantAccess(patient, provider, LABS, now() + 86400, {"from": patient})
    chain.sleep(60)
    expires_at = now() + 3600
    tx = access.grantAccess(patient, provider, IMAGING, expires_at, {"from": patient})
    assert values(access.getGrant(patient, provider)) == (IMAGING, tx.timestamp, expires_at, 0)
    assert not access.canAccess(provider, lab_record)
    assert tx.events["AccessGranted"]["categories"] == IMAGING


def test_regrant_after_revocation_is_live_again(access, patient, provider, lab_record):
    access.grantAccess(patient, provider, LABS, now() + 86400, {"from": patient})
    access.revokeAccess(patient, provider, {"from": patient})
    expires_at = now() + 3600
    tx = access.grantAccess(patient, provider, LABS, expires_at, {"from": patient})
    assert values(access.getGrant(patient, provider)) == (LABS, tx.timestamp, expires_at, 0)
    assert access.canAccess(provider, lab_record)


def test_grants_are_per_patient_and_provider(access, patient, provider, er_doctor, stranger):
    access.grantAccess(patient, provider, LABS, now() + 86400, {"from": patient})
    access.grantAccess(stranger, provider, GENOMICS, now() + 86400, {"from": stranger})
    access.grantAccess(patient, er_doctor, IMAGING, now() + 86400, {"from": patient})
    assert values(access.getGrant(patient, provider))[0] == LABS
    assert values(access.getGrant(stranger, provider))[0] == GENOMICS
    assert values(access.getGrant(patient, er_doctor))[0] == IMAGING
