"""AccessGrants.grantAccessBySig / revokeAccessBySig / useNonce: a patient signs (EIP-712), anyone relays."""

import pytest
from brownie import ZERO_ADDRESS, chain, web3
from conftest import (
    GENOMICS,
    HMB,
    IMAGING,
    LABS,
    NEVER,
    category,
    content_hash,
    hex32,
    mine_at,
    now,
    record_id,
    reverts,
    sign_access_grant,
    sign_access_revoke,
    sign_grant,
    values,
)
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak

from carechain.core import eip712

pytestmark = pytest.mark.usefixtures("synced_clock")

PATIENT, PROVIDER, CATEGORIES, EXPIRES_AT, NONCE, DEADLINE, SIGNATURE = range(7)
NO_RECORD = bytes(32)
SIGNER_RECORD = record_id("signer-lab-1")


def replace(signed: tuple, field: int, value) -> tuple:
    """The signed request with one field changed after signing (what a dishonest relayer would send)."""
    return (*signed[:field], value, *signed[field + 1 :])


@pytest.fixture
def signer_record(records, custodian, signer):
    """A lab result of the signing patient."""
    records.anchor(
        SIGNER_RECORD, signer.address, category(LABS), content_hash("signer-lab-1"), {"from": custodian}
    )
    return SIGNER_RECORD


def test_typehashes_match_the_python_type_strings(access):
    assert eip712.type_string("AccessGrant", "AccessGrants") == (
        "AccessGrant(address patient,address provider,uint64 categories,uint64 expiresAt,uint256 nonce,"
        "uint256 deadline)"
    )
    assert eip712.type_string("AccessRevoke", "AccessGrants") == (
        "AccessRevoke(address patient,address provider,uint256 nonce,uint256 deadline)"
    )
    for primary, typehash in [
        ("AccessGrant", access.ACCESS_GRANT_TYPEHASH()),
        ("AccessRevoke", access.ACCESS_REVOKE_TYPEHASH()),
    ]:
        assert typehash == hex32(keccak(text=eip712.type_string(primary, "AccessGrants")))


def test_domain_binds_name_version_chain_and_contract(access):
    fields, name, version, chain_id, contract, salt, extensions = access.eip712Domain()
    assert (name, version, chain_id, contract) == ("CareChain AccessGrants", "1", chain.id, access.address)
    assert fields == "0x0f" and salt == hex32(bytes(32)) and list(extensions) == []
    domain = eip712.contract_domain("AccessGrants", chain.id, access.address)
    message = {"patient": ZERO_ADDRESS, "provider": ZERO_ADDRESS, "nonce": 0, "deadline": 0}
    payload = eip712.typed_data(domain, "AccessRevoke", message, "AccessGrants")
    assert access.DOMAIN_SEPARATOR() == hex32(encode_typed_data(full_message=payload).header)


def test_relayed_grant_by_fresh_key_without_ether(access, signer, provider, relayer, signer_record):
    signed = sign_access_grant(access, signer, provider, LABS | IMAGING)
    tx = access.grantAccessBySig(*signed, {"from": relayer})
    expires_at = signed[EXPIRES_AT]
    assert values(access.getGrant(signer.address, provider)) == (LABS | IMAGING, tx.timestamp, expires_at, 0)
    assert access.canAccess(provider, signer_record)
    assert access.nonces(signer.address) == 1
    assert web3.eth.get_balance(signer.address) == 0
    assert tx.events["AccessGranted"] == {
        "patient": signer.address,
        "provider": provider,
        "recordId": hex32(NO_RECORD),
        "categories": LABS | IMAGING,
        "expiresAt": expires_at,
        "actor": signer.address,
    }


def test_relayed_revoke(access, signer, provider, relayer, signer_record):
    access.grantAccessBySig(*sign_access_grant(access, signer, provider), {"from": relayer})
    tx = access.revokeAccessBySig(*sign_access_revoke(access, signer, provider), {"from": relayer})
    assert values(access.getGrant(signer.address, provider))[3] == tx.timestamp
    assert not access.canAccess(provider, signer_record)
    assert access.nonces(signer.address) == 2
    assert tx.events["AccessRevoked"] == {
        "patient": signer.address,
        "provider": provider,
        "recordId": hex32(NO_RECORD),
        "actor": signer.address,
    }


def test_replayed_grant_reverts(access, signer, provider, relayer, signer_record):
    """Revoked first, so only the spent nonce stands between the replay and a new grant."""
    signed = sign_access_grant(access, signer, provider)
    access.grantAccessBySig(*signed, {"from": relayer})
    access.revokeAccessBySig(*sign_access_revoke(access, signer, provider), {"from": relayer})
    with reverts("InvalidAccountNonce", signer.address, 2):
        access.grantAccessBySig(*signed, {"from": relayer})
    assert not access.canAccess(provider, signer_record)


