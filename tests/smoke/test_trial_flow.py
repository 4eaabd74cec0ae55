"""The trial flow end to end through the library; `make test` runs it on Anvil and Ganache 7."""

from __future__ import annotations

import pytest
from brownie import accounts, web3
from eth_account import Account
from eth_utils.crypto import keccak

from carechain import errors
from carechain.clients import ConsentClient, CredentialClient, TrialClient, TrialStatus, license_hash
from carechain.core.purposes import scopes_mask
from carechain.offchain.trialdata import (
    DataBatch,
    Endpoints,
    Results,
    subject_account,
    verify_batch,
    verify_results,
    verify_row,
)
from smoke.conftest import as_

ENDPOINTS = Endpoints([{"id": "P1", "measure": "HbA1c"}], [])


def _registered(root):
    """An IRB and a site credentialed, and a trial of the sponsor's naming that IRB: (clients, trial id)."""
    authority, sponsor, irb, site = (accounts[i] for i in range(4))
    registry = as_(CredentialClient, root, authority)
    registry.add_registrar(authority.address)
    registry.attest(irb.address, "IRB", license_hash("irb", b"s" * 16))
    registry.attest(site.address, "RESEARCHER", license_hash("site", b"s" * 16))
    trials = as_(TrialClient, root, sponsor)
    _, trial_id = trials.register(
        keccak(text="protocol"),
        scopes_mask(["labs"]),
        irb.address,
        ENDPOINTS.primary_hash,
        ENDPOINTS.secondary_hash,
    )
    return trials, irb, site, trial_id


def test_register_enrol_commit_lock_report_verify(root):
    trials, irb, site, trial_id = _registered(root)
    endpoints = ENDPOINTS
    scopes = scopes_mask(["labs"])
    as_(TrialClient, root, irb).approve(trial_id)
    trials.add_site(trial_id, site.address)

    at_site = as_(TrialClient, root, site)
    consents = as_(ConsentClient, root, site)
    subject = subject_account(bytes(Account.create().key), web3.eth.chain_id, trials.address, trial_id)
    stranger = subject_account(bytes(Account.create().key), web3.eth.chain_id, trials.address, trial_id)
    purpose = trials.trial_purpose(trial_id, 1)
    consents.submit_grant(consents.sign_grant(subject, trials.address, purpose, scopes))
    at_site.enroll(trial_id, subject.address)
    with pytest.raises(errors.NoConsent) as refused:
        at_site.enroll(trial_id, stranger.address)
    assert refused.value.arguments["subject"] == stranger.address

    batch = DataBatch.of(
        trial_id, site.address, [(subject.address, 1, "hba1c", "7.9"), (subject.address, 1, "weight", "88")]
    )
    _, sequence = at_site.commit_batch(trial_id, batch.root, len(batch.tree))
    assert sequence == 0
    trials.lock(trial_id)
    with pytest.raises(errors.TrialLocked):
        at_site.commit_batch(
            trial_id, DataBatch.of(trial_id, site.address, [(subject.address, 2, "hba1c", "7")]).root, 1
        )

    results = Results(trial_id, endpoints, {"trialId": trial_id, "endpoints": {"primary": endpoints.primary}})
    trials.report_results(trial_id, results.results_hash, endpoints.primary_hash, endpoints.secondary_hash)
    assert trials.get_trial(trial_id).status is TrialStatus.REPORTED

    assert verify_results(trials, trial_id, results).ok
    assert verify_row(trials, batch.prove(0)).ok
    assert verify_row(trials, batch.prove(0), ask_chain=True).ok

    assert verify_batch(trials, batch).ok
    added = DataBatch.of(
        trial_id,
        site.address,
        [
            *((r.subject, r.visit, r.field, r.value) for r in batch.rows),
            (subject.address, 1, "hba1c-retest", "6"),
        ],
    )
    assert not verify_batch(trials, added).ok


def test_a_row_is_verified_without_sending_it_to_the_node(root, monkeypatch):
    """Review of A.8: the row (salt, value) stays here unless asked; the chain is asked for the batch only."""
    trials, _, site, trial_id = _registered(root)
    batch = DataBatch.of(
        trial_id, site.address, [(site.address, 1, "hba1c", "7.9"), (site.address, 1, "hr", "61")]
    )
    sent: list[str] = []
    calls = trials.w3.eth.call

    def spy(tx, *rest, **options):
        sent.append(str(tx["data"]))
        return calls(tx, *rest, **options)

    monkeypatch.setattr(trials.w3.eth, "call", spy)
    salt = batch.rows[0].salt.hex()

    verdict = verify_row(trials, batch.prove(0))
    assert not verdict.ok  # the batch was never committed
    assert sent and not any(salt in data for data in sent)  # the chain was asked, but not with the row
    assert not verify_row(trials, batch.prove(0), ask_chain=True).ok
    assert any(salt in data for data in sent)  # --ask-chain sends it: the spy sees calldata
