"""carechain.offchain.fhir.export_bundle: a patient's consents, from the chain, as a valid FHIR Bundle."""

from __future__ import annotations

from datetime import UTC, datetime

from brownie import chain, web3
from conftest import GENOMICS, HMB, LABS, TREAT
from fhir.resources.R4B.bundle import Bundle
from fhir_support import DAY, chain_now

from carechain.core.purposes import ANY_GRANTEE, Scope, purpose_id, trial_purpose
from carechain.offchain import fhir

pytest_plugins = ["fhir_fixtures"]

COMMERCIAL = purpose_id("COMMERCIAL")
MENTAL_HEALTH = int(Scope.MENTAL_HEALTH)
MEDICATIONS = int(Scope.MEDICATIONS)


def instant(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def by_purpose(document):
    """The exported Consents keyed by their one purpose code."""
    return {e["resource"]["provision"]["purpose"][0]["code"]: e["resource"] for e in document["entry"]}


def codes(codings, system):
    return [c["code"] for c in codings if c["system"] == system]


def test_granted_updated_revoked_and_expired(fhir_client, fhir_as, patient, grantee, stranger):
    start = chain_now()
    fhir_as(patient).grant(grantee.address, HMB, LABS | GENOMICS, start + 30 * DAY)
    fhir_as(patient).update(grantee.address, HMB, LABS | GENOMICS | MENTAL_HEALTH, start + 60 * DAY)
    fhir_as(patient).grant(grantee.address, TREAT, MEDICATIONS)
    fhir_as(patient).revoke(grantee.address, TREAT)
    fhir_as(patient).grant(stranger.address, COMMERCIAL, LABS, start + 100)
    fhir_as(stranger).grant(grantee.address, HMB, LABS)  # another patient's: not in the export
    chain.sleep(200)
    chain.mine()

    document = fhir.export_bundle(fhir_client, patient.address)

    Bundle.model_validate(document)
    assert document["type"] == "collection" and len(document["entry"]) == 3
    consents = by_purpose(document)
    chain_id, p, g = web3.eth.chain_id, patient.address, grantee.address

    hmb = consents["DUO:0000006"]
    stored = fhir_client.get_consent(p, g, HMB)
    assert hmb["status"] == "active"
    assert hmb["scope"]["coding"][0]["code"] == "research"
    assert hmb["patient"] == {"identifier": {"system": fhir.RFC3986, "value": f"eip155:{chain_id}:{p}"}}
    assert hmb["dateTime"] == instant(stored.granted_at)
    provision = hmb["provision"]
    assert provision["type"] == "permit"
    assert provision["period"] == {"start": instant(stored.granted_at), "end": instant(start + 60 * DAY)}
    assert provision["purpose"][0]["system"] == fhir.DUO
    assert provision["actor"][0]["reference"]["identifier"]["value"] == f"eip155:{chain_id}:{g}"
    assert codes(provision["class"], fhir.SCOPE_SYSTEM) == ["labs", "genomics", "mental-health"]
    assert {"Observation", "DiagnosticReport", "MolecularSequence", "Condition"} <= set(
        codes(provision["class"], fhir.RESOURCE_TYPES)
    )
    assert codes(provision["securityLabel"], fhir.ACT_CODE) == ["GDIS", "PSY"]
    assert hmb["identifier"] == [
        {
            "system": fhir.CONSENT_SYSTEM,
            "value": f"eip155:{chain_id}:{fhir_client.address}/{p}/{g}/0x{HMB.hex()}",
        }
    ]

    treat = consents["TREAT"]
    revoked = fhir_client.get_consent(p, g, TREAT)
    assert treat["status"] == "rejected"
    assert treat["scope"]["coding"][0]["code"] == "treatment"
    assert treat["provision"]["purpose"][0]["system"] == fhir.ACT_REASON
    assert treat["provision"]["period"]["end"] == instant(revoked.revoked_at)
    assert "securityLabel" not in treat["provision"]
    assert codes(treat["provision"]["class"], fhir.SCOPE_SYSTEM) == ["medications"]
    assert "MedicationStatement" in codes(treat["provision"]["class"], fhir.RESOURCE_TYPES)

    commercial = consents["COMMERCIAL"]
    assert commercial["status"] == "inactive"
    assert commercial["scope"]["coding"][0]["code"] == "patient-privacy"
    assert commercial["provision"]["purpose"][0]["system"] == fhir.PURPOSE_SYSTEM
    assert commercial["provision"]["period"]["end"] == instant(start + 100)


def test_active_only_leaves_out_revoked_and_expired(fhir_client, fhir_as, patient, grantee):
    fhir_as(patient).grant(grantee.address, HMB, LABS)
    fhir_as(patient).grant(grantee.address, TREAT, LABS)
    fhir_as(patient).revoke(grantee.address, TREAT)
    document = fhir.export_bundle(fhir_client, patient.address, active_only=True)
    assert list(by_purpose(document)) == ["DUO:0000006"]


def test_opaque_trial_purpose_and_any_grantee_export(fhir_client, fhir_as, patient):
    trial = trial_purpose(7, 1)
    fhir_as(patient).grant(ANY_GRANTEE, trial, LABS)
    document = fhir.export_bundle(fhir_client, patient.address)
    Bundle.model_validate(document)
    (consent,) = document["entry"]
    provision = consent["resource"]["provision"]
    assert provision["purpose"][0]["system"] == fhir.PURPOSE_SYSTEM
    assert provision["purpose"][0]["code"] == "0x" + trial.hex()
    assert consent["resource"]["scope"]["coding"][0]["code"] == "research"
    assert provision["actor"][0]["reference"]["identifier"]["value"].endswith(ANY_GRANTEE)
    assert "period" in provision and "end" not in provision["period"]  # no expiry


def test_patient_without_consents_gets_an_empty_bundle(fhir_client, stranger):
    document = fhir.export_bundle(fhir_client, stranger.address)
    Bundle.model_validate(document)
    assert "entry" not in document
