"""TrialRegistry.addSite / removeSite: the sponsor adds sites holding a live RESEARCHER credential; a removed
site, or one whose credential lapsed, can neither enrol nor commit."""

import pytest
from conftest import IRB, RESEARCHER, attest, reverts
from eth_utils.crypto import keccak

from trials.conftest import PROTOCOL_V2, consent, register

ROOT = keccak(text="batch root")


def test_add_site_records_it_and_emits_event(trials, sponsor, site, registered):
    tx = trials.addSite(registered, site, {"from": sponsor})
    assert tuple(trials.getSite(registered, site)) == (True, 0, tx.timestamp)
    assert tx.events["SiteAdded"] == {"trialId": registered, "site": site}


def test_site_without_researcher_credential_reverts(trials, sponsor, stranger, irb, registered):
    for account in (stranger, irb):  # irb holds IRB, not RESEARCHER
        with reverts("NotResearcher", account.address):
            trials.addSite(registered, account, {"from": sponsor})
        assert tuple(trials.getSite(registered, account)) == (False, 0, 0)


@pytest.mark.parametrize("action", ["suspend", "revoke"])
def test_site_whose_credential_is_suspended_or_revoked_cannot_be_added(
    trials, credentials, registrar, sponsor, site, registered, action
):
    getattr(credentials, action)(site, RESEARCHER, {"from": registrar})
    with reverts("NotResearcher", site.address):
        trials.addSite(registered, site, {"from": sponsor})


def test_adding_an_active_site_again_reverts(trials, sponsor, site, approved):
    added_at = trials.getSite(approved, site)[2]
    with reverts("SiteExists", approved, site.address):
        trials.addSite(approved, site, {"from": sponsor})
    assert tuple(trials.getSite(approved, site)) == (True, 0, added_at)


def test_only_the_sponsor_adds_and_removes_sites(trials, stranger, site, site2, approved):
    with reverts("NotSponsor", approved, stranger.address):
        trials.addSite(approved, site2, {"from": stranger})
    with reverts("NotSponsor", approved, site.address):
        trials.removeSite(approved, site, {"from": site})
    assert trials.getSite(approved, site)[0] is True
    assert trials.getSite(approved, site2)[0] is False


def test_unknown_trial_reverts(trials, sponsor, site):
    with reverts("UnknownTrial", 5):
        trials.addSite(5, site, {"from": sponsor})
    with reverts("UnknownTrial", 5):
        trials.removeSite(5, site, {"from": sponsor})


def test_add_site_after_lock_reverts(trials, sponsor, site2, approved):
    locked_at = trials.lock(approved, {"from": sponsor}).timestamp
    with reverts("TrialLocked", approved, locked_at):
        trials.addSite(approved, site2, {"from": sponsor})


def test_sites_belong_to_one_trial(trials, sponsor, site, approved):
    other = register(trials, sponsor, protocol=PROTOCOL_V2).return_value
    assert trials.getSite(other, site)[0] is False
    with reverts("NotSite", other, site.address):
        trials.removeSite(other, site, {"from": sponsor})


def test_remove_site_keeps_its_record_and_emits_event(trials, sponsor, site, approved):
    trials.commitBatch(approved, ROOT, 10, {"from": site})
    added_at = trials.getSite(approved, site)[2]
    tx = trials.removeSite(approved, site, {"from": sponsor})
    assert tuple(trials.getSite(approved, site)) == (False, 1, added_at)
    assert trials.getBatch(approved, site, ROOT)["committedAt"] != 0
    assert tx.events["SiteRemoved"] == {"trialId": approved, "site": site}


def test_removing_a_site_that_is_not_active_reverts(trials, sponsor, site, site2, approved):
    with reverts("NotSite", approved, site2.address):
        trials.removeSite(approved, site2, {"from": sponsor})
    trials.removeSite(approved, site, {"from": sponsor})
    with reverts("NotSite", approved, site.address):
        trials.removeSite(approved, site, {"from": sponsor})


def test_removed_site_re_added_continues_its_batch_sequence(trials, sponsor, site, approved):
    trials.commitBatch(approved, ROOT, 10, {"from": site})
    trials.removeSite(approved, site, {"from": sponsor})
    tx = trials.addSite(approved, site, {"from": sponsor})
    assert tuple(trials.getSite(approved, site)) == (True, 1, tx.timestamp)
    assert trials.commitBatch(approved, keccak(text="next root"), 10, {"from": site}).return_value == 1


def test_removed_site_cannot_enrol_or_commit(trials, registry, sponsor, site, subject, approved):
    consent(registry, trials, subject, approved)
    trials.removeSite(approved, site, {"from": sponsor})
    with reverts("NotSite", approved, site.address):
        trials.enroll(approved, subject, {"from": site})
    with reverts("NotSite", approved, site.address):
        trials.commitBatch(approved, ROOT, 10, {"from": site})
    assert not trials.isEnrolled(approved, subject)
    assert trials.getBatch(approved, site, ROOT)["committedAt"] == 0


def test_site_whose_credential_was_suspended_cannot_enrol_or_commit_until_reinstated(
    trials, registry, credentials, registrar, site, subject, approved
):
    consent(registry, trials, subject, approved)
    credentials.suspend(site, RESEARCHER, {"from": registrar})
    with reverts("NotSite", approved, site.address):
        trials.enroll(approved, subject, {"from": site})
    with reverts("NotSite", approved, site.address):
        trials.commitBatch(approved, ROOT, 10, {"from": site})
    credentials.reinstate(site, RESEARCHER, {"from": registrar})
    trials.enroll(approved, subject, {"from": site})
    trials.commitBatch(approved, ROOT, 10, {"from": site})
    assert trials.isEnrolled(approved, subject)
    assert trials.getBatch(approved, site, ROOT)["committedAt"] != 0


def test_site_credential_is_checked_by_role_not_by_any_credential(
    trials, credentials, registrar, sponsor, site, approved
):
    credentials.revoke(site, RESEARCHER, {"from": registrar})
    attest(credentials, registrar, site, IRB)
    with reverts("NotSite", approved, site.address):
        trials.commitBatch(approved, ROOT, 10, {"from": site})
