"""TrialRegistry.approve: the trial's IRB of record, while its IRB credential is live and it is not the
sponsor, approves the latest protocol version; no other IRB does (finding A.4)."""

import pytest
from brownie import ZERO_ADDRESS
from conftest import IRB, attest, mine_at, now, reverts

from trials.conftest import PROTOCOL_V2, Status

pytestmark = pytest.mark.usefixtures("synced_clock")


def test_approval_records_the_irb_and_opens_the_trial(trials, irb, registered):
    tx = trials.approve(registered, 1, {"from": irb})
    version = trials.getProtocolVersion(registered, 1)
    assert (version[3], version[4]) == (irb, tx.timestamp)
    trial = trials.getTrial(registered).dict()
    assert (trial["status"], trial["currentApproved"]) == (Status.APPROVED, True)
    assert tx.events["ProtocolApproved"] == {"trialId": registered, "version": 1, "irb": irb}


def test_approving_an_amendment_keeps_the_earlier_approval(
    trials, sponsor, irb, approved, accounts, credentials, registrar
):
    first = tuple(trials.getProtocolVersion(approved, 1))
    trials.amend(approved, PROTOCOL_V2, False, {"from": sponsor})
    second_irb = accounts[9]
    attest(credentials, registrar, second_irb, IRB)
    credentials.revoke(irb, IRB, {"from": registrar})  # the first IRB closed
    trials.changeIrb(approved, second_irb, {"from": sponsor})  # allowed now that it cannot act
    tx = trials.approve(approved, 2, {"from": second_irb})
    assert tuple(trials.getProtocolVersion(approved, 1)) == first
    assert tuple(trials.getProtocolVersion(approved, 2))[3:] == (second_irb, tx.timestamp)
    assert trials.getTrial(approved).dict()["currentApproved"] is True
    assert tx.events["ProtocolApproved"] == {"trialId": approved, "version": 2, "irb": second_irb}


def test_anyone_but_the_irb_of_record_reverts(
    trials, stranger, site, accounts, credentials, registrar, registered
):
    other_irb = accounts[9]
    attest(credentials, registrar, other_irb, IRB)
    for caller in (stranger, site, other_irb):  # no credential; RESEARCHER; another IRB (finding A.4)
        with reverts("NotIrbOfRecord", registered, caller.address):
            trials.approve(registered, 1, {"from": caller})
    assert trials.getTrial(registered).dict()["status"] == Status.REGISTERED


def test_expired_irb_credential_reverts(trials, credentials, registrar, irb, registered):
    lapsing_irb = irb
    valid_until = now() + 3600
    attest(credentials, registrar, lapsing_irb, IRB, valid_until=valid_until)  # renewed with an end
    mine_at(valid_until)
    with reverts("NotIrb", lapsing_irb.address):
        trials.approve(registered, 1, {"from": lapsing_irb})
    assert trials.getProtocolVersion(registered, 1)[3] == ZERO_ADDRESS


@pytest.mark.parametrize("action", ["revoke", "suspend"])
def test_revoked_or_suspended_irb_credential_reverts(trials, credentials, registrar, irb, registered, action):
    getattr(credentials, action)(irb, IRB, {"from": registrar})
    with reverts("NotIrb", irb.address):
        trials.approve(registered, 1, {"from": irb})
    assert trials.getTrial(registered).dict()["currentApproved"] is False


def test_sponsor_holding_an_irb_credential_cannot_approve_own_trial(
    trials, credentials, registrar, sponsor, irb, registered
):
    attest(credentials, registrar, sponsor, IRB)
    with reverts("NotIrbOfRecord", registered, sponsor.address):
        trials.approve(registered, 1, {"from": sponsor})
    # Nor once the IRB of record took the trial over as its sponsor.
    trials.transferSponsor(registered, irb, {"from": sponsor})
    trials.acceptSponsor(registered, {"from": irb})
    with reverts("IrbIsSponsor", registered, irb.address):
        trials.approve(registered, 1, {"from": irb})
    assert trials.getTrial(registered).dict()["status"] == Status.REGISTERED


@pytest.mark.parametrize("version", [0, 2, 2**32 - 1], ids=["zero", "next", "max"])
def test_version_that_does_not_exist_reverts(trials, irb, registered, version):
    with reverts("InvalidVersion", registered, version):
        trials.approve(registered, version, {"from": irb})


def test_earlier_version_reverts(trials, sponsor, irb, approved):
    trials.amend(approved, PROTOCOL_V2, False, {"from": sponsor})
    with reverts("InvalidVersion", approved, 1):
        trials.approve(approved, 1, {"from": irb})
    assert trials.getTrial(approved).dict()["currentApproved"] is False


def test_approving_twice_reverts(trials, irb, approved):
    approved_at = trials.getProtocolVersion(approved, 1)[4]
    with reverts("InvalidVersion", approved, 1):
        trials.approve(approved, 1, {"from": irb})
    assert trials.getProtocolVersion(approved, 1)[4] == approved_at


def test_unknown_trial_reverts(trials, irb):
    with reverts("UnknownTrial", 3):
        trials.approve(3, 1, {"from": irb})


def test_approval_after_lock_reverts(trials, sponsor, irb, approved):
    trials.amend(approved, PROTOCOL_V2, False, {"from": sponsor})
    locked_at = trials.lock(approved, {"from": sponsor}).timestamp
    with reverts("TrialLocked", approved, locked_at):
        trials.approve(approved, 2, {"from": irb})
    assert trials.getTrial(approved).dict()["status"] == Status.LOCKED