def test_replayed_revoke_reverts(access, signer, provider, relayer):
    """A revocation replayed after a new grant must not end that grant."""
    access.grantAccessBySig(*sign_access_grant(access, signer, provider), {"from": relayer})
    revoke = sign_access_revoke(access, signer, provider)
    access.revokeAccessBySig(*revoke, {"from": relayer})
    access.grantAccessBySig(*sign_access_grant(access, signer, provider), {"from": relayer})
    with reverts("InvalidAccountNonce", signer.address, 3):
        access.revokeAccessBySig(*revoke, {"from": relayer})
    assert values(access.getGrant(signer.address, provider))[3] == 0


def test_signature_for_a_future_nonce_reverts(access, signer, provider, relayer):
    with reverts("InvalidAccountNonce", signer.address, 0):
        access.grantAccessBySig(*sign_access_grant(access, signer, provider, nonce=1), {"from": relayer})


def test_expired_deadline_reverts(access, signer, provider, relayer):
    deadline = now() + 60
    grant = sign_access_grant(access, signer, provider, deadline=deadline)
    revoke = sign_access_revoke(access, signer, provider, nonce=0, deadline=deadline)
    mine_at(deadline + 1)
    with reverts("SignatureExpired", deadline, ...):
        access.grantAccessBySig(*grant, {"from": relayer})
    with reverts("SignatureExpired", deadline, ...):
        access.revokeAccessBySig(*revoke, {"from": relayer})
    assert access.nonces(signer.address) == 0


@pytest.mark.parametrize("kind", ["grant", "revoke"])
def test_signature_for_another_chain_reverts(access, signer, provider, relayer, kind):
    if kind == "grant":
        call = access.grantAccessBySig
        signed = sign_access_grant(access, signer, provider, chain_id=chain.id + 1)
    else:
        access.grantAccessBySig(*sign_access_grant(access, signer, provider), {"from": relayer})
        call = access.revokeAccessBySig
        signed = sign_access_revoke(access, signer, provider, chain_id=chain.id + 1)
    with reverts("InvalidSignature", signer.address):
        call(*signed, {"from": relayer})


@pytest.mark.parametrize("kind", ["grant", "revoke"])
def test_signature_for_another_contract_reverts(access, registry, signer, provider, relayer, kind):
    if kind == "grant":
        call = access.grantAccessBySig
        signed = sign_access_grant(access, signer, provider, verifying_contract=registry.address)
    else:
        access.grantAccessBySig(*sign_access_grant(access, signer, provider), {"from": relayer})
        call = access.revokeAccessBySig
        signed = sign_access_revoke(access, signer, provider, verifying_contract=registry.address)
    with reverts("InvalidSignature", signer.address):
        call(*signed, {"from": relayer})


def test_signature_for_one_deployment_fails_on_another(
    AccessGrants, access, registry, credentials, records, signer, provider, relayer
):
    second = AccessGrants.deploy(registry, credentials, records, {"from": relayer})
    signed = sign_access_grant(access, signer, provider)
    with reverts("InvalidSignature", signer.address):
        second.grantAccessBySig(*signed, {"from": relayer})
    access.grantAccessBySig(*signed, {"from": relayer})
    assert values(access.getGrant(signer.address, provider))[0] == LABS


def test_consent_signature_is_no_access_grant(access, registry, signer, provider, relayer):
    """A ConsentRegistry `Grant` signature, same nonce, same patient, is refused: domain and type differ."""
    consent = sign_grant(registry, signer, provider)
    with reverts("InvalidSignature", signer.address):
        access.grantAccessBySig(
            signer.address, provider, LABS, now() + 86400, 0, consent[6], consent[7], {"from": relayer}
        )


def test_signature_by_another_key_reverts(access, signer, provider, relayer):
    forged = sign_access_grant(access, Account.create(), provider, patient=signer.address)
    with reverts("InvalidSignature", signer.address):
        access.grantAccessBySig(*forged, {"from": relayer})
    assert access.nonces(signer.address) == 0


def test_delegate_signature_is_not_the_patients(access, registry, patient, provider, relayer, signer):
    """Delegates act by sending transactions themselves; a signature must be the patient's own."""
    registry.setDelegate(signer.address, NEVER, {"from": patient})
    forged = sign_access_grant(access, signer, provider, patient=patient.address)
    with reverts("InvalidSignature", patient.address):
        access.grantAccessBySig(*forged, {"from": relayer})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (PROVIDER, "0x" + "11" * 20),
        (CATEGORIES, LABS | GENOMICS),
        (EXPIRES_AT, 2**40),
        (DEADLINE, 2**40),
    ],
    ids=["provider", "categories", "expiresAt", "deadline"],
)
def test_relayer_cannot_alter_a_signed_field(access, signer, provider, relayer, field, value):
    tampered = replace(sign_access_grant(access, signer, provider), field, value)
    with reverts("InvalidSignature", signer.address):
        access.grantAccessBySig(*tampered, {"from": relayer})


