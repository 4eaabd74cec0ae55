"""TrialRegistry.enroll: a site enrols a subject only while ConsentRegistry confirms the subject's consent to
this contract, for the trial's purpose at its consent version, covering every required scope."""

import pytest
from brownie import ZERO_ADDRESS
from conftest import GENOMICS, HMB, LABS, at_next_block, mine_at, now, reverts, sign_grant
from eth_account import Account

from carechain.core.purposes import ANY_GRANTEE, trial_purpose
from trials.conftest import PROTOCOL_V2, SCOPES, consent, register

pytestmark = pytest.mark.usefixtures("synced_clock")


def test_consented_subject_is_enrolled(trials, registry, site, subject, approved):
    consent(registry, trials, subject, approved)
    tx = trials.enroll(approved, subject, {"from": site})
    assert tuple(trials.getEnrolment(approved, subject)) == (site, tx.timestamp, 1, 0)
    assert trials.isEnrolled(approved, subject)
    assert trials.getTrial(approved).dict()["enrolled"] == 1
    assert tx.events["SubjectEnrolled"] == {
        "trialId": approved,
        "subject": subject,
        "site": site,
        "consentVersion": 1,
    }


def test_enrolled_counts_subjects_across_sites(
    trials, registry, sponsor, site, site2, subject, subject2, approved
):
    trials.addSite(approved, site2, {"from": sponsor})
    for who, by in ((subject, site), (subject2, site2)):
        consent(registry, trials, who, approved)
        tx = trials.enroll(approved, who, {"from": by})
        assert tx.events["SubjectEnrolled"]["site"] == by
        assert trials.getEnrolment(approved, who)["site"] == by
    assert trials.getTrial(approved).dict()["enrolled"] == 2


def test_consent_with_more_scopes_than_required_enrols(trials, registry, site, subject, approved):
    consent(registry, trials, subject, approved, scopes=SCOPES | (1 << 2))
    trials.enroll(approved, subject, {"from": site})
    assert trials.isEnrolled(approved, subject)


def test_signed_consent_relayed_by_a_clinic_enrols(trials, registry, site, relayer, subject, approved):
    signed = sign_grant(
        registry, Account.from_key(subject.private_key), trials.address, trial_purpose(approved, 1), SCOPES
    )
    registry.grantBySig(signed, {"from": relayer})
    trials.enroll(approved, subject, {"from": site})
    assert trials.isEnrolled(approved, subject)


def test_broad_consent_to_any_grantee_enrols(trials, registry, site, subject, approved):
    consent(registry, trials, subject, approved, grantee=ANY_GRANTEE)
    tx = trials.enroll(approved, subject, {"from": site})
    assert trials.isEnrolled(approved, subject)
    assert tx.events["SubjectEnrolled"]["consentVersion"] == 1


def test_subject_without_consent_reverts(trials, site, subject, approved):
    with reverts("NoConsent", approved, subject.address, 1):
        trials.enroll(approved, subject, {"from": site})
    assert tuple(trials.getEnrolment(approved, subject)) == (ZERO_ADDRESS, 0, 0, 0)
    assert trials.getTrial(approved).dict()["enrolled"] == 0


def test_consent_to_another_trial_reverts(trials, registry, sponsor, irb, site, subject, approved):
    other = register(trials, sponsor, protocol=PROTOCOL_V2).return_value
    trials.addSite(other, site, {"from": sponsor})
    trials.approve(other, 1, {"from": irb})
    consent(registry, trials, subject, other)
    with reverts("NoConsent", approved, subject.address, 1):
        trials.enroll(approved, subject, {"from": site})
    trials.enroll(other, subject, {"from": site})
    assert (trials.isEnrolled(approved, subject), trials.isEnrolled(other, subject)) == (False, True)


def test_consent_to_another_version_reverts(trials, registry, site, subject, approved):
    consent(registry, trials, subject, approved, version=2)
    with reverts("NoConsent", approved, subject.address, 1):
        trials.enroll(approved, subject, {"from": site})


def test_consent_to_another_purpose_reverts(trials, registry, site, subject, approved):
    registry.grant(trials, HMB, SCOPES, 0, {"from": subject})
    with reverts("NoConsent", approved, subject.address, 1):
        trials.enroll(approved, subject, {"from": site})


@pytest.mark.parametrize("grantee", ["site", "sponsor"])
def test_consent_to_another_grantee_reverts(trials, registry, site, sponsor, subject, approved, grantee):
    consent(registry, trials, subject, approved, grantee={"site": site, "sponsor": sponsor}[grantee])
    with reverts("NoConsent", approved, subject.address, 1):
        trials.enroll(approved, subject, {"from": site})


@pytest.mark.parametrize("scopes", [LABS, GENOMICS], ids=["no-genomics", "no-labs"])
def test_consent_missing_a_required_scope_reverts(trials, registry, site, subject, approved, scopes):
    consent(registry, trials, subject, approved, scopes=scopes)
    with reverts("NoConsent", approved, subject.address, 1):
        trials.enroll(approved, subject, {"from": site})


