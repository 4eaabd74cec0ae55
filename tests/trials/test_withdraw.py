"""TrialRegistry.withdraw: the subject, the site that enrolled them or the sponsor records a withdrawal,
whatever the state of the consent: now while it stands, else at the time it lapsed (its revocation or expiry)
where the chain knows it. Nobody else: not another site (finding A.1), not a passer-by once the consent lapsed
(finding A.2)."""

import pytest
from brownie import ZERO_ADDRESS
from conftest import LABS, at_next_block, mine_at, now, reverts
from eth_utils.crypto import keccak

from carechain.core.purposes import ANY_GRANTEE, trial_purpose
from trials.conftest import PRIMARY, PROTOCOL_V2, RESULTS, SECONDARY, consent, register

pytestmark = pytest.mark.usefixtures("synced_clock")

ROOT = keccak(text="batch committed before the withdrawal")


def revoke_at(registry, trials, subject, trial_id, timestamp, grantee=None):
    """The subject revokes their consent (version 1) in a block at exactly `timestamp`."""
    at_next_block(timestamp)
    tx = registry.revoke(grantee or trials, trial_purpose(trial_id, 1), {"from": subject})
    assert tx.timestamp == timestamp
    return tx


def test_subject_withdraws_now(trials, site, subject, enrolled):
    enrolled_at = trials.getEnrolment(enrolled, subject)["enrolledAt"]
    tx = trials.withdraw(enrolled, subject, {"from": subject})
    assert tuple(trials.getEnrolment(enrolled, subject)) == (site, enrolled_at, 1, tx.timestamp)
    assert not trials.isEnrolled(enrolled, subject)
    assert trials.getTrial(enrolled).dict()["enrolled"] == 1  # ever enrolled
    assert tx.events["SubjectWithdrawn"] == {
        "trialId": enrolled,
        "subject": subject,
        "withdrawnAt": tx.timestamp,
        "actor": subject,
    }


@pytest.mark.parametrize("by", ["site", "sponsor"])
def test_the_enrolling_site_or_the_sponsor_discontinues_a_subject_whose_consent_is_live(
    trials, sponsor, site, subject, enrolled, by
):
    investigator = {"site": site, "sponsor": sponsor}[by]
    tx = trials.withdraw(enrolled, subject, {"from": investigator})
    assert trials.getEnrolment(enrolled, subject)["withdrawnAt"] == tx.timestamp
    assert tx.events["SubjectWithdrawn"]["actor"] == investigator


def test_anyone_else_is_refused_while_the_consent_is_live(
    trials, sponsor, irb, site, site2, stranger, subject, enrolled
):
    trials.addSite(enrolled, site2, {"from": sponsor})  # another site of the trial (finding A.1)
    for caller in (stranger, irb, site2):
        with reverts("UnauthorizedWithdrawal", enrolled, subject.address, caller.address):
            trials.withdraw(enrolled, subject, {"from": caller})
    trials.removeSite(enrolled, site, {"from": sponsor})  # the enrolling site, once removed, is anyone else
    with reverts("UnauthorizedWithdrawal", enrolled, subject.address, site.address):
        trials.withdraw(enrolled, subject, {"from": site})
    assert trials.isEnrolled(enrolled, subject)


def test_a_passer_by_is_refused_at_the_lapse_and_a_renewal_keeps_the_subject_in(
    trials, registry, site, stranger, subject, approved
):
    """Finding A.2: the moment the consent expires, a passer-by cannot end the participation."""
    expires_at = now() + 3600
    consent(registry, trials, subject, approved, expires_at=expires_at)
    trials.enroll(approved, subject, {"from": site})
    mine_at(expires_at)
    with reverts("UnauthorizedWithdrawal", approved, subject.address, stranger.address):
        trials.withdraw(approved, subject, {"from": stranger})
    consent(registry, trials, subject, approved)
    assert trials.isEnrolled(approved, subject)


def test_a_withdrawn_subject_who_consents_again_is_enrolled_afresh(
    trials, registry, sponsor, site, site2, subject, enrolled
):
    trials.addSite(enrolled, site2, {"from": sponsor})
    trials.withdraw(enrolled, subject, {"from": site})
    registry.revoke(trials, trial_purpose(enrolled, 1), {"from": subject})
    with reverts("NoConsent", enrolled, subject.address, 1):
        trials.enroll(enrolled, subject, {"from": site2})
    consent(registry, trials, subject, enrolled)
    tx = trials.enroll(enrolled, subject, {"from": site2})
    assert tx.events["SubjectEnrolled"]["site"] == site2
    assert tuple(trials.getEnrolment(enrolled, subject)) == (site2, tx.timestamp, 1, 0)
    assert trials.isEnrolled(enrolled, subject)
    assert trials.getTrial(enrolled).dict()["enrolled"] == 2  # enrolments, not subjects
    with reverts("UnauthorizedWithdrawal", enrolled, subject.address, site.address):
        trials.withdraw(enrolled, subject, {"from": site})


