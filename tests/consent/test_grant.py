"""ConsentRegistry.grant: a patient grants a new consent."""

from conftest import GENOMICS, HMB, LABS, NEVER, now, reverts, values


def test_grant_stores_consent_and_emits_event(registry, patient, grantee):
    tx = registry.grant(grantee, HMB, LABS | GENOMICS, NEVER, {"from": patient})
    assert values(registry.getConsent(patient, grantee, HMB)) == (LABS | GENOMICS, tx.timestamp, 0, 0)
    assert tx.events["ConsentGranted"] == {
        "patient": patient, "grantee": grantee, "purpose": "0x" + HMB.hex(), "scopes": LABS | GENOMICS,
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
