"""AccessGrants.canAccess / accessBasis: the one check, asked at read time, credentials included."""

import pytest
from conftest import (
    EMERGENCY,
    GENOMICS,
    IMAGING,
    LABS,
    PROVIDER,
    attest,
    category,
    content_hash,
    mine_at,
    now,
    record_id,
    reverts,
)

pytestmark = pytest.mark.usefixtures("synced_clock")

NONE, RECORD_GRANT, CATEGORY_GRANT, BREAK_GLASS = range(4)  # IAccessGrants.Basis
GRANT_KINDS = ["record", "category"]


def basis(access, provider, record) -> tuple[int, int]:
    return tuple(int(v) for v in access.accessBasis(provider, record))


def grant(access, patient, provider, record, kind, expires_at=None):
    """A live grant of the given kind covering `record`."""
    expires_at = expires_at or now() + 86400
    if kind == "record":
        return access.grantRecordAccess(provider, record, expires_at, {"from": patient})
    return access.grantAccess(patient, provider, LABS, expires_at, {"from": patient})


def test_no_grant_no_access(access, provider, lab_record):
    assert not access.canAccess(provider, lab_record)
    assert basis(access, provider, lab_record) == (NONE, 0)


def test_record_grant_gives_access(access, patient, provider, lab_record):
    grant(access, patient, provider, lab_record, "record")
    assert access.canAccess(provider, lab_record)
    assert basis(access, provider, lab_record) == (RECORD_GRANT, 0)


def test_category_grant_gives_access(access, patient, provider, lab_record):
    grant(access, patient, provider, lab_record, "category")
    assert access.canAccess(provider, lab_record)
    assert basis(access, provider, lab_record) == (CATEGORY_GRANT, 0)


def test_record_grant_is_reported_before_a_category_grant(access, patient, provider, lab_record):
    grant(access, patient, provider, lab_record, "category")
    grant(access, patient, provider, lab_record, "record")
    assert basis(access, provider, lab_record) == (RECORD_GRANT, 0)


def test_category_bit_must_match_the_records_category(access, patient, provider, lab_record):
    access.grantAccess(patient, provider, GENOMICS | IMAGING, now() + 86400, {"from": patient})
    assert not access.canAccess(provider, lab_record)
    access.grantAccess(patient, provider, GENOMICS | IMAGING | LABS, now() + 86400, {"from": patient})
    assert access.canAccess(provider, lab_record)


def test_highest_category_bit(access, records, custodian, patient, provider):
    top = record_id("category-63")
    records.anchor(top, patient, 63, content_hash("category-63"), {"from": custodian})
    access.grantAccess(patient, provider, 2**63, now() + 86400, {"from": patient})
    assert access.canAccess(provider, top)
    assert basis(access, provider, top) == (CATEGORY_GRANT, 0)


def test_category_grant_covers_only_its_patients_records(
    access, records, custodian, patient, provider, stranger, lab_record
):
    theirs = record_id("stranger-lab")
    records.anchor(theirs, stranger, category(LABS), content_hash("stranger-lab"), {"from": custodian})
    access.grantAccess(patient, provider, LABS, now() + 86400, {"from": patient})
    assert access.canAccess(provider, lab_record)
    assert not access.canAccess(provider, theirs)


def test_grant_covers_only_its_provider(
    access, credentials, registrar, patient, provider, stranger, lab_record
):
    attest(credentials, registrar, stranger, PROVIDER)
    grant(access, patient, provider, lab_record, "category")
    grant(access, patient, provider, lab_record, "record")
    assert not access.canAccess(stranger, lab_record)


@pytest.mark.parametrize("kind", GRANT_KINDS)
def test_grant_ends_at_its_expiry(access, patient, provider, lab_record, kind):
    expires_at = now() + 3600
    grant(access, patient, provider, lab_record, kind, expires_at)
    mine_at(expires_at - 1)
    assert access.canAccess(provider, lab_record)
    mine_at(expires_at)
    assert not access.canAccess(provider, lab_record)
    assert basis(access, provider, lab_record) == (NONE, 0)


@pytest.mark.parametrize("kind", GRANT_KINDS)
@pytest.mark.parametrize("action", ["suspend", "revoke"])
def test_withdrawn_credential_denies_a_live_grant(
    access, credentials, registrar, patient, provider, lab_record, kind, action
):
    grant(access, patient, provider, lab_record, kind)
    getattr(credentials, action)(provider, PROVIDER, {"from": registrar})
    assert not access.canAccess(provider, lab_record)
    assert basis(access, provider, lab_record) == (NONE, 0)


@pytest.mark.parametrize("kind", GRANT_KINDS)
def test_suspension_lifted_restores_the_grant(
    access, credentials, registrar, patient, provider, lab_record, kind
):
    grant(access, patient, provider, lab_record, kind)
    credentials.suspend(provider, PROVIDER, {"from": registrar})
    credentials.reinstate(provider, PROVIDER, {"from": registrar})
    assert access.canAccess(provider, lab_record)


@pytest.mark.parametrize("kind", GRANT_KINDS)
def test_expired_credential_denies_a_live_grant(
    access, credentials, registrar, patient, stranger, lab_record, kind
):
    valid_until = now() + 3600
    attest(credentials, registrar, stranger, PROVIDER, valid_until=valid_until)
    grant(access, patient, stranger, lab_record, kind, now() + 86400)
    assert access.canAccess(stranger, lab_record)
    mine_at(valid_until)
    assert not access.canAccess(stranger, lab_record)


def test_emergency_credential_is_no_provider_credential(
    access, credentials, registrar, patient, er_doctor, lab_record
):
    """Without a break-glass episode, a grant is read through the PROVIDER credential only."""
    grant(access, patient, er_doctor, lab_record, "category")
    credentials.suspend(er_doctor, PROVIDER, {"from": registrar})
    assert credentials.hasCredential(er_doctor, EMERGENCY)
    assert not access.canAccess(er_doctor, lab_record)


def test_unknown_record_is_false(access, patient, provider):
    unknown = record_id("never-anchored")
    access.grantAccess(patient, provider, 2**64 - 1, now() + 86400, {"from": patient})
    assert not access.canAccess(provider, unknown)
    assert basis(access, provider, unknown) == (NONE, 0)


def test_unknown_record_grant_cannot_be_made(access, patient, provider):
    """So a record anchored later under a guessed id can never inherit a grant."""
    unknown = record_id("never-anchored")
    with reverts("UnknownRecord", unknown):
        access.grantRecordAccess(provider, unknown, now() + 86400, {"from": patient})
