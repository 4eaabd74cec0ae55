"""Front-running the blinded analysis plan (commit-reveal of the endpoints) gains nothing. The sponsor's
address is inside the commitment, so a copy of it, even one mined before the sponsor's own
registration, can never be revealed and so never reports results; a reveal seen in the mempool
cannot be replayed by anyone else on either trial. (tests/trials/test_reveal.py has the copy
registered after the sponsor's.)"""

from __future__ import annotations

import pytest
from conftest import IRB, attest, hex32, reverts
from eth_utils.crypto import keccak
from trials.conftest import (
    NO_HASH,
    PLAN_SALT,
    PRIMARY,
    RESULTS,
    SECONDARY,
    Status,
    deploy_trials,
    endpoints_commitment,
    register,
)


@pytest.fixture(scope="module")
def trials(TrialRegistry, registry, credentials, consent_grants, accounts, irb):
    """The registry, with `irb` credentialed first: the IRB of record of every trial here."""
    return deploy_trials(TrialRegistry, registry, credentials, consent_grants, accounts[0])


@pytest.fixture(scope="module")
def sponsor(accounts):
    return accounts[2]


@pytest.fixture(scope="module")
def irb(accounts, credentials, registrar):
    attest(credentials, registrar, accounts[3], IRB)
    return accounts[3]


@pytest.fixture
def commitment(sponsor):
    return endpoints_commitment(sponsor, PRIMARY, SECONDARY, PLAN_SALT)


def blinded(trials, account, commitment) -> int:
    return register(trials, account, primary=NO_HASH, secondary=NO_HASH, commitment=commitment).return_value


def lock(trials, trial_id, owner, irb) -> None:
    trials.approve(trial_id, 1, {"from": irb})
    trials.lock(trial_id, {"from": owner})


def test_copy_mined_first_can_never_be_revealed_nor_reported(trials, sponsor, stranger, irb, commitment):
    copy = blinded(trials, stranger, commitment)  # the copycat's transaction got in first
    original = blinded(trials, sponsor, commitment)
    assert copy < original
    first, second = (trials.getProtocolVersion(t, 1).dict()["registeredAt"] for t in (copy, original))
    assert first <= second

    trials.revealEndpoints(original, PRIMARY, SECONDARY, PLAN_SALT, {"from": sponsor})
    with reverts("RevealMismatch", copy):
        trials.revealEndpoints(copy, PRIMARY, SECONDARY, PLAN_SALT, {"from": stranger})

    for trial_id, owner in ((copy, stranger), (original, sponsor)):
        lock(trials, trial_id, owner, irb)
    with reverts("EndpointsNotRevealed", copy):
        trials.reportResults(copy, RESULTS, PRIMARY, SECONDARY, {"from": stranger})
    trials.reportResults(original, RESULTS, PRIMARY, SECONDARY, {"from": sponsor})
    assert trials.getTrial(copy).dict()["status"] == Status.LOCKED
    assert trials.getTrial(original).dict()["status"] == Status.REPORTED


def test_reveal_seen_in_the_mempool_cannot_be_replayed_by_another(trials, sponsor, stranger, commitment):
    original = blinded(trials, sponsor, commitment)
    copy = blinded(trials, stranger, commitment)
    with reverts("NotSponsor", original, stranger.address):
        trials.revealEndpoints(original, PRIMARY, SECONDARY, PLAN_SALT, {"from": stranger})
    with reverts("RevealMismatch", copy):
        trials.revealEndpoints(copy, PRIMARY, SECONDARY, PLAN_SALT, {"from": stranger})
    tx = trials.revealEndpoints(original, PRIMARY, SECONDARY, PLAN_SALT, {"from": sponsor})
    assert tx.events["EndpointsRevealed"]["primaryEndpoints"] == hex32(PRIMARY)


def test_a_commitment_rebuilt_for_the_copycat_needs_the_salt(trials, sponsor, stranger, commitment):
    """Without the salt the copycat cannot commit to the sponsor's endpoints under its own address,
    and a plain copy registered after the reveal is later than the sponsor's commitment."""
    original = blinded(trials, sponsor, commitment)
    guessed = endpoints_commitment(stranger, PRIMARY, SECONDARY, keccak(text="a guessed salt"))
    assert guessed != endpoints_commitment(stranger, PRIMARY, SECONDARY, PLAN_SALT)
    trials.revealEndpoints(original, PRIMARY, SECONDARY, PLAN_SALT, {"from": sponsor})
    late = register(trials, stranger).return_value  # the revealed endpoints, in the clear, afterwards
    committed_at = trials.getProtocolVersion(original, 1).dict()["registeredAt"]
    assert trials.getProtocolVersion(late, 1).dict()["registeredAt"] >= committed_at
    assert late > original
