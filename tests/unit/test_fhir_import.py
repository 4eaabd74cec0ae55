"""carechain.offchain.fhir.consents_to_grants: FHIR Consents become grants whole, or fail in one line."""

from __future__ import annotations

import copy

import pytest
from conftest import GENOMICS, HMB, LABS

from carechain.clients.consent import Consent, GrantRequest
from carechain.core.purposes import Scope
from carechain.errors import InputError
from carechain.offchain import fhir

CHAIN_ID = 31337
NOW = 1_800_000_000
PATIENT = "0x1111111111111111111111111111111111111111"
GRANTEE = "0x2222222222222222222222222222222222222222"
REGISTRY = "0x3333333333333333333333333333333333333333"
EXPIRES = NOW + 30 * 86_400


def exported(scopes: int = LABS | GENOMICS, expires_at: int = EXPIRES) -> dict:
    record = fhir.ConsentRecord(PATIENT, GRANTEE, HMB, Consent(scopes, NOW - 100, expires_at, 0))
    return fhir.consent_resource(record, chain_id=CHAIN_ID, registry=REGISTRY, now=NOW)


def grants(document: dict) -> list[GrantRequest]:
    return fhir.consents_to_grants(document, chain_id=CHAIN_ID, patient=PATIENT, now=NOW)


def test_exported_consent_imports_as_its_grant():
    assert grants(exported()) == [GrantRequest(GRANTEE, HMB, LABS | GENOMICS, EXPIRES)]


def test_an_expiry_past_9999_is_exported_without_an_end():
    """A FHIR dateTime stops at 9999: the end is left out (the consent outlives it), kept in an extension."""
    consent = exported(expires_at=2**64 - 1)
    period = consent["provision"]["period"]
    assert "end" not in period and period["start"] == "2027-01-15T07:58:20Z"
    assert period["extension"] == [{"url": fhir.END_EXTENSION, "valueString": str(2**64 - 1)}]
    assert consent["status"] == "active"
    assert grants(consent) == [GrantRequest(GRANTEE, HMB, LABS | GENOMICS, 0)]  # read back: no expiry


def test_third_party_consent_without_carechain_codes():
    """Another system's Consent: DUO IRI form, a resource type naming one scope, no identifier, no type."""
    consent = exported()
    del consent["identifier"]
    del consent["provision"]["type"]
    consent["provision"]["purpose"] = [{"system": fhir.DUO, "code": "DUO_0000006"}]
    consent["provision"]["class"] = [{"system": fhir.RESOURCE_TYPES, "code": "Immunization"}]
    del consent["provision"]["securityLabel"]
    assert grants(consent) == [GrantRequest(GRANTEE, HMB, int(Scope.IMMUNIZATIONS), EXPIRES)]


def _set(path: str, value):
    def change(consent: dict) -> None:
        *parents, last = path.split(".")
        target = consent
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[int(last) if last.isdigit() else last] = value

    return change


def _delete(path: str):
    def change(consent: dict) -> None:
        *parents, last = path.split(".")
        target = consent
        for key in parents:
            target = target[key]
        del target[last]

    return change


def _only_class(code: str):
    """Data classes as resource types alone, without the scope codes or security labels of an export."""

    def change(consent: dict) -> None:
        consent["provision"]["class"] = [{"system": fhir.RESOURCE_TYPES, "code": code}]
        consent["provision"].pop("securityLabel", None)

    return change


