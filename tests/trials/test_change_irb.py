"""TrialRegistry.changeIrb: the sponsor names another IRB of record before the lock (finding A.4); it approves
the version awaiting approval, and approvals already given stay with the IRB that gave them."""

import pytest
from brownie import ZERO_ADDRESS
from conftest import IRB, attest, reverts

from trials.conftest import PRIMARY, PROTOCOL_V2, RESULTS, SECONDARY


@pytest.fixture
def new_irb(accounts, credentials, registrar):
    """Another institution's IRB, holding a live IRB credential."""
    attest(credentials, registrar, accounts[9], IRB)
    return accounts[9]


def test_the_new_irb_approves_the_pending_version(trials, sponsor, irb, new_irb, approved):
    trials.amend(approved, PROTOCOL_V2, False, {"from": sponsor})
    tx = trials.changeIrb(approved, new_irb, {"from": sponsor})
    assert tx.events["IrbOfRecordChanged"] == {"trialId": approved, "previous": irb, "next": new_irb}
    assert trials.getTrial(approved).dict()["irb"] == new_irb
    with reverts("NotIrbOfRecord", approved, irb.address):
        trials.approve(approved, 2, {"from": irb})
    trials.approve(approved, 2, {"from": new_irb})
    assert trials.getProtocolVersion(approved, 1)[3] == irb  # the first approval stays the first IRB's
    assert trials.getProtocolVersion(approved, 2)[3] == new_irb


def test_only_the_sponsor_changes_the_irb(trials, new_irb, irb, stranger, registered):
    for caller in (stranger, irb, new_irb):
        with reverts("NotSponsor", registered, caller.address):
            trials.changeIrb(registered, new_irb, {"from": caller})
    assert trials.getTrial(registered).dict()["irb"] == irb


def test_the_new_irb_holds_a_live_credential_and_is_not_the_sponsor(
    trials, sponsor, site, credentials, registrar, new_irb, registered
):
    credentials.suspend(new_irb, IRB, {"from": registrar})
    for candidate in (site.address, ZERO_ADDRESS, new_irb.address):
        with reverts("NotIrb", candidate):
            trials.changeIrb(registered, candidate, {"from": sponsor})
    attest(credentials, registrar, sponsor, IRB)
    with reverts("IrbIsSponsor", registered, sponsor.address):
        trials.changeIrb(registered, sponsor, {"from": sponsor})


@pytest.mark.parametrize("reported", [False, True], ids=["locked", "reported"])
def test_no_change_after_the_lock(trials, sponsor, irb, new_irb, approved, reported):
    locked_at = trials.lock(approved, {"from": sponsor}).timestamp
    if reported:
        trials.reportResults(approved, RESULTS, PRIMARY, SECONDARY, {"from": sponsor})
    with reverts("TrialLocked", approved, locked_at):
        trials.changeIrb(approved, new_irb, {"from": sponsor})
    assert trials.getTrial(approved).dict()["irb"] == irb


def test_unknown_trial_reverts(trials, sponsor, new_irb):
    with reverts("UnknownTrial", 7):
        trials.changeIrb(7, new_irb, {"from": sponsor})
