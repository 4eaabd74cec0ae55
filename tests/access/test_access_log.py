"""AccessGrants.logAccess: the record's custodian logs each read, with the basis that allowed it."""

import pytest
from brownie import web3
from conftest import CUSTODIAN, LABS, PROVIDER, TREAT, attest, hex32, now, record_id, reverts
from eth_utils.crypto import keccak

pytestmark = pytest.mark.usefixtures("synced_clock")

RECORD_GRANT, CATEGORY_GRANT, BREAK_GLASS = 1, 2, 3  # IAccessGrants.Basis
REASON = keccak(text="carechain.break-glass.UNCONSCIOUS")
RECORD_ACCESSED = "0x" + keccak(text="RecordAccessed(bytes32,address,address,bytes32,uint8,uint256)").hex()


def logged_reads(access) -> list:
    """Every RecordAccessed log this deployment ever emitted."""
    return web3.eth.get_logs({"address": access.address, "fromBlock": 0, "topics": [RECORD_ACCESSED]})


@pytest.mark.parametrize("basis", [RECORD_GRANT, CATEGORY_GRANT], ids=["record-grant", "category-grant"])
def test_custodian_logs_a_granted_read(access, patient, provider, custodian, lab_record, basis):
    if basis == RECORD_GRANT:
        access.grantRecordAccess(provider, lab_record, now() + 86400, {"from": patient})
    else:
        access.grantAccess(patient, provider, LABS, now() + 86400, {"from": patient})
    tx = access.logAccess(provider, lab_record, TREAT, {"from": custodian})
    assert tx.events["RecordAccessed"] == {
        "recordId": hex32(lab_record),
        "patient": patient,
        "provider": provider,
        "purpose": hex32(TREAT),
        "basis": basis,
        "episodeId": 0,
    }
    assert len(logged_reads(access)) == 1


def test_custodian_logs_a_break_glass_read_with_its_episode(
    access, patient, er_doctor, custodian, lab_record
):
    episode_id = access.breakGlass(patient, REASON, 3600, {"from": er_doctor}).return_value
    tx = access.logAccess(er_doctor, lab_record, TREAT, {"from": custodian})
    assert tx.events["RecordAccessed"] == {
        "recordId": hex32(lab_record),
        "patient": patient,
        "provider": er_doctor,
        "purpose": hex32(TREAT),
        "basis": BREAK_GLASS,
        "episodeId": episode_id,
    }


def test_every_read_is_a_log_entry(access, patient, provider, custodian, lab_record):
    access.grantAccess(patient, provider, LABS, now() + 86400, {"from": patient})
    for _ in range(3):
        access.logAccess(provider, lab_record, TREAT, {"from": custodian})
    reads = logged_reads(access)
    assert len(reads) == 3
    assert {log["topics"][3].hex()[-40:] for log in reads} == {provider.address[2:].lower()}


@pytest.mark.parametrize("who", ["stranger", "provider", "patient"])
def test_non_custodian_reverts(access, patient, provider, stranger, lab_record, who):
    caller = {"stranger": stranger, "provider": provider, "patient": patient}[who]
    access.grantAccess(patient, provider, LABS, now() + 86400, {"from": patient})
    with reverts("NotRecordCustodian", lab_record, caller.address):
        access.logAccess(provider, lab_record, TREAT, {"from": caller})
    assert logged_reads(access) == []


def test_another_custodian_cannot_log_this_record(
    access, credentials, registrar, patient, provider, stranger, lab_record
):
    """A forged log entry would blame a provider for a read that never happened."""
    attest(credentials, registrar, stranger, CUSTODIAN)
    access.grantAccess(patient, provider, LABS, now() + 86400, {"from": patient})
    with reverts("NotRecordCustodian", lab_record, stranger.address):
        access.logAccess(provider, lab_record, TREAT, {"from": stranger})


def test_read_without_access_is_denied_and_not_logged(access, provider, custodian, lab_record):
    with reverts("AccessDenied", provider.address, lab_record):
        access.logAccess(provider, lab_record, TREAT, {"from": custodian})
    assert logged_reads(access) == []


def test_read_after_credential_suspension_is_denied(
    access, credentials, registrar, patient, provider, custodian, lab_record
):
    access.grantAccess(patient, provider, LABS, now() + 86400, {"from": patient})
    credentials.suspend(provider, PROVIDER, {"from": registrar})
    with reverts("AccessDenied", provider.address, lab_record):
        access.logAccess(provider, lab_record, TREAT, {"from": custodian})
    assert logged_reads(access) == []


def test_read_after_revocation_is_denied(access, patient, provider, custodian, lab_record):
    access.grantAccess(patient, provider, LABS, now() + 86400, {"from": patient})
    access.revokeAccess(patient, provider, {"from": patient})
    with reverts("AccessDenied", provider.address, lab_record):
        access.logAccess(provider, lab_record, TREAT, {"from": custodian})


def test_unknown_record_reverts(access, provider, custodian):
    unknown = record_id("never-anchored")
    with reverts("UnknownRecord", unknown):
        access.logAccess(provider, unknown, TREAT, {"from": custodian})


def test_custodian_with_a_suspended_credential_cannot_log(
    access, credentials, registrar, custodian, provider, patient, lab_record
):
    """As for `amend`: a custodian whose CUSTODIAN credential is not live writes nothing, reads included."""
    access.grantAccess(patient, provider, LABS, now() + 86_400, {"from": patient})
    credentials.suspend(custodian, CUSTODIAN, {"from": registrar})
    with reverts("NotRecordCustodian", lab_record, custodian.address):
        access.logAccess(provider, lab_record, TREAT, {"from": custodian})
    credentials.reinstate(custodian, CUSTODIAN, {"from": registrar})
    tx = access.logAccess(provider, lab_record, TREAT, {"from": custodian})
    assert tx.events["RecordAccessed"]["provider"] == provider.address
