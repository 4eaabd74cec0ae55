"""carechain.clients.ConsentClient: every action on a real chain, reverts as typed exceptions."""

from __future__ import annotations

import brownie
import pytest
from brownie import web3
from conftest import GENOMICS, HMB, IMAGING, LABS, NEVER, TREAT

from carechain import errors
from carechain.clients.consent import (
    ANY_GRANTEE,
    Consent,
    ConsentClient,
    GrantRequest,
    SignedGrant,
    SignedRevoke,
    load_signed,
)
from carechain.core.sender import Sender


@pytest.fixture
def client(registry):
    """Read-only client of the module's registry."""
    return ConsentClient(web3, registry.address, registry.abi)


@pytest.fixture
def as_account(client):
    """A client that sends as a given (node-unlocked) brownie account."""
    return lambda account: client.with_sender(Sender(web3, account.address))


def test_grant_check_update_revoke(client, as_account, patient, grantee):
    result = as_account(patient).grant(grantee.address, HMB, LABS | GENOMICS)
    assert result.gas_used > 21_000 and result.tx_hash.startswith("0x")
    assert client.is_permitted(patient.address, grantee.address, HMB, LABS)
    assert not client.is_permitted(patient.address, grantee.address, HMB, LABS | IMAGING)
    as_account(patient).update(grantee.address, HMB, LABS | IMAGING, brownie.chain.time() + 100)
    assert client.is_permitted(patient.address, grantee.address, HMB, IMAGING)
    as_account(patient).revoke(grantee.address, HMB)
    stored = client.get_consent(patient.address, grantee.address, HMB)
    assert stored.revoked_at > 0 and not stored.is_live(brownie.chain.time())
    assert not client.is_permitted(patient.address, grantee.address, HMB, LABS)


def test_revert_raises_typed_exception_with_arguments(as_account, patient, grantee):
    as_account(patient).grant(grantee.address, HMB, LABS)
    with pytest.raises(errors.ConsentAlreadyActive) as caught:
        as_account(patient).grant(grantee.address, HMB, LABS)
    assert caught.value.arguments == {"patient": patient.address, "grantee": grantee.address, "purpose": HMB}


def test_delegate_acts_for_patient_until_removed(client, as_account, patient, grantee, delegate):
    as_account(patient).set_delegate(delegate.address, 0)
    assert client.is_delegate(patient.address, delegate.address)
    assert client.delegate_expiry(patient.address, delegate.address) == 2**64 - 1
    as_account(delegate).grant_for(patient.address, grantee.address, TREAT, LABS)
    as_account(delegate).update_for(patient.address, grantee.address, TREAT, GENOMICS)
    assert client.get_consent(patient.address, grantee.address, TREAT).scopes == GENOMICS
    as_account(patient).remove_delegate(delegate.address)
    with pytest.raises(errors.NotPatientOrDelegate):
        as_account(delegate).revoke_for(patient.address, grantee.address, TREAT)


def test_batch_grant(client, as_account, patient, accounts):
    requests = [GrantRequest(accounts[i].address, HMB, LABS) for i in range(6, 9)]
    as_account(patient).grant_batch(requests)
    assert all(client.is_permitted(patient.address, r.grantee, HMB, LABS) for r in requests)


def test_a_batch_over_the_gas_cap_is_refused_whole_before_it_is_sent(client, patient, accounts):
    """Every send checks its estimate against the network's gas cap a transaction (EIP-7825; here a
    Sender's `tx_gas_cap`): over it, one InputError and nothing on chain, never a node's refusal."""
    requests = [GrantRequest(accounts[i].address, HMB, LABS) for i in range(6, 9)]
    capped = client.with_sender(Sender(web3, patient.address, tx_gas_cap=60_000))
    sent_before = web3.eth.get_transaction_count(patient.address)
    with pytest.raises(errors.InputError, match="over the 60,000 gas a transaction"):
        capped.grant_batch(requests)
    assert web3.eth.get_transaction_count(patient.address) == sent_before
    assert not any(client.is_permitted(patient.address, r.grantee, HMB, LABS) for r in requests)


