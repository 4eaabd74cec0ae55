"""TrialRegistry.reconsent: after an amendment that requires re-consent, a site records that an enrolled
subject consented to the new consent version."""

import pytest
from conftest import LABS, mine_at, now, reverts

from carechain.core.purposes import trial_purpose
from trials.conftest import PROTOCOL_V2, PROTOCOL_V3, consent


@pytest.fixture
def amended(trials, sponsor, irb, enrolled):
    """Trial 1, `subject` enrolled under consent version 1, then amended (approved) to require re-consent."""
    trials.amend(enrolled, PROTOCOL_V2, True, {"from": sponsor})
    trials.approve(enrolled, 2, {"from": irb})
    return enrolled


def test_reconsent_moves_the_subjects_consent_version(trials, registry, site, subject, amended):
    enrolled_at = trials.getEnrolment(amended, subject)["enrolledAt"]
    consent(registry, trials, subject, amended, version=2)
    tx = trials.reconsent(amended, subject, {"from": site})
    assert tuple(trials.getEnrolment(amended, subject)) == (site, enrolled_at, 2, 0)
    assert trials.isEnrolled(amended, subject)
    assert tx.events["SubjectReconsented"] == {"trialId": amended, "subject": subject, "consentVersion": 2}


def test_reconsent_without_the_new_consent_reverts(trials, site, subject, amended):
    with reverts("NoConsent", amended, subject.address, 2):
        trials.reconsent(amended, subject, {"from": site})
    assert trials.getEnrolment(amended, subject)["consentVersion"] == 1


def test_reconsent_with_a_narrower_new_consent_reverts(trials, registry, site, subject, amended):
    consent(registry, trials, subject, amended, version=2, scopes=LABS)
    with reverts("NoConsent", amended, subject.address, 2):
        trials.reconsent(amended, subject, {"from": site})


def test_reconsent_when_the_consent_version_did_not_move_reverts(
    trials, sponsor, irb, site, subject, enrolled
):
    trials.amend(enrolled, PROTOCOL_V2, False, {"from": sponsor})
    trials.approve(enrolled, 2, {"from": irb})
    with reverts("AlreadyReconsented", enrolled, subject.address, 1):
        trials.reconsent(enrolled, subject, {"from": site})


def test_reconsenting_twice_reverts(trials, registry, site, subject, amended):
    consent(registry, trials, subject, amended, version=2)
    trials.reconsent(amended, subject, {"from": site})
    with reverts("AlreadyReconsented", amended, subject.address, 2):
        trials.reconsent(amended, subject, {"from": site})


def test_reconsent_of_a_subject_never_enrolled_or_withdrawn_reverts(
    trials, registry, site, subject, subject2, amended
):
    for who in (subject, subject2):
        consent(registry, trials, who, amended, version=2)
    with reverts("NotEnrolled", amended, subject2.address):
        trials.reconsent(amended, subject2, {"from": site})
    trials.withdraw(amended, subject, {"from": subject})
    with reverts("NotEnrolled", amended, subject.address):
        trials.reconsent(amended, subject, {"from": site})


def test_only_a_site_records_reconsent(trials, registry, sponsor, stranger, subject, amended):
    consent(registry, trials, subject, amended, version=2)
    for caller in (subject, sponsor, stranger):
        with reverts("NotSite", amended, caller.address):
            trials.reconsent(amended, subject, {"from": caller})
    assert trials.getEnrolment(amended, subject)["consentVersion"] == 1


def test_reconsent_after_lock_reverts(trials, registry, sponsor, site, subject, amended):
    consent(registry, trials, subject, amended, version=2)
    locked_at = trials.lock(amended, {"from": sponsor}).timestamp
    with reverts("TrialLocked", amended, locked_at):
        trials.reconsent(amended, subject, {"from": site})


def test_unknown_trial_reverts(trials, site, subject):
    with reverts("UnknownTrial", 4):
        trials.reconsent(4, subject, {"from": site})


def test_reconsented_subject_is_held_to_the_new_consent(trials, registry, site, subject, amended):
    """Once re-consented, the version-2 consent, not the stale version-1 one, dates the withdrawal."""
    consent(registry, trials, subject, amended, version=2)
    trials.reconsent(amended, subject, {"from": site})
    registry.revoke(trials, trial_purpose(amended, 1), {"from": subject})
    mine_at(now() + 600)
    revoked_at = registry.revoke(trials, trial_purpose(amended, 2), {"from": subject}).timestamp
    mine_at(revoked_at + 600)
    trials.withdraw(amended, subject, {"from": site})
    assert trials.getEnrolment(amended, subject)["withdrawnAt"] == revoked_at


def test_subject_who_has_not_reconsented_stays_under_the_old_consent(trials, sponsor, irb, subject, amended):
    trials.amend(amended, PROTOCOL_V3, True, {"from": sponsor})
    trials.approve(amended, 3, {"from": irb})
    assert trials.getTrial(amended).dict()["consentVersion"] == 3
    assert trials.getEnrolment(amended, subject)["consentVersion"] == 1
    assert trials.isEnrolled(amended, subject)