def test_after_revocation_the_site_records_it_at_the_revocation_time(
    trials, registry, site, stranger, subject, enrolled
):
    revoked_at = now() + 600
    revoke_at(registry, trials, subject, enrolled, revoked_at)
    mine_at(revoked_at + 3600)
    with reverts("UnauthorizedWithdrawal", enrolled, subject.address, stranger.address):
        trials.withdraw(enrolled, subject, {"from": stranger})
    tx = trials.withdraw(enrolled, subject, {"from": site})
    assert tx.timestamp >= revoked_at + 3600
    assert trials.getEnrolment(enrolled, subject)["withdrawnAt"] == revoked_at
    assert not trials.isEnrolled(enrolled, subject)
    assert tx.events["SubjectWithdrawn"] == {
        "trialId": enrolled,
        "subject": subject,
        "withdrawnAt": revoked_at,
        "actor": site,
    }


def test_subject_who_revoked_first_is_withdrawn_at_the_revocation(trials, registry, subject, enrolled):
    revoked_at = now() + 600
    revoke_at(registry, trials, subject, enrolled, revoked_at)
    mine_at(revoked_at + 60)
    trials.withdraw(enrolled, subject, {"from": subject})
    assert trials.getEnrolment(enrolled, subject)["withdrawnAt"] == revoked_at


def test_after_expiry_the_sponsor_records_it_at_the_expiry(
    trials, registry, sponsor, site, subject, approved
):
    expires_at = now() + 3600
    consent(registry, trials, subject, approved, expires_at=expires_at)
    trials.enroll(approved, subject, {"from": site})
    mine_at(expires_at + 86400)
    tx = trials.withdraw(approved, subject, {"from": sponsor})
    assert trials.getEnrolment(approved, subject)["withdrawnAt"] == expires_at
    assert tx.events["SubjectWithdrawn"]["withdrawnAt"] == expires_at


def test_narrowed_consent_is_recorded_at_the_call(trials, registry, site, subject, enrolled):
    """ConsentRegistry keeps no time for a narrowing, so the withdrawal takes the time it is recorded."""
    registry.update(trials, trial_purpose(enrolled, 1), LABS, 0, {"from": subject})
    mine_at(now() + 3600)
    tx = trials.withdraw(enrolled, subject, {"from": site})
    assert trials.getEnrolment(enrolled, subject)["withdrawnAt"] == tx.timestamp


def test_revoked_broad_consent_is_recorded_at_its_revocation(trials, registry, site, subject, approved):
    consent(registry, trials, subject, approved, grantee=ANY_GRANTEE)
    trials.enroll(approved, subject, {"from": site})
    revoked_at = now() + 600
    revoke_at(registry, trials, subject, approved, revoked_at, grantee=ANY_GRANTEE)
    mine_at(revoked_at + 3600)
    trials.withdraw(approved, subject, {"from": site})
    assert trials.getEnrolment(approved, subject)["withdrawnAt"] == revoked_at


def test_expired_consent_revoked_later_is_recorded_at_the_expiry(trials, registry, site, subject, approved):
    """The consent stopped at its expiry; revoking it afterwards (allowed, for the record) changes nothing."""
    expires_at = now() + 3600
    consent(registry, trials, subject, approved, expires_at=expires_at)
    trials.enroll(approved, subject, {"from": site})
    revoke_at(registry, trials, subject, approved, expires_at + 86400)
    trials.withdraw(approved, subject, {"from": site})
    assert trials.getEnrolment(approved, subject)["withdrawnAt"] == expires_at


def test_with_two_consents_the_later_revocation_counts(trials, registry, site, subject, approved):
    """A subject consented both to the registry and to any grantee: in until the last of them was revoked."""
    consent(registry, trials, subject, approved)
    consent(registry, trials, subject, approved, grantee=ANY_GRANTEE)
    trials.enroll(approved, subject, {"from": site})
    first = now() + 600
    revoke_at(registry, trials, subject, approved, first)
    assert trials.isEnrolled(approved, subject)
    revoke_at(registry, trials, subject, approved, first + 3600, grantee=ANY_GRANTEE)
    mine_at(first + 7200)
    trials.withdraw(approved, subject, {"from": site})
    assert trials.getEnrolment(approved, subject)["withdrawnAt"] == first + 3600


