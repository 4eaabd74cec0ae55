"""TrialRegistry.enrollGrant / withdrawGrant on Anvil: a subject known only by a per-grant key and salt made
here (eth-account) signs ERC-8356's Grant typed data over the `ConsentGrants.Grant` entry of abi/eip712.json;
a relayer submits it to ConsentGrants (the key never sends a transaction); a site enrols the grant, then
withdraws it, and the trial terminates the grant (TERMINATED_BY_ISSUER, status 4)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest
from brownie import ZERO_ADDRESS, web3
from conftest import hex32, reverts
from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from carechain.core.profiles import profile_ref, purpose_code, terms_ref

ROOT = Path(__file__).resolve().parents[2]
GRANT_ENTRY = json.loads((ROOT / "abi" / "eip712.json").read_text())["ConsentGrants.Grant"]
CLINTRCH = purpose_code("CLINTRCH")  # 10_039: the purpose a trial grant names
READ = 0x01
ACTIVE, TERMINATED_BY_ISSUER = 1, 4
WITHDRAWN = b"carechain.trial.withdrawn".ljust(32, b"\0")  # the reason the trial gives ConsentGrants
YEAR = 365 * 24 * 3600


class TrialSubject:
    """One grant's subject: a fresh key, the salt of its commitment and the salt of the grant's scope."""

    def __init__(self) -> None:
        self.key: LocalAccount = Account.create()
        self.salt = secrets.token_bytes(32)
        self.scope_salt = secrets.token_bytes(32)
        self.commitment = keccak(encode(["bytes32", "address"], [self.salt, self.key.address]))


def trial_resource(chain_id: int, registry: str, trial_id: int, version: int) -> bytes:
    """keccak256(abi.encode("carechain.trial", chainId, registry, trialId, version)), as specified."""
    return keccak(
        encode(
            ["string", "uint256", "address", "uint256", "uint256"],
            ["carechain.trial", chain_id, registry, trial_id, version],
        )
    )


def trial_grant(subject: TrialSubject, trials: Any, trial_id: int, version: int = 1) -> tuple[Any, ...]:
    """IConsentGrants.GrantInput: READ for CLINTRCH, to the registry, for a year, over the salted resource."""
    resource = trial_resource(web3.eth.chain_id, trials.address, trial_id, version)
    scope = keccak(encode(["bytes32", "bytes32"], [subject.scope_salt, resource]))
    start = web3.eth.get_block("latest")["timestamp"]
    policy = start | (start + YEAR) << 48 | READ << 96 | CLINTRCH << 128
    profile = profile_ref([{"term": "v3-ActReason:CLINTRCH"}])
    terms = terms_ref("trial-v1")
    return (scope, profile, terms, 0, subject.commitment, trials.address, ZERO_ADDRESS, policy)


def subject_sig(grants: Any, subject: TrialSubject, grant: tuple[Any, ...]) -> bytes:
    """The subject's signature over the file's Grant entry as ConsentGrants takes it: (salt, signature)."""
    domain = {**GRANT_ENTRY["domain"], "chainId": web3.eth.chain_id, "verifyingContract": grants.address}
    fields = [field["name"] for field in GRANT_ENTRY["types"][GRANT_ENTRY["primaryType"]]]
    message = dict(zip(fields, (*grant, grants.nonces(subject.commitment)), strict=True))
    signed = subject.key.sign_message(encode_typed_data(domain, GRANT_ENTRY["types"], message))
    return encode(["bytes32", "bytes"], [subject.salt, signed.signature])


@pytest.fixture
def granted(trials, consent_grants, approved, relayer) -> TrialSubject:
    """A subject's trial grant for trial 1, version 1, signed here and relayed."""
    subject = TrialSubject()
    grant = trial_grant(subject, trials, approved)
    tx = consent_grants.grant(grant, subject_sig(consent_grants, subject, grant), {"from": relayer})
    assert tx.events["ConsentGranted"]["grantId"] == hex32(subject.commitment)
    return subject


def test_the_trial_resource_is_the_specs_encoding(trials, approved):
    for version in (1, 2):
        expected = trial_resource(web3.eth.chain_id, trials.address, approved, version)
        assert trials.trialResource(approved, version) == hex32(expected)


def test_a_site_enrols_a_relayed_trial_grant_and_withdraws_it(
    trials, consent_grants, approved, site, granted
):
    grant_id = granted.commitment
    tx = trials.enrollGrant(approved, grant_id, granted.scope_salt, {"from": site})
    enrolled = tx.events["GrantEnrolled"]
    assert (enrolled["trialId"], enrolled["grantId"], enrolled["site"], enrolled["consentVersion"]) == (
        approved,
        hex32(grant_id),
        site.address,
        1,
    )
    assert tuple(trials.getGrantEnrolment(approved, grant_id)) == (site.address, tx.timestamp, 1, 0)
    assert trials.getTrial(approved).dict()["enrolled"] == 1
    assert consent_grants.getGrant(grant_id).dict()["status"] == ACTIVE

    tx = trials.withdrawGrant(approved, grant_id, {"from": site})
    withdrawn = tx.events["GrantWithdrawn"]
    assert (withdrawn["grantId"], withdrawn["withdrawnAt"], withdrawn["actor"]) == (
        hex32(grant_id),
        tx.timestamp,
        site.address,
    )
    revoked = tx.events["ConsentRevoked"]
    assert (revoked["grantId"], revoked["status"], revoked["reasonCode"]) == (
        hex32(grant_id),
        TERMINATED_BY_ISSUER,
        hex32(WITHDRAWN),
    )
    assert revoked["by"] == hex32(bytes(12) + bytes.fromhex(trials.address[2:]))
    assert consent_grants.getGrant(grant_id).dict()["status"] == TERMINATED_BY_ISSUER
    assert not consent_grants.isGrantActive(grant_id)
    assert trials.getGrantEnrolment(approved, grant_id)[3] == tx.timestamp
    # The subject's key signed and never sent anything.
    assert web3.eth.get_transaction_count(granted.key.address) == 0


def test_another_scope_salt_is_refused(trials, approved, site, granted):
    with reverts("NoTrialGrant", approved, granted.commitment, 1):
        trials.enrollGrant(approved, granted.commitment, secrets.token_bytes(32), {"from": site})
    assert trials.getGrantEnrolment(approved, granted.commitment)[1] == 0