def test_expired_consent_reverts_from_its_expiry_on(trials, registry, site, subject, subject2, approved):
    expires_at = now() + 3600
    consent(registry, trials, subject, approved, expires_at=expires_at)
    consent(registry, trials, subject2, approved, expires_at=expires_at)
    at_next_block(expires_at - 1)
    trials.enroll(approved, subject2, {"from": site})
    mine_at(expires_at)
    with reverts("NoConsent", approved, subject.address, 1):
        trials.enroll(approved, subject, {"from": site})
    assert trials.isEnrolled(approved, subject2)


def test_revoked_consent_reverts(trials, registry, site, subject, approved):
    consent(registry, trials, subject, approved)
    registry.revoke(trials, trial_purpose(approved, 1), {"from": subject})
    with reverts("NoConsent", approved, subject.address, 1):
        trials.enroll(approved, subject, {"from": site})


def test_revoked_broad_consent_reverts(trials, registry, site, subject, approved):
    consent(registry, trials, subject, approved, grantee=ANY_GRANTEE)
    registry.revoke(ANY_GRANTEE, trial_purpose(approved, 1), {"from": subject})
    with reverts("NoConsent", approved, subject.address, 1):
        trials.enroll(approved, subject, {"from": site})


def test_enrolment_before_approval_reverts(trials, registry, sponsor, site, subject, registered):
    trials.addSite(registered, site, {"from": sponsor})
    consent(registry, trials, subject, registered)
    with reverts("ProtocolNotApproved", registered, 1):
        trials.enroll(registered, subject, {"from": site})
    assert not trials.isEnrolled(registered, subject)


def test_enrolment_waits_for_the_approval_of_an_amendment(
    trials, registry, sponsor, irb, site, subject, approved
):
    consent(registry, trials, subject, approved)
    trials.amend(approved, PROTOCOL_V2, False, {"from": sponsor})
    with reverts("ProtocolNotApproved", approved, 2):
        trials.enroll(approved, subject, {"from": site})
    trials.approve(approved, 2, {"from": irb})
    tx = trials.enroll(approved, subject, {"from": site})
    assert tx.events["SubjectEnrolled"]["consentVersion"] == 1
    assert trials.getEnrolment(approved, subject)["consentVersion"] == 1


def test_after_a_reconsent_amendment_only_the_new_consent_enrols(
    trials, registry, sponsor, irb, site, subject, approved
):
    consent(registry, trials, subject, approved, version=1)
    trials.amend(approved, PROTOCOL_V2, True, {"from": sponsor})
    trials.approve(approved, 2, {"from": irb})
    with reverts("NoConsent", approved, subject.address, 2):
        trials.enroll(approved, subject, {"from": site})
    consent(registry, trials, subject, approved, version=2)
    tx = trials.enroll(approved, subject, {"from": site})
    assert tuple(trials.getEnrolment(approved, subject)) == (site, tx.timestamp, 2, 0)
    assert tx.events["SubjectEnrolled"]["consentVersion"] == 2


def test_subject_enrolled_twice_reverts(trials, site, site2, sponsor, subject, enrolled):
    trials.addSite(enrolled, site2, {"from": sponsor})
    for by in (site, site2):
        with reverts("AlreadyEnrolled", enrolled, subject.address):
            trials.enroll(enrolled, subject, {"from": by})
    assert trials.getTrial(enrolled).dict()["enrolled"] == 1


def test_withdrawn_subject_whose_consent_stands_is_enrolled_afresh(trials, site, subject, enrolled):
    """Withdrawing leaves the consent in ConsentRegistry as it was: it admits the subject again."""
    trials.withdraw(enrolled, subject, {"from": subject})
    tx = trials.enroll(enrolled, subject, {"from": site})
    assert tuple(trials.getEnrolment(enrolled, subject)) == (site, tx.timestamp, 1, 0)
    assert trials.isEnrolled(enrolled, subject)
    assert trials.getTrial(enrolled).dict()["enrolled"] == 2


@pytest.mark.parametrize("who", ["zero", "site", "sponsor"])
def test_invalid_subject_reverts(trials, registry, site, sponsor, approved, who):
    subject = {"zero": ZERO_ADDRESS, "site": site, "sponsor": sponsor}[who]
    if who != "zero":
        consent(registry, trials, subject, approved)
    with reverts("InvalidSubject", str(subject)):
        trials.enroll(approved, subject, {"from": site})
    assert trials.getTrial(approved).dict()["enrolled"] == 0


def test_caller_who_is_not_a_site_reverts(trials, registry, sponsor, site2, stranger, subject, approved):
    consent(registry, trials, subject, approved)
    for caller in (stranger, sponsor, site2):  # site2 is credentialed but not a site of this trial
        with reverts("NotSite", approved, caller.address):
            trials.enroll(approved, subject, {"from": caller})
    assert not trials.isEnrolled(approved, subject)


def test_enrolment_after_lock_reverts(trials, registry, sponsor, site, subject, approved):
    consent(registry, trials, subject, approved)
    locked_at = trials.lock(approved, {"from": sponsor}).timestamp
    with reverts("TrialLocked", approved, locked_at):
        trials.enroll(approved, subject, {"from": site})
    assert trials.getTrial(approved).dict()["enrolled"] == 0


def test_unknown_trial_reverts(trials, site, subject):
    with reverts("UnknownTrial", 2):
        trials.enroll(2, subject, {"from": site})
