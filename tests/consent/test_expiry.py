"""Consent expiry: a consent permits until its expiresAt, then lapses without a transaction."""

import pytest
from brownie import chain
from conftest import GENOMICS, HMB, LABS, NEVER, hex32, now, values

from carechain.core.purposes import ANY_GRANTEE

pytestmark = pytest.mark.usefixtures("synced_clock")

DAY = 86400


def sleep(seconds: int) -> None:
    """Move the chain's clock and mine, so calls see the new time."""
    chain.sleep(seconds)
    chain.mine()


def test_consent_permits_until_expiry_then_lapses(registry, patient, grantee):
    expires_at = now() + DAY
    granted_at = registry.grant(grantee, HMB, LABS, expires_at, {"from": patient}).timestamp
    sleep(DAY // 2)
    assert registry.isPermitted(patient, grantee, HMB, LABS)
    sleep(DAY // 2 + 1)
    assert chain[-1].timestamp > expires_at
    assert not registry.isPermitted(patient, grantee, HMB, LABS)
    assert values(registry.getConsent(patient, grantee, HMB)) == (LABS, granted_at, expires_at, 0)


def test_consent_without_expiry_never_lapses(registry, patient, grantee):
    registry.grant(grantee, HMB, LABS, NEVER, {"from": patient})
    sleep(10 * 365 * DAY)
    assert registry.isPermitted(patient, grantee, HMB, LABS)


def test_wildcard_consent_lapses_too(registry, patient, grantee):
    registry.grant(ANY_GRANTEE, HMB, LABS, now() + DAY, {"from": patient})
    assert registry.isPermitted(patient, grantee, HMB, LABS)
    sleep(DAY + 1)
    assert not registry.isPermitted(patient, grantee, HMB, LABS)


def test_lapsed_consent_can_be_granted_afresh(registry, patient, grantee):
    registry.grant(grantee, HMB, LABS, now() + DAY, {"from": patient})
    sleep(DAY + 1)
    tx = registry.grant(grantee, HMB, GENOMICS, NEVER, {"from": patient})
    assert values(registry.getConsent(patient, grantee, HMB)) == (GENOMICS, tx.timestamp, 0, 0)
    assert registry.isPermitted(patient, grantee, HMB, GENOMICS)
    assert not registry.isPermitted(patient, grantee, HMB, LABS)
    assert tx.events["ConsentGranted"] == {
        "patient": patient, "grantee": grantee, "purpose": hex32(HMB), "scopes": GENOMICS, "expiresAt": 0,
        "actor": patient,
    }


def test_extending_expiry_before_lapse_keeps_consent(registry, patient, grantee):
    registry.grant(grantee, HMB, LABS, now() + DAY, {"from": patient})
    registry.update(grantee, HMB, LABS, now() + 3 * DAY, {"from": patient})
    sleep(2 * DAY)
    assert registry.isPermitted(patient, grantee, HMB, LABS)
    sleep(DAY + 1)
    assert not registry.isPermitted(patient, grantee, HMB, LABS)


def test_shortening_expiry_brings_the_lapse_forward(registry, patient, grantee):
    registry.grant(grantee, HMB, LABS, now() + 3 * DAY, {"from": patient})
    registry.update(grantee, HMB, LABS, now() + DAY, {"from": patient})
    sleep(DAY + 1)
    assert not registry.isPermitted(patient, grantee, HMB, LABS)
