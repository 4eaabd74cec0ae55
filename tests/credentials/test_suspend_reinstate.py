"""CredentialRegistry.suspend / reinstate: a reversible hold on a credential (an inquiry, a lapsed fee)."""

import pytest
from conftest import (
    ACTIVE,
    EMERGENCY,
    NONE,
    PROVIDER,
    REGISTRAR_ROLE,
    REVOKED,
    SUSPENDED,
    attest,
    hex32,
    license_hash,
    mine_at,
    now,
    reverts,
)

pytestmark = pytest.mark.usefixtures("synced_clock")


@pytest.fixture
def attested(credentials, registrar, grantee):
    """The grantee holds a PROVIDER credential without an end date."""
    attest(credentials, registrar, grantee, PROVIDER)


def test_suspend_sets_status_and_emits_event(credentials, registrar, grantee, attested):
    tx = credentials.suspend(grantee, PROVIDER, {"from": registrar})
    assert tuple(credentials.getCredential(grantee, PROVIDER)) == (
        hex32(license_hash(grantee, PROVIDER)), 0, 0, SUSPENDED)
    assert not credentials.hasCredential(grantee, PROVIDER)
    assert tx.events["CredentialSuspended"] == {
        "account": grantee, "role": hex32(PROVIDER), "registrar": registrar,
    }


def test_reinstate_restores_the_same_credential(credentials, registrar, grantee, attested):
    credentials.suspend(grantee, PROVIDER, {"from": registrar})
    tx = credentials.reinstate(grantee, PROVIDER, {"from": registrar})
    assert tuple(credentials.getCredential(grantee, PROVIDER)) == (
        hex32(license_hash(grantee, PROVIDER)), 0, 0, ACTIVE)
    assert credentials.hasCredential(grantee, PROVIDER)
    assert tx.events["CredentialReinstated"] == {
        "account": grantee, "role": hex32(PROVIDER), "registrar": registrar,
    }


def test_suspension_touches_only_that_role(credentials, registrar, grantee, attested):
    attest(credentials, registrar, grantee, EMERGENCY)
    credentials.suspend(grantee, PROVIDER, {"from": registrar})
    assert credentials.hasCredential(grantee, EMERGENCY)
    assert not credentials.hasCredential(grantee, PROVIDER)


def test_reinstate_does_not_extend_the_window(credentials, registrar, grantee):
    valid_until = now() + 3600
    attest(credentials, registrar, grantee, PROVIDER, valid_until=valid_until)
    credentials.suspend(grantee, PROVIDER, {"from": registrar})
    mine_at(valid_until)
    credentials.reinstate(grantee, PROVIDER, {"from": registrar})
    assert credentials.getCredential(grantee, PROVIDER)[3] == ACTIVE
    assert not credentials.hasCredential(grantee, PROVIDER)


def test_suspend_twice_reverts(credentials, registrar, grantee, attested):
    credentials.suspend(grantee, PROVIDER, {"from": registrar})
    with reverts("InvalidCredentialStatus", grantee.address, PROVIDER, SUSPENDED):
        credentials.suspend(grantee, PROVIDER, {"from": registrar})


def test_suspend_never_attested_reverts(credentials, registrar, grantee):
    with reverts("InvalidCredentialStatus", grantee.address, PROVIDER, NONE):
        credentials.suspend(grantee, PROVIDER, {"from": registrar})


def test_suspend_revoked_reverts(credentials, registrar, grantee, attested):
    credentials.revoke(grantee, PROVIDER, {"from": registrar})
    with reverts("InvalidCredentialStatus", grantee.address, PROVIDER, REVOKED):
        credentials.suspend(grantee, PROVIDER, {"from": registrar})


@pytest.mark.parametrize("status", [NONE, ACTIVE, REVOKED], ids=["never-attested", "active", "revoked"])
def test_reinstate_of_a_credential_not_suspended_reverts(credentials, registrar, grantee, status):
    if status != NONE:
        attest(credentials, registrar, grantee, PROVIDER)
    if status == REVOKED:
        credentials.revoke(grantee, PROVIDER, {"from": registrar})
    with reverts("InvalidCredentialStatus", grantee.address, PROVIDER, status):
        credentials.reinstate(grantee, PROVIDER, {"from": registrar})
    assert credentials.getCredential(grantee, PROVIDER)[3] == status


@pytest.mark.parametrize("action", ["suspend", "reinstate"])
def test_non_registrar_reverts(credentials, registrar, grantee, stranger, attested, action):
    if action == "reinstate":
        credentials.suspend(grantee, PROVIDER, {"from": registrar})
    status = credentials.getCredential(grantee, PROVIDER)[3]
    with reverts("AccessControlUnauthorizedAccount", stranger.address, REGISTRAR_ROLE):
        getattr(credentials, action)(grantee, PROVIDER, {"from": stranger})
    assert credentials.getCredential(grantee, PROVIDER)[3] == status