def test_signed_grant_round_trips_through_json_and_is_relayed(client, as_account, signer, grantee, relayer):
    signed = client.sign_grant(signer, grantee.address, HMB, LABS, NEVER, deadline=brownie.chain.time() + 600)
    assert SignedGrant.from_json(signed.to_json()) == signed
    as_account(relayer).submit_grant(SignedGrant.from_json(signed.to_json()))
    assert client.is_permitted(signer.address, grantee.address, HMB, LABS)
    assert client.nonce(signer.address) == 1
    with pytest.raises(errors.InvalidAccountNonce) as caught:
        as_account(relayer).submit_grant(signed)
    assert caught.value.arguments == {"account": signer.address, "currentNonce": 1}


def test_signed_revoke_and_file_loading(tmp_path, client, as_account, signer, grantee, relayer):
    as_account(relayer).submit_grant(client.sign_grant(signer, grantee.address, HMB, LABS))
    revocation = client.sign_revoke(signer, grantee.address, HMB)
    path = tmp_path / "revoke.json"
    path.write_text(revocation.to_json())
    loaded = load_signed(path)
    assert isinstance(loaded, SignedRevoke) and loaded == revocation
    as_account(relayer).submit_revoke(loaded)
    assert not client.is_permitted(signer.address, grantee.address, HMB, LABS)


def test_signed_batch_from_several_patients(client, as_account, grantee, relayer):
    patients = [brownie.accounts.add() for _ in range(3)]
    signed = [client.sign_grant(p._acct, grantee.address, HMB, LABS) for p in patients]
    as_account(relayer).submit_grants(signed)
    assert all(client.is_permitted(p.address, grantee.address, HMB, LABS) for p in patients)


def test_expired_signature_is_refused(client, as_account, signer, grantee, relayer):
    signed = client.sign_grant(
        signer, grantee.address, HMB, LABS, deadline=web3.eth.get_block("latest").timestamp - 1
    )
    with pytest.raises(errors.SignatureExpired):
        as_account(relayer).submit_grant(signed)


def test_wildcard_grantee(client, as_account, patient, stranger):
    as_account(patient).grant(ANY_GRANTEE, HMB, LABS)
    assert client.is_permitted(patient.address, stranger.address, HMB, LABS)


def test_domain_is_read_from_the_contract(client):
    domain = client.domain()
    assert (domain.name, domain.version, domain.chain_id) == (
        "CareChain ConsentRegistry",
        "1",
        web3.eth.chain_id,
    )
    assert domain.verifying_contract == client.address


def test_read_only_client_refuses_to_send(client, grantee):
    with pytest.raises(errors.InputError, match="read-only"):
        client.grant(grantee.address, HMB, LABS)


@pytest.mark.parametrize("bad", ["0x1234", "not an address", ""])
def test_bad_address_is_an_input_error(as_account, patient, bad):
    with pytest.raises(errors.InputError, match="not an Ethereum address"):
        as_account(patient).grant(bad, HMB, LABS)


def test_bad_purpose_length_is_an_input_error(as_account, patient, grantee):
    with pytest.raises(errors.InputError, match="32 bytes"):
        as_account(patient).grant(grantee.address, b"\x01" * 31, LABS)


def test_consent_is_live():
    assert Consent(1, 10, 0, 0).is_live(now=100)
    assert not Consent(1, 10, 50, 0).is_live(now=100)
    assert not Consent(1, 10, 0, 20).is_live(now=100)
    assert not Consent(0, 0, 0, 0).is_live(now=100)


def test_local_key_sender_signs_transactions(registry, signer, grantee, accounts):
    accounts[0].transfer(signer.address, "1 ether")
    client = ConsentClient(web3, registry.address, registry.abi, Sender(web3, signer))
    client.grant(grantee.address, HMB, LABS)
    assert client.is_permitted(signer.address, grantee.address, HMB, LABS)
