"""CredentialRegistry.hasCredential: true only while a credential is active and inside its window."""

import pytest
from brownie import chain
from conftest import ACTIVE, EMERGENCY, PROVIDER, REVOKED, attest, hex32, mine_at, now

pytestmark = pytest.mark.usefixtures("synced_clock")


def test_never_attested_is_false(credentials, grantee):
    assert not credentials.hasCredential(grantee, PROVIDER)


def test_no_end_date_stays_true(credentials, registrar, grantee):
    attest(credentials, registrar, grantee, PROVIDER)
    mine_at(now() + 10 * 365 * 86400)
    assert credentials.hasCredential(grantee, PROVIDER)


def test_false_before_valid_from_true_from_it(credentials, registrar, grantee):
    valid_from = now() + 3600
    attest(credentials, registrar, grantee, PROVIDER, valid_from=valid_from)
    assert not credentials.hasCredential(grantee, PROVIDER)
    mine_at(valid_from - 1)
    assert not credentials.hasCredential(grantee, PROVIDER)
    mine_at(valid_from)
    assert credentials.hasCredential(grantee, PROVIDER)


def test_true_until_valid_until_false_at_and_after_it(credentials, registrar, grantee):
    valid_until = now() + 3600
    attest(credentials, registrar, grantee, PROVIDER, valid_until=valid_until)
    assert credentials.hasCredential(grantee, PROVIDER)
    mine_at(valid_until - 1)
    assert credentials.hasCredential(grantee, PROVIDER)
    mine_at(valid_until)
    assert not credentials.hasCredential(grantee, PROVIDER)
    mine_at(valid_until + 86400)
    assert not credentials.hasCredential(grantee, PROVIDER)
    assert credentials.getCredential(grantee, PROVIDER)[3] == ACTIVE


def test_suspended_is_false(credentials, registrar, grantee):
    attest(credentials, registrar, grantee, PROVIDER)
    credentials.suspend(grantee, PROVIDER, {"from": registrar})
    assert not credentials.hasCredential(grantee, PROVIDER)


def test_revoked_is_false(credentials, registrar, grantee):
    attest(credentials, registrar, grantee, PROVIDER)
    credentials.revoke(grantee, PROVIDER, {"from": registrar})
    assert not credentials.hasCredential(grantee, PROVIDER)


def test_other_account_or_role_is_false(credentials, registrar, grantee, stranger):
    attest(credentials, registrar, grantee, PROVIDER)
    assert not credentials.hasCredential(stranger, PROVIDER)
    assert not credentials.hasCredential(grantee, EMERGENCY)


def test_reattest_after_revoke_starts_afresh(credentials, registrar, grantee):
    attest(credentials, registrar, grantee, PROVIDER)
    credentials.revoke(grantee, PROVIDER, {"from": registrar})
    chain.sleep(60)
    new_licence = bytes.fromhex("ab" * 32)
    valid_until = now() + 86400
    tx = credentials.attest(grantee, PROVIDER, new_licence, 0, valid_until, {"from": registrar})
    assert credentials.hasCredential(grantee, PROVIDER)
    assert tuple(credentials.getCredential(grantee, PROVIDER)) == (hex32(new_licence), 0, valid_until, ACTIVE)
    assert tx.events["CredentialAttested"] == {
        "account": grantee, "role": hex32(PROVIDER), "licenseHash": hex32(new_licence), "validFrom": 0,
        "validUntil": valid_until, "registrar": registrar,
    }
    credentials.revoke(grantee, PROVIDER, {"from": registrar})
    assert credentials.getCredential(grantee, PROVIDER)[3] == REVOKED


def test_window_and_status_both_apply(credentials, registrar, grantee):
    """Reinstating before the window opens does not open it early; the window still closes it."""
    valid_from, valid_until = now() + 3600, now() + 7200
    attest(credentials, registrar, grantee, PROVIDER, valid_from=valid_from, valid_until=valid_until)
    credentials.suspend(grantee, PROVIDER, {"from": registrar})
    credentials.reinstate(grantee, PROVIDER, {"from": registrar})
    assert not credentials.hasCredential(grantee, PROVIDER)
    mine_at(valid_from)
    assert credentials.hasCredential(grantee, PROVIDER)
    mine_at(valid_until)
    assert not credentials.hasCredential(grantee, PROVIDER)
