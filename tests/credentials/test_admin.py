"""CredentialRegistry administration: the default admin appoints registrars and hands over its role only
in two delayed steps (OpenZeppelin AccessControlDefaultAdminRules)."""

import pytest
from brownie import ZERO_ADDRESS
from conftest import (
    DEFAULT_ADMIN_ROLE,
    PROVIDER,
    REGISTRAR_ROLE,
    attest,
    hex32,
    license_hash,
    mine_at,
    reverts,
)
from eth_utils.crypto import keccak

pytestmark = pytest.mark.usefixtures("synced_clock")

ADMIN_DELAY = 3 * 86400


@pytest.fixture
def admin(accounts):
    return accounts[0]


@pytest.fixture
def delayed(CredentialRegistry, admin):
    """A registry whose admin role changes hands only ADMIN_DELAY after the transfer begins."""
    return CredentialRegistry.deploy(admin, ADMIN_DELAY, {"from": admin})


def test_deployment_sets_admin_and_registrar(credentials, admin, registrar):
    assert credentials.defaultAdmin() == admin
    assert credentials.owner() == admin
    assert credentials.hasRole(DEFAULT_ADMIN_ROLE, admin)
    assert credentials.defaultAdminDelay() == 0
    assert credentials.hasRole(REGISTRAR_ROLE, registrar)
    assert credentials.REGISTRAR_ROLE() == hex32(keccak(text="carechain.REGISTRAR"))
    assert credentials.getRoleAdmin(REGISTRAR_ROLE) == hex32(DEFAULT_ADMIN_ROLE)


def test_deploy_without_admin_reverts(CredentialRegistry, admin):
    with reverts("AccessControlInvalidDefaultAdmin", ZERO_ADDRESS):
        CredentialRegistry.deploy(ZERO_ADDRESS, 0, {"from": admin})


def test_admin_appoints_a_registrar_who_can_attest(credentials, admin, grantee, stranger):
    tx = credentials.grantRole(REGISTRAR_ROLE, stranger, {"from": admin})
    assert credentials.hasRole(REGISTRAR_ROLE, stranger)
    assert tx.events["RoleGranted"] == {"role": hex32(REGISTRAR_ROLE), "account": stranger, "sender": admin}
    tx = attest(credentials, stranger, grantee, PROVIDER)
    assert tx.events["CredentialAttested"]["registrar"] == stranger


def test_admin_removes_a_registrar(credentials, admin, registrar, grantee):
    tx = credentials.revokeRole(REGISTRAR_ROLE, registrar, {"from": admin})
    assert not credentials.hasRole(REGISTRAR_ROLE, registrar)
    assert tx.events["RoleRevoked"] == {"role": hex32(REGISTRAR_ROLE), "account": registrar, "sender": admin}
    with reverts("AccessControlUnauthorizedAccount", registrar.address, REGISTRAR_ROLE):
        attest(credentials, registrar, grantee, PROVIDER)


def test_credentials_outlive_their_registrar(credentials, admin, registrar, grantee):
    """Removing a registrar does not void what they attested; their successor revokes it if needed."""
    attest(credentials, registrar, grantee, PROVIDER)
    credentials.revokeRole(REGISTRAR_ROLE, registrar, {"from": admin})
    assert credentials.hasCredential(grantee, PROVIDER)


def test_registrar_can_renounce(credentials, registrar):
    tx = credentials.renounceRole(REGISTRAR_ROLE, registrar, {"from": registrar})
    assert not credentials.hasRole(REGISTRAR_ROLE, registrar)
    assert tx.events["RoleRevoked"] == {
        "role": hex32(REGISTRAR_ROLE), "account": registrar, "sender": registrar,
    }


@pytest.mark.parametrize("caller", ["registrar", "stranger"])
def test_only_the_admin_appoints_registrars(credentials, registrar, stranger, caller):
    who = registrar if caller == "registrar" else stranger
    with reverts("AccessControlUnauthorizedAccount", who.address, DEFAULT_ADMIN_ROLE):
        credentials.grantRole(REGISTRAR_ROLE, stranger, {"from": who})
    with reverts("AccessControlUnauthorizedAccount", who.address, DEFAULT_ADMIN_ROLE):
        credentials.revokeRole(REGISTRAR_ROLE, registrar, {"from": who})
    assert not credentials.hasRole(REGISTRAR_ROLE, stranger)
    assert credentials.hasRole(REGISTRAR_ROLE, registrar)


