"""ConsentRegistry.isPermitted: the question other contracts ask before they touch a patient's data."""

import pytest
from conftest import GENOMICS, HMB, IMAGING, LABS, NEVER, TREAT

from carechain.core.purposes import ANY_GRANTEE


@pytest.fixture
def consented(registry, patient, grantee):
    """The patient consents to HMB use of labs and genomics by the grantee."""
    registry.grant(grantee, HMB, LABS | GENOMICS, NEVER, {"from": patient})


def test_any_grantee_constant_is_the_all_ones_address(registry):
    assert registry.ANY_GRANTEE() == ANY_GRANTEE
    assert int(ANY_GRANTEE, 16) == 2**160 - 1


@pytest.mark.parametrize("required", [LABS, GENOMICS, LABS | GENOMICS], ids=["labs", "genomics", "both"])
def test_subset_of_granted_scopes_is_permitted(registry, patient, grantee, consented, required):
    assert registry.isPermitted(patient, grantee, HMB, required)


@pytest.mark.parametrize("required", [IMAGING, LABS | IMAGING, LABS | GENOMICS | IMAGING],
                         ids=["disjoint", "partly-covered", "superset"])
def test_scopes_beyond_the_grant_are_not_permitted(registry, patient, grantee, consented, required):
    assert not registry.isPermitted(patient, grantee, HMB, required)


def test_zero_required_scopes_asks_only_for_a_live_consent(registry, patient, grantee, stranger, consented):
    assert registry.isPermitted(patient, grantee, HMB, 0)
    assert not registry.isPermitted(patient, stranger, HMB, 0)
    registry.revoke(grantee, HMB, {"from": patient})
    assert not registry.isPermitted(patient, grantee, HMB, 0)


def test_other_purpose_grantee_or_patient_is_not_permitted(registry, patient, grantee, stranger, consented):
    assert not registry.isPermitted(patient, grantee, TREAT, LABS)
    assert not registry.isPermitted(patient, stranger, HMB, LABS)
    assert not registry.isPermitted(stranger, grantee, HMB, LABS)


def test_never_granted_is_not_permitted(registry, patient, grantee):
    assert not registry.isPermitted(patient, grantee, HMB, LABS)


def test_wildcard_consent_permits_any_grantee(registry, patient, grantee, stranger, delegate):
    registry.grant(ANY_GRANTEE, HMB, LABS | GENOMICS, NEVER, {"from": patient})
    for who in (grantee, stranger, delegate):
        assert registry.isPermitted(patient, who, HMB, LABS)
        assert registry.isPermitted(patient, who, HMB, LABS | GENOMICS)


def test_wildcard_consent_is_bounded_by_its_scopes_and_purpose(registry, patient, grantee):
    registry.grant(ANY_GRANTEE, HMB, LABS, NEVER, {"from": patient})
    assert not registry.isPermitted(patient, grantee, HMB, GENOMICS)
    assert not registry.isPermitted(patient, grantee, HMB, LABS | GENOMICS)
    assert not registry.isPermitted(patient, grantee, TREAT, LABS)


def test_direct_and_wildcard_consents_do_not_add_up(registry, patient, grantee):
    """Each consent must cover the request on its own: scopes from two consents are not merged."""
    registry.grant(grantee, HMB, LABS, NEVER, {"from": patient})
    registry.grant(ANY_GRANTEE, HMB, GENOMICS, NEVER, {"from": patient})
    assert registry.isPermitted(patient, grantee, HMB, LABS)
    assert registry.isPermitted(patient, grantee, HMB, GENOMICS)
    assert not registry.isPermitted(patient, grantee, HMB, LABS | GENOMICS)


def test_direct_consent_survives_revoked_wildcard(registry, patient, grantee, stranger):
    registry.grant(grantee, HMB, LABS, NEVER, {"from": patient})
    registry.grant(ANY_GRANTEE, HMB, LABS, NEVER, {"from": patient})
    registry.revoke(ANY_GRANTEE, HMB, {"from": patient})
    assert registry.isPermitted(patient, grantee, HMB, LABS)
    assert not registry.isPermitted(patient, stranger, HMB, LABS)


def test_wildcard_survives_revoked_direct_consent(registry, patient, grantee):
    """Revoking one grantee does not override a broad consent the patient still holds open."""
    registry.grant(grantee, HMB, LABS, NEVER, {"from": patient})
    registry.grant(ANY_GRANTEE, HMB, LABS, NEVER, {"from": patient})
    registry.revoke(grantee, HMB, {"from": patient})
    assert registry.isPermitted(patient, grantee, HMB, LABS)
