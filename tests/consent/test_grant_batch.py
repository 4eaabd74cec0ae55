"""ConsentRegistry.grantBatch: a patient grants several consents in one transaction."""

import pytest
from brownie import ZERO_ADDRESS
from conftest import GENOMICS, HMB, IMAGING, LABS, NEVER, TREAT, hex32, now, reverts, values

pytestmark = pytest.mark.usefixtures("synced_clock")


def test_batch_grants_every_request_in_order(registry, patient, grantee, stranger):
    expires_at = now() + 86400
    requests = [
        (grantee, HMB, LABS, NEVER), (grantee, TREAT, GENOMICS, expires_at), (stranger, HMB, IMAGING, NEVER),
    ]
    tx = registry.grantBatch(requests, {"from": patient})
    for who, purpose, scopes, expiry in requests:
        assert values(registry.getConsent(patient, who, purpose)) == (scopes, tx.timestamp, expiry, 0)
    assert tx.events["ConsentGranted"] == [
        {"patient": patient, "grantee": who, "purpose": hex32(purpose), "scopes": scopes, "expiresAt": expiry,
         "actor": patient}
        for who, purpose, scopes, expiry in requests
    ]


def test_batch_of_one(registry, patient, grantee):
    tx = registry.grantBatch([(grantee, HMB, LABS, NEVER)], {"from": patient})
    assert values(registry.getConsent(patient, grantee, HMB)) == (LABS, tx.timestamp, 0, 0)
    assert tx.events["ConsentGranted"] == {
        "patient": patient, "grantee": grantee, "purpose": hex32(HMB), "scopes": LABS, "expiresAt": 0,
        "actor": patient,
    }


def test_empty_batch_reverts(registry, patient):
    with reverts("EmptyBatch"):
        registry.grantBatch([], {"from": patient})


def test_one_bad_request_reverts_the_whole_batch(registry, patient, grantee):
    with reverts("InvalidGrantee", ZERO_ADDRESS):
        registry.grantBatch([(grantee, HMB, LABS, NEVER), (ZERO_ADDRESS, TREAT, LABS, NEVER)],
                            {"from": patient})
    assert values(registry.getConsent(patient, grantee, HMB)) == (0, 0, 0, 0)


def test_batch_with_empty_scopes_reverts(registry, patient, grantee):
    with reverts("EmptyScopes"):
        registry.grantBatch([(grantee, HMB, LABS, NEVER), (grantee, TREAT, 0, NEVER)], {"from": patient})
    assert values(registry.getConsent(patient, grantee, HMB)) == (0, 0, 0, 0)


def test_batch_repeating_a_request_reverts(registry, patient, grantee):
    """The second copy meets the consent the first just granted."""
    with reverts("ConsentAlreadyActive", patient.address, grantee.address, HMB):
        registry.grantBatch([(grantee, HMB, LABS, NEVER), (grantee, HMB, GENOMICS, NEVER)], {"from": patient})
    assert values(registry.getConsent(patient, grantee, HMB)) == (0, 0, 0, 0)


def test_batch_meeting_a_live_consent_reverts(registry, patient, grantee):
    registry.grant(grantee, TREAT, LABS, NEVER, {"from": patient})
    with reverts("ConsentAlreadyActive", patient.address, grantee.address, TREAT):
        registry.grantBatch([(grantee, HMB, LABS, NEVER), (grantee, TREAT, GENOMICS, NEVER)],
                            {"from": patient})
    assert values(registry.getConsent(patient, grantee, HMB)) == (0, 0, 0, 0)
    assert values(registry.getConsent(patient, grantee, TREAT))[0] == LABS


def test_batch_with_past_expiry_reverts(registry, patient, grantee):
    past = now() - 10
    with reverts("InvalidExpiry", past, ...):
        registry.grantBatch([(grantee, HMB, LABS, NEVER), (grantee, TREAT, LABS, past)], {"from": patient})
    assert values(registry.getConsent(patient, grantee, HMB)) == (0, 0, 0, 0)
