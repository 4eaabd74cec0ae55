"""AccessGrants.breakGlass: an EMERGENCY-credentialed clinician opens time-boxed access without a grant."""

import pytest
from brownie import ZERO_ADDRESS
from conftest import (
    EMERGENCY,
    GENOMICS,
    PROVIDER,
    attest,
    category,
    content_hash,
    hex32,
    mine_at,
    record_id,
    reverts,
)
from eth_utils.crypto import keccak

pytestmark = pytest.mark.usefixtures("synced_clock")

MAX_BREAK_GLASS = 24 * 3600
OPEN = 1  # IAccessGrants.Review.Open
BREAK_GLASS = 3  # IAccessGrants.Basis.BreakGlass
UNCONSCIOUS = keccak(text="carechain.break-glass.UNCONSCIOUS")  # a reason code, not a narrative


def test_break_glass_opens_an_episode_and_tells_everyone(access, patient, er_doctor, lab_record):
    tx = access.breakGlass(patient, UNCONSCIOUS, 3600, {"from": er_doctor})
    assert tx.return_value == 1
    expires_at = tx.timestamp + 3600
    assert tuple(access.getEpisode(1)) == (
        er_doctor,
        tx.timestamp,
        expires_at,
        patient,
        OPEN,
        ZERO_ADDRESS,
        hex32(UNCONSCIOUS),
    )
    assert access.episodeCount() == 1
    assert access.breakGlassCount(er_doctor) == 1
    assert tx.events["BreakGlassOpened"] == {
        "episodeId": 1,
        "patient": patient,
        "provider": er_doctor,
        "reasonCode": hex32(UNCONSCIOUS),
        "expiresAt": expires_at,
        "providerEpisodes": 1,
    }


def test_access_during_the_window_then_not_after(access, patient, er_doctor, lab_record):
    expires_at = access.breakGlass(patient, UNCONSCIOUS, 3600, {"from": er_doctor}).timestamp + 3600
    assert access.canAccess(er_doctor, lab_record)
    assert tuple(access.accessBasis(er_doctor, lab_record)) == (BREAK_GLASS, 1)
    mine_at(expires_at - 1)
    assert access.canAccess(er_doctor, lab_record)
    mine_at(expires_at)
    assert not access.canAccess(er_doctor, lab_record)
    assert tuple(access.accessBasis(er_doctor, lab_record)) == (0, 0)
    assert access.getEpisode(1)[4] == OPEN


def test_episode_covers_every_category_of_that_patient_only(
    access, records, custodian, patient, stranger, er_doctor, lab_record
):
    theirs = record_id("stranger-genome")
    records.anchor(theirs, stranger, category(GENOMICS), content_hash("stranger-genome"), {"from": custodian})
    access.breakGlass(patient, UNCONSCIOUS, 3600, {"from": er_doctor})
    assert access.canAccess(er_doctor, lab_record)
    assert not access.canAccess(er_doctor, theirs)


def test_repeated_use_is_counted_per_provider(
    access, credentials, registrar, patient, stranger, er_doctor, accounts
):
    access.breakGlass(patient, UNCONSCIOUS, 600, {"from": er_doctor})
    tx = access.breakGlass(stranger, UNCONSCIOUS, 600, {"from": er_doctor})
    assert tx.events["BreakGlassOpened"]["episodeId"] == 2
    assert tx.events["BreakGlassOpened"]["providerEpisodes"] == 2
    colleague = accounts[3]
    attest(credentials, registrar, colleague, EMERGENCY)
    tx = access.breakGlass(patient, UNCONSCIOUS, 600, {"from": colleague})
    assert tx.events["BreakGlassOpened"]["episodeId"] == 3
    assert tx.events["BreakGlassOpened"]["providerEpisodes"] == 1
    tx = access.breakGlass(patient, UNCONSCIOUS, 600, {"from": er_doctor})
    assert tx.events["BreakGlassOpened"]["providerEpisodes"] == 3
    assert access.breakGlassCount(er_doctor) == 3
    assert access.breakGlassCount(colleague) == 1
    assert access.episodeCount() == 4


def test_latest_episode_governs_access(access, patient, er_doctor, lab_record):
    """A second, shorter episode for the same patient replaces the first as the basis of access."""
    access.breakGlass(patient, UNCONSCIOUS, MAX_BREAK_GLASS, {"from": er_doctor})
    short = access.breakGlass(patient, UNCONSCIOUS, 60, {"from": er_doctor})
    assert tuple(access.accessBasis(er_doctor, lab_record)) == (BREAK_GLASS, 2)
    mine_at(short.timestamp + 60)
    assert not access.canAccess(er_doctor, lab_record)


def test_emergency_credential_alone_suffices(access, credentials, registrar, patient, accounts, lab_record):
    """A paramedic may hold EMERGENCY without PROVIDER; break-glass asks only for EMERGENCY."""
    paramedic = accounts[3]
    attest(credentials, registrar, paramedic, EMERGENCY)
    episode = access.breakGlass(patient, UNCONSCIOUS, 600, {"from": paramedic}).return_value
    assert tuple(access.accessBasis(paramedic, lab_record)) == (BREAK_GLASS, episode)


@pytest.mark.parametrize("action", ["suspend", "revoke"])
def test_withdrawn_emergency_credential_ends_access(
    access, credentials, registrar, patient, er_doctor, lab_record, action
):
    access.breakGlass(patient, UNCONSCIOUS, 3600, {"from": er_doctor})
    getattr(credentials, action)(er_doctor, EMERGENCY, {"from": registrar})
    assert credentials.hasCredential(er_doctor, PROVIDER)
    assert not access.canAccess(er_doctor, lab_record)


@pytest.mark.parametrize("who", ["provider", "stranger", "reviewer"])
def test_caller_without_emergency_credential_reverts(access, patient, provider, stranger, reviewer, who):
    caller = {"provider": provider, "stranger": stranger, "reviewer": reviewer}[who]
    with reverts("NotEmergencyProvider", caller.address):
        access.breakGlass(patient, UNCONSCIOUS, 3600, {"from": caller})
    assert access.episodeCount() == 0


def test_suspended_emergency_credential_reverts(access, credentials, registrar, patient, er_doctor):
    credentials.suspend(er_doctor, EMERGENCY, {"from": registrar})
    with reverts("NotEmergencyProvider", er_doctor.address):
        access.breakGlass(patient, UNCONSCIOUS, 3600, {"from": er_doctor})


@pytest.mark.parametrize("who", ["zero", "self"])
def test_invalid_patient_reverts(access, er_doctor, who):
    target = ZERO_ADDRESS if who == "zero" else er_doctor.address
    with reverts("InvalidPatient", target):
        access.breakGlass(target, UNCONSCIOUS, 3600, {"from": er_doctor})


@pytest.mark.parametrize("duration", [0, MAX_BREAK_GLASS + 1, 2**64 - 1], ids=["zero", "day-plus-1s", "max"])
def test_invalid_duration_reverts(access, patient, er_doctor, duration):
    with reverts("InvalidBreakGlassDuration", duration, MAX_BREAK_GLASS):
        access.breakGlass(patient, UNCONSCIOUS, duration, {"from": er_doctor})


def test_longest_duration_is_a_day(access, patient, er_doctor):
    assert access.MAX_BREAK_GLASS() == MAX_BREAK_GLASS
    tx = access.breakGlass(patient, UNCONSCIOUS, MAX_BREAK_GLASS, {"from": er_doctor})
    assert tx.events["BreakGlassOpened"]["expiresAt"] == tx.timestamp + MAX_BREAK_GLASS
