"""RecordRegistry.anchor: a credentialed custodian anchors a new record (version 0) about a patient."""

import pytest
from brownie import ZERO_ADDRESS
from conftest import (
    CUSTODIAN,
    GENOMICS,
    LAB_RECORD,
    LAB_V0,
    LABS,
    attest,
    category,
    content_hash,
    hex32,
    mine_at,
    now,
    record_id,
    reverts,
)

pytestmark = pytest.mark.usefixtures("synced_clock")

MAX_CATEGORY = 63


def test_anchor_stores_record_and_first_version(records, custodian, patient):
    tx = records.anchor(LAB_RECORD, patient, category(LABS), LAB_V0, {"from": custodian})
    assert tuple(records.getRecord(LAB_RECORD)) == (patient, category(LABS), 1, custodian)
    assert tuple(records.getVersion(LAB_RECORD, 0)) == (hex32(LAB_V0), tx.timestamp)
    assert records.latestContentHash(LAB_RECORD) == hex32(LAB_V0)
    assert records.exists(LAB_RECORD)
    assert tx.events["RecordAnchored"] == {
        "recordId": hex32(LAB_RECORD), "patient": patient, "custodian": custodian, "category": category(LABS),
        "version": 0, "contentHash": hex32(LAB_V0),
    }


def test_records_check_the_deployed_credential_registry(records, credentials):
    assert records.credentials() == credentials


def test_highest_category_is_accepted(records, custodian, patient):
    tx = records.anchor(LAB_RECORD, patient, MAX_CATEGORY, LAB_V0, {"from": custodian})
    assert records.getRecord(LAB_RECORD)[1] == MAX_CATEGORY
    assert tx.events["RecordAnchored"]["category"] == MAX_CATEGORY


def test_one_custodian_anchors_many_records_and_patients(records, custodian, patient, stranger):
    genome = record_id("genome-1")
    records.anchor(LAB_RECORD, patient, category(LABS), LAB_V0, {"from": custodian})
    records.anchor(genome, stranger, category(GENOMICS), content_hash("genome"), {"from": custodian})
    assert tuple(records.getRecord(genome)) == (stranger, category(GENOMICS), 1, custodian)
    assert records.getRecord(LAB_RECORD)[0] == patient


@pytest.mark.parametrize("who", ["stranger", "provider", "patient"])
def test_caller_without_custodian_credential_reverts(records, stranger, provider, patient, who):
    caller = {"stranger": stranger, "provider": provider, "patient": patient}[who]
    with reverts("NotCustodian", caller.address):
        records.anchor(LAB_RECORD, patient, category(LABS), LAB_V0, {"from": caller})
    assert not records.exists(LAB_RECORD)


@pytest.mark.parametrize("action", ["suspend", "revoke"])
def test_custodian_whose_credential_was_withdrawn_reverts(records, credentials, registrar, custodian, patient,
                                                          action):
    getattr(credentials, action)(custodian, CUSTODIAN, {"from": registrar})
    with reverts("NotCustodian", custodian.address):
        records.anchor(LAB_RECORD, patient, category(LABS), LAB_V0, {"from": custodian})


def test_custodian_whose_credential_expired_reverts(records, credentials, registrar, stranger, patient):
    valid_until = now() + 3600
    attest(credentials, registrar, stranger, CUSTODIAN, valid_until=valid_until)
    records.anchor(LAB_RECORD, patient, category(LABS), LAB_V0, {"from": stranger})
    mine_at(valid_until)
    with reverts("NotCustodian", stranger.address):
        records.anchor(record_id("later"), patient, category(LABS), LAB_V0, {"from": stranger})


@pytest.mark.parametrize(("field", "value"), [
    ("recordId", bytes(32)), ("patient", ZERO_ADDRESS), ("category", MAX_CATEGORY + 1), ("category", 255),
    ("contentHash", bytes(32)),
], ids=["zero-id", "zero-patient", "category-64", "category-255", "zero-hash"])
def test_invalid_record_reverts(records, custodian, patient, field, value):
    args = {
        "recordId": LAB_RECORD, "patient": patient.address, "category": category(LABS), "contentHash": LAB_V0,
    }
    args[field] = value
    with reverts("InvalidRecord", *args.values()):
        records.anchor(*args.values(), {"from": custodian})
    assert not records.exists(args["recordId"])


def test_credential_is_checked_before_the_record(records, stranger):
    with reverts("NotCustodian", stranger.address):
        records.anchor(bytes(32), ZERO_ADDRESS, 255, bytes(32), {"from": stranger})


def test_anchor_twice_reverts(records, custodian, patient):
    records.anchor(LAB_RECORD, patient, category(LABS), LAB_V0, {"from": custodian})
    with reverts("RecordExists", LAB_RECORD):
        records.anchor(LAB_RECORD, patient, category(LABS), content_hash("other"), {"from": custodian})
    assert records.latestContentHash(LAB_RECORD) == hex32(LAB_V0)


def test_another_custodian_cannot_take_over_a_record_id(records, credentials, registrar, custodian, patient,
                                                        stranger):
    attest(credentials, registrar, stranger, CUSTODIAN)
    records.anchor(LAB_RECORD, patient, category(LABS), LAB_V0, {"from": custodian})
    with reverts("RecordExists", LAB_RECORD):
        records.anchor(LAB_RECORD, stranger, category(GENOMICS), content_hash("other"), {"from": stranger})
    assert tuple(records.getRecord(LAB_RECORD)) == (patient, category(LABS), 1, custodian)
