"""RecordRegistry views: getRecord, getVersion, latestContentHash, exists."""

from conftest import LAB_V0, LABS, category, content_hash, hex32, record_id, reverts

UNKNOWN = record_id("never-anchored")


def test_exists(records, lab_record):
    assert records.exists(lab_record)
    assert not records.exists(UNKNOWN)
    assert not records.exists(bytes(32))


def test_get_record(records, custodian, patient, lab_record):
    assert tuple(records.getRecord(lab_record)) == (patient, category(LABS), 1, custodian)


def test_get_version_of_each_version(records, custodian, lab_record):
    v1 = content_hash("lab-result-1 v1")
    tx = records.amend(lab_record, v1, {"from": custodian})
    assert records.getVersion(lab_record, 0)[0] == hex32(LAB_V0)
    assert tuple(records.getVersion(lab_record, 1)) == (hex32(v1), tx.timestamp)


def test_latest_content_hash_follows_amendments(records, custodian, lab_record):
    assert records.latestContentHash(lab_record) == hex32(LAB_V0)
    v1 = content_hash("lab-result-1 v1")
    records.amend(lab_record, v1, {"from": custodian})
    assert records.latestContentHash(lab_record) == hex32(v1)


def test_unknown_record_reverts_in_every_view(records):
    with reverts("UnknownRecord", UNKNOWN):
        records.getRecord(UNKNOWN)
    with reverts("UnknownRecord", UNKNOWN):
        records.getVersion(UNKNOWN, 0)
    with reverts("UnknownRecord", UNKNOWN):
        records.latestContentHash(UNKNOWN)


def test_version_past_the_last_reverts(records, custodian, lab_record):
    with reverts("UnknownVersion", lab_record, 1):
        records.getVersion(lab_record, 1)
    records.amend(lab_record, content_hash("lab-result-1 v1"), {"from": custodian})
    assert records.getVersion(lab_record, 1)[0] == hex32(content_hash("lab-result-1 v1"))
    with reverts("UnknownVersion", lab_record, 2):
        records.getVersion(lab_record, 2)
    with reverts("UnknownVersion", lab_record, 2**32 - 1):
        records.getVersion(lab_record, 2**32 - 1)