@pytest.mark.parametrize("action", ["attest", "suspend", "reinstate", "revoke"])
@pytest.mark.parametrize("caller", ["admin", "stranger"])
def test_non_registrar_cannot_manage_credentials(credentials, admin, stranger, grantee, action, caller):
    """The admin is not a registrar either: appointing registrars and attesting are separate duties."""
    who = admin if caller == "admin" else stranger
    args = (grantee, PROVIDER) + ((license_hash(grantee, PROVIDER), 0, 0) if action == "attest" else ())
    with reverts("AccessControlUnauthorizedAccount", who.address, REGISTRAR_ROLE):
        getattr(credentials, action)(*args, {"from": who})


def test_admin_role_cannot_be_granted_directly(credentials, admin, stranger):
    with reverts("AccessControlEnforcedDefaultAdminRules"):
        credentials.grantRole(DEFAULT_ADMIN_ROLE, stranger, {"from": admin})
    assert not credentials.hasRole(DEFAULT_ADMIN_ROLE, stranger)


def test_begin_transfer_schedules_it(delayed, admin, stranger):
    tx = delayed.beginDefaultAdminTransfer(stranger, {"from": admin})
    schedule = tx.timestamp + ADMIN_DELAY
    assert tuple(delayed.pendingDefaultAdmin()) == (stranger, schedule)
    assert tx.events["DefaultAdminTransferScheduled"] == {"newAdmin": stranger, "acceptSchedule": schedule}
    assert delayed.defaultAdmin() == admin


def test_only_the_admin_begins_a_transfer(delayed, stranger):
    with reverts("AccessControlUnauthorizedAccount", stranger.address, DEFAULT_ADMIN_ROLE):
        delayed.beginDefaultAdminTransfer(stranger, {"from": stranger})
    assert tuple(delayed.pendingDefaultAdmin()) == (ZERO_ADDRESS, 0)


def test_accept_before_the_delay_reverts(delayed, admin, stranger):
    schedule = delayed.beginDefaultAdminTransfer(stranger, {"from": admin}).timestamp + ADMIN_DELAY
    with reverts("AccessControlEnforcedDefaultAdminDelay", schedule):
        delayed.acceptDefaultAdminTransfer({"from": stranger})
    mine_at(schedule - 1)
    with reverts("AccessControlEnforcedDefaultAdminDelay", schedule):
        delayed.acceptDefaultAdminTransfer({"from": stranger})
    assert delayed.defaultAdmin() == admin


def test_accept_after_the_delay_hands_over_the_admin_role(delayed, admin, registrar, stranger):
    schedule = delayed.beginDefaultAdminTransfer(stranger, {"from": admin}).timestamp + ADMIN_DELAY
    mine_at(schedule + 1)
    tx = delayed.acceptDefaultAdminTransfer({"from": stranger})
    assert delayed.defaultAdmin() == stranger
    assert delayed.hasRole(DEFAULT_ADMIN_ROLE, stranger)
    assert not delayed.hasRole(DEFAULT_ADMIN_ROLE, admin)
    assert tuple(delayed.pendingDefaultAdmin()) == (ZERO_ADDRESS, 0)
    assert tx.events["RoleRevoked"] == {
        "role": hex32(DEFAULT_ADMIN_ROLE), "account": admin, "sender": stranger,
    }
    assert tx.events["RoleGranted"] == {
        "role": hex32(DEFAULT_ADMIN_ROLE), "account": stranger, "sender": stranger,
    }
    with reverts("AccessControlUnauthorizedAccount", admin.address, DEFAULT_ADMIN_ROLE):
        delayed.grantRole(REGISTRAR_ROLE, registrar, {"from": admin})
    delayed.grantRole(REGISTRAR_ROLE, registrar, {"from": stranger})
    assert delayed.hasRole(REGISTRAR_ROLE, registrar)


def test_only_the_pending_admin_accepts(delayed, admin, stranger, registrar):
    schedule = delayed.beginDefaultAdminTransfer(stranger, {"from": admin}).timestamp + ADMIN_DELAY
    mine_at(schedule + 1)
    with reverts("AccessControlInvalidDefaultAdmin", registrar.address):
        delayed.acceptDefaultAdminTransfer({"from": registrar})
    assert delayed.defaultAdmin() == admin


def test_admin_can_cancel_a_pending_transfer(delayed, admin, stranger):
    schedule = delayed.beginDefaultAdminTransfer(stranger, {"from": admin}).timestamp + ADMIN_DELAY
    tx = delayed.cancelDefaultAdminTransfer({"from": admin})
    assert "DefaultAdminTransferCanceled" in tx.events
    assert tuple(delayed.pendingDefaultAdmin()) == (ZERO_ADDRESS, 0)
    mine_at(schedule + 1)
    with reverts("AccessControlInvalidDefaultAdmin", stranger.address):
        delayed.acceptDefaultAdminTransfer({"from": stranger})
    assert delayed.defaultAdmin() == admin
