"""carechain.clients.TrialClient and the IRB of record (finding A.4): named at registration, shown by
get_trial, changed by the sponsor; another IRB's approval is a typed exception; a malformed IRB address is
one InputError before anything is sent."""

from __future__ import annotations

import pytest
from brownie import web3
from conftest import IRB, LABS, attest
from eth_utils.crypto import keccak
from trials.conftest import deploy_trials

from carechain import errors
from carechain.clients.trials import TrialClient
from carechain.core.sender import Sender

PROTOCOL, PRIMARY = keccak(text="protocol v1"), keccak(text="primary endpoints")


@pytest.fixture(scope="module")
def irbs(accounts, credentials, registrar):
    """Two IRBs with live credentials: the trial's, and another institution's."""
    for account in (accounts[3], accounts[4]):
        attest(credentials, registrar, account, IRB)
    return accounts[3], accounts[4]


@pytest.fixture(scope="module")
def deployed(TrialRegistry, registry, credentials, consent_grants, accounts):
    return deploy_trials(TrialRegistry, registry, credentials, consent_grants, accounts[0])


@pytest.fixture
def as_account(deployed):
    return lambda account: TrialClient(web3, deployed.address, deployed.abi).with_sender(
        Sender(web3, account.address)
    )


def test_the_irb_of_record_is_named_shown_changed_and_alone_approves(
    as_account, accounts, irbs, credentials, registrar
):
    sponsor, (irb, other_irb) = accounts[2], irbs
    result, trial_id = as_account(sponsor).register(PROTOCOL, LABS, irb.address, PRIMARY)
    assert as_account(sponsor).get_trial(trial_id).irb == irb.address
    (event,) = as_account(sponsor).contract.events.TrialRegistered().process_receipt(result.receipt)
    assert event["args"]["irb"] == irb.address

    with pytest.raises(errors.NotIrbOfRecord) as caught:
        as_account(other_irb).approve(trial_id)
    assert caught.value.arguments == {"trialId": trial_id, "account": other_irb.address}
    # Version 1 awaits the IRB of record, which can still act: no swap (issue 15, A.4 review).
    with pytest.raises(errors.IrbReviewPending) as pending:
        as_account(sponsor).change_irb(trial_id, other_irb.address)
    assert pending.value.arguments == {"trialId": trial_id, "irb": irb.address}
    credentials.suspend(irb, IRB, {"from": registrar})  # the IRB of record closes
    as_account(sponsor).change_irb(trial_id, other_irb.address)
    as_account(other_irb).approve(trial_id)
    trial = as_account(sponsor).get_trial(trial_id)
    assert (trial.irb, trial.current_approved) == (other_irb.address, True)
    assert [v.irb for v in as_account(sponsor).protocol_versions(trial_id)] == [other_irb.address]


@pytest.mark.parametrize("irb", ["0x12", "0x" + "1a" * 19 + "1A", None])
def test_a_malformed_irb_is_one_input_error_and_nothing_is_sent(as_account, accounts, irb):
    sponsor = accounts[2]
    nonce = web3.eth.get_transaction_count(sponsor.address)
    with pytest.raises(errors.InputError, match="IRB"):
        as_account(sponsor).register(PROTOCOL, LABS, irb, PRIMARY)
    with pytest.raises(errors.InputError, match="IRB"):
        as_account(sponsor).change_irb(1, irb)
    assert web3.eth.get_transaction_count(sponsor.address) == nonce
