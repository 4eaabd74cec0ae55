"""AccessGrants.grantRecordAccessBySig / revokeRecordAccessBySig: one-record grants a patient only signs."""

import pytest
from brownie import chain
from conftest import LABS, category, content_hash, now, record_id, reverts

from carechain.core import eip712


@pytest.fixture
def signer_record(records, custodian, signer):
    """One of the signing patient's lab results."""
    rid = record_id("signed-record")
    records.anchor(rid, signer.address, category(LABS), content_hash("signed-record v0"), {"from": custodian})
    return rid


def _sign(access, account, kind, patient=None, **fields):
    message = {
        "patient": patient or account.address,
        **fields,
        "nonce": access.nonces(patient or account.address),
        "deadline": now() + 3600,
    }
    payload = eip712.typed_data(
        eip712.contract_domain("AccessGrants", chain.id, access.address), kind, message, "AccessGrants"
    )
    return (*payload["message"].values(), eip712.sign(account, payload))


def test_relayed_record_grant_then_revoke(access, signer, provider, relayer, signer_record):
    expires = now() + 86_400
    signed = _sign(
        access,
        signer,
        "RecordAccessGrant",
        provider=provider.address,
        recordId=signer_record,
        expiresAt=expires,
    )
    tx = access.grantRecordAccessBySig(*signed, {"from": relayer})
    assert tx.events["AccessGranted"]["recordId"] == "0x" + signer_record.hex()
    assert tx.events["AccessGranted"]["actor"] == signer.address
    assert access.canAccess(provider, signer_record)
    with reverts("InvalidAccountNonce", signer.address, 1):
        access.grantRecordAccessBySig(*signed, {"from": relayer})
    revoke = _sign(access, signer, "RecordAccessRevoke", provider=provider.address, recordId=signer_record)
    tx = access.revokeRecordAccessBySig(*revoke, {"from": relayer})
    assert tx.events["AccessRevoked"]["actor"] == signer.address
    assert not access.canAccess(provider, signer_record)


def test_signature_of_someone_the_record_is_not_about_reverts(
    access, signer, patient, provider, relayer, lab_record
):
    signed = _sign(
        access,
        signer,
        "RecordAccessGrant",
        provider=provider.address,
        recordId=lab_record,
        expiresAt=now() + 86_400,
    )
    with reverts("NotRecordPatient", lab_record, signer.address):
        access.grantRecordAccessBySig(*signed, {"from": relayer})


def test_signature_by_another_key_for_the_patient_reverts(access, signer, provider, relayer, signer_record):
    from eth_account import Account

    forged = _sign(
        access,
        Account.create(),
        "RecordAccessGrant",
        patient=signer.address,
        provider=provider.address,
        recordId=signer_record,
        expiresAt=now() + 86_400,
    )
    with reverts("InvalidSignature", signer.address):
        access.grantRecordAccessBySig(*forged, {"from": relayer})
    assert not access.canAccess(provider, signer_record)
