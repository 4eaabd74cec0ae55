"""ERC-1271 contract wallets that misbehave. A wallet that calls every signature valid acts for itself
and for no one else, on AccessGrants as on ConsentRegistry (tests/consent/test_erc1271.py has the
ConsentRegistry side of the liar). A wallet that tries to re-enter the registry from inside
isValidSignature is asked under STATICCALL: the call-back cannot change state, the wallet's answer
fails, and the outer call reverts cleanly with InvalidSignature(wallet), changing nothing."""

from __future__ import annotations

import pytest
from brownie import ZERO_ADDRESS
from conftest import (
    HMB,
    LABS,
    NEVER,
    TREAT,
    category,
    content_hash,
    now,
    record_id,
    reverts,
    sign_access_grant,
    sign_grant,
    values,
)
from eth_account import Account

pytestmark = pytest.mark.usefixtures("synced_clock")

ACCEPT_ALL = 1  # ERC1271WalletMock.Mode
NO_SIGNATURE = b""
VICTIM_RECORD = record_id("victim-lab-1")


@pytest.fixture
def liar(ERC1271WalletMock, accounts):
    """A wallet that calls every signature valid."""
    wallet = ERC1271WalletMock.deploy(accounts[0], {"from": accounts[0]})
    wallet.setMode(ACCEPT_ALL, ZERO_ADDRESS, b"", {"from": accounts[0]})
    return wallet


@pytest.fixture
def honest(ERC1271WalletMock, signer, accounts):
    """A wallet of the signer's key: a second victim, a contract this time."""
    return ERC1271WalletMock.deploy(signer.address, {"from": accounts[0]})


@pytest.fixture
def reentrant(ReentrantWalletMock, accounts):
    return ReentrantWalletMock.deploy({"from": accounts[0]})


@pytest.fixture
def victim_record(records, custodian, signer):
    records.anchor(
        VICTIM_RECORD, signer.address, category(LABS), content_hash("victim-lab-1"), {"from": custodian}
    )
    return VICTIM_RECORD


def far() -> int:
    return now() + 86400


def test_lying_wallet_grants_access_for_itself(access, liar, provider, relayer):
    signed = sign_access_grant(access, Account.create(), provider, patient=liar.address)
    tx = access.grantAccessBySig(*signed[:-1], NO_SIGNATURE, {"from": relayer})
    assert tx.events["AccessGranted"]["patient"] == liar
    assert values(access.getGrant(liar, provider))[0] == LABS


def test_lying_wallet_cannot_grant_access_for_another_patient(
    access, liar, honest, signer, provider, accounts
):
    for victim in (signer.address, honest.address):
        call = access.grantAccessBySig.encode_input(victim, provider, LABS, far(), 0, far(), NO_SIGNATURE)
        with reverts("InvalidSignature", victim):
            liar.execute(access, call, {"from": accounts[0]})
        assert values(access.getGrant(victim, provider)) == (0, 0, 0, 0)
        assert access.nonces(victim) == 0


def test_lying_wallet_cannot_open_or_close_another_patients_record(
    access, liar, signer, funded_signer, provider, relayer, victim_record, accounts
):
    grant = access.grantRecordAccessBySig.encode_input(
        signer.address, provider, victim_record, far(), 0, far(), NO_SIGNATURE
    )
    with reverts("InvalidSignature", signer.address):
        liar.execute(access, grant, {"from": accounts[0]})
    with reverts("NotRecordPatient", victim_record, liar.address):  # naming itself the patient does not help
        access.grantRecordAccessBySig(
            liar, provider, victim_record, far(), 0, far(), NO_SIGNATURE, {"from": relayer}
        )
    assert not access.canAccess(provider, victim_record)

    access.grantRecordAccess(provider, victim_record, far(), {"from": funded_signer})
    revoke = access.revokeRecordAccessBySig.encode_input(
        signer.address, provider, victim_record, 0, far(), NO_SIGNATURE
    )
    with reverts("InvalidSignature", signer.address):
        liar.execute(access, revoke, {"from": accounts[0]})
    assert access.canAccess(provider, victim_record)
    assert access.nonces(signer.address) == 0


def test_reentrant_wallet_is_stopped_on_consent_registry(registry, reentrant, grantee, relayer, stranger):
    """The wallet tries to grant a consent of its own inside isValidSignature: the STATICCALL fails it."""
    slipped_in = registry.grant.encode_input(stranger, TREAT, LABS, NEVER)
    reentrant.setReentry(registry, slipped_in, {"from": relayer})
    signed = sign_grant(registry, Account.create(), grantee, patient=reentrant.address)
    with reverts("InvalidSignature", reentrant.address):
        registry.grantBySig((*signed[:-1], NO_SIGNATURE), {"from": relayer})
    assert registry.nonces(reentrant) == 0
    assert values(registry.getConsent(reentrant, grantee, HMB)) == (0, 0, 0, 0)
    assert values(registry.getConsent(reentrant, stranger, TREAT)) == (0, 0, 0, 0)

    # Called as a plain transaction, the same call-back goes through: it was a real state change.
    tx = reentrant.isValidSignature(bytes(32), b"", {"from": relayer})
    assert tx.events["ConsentGranted"]["patient"] == reentrant
    assert registry.isPermitted(reentrant, stranger, TREAT, LABS)


def test_reentrant_wallet_is_stopped_on_access_grants(
    registry, access, reentrant, provider, relayer, stranger
):
    """Asked by AccessGrants, the wallet tries to make a stranger its delegate: refused, nothing changes."""
    reentrant.setReentry(registry, registry.setDelegate.encode_input(stranger, NEVER), {"from": relayer})
    signed = sign_access_grant(access, Account.create(), provider, patient=reentrant.address)
    with reverts("InvalidSignature", reentrant.address):
        access.grantAccessBySig(*signed[:-1], NO_SIGNATURE, {"from": relayer})
    assert access.nonces(reentrant) == 0
    assert values(access.getGrant(reentrant, provider)) == (0, 0, 0, 0)
    assert not registry.isDelegate(reentrant, stranger)
