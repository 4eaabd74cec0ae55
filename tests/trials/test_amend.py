"""TrialRegistry.amend: a protocol amendment is a new version (history kept) awaiting the IRB; one that
requires re-consent moves the consent version."""

from brownie import ZERO_ADDRESS
from conftest import hex32, reverts

from trials.conftest import (
    NO_HASH,
    PRIMARY,
    PROTOCOL_V1,
    PROTOCOL_V2,
    PROTOCOL_V3,
    RESULTS,
    SECONDARY,
    Status,
)


def test_amendment_appends_a_version_and_keeps_the_history(trials, sponsor, irb, approved):
    approval = trials.getProtocolVersion(approved, 1)
    tx = trials.amend(approved, PROTOCOL_V2, False, {"from": sponsor})
    assert tx.return_value == 2
    assert tuple(trials.getProtocolVersion(approved, 1)) == tuple(approval)
    assert (approval[0], approval[3]) == (hex32(PROTOCOL_V1), irb)
    assert tuple(trials.getProtocolVersion(approved, 2)) == (
        hex32(PROTOCOL_V2),
        tx.timestamp,
        False,
        ZERO_ADDRESS,
        0,
    )
    trial = trials.getTrial(approved).dict()
    assert (trial["protocolVersion"], trial["consentVersion"]) == (2, 1)
    assert tx.events["ProtocolAmended"] == {
        "trialId": approved,
        "version": 2,
        "protocolHash": hex32(PROTOCOL_V2),
        "requiresReconsent": False,
    }


def test_amendment_resets_approval_but_not_status(trials, sponsor, approved):
    trials.amend(approved, PROTOCOL_V2, False, {"from": sponsor})
    trial = trials.getTrial(approved).dict()
    assert trial["currentApproved"] is False
    assert trial["status"] == Status.APPROVED


def test_reconsent_amendment_moves_the_consent_version(trials, sponsor, approved):
    tx = trials.amend(approved, PROTOCOL_V2, True, {"from": sponsor})
    assert trials.getTrial(approved).dict()["consentVersion"] == 2
    assert trials.getProtocolVersion(approved, 2)[2] is True
    assert tx.events["ProtocolAmended"]["requiresReconsent"] is True


def test_later_amendment_without_reconsent_leaves_the_consent_version(trials, sponsor, approved):
    trials.amend(approved, PROTOCOL_V2, True, {"from": sponsor})
    tx = trials.amend(approved, PROTOCOL_V3, False, {"from": sponsor})
    assert tx.return_value == 3
    trial = trials.getTrial(approved).dict()
    assert (trial["protocolVersion"], trial["consentVersion"]) == (3, 2)
    assert [trials.getProtocolVersion(approved, v)[0] for v in (1, 2, 3)] == [
        hex32(PROTOCOL_V1),
        hex32(PROTOCOL_V2),
        hex32(PROTOCOL_V3),
    ]


def test_amendment_before_the_first_approval(trials, sponsor, registered):
    tx = trials.amend(registered, PROTOCOL_V2, False, {"from": sponsor})
    assert tx.return_value == 2
    trial = trials.getTrial(registered).dict()
    assert (trial["status"], trial["protocolVersion"], trial["currentApproved"]) == (
        Status.REGISTERED,
        2,
        False,
    )


def test_only_the_sponsor_amends(trials, stranger, irb, approved):
    for caller in (stranger, irb):
        with reverts("NotSponsor", approved, caller.address):
            trials.amend(approved, PROTOCOL_V2, False, {"from": caller})
    assert trials.getTrial(approved).dict()["protocolVersion"] == 1


def test_unknown_trial_reverts(trials, sponsor):
    with reverts("UnknownTrial", 7):
        trials.amend(7, PROTOCOL_V2, False, {"from": sponsor})


def test_zero_protocol_hash_reverts(trials, sponsor, approved):
    with reverts("InvalidHash", NO_HASH):
        trials.amend(approved, NO_HASH, True, {"from": sponsor})
    assert trials.getTrial(approved).dict()["protocolVersion"] == 1


def test_amendment_after_lock_reverts(trials, sponsor, approved):
    locked_at = trials.lock(approved, {"from": sponsor}).timestamp
    with reverts("TrialLocked", approved, locked_at):
        trials.amend(approved, PROTOCOL_V2, True, {"from": sponsor})
    trials.reportResults(approved, RESULTS, PRIMARY, SECONDARY, {"from": sponsor})
    with reverts("TrialLocked", approved, locked_at):
        trials.amend(approved, PROTOCOL_V2, False, {"from": sponsor})
    assert trials.getTrial(approved).dict()["protocolVersion"] == 1
