"""CredentialRegistry.revoke: a registrar ends a credential for good; only a new attestation restores one."""

import pytest
from conftest import (
    EMERGENCY,
    NONE,
    PROVIDER,
    REGISTRAR_ROLE,
    REVOKED,
    REVOKED_WHILE_SUSPENDED,
    attest,
    hex32,
    license_hash,
    reverts,
)


@pytest.fixture
def attested(credentials, registrar, grantee):
    """The grantee holds a PROVIDER credential without an end date."""
    attest(credentials, registrar, grantee, PROVIDER)


def test_revoke_sets_status_and_emits_event(credentials, registrar, grantee, attested):
    tx = credentials.revoke(grantee, PROVIDER, {"from": registrar})
    assert tuple(credentials.getCredential(grantee, PROVIDER)) == (
        hex32(license_hash(grantee, PROVIDER)), 0, 0, REVOKED)
    assert not credentials.hasCredential(grantee, PROVIDER)
    assert tx.events["CredentialRevoked"] == {
        "account": grantee, "role": hex32(PROVIDER), "registrar": registrar,
    }


def test_revoke_a_suspended_credential_keeps_the_suspension(credentials, registrar, grantee, attested):
    credentials.suspend(grantee, PROVIDER, {"from": registrar})
    tx = credentials.revoke(grantee, PROVIDER, {"from": registrar})
    assert credentials.getCredential(grantee, PROVIDER)[3] == REVOKED_WHILE_SUSPENDED
    assert not credentials.hasCredential(grantee, PROVIDER)
    assert tx.events["CredentialRevoked"] == {
        "account": grantee, "role": hex32(PROVIDER), "registrar": registrar,
    }


def test_revoke_then_attest_does_not_lift_a_suspension(credentials, registrar, grantee, attested):
    """Finding A.7: revoke + attest cannot replace a suspended credential; only `reinstate` lifts it."""
    credentials.suspend(grantee, PROVIDER, {"from": registrar})
    credentials.revoke(grantee, PROVIDER, {"from": registrar})
    with reverts("InvalidCredentialStatus", grantee.address, PROVIDER, REVOKED_WHILE_SUSPENDED):
        attest(credentials, registrar, grantee, PROVIDER)
    assert not credentials.hasCredential(grantee, PROVIDER)

    tx = credentials.reinstate(grantee, PROVIDER, {"from": registrar})
    assert tx.events["CredentialReinstated"] == {
        "account": grantee, "role": hex32(PROVIDER), "registrar": registrar,
    }
    assert credentials.getCredential(grantee, PROVIDER)[3] == REVOKED
    assert not credentials.hasCredential(grantee, PROVIDER)
    attest(credentials, registrar, grantee, PROVIDER)
    assert credentials.hasCredential(grantee, PROVIDER)


def test_revocation_is_final(credentials, registrar, grantee, attested):
    credentials.revoke(grantee, PROVIDER, {"from": registrar})
    with reverts("InvalidCredentialStatus", grantee.address, PROVIDER, REVOKED):
        credentials.reinstate(grantee, PROVIDER, {"from": registrar})
    assert not credentials.hasCredential(grantee, PROVIDER)


def test_revoke_touches_only_that_role(credentials, registrar, grantee, attested):
    attest(credentials, registrar, grantee, EMERGENCY)
    credentials.revoke(grantee, PROVIDER, {"from": registrar})
    assert credentials.hasCredential(grantee, EMERGENCY)


def test_revoke_twice_reverts(credentials, registrar, grantee, attested):
    credentials.revoke(grantee, PROVIDER, {"from": registrar})
    with reverts("InvalidCredentialStatus", grantee.address, PROVIDER, REVOKED):
        credentials.revoke(grantee, PROVIDER, {"from": registrar})


def test_revoke_never_attested_reverts(credentials, registrar, grantee):
    with reverts("InvalidCredentialStatus", grantee.address, PROVIDER, NONE):
        credentials.revoke(grantee, PROVIDER, {"from": registrar})


def test_non_registrar_revoke_reverts(credentials, grantee, stranger, attested):
    with reverts("AccessControlUnauthorizedAccount", stranger.address, REGISTRAR_ROLE):
        credentials.revoke(grantee, PROVIDER, {"from": stranger})
    assert credentials.hasCredential(grantee, PROVIDER)


def test_holder_cannot_revoke_their_own_credential(credentials, grantee, attested):
    """A credential is the registrar's statement: its holder can neither end nor rewrite it."""
    with reverts("AccessControlUnauthorizedAccount", grantee.address, REGISTRAR_ROLE):
        credentials.revoke(grantee, PROVIDER, {"from": grantee})
