"""ERC-1271 contract wallets as patients: the registry asks the patient's own wallet, and only it."""

import pytest
from brownie import ZERO_ADDRESS
from conftest import GENOMICS, HMB, LABS, NEVER, TREAT, hex32, reverts, sign_grant, sign_revoke, values
from eth_account import Account

ACCEPT_ALL, REENTER = 1, 2  # ERC1271WalletMock.Mode
NO_SIGNATURE = b""


@pytest.fixture
def wallet(ERC1271WalletMock, signer, accounts):
    """A contract wallet owned by the signer's key."""
    return ERC1271WalletMock.deploy(signer.address, {"from": accounts[0]})


@pytest.fixture
def liar(ERC1271WalletMock, accounts):
    """A wallet that calls every signature valid."""
    wallet = ERC1271WalletMock.deploy(accounts[0], {"from": accounts[0]})
    wallet.setMode(ACCEPT_ALL, ZERO_ADDRESS, b"", {"from": accounts[0]})
    return wallet


def test_owner_signature_grants_for_the_wallet(registry, wallet, signer, grantee, relayer):
    signed = sign_grant(registry, signer, grantee, HMB, LABS | GENOMICS, patient=wallet.address)
    tx = registry.grantBySig(signed, {"from": relayer})
    assert values(registry.getConsent(wallet, grantee, HMB)) == (LABS | GENOMICS, tx.timestamp, 0, 0)
    assert registry.nonces(wallet) == 1
    assert tx.events["ConsentGranted"] == {
        "patient": wallet, "grantee": grantee, "purpose": hex32(HMB), "scopes": LABS | GENOMICS,
        "expiresAt": 0, "actor": wallet,
    }


def test_owner_signature_revokes_for_the_wallet(registry, wallet, signer, grantee, relayer):
    registry.grantBySig(sign_grant(registry, signer, grantee, patient=wallet.address), {"from": relayer})
    signed = sign_revoke(registry, signer, grantee, patient=wallet.address)
    tx = registry.revokeBySig(*signed, {"from": relayer})
    assert values(registry.getConsent(wallet, grantee, HMB))[3] == tx.timestamp
    assert not registry.isPermitted(wallet, grantee, HMB, LABS)
    assert tx.events["ConsentRevoked"] == {"patient": wallet, "grantee": grantee, "purpose": hex32(HMB),
                                           "actor": wallet}


def test_signature_of_another_key_is_refused_by_the_wallet(registry, wallet, grantee, relayer):
    forged = sign_grant(registry, Account.create(), grantee, patient=wallet.address)
    with reverts("InvalidSignature", wallet.address):
        registry.grantBySig(forged, {"from": relayer})
    assert registry.nonces(wallet) == 0


def test_owner_signature_does_not_speak_for_the_owner_key(registry, wallet, signer, grantee, relayer):
    """A signature made for the wallet is bound to the wallet as patient, not to the owner's address."""
    signed = sign_grant(registry, signer, grantee, patient=wallet.address, nonce=0)
    as_owner = (signer.address, *signed[1:])
    with reverts("InvalidSignature", signer.address):
        registry.grantBySig(as_owner, {"from": relayer})


def test_lying_wallet_grants_for_itself(registry, liar, grantee, relayer):
    signed = sign_grant(registry, Account.create(), grantee, patient=liar.address)
    tx = registry.grantBySig((*signed[:7], NO_SIGNATURE), {"from": relayer})
    assert registry.isPermitted(liar, grantee, HMB, LABS)
    assert tx.events["ConsentGranted"] == {
        "patient": liar, "grantee": grantee, "purpose": hex32(HMB), "scopes": LABS, "expiresAt": 0,
        "actor": liar,
    }


def test_lying_wallet_cannot_grant_for_another_patient(registry, liar, signer, wallet, grantee, accounts):
    """The registry asks the patient's own wallet: the liar's yes counts for no one else, even as caller."""
    for victim in (signer.address, wallet.address):
        signed = sign_grant(registry, Account.create(), grantee, patient=victim)
        forged = registry.grantBySig.encode_input((*signed[:7], NO_SIGNATURE))
        with reverts("InvalidSignature", victim):
            liar.execute(registry, forged, {"from": accounts[0]})
        assert values(registry.getConsent(victim, grantee, HMB)) == (0, 0, 0, 0)
        assert registry.nonces(victim) == 0


def test_lying_wallet_cannot_revoke_another_patients_consent(registry, liar, patient, wallet, signer, grantee,
                                                             relayer, accounts):
    registry.grant(grantee, HMB, LABS, NEVER, {"from": patient})
    registry.grantBySig(sign_grant(registry, signer, grantee, patient=wallet.address), {"from": relayer})
    for victim in (patient.address, wallet.address):
        nonce = registry.nonces(victim)
        forged = registry.revokeBySig.encode_input(victim, grantee, HMB, nonce, 2**40, NO_SIGNATURE)
        with reverts("InvalidSignature", victim):
            liar.execute(registry, forged, {"from": accounts[0]})
        assert registry.isPermitted(victim, grantee, HMB, LABS)
        assert values(registry.getConsent(victim, grantee, HMB))[3] == 0


def test_reentrant_wallet_cannot_change_state(registry, wallet, signer, funded_signer, grantee, relayer):
    """isValidSignature runs under STATICCALL: the revocation the wallet slips in fails, the grant stands."""
    registry.grantBySig(sign_grant(registry, signer, grantee, HMB, patient=wallet.address), {"from": relayer})
    revocation = registry.revoke.encode_input(grantee, HMB)
    wallet.setMode(REENTER, registry, revocation, {"from": funded_signer})
    assert (wallet.mode(), wallet.reenterTarget(), wallet.reenterCall()) == (REENTER, registry, revocation)

    signed = sign_grant(registry, signer, grantee, TREAT, GENOMICS, patient=wallet.address)
    tx = registry.grantBySig(signed, {"from": relayer})
    assert tx.events["ConsentGranted"]["purpose"] == hex32(TREAT)
    assert "ConsentRevoked" not in tx.events
    assert registry.isPermitted(wallet, grantee, TREAT, GENOMICS)
    assert registry.isPermitted(wallet, grantee, HMB, LABS)
    assert values(registry.getConsent(wallet, grantee, HMB))[3] == 0
    assert registry.nonces(wallet) == 2

    # The same call made as a plain transaction does revoke: it was a real state change.
    wallet.execute(registry, revocation, {"from": funded_signer})
    assert not registry.isPermitted(wallet, grantee, HMB, LABS)
