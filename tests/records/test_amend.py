"""RecordRegistry.amend: the record's own custodian appends a version; earlier versions stay readable."""

import pytest
from brownie import chain
from conftest import (
    CUSTODIAN,
    LAB_V0,
    LABS,
    attest,
    category,
    content_hash,
    hex32,
    record_id,
    reverts,
)

pytestmark = pytest.mark.usefixtures("synced_clock")

LAB_V1 = content_hash("lab-result-1 v1")


@pytest.fixture
def second_custodian(credentials, registrar, stranger):
    """Another hospital's gateway, credentialed as CUSTODIAN too."""
    attest(credentials, registrar, stranger, CUSTODIAN)
    return stranger


def test_amend_appends_a_version_and_emits_event(records, custodian, patient, lab_record):
    first_at = records.getVersion(lab_record, 0)[1]
    chain.sleep(60)
    tx = records.amend(lab_record, LAB_V1, {"from": custodian})
    assert tuple(records.getRecord(lab_record)) == (patient, category(LABS), 2, custodian)
    assert tuple(records.getVersion(lab_record, 0)) == (hex32(LAB_V0), first_at)
    assert tuple(records.getVersion(lab_record, 1)) == (hex32(LAB_V1), tx.timestamp)
    assert records.latestContentHash(lab_record) == hex32(LAB_V1)
    assert tx.events["RecordAnchored"] == {
        "recordId": hex32(lab_record), "patient": patient, "custodian": custodian, "category": category(LABS),
        "version": 1, "contentHash": hex32(LAB_V1),
    }


def test_history_is_kept_across_many_versions(records, custodian, lab_record):
    hashes = [LAB_V0] + [content_hash(f"lab-result-1 v{v}") for v in range(1, 5)]
    for version, digest in enumerate(hashes[1:], start=1):
        tx = records.amend(lab_record, digest, {"from": custodian})
        assert tx.events["RecordAnchored"]["version"] == version
    assert records.getRecord(lab_record)[2] == len(hashes)
    assert [records.getVersion(lab_record, v)[0] for v in range(len(hashes))] == [hex32(h) for h in hashes]
    assert records.latestContentHash(lab_record) == hex32(hashes[-1])


def test_amend_with_the_same_hash_still_appends(records, custodian, lab_record):
    """A re-upload is a version of its own: the log shows that the custodian touched the record."""
    tx = records.amend(lab_record, LAB_V0, {"from": custodian})
    assert tx.events["RecordAnchored"]["version"] == 1
    assert records.getRecord(lab_record)[2] == 2


def test_second_custodian_cannot_amend_another_custodians_record(records, custodian, second_custodian,
                                                                 lab_record):
    with reverts("NotRecordCustodian", lab_record, second_custodian.address):
        records.amend(lab_record, LAB_V1, {"from": second_custodian})
    assert records.getRecord(lab_record)[2] == 1
    assert records.latestContentHash(lab_record) == hex32(LAB_V0)


@pytest.mark.parametrize("who", ["patient", "provider"])
def test_others_cannot_amend(records, patient, provider, lab_record, who):
    caller = patient if who == "patient" else provider
    with reverts("NotRecordCustodian", lab_record, caller.address):
        records.amend(lab_record, LAB_V1, {"from": caller})


def test_suspended_custodian_cannot_amend_until_reinstated(records, credentials, registrar, custodian,
                                                           lab_record):
    credentials.suspend(custodian, CUSTODIAN, {"from": registrar})
    with reverts("NotCustodian", custodian.address):
        records.amend(lab_record, LAB_V1, {"from": custodian})
    assert records.getRecord(lab_record)[2] == 1
    credentials.reinstate(custodian, CUSTODIAN, {"from": registrar})
    assert records.amend(lab_record, LAB_V1, {"from": custodian}).events["RecordAnchored"]["version"] == 1


def test_revoked_custodian_cannot_amend(records, credentials, registrar, custodian, lab_record):
    credentials.revoke(custodian, CUSTODIAN, {"from": registrar})
    with reverts("NotCustodian", custodian.address):
        records.amend(lab_record, LAB_V1, {"from": custodian})


def test_amend_unknown_record_reverts(records, custodian):
    unknown = record_id("never-anchored")
    with reverts("UnknownRecord", unknown):
        records.amend(unknown, LAB_V1, {"from": custodian})
    assert not records.exists(unknown)


def test_amend_with_zero_hash_reverts(records, custodian, patient, lab_record):
    with reverts("InvalidRecord", lab_record, patient.address, category(LABS), bytes(32)):
        records.amend(lab_record, bytes(32), {"from": custodian})
    assert records.getRecord(lab_record)[2] == 1
