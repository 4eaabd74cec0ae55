"""ConsentRegistry.setDelegate / removeDelegate / isDelegate / delegateExpiry."""

import pytest
from brownie import ZERO_ADDRESS, chain
from conftest import HMB, LABS, NEVER, now, reverts, values

pytestmark = pytest.mark.usefixtures("synced_clock")

NO_EXPIRY = 2**64 - 1


def sleep_past(moment: int) -> None:
    """Move the chain's clock beyond `moment` and mine, so calls see the new time."""
    chain.sleep(moment - now() + 1)
    chain.mine()


def test_set_delegate_with_expiry(registry, patient, delegate):
    expires_at = now() + 3600
    tx = registry.setDelegate(delegate, expires_at, {"from": patient})
    assert registry.isDelegate(patient, delegate)
    assert registry.delegateExpiry(patient, delegate) == expires_at
    assert tx.events["DelegateSet"] == {"patient": patient, "delegate": delegate, "expiresAt": expires_at}


def test_set_delegate_until_removed(registry, patient, delegate):
    tx = registry.setDelegate(delegate, NEVER, {"from": patient})
    assert registry.isDelegate(patient, delegate)
    assert registry.delegateExpiry(patient, delegate) == NO_EXPIRY
    assert tx.events["DelegateSet"] == {"patient": patient, "delegate": delegate, "expiresAt": 0}


def test_appointment_is_one_way(registry, patient, delegate, stranger):
    registry.setDelegate(delegate, NEVER, {"from": patient})
    assert not registry.isDelegate(delegate, patient)
    assert not registry.isDelegate(patient, stranger)
    assert registry.delegateExpiry(patient, stranger) == 0


def test_reappointing_replaces_the_expiry(registry, patient, delegate):
    registry.setDelegate(delegate, NEVER, {"from": patient})
    expires_at = now() + 3600
    tx = registry.setDelegate(delegate, expires_at, {"from": patient})
    assert registry.delegateExpiry(patient, delegate) == expires_at
    assert tx.events["DelegateSet"] == {"patient": patient, "delegate": delegate, "expiresAt": expires_at}
    sleep_past(expires_at)
    assert not registry.isDelegate(patient, delegate)


def test_delegate_acts_until_expiry_then_reverts(registry, patient, grantee, delegate):
    expires_at = now() + 3600
    registry.setDelegate(delegate, expires_at, {"from": patient})
    tx = registry.grantFor(patient, grantee, HMB, LABS, NEVER, {"from": delegate})
    assert tx.events["ConsentGranted"]["actor"] == delegate
    sleep_past(expires_at)
    assert not registry.isDelegate(patient, delegate)
    assert registry.delegateExpiry(patient, delegate) == expires_at
    with reverts("NotPatientOrDelegate", delegate.address, patient.address):
        registry.updateFor(patient, grantee, HMB, LABS, NEVER, {"from": delegate})
    with reverts("NotPatientOrDelegate", delegate.address, patient.address):
        registry.revokeFor(patient, grantee, HMB, {"from": delegate})
    assert values(registry.getConsent(patient, grantee, HMB))[3] == 0


def test_remove_delegate(registry, patient, grantee, delegate):
    registry.setDelegate(delegate, NEVER, {"from": patient})
    tx = registry.removeDelegate(delegate, {"from": patient})
    assert not registry.isDelegate(patient, delegate)
    assert registry.delegateExpiry(patient, delegate) == 0
    assert tx.events["DelegateRemoved"] == {"patient": patient, "delegate": delegate}
    with reverts("NotPatientOrDelegate", delegate.address, patient.address):
        registry.grantFor(patient, grantee, HMB, LABS, NEVER, {"from": delegate})


def test_patient_can_remove_a_lapsed_delegate(registry, patient, delegate):
    """Removal always works, so a lapsed appointment can be cleared from the record."""
    expires_at = now() + 3600
    registry.setDelegate(delegate, expires_at, {"from": patient})
    sleep_past(expires_at)
    tx = registry.removeDelegate(delegate, {"from": patient})
    assert registry.delegateExpiry(patient, delegate) == 0
    assert tx.events["DelegateRemoved"] == {"patient": patient, "delegate": delegate}


def test_removal_undoes_nothing_the_delegate_did(registry, patient, grantee, delegate):
    registry.setDelegate(delegate, NEVER, {"from": patient})
    registry.grantFor(patient, grantee, HMB, LABS, NEVER, {"from": delegate})
    registry.removeDelegate(delegate, {"from": patient})
    assert registry.isPermitted(patient, grantee, HMB, LABS)


def test_delegate_cannot_appoint_or_remove_for_patient(registry, patient, grantee, delegate, stranger):
    """setDelegate and removeDelegate act on the caller's own appointments only."""
    registry.setDelegate(delegate, NEVER, {"from": patient})
    registry.setDelegate(stranger, NEVER, {"from": patient})
    registry.setDelegate(grantee, NEVER, {"from": delegate})
    assert not registry.isDelegate(patient, grantee)
    assert registry.isDelegate(delegate, grantee)
    with reverts("DelegateNotFound", delegate.address, stranger.address):
        registry.removeDelegate(stranger, {"from": delegate})
    assert registry.isDelegate(patient, stranger)


@pytest.mark.parametrize("who", ["zero", "self"])
def test_invalid_delegate_reverts(registry, patient, who):
    appointee = ZERO_ADDRESS if who == "zero" else patient.address
    with reverts("InvalidDelegate", appointee):
        registry.setDelegate(appointee, NEVER, {"from": patient})


def test_past_delegate_expiry_reverts(registry, patient, delegate):
    past = now() - 10
    with reverts("InvalidExpiry", past, ...):
        registry.setDelegate(delegate, past, {"from": patient})
    assert registry.delegateExpiry(patient, delegate) == 0


def test_remove_unknown_delegate_reverts(registry, patient, delegate):
    with reverts("DelegateNotFound", patient.address, delegate.address):
        registry.removeDelegate(delegate, {"from": patient})


def test_remove_delegate_twice_reverts(registry, patient, delegate):
    registry.setDelegate(delegate, NEVER, {"from": patient})
    registry.removeDelegate(delegate, {"from": patient})
    with reverts("DelegateNotFound", patient.address, delegate.address):
        registry.removeDelegate(delegate, {"from": patient})
