"""TrialRegistry views: bounds of the protocol history, unknown trials, the opaque trial purpose."""

import pytest
from brownie import ZERO_ADDRESS
from conftest import hex32, reverts
from eth_utils.crypto import keccak

from carechain.core.purposes import trial_purpose
from trials.conftest import PROTOCOL_V1, PROTOCOL_V2, register


@pytest.mark.parametrize("version", [0, 2, 2**32 - 1], ids=["zero", "past-the-last", "max"])
def test_protocol_version_outside_the_history_reverts(trials, registered, version):
    with reverts("InvalidVersion", registered, version):
        trials.getProtocolVersion(registered, version)


def test_protocol_history_grows_with_amendments(trials, sponsor, registered):
    trials.amend(registered, PROTOCOL_V2, False, {"from": sponsor})
    assert trials.getProtocolVersion(registered, 2)[0] == hex32(PROTOCOL_V2)
    with reverts("InvalidVersion", registered, 3):
        trials.getProtocolVersion(registered, 3)


@pytest.mark.parametrize("trial_id", [0, 2, 99])
def test_unknown_trial_reverts(trials, registered, trial_id):
    with reverts("UnknownTrial", trial_id):
        trials.getTrial(trial_id)
    with reverts("UnknownTrial", trial_id):
        trials.getProtocolVersion(trial_id, 1)


def test_trial_count_follows_registrations(trials, sponsor):
    assert trials.trialCount() == 0
    register(trials, sponsor)
    register(trials, sponsor, protocol=PROTOCOL_V2)
    assert trials.trialCount() == 2


@pytest.mark.parametrize(
    ("trial_id", "version"),
    [(1, 1), (1, 2), (7, 1), (2**256 - 1, 2**32 - 1)],
    ids=["1v1", "1v2", "7v1", "max"],
)
def test_trial_purpose_is_the_librarys(trials, trial_id, version):
    assert trials.trialPurpose(trial_id, version) == hex32(trial_purpose(trial_id, version))


def test_trial_purposes_differ_by_trial_and_version(trials):
    purposes = {str(trials.trialPurpose(t, v)) for t, v in ((1, 1), (1, 2), (2, 1))}
    assert len(purposes) == 3


def test_unknown_site_enrolment_and_batch_read_as_zero(trials, site, stranger, registered):
    assert tuple(trials.getSite(registered, site)) == (False, 0, 0)
    assert tuple(trials.getEnrolment(registered, stranger)) == (ZERO_ADDRESS, 0, 0, 0)
    assert tuple(trials.getBatch(registered, site, keccak(text="never committed"))) == (0, 0)
    assert not trials.isEnrolled(registered, stranger)


def test_registries_are_the_deployed_ones(trials, registry, credentials):
    assert (trials.consents(), trials.credentials()) == (registry, credentials)


def test_protocol_version_1_is_the_registered_protocol(trials, registered):
    assert trials.getProtocolVersion(registered, 1)[0] == hex32(PROTOCOL_V1)
