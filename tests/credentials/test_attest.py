"""CredentialRegistry.attest: a registrar attests (or renews) a clinician's credential in one role."""

import pytest
from brownie import ZERO_ADDRESS, chain
from conftest import (
    ACTIVE,
    CREDENTIAL_ROLES,
    DEFAULT_ADMIN_ROLE,
    EMERGENCY,
    NO_END,
    PROVIDER,
    REGISTRAR_ROLE,
    SUSPENDED,
    at_next_block,
    attest,
    hex32,
    license_hash,
    now,
    reverts,
)
from eth_utils.crypto import keccak

pytestmark = pytest.mark.usefixtures("synced_clock")


def test_attest_stores_credential_and_emits_event(credentials, registrar, grantee):
    licence = license_hash(grantee, PROVIDER)
    tx = credentials.attest(grantee, PROVIDER, licence, 0, NO_END, {"from": registrar})
    assert tuple(credentials.getCredential(grantee, PROVIDER)) == (hex32(licence), 0, NO_END, ACTIVE)
    assert credentials.hasCredential(grantee, PROVIDER)
    assert tx.events["CredentialAttested"] == {
        "account": grantee, "role": hex32(PROVIDER), "licenseHash": hex32(licence), "validFrom": 0,
        "validUntil": NO_END, "registrar": registrar,
    }


def test_attest_with_a_validity_window_stores_it(credentials, registrar, grantee):
    licence = license_hash(grantee, PROVIDER)
    valid_from, valid_until = now() + 60, now() + 86400
    tx = credentials.attest(grantee, PROVIDER, licence, valid_from, valid_until, {"from": registrar})
    assert tuple(credentials.getCredential(grantee, PROVIDER)) == (
        hex32(licence), valid_from, valid_until, ACTIVE)
    assert tx.events["CredentialAttested"] == {
        "account": grantee, "role": hex32(PROVIDER), "licenseHash": hex32(licence), "validFrom": valid_from,
        "validUntil": valid_until, "registrar": registrar,
    }


@pytest.mark.parametrize("name", list(CREDENTIAL_ROLES))
def test_every_credential_role_can_be_attested(credentials, registrar, grantee, name):
    role = CREDENTIAL_ROLES[name]
    assert getattr(credentials, name)() == hex32(role)
    tx = credentials.attest(grantee, role, license_hash(grantee, role), 0, NO_END, {"from": registrar})
    assert credentials.hasCredential(grantee, role)
    assert tx.events["CredentialAttested"]["role"] == hex32(role)


def test_roles_are_separate_credentials(credentials, registrar, grantee, stranger):
    credentials.attest(grantee, PROVIDER, license_hash(grantee, PROVIDER), 0, NO_END, {"from": registrar})
    assert not credentials.hasCredential(grantee, EMERGENCY)
    assert not credentials.hasCredential(stranger, PROVIDER)
    assert tuple(credentials.getCredential(grantee, EMERGENCY)) == (hex32(bytes(32)), 0, 0, 0)


def test_reattest_renews_licence_and_window(credentials, registrar, grantee):
    attest(credentials, registrar, grantee, PROVIDER, valid_until=now() + 3600)
    renewed = keccak(b"renewed licence")
    valid_until = now() + 365 * 86400
    tx = credentials.attest(grantee, PROVIDER, renewed, 0, valid_until, {"from": registrar})
    assert tuple(credentials.getCredential(grantee, PROVIDER)) == (hex32(renewed), 0, valid_until, ACTIVE)
    assert tx.events["CredentialAttested"]["licenseHash"] == hex32(renewed)


def test_reattest_of_a_suspended_credential_is_refused(credentials, registrar, grantee):
    """Only `reinstate` lifts a suspension: a renewal must not bypass it."""
    credentials.attest(grantee, PROVIDER, license_hash(grantee, PROVIDER), 0, NO_END, {"from": registrar})
    credentials.suspend(grantee, PROVIDER, {"from": registrar})
    with reverts("InvalidCredentialStatus", grantee.address, PROVIDER, SUSPENDED):
        credentials.attest(grantee, PROVIDER, license_hash(grantee, PROVIDER), 0, NO_END, {"from": registrar})
    assert credentials.getCredential(grantee, PROVIDER)[3] == SUSPENDED
    assert not credentials.hasCredential(grantee, PROVIDER)


@pytest.mark.parametrize("role", [
    keccak(text="carechain.credential.NURSE"), REGISTRAR_ROLE, DEFAULT_ADMIN_ROLE,
], ids=["made-up", "registrar-role", "default-admin-role"])
def test_unknown_role_reverts(credentials, registrar, grantee, role):
    """Access-control roles are not credentials: hasCredential can never be made to vouch for a registrar."""
    with reverts("UnknownRole", role):
        credentials.attest(grantee, role, license_hash(grantee, role), 0, NO_END, {"from": registrar})
    assert not credentials.hasCredential(grantee, role)


def test_zero_account_reverts(credentials, registrar):
    with reverts("InvalidAccount", ZERO_ADDRESS):
        credentials.attest(ZERO_ADDRESS, PROVIDER, license_hash(ZERO_ADDRESS, PROVIDER), 0, NO_END,
                           {"from": registrar})


def test_zero_licence_hash_reverts(credentials, registrar, grantee):
    with reverts("InvalidLicenseHash"):
        credentials.attest(grantee, PROVIDER, bytes(32), 0, NO_END, {"from": registrar})
    assert credentials.getCredential(grantee, PROVIDER)[3] == 0


@pytest.mark.parametrize("window", ["empty", "inverted", "already-over"])
def test_invalid_validity_window_reverts(credentials, registrar, grantee, window):
    start = now() + 3600
    valid_from, valid_until = {
        "empty": (start, start), "inverted": (start, start - 1), "already-over": (0, now() - 10),
    }[window]
    with reverts("InvalidValidity", valid_from, valid_until):
        credentials.attest(grantee, PROVIDER, license_hash(grantee, PROVIDER), valid_from, valid_until,
                           {"from": registrar})


def test_validity_ending_at_the_block_time_reverts(credentials, registrar, grantee):
    """A window must end strictly after the attesting block."""
    at = chain[-1].timestamp + 30
    at_next_block(at)
    with reverts("InvalidValidity", 0, at):
        credentials.attest(grantee, PROVIDER, license_hash(grantee, PROVIDER), 0, at, {"from": registrar})
    at_next_block(at + 1)
    tx = attest(credentials, registrar, grantee, PROVIDER, valid_until=at + 2)
    assert tx.timestamp == at + 1
    assert credentials.getCredential(grantee, PROVIDER)[2] == at + 2


def test_inputs_are_checked_in_order(credentials, registrar):
    """Account, then role, then licence, then window: the first fault is the one reported."""
    unknown = keccak(text="carechain.credential.NURSE")
    with reverts("InvalidAccount", ZERO_ADDRESS):
        credentials.attest(ZERO_ADDRESS, unknown, bytes(32), 5, 1, {"from": registrar})
    with reverts("UnknownRole", unknown):
        credentials.attest(registrar, unknown, bytes(32), 5, 1, {"from": registrar})
    with reverts("InvalidLicenseHash"):
        credentials.attest(registrar, PROVIDER, bytes(32), 5, 1, {"from": registrar})