def test_own_consent_narrowed_after_the_broad_one_ended_dates_at_the_call(
    trials, registry, site, subject, approved
):
    """The own consent still covered the trial after the broad one was revoked; its narrowing has no time on
    chain, so the withdrawal is dated at the call, never while the own consent held."""
    consent(registry, trials, subject, approved)
    consent(registry, trials, subject, approved, grantee=ANY_GRANTEE)
    trials.enroll(approved, subject, {"from": site})
    revoked_at = now() + 600
    revoke_at(registry, trials, subject, approved, revoked_at, grantee=ANY_GRANTEE)
    mine_at(revoked_at + 3600)
    narrowed_at = registry.update(trials, trial_purpose(approved, 1), LABS, 0, {"from": subject}).timestamp
    mine_at(narrowed_at + 3600)
    tx = trials.withdraw(approved, subject, {"from": site})
    assert trials.getEnrolment(approved, subject)["withdrawnAt"] == tx.timestamp >= narrowed_at + 3600


def test_consent_that_ended_before_the_enrolment_does_not_date_the_withdrawal(
    trials, registry, site, subject, approved
):
    """An old broad consent, revoked before the enrolment, did not admit the subject: a later narrowing of
    the consent that did is dated at the call."""
    consent(registry, trials, subject, approved, grantee=ANY_GRANTEE)
    revoked_at = registry.revoke(ANY_GRANTEE, trial_purpose(approved, 1), {"from": subject}).timestamp
    mine_at(revoked_at + 600)
    consent(registry, trials, subject, approved)
    enrolled_at = trials.enroll(approved, subject, {"from": site}).timestamp
    mine_at(enrolled_at + 600)
    registry.update(trials, trial_purpose(approved, 1), LABS, 0, {"from": subject})
    tx = trials.withdraw(approved, subject, {"from": site})
    assert trials.getEnrolment(approved, subject)["withdrawnAt"] == tx.timestamp > enrolled_at


def test_withdrawing_twice_reverts(trials, site, subject, enrolled):
    withdrawn_at = trials.withdraw(enrolled, subject, {"from": subject}).timestamp
    for caller in (subject, site):
        with reverts("NotEnrolled", enrolled, subject.address):
            trials.withdraw(enrolled, subject, {"from": caller})
    assert trials.getEnrolment(enrolled, subject)["withdrawnAt"] == withdrawn_at


def test_withdrawing_a_subject_never_enrolled_reverts(trials, registry, site, subject, subject2, enrolled):
    consent(registry, trials, subject2, enrolled)
    for caller in (subject2, site):
        with reverts("NotEnrolled", enrolled, subject2.address):
            trials.withdraw(enrolled, subject2, {"from": caller})
    assert tuple(trials.getEnrolment(enrolled, subject2)) == (ZERO_ADDRESS, 0, 0, 0)


def test_unknown_trial_reverts(trials, subject):
    with reverts("UnknownTrial", 9):
        trials.withdraw(9, subject, {"from": subject})


def test_what_was_committed_before_stays(trials, site, subject, enrolled):
    committed = trials.commitBatch(enrolled, ROOT, 40, {"from": site})
    trials.withdraw(enrolled, subject, {"from": subject})
    assert tuple(trials.getBatch(enrolled, site, ROOT)) == (committed.timestamp, 0)
    assert trials.getTrial(enrolled).dict()["enrolled"] == 1


def test_a_lock_does_not_stop_a_withdrawal(trials, sponsor, subject, enrolled):
    trials.lock(enrolled, {"from": sponsor})
    trials.reportResults(enrolled, RESULTS, PRIMARY, SECONDARY, {"from": sponsor})
    tx = trials.withdraw(enrolled, subject, {"from": subject})
    assert trials.getEnrolment(enrolled, subject)["withdrawnAt"] == tx.timestamp
    assert not trials.isEnrolled(enrolled, subject)


def test_withdrawal_is_per_trial(trials, registry, sponsor, irb, site, subject, enrolled):
    """The same key enrolled in two trials (against advice) withdraws from one only."""
    other = register(trials, sponsor, protocol=PROTOCOL_V2).return_value
    trials.addSite(other, site, {"from": sponsor})
    trials.approve(other, 1, {"from": irb})
    consent(registry, trials, subject, other)
    trials.enroll(other, subject, {"from": site})
    trials.withdraw(enrolled, subject, {"from": subject})
    assert (trials.isEnrolled(enrolled, subject), trials.isEnrolled(other, subject)) == (False, True)


def test_a_consent_to_the_new_version_not_yet_recorded_keeps_the_subject_in(
    trials, registry, sponsor, irb, site, subject, enrolled
):
    trials.amend(enrolled, PROTOCOL_V2, True, {"from": sponsor})
    trials.approve(enrolled, 2, {"from": irb})
    consent(registry, trials, subject, enrolled, version=2)
    registry.revoke(trials, trial_purpose(enrolled, 1), {"from": subject})  # the old consent, now stale
    assert trials.isEnrolled(enrolled, subject)
    tx = trials.withdraw(enrolled, subject, {"from": site})
    assert trials.getEnrolment(enrolled, subject)["withdrawnAt"] == tx.timestamp  # not the stale revocation
