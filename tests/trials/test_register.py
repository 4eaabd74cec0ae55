"""TrialRegistry.register: a sponsor pre-registers protocol version 1, the data scopes consents must cover
and the endpoints, in the clear or as a blinded analysis plan's commitment."""

import pytest
from brownie import ZERO_ADDRESS
from conftest import IRB, LABS, attest, hex32, reverts
from eth_utils.crypto import keccak

from trials.conftest import (
    NO_HASH,
    PLAN_SALT,
    PRIMARY,
    PROTOCOL_V1,
    SCOPES,
    SECONDARY,
    Status,
    endpoints_commitment,
    register,
)


def test_plain_registration_stores_version_1_and_emits_event(trials, sponsor, irb):
    tx = register(trials, sponsor)
    assert tx.return_value == 1
    assert trials.trialCount() == 1
    assert trials.getTrial(1).dict() == {
        "sponsor": sponsor,
        "status": Status.REGISTERED,
        "protocolVersion": 1,
        "consentVersion": 1,
        "currentApproved": False,
        "irb": irb,
        "requiredScopes": SCOPES,
        "enrolled": 0,
        "lockedAt": 0,
        "reportedAt": 0,
        "primaryEndpoints": hex32(PRIMARY),
        "secondaryEndpoints": hex32(SECONDARY),
        "endpointsCommitment": hex32(NO_HASH),
        "resultsHash": hex32(NO_HASH),
    }
    assert tuple(trials.getProtocolVersion(1, 1)) == (
        hex32(PROTOCOL_V1),
        tx.timestamp,
        False,
        ZERO_ADDRESS,
        0,
    )
    assert tx.events["TrialRegistered"] == {
        "trialId": 1,
        "sponsor": sponsor,
        "irb": irb,
        "protocolHash": hex32(PROTOCOL_V1),
        "requiredScopes": SCOPES,
        "primaryEndpoints": hex32(PRIMARY),
        "secondaryEndpoints": hex32(SECONDARY),
        "endpointsCommitment": hex32(NO_HASH),
    }


def test_secondary_endpoints_are_optional(trials, sponsor):
    tx = register(trials, sponsor, scopes=LABS, secondary=NO_HASH)
    trial = trials.getTrial(1).dict()
    assert (trial["primaryEndpoints"], trial["secondaryEndpoints"]) == (hex32(PRIMARY), hex32(NO_HASH))
    assert trial["requiredScopes"] == LABS
    assert tx.events["TrialRegistered"]["secondaryEndpoints"] == hex32(NO_HASH)


def test_blinded_registration_stores_only_the_commitment(trials, sponsor, irb):
    commitment = endpoints_commitment(sponsor, PRIMARY, SECONDARY, PLAN_SALT)
    tx = register(trials, sponsor, primary=NO_HASH, secondary=NO_HASH, commitment=commitment)
    trial = trials.getTrial(tx.return_value).dict()
    assert trial["status"] == Status.REGISTERED
    assert trial["endpointsCommitment"] == hex32(commitment)
    assert (trial["primaryEndpoints"], trial["secondaryEndpoints"]) == (hex32(NO_HASH), hex32(NO_HASH))
    assert tx.events["TrialRegistered"] == {
        "trialId": 1,
        "sponsor": sponsor,
        "irb": irb,
        "protocolHash": hex32(PROTOCOL_V1),
        "requiredScopes": SCOPES,
        "primaryEndpoints": hex32(NO_HASH),
        "secondaryEndpoints": hex32(NO_HASH),
        "endpointsCommitment": hex32(commitment),
    }


def test_ids_run_from_1_and_each_trial_keeps_its_sponsor(trials, sponsor, stranger):
    first = register(trials, sponsor)
    second = register(trials, stranger, protocol=keccak(text="another protocol"))
    assert (first.return_value, second.return_value) == (1, 2)
    assert trials.trialCount() == 2
    assert trials.getTrial(1).dict()["sponsor"] == sponsor
    assert trials.getTrial(2).dict()["sponsor"] == stranger
    assert second.events["TrialRegistered"]["trialId"] == 2
    assert trials.getProtocolVersion(2, 1)[0] == hex32(keccak(text="another protocol"))


COMMITMENT = keccak(text="some commitment")


@pytest.mark.parametrize(
    ("protocol", "scopes", "primary", "secondary", "commitment"),
    [
        (NO_HASH, SCOPES, PRIMARY, SECONDARY, NO_HASH),
        (PROTOCOL_V1, 0, PRIMARY, SECONDARY, NO_HASH),
        (PROTOCOL_V1, SCOPES, PRIMARY, SECONDARY, COMMITMENT),
        (PROTOCOL_V1, SCOPES, PRIMARY, NO_HASH, COMMITMENT),
        (PROTOCOL_V1, SCOPES, NO_HASH, SECONDARY, COMMITMENT),
        (PROTOCOL_V1, SCOPES, NO_HASH, NO_HASH, NO_HASH),
        (PROTOCOL_V1, SCOPES, NO_HASH, SECONDARY, NO_HASH),
    ],
    ids=[
        "zero-protocol-hash",
        "zero-scopes",
        "plain-and-commitment",
        "primary-and-commitment",
        "secondary-and-commitment",
        "no-endpoints",
        "secondary-without-primary",
    ],
)
def test_invalid_registration_reverts(trials, sponsor, protocol, scopes, primary, secondary, commitment):
    with reverts("InvalidRegistration", protocol, scopes):
        register(trials, sponsor, protocol, scopes, primary, secondary, commitment)
    assert trials.trialCount() == 0
    with reverts("UnknownTrial", 1):
        trials.getTrial(1)


def test_the_irb_of_record_holds_a_live_irb_credential(
    trials, sponsor, stranger, site, accounts, credentials, registrar
):
    """Finding A.4: a trial names its IRB of record; an account without a live IRB credential cannot be it."""
    lapsed = accounts[9]
    attest(credentials, registrar, lapsed, IRB)
    credentials.suspend(lapsed, IRB, {"from": registrar})
    for candidate in (stranger, site, lapsed):  # no credential; RESEARCHER, not IRB; a suspended IRB
        with reverts("NotIrb", candidate.address):
            register(trials, sponsor, irb=candidate)
    with reverts("NotIrb", ZERO_ADDRESS):
        register(trials, sponsor, irb=ZERO_ADDRESS)
    assert trials.trialCount() == 0


def test_the_sponsor_cannot_be_its_own_irb_of_record(trials, sponsor, credentials, registrar):
    attest(credentials, registrar, sponsor, IRB)
    with reverts("IrbIsSponsor", 1, sponsor.address):
        register(trials, sponsor, irb=sponsor)
    assert trials.trialCount() == 0
