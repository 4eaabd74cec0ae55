"""Export -> import: the FHIR Bundle of a patient's consents maps back to exactly the grants made."""

from __future__ import annotations

import json

from brownie import web3
from conftest import GENOMICS, HMB, IMAGING, LABS, TREAT
from fhir_support import DAY, chain_now

from carechain.clients.consent import GrantRequest
from carechain.core.purposes import ALL_SCOPES, ANY_GRANTEE, Scope, purpose_id, trial_purpose
from carechain.offchain import fhir

pytest_plugins = ["fhir_fixtures"]


def imported(fhir_client, patient) -> set[GrantRequest]:
    """What the patient's exported Bundle, written out as JSON and read back, asks to grant."""
    document = json.loads(json.dumps(fhir.export_bundle(fhir_client, patient.address)))
    grants = fhir.consents_to_grants(
        document, chain_id=web3.eth.chain_id, patient=patient.address, now=chain_now()
    )
    return set(grants)


def test_round_trip_gives_the_same_grants(fhir_client, fhir_as, patient, grantee, stranger):
    start = chain_now()
    granted = {
        GrantRequest(grantee.address, HMB, LABS | GENOMICS, start + 30 * DAY),
        GrantRequest(ANY_GRANTEE, trial_purpose(3, 2), LABS | IMAGING),
        GrantRequest(stranger.address, TREAT, ALL_SCOPES, start + DAY),
        GrantRequest(grantee.address, purpose_id("COMMERCIAL"), int(Scope.BILLING)),
        GrantRequest(grantee.address, purpose_id("PUBHLTH"), int(Scope.IMMUNIZATIONS | Scope.HIV)),
    }
    fhir_as(patient).grant_batch(sorted(granted, key=repr))

    assert imported(fhir_client, patient) == granted


def test_imported_grants_restore_revoked_consents(fhir_client, fhir_as, patient, grantee, stranger):
    granted = {
        GrantRequest(grantee.address, HMB, LABS | GENOMICS, chain_now() + 7 * DAY),
        GrantRequest(stranger.address, TREAT, int(Scope.MEDICATIONS | Scope.ALLERGIES)),
    }
    fhir_as(patient).grant_batch(sorted(granted, key=repr))
    grants = imported(fhir_client, patient)
    for grant in granted:
        fhir_as(patient).revoke(grant.grantee, grant.purpose)
    assert not fhir_client.is_permitted(patient.address, grantee.address, HMB, LABS)

    fhir_as(patient).grant_batch(sorted(grants, key=repr))

    assert fhir_client.is_permitted(patient.address, grantee.address, HMB, LABS | GENOMICS)
    assert fhir_client.is_permitted(patient.address, stranger.address, TREAT, int(Scope.ALLERGIES))
    assert imported(fhir_client, patient) == granted