def test_zero_patient_reverts(access, signer, provider, relayer):
    with reverts("InvalidPatient", ZERO_ADDRESS):
        access.grantAccessBySig(
            *replace(sign_access_grant(access, signer, provider), PATIENT, ZERO_ADDRESS), {"from": relayer}
        )
    with reverts("InvalidPatient", ZERO_ADDRESS):
        access.revokeAccessBySig(ZERO_ADDRESS, provider, 0, now() + 3600, b"", {"from": relayer})


@pytest.mark.parametrize(
    "malform",
    [lambda sig: b"", lambda sig: sig[:64], lambda sig: sig + b"\x00"],
    ids=["empty", "64-bytes", "66-bytes"],
)
def test_malformed_signature_reverts(access, signer, provider, relayer, malform):
    signed = sign_access_grant(access, signer, provider)
    with reverts("InvalidSignature", signer.address):
        access.grantAccessBySig(*replace(signed, SIGNATURE, malform(signed[SIGNATURE])), {"from": relayer})


def test_grant_by_sig_is_validated_like_a_grant(access, signer, provider, relayer, stranger):
    with reverts("EmptyCategories"):
        access.grantAccessBySig(*sign_access_grant(access, signer, provider, categories=0), {"from": relayer})
    with reverts("InvalidExpiry", NEVER, ...):
        access.grantAccessBySig(
            *sign_access_grant(access, signer, provider, expires_at=NEVER), {"from": relayer}
        )
    with reverts("UncredentialedProvider", stranger.address):
        access.grantAccessBySig(*sign_access_grant(access, signer, stranger), {"from": relayer})
    assert access.nonces(signer.address) == 0


def test_revoke_by_sig_without_a_live_grant_reverts(access, signer, provider, relayer):
    with reverts("GrantNotActive", signer.address, provider.address, NO_RECORD):
        access.revokeAccessBySig(*sign_access_revoke(access, signer, provider), {"from": relayer})
    assert access.nonces(signer.address) == 0


def test_use_nonce_burns_a_pending_signature(access, signer, funded_signer, provider, relayer):
    signed = sign_access_grant(access, signer, provider)
    tx = access.useNonce({"from": funded_signer})
    assert tx.events["NonceUsed"] == {"patient": signer.address, "nonce": 0}
    assert access.nonces(signer.address) == 1
    with reverts("InvalidAccountNonce", signer.address, 1):
        access.grantAccessBySig(*signed, {"from": relayer})
    assert values(access.getGrant(signer.address, provider)) == (0, 0, 0, 0)


def test_nonces_are_separate_from_the_consent_registrys(access, registry, signer, provider, relayer):
    registry.grantBySig(sign_grant(registry, signer, provider, HMB), {"from": relayer})
    assert registry.nonces(signer.address) == 1
    assert access.nonces(signer.address) == 0
    access.grantAccessBySig(*sign_access_grant(access, signer, provider), {"from": relayer})
    assert access.nonces(signer.address) == 1


def test_contract_wallet_patient_signs_through_its_owner(
    ERC1271WalletMock, access, records, custodian, signer, provider, relayer, accounts
):
    """ERC-1271: a smart-contract wallet's owner key signs for the wallet, which is the patient."""
    wallet = ERC1271WalletMock.deploy(signer.address, {"from": accounts[0]})
    wallet_record = record_id("wallet-lab-1")
    records.anchor(wallet_record, wallet, category(LABS), content_hash("wallet-lab-1"), {"from": custodian})
    tx = access.grantAccessBySig(
        *sign_access_grant(access, signer, provider, patient=wallet.address), {"from": relayer}
    )
    assert tx.events["AccessGranted"]["patient"] == wallet
    assert tx.events["AccessGranted"]["actor"] == wallet
    assert access.canAccess(provider, wallet_record)
    forged = sign_access_revoke(access, Account.create(), provider, patient=wallet.address)
    with reverts("InvalidSignature", wallet.address):
        access.revokeAccessBySig(*forged, {"from": relayer})
    access.revokeAccessBySig(
        *sign_access_revoke(access, signer, provider, patient=wallet.address), {"from": relayer}
    )
    assert not access.canAccess(provider, wallet_record)


def test_one_record_grants_have_signed_variants_too(access):
    functions = {item["name"] for item in access.abi if item["type"] == "function"}
    assert {"grantRecordAccessBySig", "revokeRecordAccessBySig"} <= functions
