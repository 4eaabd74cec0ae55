"""ConsentRegistry.grant: a patient grants a new consent."""

import pytest
from brownie import ZERO_ADDRESS, chain
from conftest import GENOMICS, HMB, IMAGING, LABS, NEVER, TREAT, hex32, now, reverts, values

from carechain.core.purposes import ANY_GRANTEE

pytestmark = pytest.mark.usefixtures("synced_clock")


def test_grant_stores_consent_and_emits_event(registry, patient, grantee):
    tx = registry.grant(grantee, HMB, LABS | GENOMICS, NEVER, {"from": patient})
    assert values(registry.getConsent(patient, grantee, HMB)) == (LABS | GENOMICS, tx.timestamp, 0, 0)
    assert tx.events["ConsentGranted"] == {
        "patient": patient, "grantee": grantee, "purpose": hex32(HMB), "scopes": LABS | GENOMICS,
        "expiresAt": 0, "actor": patient,
    }


def test_grant_twice_reverts(registry, patient, grantee):
    registry.grant(grantee, HMB, LABS, NEVER, {"from": patient})
    with reverts("ConsentAlreadyActive", patient.address, grantee.address, HMB):
        registry.grant(grantee, HMB, LABS, NEVER, {"from": patient})


def test_grant_zero_scopes_reverts(registry, patient, grantee):
    with reverts("EmptyScopes"):
        registry.grant(grantee, HMB, 0, NEVER, {"from": patient})


def test_grant_past_expiry_reverts(registry, patient, grantee):
    past = now() - 10
    with reverts("InvalidExpiry", past, ...):
        registry.grant(grantee, HMB, LABS, past, {"from": patient})


def test_grant_with_expiry_stores_it(registry, patient, grantee):
    expires_at = now() + 86400
    tx = registry.grant(grantee, HMB, LABS, expires_at, {"from": patient})
    assert values(registry.getConsent(patient, grantee, HMB)) == (LABS, tx.timestamp, expires_at, 0)
    assert tx.events["ConsentGranted"] == {
        "patient": patient, "grantee": grantee, "purpose": hex32(HMB), "scopes": LABS,
        "expiresAt": expires_at, "actor": patient,
    }


def test_grant_to_any_grantee_is_stored_under_the_wildcard(registry, patient):
    tx = registry.grant(ANY_GRANTEE, HMB, LABS, NEVER, {"from": patient})
    assert values(registry.getConsent(patient, ANY_GRANTEE, HMB)) == (LABS, tx.timestamp, 0, 0)
    assert tx.events["ConsentGranted"] == {
        "patient": patient, "grantee": ANY_GRANTEE, "purpose": hex32(HMB), "scopes": LABS,
        "expiresAt": 0, "actor": patient,
    }


def test_grant_is_one_consent_per_grantee_and_purpose(registry, patient, grantee, stranger):
    """ConsentAlreadyActive guards only the same (patient, grantee, purpose) triple."""
    registry.grant(grantee, HMB, LABS, NEVER, {"from": patient})
    registry.grant(grantee, TREAT, GENOMICS, NEVER, {"from": patient})
    registry.grant(stranger, HMB, IMAGING, NEVER, {"from": patient})
    registry.grant(grantee, HMB, IMAGING, NEVER, {"from": stranger})
    assert values(registry.getConsent(patient, grantee, HMB))[0] == LABS
    assert values(registry.getConsent(patient, grantee, TREAT))[0] == GENOMICS
    assert values(registry.getConsent(patient, stranger, HMB))[0] == IMAGING
    assert values(registry.getConsent(stranger, grantee, HMB))[0] == IMAGING


def test_grant_after_revocation_starts_afresh(registry, patient, grantee):
    registry.grant(grantee, HMB, LABS, NEVER, {"from": patient})
    registry.revoke(grantee, HMB, {"from": patient})
    chain.sleep(60)
    expires_at = now() + 86400
    tx = registry.grant(grantee, HMB, GENOMICS, expires_at, {"from": patient})
    assert values(registry.getConsent(patient, grantee, HMB)) == (GENOMICS, tx.timestamp, expires_at, 0)
    assert registry.isPermitted(patient, grantee, HMB, GENOMICS)
    assert not registry.isPermitted(patient, grantee, HMB, LABS)
    assert tx.events["ConsentGranted"] == {
        "patient": patient, "grantee": grantee, "purpose": hex32(HMB), "scopes": GENOMICS,
        "expiresAt": expires_at, "actor": patient,
    }


def test_grant_zero_grantee_reverts(registry, patient):
    with reverts("InvalidGrantee", ZERO_ADDRESS):
        registry.grant(ZERO_ADDRESS, HMB, LABS, NEVER, {"from": patient})


def test_grant_expiry_at_block_time_reverts(registry, patient, grantee):
    """An expiry must lie strictly after the block: one equal to the last block's time is already past."""
    at = chain[-1].timestamp
    with reverts("InvalidExpiry", at, ...):
        registry.grant(grantee, HMB, LABS, at, {"from": patient})


def test_the_zero_purpose_is_an_opaque_key_that_permits_only_itself(registry, patient, grantee):
    """Documented on IConsentRegistry.grant (C.15): the registry stores any 32 bytes, zero too; such a
    consent answers only an isPermitted asked with zero, and is revoked like any other. CareChain's
    clients refuse to grant it (tests/unit/test_purposes.py)."""
    zero = bytes(32)
    tx = registry.grant(grantee, zero, LABS, NEVER, {"from": patient})
    assert tx.events["ConsentGranted"]["purpose"] == hex32(zero)
    assert registry.isPermitted(patient, grantee, zero, LABS)
    assert not registry.isPermitted(patient, grantee, HMB, LABS)
    registry.revoke(grantee, zero, {"from": patient})
    assert not registry.isPermitted(patient, grantee, zero, LABS)