OTHER = "0x4444444444444444444444444444444444444444"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set("status", "inactive"), "status is 'inactive': only an active Consent"),
        (_set("status", "rejected"), "status is 'rejected'"),
        (_set("provision.type", "deny"), "provision.type is 'deny': only permit provisions"),
        (_set("provision.provision", [{"type": "deny"}]), "provision.provision is not supported"),
        (
            _set("provision.data", [{"meaning": "instance", "reference": {"reference": "Observation/1"}}]),
            "provision.data is not supported",
        ),
        (
            _set("provision.dataPeriod", {"start": "2020-01-01T00:00:00Z"}),
            "provision.dataPeriod is not supported",
        ),
        (
            _set("provision.actor.0.reference", {"reference": "Practitioner/123"}),
            "provision.actor[0] has no Ethereum address identifier",
        ),
        (
            _set("provision.actor.0.reference.identifier.value", f"eip155:1:{GRANTEE}"),
            "is on chain 1, not on this chain (31337)",
        ),
        (_delete("provision.actor"), "provision.actor is missing"),
        (
            _set("provision.purpose", [{"system": fhir.ACT_REASON, "code": "NOSUCH"}]),
            "provision.purpose http://terminology.hl7.org/CodeSystem/v3-ActReason|NOSUCH is not a purpose",
        ),
        (
            _set("provision.purpose", [{"system": "http://snomed.info/sct", "code": "1234"}]),
            "is not a purpose",
        ),
        (_set("provision.purpose", [{"system": fhir.DUO, "code": "DUO:0000007"}]), "reveals a condition"),
        (_set("provision.purpose", [{"system": fhir.DUO, "code": "DUO:0000046"}]), "is a DUO modifier"),
        (
            _set("provision.purpose", [{"system": fhir.PURPOSE_SYSTEM, "code": "0x" + "00" * 32}]),
            "the all-zero purpose names no purpose",
        ),
        (_delete("provision.purpose"), "provision.purpose is missing"),
        (
            _set("provision.period.start", "2030-01-01T00:00:00Z"),
            "provision.period.start 2030-01-01T00:00:00+00:00 is in the future",
        ),
        (_set("provision.period.end", "2020-01-01T00:00:00Z"), "is past: the consent has expired"),
        (_set("provision.period.end", "2030-01-01"), "needs a time and a time zone"),
        (
            _set("provision.class", [{"system": fhir.SCOPE_SYSTEM, "code": "x-rays"}]),
            "provision.class https://carechain.example/scope|x-rays is not one of CareChain's scopes",
        ),
        (
            _only_class("Observation"),
            "provision.class Observation is not one CareChain scope (it matches: vitals, labs",
        ),
        (_only_class("Basic"), "(it matches: none)"),
        (
            _set("provision.securityLabel", [{"system": fhir.ACT_CODE, "code": "TBOO"}]),
            "provision.securityLabel http://terminology.hl7.org/CodeSystem/v3-ActCode|TBOO is not one of",
        ),
        (
            _set("provision.action", [{"coding": [{"system": fhir.CONSENT_ACTION, "code": "disclose"}]}]),
            "provision.action",
        ),
        (
            _set("provision.code", [{"coding": [{"system": "http://loinc.org", "code": "11502-2"}]}]),
            "provision.code is not supported",
        ),
        (
            _set("scope", {"coding": [{"system": fhir.CONSENT_SCOPE, "code": "adr"}]}),
            "is not research, patient-privacy or treatment",
        ),
        (_set("patient.identifier.value", f"eip155:{CHAIN_ID}:{OTHER}"), "is a consent of another patient"),
        (_set("patient", {"reference": "Patient/example"}), "patient has no Ethereum address identifier"),
        (_set("identifier.0.value", "not-a-key"), "is not a CareChain consent key"),
        (
            _set("identifier.0.value", f"eip155:{CHAIN_ID}:{REGISTRY}/{PATIENT}/{OTHER}/0x{HMB.hex()}"),
            "names another patient, grantee or purpose",
        ),
        (_delete("category"), "is not valid FHIR Consent: category: Field required"),
        (_set("dateTime", "yesterday"), "is not valid FHIR Consent: dateTime"),
    ],
)
def test_unsupported_content_fails_with_one_line(change, message):
    consent = exported()
    change(consent)
    with pytest.raises(InputError) as caught:
        grants(consent)
    text = str(caught.value)
    assert message in text and text.startswith(f"Consent {consent['id']}")
    assert "\n" not in text


def _bundle(*resources: dict) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{r.get('id', 'x')}", "resource": r} for r in resources],
    }


def test_bundle_fails_whole_and_names_the_entry():
    bad = exported(scopes=LABS)
    bad["status"] = "draft"
    good = copy.deepcopy(exported())
    good["provision"]["purpose"] = [{"system": fhir.ACT_REASON, "code": "TREAT"}]
    del good["identifier"]
    with pytest.raises(InputError) as caught:
        grants(_bundle(good, bad))
    assert str(caught.value).startswith(f"Bundle entry 2 (Consent {bad['id']}): status is 'draft'")


def test_bundle_of_two_consents_gives_two_grants():
    treat = exported(scopes=LABS)
    treat["provision"]["purpose"] = [{"system": fhir.ACT_REASON, "code": "TREAT"}]
    del treat["identifier"]
    treat["id"] = "treat"
    result = grants(_bundle(exported(), treat))
    assert [(g.purpose, g.scopes) for g in result] == [
        (HMB, LABS | GENOMICS),
        (fhir.purposes.purpose_id("TREAT"), LABS),
    ]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"resourceType": "Patient", "id": "p"}, "not a FHIR Consent or Bundle (resourceType is 'Patient')"),
        ({"status": "active"}, "not a FHIR Consent or Bundle (resourceType is None)"),
        (_bundle({"resourceType": "Patient", "id": "p"}), "Bundle entry 1 is a Patient, not a Consent"),
        ({"resourceType": "Bundle", "type": "collection"}, "the Bundle holds no Consent"),
        (_bundle(exported(), exported()), "Bundle entry 2 (Consent"),
        (
            {"resourceType": "Bundle"},
            "the Bundle is not valid FHIR Bundle: type: Value for the field 'type' is required",
        ),
        (
            _bundle({"resourceType": "Consent", "status": "active"}),
            "the Bundle is not valid FHIR Bundle: entry.0.resource.category: Field required (and 1 more)",
        ),
    ],
)
def test_not_a_consent(document, message):
    with pytest.raises(InputError) as caught:
        grants(document)
    assert message in str(caught.value) and "\n" not in str(caught.value)
