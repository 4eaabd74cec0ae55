"""TrialRegistry.changeIrb: the sponsor names another IRB of record before the lock (finding A.4): freely
while no protocol version awaits approval; while one does, only away from an IRB of record that can no
longer act on it (its IRB credential suspended, revoked or expired), never from one that is deliberating
or refusing (issue 15, A.4 review: `IrbReviewPending`). The new IRB approves the version awaiting approval,
and approvals already given stay with the IRB that gave them."""

import pytest
from brownie import ZERO_ADDRESS, web3
from conftest import IRB, attest, mine_at, now, reverts

from carechain import errors
from carechain.clients.trials import TrialClient
from carechain.core.sender import Sender
from trials.conftest import PRIMARY, PROTOCOL_V2, RESULTS, SECONDARY

pytestmark = pytest.mark.usefixtures("synced_clock")


@pytest.fixture
def new_irb(accounts, credentials, registrar):
    """Another institution's IRB, holding a live IRB credential."""
    attest(credentials, registrar, accounts[9], IRB)
    return accounts[9]


def _close(action, credentials, registrar, irb):
    """The IRB of record can no longer act: its IRB credential suspended, revoked or expired."""
    if action == "expire":
        valid_until = now() + 3600
        attest(credentials, registrar, irb, IRB, valid_until=valid_until)  # a renewal with an end
        mine_at(valid_until)
    else:
        getattr(credentials, action)(irb, IRB, {"from": registrar})
    assert credentials.hasCredential(irb, IRB) is False


@pytest.mark.parametrize("pending", [1, 2], ids=["version-1", "amendment"])
def test_no_swap_away_from_a_live_irb_while_a_version_awaits_it(
    trials, sponsor, irb, new_irb, registered, pending
):
    """The review's exploit: the IRB of record is silent on a pending version; the sponsor cannot name a
    friendlier IRB, and that IRB cannot approve."""
    if pending == 2:
        trials.approve(registered, 1, {"from": irb})
        trials.amend(registered, PROTOCOL_V2, False, {"from": sponsor})
    with reverts("IrbReviewPending", registered, irb.address):
        trials.changeIrb(registered, new_irb, {"from": sponsor})
    with reverts("NotIrbOfRecord", registered, new_irb.address):
        trials.approve(registered, pending, {"from": new_irb})
    assert trials.getTrial(registered).dict()["irb"] == irb


def test_the_client_raises_irb_review_pending_by_name(trials, sponsor, irb, new_irb, registered):
    client = TrialClient(web3, trials.address, trials.abi).with_sender(Sender(web3, sponsor.address))
    with pytest.raises(errors.IrbReviewPending) as caught:
        client.change_irb(registered, new_irb.address)
    assert caught.value.arguments == {"trialId": registered, "irb": irb.address}
    assert isinstance(caught.value, errors.ContractError)
    assert trials.getTrial(registered).dict()["irb"] == irb


@pytest.mark.parametrize("action", ["suspend", "revoke", "expire"])
def test_the_new_irb_approves_the_pending_version_once_the_irb_of_record_cannot(
    trials, sponsor, irb, new_irb, credentials, registrar, approved, action
):
    trials.amend(approved, PROTOCOL_V2, False, {"from": sponsor})
    _close(action, credentials, registrar, irb)
    tx = trials.changeIrb(approved, new_irb, {"from": sponsor})
    assert tx.events["IrbOfRecordChanged"] == {"trialId": approved, "previous": irb, "next": new_irb}
    assert trials.getTrial(approved).dict()["irb"] == new_irb
    with reverts("NotIrbOfRecord", approved, irb.address):
        trials.approve(approved, 2, {"from": irb})
    trials.approve(approved, 2, {"from": new_irb})
    assert trials.getProtocolVersion(approved, 1)[3] == irb  # the first approval stays the first IRB's
    assert trials.getProtocolVersion(approved, 2)[3] == new_irb


def test_the_sponsor_changes_the_irb_freely_while_no_version_awaits(trials, sponsor, irb, new_irb, approved):
    assert trials.getTrial(approved).dict()["currentApproved"] is True
    trials.changeIrb(approved, new_irb, {"from": sponsor})  # the IRB of record's credential is live
    trials.amend(approved, PROTOCOL_V2, False, {"from": sponsor})
    trials.approve(approved, 2, {"from": new_irb})
    assert trials.getProtocolVersion(approved, 2)[3] == new_irb


def test_only_the_sponsor_changes_the_irb(trials, new_irb, irb, stranger, registered):
    for caller in (stranger, irb, new_irb):
        with reverts("NotSponsor", registered, caller.address):
            trials.changeIrb(registered, new_irb, {"from": caller})
    assert trials.getTrial(registered).dict()["irb"] == irb


def test_the_new_irb_holds_a_live_credential_and_is_not_the_sponsor(
    trials, sponsor, site, credentials, registrar, new_irb, approved
):
    credentials.suspend(new_irb, IRB, {"from": registrar})
    for candidate in (site.address, ZERO_ADDRESS, new_irb.address):
        with reverts("NotIrb", candidate):
            trials.changeIrb(approved, candidate, {"from": sponsor})
    attest(credentials, registrar, sponsor, IRB)
    with reverts("IrbIsSponsor", approved, sponsor.address):
        trials.changeIrb(approved, sponsor, {"from": sponsor})


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
