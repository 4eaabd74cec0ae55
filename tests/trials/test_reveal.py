"""TrialRegistry.revealEndpoints: the sponsor of a blinded analysis plan reveals its endpoints with the salt;
they must hash, with the sponsor's address, to the commitment registered before the trial."""

import pytest
from conftest import hex32, reverts
from eth_utils.crypto import keccak

from trials.conftest import NO_HASH, PLAN_SALT, PRIMARY, SECONDARY, endpoints_commitment, register

OTHER = keccak(text="endpoint-salt|primary: a switched outcome")


def test_reveal_with_the_salt_stores_the_endpoints(trials, sponsor, blinded):
    commitment = endpoints_commitment(sponsor, PRIMARY, SECONDARY, PLAN_SALT)
    tx = trials.revealEndpoints(blinded, PRIMARY, SECONDARY, PLAN_SALT, {"from": sponsor})
    trial = trials.getTrial(blinded).dict()
    assert (trial["primaryEndpoints"], trial["secondaryEndpoints"]) == (hex32(PRIMARY), hex32(SECONDARY))
    assert trial["endpointsCommitment"] == hex32(commitment)
    assert tx.events["EndpointsRevealed"] == {
        "trialId": blinded,
        "primaryEndpoints": hex32(PRIMARY),
        "secondaryEndpoints": hex32(SECONDARY),
    }


def test_plan_without_secondary_endpoints_reveals(trials, sponsor):
    commitment = endpoints_commitment(sponsor, PRIMARY, NO_HASH, PLAN_SALT)
    trial_id = register(
        trials, sponsor, primary=NO_HASH, secondary=NO_HASH, commitment=commitment
    ).return_value
    trials.revealEndpoints(trial_id, PRIMARY, NO_HASH, PLAN_SALT, {"from": sponsor})
    assert trials.getTrial(trial_id).dict()["primaryEndpoints"] == hex32(PRIMARY)


@pytest.mark.parametrize(
    ("primary", "secondary", "salt"),
    [
        (PRIMARY, SECONDARY, keccak(text="a guessed salt")),
        (OTHER, SECONDARY, PLAN_SALT),
        (PRIMARY, OTHER, PLAN_SALT),
        (SECONDARY, PRIMARY, PLAN_SALT),
        (PRIMARY, NO_HASH, PLAN_SALT),
        (NO_HASH, SECONDARY, PLAN_SALT),
    ],
    ids=["wrong-salt", "other-primary", "other-secondary", "swapped", "secondary-dropped", "zero-primary"],
)
def test_reveal_that_does_not_match_the_commitment_reverts(
    trials, sponsor, blinded, primary, secondary, salt
):
    with reverts("RevealMismatch", blinded):
        trials.revealEndpoints(blinded, primary, secondary, salt, {"from": sponsor})
    assert trials.getTrial(blinded).dict()["primaryEndpoints"] == hex32(NO_HASH)


def test_committed_zero_primary_can_never_be_revealed(trials, sponsor):
    """A plan committed without a primary endpoint could never report against one: it stays unrevealed."""
    commitment = endpoints_commitment(sponsor, NO_HASH, SECONDARY, PLAN_SALT)
    trial_id = register(
        trials, sponsor, primary=NO_HASH, secondary=NO_HASH, commitment=commitment
    ).return_value
    with reverts("RevealMismatch", trial_id):
        trials.revealEndpoints(trial_id, NO_HASH, SECONDARY, PLAN_SALT, {"from": sponsor})


def test_plain_trial_has_nothing_to_reveal(trials, sponsor, registered):
    with reverts("NotBlinded", registered):
        trials.revealEndpoints(registered, PRIMARY, SECONDARY, PLAN_SALT, {"from": sponsor})


def test_revealing_twice_reverts(trials, sponsor, blinded):
    trials.revealEndpoints(blinded, PRIMARY, SECONDARY, PLAN_SALT, {"from": sponsor})
    with reverts("AlreadyRevealed", blinded):
        trials.revealEndpoints(blinded, PRIMARY, SECONDARY, PLAN_SALT, {"from": sponsor})
    with reverts("AlreadyRevealed", blinded):
        trials.revealEndpoints(blinded, OTHER, SECONDARY, PLAN_SALT, {"from": sponsor})
    assert trials.getTrial(blinded).dict()["primaryEndpoints"] == hex32(PRIMARY)


def test_only_the_sponsor_reveals(trials, stranger, blinded):
    with reverts("NotSponsor", blinded, stranger.address):
        trials.revealEndpoints(blinded, PRIMARY, SECONDARY, PLAN_SALT, {"from": stranger})


def test_unknown_trial_reverts(trials, sponsor):
    with reverts("UnknownTrial", 8):
        trials.revealEndpoints(8, PRIMARY, SECONDARY, PLAN_SALT, {"from": sponsor})


def test_copied_commitment_cannot_be_revealed_with_the_sponsors_values(trials, sponsor, stranger, blinded):
    """A copycat who registered the sponsor's commitment as their own, and then saw the sponsor's reveal,
    still cannot claim the plan: the sponsor's address is inside the commitment."""
    commitment = trials.getTrial(blinded).dict()["endpointsCommitment"]
    copy = register(trials, stranger, primary=NO_HASH, secondary=NO_HASH, commitment=commitment).return_value
    trials.revealEndpoints(blinded, PRIMARY, SECONDARY, PLAN_SALT, {"from": sponsor})
    with reverts("RevealMismatch", copy):
        trials.revealEndpoints(copy, PRIMARY, SECONDARY, PLAN_SALT, {"from": stranger})
    assert trials.getTrial(copy).dict()["primaryEndpoints"] == hex32(NO_HASH)


def test_reveal_after_lock_opens_the_report(trials, sponsor, irb, blinded):
    """Unblinding comes after the database lock."""
    trials.approve(blinded, 1, {"from": irb})
    trials.lock(blinded, {"from": sponsor})
    trials.revealEndpoints(blinded, PRIMARY, SECONDARY, PLAN_SALT, {"from": sponsor})
    assert trials.getTrial(blinded).dict()["primaryEndpoints"] == hex32(PRIMARY)
