"""TrialRegistry.transferSponsor / acceptSponsor: a sponsor moves the trial to a new key or organisation in
two steps (finding A.5); nothing changes until the proposed account accepts."""

import pytest
from brownie import ZERO_ADDRESS
from conftest import hex32, reverts

from trials.conftest import PLAN_SALT, PRIMARY, PROTOCOL_V1, SECONDARY, endpoints_commitment

pytestmark = pytest.mark.usefixtures("synced_clock")


def test_the_proposed_sponsor_accepts_and_the_trial_is_theirs(trials, sponsor, stranger, site2, approved):
    tx = trials.transferSponsor(approved, stranger, {"from": sponsor})
    assert tx.events["SponsorTransferStarted"] == {
        "trialId": approved,
        "sponsor": sponsor,
        "newSponsor": stranger,
    }
    assert trials.pendingSponsor(approved) == stranger
    assert trials.getTrial(approved).dict()["sponsor"] == sponsor  # nothing moves before the acceptance
    tx = trials.acceptSponsor(approved, {"from": stranger})
    assert tx.events["SponsorTransferred"] == {
        "trialId": approved,
        "previousSponsor": sponsor,
        "newSponsor": stranger,
    }
    assert trials.getTrial(approved).dict()["sponsor"] == stranger
    assert trials.pendingSponsor(approved) == ZERO_ADDRESS
    with reverts("NotSponsor", approved, sponsor.address):
        trials.addSite(approved, site2, {"from": sponsor})
    trials.addSite(approved, site2, {"from": stranger})
    assert trials.getSite(approved, site2)[0]


def test_only_the_sponsor_proposes_and_only_the_proposed_account_accepts(
    trials, sponsor, irb, stranger, approved
):
    with reverts("NotSponsor", approved, stranger.address):
        trials.transferSponsor(approved, stranger, {"from": stranger})
    with reverts("NotPendingSponsor", approved, stranger.address):
        trials.acceptSponsor(approved, {"from": stranger})
    trials.transferSponsor(approved, stranger, {"from": sponsor})
    with reverts("NotPendingSponsor", approved, irb.address):
        trials.acceptSponsor(approved, {"from": irb})
    assert trials.getTrial(approved).dict()["sponsor"] == sponsor


def test_proposing_zero_cancels(trials, sponsor, stranger, approved):
    trials.transferSponsor(approved, stranger, {"from": sponsor})
    tx = trials.transferSponsor(approved, ZERO_ADDRESS, {"from": sponsor})
    assert tx.events["SponsorTransferStarted"]["newSponsor"] == ZERO_ADDRESS
    with reverts("NotPendingSponsor", approved, stranger.address):
        trials.acceptSponsor(approved, {"from": stranger})
    assert trials.getTrial(approved).dict()["sponsor"] == sponsor


def test_unknown_trial_reverts(trials, stranger):
    with reverts("UnknownTrial", 9):
        trials.pendingSponsor(9)
    with reverts("UnknownTrial", 9):
        trials.acceptSponsor(9, {"from": stranger})


def test_the_new_sponsor_reveals_the_blinded_plan_of_the_old_one(trials, sponsor, irb, stranger):
    commitment = endpoints_commitment(sponsor, PRIMARY, SECONDARY, PLAN_SALT)
    trial_id = trials.register(
        PROTOCOL_V1, 1, irb, bytes(32), bytes(32), commitment, {"from": sponsor}
    ).return_value
    trials.transferSponsor(trial_id, stranger, {"from": sponsor})
    trials.acceptSponsor(trial_id, {"from": stranger})
    trials.revealEndpoints(trial_id, PRIMARY, SECONDARY, PLAN_SALT, {"from": stranger})
    assert trials.getTrial(trial_id).dict()["primaryEndpoints"] == hex32(PRIMARY)
