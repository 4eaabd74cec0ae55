"""TrialRegistry.lock / reportResults: after the database lock nothing more is enrolled, committed, amended
or approved; results are reported against the pre-registered endpoints, so outcome switching shows."""

from types import SimpleNamespace

import pytest
from conftest import hex32, reverts
from eth_utils.crypto import keccak

from trials.conftest import (
    NO_HASH,
    PLAN_SALT,
    PRIMARY,
    PROTOCOL_V2,
    RESULTS,
    SECONDARY,
    Status,
    consent,
)

SWITCHED = keccak(text="endpoint-salt|primary: a switched outcome")


def test_lock_sets_status_and_time_and_emits_event(trials, sponsor, approved):
    tx = trials.lock(approved, {"from": sponsor})
    trial = trials.getTrial(approved).dict()
    assert (trial["status"], trial["lockedAt"]) == (Status.LOCKED, tx.timestamp)
    assert tx.events["DatabaseLocked"] == {"trialId": approved, "lockedAt": tx.timestamp}


def test_lock_before_approval_reverts(trials, sponsor, registered):
    with reverts("InvalidTrialStatus", registered, Status.REGISTERED):
        trials.lock(registered, {"from": sponsor})
    assert trials.getTrial(registered).dict()["lockedAt"] == 0


def test_locking_twice_reverts(trials, sponsor, approved):
    locked_at = trials.lock(approved, {"from": sponsor}).timestamp
    with reverts("InvalidTrialStatus", approved, Status.LOCKED):
        trials.lock(approved, {"from": sponsor})
    trials.reportResults(approved, RESULTS, PRIMARY, SECONDARY, {"from": sponsor})
    with reverts("InvalidTrialStatus", approved, Status.REPORTED):
        trials.lock(approved, {"from": sponsor})
    assert trials.getTrial(approved).dict()["lockedAt"] == locked_at


def test_only_the_sponsor_locks_and_reports(trials, sponsor, site, irb, approved):
    for caller in (site, irb):
        with reverts("NotSponsor", approved, caller.address):
            trials.lock(approved, {"from": caller})
    trials.lock(approved, {"from": sponsor})
    with reverts("NotSponsor", approved, site.address):
        trials.reportResults(approved, RESULTS, PRIMARY, SECONDARY, {"from": site})
    assert trials.getTrial(approved).dict()["status"] == Status.LOCKED


def test_unknown_trial_reverts(trials, sponsor):
    with reverts("UnknownTrial", 4):
        trials.lock(4, {"from": sponsor})
    with reverts("UnknownTrial", 4):
        trials.reportResults(4, RESULTS, PRIMARY, SECONDARY, {"from": sponsor})


ACTIONS = {
    "enroll": lambda trials, trial_id, a: trials.enroll(trial_id, a.subject, {"from": a.site}),
    "commit": lambda trials, trial_id, a: trials.commitBatch(
        trial_id, keccak(text="late"), 10, {"from": a.site}
    ),
    "amend": lambda trials, trial_id, a: trials.amend(trial_id, PROTOCOL_V2, False, {"from": a.sponsor}),
    "approve": lambda trials, trial_id, a: trials.approve(trial_id, 1, {"from": a.irb}),
    "add-site": lambda trials, trial_id, a: trials.addSite(trial_id, a.site2, {"from": a.sponsor}),
}


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("reported", [False, True], ids=["locked", "reported"])
def test_nothing_changes_after_the_lock(
    trials, registry, sponsor, irb, site, site2, subject, approved, action, reported
):
    consent(registry, trials, subject, approved)
    locked_at = trials.lock(approved, {"from": sponsor}).timestamp
    if reported:
        trials.reportResults(approved, RESULTS, PRIMARY, SECONDARY, {"from": sponsor})
    actors = SimpleNamespace(sponsor=sponsor, irb=irb, site=site, site2=site2, subject=subject)
    with reverts("TrialLocked", approved, locked_at):
        ACTIONS[action](trials, approved, actors)
    trial = trials.getTrial(approved).dict()
    assert (trial["enrolled"], trial["protocolVersion"]) == (0, 1)
    assert trials.getSite(approved, site)[1] == 0
    assert trials.getSite(approved, site2)[0] is False


