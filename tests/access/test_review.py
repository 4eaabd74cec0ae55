"""AccessGrants.reviewBreakGlass: a REVIEWER closes a break-glass episode, approved or flagged."""

import pytest
from brownie import ZERO_ADDRESS
from conftest import REVIEWER, attest, hex32, mine_at, reverts
from eth_utils.crypto import keccak

pytestmark = pytest.mark.usefixtures("synced_clock")

OPEN, APPROVED, FLAGGED = 1, 2, 3  # IAccessGrants.Review
BREAK_GLASS = 3  # IAccessGrants.Basis.BreakGlass
REASON = keccak(text="carechain.break-glass.UNCONSCIOUS")
NOTE = keccak(b"salt" + b"review note kept by the hospital")  # the note stays off chain


@pytest.fixture
def episode(access, patient, er_doctor, lab_record):
    """The ER doctor broke the glass on the patient for an hour; returns (episodeId, expiresAt)."""
    tx = access.breakGlass(patient, REASON, 3600, {"from": er_doctor})
    return tx.return_value, tx.timestamp + 3600


def test_approval_closes_the_episode_and_keeps_the_window(
    access, patient, er_doctor, reviewer, lab_record, episode
):
    episode_id, expires_at = episode
    opened_at = access.getEpisode(episode_id)[1]
    tx = access.reviewBreakGlass(episode_id, True, NOTE, {"from": reviewer})
    assert tuple(access.getEpisode(episode_id)) == (
        er_doctor,
        opened_at,
        expires_at,
        patient,
        APPROVED,
        reviewer,
        hex32(REASON),
    )
    assert tx.events["BreakGlassReviewed"] == {
        "episodeId": episode_id,
        "reviewer": reviewer,
        "approved": True,
        "noteHash": hex32(NOTE),
    }
    assert tuple(access.accessBasis(er_doctor, lab_record)) == (BREAK_GLASS, episode_id)
    mine_at(expires_at)
    assert not access.canAccess(er_doctor, lab_record)


def test_flag_ends_access_immediately(access, patient, er_doctor, reviewer, lab_record, episode):
    episode_id, _ = episode
    tx = access.reviewBreakGlass(episode_id, False, NOTE, {"from": reviewer})
    assert tuple(access.getEpisode(episode_id))[2:6] == (tx.timestamp, patient, FLAGGED, reviewer)
    assert not access.canAccess(er_doctor, lab_record)
    assert tuple(access.accessBasis(er_doctor, lab_record)) == (0, 0)
    assert tx.events["BreakGlassReviewed"] == {
        "episodeId": episode_id,
        "reviewer": reviewer,
        "approved": False,
        "noteHash": hex32(NOTE),
    }


def test_flag_after_the_window_keeps_its_end(access, reviewer, episode):
    episode_id, expires_at = episode
    mine_at(expires_at + 600)
    access.reviewBreakGlass(episode_id, False, NOTE, {"from": reviewer})
    assert access.getEpisode(episode_id)[2] == expires_at
    assert access.getEpisode(episode_id)[4] == FLAGGED


def test_episode_stays_open_until_reviewed(access, episode):
    episode_id, expires_at = episode
    mine_at(expires_at + 7 * 86400)
    assert access.getEpisode(episode_id)[4] == OPEN
    assert access.getEpisode(episode_id)[5] == ZERO_ADDRESS


@pytest.mark.parametrize("who", ["stranger", "patient", "provider", "er_doctor"])
def test_caller_without_reviewer_credential_reverts(
    access, stranger, patient, provider, er_doctor, episode, who
):
    caller = {"stranger": stranger, "patient": patient, "provider": provider, "er_doctor": er_doctor}[who]
    with reverts("NotReviewer", caller.address):
        access.reviewBreakGlass(episode[0], True, NOTE, {"from": caller})
    assert access.getEpisode(episode[0])[4] == OPEN


@pytest.mark.parametrize("action", ["suspend", "revoke"])
def test_reviewer_whose_credential_was_withdrawn_reverts(
    access, credentials, registrar, reviewer, episode, action
):
    getattr(credentials, action)(reviewer, REVIEWER, {"from": registrar})
    with reverts("NotReviewer", reviewer.address):
        access.reviewBreakGlass(episode[0], True, NOTE, {"from": reviewer})


def test_self_review_reverts(access, credentials, registrar, er_doctor, episode):
    attest(credentials, registrar, er_doctor, REVIEWER)
    with reverts("SelfReview", episode[0], er_doctor.address):
        access.reviewBreakGlass(episode[0], True, NOTE, {"from": er_doctor})
    assert access.getEpisode(episode[0])[4] == OPEN


@pytest.mark.parametrize("first", [True, False], ids=["after-approval", "after-flag"])
def test_second_review_reverts(access, reviewer, episode, first):
    access.reviewBreakGlass(episode[0], first, NOTE, {"from": reviewer})
    with reverts("EpisodeNotOpen", episode[0]):
        access.reviewBreakGlass(episode[0], not first, NOTE, {"from": reviewer})
    assert access.getEpisode(episode[0])[4] == (APPROVED if first else FLAGGED)


@pytest.mark.parametrize("episode_id", [0, 2, 2**256 - 1], ids=["zero", "next", "max"])
def test_unknown_episode_reverts(access, reviewer, episode, episode_id):
    with reverts("EpisodeNotOpen", episode_id):
        access.reviewBreakGlass(episode_id, True, NOTE, {"from": reviewer})


def test_reviewer_is_checked_first(access, stranger):
    with reverts("NotReviewer", stranger.address):
        access.reviewBreakGlass(0, True, NOTE, {"from": stranger})


def test_flagging_one_episode_leaves_other_patients_episodes(
    access, patient, stranger, er_doctor, reviewer, episode
):
    other = access.breakGlass(stranger, REASON, 3600, {"from": er_doctor}).return_value
    access.reviewBreakGlass(episode[0], False, NOTE, {"from": reviewer})
    assert access.getEpisode(other)[4] == OPEN
    assert access.getEpisode(other)[2] > access.getEpisode(episode[0])[2]


def test_flagged_clinician_can_break_the_glass_again(
    access, patient, er_doctor, reviewer, lab_record, episode
):
    """A flag ends one episode; withdrawing the EMERGENCY credential is the registrar's step."""
    access.reviewBreakGlass(episode[0], False, NOTE, {"from": reviewer})
    again = access.breakGlass(patient, REASON, 3600, {"from": er_doctor}).return_value
    assert tuple(access.accessBasis(er_doctor, lab_record)) == (BREAK_GLASS, again)
    assert access.getEpisode(again)[4] == OPEN