def test_report_before_lock_reverts(trials, sponsor, irb, registered):
    with reverts("InvalidTrialStatus", registered, Status.REGISTERED):
        trials.reportResults(registered, RESULTS, PRIMARY, SECONDARY, {"from": sponsor})
    trials.approve(registered, 1, {"from": irb})
    with reverts("InvalidTrialStatus", registered, Status.APPROVED):
        trials.reportResults(registered, RESULTS, PRIMARY, SECONDARY, {"from": sponsor})
    assert trials.getTrial(registered).dict()["resultsHash"] == hex32(NO_HASH)


@pytest.mark.parametrize(
    ("primary", "secondary"),
    [(SECONDARY, PRIMARY), (SWITCHED, SECONDARY), (PRIMARY, SWITCHED), (PRIMARY, NO_HASH)],
    ids=["swapped", "switched-primary", "switched-secondary", "secondary-dropped"],
)
def test_results_naming_other_endpoints_revert(trials, sponsor, approved, primary, secondary):
    trials.lock(approved, {"from": sponsor})
    with reverts("EndpointsMismatch", approved, primary, secondary):
        trials.reportResults(approved, RESULTS, primary, secondary, {"from": sponsor})
    assert trials.getTrial(approved).dict()["status"] == Status.LOCKED


def test_zero_results_hash_reverts(trials, sponsor, approved):
    trials.lock(approved, {"from": sponsor})
    with reverts("InvalidHash", NO_HASH):
        trials.reportResults(approved, NO_HASH, PRIMARY, SECONDARY, {"from": sponsor})


def test_report_stores_the_results_and_emits_event(trials, sponsor, approved):
    locked_at = trials.lock(approved, {"from": sponsor}).timestamp
    tx = trials.reportResults(approved, RESULTS, PRIMARY, SECONDARY, {"from": sponsor})
    trial = trials.getTrial(approved).dict()
    assert (trial["status"], trial["lockedAt"], trial["reportedAt"]) == (
        Status.REPORTED,
        locked_at,
        tx.timestamp,
    )
    assert trial["resultsHash"] == hex32(RESULTS)
    assert tx.events["ResultsReported"] == {
        "trialId": approved,
        "resultsHash": hex32(RESULTS),
        "primaryEndpoints": hex32(PRIMARY),
        "secondaryEndpoints": hex32(SECONDARY),
    }


def test_reporting_twice_reverts(trials, sponsor, approved):
    trials.lock(approved, {"from": sponsor})
    reported_at = trials.reportResults(approved, RESULTS, PRIMARY, SECONDARY, {"from": sponsor}).timestamp
    with reverts("InvalidTrialStatus", approved, Status.REPORTED):
        trials.reportResults(
            approved, keccak(text="corrected results"), PRIMARY, SECONDARY, {"from": sponsor}
        )
    trial = trials.getTrial(approved).dict()
    assert (trial["resultsHash"], trial["reportedAt"]) == (hex32(RESULTS), reported_at)


def test_blinded_plan_must_be_revealed_before_the_report(trials, sponsor, irb, blinded):
    trials.approve(blinded, 1, {"from": irb})
    trials.lock(blinded, {"from": sponsor})
    with reverts("EndpointsNotRevealed", blinded):
        trials.reportResults(blinded, RESULTS, PRIMARY, SECONDARY, {"from": sponsor})
    trials.revealEndpoints(blinded, PRIMARY, SECONDARY, PLAN_SALT, {"from": sponsor})
    with reverts("EndpointsMismatch", blinded, SWITCHED, SECONDARY):
        trials.reportResults(blinded, RESULTS, SWITCHED, SECONDARY, {"from": sponsor})
    tx = trials.reportResults(blinded, RESULTS, PRIMARY, SECONDARY, {"from": sponsor})
    assert trials.getTrial(blinded).dict()["status"] == Status.REPORTED
    assert tx.events["ResultsReported"]["primaryEndpoints"] == hex32(PRIMARY)


def test_lock_keeps_what_was_committed_and_enrolled(trials, site, subject, enrolled, sponsor):
    committed = trials.commitBatch(enrolled, keccak(text="final batch"), 10, {"from": site})
    trials.lock(enrolled, {"from": sponsor})
    assert tuple(trials.getBatch(enrolled, site, keccak(text="final batch"))) == (committed.timestamp, 0)
    assert trials.isEnrolled(enrolled, subject)
